-- Secondments (detachering): a person employed by a practice or by the RHO
-- pool works at another practice for a period on a weekly schedule. The
-- lending party, the borrowing practice and the person approve; then every
-- occurrence becomes a call of its own (`shifts.secondment_id`) with one
-- confirmed booking, under the same no-overlap constraint as every booking.
CREATE TABLE secondments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The borrowing practice's RHO: the tenant the secondment belongs to.
    org_id uuid NOT NULL REFERENCES organisations (id),
    borrowing_practice_id uuid NOT NULL REFERENCES practices (id),
    -- The employer: a practice (lending_practice_id) or the RHO pool (NULL).
    lending_org_id uuid NOT NULL REFERENCES organisations (id),
    lending_practice_id uuid REFERENCES practices (id),
    user_id uuid NOT NULL REFERENCES users (id),
    profession text NOT NULL,
    -- The sharing agreement that allows it when the two RHOs differ.
    agreement_id uuid REFERENCES sharing_agreements (id),
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    -- [{"weekday": 1-7, "start": "08:00", "end": "17:00"}, ...] in Europe/Amsterdam time.
    schedule jsonb NOT NULL,
    -- Hourly recharge to the borrowing practice.
    rate_cents integer NOT NULL,
    notes text,
    status text NOT NULL DEFAULT 'proposed',
    -- A proposed extension awaiting the three approvals.
    proposed_ends_on date,
    lender_approved_at timestamptz,
    lender_approved_by uuid REFERENCES users (id),
    borrower_approved_at timestamptz,
    borrower_approved_by uuid REFERENCES users (id),
    person_approved_at timestamptz,
    declined_at timestamptz,
    declined_by uuid REFERENCES users (id),
    decline_reason text,
    ended_at timestamptz,
    ended_by uuid REFERENCES users (id),
    end_reason text,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT secondments_status_check CHECK (status IN ('proposed', 'active', 'declined', 'ended')),
    CONSTRAINT secondments_period CHECK (ends_on >= starts_on AND ends_on - starts_on <= 366),
    CONSTRAINT secondments_extension CHECK (proposed_ends_on IS NULL OR proposed_ends_on > ends_on),
    CONSTRAINT secondments_rate_range CHECK (rate_cents BETWEEN 0 AND 100000),
    CONSTRAINT secondments_profession_check CHECK (profession IN ('gp', 'nurse_practitioner', 'physician_assistant', 'poh_s', 'poh_ggz', 'assistant', 'triage_assistant', 'practice_manager'))
);
CREATE INDEX secondments_org_idx ON secondments (org_id, status);
CREATE INDEX secondments_lending_org_idx ON secondments (lending_org_id, status);
CREATE INDEX secondments_user_idx ON secondments (user_id);

ALTER TABLE shifts ADD COLUMN secondment_id uuid REFERENCES secondments (id);
CREATE INDEX shifts_secondment_idx ON shifts (secondment_id) WHERE secondment_id IS NOT NULL;

ALTER TABLE bookings DROP CONSTRAINT bookings_source_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_source_check
    CHECK (source IN ('accept', 'confirm', 'invitation', 'secondment'));

ALTER TABLE secondments ENABLE ROW LEVEL SECURITY;
CREATE POLICY secondments_scope ON secondments
    USING (pb_scope_is_system() OR user_id = pb_scope_user()
           OR org_id = ANY (pb_scope_orgs()) OR lending_org_id = ANY (pb_scope_orgs()));

GRANT SELECT, INSERT, UPDATE ON secondments TO pb_app;
