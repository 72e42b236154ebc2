-- Sender address book, shipments and their tracking timeline.
CREATE TABLE addresses (
    id TEXT PRIMARY KEY NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    company TEXT,
    street1 TEXT NOT NULL,
    street2 TEXT,
    city TEXT NOT NULL,
    state TEXT,
    postal_code TEXT NOT NULL,
    country TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX addresses_seller ON addresses (seller_id);

CREATE TABLE shipments (
    id TEXT PRIMARY KEY NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    channel_code TEXT NOT NULL REFERENCES channels (code),
    tracking_number TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    reference TEXT,
    sender TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    recipient_company TEXT,
    recipient_street1 TEXT NOT NULL,
    recipient_street2 TEXT,
    recipient_city TEXT NOT NULL,
    recipient_state TEXT,
    recipient_postal_code TEXT NOT NULL,
    recipient_country TEXT NOT NULL,
    recipient_phone TEXT NOT NULL,
    recipient_email TEXT,
    weight_g BIGINT NOT NULL,
    length_mm BIGINT NOT NULL,
    width_mm BIGINT NOT NULL,
    height_mm BIGINT NOT NULL,
    chargeable_weight_g BIGINT NOT NULL,
    price_amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    price_breakdown TEXT NOT NULL,
    customs TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT,
    label_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    cancelled_at TIMESTAMP
);
CREATE UNIQUE INDEX shipments_idempotency ON shipments (seller_id, idempotency_key);
CREATE INDEX shipments_seller_created ON shipments (seller_id, created_at);
CREATE INDEX shipments_seller_status ON shipments (seller_id, status);
CREATE INDEX shipments_reference ON shipments (seller_id, reference);

CREATE TABLE shipment_events (
    id TEXT PRIMARY KEY NOT NULL,
    shipment_id TEXT NOT NULL REFERENCES shipments (id),
    status TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    location TEXT,
    description TEXT NOT NULL,
    source TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id, occurred_at);
