//! Wallet top-ups through a payment provider: a payment intent, the provider's checkout
//! page, then a signed server-to-server notification and a signed browser return. Either
//! one settles the intent; the wallet is credited exactly once however often they arrive.

mod sandbox;

use askama::Template;
pub use sandbox::{Checkout, Sandbox};

use crate::error::AppError;
use crate::services::wallet::{self, Kind, Posted, Posting};
use waybill_db::ledger::{self, PaymentIntent};
use waybill_db::{self as db, DbConn};
use waybill_domain::payment::IntentStatus;
use waybill_domain::{Currency, Money};

/// How long a seller has to pay before an intent is abandoned.
pub const INTENT_MINUTES: i64 = 30;
/// Signed callbacks older (or newer) than this are refused, so a captured one cannot be replayed later.
pub const CALLBACK_WINDOW_SECS: i64 = 300;

/// A provider's verified word about an intent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    pub intent_id: String,
    /// `succeeded` or `declined`.
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub provider_ref: String,
}

/// A payment gateway. The built-in `Sandbox` stands in for a real one with the same shape.
pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Where to send the seller's browser to pay.
    fn checkout_url(&self, intent: &PaymentIntent) -> String;
    /// Checks a server-to-server notification (headers and raw body) at time `now` (unix s).
    fn verify_notify(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: i64,
    ) -> Result<Notification, String>;
    /// Checks the signed query string the browser comes back with.
    fn verify_return(&self, query: &str, now: i64) -> Result<Notification, String>;
}

pub enum Settled {
    Credited(Box<Posted>),
    Declined,
}

#[derive(Template)]
#[template(path = "mail/top_up.txt")]
struct TopUpText<'a> {
    name: &'a str,
    amount: String,
    balance: String,
    reference: &'a str,
}

#[derive(Template)]
#[template(path = "mail/top_up.html")]
struct TopUpHtml<'a> {
    name: &'a str,
    amount: String,
    balance: String,
    reference: &'a str,
}

pub struct TopUpReceipt<'a> {
    pub name: &'a str,
    pub amount: Money,
    pub balance: Money,
    pub reference: &'a str,
}

impl crate::mail::Mail for TopUpReceipt<'_> {
    const KIND: &'static str = "top_up_receipt";
    fn subject(&self) -> String {
        format!("Waybill wallet topped up: {}", self.amount)
    }
    fn text(&self) -> askama::Result<String> {
        TopUpText {
            name: self.name,
            amount: self.amount.to_string(),
            balance: self.balance.to_string(),
            reference: self.reference,
        }
        .render()
    }
    fn html(&self) -> askama::Result<String> {
        TopUpHtml {
            name: self.name,
            amount: self.amount.to_string(),
            balance: self.balance.to_string(),
            reference: self.reference,
        }
        .render()
    }
}

/// Closes top-ups nobody paid within their deadline (a background job).
pub fn expire_abandoned(conn: &mut DbConn, now: chrono::NaiveDateTime) -> Result<usize, AppError> {
    Ok(ledger::expire_intents(conn, now)?)
}

/// Creates a pending intent for a top-up the seller asked for.
pub fn create_intent(
    conn: &mut DbConn,
    seller_id: &str,
    provider: &str,
    amount: Money,
) -> Result<PaymentIntent, AppError> {
    let now = db::now();
    let intent = PaymentIntent {
        id: db::new_id(),
        seller_id: seller_id.to_string(),
        provider: provider.to_string(),
        amount: amount.minor,
        currency: amount.currency.code().to_string(),
        status: IntentStatus::Pending,
        provider_ref: None,
        created_at: now,
        expires_at: now + chrono::Duration::minutes(INTENT_MINUTES),
        completed_at: None,
    };
    ledger::insert_intent(conn, &intent)?;
    Ok(intent)
}

/// Applies a verified notification: credits the wallet once, or records the decline.
/// Refuses one whose amount or currency differs from the intent (tampering).
pub fn settle(conn: &mut DbConn, n: &Notification) -> Result<Settled, AppError> {
    let intent = ledger::find_intent(conn, &n.intent_id)?
        .ok_or_else(|| AppError::BadRequest("Unknown payment.".into()))?;
    if intent.amount != n.amount || intent.currency != n.currency {
        return Err(AppError::BadRequest(
            "The payment does not match the top-up that was asked for.".into(),
        ));
    }
    let currency = Currency::parse(&intent.currency).map_err(AppError::BadRequest)?;
    match IntentStatus::parse(&n.status) {
        Some(IntentStatus::Declined) => {
            ledger::transition_intent(
                conn,
                &intent.id,
                &[IntentStatus::Pending],
                IntentStatus::Declined,
                Some(&n.provider_ref),
            )?;
            Ok(Settled::Declined)
        }
        Some(IntentStatus::Succeeded) => {
            let seller = db::users::find(conn, &intent.seller_id)?.ok_or(AppError::NotFound)?;
            let key = format!("topup:{}", intent.id);
            let amount = Money::new(intent.amount, currency);
            let posted = wallet::post_with(
                conn,
                &Posting {
                    key: &key,
                    kind: Kind::TopUp,
                    seller_id: &intent.seller_id,
                    amount,
                    shipment_id: None,
                    payment_intent_id: Some(&intent.id),
                    note: Some(&n.provider_ref),
                    actor_id: None,
                },
                |c, posted| {
                    // A late success for an abandoned intent still credits: the money was taken.
                    let settled = ledger::transition_intent(
                        c,
                        &intent.id,
                        &[IntentStatus::Pending, IntentStatus::Expired],
                        IntentStatus::Succeeded,
                        Some(&n.provider_ref),
                    )?;
                    if !settled {
                        return Err(AppError::Conflict(
                            "This payment was already closed as declined.".into(),
                        ));
                    }
                    crate::mail::enqueue(
                        c,
                        &seller.email,
                        &TopUpReceipt {
                            name: &seller.name,
                            amount,
                            balance: Money::new(posted.balance_after, currency),
                            reference: &n.provider_ref,
                        },
                    )?;
                    Ok(())
                },
            )?;
            Ok(Settled::Credited(Box::new(posted)))
        }
        _ => Err(AppError::BadRequest(format!(
            "Unknown payment status `{}`.",
            n.status
        ))),
    }
}
