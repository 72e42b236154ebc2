//! Drawing on a PDF page in millimetres from its bottom left: the fonts shipped with Waybill,
//! text measured with their metrics (width, wrapping, shrinking to fit), and `Pen`, which maps
//! a drawing onto the page (scaled down to A6 for A4 sheets). Labels, invoices and handover
//! sheets all draw with it.

use std::sync::OnceLock;

use printpdf::{
    Color, FontId, Greyscale, Mm, Op, PaintMode, ParsedFont, PdfFontHandle, Point, Pt, Rect,
    TextItem,
};

/// Fonts shipped with Waybill and subset into each PDF, so labels never depend on the
/// server's fonts: DejaVu Sans for Latin text, Droid Sans Fallback for Chinese, Japanese and
/// Korean (it has no Latin glyphs of its own).
static LATIN_BYTES: &[u8] = include_bytes!("../../../static/fonts/DejaVuSans.ttf");
static CJK_BYTES: &[u8] = include_bytes!("../../../static/fonts/DroidSansFallbackFull.ttf");

pub(crate) struct Fonts {
    pub(crate) latin: ParsedFont,
    pub(crate) cjk: ParsedFont,
}

pub(crate) fn fonts() -> Option<&'static Fonts> {
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
    pub(crate) latin: FontId,
    pub(crate) cjk: FontId,
}

/// Millimetres from points.
const MM_PER_PT: f32 = 25.4 / 72.0;

/// How wide `s` is at `size` pt, in label millimetres, from the fonts' advance widths.
pub(crate) fn text_width(s: &str, size: f32) -> f32 {
    let Some(f) = fonts() else {
        // No fonts, no PDF; a generous guess keeps callers' arithmetic sane.
        return s.chars().count() as f32 * size * MM_PER_PT;
    };
    let em: f32 = s
        .chars()
        .map(|c| {
            let font = if is_cjk(c) { &f.cjk } else { &f.latin };
            let upm = f32::from(font.font_metrics.units_per_em.max(1));
            font.lookup_glyph_index(c as u32)
                .map(|g| f32::from(font.get_horizontal_advance(g)) / upm)
                .unwrap_or(if is_cjk(c) { 1.0 } else { 0.6 })
        })
        .sum();
    em * size * MM_PER_PT
}

/// Breaks `s` into lines no wider than `width` mm at `size` pt: between words, and inside
/// a word (or a run of Chinese, which has no spaces) only where it must.
pub(crate) fn wrap(s: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            line.push(c);
            if text_width(&line, size) > width && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, c.to_string()));
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The largest size from `size` down to `min` at which `s` fits `width` on one line.
pub(crate) fn fit_size(s: &str, size: f32, min: f32, width: f32) -> f32 {
    let w = text_width(s, size);
    if w <= width {
        size
    } else {
        (size * width / w).max(min)
    }
}

pub const LABEL_W: f32 = 100.0;
pub const LABEL_H: f32 = 150.0;
/// Narrowest bar of the Code 128: 3 dots at 203 dpi.
pub const MODULE_MM: f32 = 0.375;

pub(crate) struct Pen<'a> {
    pub(crate) ops: Vec<Op>,
    pub(crate) fonts: &'a FontIds,
    pub(crate) x0: f32,
    pub(crate) y0: f32,
    pub(crate) scale: f32,
}

impl Pen<'_> {
    fn pt(&self, x: f32, y: f32) -> Point {
        Point {
            x: Mm(self.x0 + x * self.scale).into(),
            y: Mm(self.y0 + y * self.scale).into(),
        }
    }

    pub(crate) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
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

    /// One line shrunk (down to 60 %) so that it stays within `width`; wrapped text is
    /// for blocks, this is for lines that must stay one line.
    pub(crate) fn text_fit(&mut self, x: f32, y: f32, size: f32, width: f32, s: &str) {
        let fitted = fit_size(s, size, size * 0.6, width);
        if text_width(s, fitted) <= width {
            self.text(x, y, fitted, s);
        } else {
            let cut = wrap(s, fitted, width)
                .into_iter()
                .next()
                .unwrap_or_default();
            self.text(x, y, fitted, &cut);
        }
    }

    /// Lines wrapped to `width`, the first baseline at `top`, `leading` mm apart; shrinks
    /// the text (down to `min` pt) until the block ends above `bottom`. Returns the
    /// baseline below the last line.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn block(
        &mut self,
        x: f32,
        top: f32,
        bottom: f32,
        width: f32,
        size: f32,
        min: f32,
        lines: &[String],
    ) -> f32 {
        let mut size = size;
        let layout = |size: f32| -> Vec<String> {
            lines.iter().flat_map(|l| wrap(l, size, width)).collect()
        };
        let mut wrapped = layout(size);
        let leading = |size: f32| size * MM_PER_PT * 1.3;
        while size > min && top - leading(size) * (wrapped.len() as f32 - 1.0) < bottom {
            size = (size - 0.5).max(min);
            wrapped = layout(size);
        }
        let mut y = top;
        for l in &wrapped {
            if y < bottom {
                break;
            }
            self.text(x, y, size, l);
            y -= leading(size);
        }
        y
    }

    pub(crate) fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
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
    pub(crate) fn barcode(&mut self, x: f32, y: f32, h: f32, data: &str, module: f32) {
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
    pub(crate) fn qr(&mut self, x: f32, y: f32, module: f32, data: &str) {
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

    pub(crate) fn line(&mut self, x: f32, y: f32, w: f32) {
        self.rect(x, y, w, 0.3);
    }
}

/// Module width that keeps the barcode (with quiet zones) inside `max_mm`, in steps of
/// 0.125 mm (one dot at 203 dpi).
pub(crate) fn module_for(data: &str, max_mm: f32) -> f32 {
    let modules = code128::Code128::encode_str(data)
        .map(|c| c.len())
        .unwrap_or(1) as f32;
    let mut m = MODULE_MM;
    while m > 0.25 && modules * m > max_mm {
        m -= 0.125;
    }
    m
}

pub(crate) fn black(pen: &mut Pen) {
    pen.ops.push(Op::SetFillColor {
        col: Color::Greyscale(Greyscale {
            percent: 0.0,
            icc_profile: None,
        }),
    });
}
