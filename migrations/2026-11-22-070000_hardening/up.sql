-- Hardening: users behind RLS, audit log refuses TRUNCATE.
-- Users (e-mail addresses, password hashes) behind row-level security too:
-- visible to themselves, to system work (sign-in, background jobs), and to
-- callers whose scope includes an organisation the user belongs to.
-- Organisations stay without RLS: RHO names and regions are public.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_scope ON users
    USING (pb_scope_is_system() OR id = pb_scope_user()
           OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.org_id = ANY (pb_scope_orgs())));

-- The append-only audit log refuses TRUNCATE too (UPDATE and DELETE are
-- refused per row by the foundation migration's trigger).
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();
