-- Warehouse receipt: every inbound scan (a machine's or an operator's), the one weight
-- adjustment a shipment may get, amounts a wallet could not cover, and mail opt-outs.

-- What the seller owes beyond the balance (sum of open `amounts_due`), kept beside the
-- balance so a booking's charge can refuse in the same statement that moves money.
ALTER TABLE wallets ADD COLUMN due BIGINT NOT NULL DEFAULT 0 CHECK (due >= 0);

CREATE TABLE warehouse_scans (
    id TEXT PRIMARY KEY NOT NULL,
    -- The scanner's own id for this scan: a replay with it changes nothing.
    scan_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL REFERENCES users (id),
    shipment_id TEXT NOT NULL REFERENCES shipments (id),
    weight_g BIGINT NOT NULL,
    length_mm BIGINT,
    width_mm BIGINT,
    height_mm BIGINT,
    location TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (warehouse_id, scan_id)
);
CREATE INDEX warehouse_scans_shipment ON warehouse_scans (shipment_id, created_at);
CREATE INDEX warehouse_scans_recent ON warehouse_scans (warehouse_id, created_at);

-- One row per measured shipment (the first scan that measured it): both measurements, the
-- freight difference and what became of it, and the seller's dispute.
CREATE TABLE weight_adjustments (
    shipment_id TEXT PRIMARY KEY NOT NULL REFERENCES shipments (id),
    seller_id TEXT NOT NULL REFERENCES users (id),
    scan_id TEXT NOT NULL REFERENCES warehouse_scans (id),
    declared_weight_g BIGINT NOT NULL,
    declared_length_mm BIGINT NOT NULL,
    declared_width_mm BIGINT NOT NULL,
    declared_height_mm BIGINT NOT NULL,
    declared_chargeable_g BIGINT NOT NULL,
    measured_weight_g BIGINT NOT NULL,
    measured_length_mm BIGINT NOT NULL,
    measured_width_mm BIGINT NOT NULL,
    measured_height_mm BIGINT NOT NULL,
    measured_chargeable_g BIGINT NOT NULL,
    declared_price BIGINT NOT NULL,
    measured_price BIGINT NOT NULL,
    -- Signed: positive is owed by the seller, negative refunded, zero nothing moved.
    amount BIGINT NOT NULL,
    -- Of a positive amount: taken from the wallet, and left as an amount due.
    charged BIGINT NOT NULL,
    due BIGINT NOT NULL,
    currency TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('within_tolerance', 'charged', 'refunded', 'held')),
    held_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    dispute_status TEXT CHECK (dispute_status IN ('open', 'refunded', 'upheld')),
    dispute_note TEXT,
    disputed_at TIMESTAMP,
    resolution_note TEXT,
    resolved_by TEXT REFERENCES users (id),
    resolved_at TIMESTAMP
);
CREATE INDEX weight_adjustments_seller ON weight_adjustments (seller_id, created_at);
CREATE INDEX weight_adjustments_dispute ON weight_adjustments (dispute_status, disputed_at);

CREATE TABLE amounts_due (
    id TEXT PRIMARY KEY NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    shipment_id TEXT NOT NULL REFERENCES shipments (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    outstanding BIGINT NOT NULL CHECK (outstanding >= 0),
    currency TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP
);
CREATE INDEX amounts_due_seller ON amounts_due (seller_id, created_at);

-- Notification mails a person turned off (by kind); everything else is sent.
CREATE TABLE mail_opt_outs (
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
