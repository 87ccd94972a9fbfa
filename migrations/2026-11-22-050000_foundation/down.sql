DROP TABLE audit_log;
DROP FUNCTION audit_log_reject_change();
DROP TABLE invitations;
DROP TABLE refresh_tokens;
DROP TABLE background_checks;
DROP TABLE registrations;
DROP TABLE worker_profiles;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE practices;
DROP TABLE hagros;
DROP TABLE sharing_agreements;
DROP TABLE organisations;
DROP FUNCTION pb_scope_orgs();
DROP FUNCTION pb_scope_user();
DROP FUNCTION pb_scope_is_system();
REVOKE USAGE ON SCHEMA public FROM pb_app;
-- The pb_app role is cluster-wide and may serve other databases: it stays.
