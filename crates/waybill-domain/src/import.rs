//! A CSV import of shipments, from upload to its last booked row.

use crate::closed_set;

closed_set! {
    pub enum ImportStatus ("import status") {
        /// Checked and shown to the seller; nothing booked yet.
        Previewed = "previewed",
        /// Booking its rows (one server at a time).
        Running = "running",
        Done = "done",
    }
}
