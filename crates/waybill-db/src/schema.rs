// Hand-kept to match migrations/{sqlite,postgres}; tests/app/schema.rs checks both backends agree.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        name -> Text,
        store_name -> Nullable<Text>,
        phone -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        timezone -> Text,
        label_size -> Text,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        seller_id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        email -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        to_addr -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(api_keys -> users (seller_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    api_keys,
    sessions,
    password_resets,
    login_failures,
    outbox
);

diesel::table! {
    ledger_transactions (id) {
        id -> Text,
        idempotency_key -> Text,
        kind -> Text,
        seller_id -> Text,
        amount -> BigInt,
        currency -> Text,
        shipment_id -> Nullable<Text>,
        payment_intent_id -> Nullable<Text>,
        note -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Text,
        transaction_id -> Text,
        account -> Text,
        seller_id -> Nullable<Text>,
        amount -> BigInt,
        currency -> Text,
        balance_after -> Nullable<BigInt>,
        created_at -> Timestamp,
        seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    wallets (seller_id) {
        seller_id -> Text,
        currency -> Text,
        balance -> BigInt,
        updated_at -> Timestamp,
        last_seq -> BigInt,
        due -> BigInt,
    }
}

diesel::table! {
    payment_intents (id) {
        id -> Text,
        seller_id -> Text,
        provider -> Text,
        amount -> BigInt,
        currency -> Text,
        status -> Text,
        provider_ref -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(ledger_entries -> ledger_transactions (transaction_id));
diesel::joinable!(wallets -> users (seller_id));
diesel::joinable!(payment_intents -> users (seller_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    ledger_transactions,
    ledger_entries,
    wallets,
    payment_intents
);

diesel::table! {
    channels (code) {
        code -> Text,
        carrier -> Text,
        service -> Text,
        kind -> Text,
        tracking_format -> Text,
        max_weight_g -> BigInt,
        max_length_mm -> BigInt,
        max_sum_sides_mm -> BigInt,
        volumetric_divisor -> Nullable<BigInt>,
        transit_min_days -> Integer,
        transit_max_days -> Integer,
        door_pickup -> Bool,
        enabled -> Bool,
        rate_card -> Text,
        next_serial -> BigInt,
        webhook_secret -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        previous_webhook_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    addresses (id) {
        id -> Text,
        seller_id -> Text,
        name -> Text,
        company -> Nullable<Text>,
        street1 -> Text,
        street2 -> Nullable<Text>,
        city -> Text,
        state -> Nullable<Text>,
        postal_code -> Text,
        country -> Text,
        phone -> Text,
        email -> Nullable<Text>,
        is_default -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        latin_name -> Nullable<Text>,
        latin_company -> Nullable<Text>,
        latin_street1 -> Nullable<Text>,
        latin_street2 -> Nullable<Text>,
        latin_city -> Nullable<Text>,
        latin_state -> Nullable<Text>,
        district -> Nullable<Text>,
        latin_district -> Nullable<Text>,
    }
}

diesel::table! {
    shipments (id) {
        id -> Text,
        seller_id -> Text,
        channel_code -> Text,
        tracking_number -> Text,
        status -> Text,
        reference -> Nullable<Text>,
        sender -> Text,
        recipient_name -> Text,
        recipient_company -> Nullable<Text>,
        recipient_street1 -> Text,
        recipient_street2 -> Nullable<Text>,
        recipient_city -> Text,
        recipient_state -> Nullable<Text>,
        recipient_postal_code -> Text,
        recipient_country -> Text,
        recipient_phone -> Text,
        recipient_email -> Nullable<Text>,
        weight_g -> BigInt,
        length_mm -> BigInt,
        width_mm -> BigInt,
        height_mm -> BigInt,
        chargeable_weight_g -> BigInt,
        price_amount -> BigInt,
        currency -> Text,
        price_breakdown -> Text,
        customs -> Text,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        label_count -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    shipment_events (id) {
        id -> Text,
        shipment_id -> Text,
        status -> Text,
        occurred_at -> Timestamp,
        location -> Nullable<Text>,
        description -> Text,
        source -> Text,
        verified -> Bool,
        created_at -> Timestamp,
        code -> Nullable<Text>,
        source_event_id -> Nullable<Text>,
        received_at -> Timestamp,
        request_id -> Nullable<Text>,
        log_index -> Nullable<BigInt>,
    }
}

diesel::joinable!(shipment_events -> shipments (shipment_id));
diesel::joinable!(shipments -> channels (channel_code));

diesel::allow_tables_to_appear_in_same_query!(shipments, shipment_events, channels, addresses);

diesel::table! {
    imports (id) {
        id -> Text,
        seller_id -> Text,
        filename -> Text,
        csv -> Text,
        status -> Text,
        total_rows -> Integer,
        valid_rows -> Integer,
        booked -> Integer,
        failed -> Integer,
        results -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    label_prints (id) {
        id -> Text,
        shipment_id -> Text,
        user_id -> Text,
        format -> Text,
        size -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_areas (id) {
        id -> Text,
        name -> Text,
        postal_prefixes -> Text,
        cities -> Text,
        timezone -> Text,
        windows -> Text,
        capacity -> Integer,
        closed_weekdays -> Text,
        holidays -> Text,
        cutoff -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    courier_areas (courier_id, area_id) {
        courier_id -> Text,
        area_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pickup_slots (area_id, date, window_label) {
        area_id -> Text,
        date -> Text,
        window_label -> Text,
        booked -> Integer,
    }
}

diesel::table! {
    pickups (id) {
        id -> Text,
        seller_id -> Text,
        address_id -> Text,
        area_id -> Text,
        date -> Text,
        window_label -> Text,
        window_start -> Timestamp,
        window_end -> Timestamp,
        status -> Text,
        address -> Text,
        postal_code -> Text,
        courier_id -> Nullable<Text>,
        failure_reason -> Nullable<Text>,
        failure_note -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        reminder_sent_at -> Nullable<Timestamp>,
        accepted_at -> Nullable<Timestamp>,
        arrived_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    pickup_items (pickup_id, shipment_id) {
        pickup_id -> Text,
        shipment_id -> Text,
        open -> Bool,
        outcome -> Text,
        scanned_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(courier_areas -> service_areas (area_id));
diesel::joinable!(courier_areas -> users (courier_id));
diesel::joinable!(pickup_items -> pickups (pickup_id));
diesel::joinable!(pickup_items -> shipments (shipment_id));
diesel::joinable!(pickups -> service_areas (area_id));

diesel::allow_tables_to_appear_in_same_query!(
    service_areas,
    courier_areas,
    pickup_slots,
    pickups,
    pickup_items,
    shipments,
    users
);

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        seller_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Binary,
        previous_secret -> Nullable<Binary>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        webhook_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_status_code -> Nullable<Integer>,
        last_duration_ms -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempt -> Integer,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        duration_ms -> BigInt,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts
);

diesel::table! {
    tracking_requests (id) {
        id -> Text,
        source -> Text,
        digest -> Text,
        body -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    tracking_issues (id) {
        id -> Text,
        channel_code -> Nullable<Text>,
        source -> Text,
        event_id -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        reason -> Text,
        request_digest -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tracking_log_head (id) {
        id -> Integer,
        size -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tracking_log_hashes (idx) {
        idx -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    tracking_checkpoints (id) {
        id -> Text,
        tree_size -> BigInt,
        root_hash -> Text,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(shipment_events -> tracking_requests (request_id));
diesel::allow_tables_to_appear_in_same_query!(shipment_events, tracking_requests);
diesel::allow_tables_to_appear_in_same_query!(shipments, tracking_requests);

diesel::table! {
    warehouse_scans (id) {
        id -> Text,
        scan_id -> Text,
        warehouse_id -> Text,
        shipment_id -> Text,
        weight_g -> BigInt,
        length_mm -> Nullable<BigInt>,
        width_mm -> Nullable<BigInt>,
        height_mm -> Nullable<BigInt>,
        location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    weight_adjustments (shipment_id) {
        shipment_id -> Text,
        seller_id -> Text,
        scan_id -> Text,
        declared_weight_g -> BigInt,
        declared_length_mm -> BigInt,
        declared_width_mm -> BigInt,
        declared_height_mm -> BigInt,
        declared_chargeable_g -> BigInt,
        measured_weight_g -> BigInt,
        measured_length_mm -> BigInt,
        measured_width_mm -> BigInt,
        measured_height_mm -> BigInt,
        measured_chargeable_g -> BigInt,
        declared_price -> BigInt,
        measured_price -> BigInt,
        amount -> BigInt,
        charged -> BigInt,
        due -> BigInt,
        currency -> Text,
        outcome -> Text,
        held_reason -> Nullable<Text>,
        created_at -> Timestamp,
        dispute_status -> Nullable<Text>,
        dispute_note -> Nullable<Text>,
        disputed_at -> Nullable<Timestamp>,
        resolution_note -> Nullable<Text>,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    amounts_due (id) {
        id -> Text,
        seller_id -> Text,
        shipment_id -> Text,
        amount -> BigInt,
        outstanding -> BigInt,
        currency -> Text,
        created_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_opt_outs (user_id, kind) {
        user_id -> Text,
        kind -> Text,
    }
}

diesel::joinable!(warehouse_scans -> shipments (shipment_id));
diesel::joinable!(weight_adjustments -> shipments (shipment_id));
diesel::allow_tables_to_appear_in_same_query!(warehouse_scans, shipments);
diesel::allow_tables_to_appear_in_same_query!(weight_adjustments, shipments);
diesel::allow_tables_to_appear_in_same_query!(weight_adjustments, users);
diesel::allow_tables_to_appear_in_same_query!(channels, tracking_requests);
