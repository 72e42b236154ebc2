//! Single-use password reset tokens (stored as SHA-256; the token travels only in the e-mail).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::password_resets;

pub fn insert(
    conn: &mut DbConn,
    token_hash: &str,
    user_id: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(token_hash),
            password_resets::user_id.eq(user_id),
            password_resets::created_at.eq(super::now()),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The user id of an unused, unexpired token.
pub fn find_valid(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now))
        .select(password_resets::user_id)
        .get_result(conn)
        .optional()
}

/// Marks the token used; `Ok(false)` if it was already used or expired (a second click loses).
pub fn consume(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        password_resets::table
            .filter(password_resets::token_hash.eq(token_hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now)),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Retires every other outstanding token of the user once the password has changed.
pub fn retire_for_user(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)
    .map(|_| ())
}

pub fn count_recent(conn: &mut DbConn, user_id: &str, since: NaiveDateTime) -> QueryResult<i64> {
    password_resets::table
        .filter(password_resets::user_id.eq(user_id))
        .filter(password_resets::created_at.gt(since))
        .count()
        .get_result(conn)
}
