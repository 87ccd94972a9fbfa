-- The outbox's next due rows, walked along outbox_pending_idx.
--
-- The claim's plan was left to the planner, and the planner judged the
-- pending set by statistics taken when it was small: it chose a bitmap
-- scan of every due row and a sort of them all, for 16 rows. With a
-- backlog (a burst of posts, an SMTP outage) every claim then sorted the
-- whole backlog: 0.8 ms per claim at 1,400 pending rows under the
-- benchmark, and growing with the backlog, so draining it cost the square
-- of its size. Walking the index in order reads 16 entries whatever the
-- backlog, and costs the same on a small one. The settings apply only
-- while the function runs; PL/pgSQL keeps the plan for the session.
CREATE FUNCTION outbox_due(n integer) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE
SET enable_sort = off
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $$
BEGIN
    RETURN QUERY
        SELECT o.id FROM outbox o
        WHERE o.status = 'pending' AND o.next_attempt_at <= now()
        ORDER BY o.next_attempt_at, o.created_at
        LIMIT n;
END
$$;
