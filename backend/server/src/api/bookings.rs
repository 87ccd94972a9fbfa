//! Turning a match into work, exactly once: accepting an offer, applying and
//! being confirmed, named invitations, listing and cancelling bookings.
//!
//! The database decides who wins (see `pb_store::bookings`): losers get 409
//! `shift_no_longer_open` or `worker_already_booked`, never a 500.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Amsterdam;
use pb_store::audit::{self, NewAuditEntry, SeveralPeopleSeen};
use pb_store::bookings::{self, Booking, BookingQuery};
use pb_store::shifts::{self, Shift};
use pb_store::{events, orgs, AsyncPgConnection, Scope};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer, Reservation};
use crate::matching;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingView {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub slot: i32,
    pub user_id: Uuid,
    pub organisation_id: Uuid,
    pub practice_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Europe/Amsterdam wall-clock times.
    pub starts_at_local: String,
    pub ends_at_local: String,
    /// Real length, DST included.
    pub duration_minutes: i64,
    pub engagement_type: String,
    pub rate_cents: i32,
    /// `confirmed` or `cancelled`.
    pub status: String,
    /// `accept`, `confirm` or `invitation`.
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub late_cancellation: bool,
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Amsterdam).format("%Y-%m-%dT%H:%M").to_string()
}

impl From<Booking> for BookingView {
    fn from(b: Booking) -> Self {
        BookingView {
            id: b.id,
            shift_id: b.shift_id,
            slot: b.slot,
            user_id: b.user_id,
            organisation_id: b.org_id,
            practice_id: b.practice_id,
            starts_at_local: local(b.starts_at),
            ends_at_local: local(b.ends_at),
            duration_minutes: (b.ends_at - b.starts_at).num_minutes(),
            starts_at: b.starts_at,
            ends_at: b.ends_at,
            engagement_type: b.engagement_type,
            rate_cents: b.rate_cents,
            status: b.status,
            source: b.source,
            created_at: b.created_at,
            cancelled_at: b.cancelled_at,
            cancelled_by: b.cancelled_by,
            cancel_reason: b.cancel_reason,
            late_cancellation: b.late_cancellation,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub user_id: Uuid,
    /// `applied`, `confirmed`, `declined` or `withdrawn`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<bookings::Application> for ApplicationView {
    fn from(a: bookings::Application) -> Self {
        ApplicationView {
            id: a.id,
            shift_id: a.shift_id,
            user_id: a.user_id,
            status: a.status,
            created_at: a.created_at,
        }
    }
}

/// What accepting led to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptResponse {
    /// `booked` (201) or `applied` (202: the practice confirms).
    pub outcome: &'static str,
    pub booking: Option<BookingView>,
    pub application: Option<ApplicationView>,
}

fn no_longer_open() -> ApiError {
    ApiError::conflict("shift_no_longer_open", "The call is no longer open")
}

/// Book `user_id` on the call inside the caller's transaction and announce it:
/// the person and the practice hear it is booked; when the call is full,
/// everyone else's offer is withdrawn. Returns the booking and who to poke.
async fn book(
    c: &mut AsyncPgConnection,
    shift_id: Uuid,
    user_id: Uuid,
    source: &'static str,
    actor: Uuid,
) -> ApiResult<(Booking, Vec<Uuid>)> {
    let booking = bookings::take_slot(c, shift_id, user_id, source).await?.ok_or_else(no_longer_open)?;
    // One round trip: the call as the booking left it, the booked person's
    // own offer done (it is not "withdrawn" for them), the managers told.
    let (shift, own_offer, managers) = {
        let conn: &AsyncPgConnection = c;
        futures_util::join!(
            shifts::find(conn, shift_id),
            shifts::withdraw_offer(conn, shift_id, user_id),
            orgs::practice_managers(conn, booking.practice_id)
        )
    };
    let shift = shift?;
    own_offer?;
    // The booked person first, then the practice's managers: one insert.
    let mut recipients = vec![user_id];
    recipients.extend(managers?);
    let payload = json!({ "booking_id": booking.id, "shift_id": shift_id, "user_id": user_id, "slot": booking.slot,
        "starts_at": booking.starts_at, "ends_at": booking.ends_at });
    // The writes depend on nothing but the booking: one round trip (the
    // events keep this order in the log).
    let conn: &AsyncPgConnection = c;
    let filled = async {
        if shift.status == "filled" {
            matching::withdraw_offers(conn, &shift, "filled").await
        } else {
            Ok(Vec::new())
        }
    };
    let (confirmed, mail, withdrawn, audited) = futures_util::join!(
        events::append_many(conn, &recipients, "booking_confirmed", Some(shift_id), payload),
        crate::notify::enqueue(conn, crate::notify::Notification::BookingConfirmed { booking_id: booking.id }),
        filled,
        audit::record(
            conn,
            NewAuditEntry {
                action: "booking.created",
                subject_user_id: Some(user_id),
                actor_user_id: Some(actor),
                on_behalf_of_org_id: Some(shift.org_id),
                agreement_id: None,
                allowed: true,
                detail: json!({ "booking_id": booking.id, "shift_id": shift_id, "source": source }),
            },
        )
    );
    confirmed?;
    mail?;
    audited?;
    recipients.extend(withdrawn?);
    Ok((booking, recipients))
}

/// Accept an offer. Booked at once when the offer came by named invitation or
/// from a tier the practice books instantly; otherwise an application the
/// practice confirms. Without a live offer the call is not visible: 404.
#[utoipa::path(tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer on retry")),
    responses((status = 201, body = AcceptResponse, description = "booked"), (status = 202, body = AcceptResponse, description = "applied"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`shift_no_longer_open`, `worker_already_booked` or `already_booked`")))]
#[post("/shifts/{id}/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let shift_id = path.into_inner();
    idempotency::idempotent(&state, &user, &req, &serde_json::Value::Null, async |reservation| {
        accept_work(&state, &user, shift_id, reservation).await
    })
    .await
}

async fn accept_work(
    state: &AppState,
    user: &AuthUser,
    shift_id: Uuid,
    reservation: &Reservation,
) -> ApiResult<Answer> {
    let outcome = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            // The offer, the call and how the practice books: one round trip.
            let (offer, shift, instant_tier) = {
                let conn: &AsyncPgConnection = c;
                futures_util::join!(
                    shifts::offer_of(conn, shift_id, user.id),
                    shifts::find(conn, shift_id),
                    instant_tier(conn, shift_id)
                )
            };
            let Some(offer) = offer? else {
                // Never offered: the call is not visible to this person.
                return Err(ApiError::not_found());
            };
            // Offered, so the call and its practice exist.
            let shift = shift?;
            if offer.withdrawn_at.is_some() {
                // They knew the call; say why it is gone.
                let mine = bookings::list(c, &BookingQuery::Shift(shift_id), None, false, 50).await?;
                if mine.iter().any(|b| b.user_id == user.id) {
                    return Err(ApiError::conflict("already_booked", "You already have this call"));
                }
                if shift.status != "open" {
                    return Err(no_longer_open());
                }
                // Withdrawn because they were booked elsewhere at that time?
                let booked = bookings::confirmed_windows(c, &[user.id], shift.starts_at).await?;
                if booked.iter().any(|(_, s, e)| *s < shift.ends_at && shift.starts_at < *e) {
                    return Err(ApiError::conflict("worker_already_booked", "You are already booked at that time"));
                }
                return Err(ApiError::conflict("offer_withdrawn", "This offer was withdrawn"));
            }
            if shift.status != "open" {
                return Err(no_longer_open());
            }
            let instant = offer.tier == 0 || offer.tier <= instant_tier?;
            if instant {
                let source = if offer.tier == 0 { "invitation" } else { "accept" };
                let (b, recipients) = book(c, shift_id, user.id, source, user.id).await?;
                let window = booked_window(&b)?;
                let body = idempotency::to_json(&AcceptResponse {
                    outcome: "booked",
                    booking: Some(b.into()),
                    application: None,
                })?;
                reservation.complete(c, StatusCode::CREATED, &body).await?;
                return Ok(((StatusCode::CREATED, body), recipients, Some(window)));
            }
            let (application, new) = bookings::apply(c, shift_id, user.id, shift.org_id).await?;
            let mut recipients = Vec::new();
            if new {
                let managers = orgs::practice_managers(c, shift.practice_id).await?;
                let payload = json!({ "application_id": application.id, "shift_id": shift_id, "user_id": user.id });
                events::append_many(c, &managers, "application", Some(shift_id), payload).await?;
                recipients = managers;
            }
            let body = idempotency::to_json(&AcceptResponse {
                outcome: "applied",
                booking: None,
                application: Some(application.into()),
            })?;
            reservation.complete(c, StatusCode::ACCEPTED, &body).await?;
            Ok(((StatusCode::ACCEPTED, body), recipients, None))
        })
        .await?;
    let (answer, recipients, booked) = outcome;
    crate::realtime::notify(state, recipients).await;
    if let Some(window) = booked {
        matching::booked_in_background(state, user.id, window).await;
    }
    Ok(answer)
}

/// The time a booking holds its person.
fn booked_window(b: &Booking) -> ApiResult<pb_domain::TimeWindow> {
    pb_domain::TimeWindow::new(b.starts_at, b.ends_at).map_err(ApiError::internal)
}

/// Up to which tier the practice of a call books at once (an accept from a
/// later tier is an application).
async fn instant_tier(c: &AsyncPgConnection, shift_id: Uuid) -> Result<i16, pb_store::StoreError> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pb_store::schema::{practices, shifts};
    Ok(practices::table
        .filter(practices::id.nullable().eq(shifts::table.find(shift_id).select(shifts::practice_id).single_value()))
        .select(practices::instant_booking_tier)
        .first(&mut &*c)
        .await?)
}

/// Load a call for its practice's staff (managers, the RHO's coordinators); others 404.
async fn staff_shift(state: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<Shift> {
    let s = state.db.tx(&Scope::System, async |c| shifts::find(c, id).await.map_err(ApiError::from)).await?;
    if user.is_admin() || user.actor.manages_practice(s.practice_id) || user.actor.coordinates(s.org_id) {
        Ok(s)
    } else {
        Err(ApiError::not_found())
    }
}

/// The applicants of a call (its practice's staff). Seeing who applied is
/// access to their data and is audited.
#[utoipa::path(tag = "bookings", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ApplicationView>), (status = 404, body = Problem)))]
#[get("/shifts/{id}/applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<ApplicationView>>> {
    let s = staff_shift(&state, &user, path.into_inner()).await?;
    let list = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let list = bookings::applications(c, s.id).await?;
            let seen: Vec<(Uuid, Option<Uuid>)> = list.iter().map(|a| (a.user_id, None)).collect();
            audit::record_several(
                c,
                SeveralPeopleSeen {
                    action: "application.list",
                    actor: user.id,
                    org: s.org_id,
                    people: &seen,
                    detail: json!({ "shift_id": s.id }),
                },
            )
            .await?;
            Ok(list)
        })
        .await?;
    Ok(web::Json(list.into_iter().map(Into::into).collect()))
}

/// Confirm an applicant: books them if a slot is still free.
#[utoipa::path(tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("application_id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer on retry")),
    responses((status = 201, body = BookingView), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`shift_no_longer_open`, `worker_already_booked`, `application_not_open`")))]
#[post("/shifts/{id}/applications/{application_id}/confirm")]
pub async fn confirm_application(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (shift_id, application_id) = path.into_inner();
    idempotency::idempotent(&state, &user, &req, &serde_json::Value::Null, async |reservation| {
        confirm_work(&state, &user, shift_id, application_id, reservation).await
    })
    .await
}

async fn confirm_work(
    state: &AppState,
    user: &AuthUser,
    shift_id: Uuid,
    application_id: Uuid,
    reservation: &Reservation,
) -> ApiResult<Answer> {
    let s = staff_shift(state, user, shift_id).await?;
    let (booking, recipients) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let a = bookings::find_application(c, application_id).await?;
            if a.shift_id != s.id {
                return Err(ApiError::not_found());
            }
            if a.status != "applied" {
                return Err(ApiError::conflict("application_not_open", "This application was decided already"));
            }
            let (booking, recipients) = book(c, s.id, a.user_id, "confirm", user.id).await?;
            bookings::decide_application(c, a.id, "confirmed").await?;
            let body = idempotency::to_json(&BookingView::from(booking.clone()))?;
            reservation.complete(c, StatusCode::CREATED, &body).await?;
            Ok(((booking, body), recipients))
        })
        .await?;
    let (booking, body) = booking;
    crate::realtime::notify(state, recipients).await;
    matching::booked_in_background(state, booking.user_id, booked_window(&booking)?).await;
    Ok((StatusCode::CREATED, body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    pub user_id: Uuid,
}

/// Invite a named person to a call: they get an offer that books at once when
/// they accept. The person must be one the practice's RHO may deploy.
#[utoipa::path(tag = "bookings", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = InvitationRequest,
    responses((status = 201, description = "invited"), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/shifts/{id}/invitations")]
pub async fn invite(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<InvitationRequest>,
) -> ApiResult<HttpResponse> {
    let s = staff_shift(&state, &user, path.into_inner()).await?;
    let invitee = body.user_id;
    let access = crate::api::relations::person_for_org(&state, s.org_id, invitee).await?;
    let recipients = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            if s.status != "open" {
                return Err(no_longer_open());
            }
            invite_offer(c, s.id, invitee, s.org_id).await?;
            let mut payload = matching::call_summary(&s);
            payload["invited_by"] = json!(user.id);
            events::append(c, invitee, "invitation", Some(s.id), payload).await?;
            crate::notify::enqueue(
                c,
                crate::notify::Notification::ShiftInvitation { shift_id: s.id, user_id: invitee },
            )
            .await?;
            audit::record(
                c,
                NewAuditEntry {
                    action: "shift.invitation",
                    subject_user_id: Some(invitee),
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: Some(s.org_id),
                    agreement_id: access.agreement(),
                    allowed: true,
                    detail: json!({ "shift_id": s.id }),
                },
            )
            .await?;
            Ok(vec![invitee])
        })
        .await?;
    crate::realtime::notify(&state, recipients).await;
    Ok(HttpResponse::Created().json(json!({ "shift_id": s.id, "user_id": invitee, "status": "invited" })))
}

/// Make (or upgrade) the person's offer into a named invitation (tier 0).
async fn invite_offer(c: &mut AsyncPgConnection, shift_id: Uuid, user_id: Uuid, org_id: Uuid) -> ApiResult<()> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pb_store::schema::shift_offers as o;
    diesel::insert_into(o::table)
        .values((
            o::shift_id.eq(shift_id),
            o::user_id.eq(user_id),
            o::org_id.eq(org_id),
            o::tier.eq(0i16),
            o::score.eq(0),
        ))
        .on_conflict((o::shift_id, o::user_id))
        .do_update()
        .set((o::tier.eq(0i16), o::withdrawn_at.eq(None::<DateTime<Utc>>)))
        .execute(c)
        .await?;
    Ok(())
}

/// Decline an offer: it disappears from your list; any application is withdrawn.
#[utoipa::path(tag = "bookings", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
#[post("/shifts/{id}/decline")]
pub async fn decline(state: web::Data<AppState>, user: AuthUser, path: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let shift_id = path.into_inner();
    state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            if !shifts::withdraw_offer(c, shift_id, user.id).await? {
                return Err(ApiError::not_found());
            }
            let org = shifts::find(c, shift_id).await?.org_id;
            let (a, new) = bookings::apply(c, shift_id, user.id, org).await?;
            bookings::decide_application(c, a.id, if new { "declined" } else { "withdrawn" }).await?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BookingListQuery {
    /// Only bookings that end after this local date (default: today).
    pub from: Option<chrono::NaiveDate>,
    /// Include cancelled bookings.
    pub include_cancelled: Option<bool>,
    pub limit: Option<i64>,
}

/// Bookings per role: a worker's own, a practice manager's practices', a
/// coordinator's region.
#[utoipa::path(tag = "bookings", security(("bearer" = [])), params(BookingListQuery),
    responses((status = 200, body = Vec<BookingView>), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[get("/bookings")]
pub async fn list_bookings(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<BookingListQuery>,
) -> ApiResult<web::Json<Vec<BookingView>>> {
    let limit = crate::api::PageQuery { limit: query.limit, cursor: None }.limit()?;
    let from_day = query.from.unwrap_or_else(|| Utc::now().with_timezone(&Amsterdam).date_naive());
    let from = pb_domain::shift::local_to_utc(from_day, chrono::NaiveTime::MIN).ok();
    let coordinated: Vec<Uuid> = user.actor.coordinated_orgs().collect();
    let managed: Vec<Uuid> = user.actor.managed_practices().map(|(p, _)| p).collect();
    let q = if !coordinated.is_empty() {
        BookingQuery::Orgs(coordinated)
    } else if !managed.is_empty() {
        BookingQuery::Practices(managed)
    } else {
        BookingQuery::Worker(user.id)
    };
    let include = query.include_cancelled.unwrap_or(false);
    let rows = state
        .db
        .tx(&user.scope, async |c| bookings::list(c, &q, from, include, limit).await.map_err(ApiError::from))
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBookingRequest {
    /// Why (shown to the other side), 1-500 characters.
    pub reason: String,
}

/// Cancel a booking, by the worker or the practice. Within the RHO's notice
/// window it counts as a late cancellation. The call reopens and is matched again.
#[utoipa::path(tag = "bookings", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CancelBookingRequest,
    responses((status = 200, body = BookingView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bookings/{id}/cancel")]
pub async fn cancel_booking(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<CancelBookingRequest>,
) -> ApiResult<web::Json<BookingView>> {
    let id = path.into_inner();
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid("reason", "invalid_reason", "give a reason of 1 to 500 characters"));
    }
    let (cancelled, recipients, shift_id) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let b = bookings::find_for_update(c, id).await?;
            let by = if b.user_id == user.id {
                "worker"
            } else if user.is_admin() || user.actor.manages_practice(b.practice_id) || user.actor.coordinates(b.org_id)
            {
                "practice"
            } else {
                return Err(ApiError::not_found());
            };
            if b.status != "confirmed" {
                return Err(ApiError::conflict("booking_not_confirmed", "This booking was cancelled already"));
            }
            if b.starts_at <= Utc::now() {
                return Err(ApiError::conflict("booking_started", "A booking that has started cannot be cancelled"));
            }
            let late = is_late(c, b.org_id, by, b.starts_at).await?;
            let cancelled =
                bookings::cancel(c, id, by, user.id, &reason, late).await?.ok_or_else(ApiError::not_found)?;
            // People whose offer was withdrawn when the call filled may be offered it again.
            clear_withdrawn_offers(c, b.shift_id).await?;
            let shift = shifts::find(c, b.shift_id).await?;
            let mut recipients = orgs::practice_managers(c, shift.practice_id).await?;
            recipients.push(b.user_id);
            let payload =
                json!({ "booking_id": id, "shift_id": b.shift_id, "cancelled_by": by, "reason": reason, "late": late });
            events::append_many(c, &recipients, "booking_cancelled", Some(b.shift_id), payload).await?;
            crate::notify::enqueue(c, crate::notify::Notification::BookingCancelled { booking_id: id }).await?;
            audit::record(
                c,
                NewAuditEntry {
                    action: "booking.cancelled",
                    subject_user_id: Some(b.user_id),
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: Some(b.org_id),
                    agreement_id: None,
                    allowed: true,
                    detail: json!({ "booking_id": id, "by": by, "late": late }),
                },
            )
            .await?;
            Ok((cancelled, recipients, b.shift_id))
        })
        .await?;
    crate::realtime::notify(&state, recipients).await;
    matching::refresh_in_background(&state, cancelled.user_id, matching::Kind::Full).await;
    // The freed slot is matched again right away.
    matching::offer_call_after_commit(&state, shift_id).await;
    Ok(web::Json(cancelled.into()))
}

async fn is_late(c: &mut AsyncPgConnection, org: Uuid, by: &str, starts_at: DateTime<Utc>) -> ApiResult<bool> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pb_store::schema::organisations as o;
    let (practice_hours, worker_hours): (i32, i32) =
        o::table.find(org).select((o::cancel_notice_practice_hours, o::cancel_notice_worker_hours)).first(c).await?;
    let notice = if by == "worker" { worker_hours } else { practice_hours };
    Ok(starts_at - Utc::now() < chrono::Duration::hours(i64::from(notice)))
}

async fn clear_withdrawn_offers(c: &mut AsyncPgConnection, shift_id: Uuid) -> ApiResult<()> {
    Ok(shifts::forget_withdrawn_offers(c, shift_id).await?)
}
