-- Indexes found with pg_stat_statements under the benchmark
-- (docs/performance.md, "Where the database's time goes"); each one
-- replaced a sequential scan or a sort of the whole backlog.

-- A practice's managers (told of every booking and application).
CREATE INDEX memberships_practice_role_idx ON memberships (practice_id, role) WHERE practice_id IS NOT NULL;

-- A person's confirmed bookings from a moment on (the matching facts read
-- on every re-index and re-match).
CREATE INDEX bookings_confirmed_user_idx ON bookings (user_id, upper(during)) WHERE status = 'confirmed';

-- The outbox's next due entries, in the order they are claimed: a backlog
-- is read from the front instead of sorted whole on every claim.
DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, created_at) WHERE status = 'pending';

-- A call's bookings, cancelled ones included (its booking list, and the
-- foreign-key check when a call is deleted: a scan of every booking each).
CREATE INDEX bookings_shift_idx ON bookings (shift_id);
