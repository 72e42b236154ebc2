//! UPDATE … RETURNING statements on the booking path, as prepared statements that stay cached.
//!
//! Diesel never caches an `UPDATE` built with its DSL (a changeset may skip `None` fields, so
//! the SQL can differ per call): each one was parsed and planned again, inside the one-writer
//! section where every microsecond is paid by every waiting booking. These fragments always
//! produce the same SQL, so the connection's statement cache keeps them prepared.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Text, Timestamp};

/// Makes a fragment a query returning one `$sql_type` column whose SQL never changes, so
/// its prepared statement is cached under a static id.
macro_rules! fixed_statement {
    ($name:ident, $sql_type:ty) => {
        impl<Conn> RunQueryDsl<Conn> for $name<'_> {}

        impl Query for $name<'_> {
            type SqlType = $sql_type;
        }

        impl QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
    };
}

/// `balance += delta` unless that would go below zero or the currency differs; returns the
/// new balance and the wallet's next entry number (no row when nothing moved). The number is
/// taken in the statement that locks the row, so entry numbers follow the balance's order.
pub struct AddToBalance<'a> {
    pub seller_id: &'a str,
    pub currency: &'a str,
    pub delta: i64,
    /// The most the wallet may owe (`wallets.due`) for the move to happen: 0 for a booking's
    /// charge (new bookings wait until an amount due is settled), `i64::MAX` otherwise.
    pub max_due: i64,
    pub now: NaiveDateTime,
}

impl<DB> QueryFragment<DB> for AddToBalance<'_>
where
    DB: Backend,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE wallets SET balance = balance + ");
        out.push_bind_param::<BigInt, _>(&self.delta)?;
        out.push_sql(", last_seq = last_seq + 1, updated_at = ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" WHERE seller_id = ");
        out.push_bind_param::<Text, _>(self.seller_id)?;
        out.push_sql(" AND currency = ");
        out.push_bind_param::<Text, _>(self.currency)?;
        out.push_sql(" AND balance + ");
        out.push_bind_param::<BigInt, _>(&self.delta)?;
        out.push_sql(" >= 0 AND due <= ");
        out.push_bind_param::<BigInt, _>(&self.max_due)?;
        out.push_sql(" RETURNING balance, last_seq, due");
        Ok(())
    }
}

fixed_statement!(AddToBalance, (BigInt, BigInt, BigInt));

/// `next_serial += 1` on one channel; returns the new value.
pub struct BumpSerial<'a> {
    pub code: &'a str,
}

impl<DB> QueryFragment<DB> for BumpSerial<'_>
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE channels SET next_serial = next_serial + 1 WHERE code = ");
        out.push_bind_param::<Text, _>(self.code)?;
        out.push_sql(" RETURNING next_serial");
        Ok(())
    }
}

fixed_statement!(BumpSerial, BigInt);
