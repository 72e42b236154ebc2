//! Ledger rows (transactions, entries), cached wallet balances and payment intents.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use waybill_domain::payment::IntentStatus;

use super::DbConn;
use super::schema::{ledger_entries, ledger_transactions, payment_intents, shipments, wallets};

/// The account name of every seller wallet entry (the seller is in `seller_id`).
pub const WALLET: &str = "seller_wallet";

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = ledger_transactions)]
pub struct LedgerTransaction {
    pub id: String,
    pub idempotency_key: String,
    pub kind: String,
    pub seller_id: String,
    pub amount: i64,
    pub currency: String,
    pub shipment_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub note: Option<String>,
    pub actor_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = ledger_entries)]
pub struct LedgerEntry {
    pub id: String,
    pub transaction_id: String,
    pub account: String,
    pub seller_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub balance_after: Option<i64>,
    pub created_at: NaiveDateTime,
    /// The entry's number in its wallet (1, 2, …), in the order the balance moved; `None` on
    /// the platform side of a transaction. Statements are ordered by it.
    pub seq: Option<i64>,
}

/// A wallet entry with what the seller needs to read it.
#[derive(Clone, Debug)]
pub struct StatementLine {
    pub entry: LedgerEntry,
    pub kind: String,
    pub shipment_id: Option<String>,
    pub note: Option<String>,
    /// The shipment's tracking number and reference, for people (the id is for machines).
    pub tracking_number: Option<String>,
    pub reference: Option<String>,
}

pub fn find_transaction_by_key(
    conn: &mut DbConn,
    key: &str,
) -> QueryResult<Option<LedgerTransaction>> {
    ledger_transactions::table
        .filter(ledger_transactions::idempotency_key.eq(key))
        .select(LedgerTransaction::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert_transaction(conn: &mut DbConn, t: &LedgerTransaction) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(ledger_transactions::table)
        .values(t)
        .execute(c)
        .map(|_| ()))
}

pub fn insert_entry(conn: &mut DbConn, e: &LedgerEntry) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(ledger_entries::table)
        .values(e)
        .execute(c)
        .map(|_| ()))
}

pub fn entries_of(conn: &mut DbConn, transaction_id: &str) -> QueryResult<Vec<LedgerEntry>> {
    ledger_entries::table
        .filter(ledger_entries::transaction_id.eq(transaction_id))
        .select(LedgerEntry::as_select())
        .load(conn)
}

/// Creates the seller's wallet if missing. Call outside a transaction: a lost race is a
/// unique violation, which is fine here but would abort a PostgreSQL transaction.
pub fn ensure_wallet(conn: &mut DbConn, seller_id: &str, currency: &str) -> QueryResult<()> {
    let exists = wallets::table
        .find(seller_id)
        .select(wallets::seller_id)
        .get_result::<String>(conn)
        .optional()?
        .is_some();
    if exists {
        return Ok(());
    }
    match diesel::insert_into(wallets::table)
        .values((
            wallets::seller_id.eq(seller_id),
            wallets::currency.eq(currency),
            wallets::balance.eq(0i64),
            wallets::updated_at.eq(super::now()),
        ))
        .execute(conn)
    {
        Err(e) if super::is_unique_violation(&e) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The cached balance and currency; `None` when the seller has no wallet yet.
pub fn balance(conn: &mut DbConn, seller_id: &str) -> QueryResult<Option<(i64, String)>> {
    wallets::table
        .find(seller_id)
        .select((wallets::balance, wallets::currency))
        .get_result(conn)
        .optional()
}

/// What a balance update left: the new balance and the number of the wallet entry to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved {
    pub balance: i64,
    pub seq: i64,
    /// What the wallet owes beyond its balance after the move.
    pub due: i64,
}

/// Moves the cached balance by `delta`, refusing to go below zero, to mix currencies or to
/// move while the wallet owes more than `max_due`: the
/// check and the change are one statement, so concurrent charges cannot both pass it.
/// Returns the new balance and the entry's number in the wallet, or `None` when nothing moved
/// (no such wallet, another currency, or the funds are short).
pub fn apply_to_balance(
    conn: &mut DbConn,
    seller_id: &str,
    currency: &str,
    delta: i64,
    max_due: i64,
) -> QueryResult<Option<Moved>> {
    let update = super::prepared::AddToBalance {
        seller_id,
        currency,
        delta,
        max_due,
        now: super::now(),
    };
    let moved = per_backend!(conn, |c| update.get_result::<(i64, i64, i64)>(c).optional())?;
    Ok(moved.map(|(balance, seq, due)| Moved { balance, seq, due }))
}

/// A seller's wallet entries joined with their transactions.
type WalletLines<'a> = diesel::dsl::Filter<
    diesel::dsl::InnerJoin<ledger_entries::table, ledger_transactions::table>,
    diesel::dsl::And<
        diesel::dsl::Eq<ledger_entries::seller_id, &'a str>,
        diesel::dsl::Eq<ledger_entries::account, &'static str>,
    >,
>;

fn statement_query(seller_id: &str) -> WalletLines<'_> {
    ledger_entries::table
        .inner_join(ledger_transactions::table)
        .filter(
            ledger_entries::seller_id
                .eq(seller_id)
                .and(ledger_entries::account.eq(WALLET)),
        )
}

type Row = (LedgerEntry, String, Option<String>, Option<String>);

fn to_lines(rows: Vec<Row>) -> Vec<StatementLine> {
    rows.into_iter()
        .map(|(entry, kind, shipment_id, note)| StatementLine {
            entry,
            kind,
            shipment_id,
            note,
            tracking_number: None,
            reference: None,
        })
        .collect()
}

/// Fills in the tracking number and reference of each line's shipment (the seller's own),
/// 500 shipments a query.
fn with_numbers(
    conn: &mut DbConn,
    seller_id: &str,
    mut lines: Vec<StatementLine>,
) -> QueryResult<Vec<StatementLine>> {
    let mut ids: Vec<String> = lines.iter().filter_map(|l| l.shipment_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let numbers: std::collections::HashMap<String, (String, Option<String>)> =
        super::in_chunks(&ids, |chunk| {
            shipments::table
                .filter(shipments::seller_id.eq(seller_id))
                .filter(shipments::id.eq_any(chunk))
                .select((
                    shipments::id,
                    shipments::tracking_number,
                    shipments::reference,
                ))
                .load::<(String, String, Option<String>)>(conn)
        })?
        .into_iter()
        .map(|(id, n, r)| (id, (n, r)))
        .collect();
    for l in &mut lines {
        if let Some((n, r)) = l.shipment_id.as_ref().and_then(|id| numbers.get(id)) {
            l.tracking_number = Some(n.clone());
            l.reference = r.clone();
        }
    }
    Ok(lines)
}

/// One page of the seller's wallet entries, newest first (by entry number: the order the
/// balance moved in, which the time an entry was written need not follow).
pub fn statement_page(
    conn: &mut DbConn,
    seller_id: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<StatementLine>> {
    let lines = statement_query(seller_id)
        .order(ledger_entries::seq.desc())
        .offset(offset)
        .limit(limit)
        .select((
            LedgerEntry::as_select(),
            ledger_transactions::kind,
            ledger_transactions::shipment_id,
            ledger_transactions::note,
        ))
        .load::<Row>(conn)
        .map(to_lines)?;
    with_numbers(conn, seller_id, lines)
}

pub fn statement_count(conn: &mut DbConn, seller_id: &str) -> QueryResult<i64> {
    statement_query(seller_id).count().get_result(conn)
}

/// Wallet entries in `[from, to)`, oldest first by entry number (for the CSV statement).
pub fn statement_between(
    conn: &mut DbConn,
    seller_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<StatementLine>> {
    let lines = statement_query(seller_id)
        .filter(ledger_entries::created_at.ge(from))
        .filter(ledger_entries::created_at.lt(to))
        .order(ledger_entries::seq.asc())
        .select((
            LedgerEntry::as_select(),
            ledger_transactions::kind,
            ledger_transactions::shipment_id,
            ledger_transactions::note,
        ))
        .load::<Row>(conn)
        .map(to_lines)?;
    with_numbers(conn, seller_id, lines)
}

/// Sum of the seller's wallet entries: what the cached balance must always equal.
pub fn wallet_entry_sum(conn: &mut DbConn, seller_id: &str) -> QueryResult<i64> {
    let amounts: Vec<i64> = ledger_entries::table
        .filter(ledger_entries::seller_id.eq(seller_id))
        .filter(ledger_entries::account.eq(WALLET))
        .select(ledger_entries::amount)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// Every transaction whose entries do not sum to zero (should always be empty).
pub fn unbalanced_transactions(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    let rows: Vec<(String, i64)> = ledger_entries::table
        .select((ledger_entries::transaction_id, ledger_entries::amount))
        .load(conn)?;
    let mut sums: std::collections::BTreeMap<String, i64> = Default::default();
    for (t, a) in rows {
        *sums.entry(t).or_default() += a;
    }
    Ok(sums
        .into_iter()
        .filter(|(_, s)| *s != 0)
        .map(|(t, _)| t)
        .collect())
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = payment_intents)]
pub struct PaymentIntent {
    pub id: String,
    pub seller_id: String,
    pub provider: String,
    pub amount: i64,
    pub currency: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: IntentStatus,
    pub provider_ref: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
}

pub fn insert_intent(conn: &mut DbConn, i: &PaymentIntent) -> QueryResult<()> {
    diesel::insert_into(payment_intents::table)
        .values(i.clone())
        .execute(conn)
        .map(|_| ())
}

pub fn find_intent(conn: &mut DbConn, id: &str) -> QueryResult<Option<PaymentIntent>> {
    payment_intents::table
        .find(id)
        .select(PaymentIntent::as_select())
        .get_result(conn)
        .optional()
}

pub fn recent_intents(
    conn: &mut DbConn,
    seller_id: &str,
    limit: i64,
) -> QueryResult<Vec<PaymentIntent>> {
    payment_intents::table
        .filter(payment_intents::seller_id.eq(seller_id))
        .order(payment_intents::created_at.desc())
        .limit(limit)
        .select(PaymentIntent::as_select())
        .load(conn)
}

/// Moves an intent from one of `from` to `to`; `Ok(false)` if it was not in such a state.
pub fn transition_intent(
    conn: &mut DbConn,
    id: &str,
    from: &[IntentStatus],
    to: IntentStatus,
    provider_ref: Option<&str>,
) -> QueryResult<bool> {
    let n = diesel::update(
        payment_intents::table
            .filter(payment_intents::id.eq(id))
            .filter(payment_intents::status.eq_any(from.iter().map(|s| s.as_str()))),
    )
    .set((
        payment_intents::status.eq(to.as_str()),
        payment_intents::completed_at.eq(Some(super::now())),
        payment_intents::provider_ref.eq(provider_ref),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks abandoned intents expired.
pub fn expire_intents(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        payment_intents::table
            .filter(payment_intents::status.eq(IntentStatus::Pending.as_str()))
            .filter(payment_intents::expires_at.lt(now)),
    )
    .set(payment_intents::status.eq(IntentStatus::Expired.as_str()))
    .execute(conn)
}

/// Every seller with its cached balance (none before the first movement).
pub fn seller_balances(conn: &mut DbConn) -> QueryResult<Vec<(super::users::User, Option<i64>)>> {
    use super::schema::users;
    users::table
        .left_join(wallets::table)
        .filter(users::role.eq("seller"))
        .order(users::email.asc())
        .select((super::users::User::as_select(), wallets::balance.nullable()))
        .load(conn)
}

pub fn recent_of_kinds(
    conn: &mut DbConn,
    kinds: &[&str],
    limit: i64,
) -> QueryResult<Vec<LedgerTransaction>> {
    ledger_transactions::table
        .filter(ledger_transactions::kind.eq_any(kinds))
        .order(ledger_transactions::created_at.desc())
        .limit(limit)
        .select(LedgerTransaction::as_select())
        .load(conn)
}

/// Net freight held for a shipment: charges and adjustment charges less refunds.
pub fn net_charged_for_shipment(conn: &mut DbConn, shipment_id: &str) -> QueryResult<i64> {
    let rows: Vec<(String, i64)> = ledger_transactions::table
        .filter(ledger_transactions::shipment_id.eq(shipment_id))
        .select((ledger_transactions::kind, ledger_transactions::amount))
        .load(conn)?;
    Ok(rows
        .iter()
        .map(|(kind, amount)| match kind.as_str() {
            "freight_charge" | "weight_adjustment_charge" | "amount_due_settlement" => *amount,
            "freight_refund" | "weight_adjustment_refund" => -*amount,
            _ => 0,
        })
        .sum())
}

/// Locks the wallet row for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction holds the whole database) and returns its balance and amount due.
pub fn lock_wallet(conn: &mut DbConn, seller_id: &str) -> QueryResult<Option<(i64, i64)>> {
    let now = super::now();
    per_backend!(conn, |c| diesel::update(wallets::table.find(seller_id))
        .set(wallets::updated_at.eq(now))
        .returning((wallets::balance, wallets::due))
        .get_result(c)
        .optional())
}

/// Changes what the wallet owes beyond its balance by `delta`.
pub fn add_due(conn: &mut DbConn, seller_id: &str, delta: i64) -> QueryResult<()> {
    diesel::update(wallets::table.find(seller_id))
        .set(wallets::due.eq(wallets::due + delta))
        .execute(conn)
        .map(|_| ())
}

/// The wallet's balance and what it owes beyond it (zeros before the first movement).
pub fn balance_and_due(conn: &mut DbConn, seller_id: &str) -> QueryResult<(i64, i64)> {
    Ok(wallets::table
        .find(seller_id)
        .select((wallets::balance, wallets::due))
        .get_result(conn)
        .optional()?
        .unwrap_or((0, 0)))
}
