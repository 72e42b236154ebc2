//! The CN23 commercial invoice that goes with an express label, laid out in fixed columns:
//! every text is wrapped or shrunk to its column's measured width, so nothing runs into
//! its neighbour, whatever the script or length.

use super::Label;
use crate::pen::{Pen, black, fit_size, text_width, wrap};
use waybill_domain::{Currency, Money};

/// Columns of the address block (x, width), in millimetres.
const SENDER_COL: (f32, f32) = (4.0, 45.0);
const RECIPIENT_COL: (f32, f32) = (52.0, 44.0);
/// Columns of the item table: quantity, description / HS / origin, unit value, weight.
const QTY_COL: (f32, f32) = (4.0, 7.0);
const DESC_COL: (f32, f32) = (12.0, 48.0);
const VALUE_COL: (f32, f32) = (62.0, 19.0);
const WEIGHT_COL: (f32, f32) = (83.0, 13.0);

fn mm_per_pt() -> f32 {
    25.4 / 72.0
}

/// Writes `s` right-aligned in a column, shrunk to fit its width.
fn right(pen: &mut Pen, col: (f32, f32), y: f32, size: f32, s: &str) {
    let size = fit_size(s, size, size * 0.6, col.1);
    let w = text_width(s, size).min(col.1);
    pen.text(col.0 + col.1 - w, y, size, s);
}

pub(super) fn draw_invoice(pen: &mut Pen, l: &Label) {
    black(pen);
    pen.text(4.0, 140.0, 12.0, "COMMERCIAL INVOICE (CN 23)");
    pen.text_fit(
        4.0,
        133.0,
        8.0,
        92.0,
        &format!(
            "Waybill {}   {} {}",
            l.tracking_number, l.carrier, l.service
        ),
    );
    pen.text_fit(
        4.0,
        128.0,
        8.0,
        92.0,
        &format!(
            "Date {}   Contents {}   Ref {}",
            l.booked, l.customs.contents_type, l.reference
        ),
    );
    draw_parties(pen, l);
    pen.line(2.0, 89.5, 96.0);
    draw_items(pen, l);
    pen.line(2.0, 22.0, 96.0);
    pen.text_fit(
        4.0,
        17.0,
        8.0,
        92.0,
        &format!(
            "Total value {}   Total weight {}",
            l.customs_value, l.customs_weight
        ),
    );
    pen.text_fit(
        4.0,
        8.0,
        8.0,
        92.0,
        "I certify the particulars given in this declaration are correct.",
    );
    pen.text(
        4.0,
        3.5,
        8.0,
        "Signature ____________________   Date ____________",
    );
}

/// Sender (Latin, then as written locally, smaller) and recipient side by side, with the
/// IOSS, VAT and EORI numbers under them.
fn draw_parties(pen: &mut Pen, l: &Label) {
    pen.text(SENDER_COL.0, 121.0, 7.0, "SENDER");
    pen.text(RECIPIENT_COL.0, 121.0, 7.0, "RECIPIENT");
    let numbers: Vec<String> = [
        ("IOSS", &l.customs.ioss),
        ("VAT", &l.customs.vat_number),
        ("EORI", &l.customs.eori),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
    .collect();
    let block_bottom = if numbers.is_empty() { 92.0 } else { 95.0 };
    // One block, so that the local lines shrink with the Latin ones rather than fall off.
    let sender: Vec<String> = l
        .sender_full
        .iter()
        .chain(l.sender_local.as_ref())
        .cloned()
        .collect();
    pen.block(
        SENDER_COL.0,
        117.0,
        block_bottom,
        SENDER_COL.1,
        7.0,
        4.5,
        &sender,
    );
    pen.block(
        RECIPIENT_COL.0,
        117.0,
        block_bottom,
        RECIPIENT_COL.1,
        7.0,
        5.0,
        &l.recipient,
    );
    if !numbers.is_empty() {
        pen.text_fit(4.0, 91.5, 7.0, 92.0, &numbers.join("   "));
    }
}

/// The item table: each row as tall as its wrapped description; the text shrinks until every
/// item fits above the totals, and items that still do not fit are counted.
fn draw_items(pen: &mut Pen, l: &Label) {
    let head = 6.0;
    pen.text(QTY_COL.0, 86.0, head, "Qty");
    pen.text(DESC_COL.0, 86.0, head, "Description / HS code / origin");
    right(pen, VALUE_COL, 86.0, head, "Unit value");
    right(pen, WEIGHT_COL, 86.0, head, "Weight");
    let rows: Vec<(String, String, String, String)> = l
        .customs
        .items
        .iter()
        .map(|item| {
            let value = Currency::parse(&item.currency)
                .map(|c| Money::new(item.unit_value, c).to_string())
                .unwrap_or_default();
            (
                item.quantity.to_string(),
                format!(
                    "{} / HS {} / {}",
                    item.description, item.hs_code, item.origin_country
                ),
                value,
                format!("{} g", item.weight_g),
            )
        })
        .collect();
    let (top, bottom) = (82.0, 25.0);
    let mut size = 6.5;
    let height = |size: f32| -> f32 {
        rows.iter()
            .map(|r| wrap(&r.1, size, DESC_COL.1).len().max(1) as f32 * size * mm_per_pt() * 1.2)
            .sum()
    };
    while size > 4.5 && height(size) > top - bottom {
        size -= 0.5;
    }
    let leading = size * mm_per_pt() * 1.2;
    let mut y_row = top;
    for (i, (qty, desc, value, weight)) in rows.iter().enumerate() {
        let lines = wrap(desc, size, DESC_COL.1);
        let needed = lines.len().max(1) as f32 * leading;
        if y_row - needed < bottom - leading {
            pen.text(
                DESC_COL.0,
                y_row,
                size,
                &format!("… and {} more items", rows.len() - i),
            );
            break;
        }
        right(pen, QTY_COL, y_row, size, qty);
        for (j, line) in lines.iter().enumerate() {
            pen.text(DESC_COL.0, y_row - j as f32 * leading, size, line);
        }
        right(pen, VALUE_COL, y_row, size, value);
        right(pen, WEIGHT_COL, y_row, size, weight);
        y_row -= needed;
    }
}
