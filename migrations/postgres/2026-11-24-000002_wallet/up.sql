-- Double-entry ledger: a transaction's entries sum to zero; rows are never updated or deleted.
CREATE TABLE ledger_transactions (
    id TEXT PRIMARY KEY NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    shipment_id TEXT,
    payment_intent_id TEXT,
    note TEXT,
    actor_id TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_transactions_seller ON ledger_transactions (seller_id, created_at);

CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY NOT NULL,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    account TEXT NOT NULL,
    seller_id TEXT REFERENCES users (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    balance_after BIGINT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_wallet ON ledger_entries (seller_id, created_at);

-- The cached balance, changed only in the transaction that writes the entries.
CREATE TABLE wallets (
    seller_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL CHECK (balance >= 0),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE payment_intents (
    id TEXT PRIMARY KEY NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    provider TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined', 'expired')),
    provider_ref TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);
CREATE INDEX payment_intents_seller ON payment_intents (seller_id, created_at);
