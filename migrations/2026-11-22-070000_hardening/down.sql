DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP POLICY users_scope ON users;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
