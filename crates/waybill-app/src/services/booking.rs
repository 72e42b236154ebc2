//! Booking a shipment: validate, choose the sender, quote on the chosen channel, then in one
//! transaction charge the wallet, take a tracking serial, store the shipment with its first
//! event and queue the confirmation mail (a CSV import mails one summary instead).
//! Cancelling before pickup refunds once.

use std::collections::BTreeMap;

use askama::Template;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::services::quotes::{ChannelQuote, QuoteCheck, Quoted, check_quote_id};
use crate::services::wallet::{self, Kind, Posting};
use waybill_db::addresses::AddressRow;
use waybill_db::channels::Channel;
use waybill_db::shipments::{Shipment, ShipmentEvent};
use waybill_db::users::User;
use waybill_db::{self as db, DbConn};
use waybill_domain::address::{Address, AddressInput, Party};
use waybill_domain::customs::{Customs, CustomsInput};
use waybill_domain::{Currency, Money, Parcel, ParcelInput, Status, required_text};

/// Stands for the tracking number in a confirmation rendered before the number is issued
/// (invisible separators: no recipient field in Latin script can contain it).
const TRACKING_MARK: &str = "\u{2063}tracking-number\u{2063}";

const NO_SUCH_SENDER: &str = "You have no sender address with this id.";

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct BookingInput {
    pub channel: String,
    pub sender_address_id: Option<String>,
    pub recipient: AddressInput,
    pub parcel: ParcelInput,
    pub reference: Option<String>,
    pub customs: CustomsInput,
    /// A quote id from `POST /api/v1/quotes`: charge exactly that price, or 409.
    pub quote_id: Option<String>,
    /// Book even if another open shipment has this reference ("book again").
    pub allow_duplicate_reference: bool,
}

/// A booking request with every field checked. Its JSON is what the idempotency hash covers,
/// so the same request written differently counts as the same.
#[derive(Clone, Debug, Serialize)]
pub struct Booking {
    pub channel: String,
    pub sender_address_id: Option<String>,
    pub recipient: Address,
    pub parcel: Parcel,
    pub reference: Option<String>,
    pub customs: Customs,
    pub quote_id: Option<String>,
    pub allow_duplicate_reference: bool,
}

impl BookingInput {
    pub fn parse(&self) -> Result<Booking, BTreeMap<String, String>> {
        let channel = self.channel.trim().to_ascii_uppercase();
        let parsed = self.parse_shipment(channel.clone());
        let problem = if channel.is_empty() {
            "Choose a channel (a code from the quotes)."
        } else if !waybill_domain::channel::is_code(&channel) {
            // Refused here, so that no query is ever asked about it.
            "This is not a channel code; take one from the quotes, like CNPOST-RAM."
        } else {
            return parsed;
        };
        let mut errors = parsed.err().unwrap_or_default();
        errors.insert("channel".into(), problem.into());
        Err(errors)
    }

    /// Everything but the channel: what a quote needs checked before a channel is chosen.
    pub fn parse_without_channel(&self) -> Result<Booking, BTreeMap<String, String>> {
        self.parse_shipment(String::new())
    }

    fn parse_shipment(&self, channel: String) -> Result<Booking, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let recipient = self
            .recipient
            .parse(Party::Recipient, "recipient.")
            .map_err(|e| errors.extend(e))
            .ok();
        let parcel = self.parcel.parse(&mut errors);
        let customs = self
            .customs
            .parse(parcel.map(|p| p.weight_g))
            .map_err(|e| errors.extend(e))
            .ok();
        let sender_address_id = self
            .sender_address_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if sender_address_id.is_some_and(|id| !waybill_domain::is_id(id)) {
            errors.insert("sender_address_id".into(), NO_SUCH_SENDER.into());
        }
        let reference = match self
            .reference
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(r) => match required_text(r, "reference", 50) {
                Ok(r) => Some(r),
                Err(e) => {
                    errors.insert("reference".into(), e);
                    None
                }
            },
            None => None,
        };
        match (recipient, parcel, customs) {
            (Some(recipient), Some(parcel), Some(customs)) if errors.is_empty() => Ok(Booking {
                channel,
                sender_address_id: sender_address_id.map(str::to_string),
                recipient,
                parcel,
                reference,
                customs,
                quote_id: self
                    .quote_id
                    .as_deref()
                    .map(str::trim)
                    .filter(|q| !q.is_empty())
                    .map(str::to_string),
                allow_duplicate_reference: self.allow_duplicate_reference,
            }),
            _ => Err(errors),
        }
    }
}

impl Booking {
    pub fn request_hash(&self) -> String {
        crate::security::sha256_hex(&serde_json::to_string(self).unwrap_or_default())
    }
}

fn field_error(field: &str, msg: impl Into<String>) -> AppError {
    let mut f = BTreeMap::new();
    f.insert(field.to_string(), msg.into());
    AppError::validation(f)
}

#[derive(Template)]
#[template(path = "mail/booked.txt")]
struct BookedText<'a> {
    s: &'a Shipment,
    channel: &'a str,
    price: String,
    link: String,
}

#[derive(Template)]
#[template(path = "mail/booked.html")]
struct BookedHtml<'a> {
    s: &'a Shipment,
    channel: &'a str,
    price: String,
    link: String,
}

pub struct BookedMail<'a> {
    pub shipment: &'a Shipment,
    pub channel: &'a str,
    pub price: Money,
    pub base_url: &'a str,
}

impl crate::mail::Mail for BookedMail<'_> {
    const KIND: &'static str = "booking_confirmation";
    fn subject(&self) -> String {
        format!(
            "Booked: {} to {}",
            self.shipment.tracking_number, self.shipment.recipient_country
        )
    }
    fn text(&self) -> askama::Result<String> {
        BookedText {
            s: self.shipment,
            channel: self.channel,
            price: self.price.to_string(),
            link: format!("{}/shipments/{}", self.base_url, self.shipment.id),
        }
        .render()
    }
    fn html(&self) -> askama::Result<String> {
        BookedHtml {
            s: self.shipment,
            channel: self.channel,
            price: self.price.to_string(),
            link: format!("{}/shipments/{}", self.base_url, self.shipment.id),
        }
        .render()
    }
}

pub struct Settings<'a> {
    pub currency: Currency,
    pub base_url: &'a str,
    /// Signs and checks quote ids (`services::quotes::Quoted`).
    pub quote_key: &'a [u8],
    /// Mail a booking confirmation; off for the rows of an import, which mails one summary.
    pub confirm_by_mail: bool,
}

/// Books a shipment and charges its freight. With an idempotency key, the same request again
/// returns the shipment it made (`true` = replayed) and another request with it is a conflict.
pub fn book(
    conn: &mut DbConn,
    seller: &User,
    b: &Booking,
    key: Option<&str>,
    settings: &Settings,
) -> Result<(Shipment, bool), AppError> {
    let hash = b.request_hash();
    if let Some(k) = key {
        if let Some(done) = replay(conn, &seller.id, k, &hash)? {
            return Ok((done, true));
        }
    }
    match book_once(conn, seller, b, key, &hash, settings) {
        // Two requests with one key raced: the other made the shipment.
        Err(e) if key.is_some() && e.is_unique_violation() => {
            match replay(conn, &seller.id, key.unwrap_or_default(), &hash)? {
                Some(done) => Ok((done, true)),
                None => Err(e),
            }
        }
        other => other.map(|s| (s, false)),
    }
}

fn replay(
    conn: &mut DbConn,
    seller_id: &str,
    key: &str,
    hash: &str,
) -> Result<Option<Shipment>, AppError> {
    match db::shipments::find_by_key(conn, seller_id, key)? {
        Some(s) if s.request_hash.as_deref() == Some(hash) => Ok(Some(s)),
        Some(_) => Err(AppError::Conflict(
            "This Idempotency-Key was already used for a different shipment.".into(),
        )),
        None => Ok(None),
    }
}

fn book_once(
    conn: &mut DbConn,
    seller: &User,
    b: &Booking,
    key: Option<&str>,
    hash: &str,
    settings: &Settings,
) -> Result<Shipment, AppError> {
    let channel = bookable_channel(conn, &b.channel)?;
    let sender = sender_of(conn, seller, b)?;
    let spec = channel.spec()?;
    let quote = spec.quote(&b.parcel, &b.recipient.country);
    let price = match (&quote.price, quote.eligible) {
        (Some(p), true) => p.clone(),
        _ => return Err(field_error("channel", quote.reasons.join(" "))),
    };
    let charge = match &b.quote_id {
        None => price.total,
        Some(qid) => quoted_charge(
            qid,
            seller,
            b,
            &ChannelQuote {
                channel: channel.clone(),
                spec: spec.clone(),
                quote: quote.clone(),
            },
            settings,
        )?,
    };
    let amount = Money::new(charge, settings.currency);
    let now = db::now();
    let mut shipment = Shipment {
        tracking_number: String::new(),
        chargeable_weight_g: quote.chargeable_weight_g,
        price_amount: charge,
        currency: settings.currency.code().to_string(),
        price_breakdown: price,
        idempotency_key: key.map(str::to_string),
        request_hash: key.map(|_| hash.to_string()),
        ..new_shipment(seller, &channel.code, &sender, b, now)
    };
    let id = shipment.id.to_string();
    let channel_name = format!("{} {}", channel.carrier, channel.service);
    let ledger_key = format!("charge:{id}");
    // The confirmation is rendered here, outside the write transaction, where every other
    // booking would wait for it; only the tracking number is filled in inside.
    let mut mail = settings
        .confirm_by_mail
        .then(|| {
            crate::mail::Rendered::of(&BookedMail {
                shipment: &Shipment {
                    tracking_number: TRACKING_MARK.into(),
                    ..shipment.clone()
                },
                channel: &channel_name,
                price: amount,
                base_url: settings.base_url,
            })
        })
        .transpose()?;
    let mut stored = None;
    wallet::post_with(
        conn,
        &Posting {
            key: &ledger_key,
            kind: Kind::Charge,
            seller_id: &seller.id,
            amount,
            shipment_id: Some(&id),
            payment_intent_id: None,
            note: None,
            actor_id: None,
        },
        |c, _| {
            // Checked after the charge has locked the seller's wallet row, so two bookings
            // with one reference are serialised on PostgreSQL too.
            if !b.allow_duplicate_reference {
                refuse_open_reference(c, &seller.id, shipment.reference.as_deref())?;
            }
            let serial = db::shipments::take_serial(c, &channel.code)?;
            shipment.tracking_number = u64::try_from(serial)
                .map_err(AppError::internal)
                .and_then(|s| spec.tracking.issue(s).map_err(AppError::Conflict))?;
            db::shipments::insert(c, &shipment)?;
            db::shipments::insert_event(
                c,
                &ShipmentEvent::system(
                    &id,
                    Status::Booked,
                    now,
                    Some(format!("{}, {}", sender.city, sender.country)),
                    format!("Booked on {channel_name}; freight {amount} paid from the wallet."),
                ),
            )?;
            if let Some(mail) = &mut mail {
                mail.fill(TRACKING_MARK, &shipment.tracking_number);
                mail.enqueue(c, &seller.email)?;
            }
            stored = Some(shipment.clone());
            Ok(())
        },
    )?;
    stored.ok_or_else(|| AppError::internal("booking finished without a shipment"))
}

/// The channel `code` if it is approved and open for booking.
fn bookable_channel(conn: &mut DbConn, code: &str) -> Result<Channel, AppError> {
    db::channels::find(conn, code)?
        .filter(|c| c.enabled)
        .ok_or_else(|| {
            field_error(
                "channel",
                format!(
                    "{code} is not an approved channel open for booking; take a code from the quotes."
                ),
            )
        })
}

/// The sender address the booking names, or the seller's default.
fn sender_of(conn: &mut DbConn, seller: &User, b: &Booking) -> Result<AddressRow, AppError> {
    match &b.sender_address_id {
        Some(id) => db::addresses::find(conn, &seller.id, id)?
            .ok_or_else(|| field_error("sender_address_id", NO_SUCH_SENDER)),
        None => db::addresses::default_for(conn, &seller.id)?.ok_or_else(|| {
            field_error(
                "sender_address_id",
                "Add a sender address first: parcels are collected from it.",
            )
        }),
    }
}

/// With a quote id the seller pays what it was shown, or nothing happens: an expired quote,
/// or one for another parcel, destination or channel, is answered 409 with a fresh quote to
/// book with.
fn quoted_charge(
    quote_id: &str,
    seller: &User,
    b: &Booking,
    fresh: &ChannelQuote,
    settings: &Settings,
) -> Result<i64, AppError> {
    let this = Quoted {
        seller_id: &seller.id,
        channel: &fresh.channel.code,
        parcel: &b.parcel,
        country: &b.recipient.country,
        amount: 0,
        currency: settings.currency.code(),
    };
    let now = chrono::Utc::now().timestamp();
    let outcome = match check_quote_id(settings.quote_key, quote_id, &this, now) {
        QuoteCheck::Valid { amount } => return Ok(amount),
        outcome => outcome,
    };
    let view = fresh.view(
        settings.quote_key,
        &seller.id,
        &b.parcel,
        &b.recipient.country,
        settings.currency,
    );
    let message = if outcome == QuoteCheck::Expired {
        "That quote has expired (quotes hold for 30 minutes). Here is a fresh one: book with its id."
    } else {
        "The parcel, destination or channel differs from what was quoted. Here is the quote for this booking: book with its id."
    };
    let mut extra = serde_json::Map::new();
    extra.insert(
        "quote".into(),
        serde_json::to_value(view).map_err(AppError::internal)?,
    );
    Err(AppError::ConflictWith {
        message: message.into(),
        extra,
    })
}

/// The shipment as booked, before its price and tracking number are known.
fn new_shipment(
    seller: &User,
    channel: &str,
    sender: &AddressRow,
    b: &Booking,
    now: chrono::NaiveDateTime,
) -> Shipment {
    let r = &b.recipient;
    Shipment {
        id: db::new_id().into(),
        seller_id: seller.id.clone(),
        channel_code: channel.to_string(),
        tracking_number: String::new(),
        status: Status::Booked,
        reference: b.reference.clone(),
        sender: sender.address(),
        recipient_name: r.name.clone(),
        recipient_company: r.company.clone(),
        recipient_street1: r.street1.clone(),
        recipient_street2: r.street2.clone(),
        recipient_city: r.city.clone(),
        recipient_state: r.state.clone(),
        recipient_postal_code: r.postal_code.clone(),
        recipient_country: r.country.clone(),
        recipient_phone: r.phone.clone(),
        recipient_email: r.email.clone(),
        weight_g: b.parcel.weight_g,
        length_mm: b.parcel.length_mm,
        width_mm: b.parcel.width_mm,
        height_mm: b.parcel.height_mm,
        chargeable_weight_g: 0,
        price_amount: 0,
        currency: String::new(),
        price_breakdown: Default::default(),
        customs: b.customs.clone(),
        idempotency_key: None,
        request_hash: None,
        label_count: 0,
        created_at: now,
        updated_at: now,
        cancelled_at: None,
    }
}

/// A reference already on an open shipment of the seller's is refused (409 naming it), unless
/// the seller says to book it again.
fn refuse_open_reference(
    c: &mut DbConn,
    seller_id: &str,
    reference: Option<&str>,
) -> Result<(), AppError> {
    let Some(r) = reference else {
        return Ok(());
    };
    let Some(other) = db::shipments::find_open_by_reference(c, seller_id, r)? else {
        return Ok(());
    };
    let mut extra = serde_json::Map::new();
    extra.insert("shipment_id".into(), other.id.to_string().into());
    extra.insert("tracking_number".into(), other.tracking_number.into());
    Err(AppError::ConflictWith {
        message: format!(
            "Reference {r} is already booked ({}). Cancel that shipment, or book again on purpose.",
            other.id
        ),
        extra,
    })
}

/// Cancels before pickup and refunds the freight, once however often it is asked.
pub fn cancel(
    conn: &mut DbConn,
    seller_id: &str,
    id: &str,
    currency: Currency,
) -> Result<Shipment, AppError> {
    let s = db::shipments::find(conn, seller_id, id)?.ok_or(AppError::NotFound)?;
    if s.status == Status::Cancelled {
        return Ok(s);
    }
    if !s.status.is_cancellable() {
        return Err(AppError::Conflict(
            "This shipment is already on its way; it can only be cancelled before pickup.".into(),
        ));
    }
    let key = format!("refund:{id}");
    wallet::post_with(
        conn,
        &Posting {
            key: &key,
            kind: Kind::Refund,
            seller_id,
            amount: Money::new(s.price_amount, currency),
            shipment_id: Some(id),
            payment_intent_id: None,
            note: Some("Cancelled before pickup"),
            actor_id: None,
        },
        |c, _| {
            if !crate::services::shipments::change_status(c, &s, Status::Cancelled)? {
                return Err(AppError::Conflict(
                    "This shipment changed while it was being cancelled; reload and try again."
                        .into(),
                ));
            }
            if s.status == Status::PickupScheduled {
                crate::services::pickups::shipment_cancelled(c, id)?;
            }
            let now = db::now();
            db::shipments::insert_event(
                c,
                &ShipmentEvent::system(
                    id,
                    Status::Cancelled,
                    now,
                    None,
                    format!(
                        "Cancelled by the seller; {} refunded to the wallet.",
                        Money::new(s.price_amount, currency)
                    ),
                ),
            )?;
            Ok(())
        },
    )?;
    db::shipments::find(conn, seller_id, id)?.ok_or(AppError::NotFound)
}
