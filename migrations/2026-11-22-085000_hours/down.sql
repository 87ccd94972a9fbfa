REVOKE UPDATE (dba_threshold_hours) ON organisations FROM pb_app;
DROP TABLE booking_hours;
DROP INDEX bookings_hours_reminder_idx;
ALTER TABLE bookings DROP COLUMN hours_reminded_at;
ALTER TABLE organisations
    DROP CONSTRAINT organisations_dba_threshold_range,
    DROP COLUMN dba_threshold_hours;
