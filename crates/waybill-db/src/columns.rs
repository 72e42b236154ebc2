//! Structured values kept as JSON in text columns (a shipment's sender, customs declaration
//! and price breakdown; a pickup's address), decoded here and nowhere else. A row field names
//! its domain type and reads it through `Json`:
//! `#[diesel(deserialize_as = Json<Address>, serialize_as = Json<Address>)]`.
//! A stored value that does not decode is a deserialization error naming the type and the
//! value's start: the query fails, the request answers 500 and the cause is logged. It is
//! never replaced by a default.

use std::fmt::Debug;
use std::io::Write;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value stored as JSON text; only a way through the column, never kept in a row.
#[derive(Debug, FromSqlRow, AsExpression)]
#[diesel(sql_type = Text)]
pub struct Json<T: Debug>(pub T);

impl<T: Debug> From<T> for Json<T> {
    fn from(v: T) -> Json<T> {
        Json(v)
    }
}

impl<T, DB> FromSql<Text, DB> for Json<T>
where
    T: DeserializeOwned + Debug,
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = String::from_sql(bytes)?;
        serde_json::from_str(&text).map(Json).map_err(|e| {
            let start: String = text.chars().take(60).collect();
            format!(
                "a stored {} does not decode ({e}): {start}",
                std::any::type_name::<T>()
            )
            .into()
        })
    }
}

impl<T: Serialize + Debug> ToSql<Text, Sqlite> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl<T: Serialize + Debug> ToSql<Text, Pg> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(serde_json::to_string(&self.0)?.as_bytes())?;
        Ok(IsNull::No)
    }
}

/// Lets a row field of type `T` read through `Json<T>` (`deserialize_as`).
macro_rules! json_column {
    ($($t:ty),+) => {$(
        impl From<Json<$t>> for $t {
            fn from(j: Json<$t>) -> $t {
                j.0
            }
        }
    )+};
}

json_column!(
    waybill_domain::address::Address,
    waybill_domain::customs::Customs,
    waybill_domain::rates::Breakdown
);

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::prelude::*;
    use waybill_domain::address::Address;

    diesel::table! {
        notes (id) {
            id -> Integer,
            body -> Text,
        }
    }

    #[derive(Queryable, Selectable, Insertable, Debug)]
    #[diesel(table_name = notes)]
    struct Note {
        id: i32,
        #[diesel(deserialize_as = Json<Address>, serialize_as = Json<Address>)]
        body: Address,
    }

    fn conn() -> SqliteConnection {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .execute(&mut c)
            .unwrap();
        c
    }

    #[test]
    fn a_value_round_trips_and_a_bad_one_fails_loudly() {
        let mut c = conn();
        let a = Address {
            name: "李伟".into(),
            city: "Shenzhen".into(),
            ..Address::default()
        };
        diesel::insert_into(notes::table)
            .values(Note {
                id: 1,
                body: a.clone(),
            })
            .execute(&mut c)
            .unwrap();
        let back: Note = notes::table
            .select(Note::as_select())
            .first(&mut c)
            .unwrap();
        assert_eq!(back.body, a);
        diesel::sql_query("INSERT INTO notes (id, body) VALUES (2, '{\"name\": 3')")
            .execute(&mut c)
            .unwrap();
        let e = notes::table
            .filter(notes::id.eq(2))
            .select(Note::as_select())
            .first(&mut c)
            .unwrap_err();
        let err = crate::error_chain(&e);
        assert!(err.contains("'body'"), "{err}");
        assert!(err.contains("Address does not decode"), "{err}");
        assert!(err.contains("{\"name\": 3"), "{err}");
    }
}
