//! Reading a shipments CSV: its columns, the sample file, the encoding (UTF-8 or GBK) and
//! each row parsed into a booking, with errors named by the file's own columns.

use crate::services::booking::BookingInput;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use waybill_domain::ParcelInput;
use waybill_domain::address::AddressInput;
use waybill_domain::customs::{CustomsInput, CustomsItemInput, MAX_ITEMS};

pub const MAX_ROWS: usize = 5_000;

/// The documented columns, in the order of the sample file.
pub const COLUMNS: [(&str, &str); 27] = [
    (
        "reference",
        "required: your order number; importing the same reference again books nothing new. \
         A shipment with several items takes one row per item, each with the same reference: \
         the first row gives the shipment, the next ones need only the item_ columns (up to 20 items)",
    ),
    ("channel", "required: a channel code, e.g. CNPOST-RAM"),
    ("recipient_name", "required, Latin letters"),
    ("recipient_company", "optional"),
    ("recipient_street1", "required"),
    ("recipient_street2", "optional"),
    ("recipient_city", "required"),
    ("recipient_state", "optional"),
    ("recipient_postal_code", "required, in the country's format"),
    ("recipient_country", "required, ISO code like US"),
    ("recipient_phone", "required"),
    ("recipient_email", "optional"),
    ("weight_g", "required, grams"),
    ("length_mm", "required, millimetres"),
    ("width_mm", "required, millimetres"),
    ("height_mm", "required, millimetres"),
    (
        "contents_type",
        "merchandise, gift, documents, sample, return or other",
    ),
    ("item_description", "required, English"),
    ("item_quantity", "required"),
    ("item_unit_value", "required, decimal like 12.50"),
    ("item_currency", "required, e.g. USD"),
    ("item_weight_g", "required, grams per unit"),
    ("item_hs_code", "required, 6 to 10 digits"),
    ("item_origin_country", "required, ISO code like CN"),
    (
        "ioss",
        "optional: your IOSS number (IM + 10 digits), expected for EU parcels worth €150 or less",
    ),
    ("vat_number", "optional: your VAT number, like DE123456789"),
    ("eori", "optional: your EORI number"),
];

/// Columns of an item: on rows that repeat a reference these add an item, the rest must
/// be blank or the same as on the reference's first row.
const ITEM_COLUMNS: [&str; 7] = [
    "item_description",
    "item_quantity",
    "item_unit_value",
    "item_currency",
    "item_weight_g",
    "item_hs_code",
    "item_origin_country",
];

pub fn sample_csv() -> String {
    let header: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    let rows = [
        "ORD-1001,CNPOST-RAM,Anna Müller,,Friedrichstraße 12,,Berlin,,10117,DE,+49 30 1234567,anna@example.de,455,200,150,50,merchandise,LED desk lamp,1,24.90,USD,400,940520,CN,,,",
        "ORD-1002,UPS-SAVER,John Smith,Acme Inc,1 Market St,Suite 300,San Francisco,CA,94105,US,+1 415 555 0100,,1200,300,200,100,merchandise,Silk scarf,2,15.00,USD,300,621410,CN,,,",
    ];
    format!("{}\n{}\n", header.join(","), rows.join("\n"))
}

/// One data row: its line number, reference, what it would book, and its problems.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub line: usize,
    pub reference: String,
    pub channel: String,
    pub recipient: String,
    pub price: Option<i64>,
    pub errors: Vec<String>,
    /// The tracking number of the open shipment that already has this reference: the row
    /// books nothing (re-importing a file is safe).
    #[serde(default)]
    pub already_booked: Option<String>,
    /// Number columns holding something that is not a whole number (reported as such, not as
    /// "required").
    #[serde(default)]
    pub not_numbers: Vec<String>,
    #[serde(skip)]
    pub input: BookingInput,
}

impl Row {
    /// Whether booking would make a new shipment of this row.
    pub fn bookable(&self) -> bool {
        self.errors.is_empty() && self.already_booked.is_none()
    }
}

fn get<'a>(rec: &'a csv::StringRecord, idx: &BTreeMap<&str, usize>, col: &str) -> &'a str {
    idx.get(col)
        .and_then(|i| rec.get(*i))
        .map(str::trim)
        .unwrap_or("")
}

fn opt(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.is_empty())
}

fn num(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// The columns read as whole numbers.
const NUMBER_COLUMNS: [&str; 6] = [
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "item_quantity",
    "item_weight_g",
];

/// The number columns of a line that hold text, with a message for each.
fn not_numbers(g: &dyn Fn(&str) -> String, line: usize) -> Vec<(String, String)> {
    NUMBER_COLUMNS
        .iter()
        .filter_map(|c| {
            let v = g(c);
            (!v.trim().is_empty() && num(&v).is_none()).then(|| {
                (
                    c.to_string(),
                    format!("{c}: “{}” on line {line} is not a whole number", v.trim()),
                )
            })
        })
        .collect()
}

/// The file's text: UTF-8 (with or without a byte-order mark) when it is valid UTF-8,
/// else GB18030 (a superset of GBK, what Excel in China saves as "CSV").
pub fn decode(data: &[u8]) -> Result<String, String> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if let Ok(t) = std::str::from_utf8(data) {
        return Ok(t.to_string());
    }
    let (text, _, malformed) = encoding_rs::GB18030.decode(data);
    if malformed {
        return Err(
            "The file is neither UTF-8 nor GBK text. Save it as CSV (UTF-8 or GBK) and upload again."
                .into(),
        );
    }
    Ok(text.into_owned())
}

fn item_of(g: &dyn Fn(&str) -> String) -> CustomsItemInput {
    CustomsItemInput {
        description: g("item_description"),
        quantity: num(&g("item_quantity")),
        unit_value: serde_json::Value::String(g("item_unit_value")),
        currency: g("item_currency"),
        weight_g: num(&g("item_weight_g")),
        hs_code: g("item_hs_code"),
        origin_country: g("item_origin_country"),
    }
}

/// Reads the file; a missing required column or an unreadable file is an error for the whole upload.
pub fn parse(data: &[u8]) -> Result<Vec<Row>, String> {
    let text = decode(data)?;
    let text = waybill_domain::text::text_file(&text)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("The file's header could not be read: {e}"))?
        .clone();
    let idx: BTreeMap<&str, usize> = COLUMNS
        .iter()
        .filter_map(|(c, _)| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(c))
                .map(|i| (*c, i))
        })
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|(c, doc)| doc.starts_with("required") && !idx.contains_key(c))
        .map(|(c, _)| *c)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "These columns are missing: {}. Start from the sample file.",
            missing.join(", ")
        ));
    }
    let mut rows: Vec<Row> = Vec::new();
    // The first row of each reference, by reference: later rows add items to it.
    let mut firsts: BTreeMap<String, (usize, csv::StringRecord)> = BTreeMap::new();
    for (n, rec) in reader.records().enumerate() {
        let line = n + 2;
        let rec = rec.map_err(|e| format!("Line {line} could not be read: {e}"))?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let g = |c: &str| get(&rec, &idx, c).to_string();
        let reference = g("reference");
        if let Some((at, first)) = firsts.get(&reference) {
            let same_shipment = COLUMNS
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| !ITEM_COLUMNS.contains(c))
                .all(|c| {
                    let v = get(&rec, &idx, c);
                    v.is_empty() || v == get(first, &idx, c)
                });
            if same_shipment {
                let row = &mut rows[*at];
                for (c, msg) in not_numbers(&g, line) {
                    row.not_numbers.push(c);
                    row.errors.push(msg);
                }
                row.input.customs.items.push(item_of(&g));
                if row.input.customs.items.len() == MAX_ITEMS + 1 {
                    row.errors.push(format!(
                        "reference: {reference} has more than {MAX_ITEMS} items (line {line})"
                    ));
                }
                continue;
            }
        }
        if rows.len() == MAX_ROWS {
            return Err(format!(
                "At most {MAX_ROWS} rows per file; split it and upload the parts."
            ));
        }
        let input = BookingInput {
            channel: g("channel"),
            sender_address_id: None,
            recipient: AddressInput {
                name: g("recipient_name"),
                company: opt(&g("recipient_company")),
                street1: g("recipient_street1"),
                street2: opt(&g("recipient_street2")),
                district: None,
                city: g("recipient_city"),
                state: opt(&g("recipient_state")),
                postal_code: g("recipient_postal_code"),
                country: g("recipient_country"),
                phone: g("recipient_phone"),
                email: opt(&g("recipient_email")),
                latin: None,
            },
            parcel: ParcelInput {
                weight_g: num(&g("weight_g")),
                length_mm: num(&g("length_mm")),
                width_mm: num(&g("width_mm")),
                height_mm: num(&g("height_mm")),
            },
            reference: opt(&reference),
            quote_id: None,
            allow_duplicate_reference: false,
            customs: CustomsInput {
                contents_type: opt(&g("contents_type")).unwrap_or_else(|| "merchandise".into()),
                items: vec![item_of(&g)],
                ioss: opt(&g("ioss")),
                vat_number: opt(&g("vat_number")),
                eori: opt(&g("eori")),
            },
        };
        if !reference.is_empty() && !firsts.contains_key(&reference) {
            firsts.insert(reference.clone(), (rows.len(), rec.clone()));
        }
        let bad = not_numbers(&g, line);
        rows.push(Row {
            line,
            not_numbers: bad.iter().map(|(c, _)| c.clone()).collect(),
            errors: bad.into_iter().map(|(_, m)| m).collect(),
            reference,
            channel: g("channel").to_ascii_uppercase(),
            recipient: format!(
                "{}, {} {}",
                g("recipient_name"),
                g("recipient_city"),
                g("recipient_country")
            ),
            price: None,
            already_booked: None,
            input,
        });
    }
    if rows.is_empty() {
        return Err("The file has no data rows.".into());
    }
    Ok(rows)
}

/// A readable line per field error ("recipient postal code: …").
/// Each field error under the file's own column name (`recipient.postal_code` is
/// `recipient_postal_code`, `customs.items.2.hs_code` is `item_hs_code (item 3)`), skipping
/// the number columns already reported as not numbers.
pub(super) fn describe(errors: &BTreeMap<String, String>, skip: &[String]) -> Vec<String> {
    errors
        .iter()
        .filter_map(|(k, v)| {
            let (column, item) = match k
                .strip_prefix("customs.items.")
                .and_then(|r| r.split_once('.'))
            {
                Some((n, f)) => (
                    format!("item_{f}"),
                    Some(n.parse::<usize>().map_or(1, |n| n + 1)),
                ),
                None => (
                    k.strip_prefix("parcel.")
                        .or_else(|| k.strip_prefix("customs."))
                        .map(str::to_string)
                        .unwrap_or_else(|| k.replace('.', "_")),
                    None,
                ),
            };
            if skip.contains(&column) {
                return None;
            }
            Some(match item {
                Some(n) => format!("{column} (item {n}): {v}"),
                None => format!("{column}: {v}"),
            })
        })
        .collect()
}
