//! What became of a message Waybill sends to another person or system: a mail in the outbox,
//! a webhook delivery, and whether a webhook endpoint still receives.

use crate::closed_set;

closed_set! {
    /// A mail in the outbox.
    pub enum MailStatus ("mail status") {
        /// Waiting for its (next) attempt.
        Pending = "pending",
        Sent = "sent",
        /// Every attempt failed: no more are made.
        Dead = "dead",
    }
}

closed_set! {
    /// One event's delivery to one webhook endpoint.
    pub enum DeliveryStatus ("delivery status") {
        /// Waiting for its (next) attempt.
        Pending = "pending",
        /// The receiver answered 2xx.
        Delivered = "delivered",
        /// Retries ran out, or the endpoint was disabled.
        Failed = "failed",
    }
}

closed_set! {
    /// Whether a webhook endpoint still receives events.
    pub enum EndpointStatus ("endpoint status") {
        Active = "active",
        /// The receiver answered 410 Gone: nothing more is sent.
        Disabled = "disabled",
    }
}
