//! Pickup service areas and the couriers assigned to them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{courier_areas, service_areas, users};
use super::users::User;
use waybill_domain::pickup::{AreaInput, AreaSpec};

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = service_areas)]
pub struct AreaRow {
    pub id: String,
    pub name: String,
    pub postal_prefixes: String,
    pub cities: String,
    pub timezone: String,
    pub windows: String,
    pub capacity: i32,
    pub closed_weekdays: String,
    pub holidays: String,
    pub cutoff: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl AreaRow {
    /// The rules, parsed again from what was stored (stored only after parsing).
    pub fn spec(&self) -> Result<AreaSpec, String> {
        AreaInput {
            name: self.name.clone(),
            postal_prefixes: self.postal_prefixes.clone(),
            cities: self.cities.clone(),
            timezone: self.timezone.clone(),
            windows: self.windows.clone(),
            capacity: self.capacity.to_string(),
            closed_weekdays: self.closed_weekdays.clone(),
            holidays: self.holidays.clone(),
            cutoff: self.cutoff.clone(),
        }
        .parse()
        .map_err(|e| format!("service area {} is stored invalid: {e:?}", self.name))
    }

    pub fn new(spec: &AreaSpec, now: NaiveDateTime) -> AreaRow {
        AreaRow {
            id: super::new_id(),
            name: spec.name.clone(),
            postal_prefixes: spec.prefixes_text(),
            cities: spec.cities_text(),
            timezone: spec.timezone.clone(),
            windows: spec.windows_text(),
            capacity: spec.capacity,
            closed_weekdays: spec.weekdays_text(),
            holidays: spec.holidays_text(),
            cutoff: spec.cutoff_text(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Inserts an area; `Ok(false)` when the name is taken.
pub fn insert(conn: &mut DbConn, row: &AreaRow) -> QueryResult<bool> {
    match diesel::insert_into(service_areas::table)
        .values(row.clone())
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Every area, newest first (the order ties are broken in).
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<AreaRow>> {
    service_areas::table
        .order((service_areas::created_at.desc(), service_areas::id.desc()))
        .select(AreaRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<AreaRow>> {
    service_areas::table
        .find(id)
        .select(AreaRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<AreaRow>> {
    service_areas::table
        .filter(service_areas::name.eq(name))
        .select(AreaRow::as_select())
        .get_result(conn)
        .optional()
}

/// Assigns a courier to an area; `Ok(false)` if already assigned.
pub fn assign(conn: &mut DbConn, courier_id: &str, area_id: &str) -> QueryResult<bool> {
    let res = diesel::insert_into(courier_areas::table)
        .values((
            courier_areas::courier_id.eq(courier_id),
            courier_areas::area_id.eq(area_id),
            courier_areas::created_at.eq(super::now()),
        ))
        .execute(conn);
    match res {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The ids of the areas a courier works in.
pub fn of_courier(conn: &mut DbConn, courier_id: &str) -> QueryResult<Vec<String>> {
    courier_areas::table
        .filter(courier_areas::courier_id.eq(courier_id))
        .select(courier_areas::area_id)
        .load(conn)
}

/// Each area's couriers, as (area id, courier).
pub fn couriers(conn: &mut DbConn) -> QueryResult<Vec<(String, User)>> {
    courier_areas::table
        .inner_join(users::table)
        .order(users::email.asc())
        .select((courier_areas::area_id, User::as_select()))
        .load(conn)
}
