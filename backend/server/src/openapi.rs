//! The OpenAPI document, generated from the handlers' annotations. Served at
//! `/api/v1/openapi.json` and committed at `docs/api/openapi.json`; a test
//! fails when the committed copy is stale (`UPDATE_OPENAPI=1` rewrites it).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Personeelsbank API",
        description = "Staff-sharing marketplace for Dutch general practice. Errors are application/problem+json with a stable `code`.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    servers((url = "/api/v1")),
    paths(
        api::auth::register, api::auth::login, api::auth::refresh, api::auth::logout, api::auth::accept_invitation,
        api::password_reset::request_reset, api::password_reset::confirm_reset,
        api::me::get_me, api::me::update_me, api::me::change_password, api::me::get_worker_profile,
        api::me::put_worker_profile, api::me::add_registration, api::me::remove_registration, api::me::my_audit_log,
        api::orgs::list_regions, api::orgs::list_organisations, api::orgs::get_organisation, api::orgs::list_hagros, api::orgs::get_settings, api::orgs::update_settings,
        api::practices::list_practices, api::practices::create_practice, api::practices::get_practice,
        api::practices::get_booking_policy, api::practices::put_booking_policy, api::practices::list_staff,
        api::sharing::list_agreements, api::sharing::create_agreement, api::sharing::revoke_agreement,
        api::invitations::create_invitation, api::invitations::list_invitations, api::invitations::revoke_invitation,
        api::workers::list_workers, api::workers::get_worker, api::workers::add_check,
        api::workers::disable_user, api::workers::enable_user,
        api::audit::list_audit_log,
        api::availability::publish_availability, api::availability::available_now,
        api::availability::list_availability, api::availability::delete_availability,
        api::relations::list_favourites, api::relations::add_favourite, api::relations::remove_favourite,
        api::relations::create_block, api::relations::list_blocks, api::relations::delete_block,
        api::bookings::accept, api::bookings::list_applications, api::bookings::confirm_application,
        api::bookings::invite, api::bookings::decline, api::bookings::list_bookings, api::bookings::cancel_booking,
        api::hours::submit_hours, api::hours::approve_hours, api::hours::list_hours, api::hours::export_hours,
        api::reports::engagements, api::reports::region, api::reports::region_csv, api::reports::available_today,
        api::shifts::create_shift, api::shifts::list_shifts, api::shifts::get_shift, api::shifts::update_shift,
        api::shifts::cancel_shift, api::shifts::list_candidates, api::shifts::release_shift,
        api::secondments::create_secondment, api::secondments::list_secondments, api::secondments::get_secondment,
        api::secondments::approve_secondment, api::secondments::decline_secondment,
        api::secondments::extend_secondment, api::secondments::end_secondment,
        api::notifications::get_preferences, api::notifications::put_preferences,
        api::notifications::list_dead_letters, api::notifications::retry_dead_letter,
        api::calendar::create_feed, api::calendar::get_feed, api::calendar::revoke_feed, api::calendar::calendar_feed,
        crate::realtime::ws::issue_ticket,
        api::health::healthz, api::health::readyz,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-up, sign-in, sessions"),
        (name = "me", description = "The signed-in person"),
        (name = "organisations", description = "RHOs (tenants) and HAGROs"),
        (name = "practices", description = "Practices and out-of-hours posts"),
        (name = "sharing", description = "Sharing agreements between RHOs"),
        (name = "invitations", description = "Inviting people by e-mail"),
        (name = "workers", description = "Care workers as seen by coordinators"),
        (name = "audit", description = "The access log"),
        (name = "availability", description = "Published availability: one-off windows, weekly patterns, available now"),
        (name = "relations", description = "Practice favourites and blocks between practices and people"),
        (name = "shifts", description = "Staffing calls (oproepen) and their candidates"),
        (name = "bookings", description = "Accepting, confirming, inviting and cancelling: bookings exactly once"),
        (name = "secondments", description = "Secondments (detachering): weekly schedules at another practice, approved by lender, borrower and person"),
        (name = "hours", description = "Hours worked per booking: submit, approve or amend, list and export as CSV"),
        (name = "reports", description = "Freelancer hours per practice (Wet DBA) and region figures: fill rate, time to fill, unfilled urgent calls, late cancellations"),
        (name = "notifications", description = "Mail preferences (instant, digest, off; quiet hours) and the outbox's dead letters"),
        (name = "calendar", description = "Private iCalendar feeds of booked shifts"),
        (name = "realtime", description = "WebSocket push: tickets for `GET /api/v1/ws`"),
        (name = "health", description = "Liveness and readiness (served at the root, not under /api/v1)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document_json() -> String {
    let mut s = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
