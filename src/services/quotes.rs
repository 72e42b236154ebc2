//! Quotes: every enabled channel's answer for one parcel to one country, cheapest eligible
//! first, then the ineligible ones with their reasons.

use std::sync::Arc;

use crate::db::channels::Channel;
use crate::db::{self, DbConn};
use crate::domain::Parcel;
use crate::domain::channel::{ChannelSpec, Quote};
use crate::error::AppError;

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
