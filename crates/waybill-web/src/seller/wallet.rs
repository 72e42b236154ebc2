//! The seller's wallet: balance, top-up through the payment provider, statement, CSV export.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{CsrfForm, Seller};
use crate::page::{PageCtx, flash};
use crate::paging::Paging;
use crate::{AppState, html_status, redirect};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
use waybill_app::services::payments::{self, Settled};
use waybill_app::services::wallet::kind_label;
use waybill_app::services::wallet::{self, PaymentIntent, StatementLine};
use waybill_domain::{Currency, Money};

pub const PAGE_SIZE: i64 = 25;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(wallet_page)
        .service(top_up)
        .service(top_up_return)
        .service(statement_csv);
}

/// A statement line ready to show.
pub struct Line {
    pub date: String,
    pub kind: &'static str,
    pub shipment_id: Option<String>,
    pub tracking_number: Option<String>,
    pub note: Option<String>,
    pub amount: String,
    pub credit: bool,
    pub balance_after: String,
}

fn lines(rows: Vec<StatementLine>, currency: Currency, tz: waybill_domain::TimeZone) -> Vec<Line> {
    rows.into_iter()
        .map(|l| Line {
            date: tz.show(&l.entry.created_at),
            kind: kind_label(&l.kind),
            shipment_id: l.shipment_id,
            tracking_number: l.tracking_number,
            note: l.note,
            amount: Money::new(l.entry.amount, currency).to_string(),
            credit: l.entry.amount > 0,
            balance_after: Money::new(l.entry.balance_after.unwrap_or(0), currency).to_string(),
        })
        .collect()
}

pub struct IntentView {
    pub date: String,
    pub amount: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "seller/wallet.html")]
struct WalletPage {
    ctx: PageCtx,
    balance: String,
    lines: Vec<Line>,
    intents: Vec<IntentView>,
    page: i64,
    pages: i64,
    /// Said when the page asked for was not there and another is shown.
    page_notice: Option<String>,
    amount: String,
    amount_error: Option<String>,
    currency: String,
    top_up_enabled: bool,
    today: String,
    month_start: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    /// Text, so that any value gets a page back (see `Paging`).
    page: Option<String>,
    /// Prefills the top-up (the booking form links here with the shortfall).
    amount: Option<String>,
}

async fn render(
    state: &AppState,
    auth: &Seller,
    page: Option<String>,
    amount: String,
    amount_error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let currency = state.config.currency;
    let seller = auth.user.id.clone();
    let (balance, rows, paging, intents) = state
        .db(move |c| {
            let total = wallet::statement_count(c, &seller)?;
            let paging = Paging::clamp(page.as_deref(), total, PAGE_SIZE);
            Ok((
                wallet::balance(c, &seller, currency)?,
                wallet::statement_page(c, &seller, paging.offset(), PAGE_SIZE)?,
                paging,
                wallet::recent_intents(c, &seller, 5)?,
            ))
        })
        .await?;
    // The statement's dates are the seller's: "today" in Shanghai starts at 16:00 UTC.
    let today = auth.user.time_zone().date_of(&waybill_app::clock::now());
    let status = if amount_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_status(
        status,
        &WalletPage {
            ctx: PageCtx::new(&auth.viewer),
            balance: balance.to_string(),
            lines: lines(rows, currency, auth.user.time_zone()),
            intents: intents
                .iter()
                .map(|i| intent_view(i, currency, auth.user.time_zone()))
                .collect(),
            page: paging.page,
            pages: paging.pages,
            page_notice: paging.notice(),
            amount,
            amount_error,
            currency: currency.code().to_string(),
            top_up_enabled: state.config.sandbox_payments,
            today: today.to_string(),
            month_start: today.format("%Y-%m-01").to_string(),
        },
    )
}

fn intent_view(i: &PaymentIntent, currency: Currency, tz: waybill_domain::TimeZone) -> IntentView {
    IntentView {
        date: tz.show(&i.created_at),
        amount: Money::new(i.amount, currency).to_string(),
        status: match i.status.as_str() {
            // Past its deadline it is abandoned, whether or not the job has closed it yet.
            "pending" if i.expires_at < waybill_app::clock::now() => "abandoned",
            "pending" => "waiting for payment",
            "succeeded" => "paid",
            "declined" => "declined",
            _ => "abandoned",
        }
        .to_string(),
    }
}

#[get("/wallet")]
async fn wallet_page(
    state: web::Data<AppState>,
    auth: Seller,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    let amount = q
        .amount
        .as_deref()
        .filter(|a| a.len() <= 20 && a.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .unwrap_or_default()
        .to_string();
    render(&state, &auth, q.page, amount, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TopUpForm {
    amount: String,
}

/// Smallest and largest top-up, in major units.
const MIN_TOP_UP: i64 = 1;
const MAX_TOP_UP: i64 = 500_000;

#[post("/wallet/topup")]
async fn top_up(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(form): CsrfForm<TopUpForm>,
) -> Result<HttpResponse, PageError> {
    if !state.config.sandbox_payments {
        let msg = "Online top-up is not available yet: ask Waybill to credit your wallet.";
        return render(&state, &auth, None, form.amount, Some(msg.into())).await;
    }
    let currency = state.config.currency;
    let scale = 10i64.pow(currency.exponent());
    let amount = Money::parse_decimal(&form.amount, currency).and_then(|m| {
        if m.minor < MIN_TOP_UP * scale || m.minor > MAX_TOP_UP * scale {
            Err(format!(
                "Top up between {} and {}.",
                Money::new(MIN_TOP_UP * scale, currency),
                Money::new(MAX_TOP_UP * scale, currency)
            ))
        } else {
            Ok(m)
        }
    });
    let amount = match amount {
        Ok(a) => a,
        Err(e) => return render(&state, &auth, None, form.amount, Some(e)).await,
    };
    let seller = auth.user.id.clone();
    let provider = state.payments.name();
    let intent = state
        .db(move |c| payments::create_intent(c, &seller, provider, amount))
        .await?;
    tracing::info!(seller = %auth.user.id, intent = %intent.id, amount = amount.minor, "top-up started");
    Ok(redirect(&state.payments.checkout_url(&intent)))
}

/// The browser coming back from the gateway: verified, then settled like a notification.
#[get("/wallet/topup/return")]
async fn top_up_return(
    state: web::Data<AppState>,
    auth: Seller,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    if !state.config.sandbox_payments {
        return Err(AppError::NotFound.into());
    }
    let now = chrono::Utc::now().timestamp();
    let n = match state.payments.verify_return(req.query_string(), now) {
        Ok(n) => n,
        Err(reason) => {
            tracing::warn!(%reason, seller = %auth.user.id, "payment return rejected");
            return Err(AppError::BadRequest(
                "This payment confirmation could not be verified. Nothing was charged to your wallet."
                    .into(),
            ).into());
        }
    };
    let seller = auth.user.id.clone();
    let settled = state
        .db(move |c| {
            wallet::find_intent(c, &seller, &n.intent_id)?;
            payments::settle(c, &n)
        })
        .await?;
    match settled {
        Settled::Credited(p) => {
            state.mail.wake();
            let amount = Money::new(p.transaction.amount, state.config.currency);
            flash(
                &auth.viewer.session,
                "ok",
                format!("Top-up of {amount} received."),
            );
        }
        Settled::Declined => flash(
            &auth.viewer.session,
            "error",
            "The payment was declined. Your wallet was not charged.",
        ),
    }
    Ok(redirect("/wallet"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RangeQuery {
    from: String,
    to: String,
}

/// CSV statement of `[from, to]` (dates, inclusive).
#[get("/wallet/statement.csv")]
async fn statement_csv(
    state: web::Data<AppState>,
    auth: Seller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, PageError> {
    let parse = |s: &str, what: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::BadRequest(format!("Give the {what} date as YYYY-MM-DD.")))
    };
    let (from, to) = (parse(&q.from, "from")?, parse(&q.to, "to")?);
    if to < from {
        return Err(AppError::BadRequest("The end date is before the start date.".into()).into());
    }
    // Days as the seller lives them, in its time zone (the page shows times in it).
    let tz = auth.user.time_zone();
    let start = tz.start_of(from);
    let end = tz.start_of(to + chrono::Duration::days(1));
    let seller = auth.user.id.clone();
    let rows = state
        .db(move |c| wallet::statement_between(c, &seller, start, end))
        .await?;
    let currency = state.config.currency;
    // A UTF-8 byte order mark first: Excel on Chinese Windows otherwise reads the file as GBK
    // and garbles every Chinese note.
    let mut w = csv::Writer::from_writer(UTF8_BOM.to_vec());
    let header = [
        "date_utc",
        "kind",
        "shipment_id",
        "note",
        "amount",
        "balance_after",
        "currency",
        "transaction_id",
        "tracking_number",
        "reference",
        "date_local",
    ];
    w.write_record(header).map_err(AppError::internal)?;
    for l in rows {
        w.write_record([
            l.entry.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            l.kind.clone(),
            l.shipment_id.clone().unwrap_or_default(),
            l.note.clone().unwrap_or_default(),
            Money::new(l.entry.amount, currency).decimal(),
            Money::new(l.entry.balance_after.unwrap_or(0), currency).decimal(),
            currency.code().to_string(),
            l.entry.transaction_id.clone(),
            l.tracking_number.clone().unwrap_or_default(),
            l.reference.clone().unwrap_or_default(),
            tz.show(&l.entry.created_at),
        ])
        .map_err(AppError::internal)?;
    }
    let body = w.into_inner().map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"waybill-wallet-{from}-{to}.csv\""),
        ))
        .body(body))
}
