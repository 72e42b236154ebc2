ALTER TABLE addresses DROP COLUMN latin_state;
ALTER TABLE addresses DROP COLUMN latin_city;
ALTER TABLE addresses DROP COLUMN latin_street2;
ALTER TABLE addresses DROP COLUMN latin_street1;
ALTER TABLE addresses DROP COLUMN latin_company;
ALTER TABLE addresses DROP COLUMN latin_name;
