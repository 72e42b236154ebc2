//! The PDF label, drawn with printpdf. Coordinates are millimetres from the label's bottom
//! left, mapped onto the page by `Pen` (which also scales a label down to A6 for A4 sheets).

use printpdf::{Mm, PdfDocument, PdfPage, PdfSaveOptions};

use super::{Label, Size};
use crate::pen::{FontIds, LABEL_H, LABEL_W, Pen, black, fonts, module_for};
use waybill_domain::channel::ChannelKind;

fn draw_label(pen: &mut Pen, l: &Label) {
    black(pen);
    // Header: carrier and service, destination large.
    pen.text(4.0, 143.0, 10.0, &l.carrier);
    pen.text(4.0, 138.0, 8.0, &l.service);
    pen.text(70.0, 136.0, 34.0, &l.country);
    pen.text(70.0, 131.0, 10.0, &l.postal_code);
    pen.line(2.0, 129.0, 96.0);
    // Recipient: the largest text; lines closer and smaller when there are many.
    pen.text(4.0, 125.0, 7.0, "TO");
    let n = l.recipient.len().max(2) as f32;
    let step = (33.5 / (n - 1.0)).min(5.0);
    let size = 11.0 * step / 5.0;
    for (i, line) in l.recipient.iter().enumerate() {
        let first = if i == 0 { size + 2.0 } else { size };
        pen.text_fit(4.0, 119.5 - i as f32 * step, first, 92.0, line);
    }
    pen.line(2.0, 84.0, 96.0);
    // Tracking barcode with its number below.
    let module = module_for(&l.tracking_number, 96.0);
    let width = code128::Code128::encode_str(&l.tracking_number)
        .map(|c| c.len())
        .unwrap_or(0) as f32
        * module;
    let left = ((LABEL_W - width) / 2.0).max(2.0);
    pen.barcode(left, 66.0, 16.0, &l.tracking_number, module);
    pen.text(25.0, 61.0, 12.0, &l.tracking_number);
    pen.line(2.0, 58.5, 96.0);
    // Sender in Latin script, then as written locally for the collecting courier.
    pen.text(4.0, 54.5, 6.0, "FROM");
    for (i, line) in l.sender.iter().take(5).enumerate() {
        pen.text_fit(4.0, 50.5 - i as f32 * 3.3, 7.5, 92.0, line);
    }
    if let Some(local) = &l.sender_local {
        pen.text_fit(4.0, 33.8, 6.5, 92.0, local);
    }
    pen.text(
        4.0,
        30.0,
        8.0,
        &format!("Weight {}   Booked {}", l.weight, l.booked),
    );
    if !l.reference.is_empty() {
        pen.text_fit(4.0, 26.8, 8.0, 92.0, &format!("Ref {}", l.reference));
    }
    // Public tracking QR code, bottom right.
    pen.qr(74.0, 3.0, 0.625, &l.tracking_url);
    // Postal lines carry the CN22 declaration.
    if l.kind == ChannelKind::Postal {
        pen.line(2.0, 25.0, 68.0);
        pen.text(
            4.0,
            21.5,
            7.0,
            &format!(
                "CUSTOMS DECLARATION CN 22 · {}",
                l.customs.contents_type.to_uppercase()
            ),
        );
        let shown = if l.customs.items.len() > 3 { 2 } else { 3 };
        for (i, item) in l.customs.items.iter().take(shown).enumerate() {
            pen.text_fit(
                4.0,
                18.0 - i as f32 * 3.0,
                6.0,
                68.0,
                &format!(
                    "{} × {}  HS {}  {}  {} g",
                    item.quantity,
                    item.description,
                    item.hs_code,
                    item.origin_country,
                    item.weight_g
                ),
            );
        }
        if l.customs.items.len() > shown {
            pen.text(
                4.0,
                12.0,
                6.0,
                &format!("+ {} more items", l.customs.items.len() - shown),
            );
        }
        pen.text_fit(
            4.0,
            8.5,
            6.0,
            68.0,
            &format!(
                "Total value {}   Total weight {}",
                l.customs_value, l.customs_weight
            ),
        );
        pen.text(
            4.0,
            4.0,
            6.0,
            &format!("Date {}   Signature ______________", l.booked),
        );
    }
}

/// One PDF with every label: 4 × 6 (one a page, express labels followed by their invoice)
/// or A4 (four cells a page at A6 size; an express label's invoice in the cell after it).
pub fn render_pdf(labels: &[Label], size: Size) -> Result<Vec<u8>, String> {
    let parsed = fonts().ok_or("the label fonts could not be read")?;
    let mut doc = PdfDocument::new("Waybill labels");
    let ids = FontIds {
        latin: doc.add_font(&parsed.latin),
        cjk: doc.add_font(&parsed.cjk),
    };
    let mut pages = Vec::new();
    let new_pen = |x0, y0, scale| Pen {
        ops: Vec::new(),
        fonts: &ids,
        x0,
        y0,
        scale,
    };
    match size {
        Size::FourBySix => {
            for l in labels {
                let mut pen = new_pen(0.0, 0.0, 1.0);
                draw_label(&mut pen, l);
                pages.push(PdfPage::new(Mm(LABEL_W), Mm(LABEL_H), pen.ops));
                if l.kind == ChannelKind::Express {
                    let mut pen = new_pen(0.0, 0.0, 1.0);
                    super::cn23::draw_invoice(&mut pen, l);
                    pages.push(PdfPage::new(Mm(LABEL_W), Mm(LABEL_H), pen.ops));
                }
            }
        }
        Size::A4 => {
            // A6 is exactly a quarter of A4: 105 × 148.5 mm cells, the label scaled to fit.
            let scale = 148.0 / LABEL_H;
            let cells = [(0.0, 148.5), (105.0, 148.5), (0.0, 0.0), (105.0, 0.0)];
            // Each express label's invoice takes the next cell, so it follows its label.
            let cells_of: Vec<(&Label, bool)> = labels
                .iter()
                .flat_map(|l| {
                    let invoice = (l.kind == ChannelKind::Express).then_some((l, true));
                    std::iter::once((l, false)).chain(invoice)
                })
                .collect();
            for chunk in cells_of.chunks(4) {
                let mut ops = Vec::new();
                for (&(l, invoice), (cx, cy)) in chunk.iter().zip(cells) {
                    let mut pen = new_pen(cx + 1.5, cy + 0.25, scale);
                    if invoice {
                        super::cn23::draw_invoice(&mut pen, l);
                    } else {
                        draw_label(&mut pen, l);
                    }
                    ops.extend(pen.ops);
                }
                pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
            }
        }
    }
    let opts = PdfSaveOptions {
        subset_fonts: true,
        ..PdfSaveOptions::default()
    };
    Ok(doc.with_pages(pages).save(&opts, &mut Vec::new()))
}
