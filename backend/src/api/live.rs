//! The live-event feed behind `GET /api/events`. Each change is built once per instance (its
//! database reads and its JSON), tagged with who may see it, and the same bytes go to every
//! stream whose agent it admits; streams are counted per session and per instance.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::dto::{AgentView, CallSummaryView, QueuePageView};
use crate::config::StreamLimits;
use crate::db::DbPool;
use crate::domain::audience::Audience;
use crate::events::{EventBus, Topic};
use crate::services::{accounts, calls, ServiceError};

/// Changes are gathered this long and built once, so a burst of updates to one call is one event.
const COALESCE: Duration = Duration::from_millis(50);
/// Built events waiting for the slowest stream; one that falls further behind is sent the queue.
const BACKLOG: usize = 256;

/// One built event: what it is about, who may see it, and its bytes on the wire.
#[derive(Debug)]
pub struct LiveEvent {
    pub topic: Topic,
    pub audience: Audience,
    pub bytes: Bytes,
}

/// One server-sent event: `event: <name>` and its JSON on one `data:` line.
pub fn sse_frame(name: &str, data: &impl Serialize) -> Option<Bytes> {
    let json = serde_json::to_string(data).ok()?;
    Some(Bytes::from(format!("event: {name}\ndata: {json}\n\n")))
}

#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

struct Inner {
    out: broadcast::Sender<Arc<LiveEvent>>,
    /// The last queue event, for a stream that fell behind.
    latest_queue: Mutex<Option<Bytes>>,
    slots: Mutex<SlotCounts>,
    limits: StreamLimits,
    built: AtomicU64,
}

#[derive(Default)]
struct SlotCounts {
    total: usize,
    by_session: HashMap<Uuid, usize>,
}

impl LiveFeed {
    /// Starts building events from the bus's changes; runs as long as the bus does.
    pub fn start(pool: DbPool, bus: &EventBus, limits: StreamLimits) -> Self {
        let (out, _) = broadcast::channel(BACKLOG);
        let feed = LiveFeed {
            inner: Arc::new(Inner {
                out,
                latest_queue: Mutex::new(None),
                slots: Mutex::new(SlotCounts::default()),
                limits,
                built: AtomicU64::new(0),
            }),
        };
        tokio::spawn(feed.clone().run(pool, bus.subscribe()));
        feed
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.inner.out.subscribe()
    }

    pub fn latest_queue(&self) -> Option<Bytes> {
        self.inner.latest_queue.lock().ok()?.clone()
    }

    /// Events built so far by this instance (each once, however many streams carried it).
    pub fn events_built(&self) -> u64 {
        self.inner.built.load(Ordering::Relaxed)
    }

    /// Streams open on this instance.
    pub fn open_streams(&self) -> usize {
        self.inner.slots.lock().map(|s| s.total).unwrap_or(0)
    }

    /// Takes a stream slot for this session, or says which limit is reached. The slot is
    /// given back when the returned guard is dropped, i.e. when the stream ends.
    pub fn open_slot(&self, session_id: Uuid) -> Result<StreamSlot, ServiceError> {
        let limits = self.inner.limits;
        let mut slots = self.inner.slots.lock().map_err(|_| poisoned())?;
        let of_session = slots.by_session.get(&session_id).copied().unwrap_or(0);
        if of_session >= limits.per_session {
            return Err(ServiceError::TooManyStreams {
                max: limits.per_session,
            });
        }
        if slots.total >= limits.total {
            return Err(ServiceError::StreamsFull { max: limits.total });
        }
        slots.total += 1;
        *slots.by_session.entry(session_id).or_default() += 1;
        Ok(StreamSlot {
            feed: self.clone(),
            session_id,
        })
    }

    async fn run(self, pool: DbPool, mut topics: broadcast::Receiver<Topic>) {
        loop {
            let first = match topics.recv().await {
                Ok(topic) => topic,
                // Fell behind: the queue is the one view that is always worth refreshing.
                Err(RecvError::Lagged(_)) => Topic::Queue,
                Err(RecvError::Closed) => return,
            };
            tokio::time::sleep(COALESCE).await;
            let mut batch = vec![first];
            let mut seen = HashSet::from([first]);
            loop {
                match topics.try_recv() {
                    Ok(topic) => {
                        if seen.insert(topic) {
                            batch.push(topic);
                        }
                    }
                    Err(broadcast::error::TryRecvError::Lagged(_)) => {
                        if seen.insert(Topic::Queue) {
                            batch.push(Topic::Queue);
                        }
                    }
                    Err(_) => break,
                }
            }
            // Nobody listening on this instance: nothing to build.
            if self.inner.out.receiver_count() == 0 {
                continue;
            }
            for topic in batch {
                if let Some(event) = build(&pool, topic).await {
                    self.inner.built.fetch_add(1, Ordering::Relaxed);
                    if topic == Topic::Queue {
                        if let Ok(mut latest) = self.inner.latest_queue.lock() {
                            *latest = Some(event.bytes.clone());
                        }
                    }
                    let _ = self.inner.out.send(Arc::new(event));
                }
            }
        }
    }
}

fn poisoned() -> ServiceError {
    ServiceError::Internal("stream slots unavailable".into())
}

/// A stream's place under the limits; dropping it frees the place.
pub struct StreamSlot {
    feed: LiveFeed,
    session_id: Uuid,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut slots) = self.feed.inner.slots.lock() {
            slots.total = slots.total.saturating_sub(1);
            if let Some(n) = slots.by_session.get_mut(&self.session_id) {
                *n -= 1;
                if *n == 0 {
                    slots.by_session.remove(&self.session_id);
                }
            }
        }
    }
}

/// Builds the event for one change. The queue and agents' presence are what the REST routes
/// show every agent (`GET /api/queue`, `GET /api/agents`); a call only goes to the agents it
/// concerns and to admins, as `GET /api/calls/{id}` does.
async fn build(pool: &DbPool, topic: Topic) -> Option<LiveEvent> {
    let (audience, bytes) = match topic {
        Topic::Agent(id) => {
            let agent = accounts::get_agent(pool, id).await.ok()?;
            (
                Audience::Everyone,
                sse_frame("agent", &AgentView::from(agent))?,
            )
        }
        Topic::Queue => {
            // The first page, as `GET /api/queue` answers it: a long queue must not make every
            // event megabytes.
            let first = calls::QueuePageRequest::first();
            let page = calls::queue(pool, first).await.ok()?;
            (
                Audience::Everyone,
                sse_frame("queue", &QueuePageView::new(page, first))?,
            )
        }
        Topic::Call(id) => {
            let detail = calls::call_detail(pool, id).await.ok()?;
            let audience = detail.audience();
            let summary = detail.summary();
            (
                audience,
                sse_frame("call", &CallSummaryView::from(&summary))?,
            )
        }
    };
    Some(LiveEvent {
        topic,
        audience,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(per_session: usize, total: usize) -> LiveFeed {
        let (out, _) = broadcast::channel(1);
        LiveFeed {
            inner: Arc::new(Inner {
                out,
                latest_queue: Mutex::new(None),
                slots: Mutex::new(SlotCounts::default()),
                limits: StreamLimits { per_session, total },
                built: AtomicU64::new(0),
            }),
        }
    }

    #[test]
    fn a_session_holds_at_most_its_share_and_gets_it_back_when_a_stream_ends() {
        let feed = feed(2, 10);
        let session = Uuid::new_v4();
        let first = feed.open_slot(session).unwrap();
        let _second = feed.open_slot(session).unwrap();
        assert!(matches!(
            feed.open_slot(session),
            Err(ServiceError::TooManyStreams { max: 2 })
        ));
        // Another session is not held back by this one.
        let _other = feed.open_slot(Uuid::new_v4()).unwrap();
        drop(first);
        assert_eq!(feed.open_streams(), 2);
        let _again = feed.open_slot(session).unwrap();
    }

    #[test]
    fn the_instance_holds_at_most_its_total() {
        let feed = feed(5, 2);
        let a = feed.open_slot(Uuid::new_v4()).unwrap();
        let _b = feed.open_slot(Uuid::new_v4()).unwrap();
        assert!(matches!(
            feed.open_slot(Uuid::new_v4()),
            Err(ServiceError::StreamsFull { max: 2 })
        ));
        drop(a);
        let _c = feed.open_slot(Uuid::new_v4()).unwrap();
        assert_eq!(feed.open_streams(), 2);
    }

    #[test]
    fn frames_are_one_event_line_and_one_data_line() {
        let frame = sse_frame("queue", &serde_json::json!([{"a": "b\nc"}])).unwrap();
        assert_eq!(&frame[..], b"event: queue\ndata: [{\"a\":\"b\\nc\"}]\n\n");
    }
}
