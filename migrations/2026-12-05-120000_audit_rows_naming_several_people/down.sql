-- Back to one row per person: each row naming several people is copied into
-- one row per person (the log is append-only, so the originals stay, without
-- their list of people), then the columns go. The copies are new rows: they
-- get new, higher ids, so a log read newest first by id shows them ahead of
-- everything written before the down migration ran (their occurred_at is kept).
INSERT INTO audit_log (occurred_at, action, subject_user_id, actor_user_id, on_behalf_of_org_id, agreement_id, outcome, detail)
SELECT a.occurred_at, a.action, s.subject, a.actor_user_id, a.on_behalf_of_org_id, a.agreement_ids[s.n], a.outcome, a.detail
FROM audit_log a, unnest(a.subject_user_ids) WITH ORDINALITY AS s(subject, n)
WHERE a.subject_user_ids IS NOT NULL
ORDER BY a.id, s.n;
DROP POLICY audit_log_scope ON audit_log;
CREATE POLICY audit_log_scope ON audit_log
    USING (pb_scope_is_system() OR subject_user_id = pb_scope_user() OR on_behalf_of_org_id = ANY (pb_scope_orgs()))
    WITH CHECK (pb_scope_is_system() OR actor_user_id = pb_scope_user());
DROP INDEX audit_log_subjects_idx;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_subjects_check;
ALTER TABLE audit_log DROP COLUMN agreement_ids, DROP COLUMN subject_user_ids;
