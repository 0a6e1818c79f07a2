//! `GET /api/events`: server-sent events for the dashboard.

use std::collections::HashSet;
use std::time::Duration;

use actix_web::{get, web};
use actix_web_lab::sse;
use tokio::sync::broadcast::error::RecvError;

use super::dto::{AgentView, CallSummaryView, QueueEntryView};
use super::error::{ApiResult, ErrorBody};
use super::extract::CurrentAgent;
use crate::events::Topic;
use crate::services::calls::CallSummary;
use crate::services::{accounts, calls};
use crate::state::AppState;

/// Changes are gathered this long and sent once, so a burst of updates to one call is one event.
const COALESCE: Duration = Duration::from_millis(50);
const PING_EVERY: Duration = Duration::from_secs(15);

/// Live updates as server-sent events: `agent` (an AgentView), `queue` (the whole queue),
/// `call` (a CallSummaryView; fetch the detail if it concerns you), and `ping` every 15 s.
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
    _session: CurrentAgent,
) -> ApiResult<impl actix_web::Responder> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<sse::Event>(64);
    let mut topics = state.events.subscribe();
    let state = state.into_inner();
    tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            let first = tokio::select! {
                received = topics.recv() => match received {
                    Ok(topic) => topic,
                    // Fell behind: the queue is the one view that is always worth refreshing.
                    Err(RecvError::Lagged(_)) => Topic::Queue,
                    Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
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

async fn render(state: &AppState, topic: Topic) -> Option<sse::Data> {
    let data = match topic {
        Topic::Agent(id) => {
            let agent = accounts::get_agent(&state.pool, id).await.ok()?;
            sse::Data::new_json(AgentView::from(agent))
                .ok()?
                .event("agent")
        }
        Topic::Queue => {
            let queue = calls::queue(&state.pool).await.ok()?;
            sse::Data::new_json(queue.iter().map(QueueEntryView::from).collect::<Vec<_>>())
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
