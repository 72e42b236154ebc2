-- Seller webhooks: endpoints, an outbox of deliveries written in the same transaction as the
-- change they announce, and one row per attempt for the delivery log.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    url TEXT NOT NULL,
    -- Event types, comma-separated.
    events TEXT NOT NULL,
    -- The signing key, sealed with AES-256-GCM under a key derived from the session secret.
    secret BLOB NOT NULL,
    -- After a rotation the old key signs beside the new one until it expires.
    previous_secret BLOB,
    previous_secret_expires_at TIMESTAMP,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_seller ON webhook_endpoints (seller_id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The `webhook-id` header: the same on every retry, so receivers can deduplicate.
    webhook_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    -- The exact body sent (and signed) on every attempt.
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_status_code INTEGER,
    last_duration_ms BIGINT,
    last_error TEXT,
    delivered_at TIMESTAMP,
    -- A worker's lease: several servers on one database never send the same attempt twice.
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    duration_ms BIGINT NOT NULL,
    error TEXT,
    UNIQUE (delivery_id, attempt)
);
