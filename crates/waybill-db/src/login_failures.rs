//! Failed sign-ins per e-mail, kept in the database so throttling holds across app servers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::login_failures;

/// Serialises sign-in attempts for one e-mail until the transaction ends, so that counting
/// the failures and adding one is atomic. SQLite needs nothing: its writes already run one
/// transaction at a time (`db::write_tx`). Unknown e-mails have no row to lock, hence an
/// advisory lock on the e-mail's hash (a collision only makes two e-mails wait for each other).
pub fn lock_email(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(_) => Ok(()),
        DbConn::Postgres(c) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock(7261002, hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(email)
                .execute(c)
                .map(|_| ())
        }
    }
}

pub fn record(conn: &mut DbConn, email: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(super::new_id()),
            login_failures::email.eq(email),
            login_failures::failed_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Failures since `since`, oldest first.
pub fn since(
    conn: &mut DbConn,
    email: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::failed_at.gt(since))
        .order(login_failures::failed_at.asc())
        .select(login_failures::failed_at)
        .load(conn)
}

pub fn clear(conn: &mut DbConn, email: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::email.eq(email)))
        .execute(conn)
        .map(|_| ())
}
