DROP TABLE shipment_events;
DROP TABLE shipments;
DROP TABLE addresses;
