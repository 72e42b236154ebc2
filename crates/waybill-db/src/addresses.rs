//! A seller's sender addresses; always reached through the seller's id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{addresses, users};
use waybill_domain::address::{Address, LatinAddress};
use waybill_domain::ids::{AddressId, UserId};

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = addresses)]
pub struct AddressRow {
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub id: AddressId,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub seller_id: UserId,
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
    /// The Latin version; all `None` when the address is Latin already.
    pub latin_name: Option<String>,
    pub latin_company: Option<String>,
    pub latin_street1: Option<String>,
    pub latin_street2: Option<String>,
    pub latin_city: Option<String>,
    pub latin_state: Option<String>,
    /// The district (区 / 县); addresses from before it was asked for have it in `street1`.
    pub district: Option<String>,
    pub latin_district: Option<String>,
}

impl AddressRow {
    pub fn address(&self) -> Address {
        Address {
            name: self.name.clone(),
            company: self.company.clone(),
            street1: self.street1.clone(),
            street2: self.street2.clone(),
            district: self.district.clone(),
            city: self.city.clone(),
            state: self.state.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            latin: self.latin_name.as_ref().map(|name| LatinAddress {
                name: name.clone(),
                company: self.latin_company.clone(),
                street1: self.latin_street1.clone().unwrap_or_default(),
                street2: self.latin_street2.clone(),
                district: self.latin_district.clone(),
                city: self.latin_city.clone().unwrap_or_default(),
                state: self.latin_state.clone(),
            }),
        }
    }

    /// One line for lists and pickers.
    pub fn summary(&self) -> String {
        format!(
            "{}, {}, {} {}",
            self.name,
            self.address().street_line(),
            self.city,
            self.country
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
            id: super::new_id().into(),
            seller_id: seller_id.into(),
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
            latin_name: a.latin.as_ref().map(|l| l.name.clone()),
            latin_company: a.latin.as_ref().and_then(|l| l.company.clone()),
            latin_street1: a.latin.as_ref().map(|l| l.street1.clone()),
            latin_street2: a.latin.as_ref().and_then(|l| l.street2.clone()),
            latin_city: a.latin.as_ref().map(|l| l.city.clone()),
            latin_state: a.latin.as_ref().and_then(|l| l.state.clone()),
            district: a.district.clone(),
            latin_district: a.latin.as_ref().and_then(|l| l.district.clone()),
        };
        diesel::insert_into(addresses::table)
            .values(row.clone())
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
        addresses::latin_name.eq(a.latin.as_ref().map(|l| &l.name)),
        addresses::latin_company.eq(a.latin.as_ref().and_then(|l| l.company.as_ref())),
        addresses::latin_street1.eq(a.latin.as_ref().map(|l| &l.street1)),
        addresses::latin_street2.eq(a.latin.as_ref().and_then(|l| l.street2.as_ref())),
        addresses::latin_city.eq(a.latin.as_ref().map(|l| &l.city)),
        addresses::latin_state.eq(a.latin.as_ref().and_then(|l| l.state.as_ref())),
        addresses::district.eq(&a.district),
        addresses::latin_district.eq(a.latin.as_ref().and_then(|l| l.district.as_ref())),
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
                diesel::update(addresses::table.filter(addresses::id.eq(next.id.as_str())))
                    .set(addresses::is_default.eq(true))
                    .execute(conn)?;
            }
        }
        Ok(true)
    })
}
