//! The signed-in agent.

use actix_web::{get, put, web};

use super::dto::{AgentView, StatusRequest};
use super::error::{ApiResult, ErrorBody};
use super::extract::CurrentAgent;
use crate::events::Topic;
use crate::services::accounts;
use crate::state::AppState;

/// The signed-in agent.
#[utoipa::path(
    operation_id = "getMe",
    tag = "me", responses((status = 200, body = AgentView), (status = 401, body = ErrorBody)), security(("session" = [])))]
#[get("/me")]
pub async fn me(current: CurrentAgent) -> web::Json<AgentView> {
    web::Json(current.agent.into())
}

/// Set your presence: `available` (receive calls), `away` (with a `reason`), or `offline`.
///
/// Refused with 409 while you are ringing or on a call, and (for `available`) while in a
/// wrap-up that still needs its required disposition. An unknown or inactive `reason`, or a
/// reason with another status, is a 400.
#[utoipa::path(
    operation_id = "setMyStatus",
    tag = "me",
    request_body = StatusRequest,
    responses(
        (status = 200, body = AgentView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "On a call, or a required disposition is missing"),
    ),
    security(("session" = []))
)]
#[put("/me/status")]
pub async fn set_status(
    state: web::Data<AppState>,
    current: CurrentAgent,
    body: web::Json<StatusRequest>,
) -> ApiResult<web::Json<AgentView>> {
    let agent = accounts::set_own_status(
        &state.pool,
        &current.agent,
        body.status,
        body.reason.as_deref(),
    )
    .await?;
    state.events.publish(Topic::Agent(agent.id));
    if agent.status == crate::domain::agent::AgentStatus::Available {
        state.voice.wake_router();
    }
    Ok(web::Json(agent.into()))
}
