//! API keys: made for a seller (shown once, stored as SHA-256), listed, revoked, and the
//! key an API request carries turned back into its account.

use waybill_db::{self as db, DbConn};
use waybill_domain::Role;

pub use waybill_db::api_keys::ApiKey;
use waybill_db::api_keys::NewApiKey;
use waybill_db::users::User;

use crate::error::AppError;
use crate::security;

/// Makes a key for `seller_id` and returns it in clear: the only time it exists in clear.
pub fn create(conn: &mut DbConn, seller_id: &str, name: &str) -> Result<String, AppError> {
    let (key, prefix, hash) = security::new_api_key()?;
    db::api_keys::insert(
        conn,
        &NewApiKey {
            id: &db::new_id(),
            seller_id,
            name,
            prefix: &prefix,
            key_hash: &hash,
            created_at: db::now(),
        },
    )?;
    Ok(key)
}

pub fn list(conn: &mut DbConn, seller_id: &str) -> Result<Vec<ApiKey>, AppError> {
    Ok(db::api_keys::list_for_seller(conn, seller_id)?)
}

/// Whether the key was the seller's and still active.
pub fn revoke(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<bool, AppError> {
    Ok(db::api_keys::revoke(conn, seller_id, id)?)
}

/// The account of an active key of `role` and the key's id, by the key's hash; its last use
/// is noted at most once a minute, so a busy integration does not write on every request.
pub fn authenticate(
    conn: &mut DbConn,
    hash: &str,
    role: Role,
) -> Result<Option<(User, String)>, AppError> {
    let Some((key, user)) = db::api_keys::authenticate_as(conn, hash, role)? else {
        return Ok(None);
    };
    let now = db::now();
    if key
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    {
        db::api_keys::touch(conn, &key.id, now)?;
    }
    Ok(Some((user, key.id)))
}
