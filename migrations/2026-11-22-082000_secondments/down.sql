REVOKE ALL ON secondments FROM pb_app;
ALTER TABLE bookings DROP CONSTRAINT bookings_source_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_source_check CHECK (source IN ('accept', 'confirm', 'invitation'));
DROP INDEX shifts_secondment_idx;
ALTER TABLE shifts DROP COLUMN secondment_id;
DROP TABLE secondments;
