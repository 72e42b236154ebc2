-- A per-wallet sequence number on each wallet entry, taken by the same UPDATE that moves the
-- balance, so statements list entries in the order the balance moved (created_at is taken
-- before the wallet row is locked, and under parallel load its order is not that order).
ALTER TABLE wallets ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger_entries ADD COLUMN seq BIGINT;

-- Existing entries: by id. An entry's id (a UUIDv7, monotonic within a process) is made
-- after the balance update, while the wallet row is still locked, so it follows the order
-- the balance moved in, where created_at may not.
UPDATE ledger_entries SET seq = n.seq
FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY seller_id ORDER BY id) AS seq
    FROM ledger_entries
    WHERE account = 'seller_wallet'
) AS n
WHERE ledger_entries.id = n.id;

UPDATE wallets SET last_seq = (
    SELECT COUNT(*) FROM ledger_entries e
    WHERE e.seller_id = wallets.seller_id AND e.account = 'seller_wallet'
);

CREATE UNIQUE INDEX ledger_entries_wallet_seq ON ledger_entries (seller_id, seq);
