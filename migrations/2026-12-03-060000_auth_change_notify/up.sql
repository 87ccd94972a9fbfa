-- Tell every server instance when the facts behind a signed-in caller change,
-- so each can cache them per user (auth::cache) and drop the entry at once.
-- NOTIFY is delivered at commit, to every session that LISTENs on the
-- channel; a rolled-back change says nothing. The payload is the user's id,
-- or '*' when many callers may be affected (a sharing agreement).

CREATE FUNCTION pb_auth_changed_user() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pb_auth', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION pb_auth_changed_membership() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('pb_auth', OLD.user_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('pb_auth', NEW.user_id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION pb_auth_changed_all() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pb_auth', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER users_auth_changed AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION pb_auth_changed_user();
CREATE TRIGGER memberships_auth_changed AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION pb_auth_changed_membership();
CREATE TRIGGER sharing_agreements_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sharing_agreements
    FOR EACH STATEMENT EXECUTE FUNCTION pb_auth_changed_all();
