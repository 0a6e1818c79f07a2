//! Sign-in and sign-out.

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{LoginRequest, LoginResponse};
use super::error::{ApiResult, ErrorBody};
use super::extract::{client_ip, CurrentAgent};
use crate::services::accounts;
use crate::state::AppState;

/// Sign in with email and password.
///
/// Returns a session token for the `Authorization: Bearer` header. Failures count per email and
/// client address: past `LOGIN_MAX_FAILURES` that address must wait before trying that email
/// again (429 with `Retry-After`), the wait doubling with each failure up to
/// `LOGIN_BACKOFF_MAX_SECONDS`; other addresses are not held back. An admin can clear an
/// agent's failures (`POST /api/agents/{id}/unlock`).
/// An email over 254 characters or with control characters, or a password over 1024 bytes, is
/// refused with 400. While too many sign-ins are being checked at once, the answer is 503 with
/// `Retry-After`.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody, description = "Malformed JSON, an email over 254 characters or with control characters, or a password over 1024 bytes"),
        (status = 401, body = ErrorBody, description = "Wrong email or password (`invalid_credentials`)"),
        (status = 429, body = ErrorBody, description = "Too many failed attempts for this email from this address (`too_many_attempts`); retry after `Retry-After` seconds"),
        (status = 503, body = ErrorBody, description = "Too many sign-ins being checked at once (`unavailable`); retry after `Retry-After` seconds"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> ApiResult<web::Json<LoginResponse>> {
    let LoginRequest { email, password } = body.into_inner();
    let signed_in = accounts::login(
        &state.pool,
        &state.session_keys,
        &state.config.login_limits,
        state.config.session_ttl,
        &email,
        password,
        &client_ip(&req, &state.config.trusted_proxies),
    )
    .await?;
    Ok(web::Json(LoginResponse {
        token: signed_in.token,
        expires_at: signed_in.expires_at,
        agent: signed_in.agent.into(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    /// On a call (or being rung): sign out anyway, sending the caller back to the queue for a
    /// colleague. Without it, signing out on a call is refused with 409.
    #[serde(default)]
    pub hand_back: bool,
}

/// Sign out: the token stops working at once and the agent goes offline.
#[utoipa::path(
    operation_id = "logout",
    tag = "auth",
    params(LogoutQuery),
    responses(
        (status = 204),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "On a call, without hand_back"),
    ),
    security(("session" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    current: CurrentAgent,
    query: web::Query<LogoutQuery>,
) -> ApiResult<HttpResponse> {
    let agent = &current.agent;
    accounts::logout(&state.pool, agent, current.session_id, query.hand_back).await?;
    if query.hand_back {
        state.voice.hand_back(agent.id, "signed out").await?;
    }
    state.events.publish(crate::events::Topic::Agent(agent.id));
    Ok(HttpResponse::NoContent().finish())
}
