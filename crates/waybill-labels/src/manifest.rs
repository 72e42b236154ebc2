//! The pickup handover sheet (manifest): A4 pages listing every parcel with its Code 128,
//! the count, the total declared weight and signature lines for seller and courier.

use printpdf::{Mm, PdfDocument, PdfPage, PdfSaveOptions};

use crate::pen::{FontIds, Pen, black, fonts, module_for};
use waybill_domain::format_weight;

/// Everything printed on a handover sheet, already formatted.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub pickup_id: String,
    pub seller: String,
    pub address: Vec<String>,
    pub when: String,
    pub area: String,
    pub courier: String,
    pub parcels: Vec<ManifestParcel>,
}

#[derive(Clone, Debug)]
pub struct ManifestParcel {
    pub tracking_number: String,
    pub destination: String,
    pub weight_g: i64,
}

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const ROW_H: f32 = 24.0;
/// Parcel rows on the first page (below the header) and on the following ones.
const FIRST_ROWS: usize = 8;
const MORE_ROWS: usize = 10;

fn header(pen: &mut Pen, m: &Manifest, top: f32) -> f32 {
    pen.text(15.0, top, 16.0, "PICKUP HANDOVER SHEET");
    pen.text(15.0, top - 8.0, 10.0, &format!("Seller: {}", m.seller));
    for (i, line) in m.address.iter().take(4).enumerate() {
        pen.text(15.0, top - 13.5 - i as f32 * 5.0, 9.0, line);
    }
    pen.text(120.0, top - 8.0, 10.0, &format!("Window: {}", m.when));
    pen.text(120.0, top - 13.5, 9.0, &format!("Area: {}", m.area));
    pen.text(120.0, top - 18.5, 9.0, &format!("Courier: {}", m.courier));
    pen.text(120.0, top - 23.5, 7.0, &format!("Pickup {}", m.pickup_id));
    pen.line(15.0, top - 36.0, 180.0);
    top - 40.0
}

fn row(pen: &mut Pen, i: usize, p: &ManifestParcel, y: f32) {
    pen.text(15.0, y - 8.0, 10.0, &format!("{}.", i + 1));
    let module = module_for(&p.tracking_number, 80.0);
    pen.barcode(24.0, y - 16.0, 13.0, &p.tracking_number, module);
    pen.text(28.0, y - 20.5, 9.0, &p.tracking_number);
    pen.text(120.0, y - 8.0, 10.0, &p.destination);
    pen.text(120.0, y - 14.0, 10.0, &format_weight(p.weight_g));
    pen.text(165.0, y - 8.0, 9.0, "[  ] taken");
    pen.line(15.0, y - ROW_H + 0.5, 180.0);
}

fn footer(pen: &mut Pen, m: &Manifest, y: f32) {
    let total: i64 = m.parcels.iter().map(|p| p.weight_g).sum();
    pen.text(
        15.0,
        y - 8.0,
        11.0,
        &format!(
            "Parcels: {}     Total declared weight: {}",
            m.parcels.len(),
            format_weight(total)
        ),
    );
    pen.text(
        15.0,
        y - 26.0,
        10.0,
        "Handed over by (seller): ______________________",
    );
    pen.text(15.0, y - 34.0, 10.0, "Date / time: __________________");
    pen.text(
        110.0,
        y - 26.0,
        10.0,
        "Collected by (courier): ______________________",
    );
    pen.text(110.0, y - 34.0, 10.0, "Parcels taken: ________");
}

/// One PDF: the header, the parcels across as many A4 pages as they need, then the totals
/// and signature lines.
pub fn render_manifest(m: &Manifest) -> Result<Vec<u8>, String> {
    let parsed = fonts().ok_or("the label fonts could not be read")?;
    let mut doc = PdfDocument::new("Waybill pickup handover sheet");
    let ids = FontIds {
        latin: doc.add_font(&parsed.latin),
        cjk: doc.add_font(&parsed.cjk),
    };
    let mut pages = Vec::new();
    let mut rest: &[ManifestParcel] = &m.parcels;
    let mut index = 0;
    let mut first = true;
    loop {
        let mut pen = Pen {
            ops: Vec::new(),
            fonts: &ids,
            x0: 0.0,
            y0: 0.0,
            scale: 1.0,
        };
        black(&mut pen);
        let mut y = if first {
            header(&mut pen, m, PAGE_H - 20.0)
        } else {
            PAGE_H - 15.0
        };
        let room = if first { FIRST_ROWS } else { MORE_ROWS };
        let take = rest.len().min(room);
        for p in &rest[..take] {
            row(&mut pen, index, p, y);
            y -= ROW_H;
            index += 1;
        }
        rest = &rest[take..];
        // The totals need about 40 mm; otherwise they go on a page of their own.
        let done = rest.is_empty() && y > 55.0;
        if done {
            footer(&mut pen, m, y);
        }
        pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), pen.ops));
        first = false;
        if done {
            break;
        }
    }
    let opts = PdfSaveOptions {
        subset_fonts: true,
        ..PdfSaveOptions::default()
    };
    Ok(doc.with_pages(pages).save(&opts, &mut Vec::new()))
}
