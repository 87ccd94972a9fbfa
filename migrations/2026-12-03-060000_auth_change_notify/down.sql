DROP TRIGGER sharing_agreements_auth_changed ON sharing_agreements;
DROP TRIGGER memberships_auth_changed ON memberships;
DROP TRIGGER users_auth_changed ON users;
DROP FUNCTION pb_auth_changed_all();
DROP FUNCTION pb_auth_changed_membership();
DROP FUNCTION pb_auth_changed_user();
