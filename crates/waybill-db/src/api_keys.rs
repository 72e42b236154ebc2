//! API keys (sellers', couriers', warehouse operators'): only a SHA-256 of the key is stored; the key itself is shown once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{api_keys, users};
use super::users::User;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: String,
    pub seller_id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub seller_id: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewApiKey) -> QueryResult<()> {
    diesel::insert_into(api_keys::table)
        .values(new)
        .execute(conn)
        .map(|_| ())
}

pub fn list_for_seller(conn: &mut DbConn, seller_id: &str) -> QueryResult<Vec<ApiKey>> {
    api_keys::table
        .filter(api_keys::seller_id.eq(seller_id))
        .order(api_keys::created_at.desc())
        .select(ApiKey::as_select())
        .load(conn)
}

/// Revokes one of the seller's own keys; `Ok(false)` when the seller has no such active key.
pub fn revoke(conn: &mut DbConn, seller_id: &str, id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::seller_id.eq(seller_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(super::now()))
    .execute(conn)?;
    Ok(n == 1)
}

/// The active key with this hash and its enabled user, if that user has `role`: a key opens
/// only its own role's part of the API.
pub fn authenticate_as(
    conn: &mut DbConn,
    key_hash: &str,
    role: waybill_domain::Role,
) -> QueryResult<Option<(ApiKey, User)>> {
    per_backend!(conn, |c| api_keys::table
        .inner_join(users::table)
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .filter(users::disabled.eq(false))
        .filter(users::role.eq(role.as_str()))
        .select((ApiKey::as_select(), User::as_select()))
        .get_result(c)
        .optional())
}

pub fn touch(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(api_keys::table.find(id))
        .set(api_keys::last_used_at.eq(at))
        .execute(conn)
        .map(|_| ())
}
