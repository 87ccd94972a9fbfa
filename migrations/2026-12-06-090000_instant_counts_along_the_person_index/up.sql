-- Count each person's instant mails since a moment (the hourly rate limit)
-- along notification_deliveries_user_idx, whatever the planner thinks of
-- the table.
--
-- The count was one prepared statement, a correlated count per person over
-- unnest($1). A connection keeps a prepared statement's generic plan from
-- its sixth run on, and one made from statistics that see few people in
-- the table (taken early in a day, or in a burst's first seconds) is a
-- sequential scan per person, kept while the table grows: a mail worker
-- started before a burst of posts spent 100-300 ms of PostgreSQL time on
-- each fan-out (pg_stat_activity during `pb-bench --mail-worker 0`), and
-- its backlog took minutes where an instance's dispatcher took seconds.
-- With sequential scans off while the function runs, every plan it can
-- make reads each person's entries from their index. It runs with the
-- caller's rights: row-level security applies as before.
CREATE FUNCTION deliveries_instant_counts(users uuid[], since timestamptz)
RETURNS TABLE (user_id uuid, n bigint)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT u.id, (SELECT count(*) FROM notification_deliveries d
                      WHERE d.user_id = u.id AND d.created_at >= since
                        AND d.status IN ('pending', 'sending', 'sent', 'dead'))
        FROM unnest(users) AS u(id);
END
$$;
