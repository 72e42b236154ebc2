//! The booking form as typed: its fields, read into a booking (field errors named as the form
//! names them), and filled again from a shipment or a rejected submit.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use waybill_app::services::booking::BookingInput;
use waybill_app::services::shipments::Shipment;
use waybill_domain::ParcelInput;
use waybill_domain::address::AddressInput;
use waybill_domain::customs::{CustomsInput, CustomsItemInput, MAX_ITEMS};

/// Item rows a new form shows; "Add item" adds one more, up to the customs maximum.
const ITEM_ROWS: usize = 3;

/// The booking form as posted: every field a string, units a person uses (kg, cm).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct ShipmentForm {
    pub sender_address_id: String,
    pub recipient_name: String,
    pub recipient_company: String,
    pub recipient_street1: String,
    pub recipient_street2: String,
    pub recipient_city: String,
    pub recipient_state: String,
    pub recipient_postal_code: String,
    pub recipient_country: String,
    pub recipient_phone: String,
    pub recipient_email: String,
    pub weight_kg: String,
    pub length_cm: String,
    pub width_cm: String,
    pub height_cm: String,
    pub reference: String,
    /// "1" when the seller books a reference that is already booked, on purpose.
    pub book_again: String,
    pub contents_type: String,
    pub ioss: String,
    pub vat_number: String,
    pub eori: String,
    /// How many item rows the form showed (without JavaScript, "Add item" re-renders
    /// the form with one more).
    pub item_rows: String,
    pub channel: String,
    pub action: String,
    /// One per rendered form: the idempotency key, so a double submit books once.
    pub form_key: String,
    /// Customs item rows: `item1_description`, `item2_hs_code`, … (all strings, so `flatten`
    /// can read them from a url-encoded form).
    #[serde(flatten)]
    pub items: BTreeMap<String, String>,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

const ITEM_FIELDS: [&str; 7] = [
    "description",
    "quantity",
    "value",
    "currency",
    "weight_g",
    "hs_code",
    "origin",
];

impl ShipmentForm {
    /// Item rows to show: as many as the form had, and at least up to the last filled one.
    pub fn row_count(&self) -> usize {
        let shown = self.item_rows.trim().parse().unwrap_or(ITEM_ROWS);
        let filled = (0..MAX_ITEMS)
            .rev()
            .find(|i| self.row_filled(*i))
            .map_or(0, |i| i + 1);
        shown.max(filled).clamp(1, MAX_ITEMS)
    }

    fn row_filled(&self, i: usize) -> bool {
        ["description", "quantity", "value", "weight_g", "hs_code"]
            .iter()
            .any(|f| !self.item(i, f).trim().is_empty())
    }

    /// "Add item" and "Remove" buttons: change the rows and say whether the form should
    /// simply be shown again.
    pub fn edit_rows(&mut self) -> bool {
        let rows = self.row_count();
        if self.action == "add_item" {
            self.item_rows = (rows + 1).min(MAX_ITEMS).to_string();
            return true;
        }
        let Some(n) = self
            .action
            .strip_prefix("remove_item_")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=rows).contains(n))
        else {
            return false;
        };
        // Rows after the removed one move up by one.
        for i in n..rows {
            for f in ITEM_FIELDS {
                let next = self.item(i, f).to_string();
                self.items.insert(format!("item{i}_{f}"), next);
            }
        }
        for f in ITEM_FIELDS {
            self.items.remove(&format!("item{rows}_{f}"));
        }
        self.item_rows = (rows - 1).max(1).to_string();
        true
    }

    /// Field `name` of item row `i` (0-based).
    pub fn item(&self, i: usize, name: &str) -> &str {
        self.items
            .get(&format!("item{}_{name}", i + 1))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The API's input from the form; unit errors are reported under the form's names.
    pub fn to_input(&self, errors: &mut BTreeMap<String, String>) -> BookingInput {
        let mut unit = |field: &str, raw: &str, scale: u32, what: &str| {
            if raw.trim().is_empty() {
                return None;
            }
            let v = waybill_domain::decimal::scaled(raw, scale);
            if v.is_none() {
                errors.insert(
                    field.into(),
                    format!(
                        "Enter the {what} as a number, like {}.",
                        if scale == 3 { "0.45" } else { "20" }
                    ),
                );
            }
            v
        };
        let parcel = ParcelInput {
            weight_g: unit("weight_kg", &self.weight_kg, 3, "weight in kg"),
            length_mm: unit("length_cm", &self.length_cm, 1, "length in cm"),
            width_mm: unit("width_cm", &self.width_cm, 1, "width in cm"),
            height_mm: unit("height_cm", &self.height_cm, 1, "height in cm"),
        };
        let items = (0..MAX_ITEMS)
            .filter(|i| self.row_filled(*i))
            .map(|i| CustomsItemInput {
                description: self.item(i, "description").into(),
                quantity: self.item(i, "quantity").trim().parse().ok(),
                unit_value: serde_json::Value::String(self.item(i, "value").into()),
                currency: self.item(i, "currency").into(),
                weight_g: self.item(i, "weight_g").trim().parse().ok(),
                hs_code: self.item(i, "hs_code").into(),
                origin_country: self.item(i, "origin").into(),
            })
            .collect();
        BookingInput {
            channel: self.channel.clone(),
            sender_address_id: opt(&self.sender_address_id),
            recipient: AddressInput {
                name: self.recipient_name.clone(),
                company: opt(&self.recipient_company),
                street1: self.recipient_street1.clone(),
                street2: opt(&self.recipient_street2),
                district: None,
                city: self.recipient_city.clone(),
                state: opt(&self.recipient_state),
                postal_code: self.recipient_postal_code.clone(),
                country: self.recipient_country.clone(),
                phone: self.recipient_phone.clone(),
                email: opt(&self.recipient_email),
                latin: None,
            },
            parcel,
            reference: opt(&self.reference),
            allow_duplicate_reference: !self.book_again.is_empty(),
            quote_id: None,
            customs: CustomsInput {
                contents_type: self.contents_type.clone(),
                items,
                ioss: opt(&self.ioss),
                vat_number: opt(&self.vat_number),
                eori: opt(&self.eori),
            },
        }
    }
}

/// The form's name for an API field name (`recipient.city` → `recipient_city`).
pub fn form_field(api: &str) -> String {
    match api {
        "parcel.weight_g" => "weight_kg".into(),
        "parcel.length_mm" => "length_cm".into(),
        "parcel.width_mm" => "width_cm".into(),
        "parcel.height_mm" => "height_cm".into(),
        "customs.contents_type" => "contents_type".into(),
        "customs.items" => "items".into(),
        "customs.ioss" => "ioss".into(),
        "customs.vat_number" => "vat_number".into(),
        "customs.eori" => "eori".into(),
        other => {
            if let Some(rest) = other.strip_prefix("customs.items.") {
                if let Some((n, f)) = rest.split_once('.') {
                    let row = n.parse::<usize>().map(|n| n + 1).unwrap_or(1);
                    let f = match f {
                        "unit_value" => "value",
                        "origin_country" => "origin",
                        f => f,
                    };
                    return format!("item{row}_{f}");
                }
            }
            other.replace('.', "_")
        }
    }
}

impl ShipmentForm {
    /// The form filled from an earlier shipment (a held parcel booked again), with the parcel
    /// as the warehouse measured it. No channel is chosen: the seller picks one from fresh
    /// quotes.
    pub(super) fn from_shipment(s: &Shipment, parcel: &waybill_domain::Parcel) -> ShipmentForm {
        let customs = &s.customs;
        let mut items = BTreeMap::new();
        for (i, it) in customs.items.iter().enumerate() {
            let n = i + 1;
            let value = waybill_domain::Currency::parse(&it.currency)
                .map(|c| waybill_domain::Money::new(it.unit_value, c).decimal())
                .unwrap_or_default();
            for (f, v) in [
                ("description", it.description.clone()),
                ("quantity", it.quantity.to_string()),
                ("value", value),
                ("currency", it.currency.clone()),
                ("weight_g", it.weight_g.to_string()),
                ("hs_code", it.hs_code.clone()),
                ("origin", it.origin_country.clone()),
            ] {
                items.insert(format!("item{n}_{f}"), v);
            }
        }
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        ShipmentForm {
            recipient_name: s.recipient_name.clone(),
            recipient_company: o(&s.recipient_company),
            recipient_street1: s.recipient_street1.clone(),
            recipient_street2: o(&s.recipient_street2),
            recipient_city: s.recipient_city.clone(),
            recipient_state: o(&s.recipient_state),
            recipient_postal_code: s.recipient_postal_code.clone(),
            recipient_country: s.recipient_country.clone(),
            recipient_phone: s.recipient_phone.clone(),
            recipient_email: o(&s.recipient_email),
            weight_kg: thousandths(parcel.weight_g, 1000),
            length_cm: thousandths(parcel.length_mm, 10),
            width_cm: thousandths(parcel.width_mm, 10),
            height_cm: thousandths(parcel.height_mm, 10),
            reference: o(&s.reference),
            contents_type: customs.contents_type.clone(),
            ioss: o(&customs.ioss),
            vat_number: o(&customs.vat_number),
            eori: o(&customs.eori),
            item_rows: customs.items.len().max(1).to_string(),
            items,
            ..ShipmentForm::default()
        }
    }
}

/// The API's conflict messages say "book with its id"; the form re-quotes by itself.
pub(super) fn message_for_form(api: &str) -> String {
    if api.starts_with("Reference ") {
        return format!(
            "{api} To book it again anyway, tick \"Book again\" next to the reference."
        );
    }
    "Nothing was charged: the parcel, destination or channel changed since you were quoted, or the quote expired. Here are the prices for the parcel as it is now — choose one and book again.".into()
}

/// A number of thousandths as a person types it: 1500 → "1.5", 2000 → "2".
fn thousandths(n: i64, scale: i64) -> String {
    let whole = n / scale;
    let frac = n % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = scale.to_string().len() - 1;
    let f = format!("{frac:0digits$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}
