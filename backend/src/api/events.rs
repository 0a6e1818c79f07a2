//! `GET /api/events`: server-sent events for the dashboard.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::error::{ApiResult, ErrorBody};
use super::extract::CurrentAgent;
use crate::domain::agent::Agent;
use crate::events::Topic;
use crate::state::AppState;

const PING_EVERY: Duration = Duration::from_secs(15);

/// Live updates as server-sent events: `agent` (an AgentView, for every agent), `queue` (the
/// queue's first page, a QueuePageView, as `GET /api/queue` shows it), `call` (a CallSummaryView; an agent gets only the
/// calls they own, are or were on, or are being transferred to, admins get every call; fetch
/// the detail if it concerns you), and `ping` every 15 s.
/// The stream lives no longer than its session: on sign-out, deactivation or a password reset
/// (at once) or expiry (by the next ping) it sends `session_ended` and closes. It also ends,
/// between two events, when the server shuts down: reconnect and refetch what you show.
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
    let slot = state.live.open_slot(session.session_id)?;
    let mut events = state.live.subscribe();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(64);
    let state = state.into_inner();
    let session_id = session.session_id;
    let mut viewer = session.agent;
    tokio::spawn(async move {
        // Held for as long as the stream runs.
        let _slot = slot;
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let ended = || async {
            let _ = sender.send(frame("session_ended")).await;
        };
        loop {
            let bytes = tokio::select! {
                // The client went away: free the slot now, not at the next event.
                _ = sender.closed() => return,
                // The instance drains: the stream ends between two events, and the client
                // reconnects (through the proxy, to another instance) and refetches.
                _ = state.shutdown.closing() => return,
                received = events.recv() => match received {
                    Ok(event) => {
                        // A change to this agent may be their sign-out, deactivation, password
                        // reset or a new role (which changes what they may see).
                        if event.topic == Topic::Agent(viewer.id) {
                            match session_agent(&state, session_id).await {
                                Some(Some(agent)) => viewer = agent,
                                Some(None) => { ended().await; return; }
                                None => {}
                            }
                        }
                        if !event.audience.admits(viewer.id, viewer.role) {
                            continue;
                        }
                        event.bytes.clone()
                    }
                    // Fell behind: the queue is the one view that is always worth refreshing.
                    Err(RecvError::Lagged(_)) => match state.live.latest_queue() {
                        Some(queue) => queue,
                        None => continue,
                    },
                    Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
                    if let Some(None) = session_agent(&state, session_id).await {
                        ended().await;
                        return;
                    }
                    frame("ping")
                }
            };
            if sender.send(bytes).await.is_err() {
                return; // the client went away
            }
        }
    });
    let body = ReceiverStream::new(receiver).map(Ok::<_, std::convert::Infallible>);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Compression would hold events back until a buffer fills.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .streaming(body))
}

/// An event with an empty JSON object for data.
fn frame(name: &str) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {{}}\n\n"))
}

/// The agent behind the stream's session: `Some(None)` once the session no longer holds
/// (signed out, deactivated, expired), `None` when the database can't answer right now, which
/// keeps the stream open (the next check decides): an outage must not sign everyone's
/// dashboard out.
async fn session_agent(state: &AppState, session_id: uuid::Uuid) -> Option<Option<Agent>> {
    let mut conn = state.pool.get().await.ok()?;
    crate::db::sessions::find_active_agent(&mut conn, session_id)
        .await
        .ok()
}
