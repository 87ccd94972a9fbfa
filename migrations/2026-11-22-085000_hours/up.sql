-- Hours worked per booking (urenregistratie) and the RHO's Wet DBA threshold.
--
-- One row per booking: the worker's submission (kept as submitted) and, once
-- the practice decides, the hours that count (equal to the submission when
-- approved, the practice's figures when amended). Resubmitting overwrites the
-- submission only while the row is still 'submitted'.

-- Hours per freelancer per practice over twelve months above which the RHO
-- wants a flag (Wet DBA: long, recurring engagements of one freelancer at one
-- practice). A local choice, stored as data.
ALTER TABLE organisations
    ADD COLUMN dba_threshold_hours integer NOT NULL DEFAULT 1000,
    ADD CONSTRAINT organisations_dba_threshold_range CHECK (dba_threshold_hours BETWEEN 1 AND 8784);

-- When the worker was reminded to submit hours for an ended booking (the
-- reminder job claims bookings with this still empty).
ALTER TABLE bookings ADD COLUMN hours_reminded_at timestamptz;
CREATE INDEX bookings_hours_reminder_idx ON bookings (upper(during))
    WHERE status = 'confirmed' AND hours_reminded_at IS NULL;

CREATE TABLE booking_hours (
    booking_id uuid PRIMARY KEY REFERENCES bookings (id),
    user_id uuid NOT NULL REFERENCES users (id),
    org_id uuid NOT NULL,
    practice_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'submitted',
    -- As submitted by the worker.
    submitted_start timestamptz NOT NULL,
    submitted_end timestamptz NOT NULL,
    submitted_break_minutes integer NOT NULL,
    reason text,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    submissions integer NOT NULL DEFAULT 1,
    -- What counts, once the practice decided.
    final_start timestamptz,
    final_end timestamptz,
    final_break_minutes integer,
    note text,
    decided_at timestamptz,
    decided_by uuid REFERENCES users (id),
    CONSTRAINT booking_hours_status_check CHECK (status IN ('submitted', 'approved', 'amended')),
    CONSTRAINT booking_hours_submitted_window CHECK (
        submitted_end > submitted_start AND submitted_end - submitted_start <= interval '24 hours'
        AND submitted_break_minutes >= 0
        AND submitted_break_minutes * interval '1 minute' < submitted_end - submitted_start),
    CONSTRAINT booking_hours_final_window CHECK (
        final_start IS NULL OR (final_end > final_start AND final_end - final_start <= interval '24 hours'
        AND final_break_minutes >= 0
        AND final_break_minutes * interval '1 minute' < final_end - final_start)),
    CONSTRAINT booking_hours_decided CHECK (
        (status = 'submitted') = (decided_at IS NULL)
        AND (status = 'submitted') = (final_start IS NULL)
        AND (status = 'submitted' OR (final_end IS NOT NULL AND final_break_minutes IS NOT NULL AND decided_by IS NOT NULL))),
    CONSTRAINT booking_hours_amended_note CHECK (status <> 'amended' OR note IS NOT NULL),
    CONSTRAINT booking_hours_submissions_positive CHECK (submissions >= 1)
);
CREATE INDEX booking_hours_org_idx ON booking_hours (org_id, status);
CREATE INDEX booking_hours_user_idx ON booking_hours (user_id);

ALTER TABLE booking_hours ENABLE ROW LEVEL SECURITY;
CREATE POLICY booking_hours_scope ON booking_hours
    USING (pb_scope_is_system() OR user_id = pb_scope_user() OR org_id = ANY (pb_scope_orgs()));

GRANT SELECT, INSERT, UPDATE ON booking_hours TO pb_app;
GRANT UPDATE (dba_threshold_hours) ON organisations TO pb_app;
