// @generated automatically by Diesel CLI.

diesel::table! {
    audit_log (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        action -> Text,
        subject_user_id -> Nullable<Uuid>,
        actor_user_id -> Nullable<Uuid>,
        on_behalf_of_org_id -> Nullable<Uuid>,
        agreement_id -> Nullable<Uuid>,
        outcome -> Text,
        detail -> Jsonb,
    }
}

diesel::table! {
    background_checks (id) {
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        checked_on -> Date,
        checked_by -> Uuid,
        org_id -> Uuid,
        note -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    hagros (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        org_id -> Uuid,
        practice_id -> Nullable<Uuid>,
        role -> Text,
        email -> Text,
        token_hash -> Bytea,
        invited_by -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        accepted_user_id -> Nullable<Uuid>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    memberships (id) {
        id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        org_id -> Nullable<Uuid>,
        practice_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    organisations (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        region -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    practices (id) {
        id -> Uuid,
        org_id -> Uuid,
        hagro_id -> Nullable<Uuid>,
        kind -> Text,
        name -> Text,
        street -> Text,
        house_number -> Text,
        postcode -> Text,
        city -> Text,
        latitude -> Float8,
        longitude -> Float8,
        his -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    registrations (id) {
        id -> Uuid,
        user_id -> Uuid,
        register -> Text,
        number -> Text,
        status -> Text,
        checked_at -> Nullable<Timestamptz>,
        expires_on -> Nullable<Date>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sharing_agreements (id) {
        id -> Uuid,
        from_org_id -> Uuid,
        to_org_id -> Uuid,
        professions -> Array<Nullable<Text>>,
        valid_from -> Date,
        valid_until -> Nullable<Date>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        name -> Text,
        language -> Text,
        sessions_valid_after -> Timestamptz,
        disabled_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    worker_profiles (user_id) {
        user_id -> Uuid,
        professions -> Array<Nullable<Text>>,
        phone -> Nullable<Text>,
        home_postcode -> Nullable<Text>,
        home_city -> Nullable<Text>,
        home_latitude -> Nullable<Float8>,
        home_longitude -> Nullable<Float8>,
        travel_radius_km -> Int4,
        min_hourly_rate_cents -> Nullable<Int4>,
        engagement_types -> Array<Nullable<Text>>,
        skills -> Array<Nullable<Text>>,
        his_experience -> Array<Nullable<Text>>,
        employer_kind -> Text,
        employer_practice_id -> Nullable<Uuid>,
        employer_org_id -> Nullable<Uuid>,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(background_checks -> organisations (org_id));
diesel::joinable!(hagros -> organisations (org_id));
diesel::joinable!(invitations -> organisations (org_id));
diesel::joinable!(memberships -> organisations (org_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(practices -> organisations (org_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(registrations -> users (user_id));
diesel::joinable!(worker_profiles -> organisations (employer_org_id));
diesel::joinable!(worker_profiles -> practices (employer_practice_id));
diesel::joinable!(worker_profiles -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_log,
    background_checks,
    hagros,
    invitations,
    memberships,
    organisations,
    practices,
    refresh_tokens,
    registrations,
    sharing_agreements,
    users,
    worker_profiles,
);
