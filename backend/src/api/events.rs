//! `GET /api/events`: server-sent events for the dashboard.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use super::error::{ApiResult, ErrorBody};
use super::extract::CurrentAgent;
use crate::state::AppState;

/// Live updates as server-sent events: `agent` (an AgentView, for every agent), `queue` (the
/// queue's first page, a QueuePageView, as `GET /api/queue` shows it), `call` (a CallSummaryView; an agent gets only the
/// calls they own, are or were on, or are being transferred to, admins get every call; fetch
/// the detail if it concerns you), and `ping` every 15 s.
/// The stream lives no longer than its session: on sign-out, deactivation or a password reset
/// (at once) or expiry (by the next ping) it sends `session_ended` and closes.
/// A session may hold `EVENT_STREAMS_PER_SESSION` streams (429 past that) and an instance
/// `EVENT_STREAMS_MAX` (503 with `Retry-After` past that); a stream's place is freed when it
/// closes.
/// The session token goes in the `Authorization` header (never in the URL, where access logs
/// would keep it): read the stream with `fetch`, not `EventSource`.
#[utoipa::path(
    operation_id = "streamEvents",
    tag = "events",
    responses(
        (status = 200, content_type = "text/event-stream", body = String, description = "Server-sent events"),
        (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "This session has as many streams open as it may (`too_many_streams`)"),
        (status = 503, body = ErrorBody, description = "This server has as many streams open as it may (`streams_full`); retry after `Retry-After` seconds"),
    ),
    security(("session" = []))
)]
#[get("/events")]
pub async fn stream(state: web::Data<AppState>, session: CurrentAgent) -> ApiResult<HttpResponse> {
    // Events carry no id and are not replayed: a client reloads what it shows on every
    // (re)connect. The feed closes a stream whose client falls too far behind; it reconnects.
    let body = state
        .live
        .open(session.session_id, session.agent.id, session.agent.role)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Compression would hold events back until a buffer fills.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .streaming(body))
}
