//! The mail outbox: rows are written in the same transaction as the change they announce and
//! sent later by the worker, so a mail server outage loses nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use waybill_domain::delivery::MailStatus;

use super::DbConn;
use super::schema::outbox;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = outbox)]
pub struct OutboxMail {
    pub id: String,
    pub kind: String,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    #[diesel(deserialize_as = String)]
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = outbox)]
pub struct NewMail<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub to_addr: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    #[diesel(serialize_as = String)]
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewMail) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(outbox::table)
        .values(new.clone())
        .execute(c)
        .map(|_| ()))
}

/// Ids of pending mail that is due and not held by another worker.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    outbox::table
        .filter(outbox::status.eq(MailStatus::Pending.as_str()))
        .filter(outbox::next_attempt_at.le(now))
        .filter(
            outbox::locked_until
                .is_null()
                .or(outbox::locked_until.lt(now)),
        )
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)
}

/// Takes one row for this worker until `until`; `None` if another worker got there first.
pub fn claim(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Option<OutboxMail>> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::status.eq(MailStatus::Pending.as_str()))
            .filter(
                outbox::locked_until
                    .is_null()
                    .or(outbox::locked_until.lt(now)),
            ),
    )
    .set(outbox::locked_until.eq(until))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    outbox::table
        .find(id)
        .select(OutboxMail::as_select())
        .get_result(conn)
        .optional()
}

pub fn mark_sent(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(MailStatus::Sent.as_str()),
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records a failed attempt: retry at `next`, or give up (`dead`) when `next` is `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    error: &str,
    next: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let status = if next.is_some() {
        MailStatus::Pending
    } else {
        MailStatus::Dead
    };
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status.as_str()),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(next.unwrap_or_else(super::now)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn list_recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<OutboxMail>> {
    outbox::table
        .order(outbox::created_at.desc())
        .limit(limit)
        .select(OutboxMail::as_select())
        .load(conn)
}
