use super::*;

fn charged(amount: i64, at: chrono::NaiveDateTime) -> Adjustment {
    Adjustment {
        shipment_id: "s".into(),
        seller_id: "u".into(),
        scan_id: "x".into(),
        declared_weight_g: 455,
        declared_length_mm: 200,
        declared_width_mm: 150,
        declared_height_mm: 50,
        declared_chargeable_g: 460,
        measured_weight_g: 1_200,
        measured_length_mm: 200,
        measured_width_mm: 150,
        measured_height_mm: 50,
        measured_chargeable_g: 1_200,
        declared_price: 6_000,
        measured_price: 13_400,
        amount,
        charged: amount.max(0),
        due: 0,
        currency: "CNY".into(),
        outcome: AdjustmentOutcome::Charged,
        held_reason: None,
        created_at: at,
        dispute_status: None,
        dispute_note: None,
        disputed_at: None,
        resolution_note: None,
        resolved_by: None,
        resolved_at: None,
    }
}

#[test]
fn a_charge_can_be_disputed_once_within_seven_days() {
    let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .unwrap_or_default();
    let a = charged(7_400, t);
    assert_eq!(dispute_refusal(&a, t + chrono::Duration::days(7)), None);
    assert!(
        dispute_refusal(
            &a,
            t + chrono::Duration::days(7) + chrono::Duration::seconds(1)
        )
        .is_some()
    );
    assert!(
        dispute_refusal(&charged(-500, t), t).is_some(),
        "a refund is not disputed"
    );
    let disputed = Adjustment {
        dispute_status: Some("open".into()),
        ..charged(7_400, t)
    };
    assert!(dispute_refusal(&disputed, t).is_some());
}

#[test]
fn a_scan_names_every_bad_field() {
    let bad = ScanInput {
        scan_id: Some("a\u{0}b".into()),
        tracking_number: Some("RR 12".into()),
        weight_g: Some(MAX_WEIGHT_G + 1),
        length_mm: Some(10),
        width_mm: None,
        height_mm: Some(0),
        location: Some("dock\u{202E}".into()),
    }
    .parse()
    .err()
    .unwrap_or_default();
    for f in ["scan_id", "weight_g", "length_mm", "height_mm", "location"] {
        assert!(bad.contains_key(f), "{f}: {bad:?}");
    }
    let ok = ScanInput {
        scan_id: Some(" m-1 ".into()),
        tracking_number: Some(" rr123456785cn ".into()),
        weight_g: Some(900),
        ..ScanInput::default()
    }
    .parse();
    let ok = ok.ok().map(|r| (r.scan_id, r.tracking_number, r.length_mm));
    assert_eq!(ok, Some(("m-1".into(), "RR123456785CN".into(), None)));
}
