ALTER TABLE users DROP COLUMN label_size;
ALTER TABLE users DROP COLUMN timezone;
