ALTER TABLE audit_log DROP CONSTRAINT audit_log_lists_are_plain;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_agreements_beside_subjects;
DROP VIEW audit_log_of_subject;
DROP POLICY audit_log_scope ON audit_log;
CREATE POLICY audit_log_scope ON audit_log
    USING (pb_scope_is_system() OR subject_user_id = pb_scope_user()
           OR subject_user_ids @> ARRAY[pb_scope_user()]
           OR on_behalf_of_org_id = ANY (pb_scope_orgs()))
    WITH CHECK (pb_scope_is_system() OR actor_user_id = pb_scope_user());
