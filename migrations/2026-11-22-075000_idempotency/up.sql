-- Idempotency keys (Stripe / IETF draft "The Idempotency-Key HTTP Header
-- Field" semantics) for POSTs that create things. See
-- backend/server/src/idempotency.rs for the protocol; in short:
--   * a request with a key first reserves the row (`in_flight`, locked for a
--     while) in a short transaction of its own;
--   * the handler stores its answer (`done`) in the SAME transaction as its
--     effect, so either both commit or neither does;
--   * a replay with the same key and the same request gets the stored answer,
--     another request under the same key gets 422, a request while the first
--     is still in flight gets 409;
--   * `lock_token` fences a reservation: only the request holding it may
--     complete or release the row, so a request whose expired reservation was
--     taken over cannot commit its effect any more.
-- Keys belong to one user; rows older than 24 hours are pruned.
CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key text NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    -- SHA-256 over method, path and the canonical JSON body.
    request_hash bytea NOT NULL,
    status text NOT NULL DEFAULT 'in_flight',
    response_status smallint,
    response_body jsonb,
    lock_token uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    locked_until timestamptz NOT NULL,
    PRIMARY KEY (user_id, key),
    -- 1 to 255 visible ASCII characters.
    CONSTRAINT idempotency_keys_key_format CHECK (key ~ '^[!-~]{1,255}$'),
    CONSTRAINT idempotency_keys_hash_length CHECK (octet_length(request_hash) = 32),
    CONSTRAINT idempotency_keys_status CHECK (status IN ('in_flight', 'done')),
    CONSTRAINT idempotency_keys_done_has_answer CHECK (
        status <> 'done'
        OR (response_status IS NOT NULL AND response_body IS NOT NULL AND completed_at IS NOT NULL))
);
-- Pruning walks by age.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_scope ON idempotency_keys
    USING (pb_scope_is_system() OR user_id = pb_scope_user());

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO pb_app;
