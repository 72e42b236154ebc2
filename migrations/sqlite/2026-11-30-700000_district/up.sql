-- The district (区 / 县) of a sender address, between the city and the street as a Chinese
-- address is written, and its Latin version. Optional: older addresses keep it in street1.
ALTER TABLE addresses ADD COLUMN district TEXT;
ALTER TABLE addresses ADD COLUMN latin_district TEXT;
