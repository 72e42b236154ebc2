//! A seller's sender addresses; always reached through the seller's id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{addresses, users};
use crate::domain::address::Address;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = addresses)]
pub struct AddressRow {
    pub id: String,
    pub seller_id: String,
    pub name: String,
    pub company: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub email: Option<String>,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl AddressRow {
    pub fn address(&self) -> Address {
        Address {
            name: self.name.clone(),
            company: self.company.clone(),
            street1: self.street1.clone(),
            street2: self.street2.clone(),
            city: self.city.clone(),
            state: self.state.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
        }
    }

    /// One line for lists and pickers.
    pub fn summary(&self) -> String {
        format!(
            "{}, {}, {} {}",
            self.name, self.street1, self.city, self.country
        )
    }
}

pub fn list(conn: &mut DbConn, seller_id: &str) -> QueryResult<Vec<AddressRow>> {
    addresses::table
        .filter(addresses::seller_id.eq(seller_id))
        .order((addresses::is_default.desc(), addresses::created_at.asc()))
        .select(AddressRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, seller_id: &str, id: &str) -> QueryResult<Option<AddressRow>> {
    addresses::table
        .filter(addresses::seller_id.eq(seller_id))
        .filter(addresses::id.eq(id))
        .select(AddressRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn default_for(conn: &mut DbConn, seller_id: &str) -> QueryResult<Option<AddressRow>> {
    per_backend!(conn, |c| addresses::table
        .filter(addresses::seller_id.eq(seller_id))
        .filter(addresses::is_default.eq(true))
        .select(AddressRow::as_select())
        .get_result(c)
        .optional())
}

/// Serialises changes to one seller's address book. Each change reads (which is the default?)
/// before it writes; on PostgreSQL two concurrent ones would otherwise both miss the other's
/// uncommitted default and leave two. SQLite's single writer already runs them one by one.
fn lock_book(conn: &mut DbConn, seller_id: &str) -> QueryResult<()> {
    if let DbConn::Postgres(c) = conn {
        users::table
            .filter(users::id.eq(seller_id))
            .select(users::id)
            .for_update()
            .get_result::<String>(c)
            .optional()?;
    }
    Ok(())
}

/// Adds an address; the first one (or one marked default) becomes the default.
pub fn insert(
    conn: &mut DbConn,
    seller_id: &str,
    a: &Address,
    make_default: bool,
) -> QueryResult<AddressRow> {
    super::write_tx(conn, |conn| {
        lock_book(conn, seller_id)?;
        let first = default_for(conn, seller_id)?.is_none();
        let default = make_default || first;
        if default {
            clear_default(conn, seller_id)?;
        }
        let now = super::now();
        let row = AddressRow {
            id: super::new_id(),
            seller_id: seller_id.to_string(),
            name: a.name.clone(),
            company: a.company.clone(),
            street1: a.street1.clone(),
            street2: a.street2.clone(),
            city: a.city.clone(),
            state: a.state.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
            phone: a.phone.clone(),
            email: a.email.clone(),
            is_default: default,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(addresses::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    })
}

pub fn update(conn: &mut DbConn, seller_id: &str, id: &str, a: &Address) -> QueryResult<bool> {
    let n = diesel::update(
        addresses::table
            .filter(addresses::seller_id.eq(seller_id))
            .filter(addresses::id.eq(id)),
    )
    .set((
        addresses::name.eq(&a.name),
        addresses::company.eq(&a.company),
        addresses::street1.eq(&a.street1),
        addresses::street2.eq(&a.street2),
        addresses::city.eq(&a.city),
        addresses::state.eq(&a.state),
        addresses::postal_code.eq(&a.postal_code),
        addresses::country.eq(&a.country),
        addresses::phone.eq(&a.phone),
        addresses::email.eq(&a.email),
        addresses::updated_at.eq(super::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

fn clear_default(conn: &mut DbConn, seller_id: &str) -> QueryResult<()> {
    diesel::update(addresses::table.filter(addresses::seller_id.eq(seller_id)))
        .set(addresses::is_default.eq(false))
        .execute(conn)
        .map(|_| ())
}

pub fn set_default(conn: &mut DbConn, seller_id: &str, id: &str) -> QueryResult<bool> {
    super::write_tx(conn, |conn| {
        lock_book(conn, seller_id)?;
        if find(conn, seller_id, id)?.is_none() {
            return Ok(false);
        }
        clear_default(conn, seller_id)?;
        diesel::update(addresses::table.filter(addresses::id.eq(id)))
            .set(addresses::is_default.eq(true))
            .execute(conn)?;
        Ok(true)
    })
}

/// Deletes an address (shipments keep their own copy); if it was the default, the oldest
/// remaining address becomes the default.
pub fn delete(conn: &mut DbConn, seller_id: &str, id: &str) -> QueryResult<bool> {
    super::write_tx(conn, |conn| {
        lock_book(conn, seller_id)?;
        let Some(row) = find(conn, seller_id, id)? else {
            return Ok(false);
        };
        diesel::delete(addresses::table.filter(addresses::id.eq(id))).execute(conn)?;
        if row.is_default {
            if let Some(next) = list(conn, seller_id)?.into_iter().next() {
                diesel::update(addresses::table.filter(addresses::id.eq(&next.id)))
                    .set(addresses::is_default.eq(true))
                    .execute(conn)?;
            }
        }
        Ok(true)
    })
}
