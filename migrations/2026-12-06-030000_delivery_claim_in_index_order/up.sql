-- Claim due deliveries along notification_deliveries_due_idx, whatever the
-- planner thinks of the table.
--
-- The claim was one prepared UPDATE ... FROM (SELECT ... ORDER BY
-- next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED). Judging the due set by
-- statistics taken when it was small (one row estimated), the planner chose
-- a bitmap scan of every entry in the due index and a sort of them all, for
-- the 20 rows a claim takes: the same mistake outbox_due
-- (2026-12-04-120000) corrected for the outbox. After a burst of posts
-- (8,600 deliveries due at once under the benchmark, auto_explain on a
-- private cluster showing that plan) every claim read and sorted the whole
-- backlog: 4.3 ms and 952 buffers per claim, so the drain cost the square
-- of its size. Walking the index in order reads the first due entries
-- however long the queue; with this function the same run took 0.69 ms and
-- 254 buffers per claim, and the backlog drained in 17.3 s against 28.7 s.
-- The settings apply only while the function runs, and PL/pgSQL keeps the
-- plan for the session. It runs with the caller's rights: row-level
-- security applies as before.
CREATE FUNCTION deliveries_claim(n integer, lease interval) RETURNS SETOF notification_deliveries
LANGUAGE plpgsql VOLATILE
SET enable_sort = off
SET enable_bitmapscan = off
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
BEGIN
    RETURN QUERY
        UPDATE notification_deliveries d
        SET status = 'sending', locked_until = now() + lease, attempts = d.attempts + 1
        FROM (SELECT x.id FROM notification_deliveries x
              WHERE (x.status = 'pending' AND x.next_attempt_at <= now())
                 OR (x.status = 'sending' AND x.locked_until < now())
              ORDER BY x.next_attempt_at
              LIMIT n
              FOR UPDATE SKIP LOCKED) due
        WHERE d.id = due.id
        RETURNING d.*;
END
$$;
