//! Signed-in browser sessions. The cookie carries a random token; the row is keyed by its
//! SHA-256, so reading this table opens no session.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{sessions, users};
use super::users::User;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, s: &Session) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(s)
        .execute(conn)
        .map(|_| ())
}

/// The session with this id and its user, revoked or not (the caller judges the lifetimes).
pub fn find_with_user(conn: &mut DbConn, id: &str) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id))
        .select((Session::as_select(), User::as_select()))
        .get_result(conn)
        .optional()
}

pub fn touch(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(at))
        .execute(conn)
        .map(|_| ())
}

/// Ends one session; `Ok(false)` when it was already ended or never existed.
pub fn revoke(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(at))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends every open session of the user; returns how many were open.
pub fn revoke_all_for_user(
    conn: &mut DbConn,
    user_id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(at))
    .execute(conn)
}

/// How many sessions each user has open: not revoked, seen since `seen_since` (the idle
/// limit) and started since `created_since` (the absolute one). Users with none are absent.
pub fn live_counts(
    conn: &mut DbConn,
    seen_since: NaiveDateTime,
    created_since: NaiveDateTime,
) -> QueryResult<Vec<(String, i64)>> {
    sessions::table
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::last_seen_at.gt(seen_since))
        .filter(sessions::created_at.gt(created_since))
        .group_by(sessions::user_id)
        .select((sessions::user_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Deletes sessions that ended (revoked, idle or too old) before `before`: nothing can
/// open them again, and the table would otherwise grow with every sign-in.
pub fn delete_ended(
    conn: &mut DbConn,
    revoked_before: NaiveDateTime,
    seen_before: NaiveDateTime,
    created_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::revoked_at
                .lt(revoked_before)
                .or(sessions::last_seen_at.lt(seen_before))
                .or(sessions::created_at.lt(created_before)),
        ),
    )
    .execute(conn)
}
