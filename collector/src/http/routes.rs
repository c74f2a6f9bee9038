//! The route table: every path and method mapped to its feature's handler, grouped by
//! who calls it. Layers (limits, timeouts, metrics, errors) are added in `super::app_with`.

use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::state::AppState;

/// Every route but the artifact upload and the conditional-GET ones.
pub(super) fn api() -> Router<AppState> {
    Router::new()
        .merge(ops())
        .merge(agents())
        .merge(fleet())
        .merge(people())
        .merge(desk())
        .merge(jobs())
        .merge(releases())
}

/// The console page and its files, health and metrics (no credentials).
fn ops() -> Router<AppState> {
    Router::new()
        .route("/", get(super::ui::index))
        .route("/ui/{file}", get(super::ui::asset))
        .route("/healthz", get(super::ops::healthz))
        .route("/metrics", get(super::ops::metrics))
}

/// What devices call with their device token: enrollment, check-in, the job long-poll, and what a device does for its user.
fn agents() -> Router<AppState> {
    Router::new()
        .route("/api/v1/enroll", post(crate::enroll::routes::enroll))
        .route("/api/v1/checkin", post(crate::checkin::routes::checkin))
        .route("/api/v1/jobs/next", get(crate::jobs::routes::jobs_next))
        .route(
            "/api/v1/tickets/{id}/csat",
            post(crate::tickets::routes::csat),
        )
        .route(
            "/api/v1/device/tickets/{id}",
            get(crate::tickets::routes::requester_ticket),
        )
        .route("/api/v1/device/kb", get(crate::kb::routes::suggest))
        .route(
            "/api/v1/device/kb/{id}/withdrawn",
            post(crate::kb::routes::withdrawn),
        )
}

/// Devices, assets, policy, enrollment tokens and re-enrollment (analysts and admins).
fn fleet() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices", get(crate::devices::routes::list_devices))
        .route("/api/v1/devices/{id}", get(crate::devices::routes::device))
        .route(
            "/api/v1/devices/{id}/events",
            get(crate::devices::routes::device_events),
        )
        .route(
            "/api/v1/assets",
            get(crate::assets::routes::list_assets).post(crate::assets::routes::create_asset),
        )
        .route(
            "/api/v1/assets/{id}",
            get(crate::assets::routes::asset).patch(crate::assets::routes::patch_asset),
        )
        .route(
            "/api/v1/assets/{id}/offboard",
            post(crate::assets::routes::offboard_asset),
        )
        .route(
            "/api/v1/policy",
            get(crate::policy::routes::policy).put(crate::policy::routes::put_policy),
        )
        .route(
            "/api/v1/devices/{id}/reenroll/approve",
            post(crate::enroll::routes::approve_reenroll),
        )
        .route(
            "/api/v1/devices/{id}/decommission",
            post(crate::assets::routes::decommission),
        )
        .route(
            "/api/v1/enroll-tokens",
            get(crate::enroll::routes::list_enroll_tokens)
                .post(crate::enroll::routes::create_enroll_token),
        )
        .route(
            "/api/v1/enrollments",
            get(crate::enroll::routes::enrollments),
        )
        .route(
            "/api/v1/enroll-tokens/{id}",
            delete(crate::enroll::routes::revoke_enroll_token),
        )
}

/// Users, tokens, sessions, password resets, security settings and the audit log.
fn people() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit", get(crate::audit::audit))
        .route(
            "/api/v1/tokens",
            get(crate::users::routes::list_tokens).post(crate::users::routes::create_token),
        )
        .route(
            "/api/v1/tokens/{id}",
            delete(crate::users::routes::revoke_token),
        )
        .route(
            "/api/v1/users",
            get(crate::users::routes::list_users).post(crate::users::routes::create_user),
        )
        .route(
            "/api/v1/users/{id}/disable",
            post(crate::users::routes::disable_user),
        )
        .route(
            "/api/v1/users/{id}/password",
            put(crate::accounts::routes::set_password),
        )
        .route(
            "/api/v1/users/{id}/password-reset",
            post(crate::accounts::routes::issue_reset),
        )
        .route(
            "/api/v1/password-reset",
            post(crate::accounts::routes::redeem_reset),
        )
        .route(
            "/api/v1/settings/security",
            get(crate::accounts::routes::security_settings)
                .put(crate::accounts::routes::put_security_settings),
        )
        .route(
            "/api/v1/session",
            get(crate::accounts::routes::whoami)
                .post(crate::accounts::routes::sign_in)
                .delete(crate::accounts::routes::sign_out),
        )
}

/// The service desk: tickets, comments, problems, reports, ticket settings, the knowledge base and webhooks.
fn desk() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/tickets/{id}/comments",
            post(crate::tickets::routes::comment),
        )
        .route(
            "/api/v1/kb",
            get(crate::kb::routes::list).post(crate::kb::routes::create),
        )
        .route(
            "/api/v1/kb/{id}",
            get(crate::kb::routes::show)
                .put(crate::kb::routes::update)
                .delete(crate::kb::routes::remove),
        )
        .route("/api/v1/problems", get(crate::tickets::routes::problems))
        .route(
            "/api/v1/reports/sla",
            get(crate::tickets::routes::sla_report),
        )
        .route(
            "/api/v1/reports/service-desk",
            get(crate::tickets::routes::service_desk),
        )
        .route(
            "/api/v1/reports/service-desk.csv",
            get(crate::tickets::routes::service_desk_csv),
        )
        .route(
            "/api/v1/settings/tickets",
            get(crate::tickets::routes::settings).put(crate::tickets::routes::put_settings),
        )
        .route(
            "/api/v1/webhooks",
            get(crate::webhooks::routes::list_webhooks)
                .post(crate::webhooks::routes::create_webhook),
        )
        .route(
            "/api/v1/webhooks/{id}",
            delete(crate::webhooks::routes::delete_webhook),
        )
}

/// Scripts, diagnostics, jobs and bulk runs.
fn jobs() -> Router<AppState> {
    Router::new()
        .route("/api/v1/diagnostics", get(crate::jobs::routes::diagnostics))
        .route(
            "/api/v1/scripts",
            get(crate::jobs::routes::list_scripts).post(crate::jobs::routes::submit_script),
        )
        .route("/api/v1/scripts/{id}", get(crate::jobs::routes::script))
        .route(
            "/api/v1/scripts/{id}/approve",
            post(crate::jobs::routes::approve_script),
        )
        .route(
            "/api/v1/scripts/{id}/revoke",
            post(crate::jobs::routes::revoke_script),
        )
        .route(
            "/api/v1/scripts/{id}/signed",
            get(crate::jobs::routes::signed_script),
        )
        .route(
            "/api/v1/devices/{id}/diagnostics",
            post(crate::jobs::routes::queue_diagnostic),
        )
        .route(
            "/api/v1/devices/{id}/scripts",
            post(crate::jobs::routes::queue_script),
        )
        .route(
            "/api/v1/devices/{id}/jobs",
            get(crate::jobs::routes::device_jobs),
        )
        .route("/api/v1/jobs/{id}", get(crate::jobs::routes::job))
        .route(
            "/api/v1/jobs/{id}/result",
            post(crate::jobs::routes::job_result),
        )
        .route("/api/v1/bulk", post(crate::jobs::routes::create_bulk))
        .route("/api/v1/bulk/{id}", get(crate::jobs::routes::bulk_status))
}

/// Agent releases: list, show, approve, roll out, download (uploads have their own body limit in `app_with`).
fn releases() -> Router<AppState> {
    Router::new()
        .route("/api/v1/releases", get(crate::releases::routes::list))
        .route(
            "/api/v1/releases/latest",
            get(crate::releases::routes::latest),
        )
        .route(
            "/api/v1/releases/{version}",
            get(crate::releases::routes::show),
        )
        .route(
            "/api/v1/releases/{version}/rollout",
            post(crate::releases::routes::rollout),
        )
        .route(
            "/api/v1/releases/{version}/approve",
            post(crate::releases::routes::approve),
        )
        .route(
            "/api/v1/releases/{version}/{platform}/artifact",
            get(crate::releases::routes::artifact),
        )
}
