//! Quotes: every enabled channel's answer for one parcel to one country, cheapest eligible
//! first, then the ineligible ones with their reasons.

use std::sync::Arc;

use crate::error::AppError;
use waybill_db::channels::Channel;
use waybill_db::{self as db, DbConn};
use waybill_domain::Parcel;
use waybill_domain::channel::{ChannelSpec, Quote};

/// One channel's quote as the API and the booking conflict show it.
#[derive(serde::Serialize, Clone, Debug)]
pub struct QuoteView {
    /// Book with this id to be charged exactly `price` (eligible quotes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub channel: String,
    pub carrier: String,
    pub service: String,
    pub eligible: bool,
    pub price: Option<PriceView>,
    pub breakdown: Option<waybill_domain::rates::Breakdown>,
    pub chargeable_weight_g: i64,
    pub transit_days: TransitView,
    pub door_pickup: bool,
    pub reasons: Vec<String>,
}

#[derive(serde::Serialize, Clone, Debug)]
pub struct PriceView {
    pub amount: i64,
    pub currency: String,
}

#[derive(serde::Serialize, Clone, Debug)]
pub struct TransitView {
    pub min: i32,
    pub max: i32,
}

impl ChannelQuote {
    /// The quote as shown, with a signed id for `seller_id` if it can be booked.
    pub fn view(
        &self,
        key: &[u8],
        seller_id: &str,
        parcel: &Parcel,
        country: &str,
        currency: waybill_domain::Currency,
    ) -> QuoteView {
        let expires = chrono::Utc::now().timestamp() + QUOTE_MINUTES * 60;
        let id = match (&self.quote.price, self.quote.eligible) {
            (Some(p), true) => Some(
                Quoted {
                    seller_id,
                    channel: &self.channel.code,
                    parcel,
                    country,
                    amount: p.total,
                    currency: currency.code(),
                }
                .id(key, expires),
            ),
            _ => None,
        };
        QuoteView {
            expires_at: id
                .as_ref()
                .and_then(|_| chrono::DateTime::from_timestamp(expires, 0).map(|t| t.to_rfc3339())),
            id,
            channel: self.channel.code.clone(),
            carrier: self.channel.carrier.clone(),
            service: self.channel.service.clone(),
            eligible: self.quote.eligible,
            price: self.quote.price.as_ref().map(|p| PriceView {
                amount: p.total,
                currency: currency.code().to_string(),
            }),
            breakdown: self.quote.price.clone(),
            chargeable_weight_g: self.quote.chargeable_weight_g,
            transit_days: TransitView {
                min: self.spec.transit_min_days,
                max: self.spec.transit_max_days,
            },
            door_pickup: self.spec.door_pickup,
            reasons: self.quote.reasons.clone(),
        }
    }
}

pub struct ChannelQuote {
    pub channel: Channel,
    pub spec: Arc<ChannelSpec>,
    pub quote: Quote,
}

pub fn quote_all(
    conn: &mut DbConn,
    parcel: &Parcel,
    country: &str,
) -> Result<Vec<ChannelQuote>, AppError> {
    let mut quotes = db::channels::list_enabled(conn)?
        .into_iter()
        .map(|channel| {
            let spec = channel.spec()?;
            let quote = spec.quote(parcel, country);
            Ok(ChannelQuote {
                channel,
                spec,
                quote,
            })
        })
        .collect::<Result<Vec<_>, anyhow::Error>>()?;
    quotes.sort_by_key(|q| {
        (
            !q.quote.eligible,
            q.quote.price.as_ref().map(|p| p.total).unwrap_or(i64::MAX),
            q.channel.code.clone(),
        )
    });
    Ok(quotes)
}

/// How long a quote's price holds.
pub const QUOTE_MINUTES: i64 = 30;

/// What a quote id vouches for: who was quoted, which channel, the parcel, the destination,
/// and the price shown.
pub struct Quoted<'a> {
    pub seller_id: &'a str,
    pub channel: &'a str,
    pub parcel: &'a Parcel,
    pub country: &'a str,
    pub amount: i64,
    pub currency: &'a str,
}

impl Quoted<'_> {
    fn message(&self, expires: i64) -> String {
        let p = self.parcel;
        format!(
            "quote1|{}|{}|{}|{}|{}|{}|{}|{}|{}|{expires}",
            self.seller_id,
            self.channel,
            p.weight_g,
            p.length_mm,
            p.width_mm,
            p.height_mm,
            self.country,
            self.amount,
            self.currency
        )
    }

    /// The id shown with the quote: `q1_<expires>_<amount>_<mac>`. It is signed, not stored,
    /// so quoting writes nothing; booking with it proves the seller saw exactly this price.
    pub fn id(&self, key: &[u8], expires: i64) -> String {
        let mac = crate::security::hmac_sha256_hex(key, self.message(expires).as_bytes());
        format!("q1_{expires}_{}_{}", self.amount, &mac[..32])
    }
}

/// What a quote id says about a booking.
#[derive(Debug, PartialEq, Eq)]
pub enum QuoteCheck {
    /// The quote covers this booking: charge this amount.
    Valid {
        amount: i64,
    },
    Expired,
    /// Another parcel, destination or channel than was quoted (or not a quote id at all).
    Differs,
}

/// Checks `id` against the booking it comes with (`amount` in `booking` is ignored).
pub fn check_quote_id(key: &[u8], id: &str, booking: &Quoted, now: i64) -> QuoteCheck {
    let mut parts = id.trim().splitn(4, '_');
    let (Some("q1"), Some(expires), Some(amount), Some(mac)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return QuoteCheck::Differs;
    };
    let (Ok(expires), Ok(amount)) = (expires.parse::<i64>(), amount.parse::<i64>()) else {
        return QuoteCheck::Differs;
    };
    let quoted = Quoted { amount, ..*booking };
    let expected = quoted.id(key, expires);
    let sent = format!("q1_{expires}_{amount}_{mac}");
    if !crate::security::constant_time_eq(expected.as_bytes(), sent.as_bytes()) {
        return QuoteCheck::Differs;
    }
    if now > expires {
        return QuoteCheck::Expired;
    }
    QuoteCheck::Valid { amount }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parcel(weight_g: i64) -> Parcel {
        Parcel {
            weight_g,
            length_mm: 200,
            width_mm: 150,
            height_mm: 50,
        }
    }

    #[test]
    fn a_quote_id_holds_its_price_for_the_same_parcel_only() {
        let key = b"0123456789abcdef0123456789abcdef";
        let p = parcel(455);
        let q = Quoted {
            seller_id: "s1",
            channel: "CNPOST-RAM",
            parcel: &p,
            country: "DE",
            amount: 8_192,
            currency: "CNY",
        };
        let id = q.id(key, 1_000);
        let same = Quoted { amount: 0, ..q };
        assert_eq!(
            check_quote_id(key, &id, &same, 999),
            QuoteCheck::Valid { amount: 8_192 }
        );
        assert_eq!(check_quote_id(key, &id, &same, 1_001), QuoteCheck::Expired);
        let heavier = parcel(1_900);
        for other in [
            Quoted {
                parcel: &heavier,
                ..same
            },
            Quoted {
                country: "FR",
                ..same
            },
            Quoted {
                channel: "CNPOST-EPACKET",
                ..same
            },
            Quoted {
                seller_id: "s2",
                ..same
            },
        ] {
            assert_eq!(check_quote_id(key, &id, &other, 999), QuoteCheck::Differs);
        }
        let cheaper = id.replacen("_8192_", "_1_", 1);
        assert_eq!(
            check_quote_id(key, &cheaper, &same, 999),
            QuoteCheck::Differs
        );
        assert_eq!(
            check_quote_id(b"another key", &id, &same, 999),
            QuoteCheck::Differs
        );
        assert_eq!(
            check_quote_id(key, "garbage", &same, 999),
            QuoteCheck::Differs
        );
    }
}
