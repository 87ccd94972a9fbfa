DROP TABLE bookings;
DROP TABLE shift_applications;
ALTER TABLE shift_offers DROP CONSTRAINT shift_offers_tier_range;
ALTER TABLE shifts DROP CONSTRAINT shifts_booked_slots_range, DROP COLUMN booked_slots;
REVOKE UPDATE (instant_booking_tier) ON practices FROM pb_app;
ALTER TABLE practices DROP CONSTRAINT practices_instant_booking_tier_range, DROP COLUMN instant_booking_tier;
REVOKE UPDATE (cancel_notice_practice_hours, cancel_notice_worker_hours) ON organisations FROM pb_app;
ALTER TABLE organisations
    DROP CONSTRAINT organisations_cancel_notice_range,
    DROP COLUMN cancel_notice_worker_hours,
    DROP COLUMN cancel_notice_practice_hours;
DROP EXTENSION btree_gist;
