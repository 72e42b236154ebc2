//! The kinds of notification mail a seller may turn off.

use crate::closed_set;

closed_set! {
    pub enum NoticeKind ("notice kind") {
        /// A weight charge or refund at the warehouse, and a dispute's outcome.
        WeightAdjustment = "weight_adjustment",
        Delivered = "delivered",
        /// Delivery failed, or a problem with the parcel.
        Exception = "exception",
        /// Held at the warehouse (over the channel's limits as measured).
        Held = "held",
    }
}
