//! Bulk booking from a CSV file: one shipment per reference, one customs item per row (rows
//! repeating a reference add items to its shipment). The file may be UTF-8 or GBK/GB18030,
//! as Excel in China saves it. A preview checks every shipment as booking would (without
//! charging); the run books the valid ones, each with the idempotency key `csv:REFERENCE`,
//! so importing the same file twice books once, and mails one summary when it is done.

mod file;
mod mail;

use file::describe;
pub use file::{COLUMNS, MAX_ROWS, Row, decode, parse, sample_csv};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::services::booking::{self, Booking, Settings};
pub use waybill_db::imports::Import;
use waybill_db::users::User;
use waybill_db::{self as db, DbConn, Pool};
use waybill_domain::Money;
use waybill_domain::import::ImportStatus;

/// Checks every row as booking would, without charging: fields, channel, eligibility,
/// duplicate references within the file, and references already booked.
pub fn check(conn: &mut DbConn, seller_id: &str, rows: &mut [Row]) -> Result<(), AppError> {
    let has_sender = db::addresses::default_for(conn, seller_id)?.is_some();
    let channels: BTreeMap<String, std::sync::Arc<waybill_domain::channel::ChannelSpec>> =
        db::channels::list_enabled(conn)?
            .into_iter()
            .map(|c| c.spec().map(|s| (c.code, s)))
            .collect::<Result<_, _>>()?;
    let mut seen = BTreeMap::new();
    for row in rows.iter_mut() {
        if row.reference.is_empty() {
            row.errors
                .push("reference: required, so the import is safe to repeat".into());
        } else if let Some(first) = seen.insert(row.reference.clone(), row.line) {
            row.errors.push(format!(
                "reference: {} is already on line {first} with other shipment details (rows of one reference add items to one shipment)",
                row.reference
            ));
        } else if let Some(s) =
            db::shipments::find_open_by_reference(conn, seller_id, &row.reference)?
        {
            row.already_booked = Some(s.tracking_number);
        }
        match row.input.parse() {
            Err(e) => {
                let lines = describe(&e, &row.not_numbers);
                row.errors.extend(lines);
            }
            Ok(b) => match channels.get(&b.channel) {
                None => row.errors.push(format!(
                    "channel: {} is not an approved channel open for booking",
                    b.channel
                )),
                Some(spec) => {
                    let q = spec.quote(&b.parcel, &b.recipient.country);
                    if q.eligible {
                        row.price = q.price.map(|p| p.total);
                    } else {
                        row.errors
                            .extend(q.reasons.into_iter().map(|r| format!("channel: {r}")));
                    }
                }
            },
        }
        if !has_sender {
            row.errors
                .push("sender: add a default sender address first".into());
        }
    }
    Ok(())
}

/// One row's outcome in a finished run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub line: usize,
    pub reference: String,
    pub tracking_number: Option<String>,
    pub shipment_id: Option<String>,
    pub error: Option<String>,
    /// Booked by an earlier import of the same reference.
    pub earlier: bool,
}

/// Books every valid row, reporting progress as it goes, then records the results and
/// queues the summary mail in one transaction. Runs on a blocking thread.
pub fn run(pool: &Pool, import_id: &str, seller: &User, settings: &Settings) -> anyhow::Result<()> {
    // One summary for the whole file, not a confirmation per row.
    let settings = &Settings {
        confirm_by_mail: false,
        ..*settings
    };
    let mut conn = pool.get()?;
    let import = db::imports::find(&mut conn, &seller.id, import_id)?
        .ok_or_else(|| anyhow::anyhow!("import {import_id} vanished"))?;
    let mut rows = parse(import.csv.as_bytes()).map_err(anyhow::Error::msg)?;
    check(&mut conn, &seller.id, &mut rows)?;
    let mut tally = Tally::default();
    for (i, row) in rows.iter().enumerate() {
        if let Some(tn) = &row.already_booked {
            tally.already_booked(&mut conn, seller, &import, row, tn)?;
        } else if !row.errors.is_empty() {
            tally.refusals.push(mail::Refusal {
                line: row.line,
                reference: row.reference.clone(),
                reason: row.errors.join("; "),
            });
            continue;
        } else {
            tally.book(&mut conn, seller, row, settings);
        }
        if i % 50 == 49 {
            db::imports::progress(&mut conn, import_id, tally.booked, tally.failed)?;
        }
    }
    let Tally {
        booked,
        failed,
        charged,
        outcomes,
        mut refusals,
    } = tally;
    let refused = refusals.len();
    refusals.truncate(mail::LISTED);
    // Rendered before the transaction, where other writers would wait for it.
    let summary = crate::mail::Rendered::of(&mail::SummaryMail {
        filename: &import.filename,
        rows: rows.len(),
        booked: usize::try_from(booked)?,
        refused,
        already: outcomes.iter().filter(|o| o.earlier).count(),
        charged: Money::new(charged, settings.currency),
        refusals: &refusals,
        link: format!("{}/shipments/import/{import_id}", settings.base_url),
    })?;
    let results = serde_json::to_string(&outcomes)?;
    db::write_tx(&mut conn, |c| -> anyhow::Result<()> {
        db::imports::finish(c, import_id, booked, failed, &results)?;
        summary.enqueue(c, &seller.email)
    })
}

/// What an import's run has done so far.
#[derive(Default)]
struct Tally {
    booked: i32,
    failed: i32,
    /// Freight charged for the rows this import booked (minor units).
    charged: i64,
    outcomes: Vec<Outcome>,
    refusals: Vec<mail::Refusal>,
}

impl Tally {
    /// A row whose reference is already on an open shipment: booked by this very import
    /// before its server died (a resumed run) counts as booked, not "already booked".
    fn already_booked(
        &mut self,
        conn: &mut DbConn,
        seller: &User,
        import: &Import,
        row: &Row,
        tracking_number: &str,
    ) -> anyhow::Result<()> {
        let existing = db::shipments::find_open_by_reference(conn, &seller.id, &row.reference)?;
        let ours = existing.as_ref().filter(|s| {
            s.created_at >= import.created_at
                && s.idempotency_key.as_deref() == Some(&format!("csv:{}", row.reference))
        });
        if let Some(s) = ours {
            self.booked += 1;
            self.charged += s.price_amount;
        }
        self.outcomes.push(Outcome {
            line: row.line,
            reference: row.reference.clone(),
            tracking_number: Some(tracking_number.to_string()),
            shipment_id: existing.as_ref().map(|s| s.id.to_string()),
            error: None,
            earlier: ours.is_none(),
        });
        Ok(())
    }

    /// Books a valid row (its reference is its idempotency key) and counts what happened.
    fn book(&mut self, conn: &mut DbConn, seller: &User, row: &Row, settings: &Settings) {
        let result = row
            .input
            .parse()
            .map_err(AppError::validation)
            .and_then(|b: Booking| {
                let key = format!("csv:{}", row.reference);
                booking::book(conn, seller, &b, Some(&key), settings)
            });
        let outcome = match result {
            Ok((s, earlier)) => {
                // A replay of an earlier import's booking is "already booked", not booked.
                if !earlier {
                    self.booked += 1;
                    self.charged += s.price_amount;
                }
                Outcome {
                    line: row.line,
                    reference: row.reference.clone(),
                    tracking_number: Some(s.tracking_number),
                    shipment_id: Some(s.id.into_string()),
                    error: None,
                    earlier,
                }
            }
            Err(e) => {
                self.failed += 1;
                let error = match e {
                    AppError::Validation { fields, .. } => describe(&fields, &[]).join("; "),
                    AppError::Internal(_) | AppError::Database(_) => {
                        "could not be booked; try again".into()
                    }
                    other => other.to_string(),
                };
                self.refusals.push(mail::Refusal {
                    line: row.line,
                    reference: row.reference.clone(),
                    reason: error.clone(),
                });
                Outcome {
                    line: row.line,
                    reference: row.reference.clone(),
                    tracking_number: None,
                    shipment_id: None,
                    error: Some(error),
                    earlier: false,
                }
            }
        };
        self.outcomes.push(outcome);
    }
}

/// How long a running import may go without progress before it counts as stalled (a run
/// reports every 50 rows, well under a second each).
pub const STALLED_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// Resumes the imports whose server died mid-run: the rows booked before are found by their
/// `csv:REFERENCE` keys and counted as booked by this import, the rest are booked, and the one
/// summary mail is queued. Returns how many were resumed.
pub fn resume_stalled(
    pool: &Pool,
    settings: &Settings,
    now: chrono::NaiveDateTime,
) -> anyhow::Result<usize> {
    let stalled = db::imports::claim_stalled(&mut *pool.get()?, now - STALLED_AFTER)?;
    let mut resumed = 0;
    for i in &stalled {
        let Some(seller) = db::users::find(&mut *pool.get()?, &i.seller_id)? else {
            continue;
        };
        tracing::warn!(import = %i.id, "resuming an import left running");
        run(pool, &i.id, &seller, settings)?;
        resumed += 1;
    }
    Ok(resumed)
}

/// Keeps an uploaded file checked and ready to book (`previewed`); its id.
pub fn preview(
    conn: &mut DbConn,
    seller_id: &str,
    filename: String,
    csv: String,
    rows: &mut [Row],
) -> Result<String, AppError> {
    check(conn, seller_id, rows)?;
    let now = db::now();
    let import = Import {
        id: db::new_id(),
        seller_id: seller_id.to_string(),
        filename,
        csv,
        status: ImportStatus::Previewed,
        total_rows: rows.len() as i32,
        valid_rows: rows.iter().filter(|r| r.bookable()).count() as i32,
        booked: 0,
        failed: 0,
        results: None,
        created_at: now,
        updated_at: now,
    };
    db::imports::insert(conn, &import)?;
    Ok(import.id)
}

/// One of the seller's imports, with its rows checked again while it waits to be booked.
/// What an import page shows: the import, its rows checked again while it waits to be
/// booked, and what became of each row once it ran.
pub struct Shown {
    pub import: Import,
    pub rows: Vec<Row>,
    pub outcomes: Vec<Outcome>,
}

pub fn show(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<Shown, AppError> {
    let import = db::imports::find(conn, seller_id, id)?.ok_or(AppError::NotFound)?;
    let mut rows = Vec::new();
    if import.status == ImportStatus::Previewed {
        rows = parse(import.csv.as_bytes()).map_err(AppError::BadRequest)?;
        check(conn, seller_id, &mut rows)?;
    }
    // The outcomes are kept as JSON, written by `run`; one that does not decode is a 500.
    let outcomes = match import.results.as_deref() {
        Some(json) => serde_json::from_str(json).map_err(|e| {
            AppError::internal(format!(
                "import {}: its results do not decode: {e}",
                import.id
            ))
        })?,
        None => Vec::new(),
    };
    Ok(Shown {
        import,
        rows,
        outcomes,
    })
}

/// Marks a previewed import of the seller's as running; false when it already ran or runs.
pub fn start(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<bool, AppError> {
    db::imports::find(conn, seller_id, id)?.ok_or(AppError::NotFound)?;
    Ok(db::imports::start(conn, seller_id, id)?)
}

/// What a run in the background needs, owned.
pub struct Background {
    pub pool: Pool,
    pub mail: crate::mail::MailWorker,
    pub currency: waybill_domain::Currency,
    pub base_url: String,
    pub quote_key: std::sync::Arc<[u8; 32]>,
}

/// Books a started import on the blocking thread pool; a run that fails is finished empty
/// (and logged), and the mail worker is woken for the summary either way.
pub fn run_in_background(bg: Background, import_id: String, seller: User) {
    tokio::task::spawn_blocking(move || {
        let settings = Settings {
            currency: bg.currency,
            base_url: &bg.base_url,
            quote_key: &bg.quote_key[..],
            confirm_by_mail: false,
        };
        if let Err(e) = run(&bg.pool, &import_id, &seller, &settings) {
            tracing::error!(import = %import_id, error = format!("{e:#}"), "import run failed");
            if let Ok(mut c) = bg.pool.get() {
                let _ = db::imports::finish(&mut c, &import_id, 0, 0, "[]");
            }
        }
        bg.mail.wake();
    });
}
