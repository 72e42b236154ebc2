//! Browser sessions kept on the server: started at sign-in, resumed on each request while
//! neither the idle nor the absolute lifetime has run out, ended by signing out, by a password
//! change or by an operator. The cookie holds only a random token naming the session.

use chrono::{Duration, NaiveDateTime};

use crate::error::AppError;
use waybill_db::sessions::Session;
use waybill_db::users::User;
use waybill_db::{self as db, DbConn};

/// `last_seen_at` is written at most this often: the idle limit is counted in minutes and a
/// write on every request would put each page view on the write path.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// How long a session lasts: `idle` since it was last used, `max` since sign-in at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    pub idle: Duration,
    pub max: Duration,
}

impl Lifetimes {
    pub fn of(config: &crate::config::Config) -> Lifetimes {
        // The configuration bounds both to a year, well inside chrono's range.
        let span = |d| Duration::from_std(d).unwrap_or(Duration::days(366));
        Lifetimes {
            idle: span(config.session_idle),
            max: span(config.session_max),
        }
    }

    /// Whether a session started at `created` and last used at `last_seen` is still open.
    pub fn admit(
        &self,
        created: NaiveDateTime,
        last_seen: NaiveDateTime,
        now: NaiveDateTime,
    ) -> bool {
        now < last_seen + self.idle && now < created + self.max
    }
}

fn id_of(token: &str) -> String {
    crate::security::sha256_hex(token)
}

/// Opens a session for the user; returns the token for the cookie (only its hash is stored).
pub fn start(conn: &mut DbConn, user_id: &str) -> Result<String, AppError> {
    let token = crate::security::random_token(32)?;
    let now = db::now();
    let session = Session {
        id: id_of(&token),
        user_id: user_id.to_string(),
        created_at: now,
        last_seen_at: now,
        revoked_at: None,
    };
    db::write_tx(conn, |c| db::sessions::insert(c, &session))?;
    Ok(token)
}

/// The user of an open session named by `token`, or `None` (unknown, ended, run out, or the
/// account disabled). Records the use at most once a minute.
pub fn resume(
    conn: &mut DbConn,
    token: &str,
    lifetimes: Lifetimes,
) -> Result<Option<User>, AppError> {
    let id = id_of(token);
    let Some((session, user)) = db::sessions::find_with_user(conn, &id)? else {
        return Ok(None);
    };
    let now = db::now();
    if session.revoked_at.is_some()
        || user.disabled
        || !lifetimes.admit(session.created_at, session.last_seen_at, now)
    {
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY {
        db::write_tx(conn, |c| db::sessions::touch(c, &id, now))?;
    }
    Ok(Some(user))
}

/// Ends the session named by `token` (signing out).
pub fn end(conn: &mut DbConn, token: &str) -> Result<(), AppError> {
    let id = id_of(token);
    db::write_tx(conn, |c| db::sessions::revoke(c, &id, db::now()))?;
    Ok(())
}

/// Ends every session of the user ("sign out everywhere"); returns how many were open.
pub fn end_all(conn: &mut DbConn, user_id: &str) -> Result<usize, AppError> {
    Ok(db::write_tx(conn, |c| {
        db::sessions::revoke_all_for_user(c, user_id, db::now())
    })?)
}

/// How many sessions each user has open now, by user id.
pub fn live_counts(
    conn: &mut DbConn,
    lifetimes: Lifetimes,
) -> Result<std::collections::HashMap<String, i64>, AppError> {
    let now = db::now();
    Ok(
        db::sessions::live_counts(conn, now - lifetimes.idle, now - lifetimes.max)?
            .into_iter()
            .collect(),
    )
}

/// Deletes sessions that can no longer be used. Revoked ones are kept a day, for the record.
pub fn prune(conn: &mut DbConn, lifetimes: Lifetimes) -> Result<usize, AppError> {
    let now = db::now();
    Ok(db::write_tx(conn, |c| {
        db::sessions::delete_ended(
            c,
            now - Duration::days(1),
            now - lifetimes.idle,
            now - lifetimes.max,
        )
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_when_idle_or_too_old() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let l = Lifetimes {
            idle: Duration::minutes(30),
            max: Duration::hours(2),
        };
        let m = |n| t0 + Duration::minutes(n);
        assert!(l.admit(t0, t0, m(29)));
        assert!(!l.admit(t0, t0, m(30)), "idle for the whole idle limit");
        assert!(
            l.admit(t0, m(100), m(119)),
            "used recently, not yet too old"
        );
        assert!(!l.admit(t0, m(110), m(120)), "used recently but too old");
    }
}
