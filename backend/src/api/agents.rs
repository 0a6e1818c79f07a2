//! Agent administration. Every signed-in agent may list the team; only admins change it.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::{AgentView, CreateAgentRequest, ListAgentsQuery, UpdateAgentRequest};
use super::error::{ApiResult, ErrorBody};
use super::extract::{AdminAgent, CurrentAgent, SupervisorAgent};
use crate::services::accounts::{self, AgentUpdate, NewAgentInput};
use crate::state::AppState;

/// The team, with each agent's presence. Deactivated agents only on request (admins).
#[utoipa::path(
    operation_id = "listAgents",
    tag = "agents",
    params(ListAgentsQuery),
    responses((status = 200, body = Vec<AgentView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/agents")]
pub async fn list(
    state: web::Data<AppState>,
    current: CurrentAgent,
    query: web::Query<ListAgentsQuery>,
) -> ApiResult<web::Json<Vec<AgentView>>> {
    if query.include_inactive && !current.agent.is_admin() {
        return Err(crate::services::ServiceError::Forbidden(
            "listing deactivated agents needs the admin role".into(),
        )
        .into());
    }
    let agents = accounts::list_agents(&state.pool, query.include_inactive).await?;
    Ok(web::Json(agents.into_iter().map(AgentView::from).collect()))
}

/// One agent.
#[utoipa::path(
    operation_id = "getAgent",
    tag = "agents",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AgentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/agents/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _current: CurrentAgent,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<AgentView>> {
    Ok(web::Json(
        accounts::get_agent(&state.pool, *id).await?.into(),
    ))
}

/// Sign an agent out (supervisors and admins): every session of theirs ends at once and they go
/// offline. A call they are on or being rung for is not dropped: its customer goes back to the
/// queue for a colleague.
#[utoipa::path(
    operation_id = "signOutAgent",
    tag = "agents",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AgentView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not a supervisor or admin"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already signed out (offline, no session), or yourself (sign out instead)"),
        (status = 502, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[post("/agents/{id}/sign-out")]
pub async fn sign_out(
    state: web::Data<AppState>,
    supervisor: SupervisorAgent,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<AgentView>> {
    if *id == supervisor.0.agent.id {
        return Err(crate::services::ServiceError::Conflict(
            "to sign yourself out, use POST /api/auth/logout".into(),
        )
        .into());
    }
    let agent = accounts::sign_out_agent(&state.pool, *id).await?;
    state
        .voice
        .hand_back(agent.id, "signed out by a supervisor")
        .await?;
    state.events.publish(crate::events::Topic::Agent(agent.id));
    Ok(web::Json(agent.into()))
}

/// Create an agent (admin).
#[utoipa::path(
    operation_id = "createAgent",
    tag = "agents",
    request_body = CreateAgentRequest,
    responses(
        (status = 201, body = AgentView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Email or client identity taken"),
        (status = 422, body = ErrorBody, description = "A field is invalid"),
    ),
    security(("session" = []))
)]
#[post("/agents")]
pub async fn create(
    state: web::Data<AppState>,
    _admin: AdminAgent,
    body: web::Json<CreateAgentRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let agent = accounts::create_agent(
        &state.pool,
        NewAgentInput {
            email: body.email,
            display_name: body.display_name,
            password: body.password,
            role: body.role,
            client_identity: body.client_identity,
        },
    )
    .await?;
    state.events.publish(crate::events::Topic::Agent(agent.id));
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/agents/{}", agent.id),
        ))
        .json(AgentView::from(agent)))
}

/// Change an agent's name, role, password or active flag (admin).
#[utoipa::path(
    operation_id = "updateAgent",
    tag = "agents",
    params(("id" = Uuid, Path)),
    request_body = UpdateAgentRequest,
    responses(
        (status = 200, body = AgentView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Demoting or deactivating yourself, or the last active admin"),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[patch("/agents/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    admin: AdminAgent,
    id: web::Path<Uuid>,
    body: web::Json<UpdateAgentRequest>,
) -> ApiResult<web::Json<AgentView>> {
    let body = body.into_inner();
    let agent = accounts::update_agent(
        &state.pool,
        &admin.0.agent,
        *id,
        AgentUpdate {
            display_name: body.display_name,
            role: body.role,
            password: body.password,
            active: body.active,
        },
    )
    .await?;
    if !agent.active {
        // Deactivated: off any call they are on, which goes to a colleague.
        state.voice.hand_back(agent.id, "deactivated").await?;
    }
    state.events.publish(crate::events::Topic::Agent(agent.id));
    Ok(web::Json(agent.into()))
}

/// Deactivate an agent (admin): signed out, no more calls; history is kept.
#[utoipa::path(
    operation_id = "deactivateAgent",
    tag = "agents",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Deactivating yourself, or the last active admin")),
    security(("session" = []))
)]
#[delete("/agents/{id}")]
pub async fn deactivate(
    state: web::Data<AppState>,
    admin: AdminAgent,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    accounts::deactivate_agent(&state.pool, &admin.0.agent, *id).await?;
    // Off any call they are on, which goes to a colleague.
    state.voice.hand_back(*id, "deactivated").await?;
    state.events.publish(crate::events::Topic::Agent(*id));
    Ok(HttpResponse::NoContent().finish())
}

/// Clear an agent's failed sign-ins from every address (admin), so they can sign in at once
/// whatever waits guessing had imposed. Sessions are untouched.
#[utoipa::path(
    operation_id = "unlockAgent",
    tag = "agents",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Failed sign-ins cleared"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[post("/agents/{id}/unlock")]
pub async fn unlock(
    state: web::Data<AppState>,
    admin: AdminAgent,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let cleared = accounts::unlock_agent(&state.pool, *id).await?;
    tracing::info!(agent_id = %*id, admin_id = %admin.0.agent.id, cleared, "sign-in failures cleared");
    Ok(HttpResponse::NoContent().finish())
}
