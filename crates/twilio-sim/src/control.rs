//! `/sim/*`: JSON routes that let the demo UI (and scripts) act as the customer and as agents'
//! browsers, watch the simulator's state, and switch faults on. They mirror the Rust API of
//! [`Simulator`]. They are unauthenticated by design: mount them only in demo mode.
//!
//! | route | body / query | answer |
//! |---|---|---|
//! | `POST /sim/calls` | `{"from": "+15551230000"}` | 201 `{"call_sid": "CA…"}` |
//! | `POST /sim/calls/{sid}/hangup` · `accept` · `reject` · `timeout` | – | 200 `{"call_sid", "status"}`; 404 / 409 `{"error"}` |
//! | `GET /sim/ringing?to=client:alice` | – | `[{"call_sid", "from", "to", "since"}]` |
//! | `GET /sim/state?after=N&wait_ms=M` | long-polls until `version > N` | [`SimSnapshot`] |
//! | `GET /sim/log/rest` · `/sim/log/webhooks` | – | `[RestRecord]` · `[WebhookRecord]` |
//! | `GET` · `PUT` · `DELETE /sim/faults` | [`Faults`] (partial JSON allowed on PUT) | [`Faults`] |
//! | `PUT /sim/endpoints` | `{"to": "+1555…", "behaviour": "answer", "after_ms": 2000}` | 204 |
//! | `PUT /sim/time-scale` | `{"scale": 0.05}` | 204 |

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{Endpoint, Faults, SimError, Simulator};

/// Longest a `GET /sim/state` long-poll waits.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub(crate) fn configure(sim: Simulator, cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/sim")
            .app_data(web::Data::new(sim))
            .route("/calls", web::post().to(dial_in))
            .route("/calls/{sid}/{action}", web::post().to(call_action))
            .route("/ringing", web::get().to(ringing))
            .route("/state", web::get().to(state))
            .route("/log/rest", web::get().to(rest_log))
            .route("/log/webhooks", web::get().to(webhook_log))
            .route("/faults", web::get().to(get_faults))
            .route("/faults", web::put().to(put_faults))
            .route("/faults", web::delete().to(clear_faults))
            .route("/endpoints", web::put().to(put_endpoint))
            .route("/time-scale", web::put().to(put_time_scale)),
    );
}

fn error(status: actix_web::http::StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message.into() }))
}

fn sim_error(err: &SimError) -> HttpResponse {
    use actix_web::http::StatusCode;
    let status = match err {
        SimError::CallNotFound(_)
        | SimError::ConferenceNotFound(_)
        | SimError::ParticipantNotFound { .. } => StatusCode::NOT_FOUND,
        SimError::InvalidState { .. } | SimError::LabelInUse(_) => StatusCode::CONFLICT,
    };
    error(status, err.to_string())
}

#[derive(Deserialize)]
struct DialIn {
    from: String,
}

async fn dial_in(sim: web::Data<Simulator>, body: web::Json<DialIn>) -> HttpResponse {
    let from = body.from.trim();
    if from.is_empty() {
        return error(actix_web::http::StatusCode::BAD_REQUEST, "from is required");
    }
    let call_sid = sim.dial_in(from);
    HttpResponse::Created().json(json!({ "call_sid": call_sid }))
}

async fn call_action(sim: web::Data<Simulator>, path: web::Path<(String, String)>) -> HttpResponse {
    let (sid, action) = path.into_inner();
    let result = match action.as_str() {
        "hangup" => sim.hang_up(&sid),
        "accept" => sim.accept(&sid),
        "reject" => sim.reject(&sid),
        "timeout" => sim.time_out(&sid),
        other => {
            return error(
                actix_web::http::StatusCode::NOT_FOUND,
                format!("unknown action {other:?}; use hangup, accept, reject or timeout"),
            )
        }
    };
    match result {
        Ok(()) => {
            let status = sim.snapshot().call(&sid).map(|call| call.status);
            HttpResponse::Ok().json(json!({ "call_sid": sid, "status": status }))
        }
        Err(err) => sim_error(&err),
    }
}

#[derive(Deserialize)]
struct RingingQuery {
    to: String,
}

async fn ringing(sim: web::Data<Simulator>, query: web::Query<RingingQuery>) -> HttpResponse {
    HttpResponse::Ok().json(sim.ringing_for(&query.to))
}

#[derive(Deserialize)]
struct StateQuery {
    after: Option<u64>,
    wait_ms: Option<u64>,
}

async fn state(sim: web::Data<Simulator>, query: web::Query<StateQuery>) -> HttpResponse {
    let snapshot = match query.after {
        Some(after) => {
            let wait = query
                .wait_ms
                .map_or(Duration::from_secs(25), Duration::from_millis)
                .min(MAX_WAIT);
            match sim
                .wait_for(|snapshot| snapshot.version > after, wait)
                .await
            {
                Ok(snapshot) => snapshot,
                Err(timeout) => *timeout.last,
            }
        }
        None => sim.snapshot(),
    };
    HttpResponse::Ok().json(snapshot)
}

async fn rest_log(sim: web::Data<Simulator>) -> HttpResponse {
    HttpResponse::Ok().json(sim.rest_log())
}

async fn webhook_log(sim: web::Data<Simulator>) -> HttpResponse {
    HttpResponse::Ok().json(sim.webhook_log())
}

async fn get_faults(sim: web::Data<Simulator>) -> HttpResponse {
    HttpResponse::Ok().json(sim.faults())
}

async fn put_faults(sim: web::Data<Simulator>, body: web::Json<Faults>) -> HttpResponse {
    sim.set_faults(body.into_inner());
    HttpResponse::Ok().json(sim.faults())
}

async fn clear_faults(sim: web::Data<Simulator>) -> HttpResponse {
    sim.clear_faults();
    HttpResponse::Ok().json(sim.faults())
}

#[derive(Deserialize)]
struct EndpointBody {
    to: String,
    #[serde(flatten)]
    endpoint: Endpoint,
}

async fn put_endpoint(sim: web::Data<Simulator>, body: web::Json<EndpointBody>) -> HttpResponse {
    sim.set_endpoint(&body.to, body.endpoint);
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct TimeScale {
    scale: f64,
}

async fn put_time_scale(sim: web::Data<Simulator>, body: web::Json<TimeScale>) -> HttpResponse {
    if !body.scale.is_finite() || body.scale < 0.0 {
        return error(
            actix_web::http::StatusCode::BAD_REQUEST,
            "scale must be a finite number >= 0",
        );
    }
    sim.set_time_scale(body.scale);
    HttpResponse::NoContent().finish()
}
