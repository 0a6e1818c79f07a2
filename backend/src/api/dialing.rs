//! The dialing policy for outside numbers: every signed-in agent may read it, admins change it.

use actix_web::{get, put, web};

use super::dto::{DialingPolicyView, UpdateDialingPolicyRequest};
use super::error::{ApiResult, ErrorBody};
use super::extract::{AdminAgent, CurrentAgent};
use crate::domain::dialing::PolicyInput;
use crate::services::dialing;
use crate::state::AppState;

/// The dialing policy in force (the built-in default until an admin saves one).
#[utoipa::path(
    operation_id = "getDialingPolicy",
    tag = "dialing",
    responses((status = 200, body = DialingPolicyView), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/dialing-policy")]
pub async fn get(
    state: web::Data<AppState>,
    _current: CurrentAgent,
) -> ApiResult<web::Json<DialingPolicyView>> {
    let own = &state.voice.settings().phone_number;
    Ok(web::Json(
        dialing::get_policy(&state.pool, own).await?.into(),
    ))
}

/// Replace the dialing policy (admin). Applies to the next dial on every instance.
#[utoipa::path(
    operation_id = "updateDialingPolicy",
    tag = "dialing",
    request_body = UpdateDialingPolicyRequest,
    responses(
        (status = 200, body = DialingPolicyView),
        (status = 400, body = ErrorBody, description = "Malformed JSON, unknown or mistyped fields"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 422, body = ErrorBody, description = "A field is invalid; `field` names it"),
    ),
    security(("session" = []))
)]
#[put("/dialing-policy")]
pub async fn update(
    state: web::Data<AppState>,
    admin: AdminAgent,
    body: web::Json<UpdateDialingPolicyRequest>,
) -> ApiResult<web::Json<DialingPolicyView>> {
    let own = &state.voice.settings().phone_number;
    let saved = dialing::save_policy(
        &state.pool,
        own,
        &admin.0.agent,
        PolicyInput {
            allowed_country_codes: &body.allowed_country_codes,
            allowed_prefixes: &body.allowed_prefixes,
            allowed_premium_prefixes: &body.allowed_premium_prefixes,
            international_for_agents: body.international_for_agents,
            max_dials_per_agent_per_hour: body.max_dials_per_agent_per_hour,
            max_dials_per_call: body.max_dials_per_call,
        },
    )
    .await?;
    Ok(web::Json(saved.into()))
}
