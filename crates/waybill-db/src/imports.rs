//! Bulk CSV imports, scoped by seller.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use waybill_domain::import::ImportStatus;

use super::DbConn;
use super::schema::imports;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = imports)]
pub struct Import {
    pub id: String,
    pub seller_id: String,
    pub filename: String,
    pub csv: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: ImportStatus,
    pub total_rows: i32,
    pub valid_rows: i32,
    pub booked: i32,
    pub failed: i32,
    pub results: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, i: &Import) -> QueryResult<()> {
    diesel::insert_into(imports::table)
        .values(i.clone())
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, seller_id: &str, id: &str) -> QueryResult<Option<Import>> {
    imports::table
        .filter(imports::seller_id.eq(seller_id))
        .filter(imports::id.eq(id))
        .select(Import::as_select())
        .get_result(conn)
        .optional()
}

/// Claims a previewed import for a booking run; `Ok(false)` if it already ran or runs.
pub fn start(conn: &mut DbConn, seller_id: &str, id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        imports::table
            .filter(imports::seller_id.eq(seller_id))
            .filter(imports::id.eq(id))
            .filter(imports::status.eq(ImportStatus::Previewed.as_str())),
    )
    .set((
        imports::status.eq(ImportStatus::Running.as_str()),
        imports::updated_at.eq(super::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Imports left `running` with no progress since `before` (the server running them died):
/// each is claimed by moving its `updated_at` to now, so of several servers one resumes it.
pub fn claim_stalled(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Vec<Import>> {
    let stalled: Vec<Import> = imports::table
        .filter(imports::status.eq(ImportStatus::Running.as_str()))
        .filter(imports::updated_at.lt(before))
        .select(Import::as_select())
        .load(conn)?;
    let mut claimed = Vec::new();
    for i in stalled {
        let n = diesel::update(
            imports::table
                .filter(imports::id.eq(&i.id))
                .filter(imports::status.eq(ImportStatus::Running.as_str()))
                .filter(imports::updated_at.eq(i.updated_at)),
        )
        .set(imports::updated_at.eq(super::now()))
        .execute(conn)?;
        if n == 1 {
            claimed.push(i);
        }
    }
    Ok(claimed)
}

pub fn progress(conn: &mut DbConn, id: &str, booked: i32, failed: i32) -> QueryResult<()> {
    diesel::update(imports::table.find(id))
        .set((
            imports::booked.eq(booked),
            imports::failed.eq(failed),
            imports::updated_at.eq(super::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn finish(
    conn: &mut DbConn,
    id: &str,
    booked: i32,
    failed: i32,
    results: &str,
) -> QueryResult<()> {
    diesel::update(imports::table.find(id))
        .set((
            imports::status.eq(ImportStatus::Done.as_str()),
            imports::booked.eq(booked),
            imports::failed.eq(failed),
            imports::results.eq(Some(results)),
            imports::updated_at.eq(super::now()),
        ))
        .execute(conn)
        .map(|_| ())
}
