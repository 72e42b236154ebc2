//! Both backends migrate from empty and expose the same tables and columns.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::helpers::TestDb;

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

fn migrated(db: &TestDb) -> waybill::db::PooledConn {
    let url = waybill::db::DbUrl::parse(&db.url).unwrap();
    let pool = waybill::db::connect(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let applied = waybill::db::migrate(&mut conn).unwrap();
    assert!(
        !applied.is_empty(),
        "an empty database gets every migration"
    );
    assert!(
        waybill::db::migrate(&mut conn).unwrap().is_empty(),
        "and a second run applies none"
    );
    conn
}

#[test]
fn sqlite_and_postgres_have_the_same_tables_and_columns() {
    let (sqlite_db, pg_db) = (TestDb::new(false), TestDb::new(true));
    let mut sqlite = migrated(&sqlite_db);
    let mut pg = migrated(&pg_db);
    let lite: BTreeSet<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, (p.\"notnull\" = 0) AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%'",
    )
    .load::<Column>(&mut *sqlite)
    .unwrap()
    .into_iter()
    .collect();
    let postgres: BTreeSet<Column> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
         (is_nullable = 'YES') AS nullable FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '__diesel%'",
    )
    .load::<Column>(&mut *pg)
    .unwrap()
    .into_iter()
    .collect();
    assert!(lite.len() > 20, "{lite:?}");
    let only_lite: Vec<_> = lite.difference(&postgres).collect();
    let only_pg: Vec<_> = postgres.difference(&lite).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "only SQLite: {only_lite:?}\nonly PostgreSQL: {only_pg:?}"
    );
}

/// Every migration reverts (newest first) and applies again, on both backends.
#[test]
fn every_migration_reverts_and_reapplies() {
    use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
    const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
    const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
    for postgres in [false, true] {
        let db = TestDb::new(postgres);
        let mut conn = migrated(&db);
        let reverted = match &mut *conn {
            waybill::db::DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE),
            waybill::db::DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES),
        }
        .unwrap_or_else(|e| panic!("reverting (PostgreSQL: {postgres}): {e}"))
        .len();
        assert!(reverted > 10, "{reverted}");
        assert_eq!(
            waybill::db::migrate(&mut conn).unwrap().len(),
            reverted,
            "and every one applies again"
        );
    }
}
