//! `GET /api/events`: server-sent events for the dashboard.

use std::collections::HashSet;
use std::time::Duration;

use actix_web::{get, web};
use actix_web_lab::sse;
use tokio::sync::broadcast::error::RecvError;

use super::dto::{AgentView, CallSummaryView, QueuePageView};
use super::error::{ApiResult, ErrorBody};
use super::extract::CurrentAgent;
use crate::events::Topic;
use crate::services::calls::CallSummary;
use crate::services::{accounts, calls};
use crate::state::AppState;

/// Changes are gathered this long and sent once, so a burst of updates to one call is one event.
const COALESCE: Duration = Duration::from_millis(50);
const PING_EVERY: Duration = Duration::from_secs(15);

/// Live updates as server-sent events: `agent` (an AgentView), `queue` (the queue's first page,
/// a QueuePageView), `call` (a CallSummaryView; fetch the detail if it concerns you), and `ping`
/// every 15 s.
/// The stream lives no longer than its session: on sign-out, deactivation or a password reset
/// (at once) or expiry (by the next ping) it sends `session_ended` and closes.
/// The session token goes in the `Authorization` header (never in the URL, where access logs
/// would keep it): read the stream with `fetch`, not `EventSource`.
#[utoipa::path(
    operation_id = "streamEvents",
    tag = "events",
    responses(
        (status = 200, content_type = "text/event-stream", body = String, description = "Server-sent events"),
        (status = 401, body = ErrorBody),
    ),
    security(("session" = []))
)]
#[get("/events")]
pub async fn stream(
    state: web::Data<AppState>,
    session: CurrentAgent,
) -> ApiResult<impl actix_web::Responder> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<sse::Event>(64);
    let mut topics = state.events.subscribe();
    let state = state.into_inner();
    let (agent_id, session_id) = (session.agent.id, session.session_id);
    tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let ended = || async {
            let _ = sender
                .send(sse::Data::new("{}").event("session_ended").into())
                .await;
        };
        loop {
            let first = tokio::select! {
                received = topics.recv() => match received {
                    Ok(topic) => topic,
                    // Fell behind: the queue is the one view that is always worth refreshing.
                    Err(RecvError::Lagged(_)) => Topic::Queue,
                    Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
                    if !session_alive(&state, session_id).await {
                        ended().await;
                        return;
                    }
                    if sender.send(sse::Data::new("{}").event("ping").into()).await.is_err() { return; }
                    continue;
                }
            };

            tokio::time::sleep(COALESCE).await;
            let mut batch = vec![first];
            let mut seen: HashSet<Topic> = HashSet::from([first]);
            while let Ok(topic) = topics.try_recv() {
                if seen.insert(topic) {
                    batch.push(topic);
                }
            }
            for topic in batch {
                // A change to this agent may be their sign-out, deactivation or password reset.
                if topic == Topic::Agent(agent_id) && !session_alive(&state, session_id).await {
                    ended().await;
                    return;
                }
                if let Some(event) = render(&state, topic).await {
                    if sender.send(event.into()).await.is_err() {
                        return; // the client went away
                    }
                }
            }
        }
    });
    Ok(sse::Sse::from_infallible_receiver(receiver))
}

/// Whether the stream's session still holds. A database that cannot answer right now keeps the
/// stream open (the next check decides): an outage must not sign everyone's dashboard out.
async fn session_alive(state: &AppState, session_id: uuid::Uuid) -> bool {
    let Ok(mut conn) = state.pool.get().await else {
        return true;
    };
    !matches!(
        crate::db::sessions::find_active_agent(&mut conn, session_id).await,
        Ok(None)
    )
}

async fn render(state: &AppState, topic: Topic) -> Option<sse::Data> {
    let data = match topic {
        Topic::Agent(id) => {
            let agent = accounts::get_agent(&state.pool, id).await.ok()?;
            sse::Data::new_json(AgentView::from(agent))
                .ok()?
                .event("agent")
        }
        Topic::Queue => {
            let first = calls::QueuePageRequest::first();
            let page = calls::queue(&state.pool, first).await.ok()?;
            sse::Data::new_json(QueuePageView::new(page, first))
                .ok()?
                .event("queue")
        }
        Topic::Call(id) => {
            let detail = calls::call_detail(&state.pool, id).await.ok()?;
            let summary = CallSummary {
                call: detail.call,
                owner_name: detail.owner_name,
            };
            sse::Data::new_json(CallSummaryView::from(&summary))
                .ok()?
                .event("call")
        }
    };
    Some(data)
}
