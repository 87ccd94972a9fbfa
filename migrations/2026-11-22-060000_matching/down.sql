DROP TABLE ws_tickets;
DROP TABLE event_log_state;
DROP TABLE events;
DROP TABLE blocks;
DROP TABLE practice_favourites;
DROP TABLE availability_exceptions;
DROP TABLE availability;
DROP TABLE shift_offers;
DROP TABLE shifts;
REVOKE UPDATE (release_rho_after_minutes, release_partners_after_minutes, min_rest_minutes) ON organisations FROM pb_app;
ALTER TABLE organisations
    DROP CONSTRAINT organisations_min_rest_range,
    DROP CONSTRAINT organisations_release_non_negative,
    DROP CONSTRAINT organisations_release_order,
    DROP COLUMN min_rest_minutes,
    DROP COLUMN release_partners_after_minutes,
    DROP COLUMN release_rho_after_minutes;
