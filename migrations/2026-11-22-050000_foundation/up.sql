-- Foundation: tenants (RHOs), sharing agreements, HAGROs, practices, users,
-- memberships, worker profiles, registrations, background checks, sessions,
-- invitations and the append-only audit log.
--
-- Row-level security is the second wall between tenants. The application
-- connects as a member of the NOLOGIN role `pb_app`, which owns nothing, so
-- every policy applies to it. Each transaction states its scope with
-- transaction-local settings (see backend/store/src/scope.rs):
--   pb.scope  'system' (login, background work, demo) or 'user'
--   pb.user   the acting user's id
--   pb.orgs   the RHO ids the acting user may see, as a uuid[] literal
-- No scope at all means no rows: forgetting to scope fails closed.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pb_app') THEN
        CREATE ROLE pb_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;

CREATE FUNCTION pb_scope_is_system() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('pb.scope', true), '') = 'system' $$;

CREATE FUNCTION pb_scope_user() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('pb.user', true), '')::uuid $$;

CREATE FUNCTION pb_scope_orgs() RETURNS uuid[]
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(nullif(current_setting('pb.orgs', true), ''), '{}')::uuid[] $$;

CREATE TABLE organisations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL,
    name text NOT NULL,
    region text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organisations_slug_key UNIQUE (slug),
    CONSTRAINT organisations_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$')
);

CREATE TABLE sharing_agreements (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The RHO whose people are shared ...
    from_org_id uuid NOT NULL REFERENCES organisations (id),
    -- ... with this RHO's practices and coordinators.
    to_org_id uuid NOT NULL REFERENCES organisations (id),
    professions text[] NOT NULL,
    valid_from date NOT NULL,
    valid_until date,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CONSTRAINT sharing_agreements_distinct_orgs CHECK (from_org_id <> to_org_id),
    CONSTRAINT sharing_agreements_validity CHECK (valid_until IS NULL OR valid_until >= valid_from),
    CONSTRAINT sharing_agreements_professions_present CHECK (cardinality(professions) > 0)
);
CREATE INDEX sharing_agreements_to_org_idx ON sharing_agreements (to_org_id);
CREATE INDEX sharing_agreements_from_org_idx ON sharing_agreements (from_org_id);

CREATE TABLE hagros (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organisations (id),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT hagros_org_name_key UNIQUE (org_id, name),
    CONSTRAINT hagros_id_org_key UNIQUE (id, org_id)
);

CREATE TABLE practices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organisations (id),
    hagro_id uuid,
    kind text NOT NULL DEFAULT 'practice',
    name text NOT NULL,
    street text NOT NULL,
    house_number text NOT NULL,
    postcode text NOT NULL,
    city text NOT NULL,
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    his text,
    phone text,
    email text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT practices_id_org_key UNIQUE (id, org_id),
    CONSTRAINT practices_hagro_same_org_fkey FOREIGN KEY (hagro_id, org_id) REFERENCES hagros (id, org_id),
    CONSTRAINT practices_kind_check CHECK (kind IN ('practice', 'gp_post')),
    CONSTRAINT practices_postcode_format CHECK (postcode ~ '^[1-9][0-9]{3} [A-Z]{2}$'),
    CONSTRAINT practices_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT practices_longitude_range CHECK (longitude BETWEEN -180 AND 180)
);
CREATE INDEX practices_org_idx ON practices (org_id, name);
CREATE INDEX practices_hagro_idx ON practices (hagro_id);

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    password_hash text NOT NULL,
    name text NOT NULL,
    language text NOT NULL DEFAULT 'nl',
    -- Access tokens issued before this instant are refused: set on password
    -- change and when an account is disabled.
    sessions_valid_after timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_language_check CHECK (language IN ('nl', 'en')),
    CONSTRAINT users_email_lowercase CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL,
    -- The RHO (tenant). NULL only for the platform-wide admin role.
    org_id uuid REFERENCES organisations (id),
    practice_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memberships_role_check CHECK (role IN ('worker', 'practice_manager', 'coordinator', 'admin')),
    CONSTRAINT memberships_practice_same_org_fkey FOREIGN KEY (practice_id, org_id) REFERENCES practices (id, org_id),
    CONSTRAINT memberships_shape CHECK (
        (role = 'admin' AND org_id IS NULL AND practice_id IS NULL)
        OR (role = 'practice_manager' AND org_id IS NOT NULL AND practice_id IS NOT NULL)
        OR (role IN ('worker', 'coordinator') AND org_id IS NOT NULL AND practice_id IS NULL)
    )
);
CREATE UNIQUE INDEX memberships_unique_key
    ON memberships (user_id, role, coalesce(org_id, '00000000-0000-0000-0000-000000000000'::uuid),
                    coalesce(practice_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE INDEX memberships_org_role_idx ON memberships (org_id, role);

CREATE TABLE worker_profiles (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    professions text[] NOT NULL DEFAULT '{}',
    phone text,
    home_postcode text,
    home_city text,
    home_latitude double precision,
    home_longitude double precision,
    travel_radius_km integer NOT NULL DEFAULT 25,
    min_hourly_rate_cents integer,
    engagement_types text[] NOT NULL DEFAULT '{freelance}',
    skills text[] NOT NULL DEFAULT '{}',
    his_experience text[] NOT NULL DEFAULT '{}',
    employer_kind text NOT NULL DEFAULT 'self',
    employer_practice_id uuid REFERENCES practices (id),
    employer_org_id uuid REFERENCES organisations (id),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT worker_profiles_radius_range CHECK (travel_radius_km BETWEEN 0 AND 300),
    CONSTRAINT worker_profiles_rate_positive CHECK (min_hourly_rate_cents IS NULL OR min_hourly_rate_cents >= 0),
    CONSTRAINT worker_profiles_home_complete CHECK ((home_latitude IS NULL) = (home_longitude IS NULL)),
    CONSTRAINT worker_profiles_employer_shape CHECK (
        (employer_kind = 'self' AND employer_practice_id IS NULL AND employer_org_id IS NULL)
        OR (employer_kind = 'practice' AND employer_practice_id IS NOT NULL)
        OR (employer_kind = 'rho_pool' AND employer_org_id IS NOT NULL AND employer_practice_id IS NULL)
    )
);

CREATE TABLE registrations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    register text NOT NULL,
    number text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    checked_at timestamptz,
    expires_on date,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT registrations_register_check CHECK (register IN ('big', 'knmg_gp', 'kwaliteitsregister_poh_ggz', 'nvvpo', 'kabiz', 'nvda')),
    CONSTRAINT registrations_status_check CHECK (status IN ('pending', 'verified', 'suspended', 'expired', 'rejected')),
    CONSTRAINT registrations_big_number_format CHECK (register <> 'big' OR number ~ '^[0-9]{11}$'),
    CONSTRAINT registrations_register_number_key UNIQUE (register, number)
);
CREATE INDEX registrations_user_idx ON registrations (user_id);

-- Wkkgz "vergewisplicht": that a check was done, when and by whom. Never the documents.
CREATE TABLE background_checks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind text NOT NULL,
    checked_on date NOT NULL,
    checked_by uuid NOT NULL REFERENCES users (id),
    org_id uuid NOT NULL REFERENCES organisations (id),
    note text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT background_checks_kind_check CHECK (kind IN ('vog', 'previous_employer', 'big_measures'))
);
CREATE INDEX background_checks_user_idx ON background_checks (user_id);

CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE invitations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organisations (id),
    practice_id uuid,
    role text NOT NULL,
    email text NOT NULL,
    token_hash bytea NOT NULL,
    invited_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_user_id uuid REFERENCES users (id),
    revoked_at timestamptz,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_practice_same_org_fkey FOREIGN KEY (practice_id, org_id) REFERENCES practices (id, org_id),
    CONSTRAINT invitations_role_check CHECK (
        (role = 'practice_manager' AND practice_id IS NOT NULL)
        OR (role IN ('worker', 'coordinator') AND practice_id IS NULL)
    ),
    CONSTRAINT invitations_email_lowercase CHECK (email = lower(email))
);
CREATE INDEX invitations_org_idx ON invitations (org_id, created_at DESC);

-- Append-only access log (NEN 7513 shape): who looked at whose personal data,
-- for which organisation, under which agreement, and the outcome.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    action text NOT NULL,
    subject_user_id uuid,
    actor_user_id uuid,
    on_behalf_of_org_id uuid,
    agreement_id uuid,
    outcome text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('allowed', 'denied'))
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_user_id, occurred_at DESC);
CREATE INDEX audit_log_org_idx ON audit_log (on_behalf_of_org_id, occurred_at DESC);

CREATE FUNCTION audit_log_reject_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();

-- Row-level security.
ALTER TABLE sharing_agreements ENABLE ROW LEVEL SECURITY;
CREATE POLICY sharing_agreements_scope ON sharing_agreements
    USING (pb_scope_is_system() OR from_org_id = ANY (pb_scope_orgs()) OR to_org_id = ANY (pb_scope_orgs()));

ALTER TABLE hagros ENABLE ROW LEVEL SECURITY;
CREATE POLICY hagros_scope ON hagros
    USING (pb_scope_is_system() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE practices ENABLE ROW LEVEL SECURITY;
CREATE POLICY practices_scope ON practices
    USING (pb_scope_is_system() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
CREATE POLICY memberships_scope ON memberships
    USING (pb_scope_is_system() OR user_id = pb_scope_user() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE worker_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_profiles_scope ON worker_profiles
    USING (pb_scope_is_system() OR user_id = pb_scope_user()
           OR EXISTS (SELECT 1 FROM memberships m
                      WHERE m.user_id = worker_profiles.user_id AND m.role = 'worker'
                        AND m.org_id = ANY (pb_scope_orgs())));

ALTER TABLE registrations ENABLE ROW LEVEL SECURITY;
CREATE POLICY registrations_scope ON registrations
    USING (pb_scope_is_system() OR user_id = pb_scope_user()
           OR EXISTS (SELECT 1 FROM memberships m
                      WHERE m.user_id = registrations.user_id AND m.role = 'worker'
                        AND m.org_id = ANY (pb_scope_orgs())));

ALTER TABLE background_checks ENABLE ROW LEVEL SECURITY;
CREATE POLICY background_checks_scope ON background_checks
    USING (pb_scope_is_system() OR user_id = pb_scope_user() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
CREATE POLICY invitations_scope ON invitations
    USING (pb_scope_is_system() OR org_id = ANY (pb_scope_orgs()));

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY refresh_tokens_scope ON refresh_tokens
    USING (pb_scope_is_system() OR user_id = pb_scope_user());

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_scope ON audit_log
    USING (pb_scope_is_system() OR subject_user_id = pb_scope_user() OR on_behalf_of_org_id = ANY (pb_scope_orgs()))
    WITH CHECK (pb_scope_is_system() OR actor_user_id = pb_scope_user());

-- Privileges of the application role: data only, never DDL, audit log insert-only.
GRANT USAGE ON SCHEMA public TO pb_app;
GRANT SELECT ON organisations TO pb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    sharing_agreements, hagros, practices, users, memberships, worker_profiles,
    registrations, background_checks, refresh_tokens, invitations
    TO pb_app;
GRANT INSERT, UPDATE ON organisations TO pb_app;
GRANT SELECT, INSERT ON audit_log TO pb_app;
