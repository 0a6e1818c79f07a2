//! Demo mode only: the dashboard plays the customer and the agent's browser through the built-in
//! Twilio simulator. In live mode every route here is a 404.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::CurrentAgent;
use crate::services::ServiceError;
use twilio_sim::{SimError, Simulator};

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DemoCallRequest {
    /// The caller's number (E.164); a random one when left out.
    #[schema(example = "+14155550100")]
    pub from: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DemoCallView {
    /// The customer's call SID in the simulator.
    pub call_sid: String,
}

#[derive(Serialize, ToSchema)]
pub struct DemoRingingView {
    pub call_sid: String,
    pub from: String,
    pub to: String,
}

/// The simulator is app data only in demo mode.
type DemoSim = Option<web::Data<Simulator>>;

/// Which agent placed each simulated customer call, so only they may hang it up as the
/// customer. In memory: demo mode is one process with its simulator inside.
#[derive(Default)]
pub struct DemoCallers(std::sync::Mutex<std::collections::HashMap<String, uuid::Uuid>>);

impl DemoCallers {
    /// Past this many remembered calls, those the simulator has ended are forgotten.
    const PRUNE_ABOVE: usize = 1_000;

    fn placed(&self, sim: &Simulator, call_sid: &str, agent_id: uuid::Uuid) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= Self::PRUNE_ABOVE {
            let snapshot = sim.snapshot();
            map.retain(|sid, _| {
                snapshot
                    .call(sid)
                    .is_some_and(|call| !call.status.is_final())
            });
        }
        map.insert(call_sid.to_owned(), agent_id);
    }

    fn placed_by(&self, call_sid: &str) -> Option<uuid::Uuid> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(call_sid)
            .copied()
    }
}

fn simulator(sim: &DemoSim) -> ApiResult<&Simulator> {
    sim.as_ref()
        .map(|data| data.get_ref())
        .ok_or(ApiError::Service(ServiceError::NotFound(
            "demo mode (this server talks to the real Twilio)",
        )))
}

fn sim_error(e: SimError) -> ApiError {
    match e {
        SimError::CallNotFound(_)
        | SimError::ConferenceNotFound(_)
        | SimError::ParticipantNotFound { .. } => ServiceError::NotFound("call").into(),
        other => ServiceError::Conflict(other.to_string()).into(),
    }
}

fn random_caller() -> String {
    use rand::Rng;
    format!("+1415555{:04}", rand::thread_rng().gen_range(0..10_000))
}

/// Simulate a customer calling the support number.
#[utoipa::path(
    operation_id = "demoCreateCall",
    tag = "demo",
    request_body = DemoCallRequest,
    responses((status = 201, body = DemoCallView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "Not in demo mode"), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/demo/calls")]
pub async fn create_call(
    sim: DemoSim,
    callers: Option<web::Data<DemoCallers>>,
    current: CurrentAgent,
    body: Option<web::Json<DemoCallRequest>>,
) -> ApiResult<HttpResponse> {
    let sim = simulator(&sim)?;
    let from = match body.and_then(|b| b.into_inner().from) {
        Some(raw) => crate::domain::phone::PhoneNumber::parse(&raw)
            .map_err(ServiceError::from)?
            .as_str()
            .to_owned(),
        None => random_caller(),
    };
    let call_sid = sim.dial_in(&from);
    if let Some(callers) = callers {
        callers.placed(sim, &call_sid, current.agent.id);
    }
    Ok(HttpResponse::Created().json(DemoCallView { call_sid }))
}

/// Hang up a simulated call: your own browser's leg, a customer call you placed with
/// `POST /api/demo/calls`, or the customer of the call you are on. Anyone else's is a 404, as
/// if it did not exist.
#[utoipa::path(
    operation_id = "demoHangUp",
    tag = "demo",
    params(("call_sid" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "No such call of yours, or not in demo mode"), (status = 409, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/demo/calls/{call_sid}/hangup")]
pub async fn hang_up(
    state: web::Data<crate::state::AppState>,
    sim: DemoSim,
    callers: Option<web::Data<DemoCallers>>,
    current: CurrentAgent,
    call_sid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let sim = simulator(&sim)?;
    let own_leg = sim
        .snapshot()
        .call(&call_sid)
        .is_some_and(|call| call.to == current.agent.client_identity.dial_address());
    let placed_by_me = callers.is_some_and(|c| c.placed_by(&call_sid) == Some(current.agent.id));
    let my_customer = !(own_leg || placed_by_me)
        && crate::services::calls::current_call(&state.pool, current.agent.id)
            .await?
            .is_some_and(|mine| mine.call.customer_call_sid.as_str() == call_sid.as_str());
    if !(own_leg || placed_by_me || my_customer) {
        return Err(ServiceError::NotFound("call").into());
    }
    sim.hang_up(&call_sid).map_err(sim_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Calls ringing at your (simulated) browser.
#[utoipa::path(
    operation_id = "demoRinging",
    tag = "demo",
    responses((status = 200, body = Vec<DemoRingingView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
#[get("/demo/ringing")]
pub async fn ringing(
    sim: DemoSim,
    current: CurrentAgent,
) -> ApiResult<web::Json<Vec<DemoRingingView>>> {
    let sim = simulator(&sim)?;
    let to = current.agent.client_identity.dial_address();
    Ok(web::Json(
        sim.ringing_for(&to)
            .into_iter()
            .map(|r| DemoRingingView {
                call_sid: r.call_sid,
                from: r.from,
                to: r.to,
            })
            .collect(),
    ))
}

/// Only a call ringing at this agent's own browser may be answered or declined by them.
fn own_ringing(sim: &Simulator, current: &CurrentAgent, call_sid: &str) -> ApiResult<()> {
    let to = current.agent.client_identity.dial_address();
    if sim.ringing_for(&to).iter().any(|r| r.call_sid == call_sid) {
        Ok(())
    } else {
        Err(ServiceError::NotFound("ringing call").into())
    }
}

/// Answer a call ringing at your browser.
#[utoipa::path(
    operation_id = "demoAccept",
    tag = "demo",
    params(("call_sid" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/demo/ringing/{call_sid}/accept")]
pub async fn accept(
    sim: DemoSim,
    current: CurrentAgent,
    call_sid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let sim = simulator(&sim)?;
    own_ringing(sim, &current, &call_sid)?;
    sim.accept(&call_sid).map_err(sim_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Decline a call ringing at your browser.
#[utoipa::path(
    operation_id = "demoReject",
    tag = "demo",
    params(("call_sid" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/demo/ringing/{call_sid}/reject")]
pub async fn reject(
    sim: DemoSim,
    current: CurrentAgent,
    call_sid: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let sim = simulator(&sim)?;
    own_ringing(sim, &current, &call_sid)?;
    sim.reject(&call_sid).map_err(sim_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// A call the simulator placed to an outside number for one of your transfers: the "phone" of
/// the person you are transferring to, which the demo panel answers and hangs up.
#[derive(Serialize, ToSchema)]
pub struct DemoOutsideCallView {
    /// The outside leg's call SID in the simulator.
    pub call_sid: String,
    /// The customer call it belongs to.
    pub call_id: uuid::Uuid,
    /// The number dialed.
    pub to: String,
    /// `ringing` until answered, then `in-progress`.
    pub status: String,
    /// What the party has heard so far (the transfer's whisper).
    pub heard: Vec<String>,
}

/// Your transfers' outside legs that are live in the simulator.
async fn outside_calls_of(
    state: &crate::state::AppState,
    sim: &Simulator,
    current: &CurrentAgent,
) -> ApiResult<Vec<DemoOutsideCallView>> {
    let legs = {
        let mut conn = state
            .pool
            .get()
            .await
            .map_err(crate::db::DbError::from)
            .map_err(ServiceError::from)?;
        crate::db::calls::outside_legs_transferred_by(&mut conn, current.agent.id)
            .await
            .map_err(ServiceError::from)?
    };
    let snapshot = sim.snapshot();
    Ok(legs
        .into_iter()
        .filter_map(|(call_id, sid)| {
            let call = snapshot.call(&sid)?;
            let live = matches!(call.status.as_str(), "ringing" | "in-progress");
            live.then(|| DemoOutsideCallView {
                call_sid: sid.clone(),
                call_id,
                to: call.to.clone(),
                status: call.status.as_str().to_owned(),
                heard: call.said().into_iter().map(str::to_owned).collect(),
            })
        })
        .collect())
}

/// The outside numbers your transfers are ringing or talking to (demo mode: the panel plays them).
#[utoipa::path(
    operation_id = "demoOutsideCalls",
    tag = "demo",
    responses((status = 200, body = Vec<DemoOutsideCallView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "Not in demo mode")),
    security(("session" = []))
)]
#[get("/demo/outside-calls")]
pub async fn outside_calls(
    state: web::Data<crate::state::AppState>,
    sim: DemoSim,
    current: CurrentAgent,
) -> ApiResult<web::Json<Vec<DemoOutsideCallView>>> {
    let sim = simulator(&sim)?;
    Ok(web::Json(outside_calls_of(&state, sim, &current).await?))
}

/// What the outside party does.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum DemoOutsideAction {
    /// Pick up the ringing phone.
    Answer,
    /// Refuse it (Twilio reports the leg `busy`).
    Decline,
    /// Hang up (ringing or talking).
    HangUp,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoOutsideActionRequest {
    pub action: DemoOutsideAction,
}

/// Act as the outside party of one of your transfers: answer, decline or hang up.
#[utoipa::path(
    operation_id = "demoOutsideCallAction",
    tag = "demo",
    params(("call_sid" = String, Path)),
    request_body = DemoOutsideActionRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "No such outside call of yours, or not in demo mode"), (status = 409, body = ErrorBody, description = "Not in a state for that (e.g. answering a call already answered)")),
    security(("session" = []))
)]
#[post("/demo/outside-calls/{call_sid}")]
pub async fn outside_call_action(
    state: web::Data<crate::state::AppState>,
    sim: DemoSim,
    current: CurrentAgent,
    call_sid: web::Path<String>,
    body: web::Json<DemoOutsideActionRequest>,
) -> ApiResult<HttpResponse> {
    let sim = simulator(&sim)?;
    let mine = outside_calls_of(&state, sim, &current)
        .await?
        .into_iter()
        .any(|c| c.call_sid == *call_sid);
    if !mine {
        return Err(ServiceError::NotFound("outside call").into());
    }
    match body.action {
        DemoOutsideAction::Answer => sim.accept(&call_sid),
        DemoOutsideAction::Decline => sim.reject(&call_sid),
        DemoOutsideAction::HangUp => sim.hang_up(&call_sid),
    }
    .map_err(sim_error)?;
    Ok(HttpResponse::NoContent().finish())
}
