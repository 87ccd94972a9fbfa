// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "xid8", schema = "pg_catalog"))]
    pub struct Xid8;
}

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
        subject_user_ids -> Nullable<Array<Nullable<Uuid>>>,
        agreement_ids -> Nullable<Array<Nullable<Uuid>>>,
    }
}

diesel::table! {
    availability (id) {
        id -> Uuid,
        user_id -> Uuid,
        published_by -> Uuid,
        kind -> Text,
        starts_at -> Nullable<Timestamptz>,
        ends_at -> Nullable<Timestamptz>,
        weekday -> Nullable<Int2>,
        start_time -> Nullable<Time>,
        end_time -> Nullable<Time>,
        valid_from -> Nullable<Date>,
        valid_until -> Nullable<Date>,
        note -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    availability_exceptions (availability_id, on_date) {
        availability_id -> Uuid,
        on_date -> Date,
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
    blocks (id) {
        id -> Uuid,
        blocked_by -> Text,
        practice_id -> Uuid,
        user_id -> Uuid,
        created_by -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    booking_hours (booking_id) {
        booking_id -> Uuid,
        user_id -> Uuid,
        org_id -> Uuid,
        practice_id -> Uuid,
        status -> Text,
        submitted_start -> Timestamptz,
        submitted_end -> Timestamptz,
        submitted_break_minutes -> Int4,
        reason -> Nullable<Text>,
        submitted_at -> Timestamptz,
        submissions -> Int4,
        final_start -> Nullable<Timestamptz>,
        final_end -> Nullable<Timestamptz>,
        final_break_minutes -> Nullable<Int4>,
        note -> Nullable<Text>,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    bookings (id) {
        id -> Uuid,
        shift_id -> Uuid,
        slot -> Int4,
        user_id -> Uuid,
        org_id -> Uuid,
        practice_id -> Uuid,
        during -> Tstzrange,
        engagement_type -> Text,
        rate_cents -> Int4,
        status -> Text,
        source -> Text,
        created_at -> Timestamptz,
        cancelled_at -> Nullable<Timestamptz>,
        cancelled_by -> Nullable<Text>,
        cancelled_by_user -> Nullable<Uuid>,
        cancel_reason -> Nullable<Text>,
        late_cancellation -> Bool,
        hours_reminded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    calendar_feeds (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    event_log_state (singleton) {
        singleton -> Bool,
        pruned_through_xid -> Xid8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    events (id) {
        id -> Int8,
        xid -> Xid8,
        recipient_user_id -> Uuid,
        kind -> Text,
        shift_id -> Nullable<Uuid>,
        payload -> Jsonb,
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
    idempotency_keys (user_id, key) {
        user_id -> Uuid,
        key -> Text,
        method -> Text,
        path -> Text,
        request_hash -> Bytea,
        status -> Text,
        response_status -> Nullable<Int2>,
        response_body -> Nullable<Jsonb>,
        lock_token -> Uuid,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        locked_until -> Timestamptz,
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
    notification_deliveries (id) {
        id -> Uuid,
        outbox_id -> Uuid,
        seq -> Int4,
        user_id -> Nullable<Uuid>,
        email -> Text,
        language -> Text,
        kind -> Text,
        status -> Text,
        subject -> Text,
        summary -> Text,
        body_text -> Nullable<Text>,
        body_html -> Nullable<Text>,
        ics -> Nullable<Text>,
        ics_method -> Nullable<Text>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        digest_outbox_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        dead_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notification_prefs (user_id) {
        user_id -> Uuid,
        modes -> Jsonb,
        quiet_start -> Nullable<Time>,
        quiet_end -> Nullable<Time>,
        digest_hour -> Int2,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    organisations (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        region -> Text,
        created_at -> Timestamptz,
        release_rho_after_minutes -> Int4,
        release_partners_after_minutes -> Int4,
        min_rest_minutes -> Int4,
        cancel_notice_practice_hours -> Int4,
        cancel_notice_worker_hours -> Int4,
        dba_threshold_hours -> Int4,
    }
}

diesel::table! {
    outbox (id) {
        id -> Uuid,
        kind -> Text,
        payload -> Jsonb,
        dedupe_key -> Nullable<Text>,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        processed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    practice_favourites (practice_id, user_id) {
        practice_id -> Uuid,
        org_id -> Uuid,
        user_id -> Uuid,
        created_by -> Uuid,
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
        instant_booking_tier -> Int2,
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
    secondments (id) {
        id -> Uuid,
        org_id -> Uuid,
        borrowing_practice_id -> Uuid,
        lending_org_id -> Uuid,
        lending_practice_id -> Nullable<Uuid>,
        user_id -> Uuid,
        profession -> Text,
        agreement_id -> Nullable<Uuid>,
        starts_on -> Date,
        ends_on -> Date,
        schedule -> Jsonb,
        rate_cents -> Int4,
        notes -> Nullable<Text>,
        status -> Text,
        proposed_ends_on -> Nullable<Date>,
        lender_approved_at -> Nullable<Timestamptz>,
        lender_approved_by -> Nullable<Uuid>,
        borrower_approved_at -> Nullable<Timestamptz>,
        borrower_approved_by -> Nullable<Uuid>,
        person_approved_at -> Nullable<Timestamptz>,
        declined_at -> Nullable<Timestamptz>,
        declined_by -> Nullable<Uuid>,
        decline_reason -> Nullable<Text>,
        ended_at -> Nullable<Timestamptz>,
        ended_by -> Nullable<Uuid>,
        end_reason -> Nullable<Text>,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
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
    shift_applications (id) {
        id -> Uuid,
        shift_id -> Uuid,
        user_id -> Uuid,
        org_id -> Uuid,
        status -> Text,
        created_at -> Timestamptz,
        decided_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    shift_offers (shift_id, user_id) {
        shift_id -> Uuid,
        user_id -> Uuid,
        org_id -> Uuid,
        tier -> Int2,
        score -> Int4,
        offered_at -> Timestamptz,
        withdrawn_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    shifts (id) {
        id -> Uuid,
        org_id -> Uuid,
        practice_id -> Uuid,
        created_by -> Uuid,
        profession -> Text,
        kind -> Text,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        location_practice_id -> Uuid,
        latitude -> Float8,
        longitude -> Float8,
        max_distance_km -> Nullable<Int4>,
        required_skills -> Array<Nullable<Text>>,
        his -> Nullable<Text>,
        his_required -> Bool,
        rate_cents -> Int4,
        engagement_type -> Text,
        urgent -> Bool,
        slots -> Int4,
        notes -> Nullable<Text>,
        status -> Text,
        released_tier -> Int2,
        published_at -> Nullable<Timestamptz>,
        next_release_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
        cancel_reason -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        booked_slots -> Int4,
        secondment_id -> Nullable<Uuid>,
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

diesel::joinable!(availability_exceptions -> availability (availability_id));
diesel::joinable!(background_checks -> organisations (org_id));
diesel::joinable!(blocks -> practices (practice_id));
diesel::joinable!(booking_hours -> bookings (booking_id));
diesel::joinable!(bookings -> shifts (shift_id));
diesel::joinable!(calendar_feeds -> users (user_id));
diesel::joinable!(hagros -> organisations (org_id));
diesel::joinable!(idempotency_keys -> users (user_id));
diesel::joinable!(invitations -> organisations (org_id));
diesel::joinable!(memberships -> organisations (org_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(notification_deliveries -> users (user_id));
diesel::joinable!(notification_prefs -> users (user_id));
diesel::joinable!(practices -> organisations (org_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(registrations -> users (user_id));
diesel::joinable!(secondments -> sharing_agreements (agreement_id));
diesel::joinable!(shift_applications -> shifts (shift_id));
diesel::joinable!(shift_applications -> users (user_id));
diesel::joinable!(shift_offers -> shifts (shift_id));
diesel::joinable!(shift_offers -> users (user_id));
diesel::joinable!(shifts -> secondments (secondment_id));
diesel::joinable!(shifts -> users (created_by));
diesel::joinable!(worker_profiles -> organisations (employer_org_id));
diesel::joinable!(worker_profiles -> practices (employer_practice_id));
diesel::joinable!(worker_profiles -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_log,
    availability,
    availability_exceptions,
    background_checks,
    blocks,
    booking_hours,
    bookings,
    calendar_feeds,
    event_log_state,
    events,
    hagros,
    idempotency_keys,
    invitations,
    memberships,
    notification_deliveries,
    notification_prefs,
    organisations,
    outbox,
    practice_favourites,
    practices,
    refresh_tokens,
    registrations,
    secondments,
    sharing_agreements,
    shift_applications,
    shift_offers,
    shifts,
    users,
    worker_profiles,
);
