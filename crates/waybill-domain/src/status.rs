//! The shipment lifecycle: every status, which moves are allowed, and the status a set of
//! events yields. Pure: the database mapping lives in `db/`, the services call `set_status`.
//!
//! Events arrive late and out of order, so the status is never "the last event received":
//! it is the fold of the events sorted by when they happened (ties broken by content, never
//! by arrival), each applied only if the lifecycle allows the move. The same set of events
//! therefore gives the same status and timeline whatever order they came in, and terminal
//! states stay terminal.

use std::cmp::Ordering;
use std::fmt;

/// A shipment's status, as PRODUCT.md names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Draft,
    Booked,
    PickupScheduled,
    PickedUp,
    AtOriginFacility,
    InTransit,
    Customs,
    OutForDelivery,
    Delivered,
    DeliveryFailed,
    Returned,
    Exception,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 13] = [
        Status::Draft,
        Status::Booked,
        Status::PickupScheduled,
        Status::PickedUp,
        Status::AtOriginFacility,
        Status::InTransit,
        Status::Customs,
        Status::OutForDelivery,
        Status::Delivered,
        Status::DeliveryFailed,
        Status::Returned,
        Status::Exception,
        Status::Cancelled,
    ];

    /// The milestones a tracking page shows as a bar, in order.
    pub const MILESTONES: [Status; 6] = [
        Status::PickedUp,
        Status::AtOriginFacility,
        Status::InTransit,
        Status::Customs,
        Status::OutForDelivery,
        Status::Delivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Booked => "booked",
            Status::PickupScheduled => "pickup_scheduled",
            Status::PickedUp => "picked_up",
            Status::AtOriginFacility => "at_origin_facility",
            Status::InTransit => "in_transit",
            Status::Customs => "customs",
            Status::OutForDelivery => "out_for_delivery",
            Status::Delivered => "delivered",
            Status::DeliveryFailed => "delivery_failed",
            Status::Returned => "returned",
            Status::Exception => "exception",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Booked => "Booked",
            Status::PickupScheduled => "Pickup scheduled",
            Status::PickedUp => "Picked up",
            Status::AtOriginFacility => "At origin facility",
            Status::InTransit => "In transit",
            Status::Customs => "Customs",
            Status::OutForDelivery => "Out for delivery",
            Status::Delivered => "Delivered",
            Status::DeliveryFailed => "Delivery failed",
            Status::Returned => "Returned to sender",
            Status::Exception => "Exception",
            Status::Cancelled => "Cancelled",
        }
    }

    /// Delivered, returned and cancelled end a shipment's life.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Delivered | Status::Returned | Status::Cancelled
        )
    }

    /// A seller may cancel (and be refunded) only before the parcel leaves its hands.
    pub fn is_cancellable(self) -> bool {
        matches!(
            self,
            Status::Draft | Status::Booked | Status::PickupScheduled
        )
    }

    /// How far along the main line a status is; side exits share the stage they leave from
    /// (a failed delivery attempt is at the door), an exception has no stage of its own.
    pub fn stage(self) -> Option<u8> {
        Some(match self {
            Status::Draft => 0,
            Status::Booked => 1,
            Status::PickupScheduled => 2,
            Status::PickedUp => 3,
            Status::AtOriginFacility => 4,
            Status::InTransit => 5,
            Status::Customs => 6,
            Status::OutForDelivery | Status::DeliveryFailed => 7,
            Status::Delivered | Status::Returned | Status::Cancelled => 8,
            Status::Exception => return None,
        })
    }

    /// Among terminal states, which one a later-known terminal may replace: a delivered
    /// parcel can still be refused and returned, and a cancellation settles everything.
    fn terminal_rank(self) -> u8 {
        match self {
            Status::Delivered => 1,
            Status::Returned => 2,
            Status::Cancelled => 3,
            _ => 0,
        }
    }

    /// Whether the lifecycle allows moving from `self` to `to`. Forward moves may skip steps
    /// (carriers miss scans: booked → in_transit, or straight to delivered, is normal);
    /// nothing moves backwards; terminal states stay terminal.
    pub fn can_move_to(self, to: Status) -> bool {
        if self == to || to == Status::Draft {
            return false;
        }
        if self.is_terminal() {
            return to.is_terminal() && to.terminal_rank() > self.terminal_rank();
        }
        match (self, to) {
            // Cancelled settles any open state; that the *seller* may cancel only before
            // pickup is `is_cancellable`, checked where the seller asks.
            (_, Status::Cancelled) => true,
            (_, Status::Exception) => true,
            (_, Status::Delivered | Status::Returned) => true,
            // A new delivery attempt after a failed one, and an attempt failing at the door.
            (Status::DeliveryFailed, Status::OutForDelivery) => true,
            // A pickup that fell through (cancelled, failed, missed, parcel not scanned)
            // leaves the parcel with the seller, booked again. Only the pickup service makes
            // this move; an event never does (see `Progress::apply`).
            (Status::PickupScheduled, Status::Booked) => true,
            (Status::OutForDelivery, Status::DeliveryFailed) => true,
            // An exception resolved: the parcel moves on from wherever it is found, but a
            // pickup is never scheduled again for a parcel that has left the seller.
            (Status::Exception, to) => to.stage().is_some_and(|s| s >= 3),
            (from, to) => match (from.stage(), to.stage()) {
                (Some(a), Some(b)) => b > a,
                _ => false,
            },
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event as the lifecycle sees it: what it says and when it happened. `key` breaks ties
/// between events at the same instant by content (source and the source's event id), never
/// by arrival.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Happening<T: Ord> {
    pub at: T,
    pub status: Status,
    pub key: String,
}

/// The timeline order: by when it happened, then by lifecycle stage, then by content.
pub fn timeline_order<T: Ord>(a: &Happening<T>, b: &Happening<T>) -> Ordering {
    a.at.cmp(&b.at)
        .then_with(|| a.status.stage().cmp(&b.status.stage()))
        .then_with(|| a.status.cmp(&b.status))
        .then_with(|| a.key.cmp(&b.key))
}

/// Sorts events into the timeline and returns the status they yield from `start`.
pub fn derive_status<T: Ord>(start: Status, events: &mut [Happening<T>]) -> Status {
    events.sort_by(timeline_order);
    let mut p = Progress::new(start);
    for e in events.iter() {
        p.apply(e.status);
    }
    p.status
}

/// The fold's state: the status and the furthest stage reached, so that a parcel found
/// after an exception moves on from where it was, not from an earlier stage.
#[derive(Clone, Copy, Debug)]
struct Progress {
    status: Status,
    reached: u8,
}

impl Progress {
    fn new(status: Status) -> Progress {
        Progress {
            status,
            reached: status.stage().unwrap_or(1),
        }
    }

    fn apply(&mut self, to: Status) {
        let allowed = match (self.status, to.stage()) {
            // A late `booked` event never un-schedules a pickup: that is the pickup service's.
            (Status::PickupScheduled, _) if to == Status::Booked => false,
            (Status::Exception, Some(stage)) if !to.is_terminal() => {
                stage >= self.reached && self.status.can_move_to(to)
            }
            _ => self.status.can_move_to(to),
        };
        if allowed {
            self.status = to;
            self.reached = self.reached.max(to.stage().unwrap_or(0));
        }
    }
}

/// Pickup statuses (PRODUCT.md): scheduled → accepted → arrived → completed / partially
/// completed / failed; missed when the window passed with nobody; cancelled by the seller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PickupStatus {
    Scheduled,
    Accepted,
    Arrived,
    Completed,
    PartiallyCompleted,
    Failed,
    Missed,
    Cancelled,
}

impl PickupStatus {
    pub const ALL: [PickupStatus; 8] = [
        PickupStatus::Scheduled,
        PickupStatus::Accepted,
        PickupStatus::Arrived,
        PickupStatus::Completed,
        PickupStatus::PartiallyCompleted,
        PickupStatus::Failed,
        PickupStatus::Missed,
        PickupStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PickupStatus::Scheduled => "scheduled",
            PickupStatus::Accepted => "accepted",
            PickupStatus::Arrived => "arrived",
            PickupStatus::Completed => "completed",
            PickupStatus::PartiallyCompleted => "partially_completed",
            PickupStatus::Failed => "failed",
            PickupStatus::Missed => "missed",
            PickupStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<PickupStatus> {
        PickupStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PickupStatus::Scheduled => "Scheduled",
            PickupStatus::Accepted => "Accepted",
            PickupStatus::Arrived => "Courier arrived",
            PickupStatus::Completed => "Completed",
            PickupStatus::PartiallyCompleted => "Partially completed",
            PickupStatus::Failed => "Failed",
            PickupStatus::Missed => "Missed",
            PickupStatus::Cancelled => "Cancelled",
        }
    }

    /// Still waiting for (or with) a courier: its shipments are spoken for.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            PickupStatus::Scheduled | PickupStatus::Accepted | PickupStatus::Arrived
        )
    }

    pub fn can_move_to(self, to: PickupStatus) -> bool {
        use PickupStatus::*;
        matches!(
            (self, to),
            (Scheduled, Accepted | Cancelled | Missed | Arrived | Failed)
                | (Accepted, Arrived | Completed | PartiallyCompleted | Failed | Missed)
                | (Accepted, Scheduled) // the courier hands it back, or the seller reschedules
                | (Accepted, Cancelled) // the seller cancels before the window starts
                | (Arrived, Completed | PartiallyCompleted | Failed)
        )
    }
}

impl fmt::Display for PickupStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Status> for String {
    fn from(s: Status) -> String {
        s.as_str().to_string()
    }
}

impl TryFrom<String> for Status {
    type Error = String;
    fn try_from(s: String) -> Result<Status, String> {
        Status::parse(&s).ok_or_else(|| format!("unknown shipment status `{s}`"))
    }
}

impl From<PickupStatus> for String {
    fn from(s: PickupStatus) -> String {
        s.as_str().to_string()
    }
}

impl TryFrom<String> for PickupStatus {
    type Error = String;
    fn try_from(s: String) -> Result<PickupStatus, String> {
        PickupStatus::parse(&s).ok_or_else(|| format!("unknown pickup status `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for s in PickupStatus::ALL {
            assert_eq!(PickupStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("BOOKED"), None);
    }

    #[test]
    fn the_rules_people_get_wrong() {
        use Status::*;
        assert!(Booked.can_move_to(InTransit), "carriers miss scans");
        assert!(Booked.can_move_to(Delivered));
        assert!(!InTransit.can_move_to(PickedUp), "never backwards");
        assert!(!Delivered.can_move_to(InTransit), "terminal stays terminal");
        assert!(!Cancelled.can_move_to(Booked));
        assert!(Delivered.can_move_to(Returned), "refused after delivery");
        assert!(!Returned.can_move_to(Delivered));
        assert!(DeliveryFailed.can_move_to(OutForDelivery), "second attempt");
        assert!(
            OutForDelivery.can_move_to(DeliveryFailed),
            "nobody at the door"
        );
        assert!(Exception.can_move_to(InTransit), "found again");
        assert!(!Exception.can_move_to(PickupScheduled));
        assert!(Booked.is_cancellable() && PickupScheduled.is_cancellable());
        assert!(!PickedUp.is_cancellable());
        assert!(PickupScheduled.can_move_to(Booked), "a pickup fell through");
        assert!(!PickedUp.can_move_to(Booked));
    }

    #[test]
    fn events_never_unschedule_a_pickup() {
        let mut evs = vec![
            Happening {
                at: 1,
                status: Status::PickupScheduled,
                key: "a".into(),
            },
            Happening {
                at: 2,
                status: Status::Booked,
                key: "b".into(),
            },
        ];
        assert_eq!(
            derive_status(Status::Booked, &mut evs),
            Status::PickupScheduled
        );
    }

    #[test]
    fn pickup_moves() {
        use PickupStatus::*;
        assert!(Scheduled.can_move_to(Accepted) && Accepted.can_move_to(Cancelled));
        assert!(
            !Arrived.can_move_to(Cancelled),
            "the courier is at the door"
        );
        assert!(!Completed.can_move_to(Failed) && !Missed.can_move_to(Accepted));
        assert!(Accepted.can_move_to(Missed) && !Arrived.can_move_to(Missed));
    }

    fn status() -> impl Strategy<Value = Status> {
        // Draft is never an event; everything else may be.
        proptest::sample::select(Status::ALL[1..].to_vec())
    }

    fn events() -> impl Strategy<Value = Vec<Happening<u32>>> {
        prop::collection::vec(
            (0u32..20, status(), 0u32..4).prop_map(|(at, status, k)| Happening {
                at,
                status,
                key: format!("carrier:{k}"),
            }),
            0..12,
        )
    }

    proptest! {
        #[test]
        fn arrival_order_does_not_matter(
            evs in events(),
            seed in any::<u64>(),
        ) {
            let mut a = evs.clone();
            let mut b = evs;
            // A deterministic shuffle of the arrival order.
            let n = b.len();
            let mut s = seed;
            for i in (1..n).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                b.swap(i, (s >> 33) as usize % (i + 1));
            }
            let sa = derive_status(Status::Booked, &mut a);
            let sb = derive_status(Status::Booked, &mut b);
            prop_assert_eq!(sa, sb);
            prop_assert_eq!(a, b, "the same timeline");
        }

        #[test]
        fn terminal_states_stay_terminal(evs in events(), late in events()) {
            let mut before = evs.clone();
            let s = derive_status(Status::Booked, &mut before);
            let mut after = evs;
            after.extend(late);
            let t = derive_status(Status::Booked, &mut after);
            if s.is_terminal() {
                prop_assert!(t.is_terminal(), "{s} became {t}");
            }
        }

        #[test]
        fn a_late_event_never_moves_the_main_line_back(
            evs in events(),
            late_status in status(),
            back in 0u32..20,
        ) {
            let mut before = evs.clone();
            let s = derive_status(Status::Booked, &mut before);
            let last = evs.iter().map(|e| e.at).max().unwrap_or(0);
            let mut after = evs;
            after.push(Happening { at: last.saturating_sub(back), status: late_status, key: "late".into() });
            let t = derive_status(Status::Booked, &mut after);
            if let (Some(a), Some(b)) = (s.stage(), t.stage()) {
                prop_assert!(b >= a, "{s} went back to {t}");
            }
        }

        #[test]
        fn every_move_the_fold_makes_is_allowed(evs in events()) {
            let mut evs = evs;
            evs.sort_by(timeline_order);
            let mut p = Progress::new(Status::Booked);
            for e in &evs {
                let now = p.status;
                p.apply(e.status);
                prop_assert!(p.status == now || now.can_move_to(p.status));
                prop_assert!(!now.is_terminal() || p.status.is_terminal());
            }
        }
    }
}
