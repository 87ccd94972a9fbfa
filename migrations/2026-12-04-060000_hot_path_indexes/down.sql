DROP INDEX bookings_shift_idx;
DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
DROP INDEX bookings_confirmed_user_idx;
DROP INDEX memberships_practice_role_idx;
