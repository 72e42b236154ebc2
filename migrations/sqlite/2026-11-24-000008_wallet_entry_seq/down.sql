DROP INDEX ledger_entries_wallet_seq;
ALTER TABLE ledger_entries DROP COLUMN seq;
ALTER TABLE wallets DROP COLUMN last_seq;
