-- One access that shows several people at once (a call's candidate list, its
-- applications) is one audit row that names them all, instead of one row per
-- person (decision 0026). `subject_user_ids` lists the people in the order
-- they were shown; `agreement_ids`, when any of them was shared under an
-- agreement, holds the agreement of each, position by position (NULL where
-- none). A row names either one subject (`subject_user_id`) or several.
ALTER TABLE audit_log
    ADD COLUMN subject_user_ids uuid[],
    ADD COLUMN agreement_ids uuid[],
    ADD CONSTRAINT audit_log_subjects_check CHECK (
        subject_user_ids IS NULL
        OR (subject_user_id IS NULL AND agreement_id IS NULL
            AND cardinality(subject_user_ids) > 0
            AND array_position(subject_user_ids, NULL) IS NULL
            AND (agreement_ids IS NULL OR cardinality(agreement_ids) = cardinality(subject_user_ids))));

-- A person's own view finds the rows that name them among others through a
-- GIN index: a new row's entries go to the index's pending list in one
-- write, where a B-tree took one random leaf insert per person. The insert
-- that finds the list full moves it into the index itself; a 512 kB list
-- (the default is 4 MB) keeps that pause short.
CREATE INDEX audit_log_subjects_idx ON audit_log USING gin (subject_user_ids) WITH (gin_pending_list_limit = 512);

-- The people named in a row may read it (the API shows each of them only
-- their own place in it); writing stays as it was.
DROP POLICY audit_log_scope ON audit_log;
CREATE POLICY audit_log_scope ON audit_log
    USING (pb_scope_is_system() OR subject_user_id = pb_scope_user()
           OR subject_user_ids @> ARRAY[pb_scope_user()]
           OR on_behalf_of_org_id = ANY (pb_scope_orgs()))
    WITH CHECK (pb_scope_is_system() OR actor_user_id = pb_scope_user());
