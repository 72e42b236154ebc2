//! The seller wallet: every money movement is one balanced ledger transaction, written with
//! the cached balance in one database transaction, and idempotent by its key.

use crate::error::AppError;
use waybill_db::ledger::{self, LedgerEntry, LedgerTransaction, WALLET};
use waybill_db::{self as db, DbConn};
use waybill_domain::{Currency, Money};

pub use waybill_db::ledger::{PaymentIntent, StatementLine};
use waybill_db::users::User;

/// What a movement is. Each kind credits or debits the wallet against one platform account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    TopUp,
    Charge,
    Refund,
    AdjustCharge,
    AdjustRefund,
    ManualCredit,
    ManualDebit,
    /// An amount due (a weight adjustment the balance could not cover) taken from a later
    /// credit.
    DueSettlement,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::TopUp,
        Kind::Charge,
        Kind::Refund,
        Kind::AdjustCharge,
        Kind::AdjustRefund,
        Kind::ManualCredit,
        Kind::ManualDebit,
        Kind::DueSettlement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TopUp => "top_up",
            Kind::Charge => "freight_charge",
            Kind::Refund => "freight_refund",
            Kind::AdjustCharge => "weight_adjustment_charge",
            Kind::AdjustRefund => "weight_adjustment_refund",
            Kind::ManualCredit => "manual_credit",
            Kind::ManualDebit => "manual_debit",
            Kind::DueSettlement => "amount_due_settlement",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::TopUp => "Top-up",
            Kind::Charge => "Freight",
            Kind::Refund => "Freight refund",
            Kind::AdjustCharge => "Weight adjustment",
            Kind::AdjustRefund => "Weight adjustment refund",
            Kind::ManualCredit => "Credit by Waybill",
            Kind::ManualDebit => "Debit by Waybill",
            Kind::DueSettlement => "Amount due settled",
        }
    }

    /// Whether the wallet gains money.
    pub fn credits_wallet(self) -> bool {
        matches!(
            self,
            Kind::TopUp | Kind::Refund | Kind::AdjustRefund | Kind::ManualCredit
        )
    }

    /// The platform account on the other side of the wallet entry.
    pub fn counter_account(self) -> &'static str {
        match self {
            Kind::TopUp => "payment_clearing",
            Kind::Charge | Kind::Refund => "freight_revenue",
            Kind::AdjustCharge | Kind::AdjustRefund | Kind::DueSettlement => "weight_adjustments",
            Kind::ManualCredit | Kind::ManualDebit => "manual_corrections",
        }
    }
}

pub fn kind_label(kind: &str) -> &'static str {
    Kind::parse(kind).map(Kind::label).unwrap_or("Other")
}

/// One requested movement. `amount` is positive; the kind says which way it goes.
pub struct Posting<'a> {
    /// Unique per movement: a retry with the same key moves money once.
    pub key: &'a str,
    pub kind: Kind,
    pub seller_id: &'a str,
    pub amount: Money,
    pub shipment_id: Option<&'a str>,
    pub payment_intent_id: Option<&'a str>,
    pub note: Option<&'a str>,
    pub actor_id: Option<&'a str>,
}

#[derive(Debug)]
pub struct Posted {
    pub transaction: LedgerTransaction,
    /// The wallet balance right after this movement (and after any amount due it settled).
    pub balance_after: i64,
    /// True when the key had already moved money: nothing moved this time.
    pub replayed: bool,
}

/// Posts a movement in its own write transaction.
pub fn post(conn: &mut DbConn, p: &Posting) -> Result<Posted, AppError> {
    post_with(conn, p, |_, _| Ok(()))
}

/// Posts a movement and runs `also` in the same transaction (e.g. queue a receipt mail,
/// settle a payment intent). `also` runs only when money actually moved.
pub fn post_with(
    conn: &mut DbConn,
    p: &Posting,
    also: impl FnOnce(&mut DbConn, &Posted) -> Result<(), AppError>,
) -> Result<Posted, AppError> {
    if p.amount.minor <= 0 {
        return Err(AppError::BadRequest(
            "An amount must be more than zero.".into(),
        ));
    }
    // `also` runs after the money moved; the one retry below follows a missing wallet, where
    // nothing moved, so `also` runs exactly once whichever attempt succeeds.
    let mut also = Some(also);
    let mut attempt = |conn: &mut DbConn| {
        db::write_tx(conn, |c| {
            let posted = post_in_tx(c, p)?;
            if let Some(also) = also.take() {
                also(c, &posted)?;
            }
            Ok(posted)
        })
    };
    let mut result = attempt(conn);
    if matches!(result, Err(AppError::NotFound)) && ledger::balance(conn, p.seller_id)?.is_none() {
        // The seller's first movement: open the wallet (outside a transaction, where a lost
        // race is only a unique violation) and post again.
        ledger::ensure_wallet(conn, p.seller_id, p.amount.currency.code())?;
        result = attempt(conn);
    }
    match result {
        // The key has moved money before (a retry) or a concurrent duplicate won the race.
        Err(e) if e.is_unique_violation() => match ledger::find_transaction_by_key(conn, p.key)? {
            Some(done) => replay(conn, p, done),
            None => Err(e),
        },
        other => other,
    }
}

fn replay(conn: &mut DbConn, p: &Posting, done: LedgerTransaction) -> Result<Posted, AppError> {
    if done.seller_id != p.seller_id
        || done.shipment_id.as_deref() != p.shipment_id
        || done.kind != p.kind.as_str()
        || done.amount != p.amount.minor
        || done.currency != p.amount.currency.code()
    {
        return Err(AppError::Conflict(
            "This idempotency key was already used for a different movement.".into(),
        ));
    }
    let wallet_entry = ledger::entries_of(conn, &done.id)?
        .into_iter()
        .find(|e| e.account == WALLET);
    Ok(Posted {
        balance_after: wallet_entry.and_then(|e| e.balance_after).unwrap_or(0),
        transaction: done,
        replayed: true,
    })
}

/// Posts a movement inside the caller's write transaction (the wallet must exist).
pub fn post_in(conn: &mut DbConn, p: &Posting) -> Result<Posted, AppError> {
    post_in_tx(conn, p)
}

fn post_in_tx(conn: &mut DbConn, p: &Posting) -> Result<Posted, AppError> {
    let now = db::now();
    let t = LedgerTransaction {
        id: db::new_id(),
        idempotency_key: p.key.to_string(),
        kind: p.kind.as_str().to_string(),
        seller_id: p.seller_id.to_string(),
        amount: p.amount.minor,
        currency: p.amount.currency.code().to_string(),
        shipment_id: p.shipment_id.map(str::to_string),
        payment_intent_id: p.payment_intent_id.map(str::to_string),
        note: p.note.map(str::to_string),
        actor_id: p.actor_id.map(str::to_string),
        created_at: now,
    };
    // Money is never created: a shipment gives back at most what it was charged (read
    // before this refund's own row exists, which would count against it).
    let held = match (p.kind, p.shipment_id) {
        (Kind::Refund | Kind::AdjustRefund, Some(shipment)) => {
            Some(ledger::net_charged_for_shipment(conn, shipment)?)
        }
        (Kind::Refund | Kind::AdjustRefund, None) => {
            return Err(AppError::BadRequest(
                "A refund must name the shipment it refunds.".into(),
            ));
        }
        _ => None,
    };
    // The unique key is claimed before the cap is applied: a retry or a concurrent duplicate
    // fails here and is answered as a replay, not as "more than charged".
    ledger::insert_transaction(conn, &t)?;
    if let Some(held) = held
        && p.amount.minor > held
    {
        return Err(AppError::Conflict(format!(
            "A refund of {} is more than the {} charged for this shipment.",
            p.amount,
            Money::new(held, p.amount.currency)
        )));
    }
    let delta = if p.kind.credits_wallet() {
        p.amount.minor
    } else {
        -p.amount.minor
    };
    let currency = p.amount.currency.code();
    // New bookings wait until an amount due is settled.
    let max_due = if p.kind == Kind::Charge { 0 } else { i64::MAX };
    let Some(moved) = ledger::apply_to_balance(conn, p.seller_id, currency, delta, max_due)? else {
        return Err(why_not_moved(conn, p)?);
    };
    let entry = |account: &str, seller: Option<&str>, amount: i64, moved: Option<ledger::Moved>| {
        LedgerEntry {
            id: db::new_id(),
            transaction_id: t.id.clone(),
            account: account.to_string(),
            seller_id: seller.map(str::to_string),
            amount,
            currency: t.currency.clone(),
            balance_after: moved.map(|m| m.balance),
            created_at: now,
            seq: moved.map(|m| m.seq),
        }
    };
    ledger::insert_entry(conn, &entry(WALLET, Some(p.seller_id), delta, Some(moved)))?;
    ledger::insert_entry(conn, &entry(p.kind.counter_account(), None, -delta, None))?;
    // Any credit settles what the wallet owes first.
    let balance_after = if delta > 0 && moved.due > 0 {
        settle_dues(conn, p, &t.id, moved.balance)?
    } else {
        moved.balance
    };
    Ok(Posted {
        transaction: t,
        balance_after,
        replayed: false,
    })
}

/// Why a posting moved no money: the wallet holds another currency, an amount due blocks new
/// bookings (with what to top up to settle it and pay), or the balance is short.
fn why_not_moved(conn: &mut DbConn, p: &Posting) -> Result<AppError, AppError> {
    let currency = p.amount.currency.code();
    let (balance, wallet_currency) =
        ledger::balance(conn, p.seller_id)?.ok_or(AppError::NotFound)?;
    if wallet_currency != currency {
        return Ok(AppError::BadRequest(format!(
            "This wallet holds {wallet_currency}, not {currency}."
        )));
    }
    let (_, due) = ledger::balance_and_due(conn, p.seller_id)?;
    if due > 0 && p.kind == Kind::Charge {
        let due = Money::new(due, p.amount.currency);
        return Ok(AppError::PaymentRequired(format!(
            "{due} is due from weight adjustments the balance could not cover; new bookings wait until it is settled. Top up at least {} to settle it and pay this booking.",
            Money::new(
                (due.minor + p.amount.minor - balance).max(due.minor),
                p.amount.currency
            )
        )));
    }
    let have = Money::new(balance, p.amount.currency);
    let short = Money::new(p.amount.minor - balance, p.amount.currency);
    Ok(AppError::PaymentRequired(format!(
        "The wallet balance is {have}; {} needs {}. Top up at least {short}.",
        p.kind.label().to_lowercase(),
        p.amount
    )))
}

/// Takes open amounts due, oldest first, from a balance a credit just raised; each is a
/// ledger movement naming its shipment. Returns the balance left.
fn settle_dues(
    conn: &mut DbConn,
    credit: &Posting,
    credit_id: &str,
    mut balance: i64,
) -> Result<i64, AppError> {
    for due in waybill_db::warehouse::open_dues(conn, credit.seller_id)? {
        if balance == 0 {
            break;
        }
        let take = due.outstanding.min(balance);
        let key = format!("settle:{credit_id}:{}", due.id);
        let posted = post_in_tx(
            conn,
            &Posting {
                key: &key,
                kind: Kind::DueSettlement,
                seller_id: credit.seller_id,
                amount: Money::new(take, credit.amount.currency),
                shipment_id: Some(&due.shipment_id),
                payment_intent_id: None,
                note: Some("Weight adjustment the balance could not cover at the time"),
                actor_id: None,
            },
        )?;
        waybill_db::warehouse::reduce_due(conn, &due.id, take, db::now())?;
        ledger::add_due(conn, credit.seller_id, -take)?;
        balance = posted.balance_after;
    }
    Ok(balance)
}

/// Settles a freight difference for a shipment (e.g. after the warehouse re-weighs it):
/// a positive `difference` is charged, a negative one refunded, zero moves nothing.
pub fn adjust(
    conn: &mut DbConn,
    key: &str,
    seller_id: &str,
    shipment_id: &str,
    difference: Money,
    note: Option<&str>,
) -> Result<Option<Posted>, AppError> {
    if difference.minor == 0 {
        return Ok(None);
    }
    let kind = if difference.minor > 0 {
        Kind::AdjustCharge
    } else {
        Kind::AdjustRefund
    };
    post(
        conn,
        &Posting {
            key,
            kind,
            seller_id,
            amount: Money::new(difference.minor.abs(), difference.currency),
            shipment_id: Some(shipment_id),
            payment_intent_id: None,
            note,
            actor_id: None,
        },
    )
    .map(Some)
}

/// The seller's balance (zero before the first movement).
pub fn balance(conn: &mut DbConn, seller_id: &str, currency: Currency) -> Result<Money, AppError> {
    let minor = ledger::balance(conn, seller_id)?
        .map(|(b, _)| b)
        .unwrap_or(0);
    Ok(Money::new(minor, currency))
}

/// What the seller still owes after a weight charge its balance could not cover (minor units).
pub fn amount_due(conn: &mut DbConn, seller_id: &str) -> Result<i64, AppError> {
    Ok(ledger::balance_and_due(conn, seller_id)?.1)
}

/// The number of statement lines (wallet entries) a seller has.
pub fn statement_count(conn: &mut DbConn, seller_id: &str) -> Result<i64, AppError> {
    Ok(ledger::statement_count(conn, seller_id)?)
}

/// One page of the seller's statement, newest first.
pub fn statement_page(
    conn: &mut DbConn,
    seller_id: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<StatementLine>, AppError> {
    Ok(ledger::statement_page(conn, seller_id, offset, limit)?)
}

/// The statement lines booked from `start` up to (not including) `end`, for the CSV export.
pub fn statement_between(
    conn: &mut DbConn,
    seller_id: &str,
    start: chrono::NaiveDateTime,
    end: chrono::NaiveDateTime,
) -> Result<Vec<StatementLine>, AppError> {
    Ok(ledger::statement_between(conn, seller_id, start, end)?)
}

/// The seller's latest top-ups, whatever became of them.
pub fn recent_intents(
    conn: &mut DbConn,
    seller_id: &str,
    limit: i64,
) -> Result<Vec<PaymentIntent>, AppError> {
    Ok(ledger::recent_intents(conn, seller_id, limit)?)
}

/// The top-up `intent_id` if it is the seller's.
pub fn find_intent(
    conn: &mut DbConn,
    seller_id: &str,
    intent_id: &str,
) -> Result<PaymentIntent, AppError> {
    ledger::find_intent(conn, intent_id)?
        .filter(|i| i.seller_id == seller_id)
        .ok_or(AppError::NotFound)
}

/// Every seller with its balance (none before its first movement), for the admin.
pub fn seller_balances(conn: &mut DbConn) -> Result<Vec<(User, Option<i64>)>, AppError> {
    Ok(ledger::seller_balances(conn)?)
}

/// The latest movements of these kinds across every wallet, for the admin.
pub fn recent_of_kinds(
    conn: &mut DbConn,
    kinds: &[&str],
    limit: i64,
) -> Result<Vec<LedgerTransaction>, AppError> {
    Ok(ledger::recent_of_kinds(conn, kinds, limit)?)
}
