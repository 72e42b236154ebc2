//! A top-up through the payment gateway.

use crate::closed_set;

closed_set! {
    pub enum IntentStatus ("payment status") {
        /// Waiting for the buyer at the gateway.
        Pending = "pending",
        /// Paid: the wallet was credited once.
        Succeeded = "succeeded",
        Declined = "declined",
        /// Not paid within 30 minutes.
        Expired = "expired",
    }
}
