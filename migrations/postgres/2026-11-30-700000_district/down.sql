ALTER TABLE addresses DROP COLUMN latin_district;
ALTER TABLE addresses DROP COLUMN district;
