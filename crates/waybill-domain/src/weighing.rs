//! Weighing at the warehouse: what a measurement did to a shipment's freight, and the
//! seller's dispute of it.

use crate::closed_set;

/// How long after an adjustment the seller may dispute it.
pub const DISPUTE_DAYS: i64 = 7;

closed_set! {
    /// What the first measurement of a parcel did to its freight.
    pub enum AdjustmentOutcome ("adjustment outcome") {
        /// The difference was within the tolerance: no money moved.
        WithinTolerance = "within_tolerance",
        Charged = "charged",
        Refunded = "refunded",
        /// Over the channel's limits as measured: held at the warehouse, nothing charged.
        Held = "held",
    }
}

closed_set! {
    /// Where a seller's dispute of a charge stands.
    pub enum DisputeStatus ("dispute status") {
        Open = "open",
        /// Decided for the seller: the charge was given back.
        Refunded = "refunded",
        /// Decided against the seller: the charge stands.
        Upheld = "upheld",
    }
}

closed_set! {
    /// What one inbound scan did, as the scan API answers it.
    pub enum ScanResult ("scan result") {
        Adjusted = "adjusted",
        WithinTolerance = "within_tolerance",
        Held = "held",
        /// The parcel was measured by an earlier scan: this one is recorded, nothing else.
        AlreadyMeasured = "already_measured",
    }
}
