//! After-call work and presence reasons: wrap-up settings, the disposition and away-reason lists
//! (every signed-in agent reads them, admins change them), an agent's own wrap-up, and a call's
//! disposition.

use actix_web::{get, patch, post, put, web};
use uuid::Uuid;

use super::dto::{
    AgentView, CreateListEntryRequest, DispositionRequest, DispositionView, ListEntriesQuery,
    ListEntryView, UpdateListEntryRequest, UpdateWrapUpSettingsRequest, WrapUpSettingsView,
};
use super::error::{ApiResult, ErrorBody};
use super::extract::{AdminAgent, CurrentAgent};
use crate::db::presence::List;
use crate::domain::presence::WrapUpRequest;
use crate::events::Topic;
use crate::services::{accounts, presence, ServiceError};
use crate::state::AppState;

/// The wrap-up settings in force.
#[utoipa::path(
    operation_id = "getWrapUpSettings",
    tag = "presence",
    responses((status = 200, body = WrapUpSettingsView), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/wrap-up-settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    _current: CurrentAgent,
) -> ApiResult<web::Json<WrapUpSettingsView>> {
    Ok(web::Json(presence::settings(&state.pool).await?.into()))
}

/// Replace the wrap-up settings (admin). The time applies to wrap-ups that start from now on;
/// the disposition requirement at once.
#[utoipa::path(
    operation_id = "updateWrapUpSettings",
    tag = "presence",
    request_body = UpdateWrapUpSettingsRequest,
    responses(
        (status = 200, body = WrapUpSettingsView),
        (status = 400, body = ErrorBody, description = "Malformed JSON, unknown or mistyped fields"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 422, body = ErrorBody, description = "Out of bounds (0-1800 s); `field` names it"),
    ),
    security(("session" = []))
)]
#[put("/wrap-up-settings")]
pub async fn update_settings(
    state: web::Data<AppState>,
    admin: AdminAgent,
    body: web::Json<UpdateWrapUpSettingsRequest>,
) -> ApiResult<web::Json<WrapUpSettingsView>> {
    let saved = presence::save_settings(
        &state.pool,
        &admin.0.agent,
        body.wrap_up_seconds,
        body.extension_seconds,
        body.require_disposition,
    )
    .await?;
    Ok(web::Json(saved.into()))
}

async fn entries(
    state: &AppState,
    current: &CurrentAgent,
    list: List,
    query: &ListEntriesQuery,
) -> ApiResult<web::Json<Vec<ListEntryView>>> {
    if query.include_inactive && !current.agent.is_admin() {
        return Err(ServiceError::Forbidden(
            "listing inactive entries needs the admin role".into(),
        )
        .into());
    }
    let all = presence::entries(&state.pool, list, query.include_inactive).await?;
    Ok(web::Json(
        all.into_iter().map(ListEntryView::from).collect(),
    ))
}

/// The disposition codes agents file calls under (active ones; admins may ask for all).
#[utoipa::path(
    operation_id = "listDispositions",
    tag = "presence",
    params(ListEntriesQuery),
    responses((status = 200, body = Vec<ListEntryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/dispositions")]
pub async fn list_dispositions(
    state: web::Data<AppState>,
    current: CurrentAgent,
    query: web::Query<ListEntriesQuery>,
) -> ApiResult<web::Json<Vec<ListEntryView>>> {
    entries(&state, &current, List::Dispositions, &query).await
}

/// The away reasons agents pick from (active ones; admins may ask for all).
#[utoipa::path(
    operation_id = "listAwayReasons",
    tag = "presence",
    params(ListEntriesQuery),
    responses((status = 200, body = Vec<ListEntryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/away-reasons")]
pub async fn list_away_reasons(
    state: web::Data<AppState>,
    current: CurrentAgent,
    query: web::Query<ListEntriesQuery>,
) -> ApiResult<web::Json<Vec<ListEntryView>>> {
    entries(&state, &current, List::AwayReasons, &query).await
}

/// Add a disposition code (admin).
#[utoipa::path(
    operation_id = "createDisposition",
    tag = "presence",
    request_body = CreateListEntryRequest,
    responses(
        (status = 201, body = ListEntryView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The code exists"),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[post("/dispositions")]
pub async fn create_disposition(
    state: web::Data<AppState>,
    admin: AdminAgent,
    body: web::Json<CreateListEntryRequest>,
) -> ApiResult<actix_web::HttpResponse> {
    let entry = presence::add_entry(
        &state.pool,
        &admin.0.agent,
        List::Dispositions,
        &body.code,
        &body.label,
    )
    .await?;
    Ok(actix_web::HttpResponse::Created().json(ListEntryView::from(entry)))
}

/// Add an away reason (admin). `missed_call` and `declined_call` are the system's own.
#[utoipa::path(
    operation_id = "createAwayReason",
    tag = "presence",
    request_body = CreateListEntryRequest,
    responses(
        (status = 201, body = ListEntryView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The code exists"),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[post("/away-reasons")]
pub async fn create_away_reason(
    state: web::Data<AppState>,
    admin: AdminAgent,
    body: web::Json<CreateListEntryRequest>,
) -> ApiResult<actix_web::HttpResponse> {
    let entry = presence::add_entry(
        &state.pool,
        &admin.0.agent,
        List::AwayReasons,
        &body.code,
        &body.label,
    )
    .await?;
    Ok(actix_web::HttpResponse::Created().json(ListEntryView::from(entry)))
}

/// Relabel, deactivate or reactivate a disposition (admin). Calls filed under it keep it.
#[utoipa::path(
    operation_id = "updateDisposition",
    tag = "presence",
    params(("code" = String, Path)),
    request_body = UpdateListEntryRequest,
    responses((status = 200, body = ListEntryView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
#[patch("/dispositions/{code}")]
pub async fn update_disposition(
    state: web::Data<AppState>,
    admin: AdminAgent,
    code: web::Path<String>,
    body: web::Json<UpdateListEntryRequest>,
) -> ApiResult<web::Json<ListEntryView>> {
    let entry = presence::update_entry(
        &state.pool,
        &admin.0.agent,
        List::Dispositions,
        &code,
        body.label.as_deref(),
        body.active,
    )
    .await?;
    Ok(web::Json(entry.into()))
}

/// Relabel, deactivate or reactivate an away reason (admin).
#[utoipa::path(
    operation_id = "updateAwayReason",
    tag = "presence",
    params(("code" = String, Path)),
    request_body = UpdateListEntryRequest,
    responses((status = 200, body = ListEntryView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
#[patch("/away-reasons/{code}")]
pub async fn update_away_reason(
    state: web::Data<AppState>,
    admin: AdminAgent,
    code: web::Path<String>,
    body: web::Json<UpdateListEntryRequest>,
) -> ApiResult<web::Json<ListEntryView>> {
    let entry = presence::update_entry(
        &state.pool,
        &admin.0.agent,
        List::AwayReasons,
        &code,
        body.label.as_deref(),
        body.active,
    )
    .await?;
    Ok(web::Json(entry.into()))
}

async fn wrap_up(
    state: &AppState,
    current: &CurrentAgent,
    request: WrapUpRequest,
) -> ApiResult<web::Json<AgentView>> {
    let result = presence::request_wrap_up(&state.pool, current.agent.id, request).await?;
    if result == presence::WrapUpResult::Available {
        state.voice.wake_router();
    }
    state.events.publish(Topic::Agent(current.agent.id));
    let agent = accounts::get_agent(&state.pool, current.agent.id).await?;
    Ok(web::Json(agent.into()))
}

/// Finish your wrap-up now: you are available again.
///
/// Refused with 409 when you are not in wrap-up, while a required disposition is missing
/// (file it with `PUT /api/calls/{id}/disposition` first), or while your call is still ending.
#[utoipa::path(
    operation_id = "finishWrapUp",
    tag = "me",
    responses((status = 200, body = AgentView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/me/wrap-up/finish")]
pub async fn finish_wrap_up(
    state: web::Data<AppState>,
    current: CurrentAgent,
) -> ApiResult<web::Json<AgentView>> {
    wrap_up(&state, &current, WrapUpRequest::Finish).await
}

/// Extend your wrap-up by the configured extension, once per wrap-up.
///
/// Refused with 409 when you are not in a timed wrap-up, have extended it already, or
/// extensions are off.
#[utoipa::path(
    operation_id = "extendWrapUp",
    tag = "me",
    responses((status = 200, body = AgentView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/me/wrap-up/extend")]
pub async fn extend_wrap_up(
    state: web::Data<AppState>,
    current: CurrentAgent,
) -> ApiResult<web::Json<AgentView>> {
    wrap_up(&state, &current, WrapUpRequest::Extend).await
}

/// File the call's disposition and notes.
///
/// An agent who handled the call may during it and during their wrap-up for it, and may file
/// one the call still lacks later; changing it after that is for admins (403).
#[utoipa::path(
    operation_id = "setCallDisposition",
    tag = "calls",
    params(("id" = Uuid, Path)),
    request_body = DispositionRequest,
    responses(
        (status = 200, body = DispositionView),
        (status = 400, body = ErrorBody, description = "Notes too long or with control characters, or an unknown or inactive code; `field` names it"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not a call you handled, or your wrap-up for it is over"),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[put("/calls/{id}/disposition")]
pub async fn set_disposition(
    state: web::Data<AppState>,
    current: CurrentAgent,
    id: web::Path<Uuid>,
    body: web::Json<DispositionRequest>,
) -> ApiResult<web::Json<DispositionView>> {
    let filed = presence::file_disposition(
        &state.pool,
        &current.agent,
        *id,
        body.code.as_deref(),
        body.notes.as_deref(),
    )
    .await?;
    state.events.publish(Topic::Call(*id));
    // The wrap-up clock may have been waiting for this disposition.
    state.voice.wake_router();
    Ok(web::Json(filed.into()))
}
