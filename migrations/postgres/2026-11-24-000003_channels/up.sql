-- Approved logistics channels. Tracking format and rate card are JSON documents checked by
-- the application (domain::tracking, domain::rates) before they are stored.
CREATE TABLE channels (
    code TEXT PRIMARY KEY NOT NULL,
    carrier TEXT NOT NULL,
    service TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('postal', 'express')),
    tracking_format TEXT NOT NULL,
    max_weight_g BIGINT NOT NULL,
    max_length_mm BIGINT NOT NULL,
    max_sum_sides_mm BIGINT NOT NULL,
    volumetric_divisor BIGINT,
    transit_min_days INTEGER NOT NULL,
    transit_max_days INTEGER NOT NULL,
    door_pickup BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    rate_card TEXT NOT NULL,
    -- The next tracking serial; taken inside the booking transaction, never reused.
    next_serial BIGINT NOT NULL DEFAULT 0,
    webhook_secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
