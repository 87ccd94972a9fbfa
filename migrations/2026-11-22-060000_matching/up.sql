-- Realtime matching: staffing calls (shifts), availability, practice
-- favourites and blocks, RHO release policy, the per-recipient event log
-- behind WebSocket push, and single-use WebSocket tickets.

-- Release policy per RHO, as data: how long a call stays with favourites and
-- the practice's HAGRO before the whole RHO sees it, and before partner RHOs do.
ALTER TABLE organisations
    ADD COLUMN release_rho_after_minutes integer NOT NULL DEFAULT 30,
    ADD COLUMN release_partners_after_minutes integer NOT NULL DEFAULT 120,
    ADD COLUMN min_rest_minutes integer NOT NULL DEFAULT 660,
    ADD CONSTRAINT organisations_release_order CHECK (release_partners_after_minutes >= release_rho_after_minutes),
    ADD CONSTRAINT organisations_release_non_negative CHECK (release_rho_after_minutes >= 0),
    ADD CONSTRAINT organisations_min_rest_range CHECK (min_rest_minutes BETWEEN 0 AND 1440);

CREATE TABLE shifts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    practice_id uuid NOT NULL,
    created_by uuid NOT NULL REFERENCES users (id),
    profession text NOT NULL,
    kind text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    -- Where the work is: the practice itself or an out-of-hours post.
    location_practice_id uuid NOT NULL REFERENCES practices (id),
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    max_distance_km integer,
    required_skills text[] NOT NULL DEFAULT '{}',
    his text,
    his_required boolean NOT NULL DEFAULT false,
    rate_cents integer NOT NULL,
    engagement_type text NOT NULL,
    urgent boolean NOT NULL DEFAULT false,
    slots integer NOT NULL DEFAULT 1,
    notes text,
    status text NOT NULL DEFAULT 'draft',
    -- 0 unreleased (draft), 1 favourites and HAGRO, 2 whole RHO, 3 partner RHOs.
    released_tier smallint NOT NULL DEFAULT 0,
    published_at timestamptz,
    next_release_at timestamptz,
    cancelled_at timestamptz,
    cancel_reason text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shifts_practice_same_org_fkey FOREIGN KEY (practice_id, org_id) REFERENCES practices (id, org_id),
    CONSTRAINT shifts_window CHECK (ends_at > starts_at),
    CONSTRAINT shifts_max_length CHECK (ends_at - starts_at <= interval '24 hours'),
    CONSTRAINT shifts_status_check CHECK (status IN ('draft', 'open', 'filled', 'cancelled', 'expired')),
    CONSTRAINT shifts_kind_check CHECK (kind IN ('day_cover', 'ooh_consult', 'ooh_visit', 'ooh_backup', 'ooh_coordination', 'remote')),
    CONSTRAINT shifts_profession_check CHECK (profession IN ('gp', 'nurse_practitioner', 'physician_assistant', 'poh_s', 'poh_ggz', 'assistant', 'triage_assistant', 'practice_manager')),
    CONSTRAINT shifts_engagement_check CHECK (engagement_type IN ('freelance', 'secondment', 'temporary_employment', 'exchange')),
    CONSTRAINT shifts_rate_range CHECK (rate_cents BETWEEN 0 AND 100000),
    CONSTRAINT shifts_slots_range CHECK (slots BETWEEN 1 AND 20),
    CONSTRAINT shifts_tier_range CHECK (released_tier BETWEEN 0 AND 3),
    CONSTRAINT shifts_max_distance_range CHECK (max_distance_km IS NULL OR max_distance_km BETWEEN 1 AND 300)
);
CREATE INDEX shifts_org_status_start_idx ON shifts (org_id, status, starts_at);
CREATE INDEX shifts_practice_start_idx ON shifts (practice_id, starts_at DESC);
CREATE INDEX shifts_open_start_idx ON shifts (starts_at) WHERE status = 'open';
CREATE INDEX shifts_release_due_idx ON shifts (next_release_at) WHERE status = 'open' AND next_release_at IS NOT NULL;

-- Who has been offered a call, in which tier: each person is told once, and
-- told again when the offer is withdrawn (filled or cancelled).
CREATE TABLE shift_offers (
    shift_id uuid NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id uuid NOT NULL,
    tier smallint NOT NULL,
    score integer NOT NULL,
    offered_at timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    PRIMARY KEY (shift_id, user_id)
);
CREATE INDEX shift_offers_user_idx ON shift_offers (user_id, offered_at DESC);

-- Availability: one-off windows, or weekly patterns in local time with
-- exceptions. Published by the worker, or for them by their employer.
CREATE TABLE availability (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    published_by uuid NOT NULL REFERENCES users (id),
    kind text NOT NULL,
    starts_at timestamptz,
    ends_at timestamptz,
    weekday smallint,
    start_time time,
    end_time time,
    valid_from date,
    valid_until date,
    note text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT availability_kind_check CHECK (kind IN ('once', 'weekly')),
    CONSTRAINT availability_shape CHECK (
        (kind = 'once' AND starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > starts_at
            AND weekday IS NULL AND start_time IS NULL AND end_time IS NULL)
        OR (kind = 'weekly' AND weekday BETWEEN 1 AND 7 AND start_time IS NOT NULL AND end_time IS NOT NULL
            AND valid_from IS NOT NULL AND (valid_until IS NULL OR valid_until >= valid_from)
            AND starts_at IS NULL AND ends_at IS NULL)
    )
);
CREATE INDEX availability_user_idx ON availability (user_id);
CREATE INDEX availability_once_end_idx ON availability (ends_at) WHERE kind = 'once';

CREATE TABLE availability_exceptions (
    availability_id uuid NOT NULL REFERENCES availability (id) ON DELETE CASCADE,
    on_date date NOT NULL,
    PRIMARY KEY (availability_id, on_date)
);

-- A practice's regular people (get calls first) and people it does not want.
CREATE TABLE practice_favourites (
    practice_id uuid NOT NULL,
    org_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (practice_id, user_id),
    CONSTRAINT practice_favourites_practice_fkey FOREIGN KEY (practice_id, org_id) REFERENCES practices (id, org_id)
);
CREATE INDEX practice_favourites_user_idx ON practice_favourites (user_id);

CREATE TABLE blocks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- 'practice' blocks a worker; 'worker' blocks a practice.
    blocked_by text NOT NULL,
    practice_id uuid NOT NULL REFERENCES practices (id),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blocks_blocked_by_check CHECK (blocked_by IN ('practice', 'worker')),
    CONSTRAINT blocks_unique_key UNIQUE (blocked_by, practice_id, user_id)
);
CREATE INDEX blocks_user_idx ON blocks (user_id);

-- The event log behind WebSocket push. Written in the same transaction as the
-- change it announces. Delivery order is (xid, id): a transaction still in
-- flight holds an xid at or above the current snapshot's xmin, so delivering
-- only rows with xid below xmin, ordered by (xid, id), never lets a row
-- appear later "behind" a cursor a client already holds.
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    recipient_user_id uuid NOT NULL,
    kind text NOT NULL,
    shift_id uuid,
    payload jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_recipient_cursor_idx ON events (recipient_user_id, xid, id);
-- The hubs' global reader walks the whole log in delivery order.
CREATE INDEX events_cursor_idx ON events (xid, id);
CREATE INDEX events_created_idx ON events (created_at);

-- Highest xid whose events were pruned: a client resuming from below it must resync.
CREATE TABLE event_log_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_through_xid xid8 NOT NULL DEFAULT '0'
);
INSERT INTO event_log_state DEFAULT VALUES;

CREATE TABLE ws_tickets (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX ws_tickets_expires_idx ON ws_tickets (expires_at);

-- Row-level security (see the foundation migration for the scope settings).
ALTER TABLE shifts ENABLE ROW LEVEL SECURITY;
CREATE POLICY shifts_scope ON shifts
    USING (pb_scope_is_system() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE shift_offers ENABLE ROW LEVEL SECURITY;
CREATE POLICY shift_offers_scope ON shift_offers
    USING (pb_scope_is_system() OR user_id = pb_scope_user() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE availability ENABLE ROW LEVEL SECURITY;
CREATE POLICY availability_scope ON availability
    USING (pb_scope_is_system() OR user_id = pb_scope_user()
           OR EXISTS (SELECT 1 FROM memberships m
                      WHERE m.user_id = availability.user_id AND m.org_id = ANY (pb_scope_orgs())));

ALTER TABLE availability_exceptions ENABLE ROW LEVEL SECURITY;
CREATE POLICY availability_exceptions_scope ON availability_exceptions
    USING (EXISTS (SELECT 1 FROM availability a WHERE a.id = availability_exceptions.availability_id));

ALTER TABLE practice_favourites ENABLE ROW LEVEL SECURITY;
CREATE POLICY practice_favourites_scope ON practice_favourites
    USING (pb_scope_is_system() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE blocks ENABLE ROW LEVEL SECURITY;
CREATE POLICY blocks_scope ON blocks
    USING (pb_scope_is_system() OR user_id = pb_scope_user()
           OR EXISTS (SELECT 1 FROM practices p WHERE p.id = blocks.practice_id AND p.org_id = ANY (pb_scope_orgs())));

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
-- People read only their own events; any scoped action may announce something
-- to others (a cancelled call tells everyone who held an offer); pruning is
-- system work.
CREATE POLICY events_read ON events FOR SELECT
    USING (pb_scope_is_system() OR recipient_user_id = pb_scope_user());
CREATE POLICY events_announce ON events FOR INSERT
    WITH CHECK (pb_scope_is_system() OR pb_scope_user() IS NOT NULL);
CREATE POLICY events_prune ON events FOR DELETE
    USING (pb_scope_is_system());

ALTER TABLE ws_tickets ENABLE ROW LEVEL SECURITY;
CREATE POLICY ws_tickets_scope ON ws_tickets
    USING (pb_scope_is_system() OR user_id = pb_scope_user());

GRANT SELECT, INSERT, UPDATE, DELETE ON
    shifts, shift_offers, availability, availability_exceptions, practice_favourites, blocks, events, ws_tickets
    TO pb_app;
GRANT SELECT, UPDATE ON event_log_state TO pb_app;
GRANT UPDATE (release_rho_after_minutes, release_partners_after_minutes, min_rest_minutes) ON organisations TO pb_app;
