DROP TABLE pickup_items;
DROP TABLE pickups;
DROP TABLE pickup_slots;
DROP TABLE courier_areas;
DROP TABLE service_areas;
