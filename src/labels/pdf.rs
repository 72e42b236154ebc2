//! The PDF label, drawn with printpdf. Coordinates are millimetres from the label's bottom
//! left, mapped onto the page by `Pen` (which also scales a label down to A6 for A4 sheets).

use std::sync::OnceLock;

use printpdf::{
    Color, FontId, Greyscale, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, TextItem,
};

use super::{Label, Size};
use crate::domain::channel::ChannelKind;

/// Fonts shipped with Waybill and subset into each PDF, so labels never depend on the
/// server's fonts: DejaVu Sans for Latin text, Droid Sans Fallback for Chinese, Japanese and
/// Korean (it has no Latin glyphs of its own).
static LATIN_BYTES: &[u8] = include_bytes!("../../static/fonts/DejaVuSans.ttf");
static CJK_BYTES: &[u8] = include_bytes!("../../static/fonts/DroidSansFallbackFull.ttf");

pub(super) struct Fonts {
    pub(super) latin: ParsedFont,
    pub(super) cjk: ParsedFont,
}

pub(super) fn fonts() -> Option<&'static Fonts> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                latin: ParsedFont::from_bytes(LATIN_BYTES, 0, &mut Vec::new())?,
                cjk: ParsedFont::from_bytes(CJK_BYTES, 0, &mut Vec::new())?,
            })
        })
        .as_ref()
}

/// Whether a character is written with the CJK font.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3000..=0x30FF | 0x3100..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x2FFFF)
}

/// Splits a line into runs that share a font.
fn runs(s: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in s.chars() {
        let cjk = is_cjk(c);
        match out.last_mut() {
            Some((k, run)) if *k == cjk || c == ' ' => run.push(c),
            _ => out.push((cjk, c.to_string())),
        }
    }
    out
}

pub struct FontIds {
    pub(super) latin: FontId,
    pub(super) cjk: FontId,
}

pub const LABEL_W: f32 = 100.0;
pub const LABEL_H: f32 = 150.0;
/// Narrowest bar of the Code 128: 3 dots at 203 dpi.
pub const MODULE_MM: f32 = 0.375;

pub(super) struct Pen<'a> {
    pub(super) ops: Vec<Op>,
    pub(super) fonts: &'a FontIds,
    pub(super) x0: f32,
    pub(super) y0: f32,
    pub(super) scale: f32,
}

impl Pen<'_> {
    fn pt(&self, x: f32, y: f32) -> Point {
        Point {
            x: Mm(self.x0 + x * self.scale).into(),
            y: Mm(self.y0 + y * self.scale).into(),
        }
    }

    pub(super) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let p = self.pt(x, y);
        let size: Pt = Mm(w * self.scale).into();
        let height: Pt = Mm(h * self.scale).into();
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: p.x,
                y: p.y,
                width: size,
                height,
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    pub(super) fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
        if s.trim().is_empty() {
            return;
        }
        let pos = self.pt(x, y);
        self.ops.push(Op::StartTextSection);
        self.ops.push(Op::SetTextCursor { pos });
        for (cjk, run) in runs(s) {
            let font = if cjk {
                &self.fonts.cjk
            } else {
                &self.fonts.latin
            };
            self.ops.push(Op::SetFont {
                font: PdfFontHandle::External(font.clone()),
                size: Pt(size * self.scale),
            });
            self.ops.push(Op::ShowText {
                items: vec![TextItem::Text(run)],
            });
        }
        self.ops.push(Op::EndTextSection);
    }

    /// Code 128 with 10-module quiet zones each side, left edge at `x` (the quiet zone's start).
    pub(super) fn barcode(&mut self, x: f32, y: f32, h: f32, data: &str, module: f32) {
        let Some(code) = code128::Code128::encode_str(data) else {
            return;
        };
        for bar in code.bar_coordinates() {
            self.rect(
                x + bar.x as f32 * module,
                y,
                f32::from(bar.width) * module,
                h,
            );
        }
    }

    /// A QR code of `data`, `module` mm per module, lower left at (x, y), quiet zone outside.
    fn qr(&mut self, x: f32, y: f32, module: f32, data: &str) {
        let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
            return;
        };
        let w = code.width();
        let colors = code.to_colors();
        for row in 0..w {
            // Runs of dark modules become one rectangle each.
            let mut col = 0;
            while col < w {
                if colors[row * w + col] == qrcode::Color::Dark {
                    let start = col;
                    while col < w && colors[row * w + col] == qrcode::Color::Dark {
                        col += 1;
                    }
                    let top = y + (w - row) as f32 * module;
                    self.rect(
                        x + start as f32 * module,
                        top - module,
                        (col - start) as f32 * module,
                        module,
                    );
                } else {
                    col += 1;
                }
            }
        }
    }

    pub(super) fn line(&mut self, x: f32, y: f32, w: f32) {
        self.rect(x, y, w, 0.3);
    }
}

/// Module width that keeps the barcode (with quiet zones) inside `max_mm`, in steps of
/// 0.125 mm (one dot at 203 dpi).
pub(super) fn module_for(data: &str, max_mm: f32) -> f32 {
    let modules = code128::Code128::encode_str(data)
        .map(|c| c.len())
        .unwrap_or(1) as f32;
    let mut m = MODULE_MM;
    while m > 0.25 && modules * m > max_mm {
        m -= 0.125;
    }
    m
}

fn draw_label(pen: &mut Pen, l: &Label) {
    pen.ops.push(Op::SetFillColor {
        col: Color::Greyscale(Greyscale {
            percent: 0.0,
            icc_profile: None,
        }),
    });
    // Header: carrier and service, destination large.
    pen.text(4.0, 143.0, 10.0, &l.carrier);
    pen.text(4.0, 138.0, 8.0, &l.service);
    pen.text(70.0, 136.0, 34.0, &l.country);
    pen.text(70.0, 131.0, 10.0, &l.postal_code);
    pen.line(2.0, 129.0, 96.0);
    // Recipient: the largest text.
    pen.text(4.0, 125.0, 7.0, "TO");
    for (i, line) in l.recipient.iter().take(7).enumerate() {
        if i == 0 {
            pen.text(4.0, 119.5, 13.0, line);
        } else {
            pen.text(4.0, 119.5 - i as f32 * 5.0, 11.0, line);
        }
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
    // Sender, weight, date, reference.
    pen.text(4.0, 54.5, 6.0, "FROM");
    for (i, line) in l.sender.iter().take(5).enumerate() {
        pen.text(4.0, 50.5 - i as f32 * 3.6, 8.0, line);
    }
    pen.text(
        4.0,
        31.0,
        8.0,
        &format!("Weight {}   Booked {}", l.weight, l.booked),
    );
    if !l.reference.is_empty() {
        pen.text(4.0, 27.5, 8.0, &format!("Ref {}", l.reference));
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
        for (i, item) in l.customs.items.iter().take(3).enumerate() {
            pen.text(
                4.0,
                18.0 - i as f32 * 3.0,
                6.0,
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
        pen.text(
            4.0,
            8.5,
            6.0,
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

/// The CN23 commercial invoice page that goes with an express label.
fn draw_invoice(pen: &mut Pen, l: &Label) {
    pen.text(4.0, 140.0, 12.0, "COMMERCIAL INVOICE (CN 23)");
    pen.text(
        4.0,
        133.0,
        8.0,
        &format!(
            "Waybill {}   {} {}",
            l.tracking_number, l.carrier, l.service
        ),
    );
    pen.text(
        4.0,
        128.0,
        8.0,
        &format!(
            "Date {}   Contents {}   Ref {}",
            l.booked, l.customs.contents_type, l.reference
        ),
    );
    pen.text(4.0, 121.0, 7.0, "SENDER");
    for (i, line) in l.sender.iter().enumerate() {
        pen.text(4.0, 117.0 - i as f32 * 3.5, 7.0, line);
    }
    pen.text(52.0, 121.0, 7.0, "RECIPIENT");
    for (i, line) in l.recipient.iter().enumerate() {
        pen.text(52.0, 117.0 - i as f32 * 3.5, 7.0, line);
    }
    pen.line(2.0, 90.0, 96.0);
    pen.text(
        4.0,
        86.0,
        6.5,
        "Qty  Description / HS code / origin                Unit value    Weight",
    );
    for (i, item) in l.customs.items.iter().take(12).enumerate() {
        let value = crate::domain::Currency::parse(&item.currency)
            .map(|c| crate::domain::Money::new(item.unit_value, c).to_string())
            .unwrap_or_default();
        pen.text(
            4.0,
            81.0 - i as f32 * 4.5,
            6.5,
            &format!(
                "{:>3}  {} / HS {} / {}    {}    {} g",
                item.quantity,
                item.description,
                item.hs_code,
                item.origin_country,
                value,
                item.weight_g
            ),
        );
    }
    pen.line(2.0, 22.0, 96.0);
    pen.text(
        4.0,
        17.0,
        8.0,
        &format!(
            "Total value {}   Total weight {}",
            l.customs_value, l.customs_weight
        ),
    );
    pen.text(
        4.0,
        8.0,
        8.0,
        "I certify the particulars given in this declaration are correct.",
    );
    pen.text(
        4.0,
        3.5,
        8.0,
        "Signature ____________________   Date ____________",
    );
}

/// One PDF with every label: 4 × 6 (one a page, express labels followed by their invoice)
/// or A4 (four a page at A6 size; invoices follow on their own pages).
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
                    draw_invoice(&mut pen, l);
                    pages.push(PdfPage::new(Mm(LABEL_W), Mm(LABEL_H), pen.ops));
                }
            }
        }
        Size::A4 => {
            // A6 is exactly a quarter of A4: 105 × 148.5 mm cells, the label scaled to fit.
            let scale = 148.0 / LABEL_H;
            let cells = [(0.0, 148.5), (105.0, 148.5), (0.0, 0.0), (105.0, 0.0)];
            let mut invoices = Vec::new();
            for chunk in labels.chunks(4) {
                let mut ops = Vec::new();
                for (l, (cx, cy)) in chunk.iter().zip(cells) {
                    let mut pen = new_pen(cx + 1.5, cy + 0.25, scale);
                    draw_label(&mut pen, l);
                    ops.extend(pen.ops);
                    if l.kind == ChannelKind::Express {
                        invoices.push(l);
                    }
                }
                pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
            }
            for chunk in invoices.chunks(4) {
                let mut ops = Vec::new();
                for (l, (cx, cy)) in chunk.iter().zip(cells) {
                    let mut pen = new_pen(cx + 1.5, cy + 0.25, scale);
                    draw_invoice(&mut pen, l);
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
