//! Accounts of every role. A seller's id is the key every seller-owned row hangs from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::users;
use waybill_domain::Role;
use waybill_domain::ids::UserId;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct User {
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub name: String,
    pub store_name: Option<String>,
    pub phone: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    /// IANA name; pages show times in it (stored times are UTC).
    pub timezone: String,
    /// `4x6` or `a4`: the label size printed when none is asked for.
    pub label_size: String,
}

impl User {
    pub fn time_zone(&self) -> waybill_domain::TimeZone {
        waybill_domain::TimeZone::parse(&self.timezone).unwrap_or_default()
    }

    pub fn role(&self) -> Role {
        // The CHECK constraint keeps the column to the four known roles.
        Role::parse(&self.role).unwrap_or(Role::Seller)
    }

    /// The name shown in the navigation: the store for sellers, the person otherwise.
    pub fn display_name(&self) -> &str {
        self.store_name.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub name: &'a str,
    pub store_name: Option<&'a str>,
    pub phone: &'a str,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

/// Inserts a user; `Ok(false)` when the e-mail is taken.
pub fn insert(conn: &mut DbConn, new: &NewUser) -> QueryResult<bool> {
    match diesel::insert_into(users::table).values(new).execute(conn) {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// `email` must already be normalised (see `domain::EmailAddress`).
pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<User>> {
    users::table
        .order((users::role.asc(), users::email.asc()))
        .select(User::as_select())
        .load(conn)
}

/// Sets a new password. Ending the sessions signed in with the old one is the caller's part
/// (`services::accounts::set_password`), in the same transaction.
pub fn set_password(conn: &mut DbConn, id: &str, password_hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(password_hash))
        .execute(conn)
}

/// Saves a person's time zone and default label size.
pub fn set_preferences(
    conn: &mut DbConn,
    id: &str,
    timezone: &str,
    label_size: &str,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::timezone.eq(timezone),
            users::label_size.eq(label_size),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The notification kinds a person turned off.
pub fn mail_opt_outs(conn: &mut DbConn, id: &str) -> QueryResult<Vec<String>> {
    use super::schema::mail_opt_outs;
    mail_opt_outs::table
        .filter(mail_opt_outs::user_id.eq(id))
        .select(mail_opt_outs::kind)
        .load(conn)
}

/// Replaces the kinds a person turned off.
pub fn set_mail_opt_outs(conn: &mut DbConn, id: &str, kinds: &[&str]) -> QueryResult<()> {
    use super::schema::mail_opt_outs;
    diesel::delete(mail_opt_outs::table.filter(mail_opt_outs::user_id.eq(id))).execute(conn)?;
    for kind in kinds {
        // Two saves at once (a double submit) both insert: the second changes nothing.
        let row = (mail_opt_outs::user_id.eq(id), mail_opt_outs::kind.eq(*kind));
        per_backend!(conn, |c| diesel::insert_into(mail_opt_outs::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}
