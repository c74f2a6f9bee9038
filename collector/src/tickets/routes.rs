//! Ticket endpoints: filing (agents and analysts), listing, detail, changes, comments,
//! problems, the SLA and service-desk reports, engine settings, and what a device does
//! for its user (its tickets' public view, its CSAT rating).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_shared::api::{AuditOutcome, Page, Role};
use tend_shared::tickets::{
    Problem, SlaReport, Ticket, TicketDetail, TicketPatch, TicketRequest, TicketSettings,
    TicketSource,
};

use crate::error::PageParams;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::tickets::{self, Filed, TicketQuery};
use crate::users::auth::{Auth, Principal};
use tend_shared::query::{CsvQuery, OverviewQuery, PageQuery, RangeQuery};
use tend_shared::tickets::CommentBody;

/// `POST /api/v1/tickets`: a device files for itself; an analyst files for `device_id`.
/// 201 when a ticket was created, 200 when the report folded into an existing one.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(mut req): ApiJson<TicketRequest>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let (device, source, actor) = match auth.0 {
        Principal::Device(d) => {
            // the person at the laptop and the agent's automation have budgets of
            // their own: `tend help` never uses up the automatic tickets' allowance
            if req.requester.is_some() {
                state.device_rate(
                    &state.rates.user_tickets,
                    "requests from this laptop's users",
                    &d.id,
                )?;
            } else {
                state.device_rate(&state.rates.device_tickets, "ticket filings", &d.id)?;
            }
            let actor = format!("device:{}", d.id);
            let source = if req.requester.is_some() {
                // the person at the device asked (`tend help`)
                req = tickets::requester::user_request(req)?;
                TicketSource::User
            } else {
                TicketSource::Agent
            };
            (*d, source, actor)
        }
        Principal::Api(_) => {
            let user = auth.require(&state, Role::Analyst, "ticket.create").await?;
            let id = req
                .device_id
                .clone()
                .ok_or_else(|| ApiError::BadRequest("device_id is required".into()))?;
            let device = state
                .store
                .read()
                .device(&id)
                .await?
                .ok_or_else(|| ApiError::not_found("device", &id))?;
            (device, TicketSource::Analyst, user.actor())
        }
    };
    let (t, filed) = tickets::file(&state, &device, req, source, &actor).await?;
    let status = if filed == Filed::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(t)))
}

/// `me` as an assignee means the caller.
fn me(assignee: &mut Option<String>, user: &crate::users::auth::ApiUser) {
    if assignee.as_deref().map(str::trim) == Some("me") {
        *assignee = Some(user.name.clone());
    }
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(mut q): ApiQuery<TicketQuery>,
) -> Result<Json<Page<Ticket>>, ApiError> {
    let user = auth.require(&state, Role::Viewer, "ticket.list").await?;
    me(&mut q.assignee, &user);
    tickets::list(&state, &q).await.map(Json)
}

pub async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TicketDetail>, ApiError> {
    auth.require(&state, Role::Viewer, "ticket.read").await?;
    tickets::detail(&state, &id).await.map(Json)
}

pub async fn patch(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(mut p): ApiJson<TicketPatch>,
) -> Result<Json<Ticket>, ApiError> {
    let user = auth.require(&state, Role::Analyst, "ticket.update").await?;
    me(&mut p.assignee, &user);
    tickets::patch(&state, &user.actor(), &id, p)
        .await
        .map(Json)
}

pub async fn comment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(c): ApiJson<CommentBody>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let user = auth
        .require(&state, Role::Analyst, "ticket.comment")
        .await?;
    if c.text.trim().is_empty() {
        return Err(ApiError::BadRequest("text must not be empty".into()));
    }
    let t = tickets::patch(
        &state,
        &user.actor(),
        &id,
        TicketPatch {
            comment: Some(c.text),
            public: c.public,
            ..Default::default()
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Fleet-wide problems, newest first, a page at a time.
pub async fn problems(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<Problem>>, ApiError> {
    auth.require(&state, Role::Viewer, "problem.list").await?;
    let page = state
        .store
        .read()
        .problems_page(q.cursor()?.as_ref(), q.limit())
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(Json(page))
}

/// Defaults to the last 30 days.
pub async fn sla_report(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> Result<Json<SlaReport>, ApiError> {
    auth.require(&state, Role::Viewer, "report.sla").await?;
    let to = q.to.unwrap_or_else(|| state.now_ms() + 1);
    let from = q.from.unwrap_or_else(|| to.saturating_sub(30 * 86_400_000));
    if from >= to {
        return Err(ApiError::BadRequest("from must be before to".into()));
    }
    tickets::report::sla_report(&state, from, to)
        .await
        .map(Json)
}

pub async fn settings(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<TicketSettings>, ApiError> {
    auth.require(&state, Role::Viewer, "ticket_settings.read")
        .await?;
    Ok(Json(state.ticket_settings()))
}

pub async fn put_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(s): ApiJson<TicketSettings>,
) -> Result<Json<TicketSettings>, ApiError> {
    let user = auth
        .require(&state, Role::Admin, "ticket_settings.update")
        .await?;
    s.validate().map_err(ApiError::BadRequest)?;
    let old = state.ticket_settings();
    crate::atomic!(state.store, tx => {
        state.set_ticket_settings(&mut tx, &s);
        state
            .audit_in(
                &mut tx,
                &user.actor(),
                "ticket_settings.update",
                "",
                AuditOutcome::Success,
                serde_json::json!({"before": old, "after": s}),
            )
            .await?;
        Ok(())
    })?;
    state.reload().await?;
    // open tickets' due times follow the new targets (their index keys move)
    tickets::reindex_due(&state).await?;
    state.store.flush().await?;
    Ok(Json(s))
}

/// `GET /api/v1/reports/overview?days=30|90&stale_days=7`.
pub async fn overview(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<OverviewQuery>,
) -> Result<Json<tend_shared::console::Overview>, ApiError> {
    auth.require(&state, Role::Viewer, "report.overview")
        .await?;
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::BadRequest("days is 1 to 366".into()));
    }
    let stale = q.stale_days.unwrap_or(7);
    if !(1..=3650).contains(&stale) {
        return Err(ApiError::BadRequest("stale_days is 1 to 3650".into()));
    }
    tickets::overview::overview(&state, days, stale)
        .await
        .map(Json)
}

/// `GET /api/v1/reports/service-desk?from=&to=` (default: the last 90 days).
pub async fn service_desk(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> Result<Json<tend_shared::reports::ServiceDeskReport>, ApiError> {
    auth.require(&state, Role::Viewer, "report.service_desk")
        .await?;
    let (from, to) = desk_range(&state, &q)?;
    tickets::desk::report(&state, from, to).await.map(Json)
}

fn desk_range(state: &AppState, q: &RangeQuery) -> Result<(u64, u64), ApiError> {
    let to = q.to.unwrap_or_else(|| state.now_ms() + 1);
    let from = q.from.unwrap_or_else(|| to.saturating_sub(90 * 86_400_000));
    if from >= to || to - from > 3 * 366 * 86_400_000 {
        return Err(ApiError::BadRequest(
            "from must be before to, at most three years apart".into(),
        ));
    }
    Ok((from, to))
}

/// `GET /api/v1/reports/service-desk.csv?table=weeks|categories|assignees|delivery|late`.
pub async fn service_desk_csv(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CsvQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    auth.require(&state, Role::Viewer, "report.service_desk")
        .await?;
    let (from, to) = desk_range(
        &state,
        &RangeQuery {
            from: q.from,
            to: q.to,
        },
    )?;
    let r = tickets::desk::report(&state, from, to).await?;
    let body = tickets::desk::csv(&r, &q.table)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"tend-{}.csv\"", q.table),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /api/v1/device/tickets/{id}`: a ticket this device filed for its user, with
/// the public replies (never internal notes).
pub async fn requester_ticket(
    State(state): State<AppState>,
    auth: Auth,
    crate::error::ApiPath(id): crate::error::ApiPath<String>,
) -> Result<Json<tend_shared::tickets::RequesterView>, ApiError> {
    let device = auth.device(&state, "ticket.requester_view").await?;
    crate::tickets::requester::view(&state, &device, &id)
        .await
        .map(Json)
}

/// `POST /api/v1/tickets/{id}/csat`: the requester's rating, through their device.
pub async fn csat(
    State(state): State<AppState>,
    auth: Auth,
    crate::error::ApiPath(id): crate::error::ApiPath<String>,
    ApiJson(req): ApiJson<tend_shared::tickets::CsatRequest>,
) -> Result<Json<tend_shared::tickets::RequesterView>, ApiError> {
    let device = auth.device(&state, "ticket.csat").await?;
    state.device_rate(
        &state.rates.user_tickets,
        "requests from this laptop's users",
        &device.id,
    )?;
    crate::tickets::requester::rate(&state, &device, &id, req)
        .await
        .map(Json)
}
