-- Bookings, exactly once. The database holds the invariants:
--   * one confirmed booking per slot of a call (partial unique index);
--   * nobody in two overlapping confirmed bookings, across all tenants
--     (exclusion constraint over tstzrange, btree_gist for the equality part);
--   * a call's booked slots never exceed its slots (conditional update).
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Cancellation policy per RHO, as data: the notice each side must give, in
-- hours before the start, below which a cancellation counts as late.
ALTER TABLE organisations
    ADD COLUMN cancel_notice_practice_hours integer NOT NULL DEFAULT 168,
    ADD COLUMN cancel_notice_worker_hours integer NOT NULL DEFAULT 72,
    ADD CONSTRAINT organisations_cancel_notice_range
        CHECK (cancel_notice_practice_hours BETWEEN 0 AND 2160 AND cancel_notice_worker_hours BETWEEN 0 AND 2160);

-- Up to which release tier a practice books people at once when they accept
-- (0 never: it always confirms applicants itself; 1 favourites and HAGRO;
-- 2 the whole RHO; 3 everyone). Named invitations always book at once.
ALTER TABLE practices
    ADD COLUMN instant_booking_tier smallint NOT NULL DEFAULT 1,
    ADD CONSTRAINT practices_instant_booking_tier_range CHECK (instant_booking_tier BETWEEN 0 AND 3);

ALTER TABLE shifts
    ADD COLUMN booked_slots integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT shifts_booked_slots_range CHECK (booked_slots BETWEEN 0 AND slots);

-- Tier 0 in shift_offers marks a named invitation from the practice.
ALTER TABLE shift_offers ADD CONSTRAINT shift_offers_tier_range CHECK (tier BETWEEN 0 AND 3);

CREATE TABLE shift_applications (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shift_id uuid NOT NULL REFERENCES shifts (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'applied',
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    CONSTRAINT shift_applications_status_check CHECK (status IN ('applied', 'confirmed', 'declined', 'withdrawn')),
    CONSTRAINT shift_applications_shift_user_key UNIQUE (shift_id, user_id)
);
CREATE INDEX shift_applications_user_idx ON shift_applications (user_id);

CREATE TABLE bookings (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shift_id uuid NOT NULL REFERENCES shifts (id),
    slot integer NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    org_id uuid NOT NULL,
    practice_id uuid NOT NULL,
    during tstzrange NOT NULL,
    engagement_type text NOT NULL,
    rate_cents integer NOT NULL,
    status text NOT NULL DEFAULT 'confirmed',
    -- How the booking came about: 'accept' (instant), 'confirm' (practice chose an applicant), 'invitation'.
    source text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    cancelled_by text,
    cancelled_by_user uuid REFERENCES users (id),
    cancel_reason text,
    late_cancellation boolean NOT NULL DEFAULT false,
    CONSTRAINT bookings_status_check CHECK (status IN ('confirmed', 'cancelled')),
    CONSTRAINT bookings_source_check CHECK (source IN ('accept', 'confirm', 'invitation')),
    CONSTRAINT bookings_cancelled_by_check CHECK (cancelled_by IS NULL OR cancelled_by IN ('worker', 'practice')),
    CONSTRAINT bookings_slot_positive CHECK (slot >= 1),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (user_id WITH =, during WITH &&) WHERE (status = 'confirmed')
);
CREATE UNIQUE INDEX bookings_slot_key ON bookings (shift_id, slot) WHERE status = 'confirmed';
CREATE UNIQUE INDEX bookings_shift_user_key ON bookings (shift_id, user_id) WHERE status = 'confirmed';
CREATE INDEX bookings_user_idx ON bookings (user_id, lower(during));
CREATE INDEX bookings_org_idx ON bookings (org_id, lower(during));

ALTER TABLE shift_applications ENABLE ROW LEVEL SECURITY;
CREATE POLICY shift_applications_scope ON shift_applications
    USING (pb_scope_is_system() OR user_id = pb_scope_user() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
CREATE POLICY bookings_scope ON bookings
    USING (pb_scope_is_system() OR user_id = pb_scope_user() OR org_id = ANY (pb_scope_orgs()));

GRANT SELECT, INSERT, UPDATE ON shift_applications, bookings TO pb_app;
GRANT UPDATE (cancel_notice_practice_hours, cancel_notice_worker_hours) ON organisations TO pb_app;
GRANT UPDATE (instant_booking_tier) ON practices TO pb_app;
