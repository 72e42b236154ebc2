//! Label rendering: single labels per second, a 1,000-label batch PDF, bytes per label.
//! `cargo bench --bench labels`. Rendering is a pure function of the shipment, so this
//! measures it without HTTP or the database.

use std::time::Instant;

use waybill::db::shipments::Shipment;
use waybill::domain::channel::ChannelKind;
use waybill::domain::tracking_number::TrackingFormat;
use waybill::labels::{Label, Size, render_pdf, render_zpl};

fn shipment(n: u64, tracking: &TrackingFormat) -> anyhow::Result<Shipment> {
    let now = waybill::db::now();
    Ok(Shipment {
        id: format!("s{n}").into(),
        seller_id: "seller".into(),
        channel_code: "CNPOST-RAM".into(),
        tracking_number: tracking.issue(n).map_err(anyhow::Error::msg)?,
        status: waybill::domain::Status::Booked,
        reference: Some(format!("ORD-{n}")),
        sender: serde_json::from_value(
            serde_json::json!({"name": "李伟 Li Wei", "company": "深圳灯饰 Shenzhen Lights",
            "street1": "科技园南路 18号", "city": "Shenzhen", "postal_code": "518057",
            "country": "CN", "phone": "+86 755 8888 0000"}),
        )?,
        recipient_name: format!("Anna Müller {n}"),
        recipient_company: None,
        recipient_street1: "Friedrichstraße 12".into(),
        recipient_street2: None,
        recipient_city: "Berlin".into(),
        recipient_state: None,
        recipient_postal_code: "10117".into(),
        recipient_country: "DE".into(),
        recipient_phone: "+49 30 1234567".into(),
        recipient_email: None,
        weight_g: 455,
        length_mm: 200,
        width_mm: 150,
        height_mm: 50,
        chargeable_weight_g: 460,
        price_amount: 9_500,
        currency: "CNY".into(),
        price_breakdown: Default::default(),
        customs: serde_json::from_value(
            serde_json::json!({"contents_type": "merchandise", "items": [{"description": "LED desk lamp",
            "quantity": 1, "unit_value": 2490, "currency": "USD", "weight_g": 400, "hs_code": "940520",
            "origin_country": "CN"}]}),
        )?,
        idempotency_key: None,
        request_hash: None,
        label_count: 0,
        created_at: now,
        updated_at: now,
        cancelled_at: None,
    })
}

fn main() -> anyhow::Result<()> {
    let postal = TrackingFormat::S10 {
        service: "RR".into(),
        country: "CN".into(),
    };
    let labels: Vec<Label> = (0..1_000)
        .map(|n| {
            shipment(n, &postal).map(|s| {
                waybill::services::printing::label_of(
                    &s,
                    "China Post",
                    "Registered Air Mail",
                    ChannelKind::Postal,
                    "https://waybill.example.com",
                )
            })
        })
        .collect::<anyhow::Result<_>>()?;
    // Warm the font cache once, as a running server would have.
    render_pdf(&labels[..1], Size::FourBySix).map_err(anyhow::Error::msg)?;

    let t = Instant::now();
    let mut single_bytes = 0;
    for l in labels.iter().take(200) {
        single_bytes = render_pdf(std::slice::from_ref(l), Size::FourBySix)
            .map_err(anyhow::Error::msg)?
            .len();
    }
    let per = t.elapsed().as_secs_f64() / 200.0;
    println!(
        "single 4x6 label PDF:   {:.1} ms each, {:.0} labels/s, {} bytes",
        per * 1000.0,
        1.0 / per,
        single_bytes
    );

    for (size, name) in [(Size::FourBySix, "4x6"), (Size::A4, "A4 ")] {
        let t = Instant::now();
        let pdf = render_pdf(&labels, size).map_err(anyhow::Error::msg)?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "1,000-label batch {name}:  {:.2} s ({:.0} labels/s), {} bytes = {:.1} KB a label",
            secs,
            1_000.0 / secs,
            pdf.len(),
            pdf.len() as f64 / 1_000.0 / 1024.0
        );
    }
    let t = Instant::now();
    let zpl: usize = labels.iter().map(|l| render_zpl(l).len()).sum();
    println!(
        "1,000 ZPL labels:        {:.1} ms, {} bytes",
        t.elapsed().as_secs_f64() * 1000.0,
        zpl
    );
    Ok(())
}
