-- A row naming several people (decision 0026) is no longer readable through
-- the table by each person it names: row-level security cannot hide columns,
-- so such a person would have read whom they were listed with and under which
-- agreements. The policy goes back to what it was before 0026 (the row's one
-- subject, or the RHO it was done on behalf of), and a person reads their own
-- rows through `audit_log_of_subject`, which shows each row with only their
-- own place in it (decision 0027).
DROP POLICY audit_log_scope ON audit_log;
CREATE POLICY audit_log_scope ON audit_log
    USING (pb_scope_is_system() OR subject_user_id = pb_scope_user() OR on_behalf_of_org_id = ANY (pb_scope_orgs()))
    WITH CHECK (pb_scope_is_system() OR actor_user_id = pb_scope_user());

-- The view runs with its owner's rights (the migrations' role, which owns
-- audit_log and so is not held by its policy): its WHERE clause is the wall,
-- and it names only the rows of the person the transaction is scoped to. No
-- scope, or the system scope, names nobody and so shows nothing. As a
-- security barrier, no condition of the caller's is evaluated before it.
CREATE VIEW audit_log_of_subject WITH (security_barrier = true) AS
SELECT a.id,
       a.occurred_at,
       a.action,
       pb_scope_user() AS subject_user_id,
       a.actor_user_id,
       a.on_behalf_of_org_id,
       CASE WHEN a.subject_user_ids IS NULL THEN a.agreement_id
            ELSE a.agreement_ids[array_position(a.subject_user_ids, pb_scope_user())]
       END AS agreement_id,
       a.outcome,
       a.detail
FROM audit_log a
WHERE a.subject_user_id = pb_scope_user()
   OR a.subject_user_ids @> ARRAY[pb_scope_user()];
GRANT SELECT ON audit_log_of_subject TO pb_app;

-- Agreements are named position by position beside a list of people, so
-- there is no list of agreements without one of people. Both lists are plain
-- one-dimensional arrays counted from 1, so that a position means the same
-- person in each and `array_position` finds it: a row that broke this could
-- never be corrected (the log is append-only) and would break the named
-- person's own log for good.
ALTER TABLE audit_log ADD CONSTRAINT audit_log_agreements_beside_subjects
    CHECK (agreement_ids IS NULL OR subject_user_ids IS NOT NULL);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_lists_are_plain
    CHECK ((subject_user_ids IS NULL OR (array_ndims(subject_user_ids) = 1 AND array_lower(subject_user_ids, 1) = 1))
       AND (agreement_ids IS NULL OR (array_ndims(agreement_ids) = 1 AND array_lower(agreement_ids, 1) = 1)));
