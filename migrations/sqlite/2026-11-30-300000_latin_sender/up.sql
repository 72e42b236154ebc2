-- The Latin-script version of a sender address (labels, CN22/CN23, ZPL print it).
ALTER TABLE addresses ADD COLUMN latin_name TEXT;
ALTER TABLE addresses ADD COLUMN latin_company TEXT;
ALTER TABLE addresses ADD COLUMN latin_street1 TEXT;
ALTER TABLE addresses ADD COLUMN latin_street2 TEXT;
ALTER TABLE addresses ADD COLUMN latin_city TEXT;
ALTER TABLE addresses ADD COLUMN latin_state TEXT;
