//! Account rules shared by the web pages and the CLI: creating users, signing in with
//! throttling, password resets.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use crate::error::AppError;
use waybill_db::users::NewUser;
use waybill_db::{self as db, DbConn};
use waybill_domain::{EmailAddress, NewPassword, Phone, Role, required_text};

pub use waybill_db::users::User;

/// Failed sign-ins allowed per e-mail within `LOCKOUT_WINDOW` before it is locked.
pub const MAX_FAILURES: usize = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const RESET_MINUTES: i64 = 60;
/// Reset e-mails per account per hour: enough for a typo, too few to flood an inbox.
pub const RESETS_PER_HOUR: i64 = 3;

pub type FieldErrors = BTreeMap<String, String>;

/// A new account, every field already checked.
pub struct AccountDraft {
    pub email: EmailAddress,
    pub role: Role,
    pub name: String,
    pub store_name: Option<String>,
    pub phone: Phone,
    pub password: NewPassword,
}

/// Raw fields as typed on a form or given to the CLI.
#[derive(Default)]
pub struct AccountInput<'a> {
    pub email: &'a str,
    pub role: Role,
    pub name: &'a str,
    pub store_name: Option<&'a str>,
    pub phone: &'a str,
    pub password: &'a str,
    pub password_confirm: &'a str,
}

impl AccountInput<'_> {
    /// Checks every field and reports each problem next to its field name.
    pub fn parse(&self) -> Result<AccountDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = &mut errors;
        let email = take(e, "email", EmailAddress::parse(self.email));
        let name = take(e, "name", required_text(self.name, "contact name", 100));
        let store_name = match self.store_name {
            Some(s) => take(e, "store_name", required_text(s, "store name", 100)).map(Some),
            None => Some(None),
        };
        let phone = take(e, "phone", Phone::parse(self.phone));
        let password = take(e, "password", NewPassword::parse(self.password));
        if password.is_some() && self.password != self.password_confirm {
            errors.insert(
                "password_confirm".into(),
                "The two passwords do not match.".into(),
            );
        }
        match (email, name, store_name, phone, password) {
            (Some(email), Some(name), Some(store_name), Some(phone), Some(password))
                if errors.is_empty() =>
            {
                Ok(AccountDraft {
                    email,
                    role: self.role,
                    name,
                    store_name,
                    phone,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Keeps a parsed value, or files its message under the field's name.
pub fn take<T>(errors: &mut FieldErrors, field: &str, parsed: Result<T, String>) -> Option<T> {
    parsed
        .map_err(|e| {
            errors.insert(field.to_string(), e);
        })
        .ok()
}

/// Hashes the password (slow: off the event loop) and stores the account.
/// A taken e-mail is a field error, not a failure.
pub fn create(conn: &mut DbConn, draft: &AccountDraft) -> Result<User, AppError> {
    let hash = crate::security::hash_password(draft.password.expose())?;
    let id = db::new_id();
    let inserted = db::users::insert(
        conn,
        &NewUser {
            id: &id,
            email: draft.email.as_str(),
            password_hash: &hash,
            role: draft.role.as_str(),
            name: &draft.name,
            store_name: draft.store_name.as_deref(),
            phone: draft.phone.as_str(),
            disabled: false,
            created_at: db::now(),
        },
    )?;
    if !inserted {
        let mut fields = FieldErrors::new();
        fields.insert(
            "email".into(),
            "An account with this e-mail already exists.".into(),
        );
        return Err(AppError::validation(fields));
    }
    db::users::find(conn, &id)?.ok_or(AppError::NotFound)
}

/// When a run of failures locks an e-mail, the time the lock lifts.
pub fn locked_until(failures: &[NaiveDateTime]) -> Option<NaiveDateTime> {
    if failures.len() < MAX_FAILURES {
        return None;
    }
    // The lock lifts when the oldest of the last MAX_FAILURES leaves the window.
    let oldest = failures[failures.len() - MAX_FAILURES];
    Some(oldest + chrono::Duration::minutes(LOCKOUT_MINUTES))
}

pub enum SignIn {
    Ok(Box<User>),
    Wrong,
    Locked { minutes: i64 },
}

/// Checks e-mail and password, throttled per e-mail; never says which of the two was wrong.
///
/// Every attempt takes its place in the count before the password is checked, so parallel
/// attempts cannot all pass a check made before any of them is counted. The slow hash is
/// verified outside the write transaction; a wrong password leaves its place counted as a
/// failure, a right one clears the count.
pub fn sign_in(conn: &mut DbConn, email: &str, password: &str) -> Result<SignIn, AppError> {
    let email = match EmailAddress::parse(email) {
        Ok(e) => e,
        Err(_) => return Ok(SignIn::Wrong),
    };
    if let Some(minutes) = reserve_attempt(conn, email.as_str())? {
        return Ok(SignIn::Locked { minutes });
    }
    let user = db::users::find_by_email(conn, email.as_str())?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or_else(|| crate::security::dummy_hash());
    let ok = crate::security::verify_password(password, hash);
    match user {
        Some(u) if ok && !u.disabled => {
            db::write_tx(conn, |c| db::login_failures::clear(c, email.as_str()))?;
            Ok(SignIn::Ok(Box::new(u)))
        }
        _ => Ok(SignIn::Wrong),
    }
}

/// Counts an attempt for `email` unless the e-mail is locked; `Some(minutes)` until the lock
/// lifts when it is. The check and the count are one transaction, serialised per e-mail.
fn reserve_attempt(conn: &mut DbConn, email: &str) -> Result<Option<i64>, AppError> {
    db::write_tx(conn, |c| {
        db::login_failures::lock_email(c, email)?;
        let now = db::now();
        let window = now - chrono::Duration::minutes(LOCKOUT_MINUTES);
        let failures = db::login_failures::since(c, email, window)?;
        if let Some(until) = locked_until(&failures).filter(|u| *u > now) {
            let minutes = ((until - now).num_seconds() + 59) / 60;
            return Ok(Some(minutes.max(1)));
        }
        db::login_failures::record(c, email, now)?;
        Ok(None)
    })
}

/// Field errors for a new password and its confirmation (`password`, `password_confirm`).
pub fn check_new_password(errors: &mut FieldErrors, password: &str, confirm: &str) {
    match NewPassword::parse(password) {
        Err(e) => {
            errors.insert("password".into(), e);
        }
        Ok(_) if password != confirm => {
            errors.insert(
                "password_confirm".into(),
                "The two passwords do not match.".into(),
            );
        }
        Ok(_) => {}
    }
}

/// Sets a new (already hashed) password and ends every session of the account.
pub fn set_password(conn: &mut DbConn, user_id: &str, new_hash: &str) -> Result<(), AppError> {
    db::write_tx(conn, |c| set_password_in_tx(c, user_id, new_hash))
}

fn set_password_in_tx(conn: &mut DbConn, user_id: &str, new_hash: &str) -> Result<(), AppError> {
    db::users::set_password(conn, user_id, new_hash)?;
    db::sessions::revoke_all_for_user(conn, user_id, db::now())?;
    Ok(())
}

/// Starts a password reset: stores the token's hash and queues the e-mail, in one transaction.
/// Silently does nothing for unknown e-mails (the page never says whether one exists).
pub fn request_reset(conn: &mut DbConn, email: &str, base_url: &str) -> Result<bool, AppError> {
    let Ok(email) = EmailAddress::parse(email) else {
        return Ok(false);
    };
    let Some(user) = db::users::find_by_email(conn, email.as_str())? else {
        return Ok(false);
    };
    let now = db::now();
    if db::password_resets::count_recent(conn, &user.id, now - chrono::Duration::hours(1))?
        >= RESETS_PER_HOUR
    {
        return Ok(false);
    }
    let token = crate::security::random_token(32)?;
    let link = format!("{base_url}/password/reset?token={token}");
    db::write_tx(conn, |conn| {
        db::password_resets::insert(
            conn,
            &crate::security::sha256_hex(&token),
            &user.id,
            now + chrono::Duration::minutes(RESET_MINUTES),
        )?;
        crate::mail::enqueue(
            conn,
            &user.email,
            &crate::mail::PasswordReset {
                name: &user.name,
                link: &link,
                minutes: RESET_MINUTES,
            },
        )?;
        Ok::<_, AppError>(())
    })?;
    Ok(true)
}

/// Whether a reset token from a link is still usable.
pub fn reset_token_valid(conn: &mut DbConn, token: &str) -> Result<bool, AppError> {
    let hash = crate::security::sha256_hex(token);
    Ok(db::password_resets::find_valid(conn, &hash, db::now())?.is_some())
}

/// Uses a reset token once: sets the new password (already hashed), ends all sessions,
/// retires the other tokens and lifts any sign-in lock. `Ok(false)`: the link is spent.
pub fn complete_reset(conn: &mut DbConn, token: &str, new_hash: &str) -> Result<bool, AppError> {
    let hash = crate::security::sha256_hex(token);
    db::write_tx(conn, |conn| {
        let now = db::now();
        let Some(user_id) = db::password_resets::find_valid(conn, &hash, now)? else {
            return Ok(false);
        };
        if !db::password_resets::consume(conn, &hash, now)? {
            return Ok(false);
        }
        set_password_in_tx(conn, &user_id, new_hash)?;
        db::password_resets::retire_for_user(conn, &user_id, now)?;
        if let Some(u) = db::users::find(conn, &user_id)? {
            db::login_failures::clear(conn, &u.email)?;
        }
        Ok(true)
    })
}

/// Every account, for the admin's pages.
pub fn users(conn: &mut DbConn) -> Result<Vec<User>, AppError> {
    Ok(db::users::list(conn)?)
}

pub fn find_user(conn: &mut DbConn, id: &str) -> Result<User, AppError> {
    db::users::find(conn, id)?.ok_or(AppError::NotFound)
}

/// The seller with this e-mail, if one has it.
pub fn find_seller(conn: &mut DbConn, email: &str) -> Result<Option<User>, AppError> {
    Ok(db::users::find_by_email(conn, email)?.filter(|u| u.role() == Role::Seller))
}

/// The notification kinds a person turned off.
pub fn mail_opt_outs(conn: &mut DbConn, id: &str) -> Result<Vec<String>, AppError> {
    Ok(db::users::mail_opt_outs(conn, id)?)
}

/// Replaces the notification kinds a person turned off.
pub fn set_mail_opt_outs(conn: &mut DbConn, id: &str, off: &[&str]) -> Result<(), AppError> {
    db::write_tx(conn, |c| Ok(db::users::set_mail_opt_outs(c, id, off)?))
}

/// Saves a person's time zone and default label size.
pub fn set_preferences(
    conn: &mut DbConn,
    id: &str,
    timezone: &str,
    label_size: &str,
) -> Result<(), AppError> {
    Ok(db::users::set_preferences(conn, id, timezone, label_size)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_lifts_when_oldest_failure_leaves_the_window() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let mins = |m| t0 + chrono::Duration::minutes(m);
        assert_eq!(locked_until(&[t0, mins(1), mins(2), mins(3)]), None);
        let five = [t0, mins(1), mins(2), mins(3), mins(4)];
        assert_eq!(locked_until(&five), Some(mins(15)));
        let six = [t0, mins(1), mins(2), mins(3), mins(4), mins(5)];
        assert_eq!(locked_until(&six), Some(mins(16)));
    }

    #[test]
    fn input_reports_every_bad_field() {
        let input = AccountInput {
            email: "nope",
            name: "",
            store_name: Some(""),
            phone: "x",
            password: "short",
            password_confirm: "short",
            ..Default::default()
        };
        let errors = input.parse().err().unwrap();
        for f in ["email", "name", "store_name", "phone", "password"] {
            assert!(errors.contains_key(f), "{f} missing from {errors:?}");
        }
        let mismatch = AccountInput {
            email: "a@b.cn",
            name: "Li",
            phone: "13800138000",
            password: "long enough pw",
            password_confirm: "long enough pX",
            ..Default::default()
        };
        assert!(
            mismatch
                .parse()
                .err()
                .unwrap()
                .contains_key("password_confirm")
        );
    }
}
