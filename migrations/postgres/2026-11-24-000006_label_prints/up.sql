-- Every label print: who printed which shipment's label, when, in which format.
CREATE TABLE label_prints (
    id TEXT PRIMARY KEY NOT NULL,
    shipment_id TEXT NOT NULL REFERENCES shipments (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    format TEXT NOT NULL,
    size TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX label_prints_shipment ON label_prints (shipment_id, created_at);
