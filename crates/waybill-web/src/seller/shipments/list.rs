//! The Shipments page: filters, search, paging, "print selected".

use actix_web::{HttpResponse, get, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;

use crate::error::{AppError, PageError};
use crate::extract::Seller;
use crate::page::PageCtx;
use crate::paging::Paging;
use crate::{AppState, html};
use waybill_app::services::channels;
use waybill_app::services::shipments::{self, Filter};
use waybill_domain::Status;
use waybill_domain::channel::{ChannelKind, is_code};
use waybill_domain::text::search_term;
use waybill_domain::tracking_flags::{TrackingFlag, flag_of};

use super::{PAGE_SIZE, Row, row};

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ListQuery {
    status: String,
    channel: String,
    from: String,
    to: String,
    q: String,
    /// `no_tracking` or `stale`.
    tracking: String,
    /// `unprinted`: labels never printed, parcels still with the seller.
    labels: String,
    /// Text, so that any value gets a page back (see `Paging`).
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "seller/shipments.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    query: ListQuery,
    statuses: Vec<(&'static str, String)>,
    channels: Vec<String>,
    page: i64,
    pages: i64,
    total: i64,
    /// Said when the page asked for was not there and another is shown.
    page_notice: Option<String>,
    /// The query string without `page`, for the pager links.
    base_query: String,
}

#[get("/shipments")]
pub(super) async fn list_page(
    state: web::Data<AppState>,
    auth: Seller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let query = q.into_inner();
    let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let channel = Some(query.channel.trim().to_ascii_uppercase()).filter(|s| !s.is_empty());
    // The filters come from a form of choices: anything else is a hand-made URL, refused
    // before it reaches a query.
    if channel.as_deref().is_some_and(|c| !is_code(c)) {
        return Err(
            filter_error("channel", "Not a channel code: choose one from the list.").into(),
        );
    }
    let search = search_term(Some(&query.q)).map_err(|e| filter_error("q", &e))?;
    let cutoffs = state
        .config
        .tracking_rules
        .cutoffs(waybill_app::clock::now());
    let tz = auth.user.time_zone();
    let filter = Filter {
        status: Status::parse(&query.status).filter(|s| *s != Status::Draft),
        channel,
        // Booking days as the seller reads them, in its time zone.
        from: day(&query.from).map(|d| tz.start_of(d)),
        to: day(&query.to).map(|d| tz.start_of(d + chrono::Duration::days(1))),
        q: search,
        tracking: TrackingFlag::parse(query.tracking.trim()).map(|f| (f, cutoffs)),
        unprinted: query.labels.trim() == "unprinted",
    };
    let seller = auth.user.id.clone();
    let raw_page = query.page.clone();
    let (rows, paging, channels, scans) = state
        .db(move |c| {
            let total = shipments::count(c, &seller, &filter)?;
            let paging = Paging::clamp(raw_page.as_deref(), total, PAGE_SIZE);
            let rows = shipments::list(c, &seller, &filter, paging.offset(), PAGE_SIZE)?;
            let ids: Vec<&str> = rows.iter().map(|s| s.id.as_str()).collect();
            let scans = shipments::last_scans(c, &ids)?;
            Ok((rows, paging, channels::list(c)?, scans))
        })
        .await?;
    let kinds: HashMap<String, ChannelKind> =
        channels.iter().map(|c| (c.code.clone(), c.kind)).collect();
    let currency = state.config.currency;
    let mut pager = query.clone();
    pager.page = None;
    let base_query = serde_urlencoded::to_string([
        ("status", &pager.status),
        ("channel", &pager.channel),
        ("from", &pager.from),
        ("to", &pager.to),
        ("q", &pager.q),
        ("tracking", &pager.tracking),
        ("labels", &pager.labels),
    ])
    .unwrap_or_default();
    html(&ListPage {
        ctx: PageCtx::new(&auth.viewer),
        rows: rows
            .iter()
            .map(|s| Row {
                flag: flag_of(
                    s.status,
                    s.created_at,
                    kinds
                        .get(&s.channel_code)
                        .copied()
                        .unwrap_or(ChannelKind::Express),
                    scans.get(s.id.as_str()).copied().flatten(),
                    &cutoffs,
                )
                .map(TrackingFlag::label),
                ..row(s, currency, auth.user.time_zone())
            })
            .collect(),
        query,
        statuses: Status::ALL[1..]
            .iter()
            .map(|s| (s.as_str(), s.label().to_string()))
            .collect(),
        channels: channels.into_iter().map(|c| c.code).collect(),
        page: paging.page,
        pages: paging.pages,
        total: paging.total,
        page_notice: paging.notice(),
        base_query,
    })
}

fn filter_error(field: &str, message: &str) -> AppError {
    AppError::Validation {
        message: message.to_string(),
        fields: [(field.to_string(), message.to_string())].into(),
    }
}
