//! Public facts the SPA needs before sign-in, and the operators' probes.

use actix_web::{get, web, HttpResponse};

use super::dto::{ClientConfig, HealthStatus, VoiceModeView};
use super::error::ErrorBody;
use crate::db;
use crate::state::AppState;

/// Which voice mode the backend runs in, so the SPA picks its voice client.
#[utoipa::path(
    operation_id = "getClientConfig",
    tag = "meta", responses((status = 200, body = ClientConfig)))]
#[get("/config")]
pub async fn client_config(state: web::Data<AppState>) -> web::Json<ClientConfig> {
    web::Json(ClientConfig {
        mode: if state.config.is_demo() {
            VoiceModeView::Demo
        } else {
            VoiceModeView::Live
        },
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Liveness: the process answers.
#[utoipa::path(
    operation_id = "healthz",
    tag = "ops", responses((status = 200, body = HealthStatus)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<HealthStatus> {
    web::Json(HealthStatus { status: "ok" })
}

/// Readiness: the database answers too, and the instance is not shutting down (503 from the
/// moment it drains, so proxies send new work elsewhere).
#[utoipa::path(
    operation_id = "readyz",
    tag = "ops", responses((status = 200, body = HealthStatus), (status = 503, body = ErrorBody)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.shutdown.is_draining() {
        return HttpResponse::ServiceUnavailable().json(ErrorBody {
            code: "unavailable",
            message: "this instance is shutting down".into(),
            field: None,
        });
    }
    match tokio::time::timeout(std::time::Duration::from_secs(3), db::ping(&state.pool)).await {
        Ok(Ok(())) => HttpResponse::Ok().json(HealthStatus { status: "ok" }),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(ErrorBody {
                code: "unavailable",
                message: "the database is unreachable".into(),
                field: None,
            })
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(ErrorBody {
            code: "unavailable",
            message: "the database did not answer in time".into(),
            field: None,
        }),
    }
}
