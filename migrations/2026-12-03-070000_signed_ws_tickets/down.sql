CREATE TABLE ws_tickets (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX ws_tickets_expires_idx ON ws_tickets (expires_at);

ALTER TABLE ws_tickets ENABLE ROW LEVEL SECURITY;
CREATE POLICY ws_tickets_scope ON ws_tickets
    USING (pb_scope_is_system() OR user_id = pb_scope_user());

GRANT SELECT, INSERT, UPDATE, DELETE ON ws_tickets TO pb_app;
