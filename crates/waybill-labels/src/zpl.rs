//! ZPL II for 203 dpi thermal printers (8 dots per mm), UTF-8 text (^CI28). The printer's
//! font 0 has no Chinese: the sender goes out in its Latin version, and any character
//! outside the Latin script is replaced rather than printed as a blank box.

use super::Label;

/// Dots at 203 dpi.
fn d(mm: f32) -> i32 {
    (mm * 8.0).round() as i32
}

/// Field data must not contain the ZPL control characters ^ and ~, nor characters the
/// printer's font cannot draw.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '^' | '~' => ' ',
            c if waybill_domain::address::is_latin(c.encode_utf8(&mut [0; 4])) => c,
            _ => '?',
        })
        .collect()
}

fn text(z: &mut String, x: f32, y: f32, h: f32, s: &str) {
    z.push_str(&format!(
        "^FO{},{}^A0N,{},{}^FD{}^FS\n",
        d(x),
        d(y),
        d(h),
        d(h),
        clean(s)
    ));
}

pub fn render_zpl(l: &Label) -> String {
    let mut z = String::from("^XA\n^CI28\n^PW800\n^LL1200\n");
    text(
        &mut z,
        4.0,
        4.0,
        4.0,
        &format!("{} {}", l.carrier, l.service),
    );
    text(&mut z, 72.0, 3.0, 12.0, &l.country);
    text(&mut z, 72.0, 16.0, 4.0, &l.postal_code);
    text(&mut z, 4.0, 22.0, 3.0, "TO:");
    for (i, line) in l.recipient.iter().enumerate() {
        text(
            &mut z,
            4.0,
            26.0 + i as f32 * 5.5,
            if i == 0 { 5.0 } else { 4.0 },
            line,
        );
    }
    // Code 128, module 0.375 mm (3 dots), 20 mm tall, human-readable line below.
    z.push_str(&format!(
        "^FO{},{}^BY3^BCN,{},Y,N,N^FD{}^FS\n",
        d(6.0),
        d(72.0),
        d(20.0),
        clean(&l.tracking_number)
    ));
    text(&mut z, 4.0, 100.0, 3.0, "FROM:");
    for (i, line) in l.sender.iter().enumerate() {
        text(&mut z, 4.0, 104.0 + i as f32 * 4.0, 3.0, line);
    }
    text(
        &mut z,
        4.0,
        126.0,
        3.0,
        &format!("{}  {}  Ref {}", l.weight, l.booked, l.reference),
    );
    text(
        &mut z,
        4.0,
        131.0,
        3.0,
        &format!("Customs: {} {}", l.customs.contents_type, l.customs_value),
    );
    z.push_str(&format!(
        "^FO{},{}^BQN,2,4^FDQA,{}^FS\n",
        d(70.0),
        d(118.0),
        clean(&l.tracking_url)
    ));
    z.push_str("^XZ\n");
    z
}
