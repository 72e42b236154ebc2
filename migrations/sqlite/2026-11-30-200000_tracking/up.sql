-- Verified tracking: raw carrier requests, the event store's provenance columns, rejected
-- requests for the admin, and the transparency log (head, stored hashes, checkpoints).
CREATE TABLE tracking_requests (
    id TEXT PRIMARY KEY NOT NULL,
    source TEXT NOT NULL,
    digest TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

ALTER TABLE shipment_events ADD COLUMN code TEXT;
ALTER TABLE shipment_events ADD COLUMN source_event_id TEXT;
ALTER TABLE shipment_events ADD COLUMN received_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE shipment_events ADD COLUMN request_id TEXT REFERENCES tracking_requests (id);
ALTER TABLE shipment_events ADD COLUMN log_index BIGINT;
UPDATE shipment_events SET received_at = created_at;
-- Each source's event id is accepted once (NULLs, Waybill's own events, never collide).
CREATE UNIQUE INDEX shipment_events_source_event ON shipment_events (source, source_event_id);
CREATE UNIQUE INDEX shipment_events_log_index ON shipment_events (log_index);

-- Append-only: a correction is a new event, never an edit.
CREATE TRIGGER shipment_events_no_update BEFORE UPDATE ON shipment_events
BEGIN SELECT RAISE(ABORT, 'shipment_events is append-only'); END;
CREATE TRIGGER shipment_events_no_delete BEFORE DELETE ON shipment_events
BEGIN SELECT RAISE(ABORT, 'shipment_events is append-only'); END;

CREATE TABLE tracking_issues (
    id TEXT PRIMARY KEY NOT NULL,
    channel_code TEXT,
    source TEXT NOT NULL,
    event_id TEXT,
    tracking_number TEXT,
    reason TEXT NOT NULL,
    request_digest TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX tracking_issues_created ON tracking_issues (created_at);

-- The log's head: one row, locked by every append so several servers keep one sequence.
CREATE TABLE tracking_log_head (
    id INTEGER PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO tracking_log_head (id, size, updated_at) VALUES (1, 0, '1970-01-01 00:00:00');

-- RFC 6962 tree, as tlog's "stored hashes" (about two per record), hex.
CREATE TABLE tracking_log_hashes (
    idx BIGINT PRIMARY KEY NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE tracking_checkpoints (
    id TEXT PRIMARY KEY NOT NULL,
    tree_size BIGINT NOT NULL,
    root_hash TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX tracking_checkpoints_created ON tracking_checkpoints (created_at);

-- A rotated webhook secret keeps verifying until its grace period ends.
ALTER TABLE channels ADD COLUMN previous_webhook_secret TEXT;
ALTER TABLE channels ADD COLUMN previous_secret_expires_at TIMESTAMP;
