//! The approved channels `waybill demo` loads: nine real carrier services with their real
//! tracking formats, limits and plausible prices (CNY, fen) over six destination zones.

use waybill_domain::channel::{ChannelKind, ChannelSpec};
use waybill_domain::rates::{Band, Pricing, RateCard, ZoneRate};
use waybill_domain::tracking_number::TrackingFormat;

/// Destination zones as the platform prices them.
pub const ZONES: [(&str, &[&str]); 6] = [
    ("East Asia", &["JP", "KR", "HK", "MO", "TW"]),
    ("Southeast Asia", &["SG", "MY", "TH", "VN", "PH", "ID"]),
    ("North America", &["US", "CA", "MX"]),
    (
        "Europe",
        &[
            "GB", "DE", "FR", "ES", "IT", "NL", "BE", "AT", "IE", "PT", "PL", "SE", "DK", "CH",
        ],
    ),
    ("Oceania", &["AU", "NZ"]),
    (
        "Rest of world",
        &["BR", "RU", "AE", "SA", "ZA", "IL", "TR", "IN", "CL", "AR"],
    ),
];

/// Price factor per zone, in percent of the East Asia price.
const ZONE_FACTOR: [i64; 6] = [100, 110, 150, 160, 140, 200];

fn zones(
    served: &[usize],
    pricing: impl Fn(i64) -> Pricing,
    per_piece: impl Fn(i64) -> i64,
) -> Vec<ZoneRate> {
    served
        .iter()
        .map(|&i| ZoneRate {
            zone: ZONES[i].0.to_string(),
            countries: ZONES[i].1.iter().map(|c| c.to_string()).collect(),
            pricing: pricing(ZONE_FACTOR[i]),
            per_piece: per_piece(ZONE_FACTOR[i]),
        })
        .collect()
}

/// Postal small packets: priced per 10 g after the first 50 g, plus a registration fee.
fn postal(per_kg: i64, fee: i64, served: &[usize]) -> RateCard {
    RateCard {
        round_to_g: 10,
        zones: zones(
            served,
            |f| Pricing::Steps {
                first_g: 50,
                first: per_kg * f / 100 / 20,
                step_g: 10,
                step: per_kg * f / 100 / 100,
            },
            |f| fee * f / 100,
        ),
    }
}

/// Express: first 500 g, then each further 500 g.
fn express(first: i64, step: i64, served: &[usize]) -> RateCard {
    RateCard {
        round_to_g: 500,
        zones: zones(
            served,
            |f| Pricing::Steps {
                first_g: 500,
                first: first * f / 100,
                step_g: 500,
                step: step * f / 100,
            },
            |_| 0,
        ),
    }
}

/// Express priced by weight bands of 500 g up to `max_kg`.
fn banded(first: i64, step: i64, max_kg: i64, served: &[usize]) -> RateCard {
    RateCard {
        round_to_g: 500,
        zones: zones(
            served,
            |f| Pricing::Bands {
                bands: (1..=max_kg * 2)
                    .map(|n| Band {
                        up_to_g: n * 500,
                        price: (first + (n - 1) * step) * f / 100,
                    })
                    .collect(),
            },
            |_| 0,
        ),
    }
}

const ALL: [usize; 6] = [0, 1, 2, 3, 4, 5];

#[allow(clippy::too_many_arguments)]
fn channel(
    code: &str,
    carrier: &str,
    service: &str,
    kind: ChannelKind,
    tracking: TrackingFormat,
    (max_weight_g, max_length_mm, max_sum_sides_mm): (i64, i64, i64),
    volumetric_divisor: Option<i64>,
    (transit_min_days, transit_max_days): (i32, i32),
    rate_card: RateCard,
) -> ChannelSpec {
    ChannelSpec {
        code: code.into(),
        carrier: carrier.into(),
        service: service.into(),
        kind,
        tracking,
        max_weight_g,
        max_length_mm,
        max_sum_sides_mm,
        volumetric_divisor,
        transit_min_days,
        transit_max_days,
        door_pickup: true,
        rate_card,
    }
}

fn s10(service: &str) -> TrackingFormat {
    TrackingFormat::S10 {
        service: service.into(),
        country: "CN".into(),
    }
}

/// Adds every catalogue channel that is not stored yet (each with a fresh webhook secret);
/// returns how many were added. Channels already there keep an operator's edits.
pub fn load_catalogue(conn: &mut waybill_db::DbConn) -> anyhow::Result<usize> {
    let mut added = 0;
    for spec in demo_channels() {
        let secret = crate::security::random_token(32)?;
        let row = waybill_db::channels::Channel::from_spec(&spec, secret)?;
        if waybill_db::channels::insert_if_missing(conn, &row)? {
            added += 1;
        }
    }
    Ok(added)
}

pub fn demo_channels() -> Vec<ChannelSpec> {
    use ChannelKind::{Express, Postal};
    vec![
        channel(
            "CNPOST-RAM",
            "China Post",
            "Registered Air Mail",
            Postal,
            s10("RR"),
            (2_000, 600, 900),
            None,
            (10, 25),
            postal(9_000, 1_800, &ALL),
        ),
        channel(
            "CNPOST-EPACKET",
            "China Post",
            "ePacket",
            Postal,
            s10("LX"),
            (2_000, 600, 900),
            None,
            (7, 15),
            postal(7_500, 2_100, &[0, 1, 2, 3, 4]),
        ),
        channel(
            "CNPOST-EMS",
            "China Post",
            "EMS",
            Express,
            s10("EA"),
            (30_000, 1_500, 3_000),
            Some(6_000),
            (5, 10),
            express(11_000, 3_000, &ALL),
        ),
        channel(
            "SF-INTL",
            "SF Express",
            "International Standard Express",
            Express,
            TrackingFormat::SfExpress,
            (30_000, 1_200, 2_500),
            Some(5_000),
            (3, 7),
            express(13_000, 3_800, &[0, 1, 2, 3, 4]),
        ),
        channel(
            "UPS-SAVER",
            "UPS",
            "Worldwide Saver",
            Express,
            TrackingFormat::Ups {
                shipper: "W4X812".into(),
                service: "65".into(),
            },
            (70_000, 2_740, 3_300),
            Some(5_000),
            (2, 5),
            express(18_000, 4_500, &ALL),
        ),
        channel(
            "DHL-EXPRESS",
            "DHL",
            "Express Worldwide",
            Express,
            TrackingFormat::Dhl,
            (70_000, 1_200, 3_000),
            Some(5_000),
            (2, 4),
            banded(21_000, 5_000, 30, &ALL),
        ),
        channel(
            "FEDEX-IP",
            "FedEx",
            "International Priority",
            Express,
            TrackingFormat::Fedex,
            (68_000, 2_740, 3_300),
            Some(5_000),
            (2, 5),
            express(19_500, 4_800, &ALL),
        ),
        channel(
            "TNT-ECONOMY",
            "TNT",
            "Economy Express",
            Express,
            TrackingFormat::Tnt,
            (70_000, 2_400, 3_300),
            Some(5_000),
            (4, 7),
            express(12_500, 2_600, &[0, 1, 2, 3, 4]),
        ),
        channel(
            "TOLL-PRIORITY",
            "TOLL",
            "Priority International",
            Express,
            TrackingFormat::Toll {
                prefix: "TL".into(),
            },
            (35_000, 1_500, 2_800),
            Some(5_000),
            (4, 8),
            express(14_000, 3_200, &[0, 1, 4]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_domain::carrier_events::CodeFamily;

    #[test]
    fn every_channel_of_the_catalogue_names_a_family() {
        for c in demo_channels() {
            let f = CodeFamily::of_carrier(&c.carrier);
            assert!(f.is_some(), "{}", c.code);
            if c.carrier == "China Post" {
                assert_eq!(f, Some(CodeFamily::Upu), "{} (EMS too)", c.code);
            }
        }
    }

    #[test]
    fn every_catalogue_card_round_trips_through_csv() {
        let cny = waybill_domain::Currency::parse("CNY").unwrap();
        for c in demo_channels() {
            let csv = c.rate_card.to_csv(cny);
            let back = waybill_domain::rates::RateCard::from_csv(&csv, c.rate_card.round_to_g, cny)
                .unwrap_or_else(|e| panic!("{}: {e}", c.code));
            assert_eq!(back, c.rate_card, "{}", c.code);
        }
    }

    #[test]
    fn the_catalogue_is_sound() {
        let all = demo_channels();
        assert_eq!(all.len(), 9);
        for c in &all {
            c.rate_card
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", c.code));
            let first = c.tracking.issue(0).unwrap();
            assert!(c.tracking.accepts(&first), "{} issues {first}", c.code);
            match c.kind {
                ChannelKind::Postal => {
                    assert_eq!(c.max_weight_g, 2_000);
                    assert_eq!(c.volumetric_divisor, None);
                }
                ChannelKind::Express if c.code != "CNPOST-EMS" => {
                    assert_eq!(c.volumetric_divisor, Some(5_000), "{}", c.code)
                }
                ChannelKind::Express => {}
            }
        }
        assert!(ZONES.len() >= 5);
        let tracking: Vec<String> = all.iter().map(|c| c.tracking.issue(41).unwrap()).collect();
        assert!(tracking[0].starts_with("RR") && tracking[0].ends_with("CN"));
        assert!(tracking[4].starts_with("1ZW4X81265"));
        assert_eq!(tracking[5].len(), 10);
    }
}
