//! Rate cards: per destination zone, a first weight and additional steps or weight bands,
//! plus a per-piece fee. Prices are integer minor units of the card's currency.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pricing {
    /// `first` covers up to `first_g`; each further `step_g` (or part) adds `step`.
    Steps {
        first_g: i64,
        first: i64,
        step_g: i64,
        step: i64,
    },
    /// The first band whose `up_to_g` holds the weight sets the price.
    Bands { bands: Vec<Band> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub up_to_g: i64,
    pub price: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRate {
    pub zone: String,
    /// ISO 3166 alpha-2 codes served in this zone.
    pub countries: Vec<String>,
    pub pricing: Pricing,
    pub per_piece: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateCard {
    /// Chargeable weight is rounded up to this many grams before pricing.
    pub round_to_g: i64,
    pub zones: Vec<ZoneRate>,
}

/// How a price was made, for showing to the seller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub zone: String,
    pub base: i64,
    pub additional_steps: i64,
    pub additional: i64,
    pub per_piece: i64,
    pub total: i64,
}

pub enum PriceError {
    NotServed,
    TooHeavyForCard { max_g: i64 },
}

impl RateCard {
    pub fn zone_for(&self, country: &str) -> Option<&ZoneRate> {
        self.zones
            .iter()
            .find(|z| z.countries.iter().any(|c| c.eq_ignore_ascii_case(country)))
    }

    pub fn countries(&self) -> impl Iterator<Item = &str> {
        self.zones
            .iter()
            .flat_map(|z| z.countries.iter().map(String::as_str))
    }

    /// Price of a parcel of `chargeable_g` (already rounded) to `country`.
    pub fn price(&self, country: &str, chargeable_g: i64) -> Result<Breakdown, PriceError> {
        let z = self.zone_for(country).ok_or(PriceError::NotServed)?;
        let (base, steps, additional) = match &z.pricing {
            Pricing::Steps {
                first_g,
                first,
                step_g,
                step,
            } => {
                let over = (chargeable_g - first_g).max(0);
                let n = (over + step_g - 1) / step_g.max(&1);
                (*first, n, n * step)
            }
            Pricing::Bands { bands } => {
                let band = bands.iter().find(|b| chargeable_g <= b.up_to_g).ok_or(
                    PriceError::TooHeavyForCard {
                        max_g: bands.last().map(|b| b.up_to_g).unwrap_or(0),
                    },
                )?;
                (band.price, 0, 0)
            }
        };
        Ok(Breakdown {
            zone: z.zone.clone(),
            base,
            additional_steps: steps,
            additional,
            per_piece: z.per_piece,
            total: base + additional + z.per_piece,
        })
    }

    /// Checks the card makes sense: positive steps, bands rising in weight and price.
    pub fn validate(&self) -> Result<(), String> {
        if self.round_to_g < 1 {
            return Err("The rounding step must be at least 1 g.".into());
        }
        if self.zones.is_empty() {
            return Err("A rate card needs at least one zone.".into());
        }
        let mut seen = std::collections::HashSet::new();
        for z in &self.zones {
            if z.countries.is_empty() {
                return Err(format!("Zone {} serves no country.", z.zone));
            }
            for c in &z.countries {
                if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(format!(
                        "Zone {}: `{c}` is not an ISO country code.",
                        z.zone
                    ));
                }
                if !seen.insert(c.clone()) {
                    return Err(format!("{c} is in more than one zone."));
                }
            }
            if z.per_piece < 0 {
                return Err(format!("Zone {}: the per-piece fee is negative.", z.zone));
            }
            match &z.pricing {
                Pricing::Steps {
                    first_g,
                    first,
                    step_g,
                    step,
                } => {
                    if *first_g < 1 || *step_g < 1 || *first < 0 || *step < 0 {
                        return Err(format!(
                            "Zone {}: weights must be positive and prices not negative.",
                            z.zone
                        ));
                    }
                }
                Pricing::Bands { bands } => {
                    if bands.is_empty() {
                        return Err(format!("Zone {} has no weight bands.", z.zone));
                    }
                    for pair in bands.windows(2) {
                        if pair[1].up_to_g <= pair[0].up_to_g || pair[1].price < pair[0].price {
                            return Err(format!(
                                "Zone {}: bands must rise in weight and never fall in price.",
                                z.zone
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn card() -> RateCard {
        RateCard {
            round_to_g: 500,
            zones: vec![
                ZoneRate {
                    zone: "1".into(),
                    countries: vec!["JP".into(), "KR".into()],
                    pricing: Pricing::Steps {
                        first_g: 500,
                        first: 9_500,
                        step_g: 500,
                        step: 2_500,
                    },
                    per_piece: 800,
                },
                ZoneRate {
                    zone: "2".into(),
                    countries: vec!["US".into()],
                    pricing: Pricing::Bands {
                        bands: vec![
                            Band {
                                up_to_g: 500,
                                price: 12_000,
                            },
                            Band {
                                up_to_g: 2_000,
                                price: 20_000,
                            },
                        ],
                    },
                    per_piece: 0,
                },
            ],
        }
    }

    #[test]
    fn step_and_band_prices() {
        let c = card();
        assert!(c.validate().is_ok());
        let b = c.price("JP", 1_500).ok().unwrap();
        assert_eq!(
            (
                b.base,
                b.additional_steps,
                b.additional,
                b.per_piece,
                b.total
            ),
            (9_500, 2, 5_000, 800, 15_300)
        );
        assert_eq!(c.price("jp", 500).ok().unwrap().total, 10_300);
        assert_eq!(c.price("US", 501).ok().unwrap().total, 20_000);
        assert!(matches!(
            c.price("US", 2_001),
            Err(PriceError::TooHeavyForCard { max_g: 2_000 })
        ));
        assert!(matches!(c.price("BR", 100), Err(PriceError::NotServed)));
    }

    #[test]
    fn nonsense_cards_are_refused() {
        let mut c = card();
        c.zones[1].countries.push("JP".into());
        assert!(c.validate().unwrap_err().contains("more than one zone"));
        let mut c = card();
        c.zones[1].pricing = Pricing::Bands {
            bands: vec![
                Band {
                    up_to_g: 500,
                    price: 9,
                },
                Band {
                    up_to_g: 400,
                    price: 10,
                },
            ],
        };
        assert!(c.validate().is_err());
    }

    fn arb_card() -> impl Strategy<Value = RateCard> {
        let steps = (1i64..2000, 0i64..50_000, 1i64..2000, 0i64..20_000).prop_map(
            |(first_g, first, step_g, step)| Pricing::Steps {
                first_g,
                first,
                step_g,
                step,
            },
        );
        let bands = prop::collection::vec((1i64..2000, 0i64..10_000), 1..6).prop_map(|incs| {
            let (mut w, mut p) = (0, 0);
            Pricing::Bands {
                bands: incs
                    .into_iter()
                    .map(|(dw, dp)| {
                        w += dw;
                        p += dp;
                        Band {
                            up_to_g: w,
                            price: p,
                        }
                    })
                    .collect(),
            }
        });
        (1i64..1000, prop_oneof![steps, bands], 0i64..2000).prop_map(
            |(round_to_g, pricing, per_piece)| RateCard {
                round_to_g,
                zones: vec![ZoneRate {
                    zone: "Z".into(),
                    countries: vec!["DE".into()],
                    pricing,
                    per_piece,
                }],
            },
        )
    }

    proptest! {
        #[test]
        fn price_never_falls_as_weight_rises(card in arb_card(), a in 1i64..10_000, b in 1i64..10_000) {
            prop_assert!(card.validate().is_ok());
            let (lo, hi) = (a.min(b), a.max(b));
            if let (Ok(p_lo), Ok(p_hi)) = (card.price("DE", lo), card.price("DE", hi)) {
                prop_assert!(p_lo.total <= p_hi.total, "{} g costs {} but {} g costs {}", lo, p_lo.total, hi, p_hi.total);
            }
            // Too heavy for a lighter weight means too heavy for a heavier one too.
            if card.price("DE", lo).is_err() {
                prop_assert!(card.price("DE", hi).is_err());
            }
        }
    }
}

/// The rate-card CSV operators download and upload. One row per zone for step pricing; one
/// row per band for band pricing (countries and fee on the zone's first row). Prices are
/// decimals in the platform currency.
pub const CSV_HEADER: &str = "zone,countries,pricing,first_weight_g,first_price,step_weight_g,step_price,band_up_to_g,band_price,per_piece_fee";

impl RateCard {
    pub fn to_csv(&self, currency: super::Currency) -> String {
        let m = |minor: i64| super::Money::new(minor, currency).decimal();
        let mut out = format!("{CSV_HEADER}\n");
        for z in &self.zones {
            let countries = z.countries.join(" ");
            match &z.pricing {
                Pricing::Steps {
                    first_g,
                    first,
                    step_g,
                    step,
                } => out.push_str(&format!(
                    "{},{countries},steps,{first_g},{},{step_g},{},,,{}\n",
                    z.zone,
                    m(*first),
                    m(*step),
                    m(z.per_piece)
                )),
                Pricing::Bands { bands } => {
                    for (i, b) in bands.iter().enumerate() {
                        let (c, fee) = if i == 0 {
                            (countries.as_str(), m(z.per_piece))
                        } else {
                            ("", String::new())
                        };
                        out.push_str(&format!(
                            "{},{c},bands,,,,,{},{},{fee}\n",
                            z.zone,
                            b.up_to_g,
                            m(b.price)
                        ));
                    }
                }
            }
        }
        out
    }

    /// Reads an uploaded card; every problem names its line. The result is validated.
    pub fn from_csv(
        text: &str,
        round_to_g: i64,
        currency: super::Currency,
    ) -> Result<RateCard, String> {
        let text = super::text::text_file(text)?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| format!("The header could not be read: {e}"))?
            .clone();
        let want: Vec<&str> = CSV_HEADER.split(',').collect();
        let got: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
        if got != want {
            return Err(format!("The header must be exactly: {CSV_HEADER}"));
        }
        let mut zones: Vec<ZoneRate> = Vec::new();
        for (n, rec) in reader.records().enumerate() {
            let line = n + 2;
            let rec = rec.map_err(|e| format!("Line {line}: {e}"))?;
            let f = |i: usize| rec.get(i).unwrap_or("");
            if rec.iter().all(|c| c.is_empty()) {
                continue;
            }
            let int = |i: usize, what: &str| {
                f(i).parse::<i64>()
                    .map_err(|_| format!("Line {line}: {what} must be a whole number of grams."))
            };
            let money = |i: usize, what: &str| {
                if f(i).is_empty() {
                    return Ok(0);
                }
                super::Money::parse_decimal(f(i), currency)
                    .map(|m| m.minor)
                    .map_err(|e| format!("Line {line}: {what}: {e}"))
            };
            let zone = super::required_text(f(0), "zone name", 60)
                .map_err(|e| format!("Line {line}: {e}"))?;
            let countries: Vec<String> = f(1)
                .split([' ', ';', '|'])
                .filter(|c| !c.is_empty())
                .map(|c| c.to_ascii_uppercase())
                .collect();
            match f(2) {
                "steps" => zones.push(ZoneRate {
                    zone,
                    countries,
                    pricing: Pricing::Steps {
                        first_g: int(3, "first_weight_g")?,
                        first: money(4, "first_price")?,
                        step_g: int(5, "step_weight_g")?,
                        step: money(6, "step_price")?,
                    },
                    per_piece: money(9, "per_piece_fee")?,
                }),
                "bands" => {
                    let band = Band {
                        up_to_g: int(7, "band_up_to_g")?,
                        price: money(8, "band_price")?,
                    };
                    match zones.last_mut() {
                        Some(z) if z.zone == zone => match &mut z.pricing {
                            Pricing::Bands { bands } => bands.push(band),
                            Pricing::Steps { .. } => {
                                return Err(format!(
                                    "Line {line}: zone {zone} mixes steps and bands."
                                ));
                            }
                        },
                        _ => zones.push(ZoneRate {
                            zone,
                            countries,
                            pricing: Pricing::Bands { bands: vec![band] },
                            per_piece: money(9, "per_piece_fee")?,
                        }),
                    }
                }
                other => {
                    return Err(format!(
                        "Line {line}: pricing must be `steps` or `bands`, not `{other}`."
                    ));
                }
            }
        }
        let card = RateCard { round_to_g, zones };
        card.validate()?;
        Ok(card)
    }
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[test]
    fn bad_cards_name_the_line() {
        let cny = crate::Currency::parse("CNY").unwrap();
        let bad = format!("{CSV_HEADER}\nEurope,DE FR,steps,500,abc,500,25,,,0\n");
        assert!(
            RateCard::from_csv(&bad, 500, cny)
                .unwrap_err()
                .starts_with("Line 2: first_price")
        );
        assert!(
            RateCard::from_csv("zone,countries\n", 500, cny)
                .unwrap_err()
                .contains("header")
        );
        let falling = format!("{CSV_HEADER}\nUS,US,bands,,,,,500,100,0\nUS,,bands,,,,,1000,90,\n");
        assert!(
            RateCard::from_csv(&falling, 500, cny)
                .unwrap_err()
                .contains("never fall")
        );
        let nul = format!(
            "{CSV_HEADER}\nEurope,DE FR,steps,500,10,500,25,,,0\nAsia\u{0},JP,steps,500,10,500,25,,,0\n"
        );
        let e = RateCard::from_csv(&nul, 500, cny).unwrap_err();
        assert!(
            e.starts_with("Line 3 holds a control character (U+0000)"),
            "{e}"
        );
        let unnamed = format!("{CSV_HEADER}\n\u{200B},DE,steps,500,10,500,25,,,0\n");
        let e = RateCard::from_csv(&unnamed, 500, cny).unwrap_err();
        assert_eq!(e, "Line 2: Enter the zone name.");
    }
}
