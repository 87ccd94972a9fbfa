-- Notifications through a transactional outbox (docs/decisions/0004).
--
-- Two stages, both claimed with FOR UPDATE SKIP LOCKED so any number of
-- dispatchers (in `serve` or `personeelsbank worker`) can run side by side:
--
--   outbox                   one row per change that people must hear about,
--                            written in the SAME transaction as the change;
--                            an insert NOTIFYs channel `pb_outbox` at commit.
--   notification_deliveries  one row per recipient and message, made when the
--                            dispatcher fans an outbox row out (recipients,
--                            preferences, quiet hours, rate limit, rendering),
--                            then sent, retried or dead-lettered.
--
-- Preferences, quiet hours and the digest hour live in notification_prefs;
-- the private calendar feed's secret (hashed) in calendar_feeds.
CREATE TABLE outbox (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    -- Jobs (digests, reminders) announce a thing once: a second insert with
    -- the same key is ignored.
    dedupe_key text,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    CONSTRAINT outbox_kind_format CHECK (kind ~ '^[a-z_]{1,64}$'),
    CONSTRAINT outbox_status CHECK (status IN ('pending', 'done', 'failed')),
    CONSTRAINT outbox_dedupe_key_unique UNIQUE (dedupe_key)
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_created_idx ON outbox (created_at);

CREATE FUNCTION outbox_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    -- Delivered at commit only, and never for a rolled-back insert.
    PERFORM pg_notify('pb_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE notification_deliveries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    outbox_id uuid NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    -- Position among the outbox row's recipients: Message-ID is
    -- <outbox_id.seq@domain>, so a duplicate is recognisable.
    seq integer NOT NULL,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    email text NOT NULL,
    language text NOT NULL,
    kind text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    subject text NOT NULL,
    -- One line for a digest.
    summary text NOT NULL,
    body_text text,
    body_html text,
    -- iCalendar attachment (text/calendar) and its METHOD.
    ics text,
    ics_method text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    last_error text,
    digest_outbox_id uuid REFERENCES outbox (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    dead_at timestamptz,
    CONSTRAINT notification_deliveries_seq_unique UNIQUE (outbox_id, seq),
    CONSTRAINT notification_deliveries_status CHECK (
        status IN ('pending', 'sending', 'sent', 'digest', 'digested', 'skipped', 'dead')),
    CONSTRAINT notification_deliveries_ics_method CHECK (ics_method IS NULL OR ics_method IN ('REQUEST', 'CANCEL')),
    CONSTRAINT notification_deliveries_sending_locked CHECK (status <> 'sending' OR locked_until IS NOT NULL)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX notification_deliveries_user_idx ON notification_deliveries (user_id, created_at);
CREATE INDEX notification_deliveries_digest_idx ON notification_deliveries (user_id) WHERE status = 'digest';
CREATE INDEX notification_deliveries_dead_idx ON notification_deliveries (dead_at) WHERE status = 'dead';

CREATE TABLE notification_prefs (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- event kind -> 'instant' | 'digest' | 'off'; a missing kind uses its default.
    modes jsonb NOT NULL DEFAULT '{}',
    -- Local (Europe/Amsterdam) wall-clock times; may wrap midnight.
    quiet_start time,
    quiet_end time,
    -- Local hour at which the daily digest goes out.
    digest_hour smallint NOT NULL DEFAULT 7,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_prefs_modes_object CHECK (jsonb_typeof(modes) = 'object'),
    CONSTRAINT notification_prefs_quiet_both CHECK ((quiet_start IS NULL) = (quiet_end IS NULL)),
    CONSTRAINT notification_prefs_digest_hour CHECK (digest_hour BETWEEN 0 AND 23)
);

CREATE TABLE calendar_feeds (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the secret in the feed URL; the secret itself is shown once.
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CONSTRAINT calendar_feeds_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT calendar_feeds_token_unique UNIQUE (token_hash)
);
-- At most one live feed per person.
CREATE UNIQUE INDEX calendar_feeds_one_live ON calendar_feeds (user_id) WHERE revoked_at IS NULL;

-- Any stated scope may add to the outbox (it is written inside the change's
-- own transaction, whoever makes it); only system work reads, claims and
-- updates it. A connection without a scope can do neither.
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY outbox_insert ON outbox FOR INSERT
    WITH CHECK (pb_scope_is_system() OR pb_scope_user() IS NOT NULL);
CREATE POLICY outbox_system ON outbox
    USING (pb_scope_is_system());

ALTER TABLE notification_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_deliveries_scope ON notification_deliveries
    USING (pb_scope_is_system() OR user_id = pb_scope_user());

ALTER TABLE notification_prefs ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_prefs_scope ON notification_prefs
    USING (pb_scope_is_system() OR user_id = pb_scope_user());

ALTER TABLE calendar_feeds ENABLE ROW LEVEL SECURITY;
CREATE POLICY calendar_feeds_scope ON calendar_feeds
    USING (pb_scope_is_system() OR user_id = pb_scope_user());

GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO pb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_deliveries TO pb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_prefs TO pb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON calendar_feeds TO pb_app;
