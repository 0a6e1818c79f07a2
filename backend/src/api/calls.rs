//! Calls: history, detail, the queue, and controlling a live call.

use crate::domain::call::Participant;
use actix_web::{delete, get, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::{
    AssignCallRequest, CallDetailView, CallListQuery, CallPageView, CallSummaryView,
    CreateTransferRequest, CurrentCallView, HoldRequest, MonitorRequest, MuteRequest,
    ParticipantView, QueueEntryView, QueuePageView, QueueQuery, TransferToQueueRequest,
    TransferView,
};
use super::error::{ApiResult, ErrorBody};
use super::extract::{CurrentAgent, OptionalJson, SupervisorAgent};
use crate::services::calls::{self, HistoryQuery, QueuePageRequest};
use crate::services::voice::{TransferRequest, TransferTarget};
use crate::services::ServiceError;
use crate::state::AppState;

/// Call history, newest first. Agents see the calls they handled (any leg); admins see all, or with agent_id the calls that agent handled (owner or any leg).
#[utoipa::path(
    operation_id = "listCalls",
    tag = "calls",
    params(CallListQuery),
    responses((status = 200, body = CallPageView), (status = 400, body = ErrorBody, description = "`cursor` is not one this API returned, or an unknown or malformed parameter"), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody, description = "`limit` out of range")),
    security(("session" = []))
)]
#[get("/calls")]
pub async fn list(
    state: web::Data<AppState>,
    current: CurrentAgent,
    query: web::Query<CallListQuery>,
) -> ApiResult<web::Json<CallPageView>> {
    let query = query.into_inner();
    let agent_id = if current.agent.may_supervise() {
        query.agent_id
    } else {
        Some(current.agent.id)
    };
    let page = calls::history(
        &state.pool,
        HistoryQuery {
            status: query.status,
            agent_id,
            since: query.since,
            until: query.until,
            limit: query.limit.unwrap_or(50),
            cursor: query.cursor,
        },
    )
    .await?;
    Ok(web::Json(CallPageView {
        items: page.items.iter().map(CallSummaryView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One call with its participants, transfers and timeline. Agents may read the calls they own,
/// are or were on, or are being transferred to; admins any call.
#[utoipa::path(
    operation_id = "getCall",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CallDetailView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/calls/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    current: CurrentAgent,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<CallDetailView>> {
    let detail = calls::call_detail(&state.pool, *id).await?;
    if !detail
        .audience()
        .admits(current.agent.id, current.agent.role)
    {
        return Err(ServiceError::Forbidden("you were not on this call".into()).into());
    }
    Ok(web::Json(detail.into()))
}

/// The call you are on or ringing for, if any.
#[utoipa::path(
    operation_id = "getMyCall",
    tag = "calls",
    responses((status = 200, body = CurrentCallView), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/me/call")]
pub async fn mine(
    state: web::Data<AppState>,
    current: CurrentAgent,
) -> ApiResult<web::Json<CurrentCallView>> {
    let call = calls::current_call(&state.pool, current.agent.id).await?;
    Ok(web::Json(CurrentCallView {
        call: call.map(CallDetailView::from),
    }))
}

/// Calls waiting for an agent (queued or ringing), longest-waiting first, a page at a time.
#[utoipa::path(
    operation_id = "getQueue",
    tag = "calls",
    params(QueueQuery),
    responses((status = 200, body = QueuePageView), (status = 400, body = ErrorBody, description = "`cursor` is not one this API returned, or an unknown parameter"), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody, description = "`limit` out of range")),
    security(("session" = []))
)]
#[get("/queue")]
pub async fn queue(
    state: web::Data<AppState>,
    _current: CurrentAgent,
    query: web::Query<QueueQuery>,
) -> ApiResult<web::Json<QueuePageView>> {
    let query = query.into_inner();
    let request = QueuePageRequest {
        limit: query.limit.unwrap_or(QueuePageRequest::DEFAULT_LIMIT),
        cursor: query.cursor,
    };
    let limit = request.limit;
    let page = calls::queue(&state.pool, &state.waiting_total, request).await?;
    Ok(web::Json(QueuePageView::new(page, limit)))
}

/// The live board's calls (supervisors and admins): every call not yet over, oldest first (at
/// most 500), each with what it is doing now (`live_state`). Live `call` events keep it current.
#[utoipa::path(
    operation_id = "getLiveCalls",
    tag = "calls",
    responses((status = 200, body = Vec<CallSummaryView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Not a supervisor or admin")),
    security(("session" = []))
)]
#[get("/board/calls")]
pub async fn live_calls(
    state: web::Data<AppState>,
    _supervisor: SupervisorAgent,
) -> ApiResult<web::Json<Vec<CallSummaryView>>> {
    let calls = calls::live_calls(&state.pool).await?;
    Ok(web::Json(calls.iter().map(CallSummaryView::from).collect()))
}

/// Move a queued call to the front of the queue (supervisors and admins): the router takes the
/// queue in this order. The caller's wait still counts from when they called.
#[utoipa::path(
    operation_id = "moveCallToFront",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = QueueEntryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not a supervisor or admin"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The call is not queued (ringing, in progress or over), or already first"),
    ),
    security(("session" = []))
)]
#[post("/calls/{id}/move-to-front")]
pub async fn move_to_front(
    state: web::Data<AppState>,
    supervisor: SupervisorAgent,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<QueueEntryView>> {
    let call = calls::move_to_front(&state.pool, *id, supervisor.0.agent.id).await?;
    state.events.publish(crate::events::Topic::Queue);
    state.events.publish(crate::events::Topic::Call(call.id));
    Ok(web::Json(QueueEntryView::from(&call)))
}

/// Give a queued call to an agent (supervisors and admins): it goes first in line and is offered
/// to that agent as soon as they are free. The agent must be taking calls (available, ringing,
/// on a call or in wrap-up); if another agent frees up first, they take it, so the caller never
/// waits longer for one agent.
#[utoipa::path(
    operation_id = "assignCall",
    tag = "calls",
    params(("id" = Uuid, Path)),
    request_body = AssignCallRequest,
    responses(
        (status = 200, body = QueueEntryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not a supervisor or admin"),
        (status = 404, body = ErrorBody, description = "No such call or agent"),
        (status = 409, body = ErrorBody, description = "The call is not queued, or the agent is offline, away or deactivated"),
    ),
    security(("session" = []))
)]
#[post("/calls/{id}/assign")]
pub async fn assign(
    state: web::Data<AppState>,
    supervisor: SupervisorAgent,
    id: web::Path<Uuid>,
    body: web::Json<AssignCallRequest>,
) -> ApiResult<web::Json<QueueEntryView>> {
    let call = calls::assign(&state.pool, *id, body.agent_id, supervisor.0.agent.id).await?;
    state.events.publish(crate::events::Topic::Queue);
    state.events.publish(crate::events::Topic::Call(call.id));
    Ok(web::Json(QueueEntryView::from(&call)))
}

/// Transfer the call to an available agent or a phone number, warm or cold.
///
/// Warm: the target is dialed into the conference while you stay (the customer is held unless
/// `hold_customer` is false); then complete or cancel. Cold: you leave at once and the customer
/// hears hold music until the target answers; if nobody answers, the call goes back to the queue.
///
/// A phone number must pass the dialing policy (`/api/dialing-policy`); every attempt, allowed
/// or refused, is recorded in the call's timeline as an `outside_dial` event.
#[utoipa::path(
    operation_id = "createTransfer",
    tag = "calls",
    params(("id" = Uuid, Path)),
    request_body = CreateTransferRequest,
    responses(
        (status = 201, body = TransferView),
        (status = 400, body = ErrorBody, description = "`note` too long or with control characters"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not on this call (`forbidden`), or the dialing policy refuses the number (`dial_not_allowed`: premium or satellite range, destination not allowed, international for admins only)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The call or target does not allow it now"),
        (status = 422, body = ErrorBody, description = "Bad target, e.g. not an E.164 number"),
        (status = 429, body = ErrorBody, description = "`dial_limit_reached`: the dialing policy's limit of outside dials per agent per hour (with `Retry-After`) or per call"),
        (status = 502, body = ErrorBody, description = "Twilio refused the request"),
    ),
    security(("session" = []))
)]
#[post("/calls/{id}/transfers")]
pub async fn create_transfer(
    state: web::Data<AppState>,
    current: CurrentAgent,
    id: web::Path<Uuid>,
    body: web::Json<CreateTransferRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let target = match (body.target.agent_id, body.target.phone_number) {
        (Some(agent), None) => TransferTarget::Agent(agent),
        (None, Some(phone)) => TransferTarget::Phone(phone),
        _ => {
            return Err(ServiceError::from(crate::domain::ValidationError::new(
                "target",
                "give exactly one of agent_id and phone_number",
            ))
            .into())
        }
    };
    let transfer = state
        .voice
        .start_transfer(
            &current.agent,
            *id,
            TransferRequest {
                target,
                mode: body.mode,
                hold_customer: body.hold_customer.unwrap_or(true),
                note: body.note,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(TransferView::from(&transfer)))
}

/// Transfer the customer back to the queue (cold): you leave, and the customer waits on hold
/// music for the next agent, ahead of anyone who called after them, with the call's history
/// kept. You go to wrap-up. Refused (409) while someone else is on the call with the customer.
/// If Twilio refuses (502), nothing changed: the customer is still with you.
///
/// The body is optional: `note` is shown to the agent who takes the call next, while it rings
/// and during the call (it is on the call's timeline, `transferred_to_queue`).
#[utoipa::path(
    operation_id = "transferToQueue",
    tag = "calls",
    params(("id" = Uuid, Path)),
    request_body(content = Option<TransferToQueueRequest>, description = "Optional: a note for the next agent"),
    responses(
        (status = 204),
        (status = 400, body = ErrorBody, description = "`note` too long or with control characters, or a malformed body"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[post("/calls/{id}/transfer-to-queue")]
pub async fn transfer_to_queue(
    state: web::Data<AppState>,
    current: CurrentAgent,
    id: web::Path<Uuid>,
    body: OptionalJson<TransferToQueueRequest>,
) -> ApiResult<HttpResponse> {
    let note = body.0.and_then(|b| b.note);
    state
        .voice
        .transfer_to_queue(&current.agent, *id, note.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Complete a warm transfer: you leave, the target owns the call.
#[utoipa::path(
    operation_id = "completeTransfer",
    tag = "calls",
    params(("id" = Uuid, Path), ("transfer_id" = Uuid, Path)),
    responses((status = 200, body = TransferView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/calls/{id}/transfers/{transfer_id}/complete")]
pub async fn complete_transfer(
    state: web::Data<AppState>,
    current: CurrentAgent,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<TransferView>> {
    let (call_id, transfer_id) = path.into_inner();
    let transfer = state
        .voice
        .complete_transfer(&current.agent, call_id, transfer_id)
        .await?;
    Ok(web::Json(TransferView::from(&transfer)))
}

/// Cancel a transfer: the target's leg ends and the customer comes off hold.
#[utoipa::path(
    operation_id = "cancelTransfer",
    tag = "calls",
    params(("id" = Uuid, Path), ("transfer_id" = Uuid, Path)),
    responses((status = 200, body = TransferView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/calls/{id}/transfers/{transfer_id}/cancel")]
pub async fn cancel_transfer(
    state: web::Data<AppState>,
    current: CurrentAgent,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<web::Json<TransferView>> {
    let (call_id, transfer_id) = path.into_inner();
    let transfer = state
        .voice
        .cancel_transfer(&current.agent, call_id, transfer_id)
        .await?;
    Ok(web::Json(TransferView::from(&transfer)))
}

/// The participant as just decided: Twilio's confirming callback is processed later, and one
/// confirming an earlier change may land in between, so hold and mute come from the decision.
async fn participant_view(
    state: &AppState,
    call_id: Uuid,
    decided: &Participant,
) -> ApiResult<ParticipantView> {
    let detail: CallDetailView = calls::call_detail(&state.pool, call_id).await?.into();
    let mut view = detail
        .participants
        .into_iter()
        .find(|p| p.id == decided.id)
        .ok_or(ServiceError::NotFound("participant"))?;
    view.on_hold = decided.on_hold;
    view.muted = decided.muted;
    Ok(view)
}

/// Put a participant on hold (they hear music) or take them off hold.
#[utoipa::path(
    operation_id = "holdParticipant",
    tag = "calls",
    params(("id" = Uuid, Path), ("participant_id" = Uuid, Path)),
    request_body = HoldRequest,
    responses((status = 200, body = ParticipantView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/calls/{id}/participants/{participant_id}/hold")]
pub async fn hold(
    state: web::Data<AppState>,
    current: CurrentAgent,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<HoldRequest>,
) -> ApiResult<web::Json<ParticipantView>> {
    let (call_id, participant_id) = path.into_inner();
    let decided = state
        .voice
        .set_hold(&current.agent, call_id, participant_id, body.hold)
        .await?;
    Ok(web::Json(
        participant_view(&state, call_id, &decided).await?,
    ))
}

/// Mute or unmute a participant.
#[utoipa::path(
    operation_id = "muteParticipant",
    tag = "calls",
    params(("id" = Uuid, Path), ("participant_id" = Uuid, Path)),
    request_body = MuteRequest,
    responses((status = 200, body = ParticipantView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/calls/{id}/participants/{participant_id}/mute")]
pub async fn mute(
    state: web::Data<AppState>,
    current: CurrentAgent,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<MuteRequest>,
) -> ApiResult<web::Json<ParticipantView>> {
    let (call_id, participant_id) = path.into_inner();
    let decided = state
        .voice
        .set_muted(&current.agent, call_id, participant_id, body.muted)
        .await?;
    Ok(web::Json(
        participant_view(&state, call_id, &decided).await?,
    ))
}

/// Remove a participant (not the customer: hang up instead).
#[utoipa::path(
    operation_id = "removeParticipant",
    tag = "calls",
    params(("id" = Uuid, Path), ("participant_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("session" = []))
)]
#[delete("/calls/{id}/participants/{participant_id}")]
pub async fn remove_participant(
    state: web::Data<AppState>,
    current: CurrentAgent,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (call_id, participant_id) = path.into_inner();
    state
        .voice
        .remove_participant(&current.agent, call_id, participant_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Leave the call; the customer stays (with a colleague, the transfer target, or back in the queue).
#[utoipa::path(
    operation_id = "leaveCall",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/calls/{id}/leave")]
pub async fn leave(
    state: web::Data<AppState>,
    current: CurrentAgent,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    state.voice.leave(&current.agent, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// End the call for everyone.
#[utoipa::path(
    operation_id = "hangUpCall",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/calls/{id}/hangup")]
pub async fn hang_up(
    state: web::Data<AppState>,
    current: CurrentAgent,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    state.voice.hang_up(&current.agent, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Listen to (`listen`: muted), whisper to the agent of (`whisper`: only the call's agent hears
/// you) or join (`barge`: everyone hears you) a call in progress (supervisors and admins). The
/// first request rings your browser into the call's conference, muted; a later one switches
/// mode. Returns your leg: its `call_sid` is the incoming call your browser accepts.
#[utoipa::path(
    operation_id = "monitorCall",
    tag = "calls",
    params(("id" = Uuid, Path)),
    request_body = MonitorRequest,
    responses(
        (status = 200, body = ParticipantView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not a supervisor or admin"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The call is not in progress, it is your own call, you are on another call, or (whisper) it has no agent to coach"),
        (status = 502, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[post("/calls/{id}/monitor")]
pub async fn monitor(
    state: web::Data<AppState>,
    supervisor: SupervisorAgent,
    id: web::Path<Uuid>,
    body: web::Json<MonitorRequest>,
) -> ApiResult<web::Json<ParticipantView>> {
    let call_id = *id;
    let leg = state
        .voice
        .monitor(&supervisor.0.agent, call_id, body.mode)
        .await?;
    Ok(web::Json(participant_view(&state, call_id, &leg).await?))
}

/// Stop listening to a call: only your leg ends. Whoever has a listening leg on the call may
/// end it (someone whose supervisor role was taken away while listening included).
#[utoipa::path(
    operation_id = "stopMonitoringCall",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not a supervisor or admin, and not listening to this call"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "You are not listening to this call, or it is over"),
        (status = 502, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[delete("/calls/{id}/monitor")]
pub async fn stop_monitor(
    state: web::Data<AppState>,
    current: CurrentAgent,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    // The engine decides: a listening leg of your own, or the supervisor role.
    state.voice.stop_monitor(&current.agent, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Take over a call you are listening to, whispering on or barged into (supervisors and
/// admins): the call becomes yours (everyone hears you) and its agent leaves, to wrap-up.
#[utoipa::path(
    operation_id = "takeOverCall",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not a supervisor or admin"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Your line is not in the call, the call is not in progress, or a transfer is under way"),
        (status = 502, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[post("/calls/{id}/take-over")]
pub async fn take_over(
    state: web::Data<AppState>,
    supervisor: SupervisorAgent,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    state.voice.take_over(&supervisor.0.agent, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
