-- Door pickups: service areas and their couriers, per-window capacity counters, pickups and
-- the shipments handed over in each.
CREATE TABLE service_areas (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    postal_prefixes TEXT NOT NULL,
    cities TEXT NOT NULL,
    timezone TEXT NOT NULL,
    windows TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    closed_weekdays TEXT NOT NULL,
    holidays TEXT NOT NULL,
    cutoff TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE courier_areas (
    courier_id TEXT NOT NULL REFERENCES users (id),
    area_id TEXT NOT NULL REFERENCES service_areas (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (courier_id, area_id)
);
CREATE INDEX courier_areas_area ON courier_areas (area_id);

-- One counter per area, date and window: a booking takes a place with a conditional
-- UPDATE (booked < capacity), which serialises concurrent bookings on the row.
CREATE TABLE pickup_slots (
    area_id TEXT NOT NULL REFERENCES service_areas (id),
    date TEXT NOT NULL,
    window_label TEXT NOT NULL,
    booked INTEGER NOT NULL,
    PRIMARY KEY (area_id, date, window_label)
);

CREATE TABLE pickups (
    id TEXT PRIMARY KEY NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    address_id TEXT NOT NULL,
    area_id TEXT NOT NULL REFERENCES service_areas (id),
    date TEXT NOT NULL,
    window_label TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    window_end TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    address TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    courier_id TEXT REFERENCES users (id),
    failure_reason TEXT,
    failure_note TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    reminder_sent_at TIMESTAMP,
    accepted_at TIMESTAMP,
    arrived_at TIMESTAMP,
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX pickups_idempotency ON pickups (seller_id, idempotency_key);
CREATE INDEX pickups_seller ON pickups (seller_id, created_at);
CREATE INDEX pickups_area_date ON pickups (area_id, date);
CREATE INDEX pickups_status_end ON pickups (status, window_end);

-- `open` while the pickup is: a shipment is in one open pickup at most.
CREATE TABLE pickup_items (
    pickup_id TEXT NOT NULL REFERENCES pickups (id),
    shipment_id TEXT NOT NULL REFERENCES shipments (id),
    open BOOLEAN NOT NULL,
    outcome TEXT NOT NULL,
    scanned_at TIMESTAMP,
    PRIMARY KEY (pickup_id, shipment_id)
);
CREATE UNIQUE INDEX pickup_items_one_open ON pickup_items (shipment_id) WHERE open;
