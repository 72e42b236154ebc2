DROP TABLE mail_opt_outs;
DROP TABLE amounts_due;
DROP TABLE weight_adjustments;
DROP TABLE warehouse_scans;
ALTER TABLE wallets DROP COLUMN due;
