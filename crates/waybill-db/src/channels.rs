//! Approved channels as stored: columns for what is queried, JSON for the tracking format
//! and the rate card (both checked by the domain before they are written).

use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::channels;
use waybill_domain::channel::{ChannelKind, ChannelSpec};

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = channels)]
pub struct Channel {
    pub code: String,
    pub carrier: String,
    pub service: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub kind: ChannelKind,
    pub tracking_format: String,
    pub max_weight_g: i64,
    pub max_length_mm: i64,
    pub max_sum_sides_mm: i64,
    pub volumetric_divisor: Option<i64>,
    pub transit_min_days: i32,
    pub transit_max_days: i32,
    pub door_pickup: bool,
    pub enabled: bool,
    pub rate_card: String,
    pub next_serial: i64,
    pub webhook_secret: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The secret before the last rotation, accepted until `previous_secret_expires_at`.
    pub previous_webhook_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
}

/// What a channel's spec is parsed from (see `Channel::spec_source`).
type SpecSource<'a> = (
    (&'a str, &'a str, &'a str, &'a ChannelKind, &'a str, &'a str),
    (&'a i64, &'a i64, &'a i64, &'a Option<i64>),
    (&'a i32, &'a i32, &'a bool),
);

impl Channel {
    pub fn from_spec(spec: &ChannelSpec, webhook_secret: String) -> anyhow::Result<Channel> {
        let now = super::now();
        Ok(Channel {
            code: spec.code.clone(),
            carrier: spec.carrier.clone(),
            service: spec.service.clone(),
            kind: spec.kind,
            tracking_format: serde_json::to_string(&spec.tracking)?,
            max_weight_g: spec.max_weight_g,
            max_length_mm: spec.max_length_mm,
            max_sum_sides_mm: spec.max_sum_sides_mm,
            volumetric_divisor: spec.volumetric_divisor,
            transit_min_days: spec.transit_min_days,
            transit_max_days: spec.transit_max_days,
            door_pickup: spec.door_pickup,
            enabled: true,
            rate_card: serde_json::to_string(&spec.rate_card)?,
            next_serial: 0,
            webhook_secret,
            created_at: now,
            updated_at: now,
            previous_webhook_secret: None,
            previous_secret_expires_at: None,
        })
    }

    /// The domain view; fails only if a stored JSON document was damaged. Parsing the rate
    /// card costs more than the rest of a quote, so parsed specs are kept per process and
    /// reused while every field they come from is unchanged (an admin's edit changes them).
    pub fn spec(&self) -> anyhow::Result<Arc<ChannelSpec>> {
        static PARSED: Mutex<Vec<(Channel, Arc<ChannelSpec>)>> = Mutex::new(Vec::new());
        let source = self.spec_source();
        if let Some((_, spec)) = PARSED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(c, _)| c.spec_source() == source)
        {
            return Ok(spec.clone());
        }
        let spec = Arc::new(self.parse_spec()?);
        let mut parsed = PARSED.lock().unwrap_or_else(|p| p.into_inner());
        // One entry per channel code: an edited channel replaces its old spec.
        parsed.retain(|(c, _)| c.code != self.code);
        parsed.push((self.clone(), spec.clone()));
        Ok(spec)
    }

    /// Every column the spec is made of. The pattern names each field, so a new column
    /// must be sorted into the spec's sources or the ones ignored here before this compiles.
    fn spec_source(&self) -> SpecSource<'_> {
        let Channel {
            code,
            carrier,
            service,
            kind,
            tracking_format,
            max_weight_g,
            max_length_mm,
            max_sum_sides_mm,
            volumetric_divisor,
            transit_min_days,
            transit_max_days,
            door_pickup,
            rate_card,
            enabled: _,
            next_serial: _,
            webhook_secret: _,
            created_at: _,
            updated_at: _,
            previous_webhook_secret: _,
            previous_secret_expires_at: _,
        } = self;
        (
            (code, carrier, service, kind, tracking_format, rate_card),
            (
                max_weight_g,
                max_length_mm,
                max_sum_sides_mm,
                volumetric_divisor,
            ),
            (transit_min_days, transit_max_days, door_pickup),
        )
    }

    fn parse_spec(&self) -> anyhow::Result<ChannelSpec> {
        Ok(ChannelSpec {
            code: self.code.clone(),
            carrier: self.carrier.clone(),
            service: self.service.clone(),
            kind: self.kind,
            tracking: serde_json::from_str(&self.tracking_format)
                .map_err(|e| anyhow::anyhow!("channel {}: tracking format: {e}", self.code))?,
            max_weight_g: self.max_weight_g,
            max_length_mm: self.max_length_mm,
            max_sum_sides_mm: self.max_sum_sides_mm,
            volumetric_divisor: self.volumetric_divisor,
            transit_min_days: self.transit_min_days,
            transit_max_days: self.transit_max_days,
            door_pickup: self.door_pickup,
            rate_card: serde_json::from_str(&self.rate_card)
                .map_err(|e| anyhow::anyhow!("channel {}: rate card: {e}", self.code))?,
        })
    }
}

/// Inserts a channel unless one with its code exists (an admin's edits are kept).
pub fn insert_if_missing(conn: &mut DbConn, c: &Channel) -> QueryResult<bool> {
    if find(conn, &c.code)?.is_some() {
        return Ok(false);
    }
    match diesel::insert_into(channels::table)
        .values(c.clone())
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn find(conn: &mut DbConn, code: &str) -> QueryResult<Option<Channel>> {
    per_backend!(conn, |c| channels::table
        .find(code)
        .select(Channel::as_select())
        .get_result(c)
        .optional())
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Channel>> {
    channels::table
        .order((channels::kind.desc(), channels::code.asc()))
        .select(Channel::as_select())
        .load(conn)
}

pub fn list_enabled(conn: &mut DbConn) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::enabled.eq(true))
        .order(channels::code.asc())
        .select(Channel::as_select())
        .load(conn)
}

pub fn set_enabled(conn: &mut DbConn, code: &str, enabled: bool) -> QueryResult<bool> {
    let n = diesel::update(channels::table.find(code))
        .set((
            channels::enabled.eq(enabled),
            channels::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// What an operator may change about a channel besides its rate card.
pub use waybill_domain::channel::Limits;

impl Channel {
    pub fn limits(&self) -> Limits {
        Limits {
            max_weight_g: self.max_weight_g,
            max_length_mm: self.max_length_mm,
            max_sum_sides_mm: self.max_sum_sides_mm,
            volumetric_divisor: self.volumetric_divisor,
            transit_min_days: self.transit_min_days,
            transit_max_days: self.transit_max_days,
            door_pickup: self.door_pickup,
        }
    }
}

pub fn update_limits(conn: &mut DbConn, code: &str, l: &Limits) -> QueryResult<bool> {
    let n = diesel::update(channels::table.find(code))
        .set((
            channels::max_weight_g.eq(l.max_weight_g),
            channels::max_length_mm.eq(l.max_length_mm),
            channels::max_sum_sides_mm.eq(l.max_sum_sides_mm),
            channels::volumetric_divisor.eq(l.volumetric_divisor),
            channels::transit_min_days.eq(l.transit_min_days),
            channels::transit_max_days.eq(l.transit_max_days),
            channels::door_pickup.eq(l.door_pickup),
            channels::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn update_rate_card(
    conn: &mut DbConn,
    code: &str,
    card: &waybill_domain::rates::RateCard,
) -> QueryResult<bool> {
    let json = serde_json::to_string(card).unwrap_or_default();
    let n = diesel::update(channels::table.find(code))
        .set((
            channels::rate_card.eq(json),
            channels::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

impl Channel {
    /// The secrets a carrier request may be signed with now: the current one, and the one it
    /// replaced while its grace period lasts.
    pub fn webhook_secrets(&self, now: NaiveDateTime) -> Vec<&str> {
        let mut all = vec![self.webhook_secret.as_str()];
        if let (Some(old), Some(until)) = (
            &self.previous_webhook_secret,
            self.previous_secret_expires_at,
        ) {
            if now < until {
                all.push(old);
            }
        }
        all.retain(|s| !s.is_empty());
        all
    }
}

/// Replaces a channel's webhook secret; the old one keeps verifying until `grace_until`.
pub fn rotate_secret(
    conn: &mut DbConn,
    code: &str,
    new_secret: &str,
    grace_until: NaiveDateTime,
) -> QueryResult<bool> {
    let Some(c) = find(conn, code)? else {
        return Ok(false);
    };
    let n = diesel::update(
        channels::table
            .find(code)
            .filter(channels::webhook_secret.eq(&c.webhook_secret)),
    )
    .set((
        channels::webhook_secret.eq(new_secret),
        channels::previous_webhook_secret.eq(Some(&c.webhook_secret)),
        channels::previous_secret_expires_at.eq(Some(grace_until)),
        channels::updated_at.eq(super::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
