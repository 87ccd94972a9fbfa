-- Password reset by e-mail: one row per link sent. Only the SHA-256 of the
-- token is stored; a link works once (used_at) and until expires_at.
CREATE TABLE password_resets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    CONSTRAINT password_resets_token_hash_key UNIQUE (token_hash),
    CONSTRAINT password_resets_expiry CHECK (expires_at > created_at)
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at);

-- Reset links are handled before anyone is signed in: system scope only,
-- apart from a user reading their own rows.
ALTER TABLE password_resets ENABLE ROW LEVEL SECURITY;
CREATE POLICY password_resets_scope ON password_resets
    USING (pb_scope_is_system() OR user_id = pb_scope_user());

GRANT SELECT, INSERT, UPDATE, DELETE ON password_resets TO pb_app;
