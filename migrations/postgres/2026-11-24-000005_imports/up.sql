-- Bulk CSV imports: the uploaded file, then the booking run's progress and per-row results.
CREATE TABLE imports (
    id TEXT PRIMARY KEY NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    filename TEXT NOT NULL,
    csv TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('previewed', 'running', 'done')),
    total_rows INTEGER NOT NULL,
    valid_rows INTEGER NOT NULL,
    booked INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    results TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX imports_seller ON imports (seller_id, created_at);
