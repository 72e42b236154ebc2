//! Periodic pickup work (run by `crate::jobs`): windows that passed with nobody become
//! `missed`, and the evening before a pickup its seller gets one reminder, however many
//! servers run the job (the reminder is claimed with a conditional update in the transaction
//! that queues it).

use chrono::{DateTime, Duration, NaiveTime, Utc};

use super::{Settings, mail, release_items, views};
use crate::error::AppError;
use waybill_db::{self as db, DbConn};
use waybill_domain::PickupStatus;

/// From this local time on, tomorrow's pickups are reminded.
const REMINDER_FROM: (u32, u32) = (18, 0);

/// Marks missed pickups; returns how many.
pub fn mark_missed(conn: &mut DbConn, now: DateTime<Utc>, s: &Settings) -> Result<usize, AppError> {
    let due = db::pickups::due_missed(conn, now.naive_utc())?;
    let mut n = 0;
    for p in due {
        let done = db::write_tx(conn, |c| {
            // Another server (or the courier) may have moved it since it was listed.
            let Some(p) = db::pickups::find(c, &p.id)? else {
                return Ok(false);
            };
            if !p.status.can_move_to(PickupStatus::Missed) || p.window_end >= now.naive_utc() {
                return Ok(false);
            }
            if !super::set_status(c, &p, PickupStatus::Missed)? {
                return Ok(false);
            }
            release_items(c, &p.id)?;
            let v = views(c, vec![p])?.pop().ok_or(AppError::NotFound)?;
            let to = v
                .seller
                .as_ref()
                .map(|u| u.email.clone())
                .unwrap_or_default();
            mail::missed(&v, s)?.enqueue(c, &to)?;
            Ok::<_, AppError>(true)
        })?;
        n += usize::from(done);
    }
    Ok(n)
}

/// Queues the evening-before reminders that are due; returns how many were queued here.
pub fn send_reminders(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    s: &Settings,
) -> Result<usize, AppError> {
    let from = NaiveTime::from_hms_opt(REMINDER_FROM.0, REMINDER_FROM.1, 0).unwrap_or_default();
    let mut n = 0;
    for area in db::areas::list(conn)? {
        let spec = area.spec().map_err(AppError::internal)?;
        let local = spec.local_now(now);
        if local.time() < from {
            continue;
        }
        let shift = Duration::seconds(i64::from(spec.offset().local_minus_utc()));
        let tomorrow = local.date() + Duration::days(1);
        let start = tomorrow.and_time(NaiveTime::MIN) - shift;
        let due = db::pickups::due_reminders(conn, &area.id, start, start + Duration::days(1))?;
        for p in due {
            let v = views(conn, vec![p])?.pop().ok_or(AppError::NotFound)?;
            let m = mail::reminder(&v, s)?;
            let to = v
                .seller
                .as_ref()
                .map(|u| u.email.clone())
                .unwrap_or_default();
            let sent = db::write_tx(conn, |c| {
                if !db::pickups::claim_reminder(c, &v.pickup.id)? {
                    return Ok(false);
                }
                m.enqueue(c, &to)?;
                Ok::<_, AppError>(true)
            })?;
            n += usize::from(sent);
        }
    }
    Ok(n)
}
