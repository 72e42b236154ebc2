DROP TABLE payment_intents;
DROP TABLE wallets;
DROP TABLE ledger_entries;
DROP TABLE ledger_transactions;
