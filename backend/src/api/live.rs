//! The live-event feed behind `GET /api/events`. Each change is built once per instance (its
//! database reads and its JSON); the changes gathered in one moment go out together, and every
//! stream whose agent may see all of them gets the same bytes. The feed holds the instance's
//! streams itself: one delivery touches each stream once (no task per stream), one query checks
//! every stream's session, and a stream whose client does not keep up is closed rather than
//! buffered for without bound (the console reconnects and reloads what it shows).

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::web::{Bytes, BytesMut};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc::{self, error::TrySendError};
use uuid::Uuid;

use super::dto::{AgentView, CallSummaryView, QueuePageView};
use crate::config::StreamLimits;
use crate::db::DbPool;
use crate::domain::agent::Role;
use crate::domain::audience::Audience;
use crate::events::{EventBus, Topic};
use crate::services::{accounts, calls, ServiceError};
use crate::shutdown::Shutdown;

/// Changes are gathered this long and built once, so a burst of updates to one call is one event.
const COALESCE: Duration = Duration::from_millis(50);
/// Deliveries a stream may have waiting for its client; a stream further behind is closed.
pub const STREAM_BACKLOG: usize = 64;
/// Every stream gets a `ping` this often, and every stream's session is checked.
pub const PING_EVERY: Duration = Duration::from_secs(15);

/// One built event: what it is about, who may see it, and its bytes on the wire.
#[derive(Debug, Clone)]
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

/// An event with an empty JSON object for data.
fn empty_frame(name: &str) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {{}}\n\n"))
}

#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

struct Inner {
    streams: Mutex<Streams>,
    limits: StreamLimits,
    built: AtomicU64,
    fell_behind: AtomicU64,
}

#[derive(Default)]
struct Streams {
    next_id: u64,
    open: HashMap<u64, OpenStream>,
    by_session: HashMap<Uuid, usize>,
}

/// One open stream: whose it is (what they may see) and where its bytes go.
struct OpenStream {
    session_id: Uuid,
    viewer: Uuid,
    role: Role,
    out: mpsc::Sender<Bytes>,
}

/// Why a stream is being closed by the feed.
enum Close {
    /// The client left, or fell `STREAM_BACKLOG` deliveries behind.
    Gone,
    /// Its session no longer holds: it is told `session_ended` first.
    SessionEnded,
}

impl Streams {
    fn remove(&mut self, id: u64) -> Option<OpenStream> {
        let stream = self.open.remove(&id)?;
        if let Some(n) = self.by_session.get_mut(&stream.session_id) {
            *n -= 1;
            if *n == 0 {
                self.by_session.remove(&stream.session_id);
            }
        }
        Some(stream)
    }
}

impl LiveFeed {
    /// Starts building events from the bus's changes; runs as long as the bus does.
    pub fn start(
        pool: DbPool,
        bus: &EventBus,
        waiting: calls::WaitingTotal,
        limits: StreamLimits,
        shutdown: Shutdown,
    ) -> Self {
        let feed = Self::new(limits);
        tokio::spawn(feed.clone().run(pool, waiting, bus.subscribe(), shutdown));
        feed
    }

    /// Ends every open stream (the instance drains): each body ends once its client has read
    /// what is already waiting, so no event is cut in half. The clients reconnect, through the
    /// proxy to another instance, and refetch what they show.
    fn close_all(&self) {
        let mut streams = self.streams();
        let ids: Vec<(u64, Close)> = streams.open.keys().map(|id| (*id, Close::Gone)).collect();
        close(&mut streams, ids);
    }

    fn new(limits: StreamLimits) -> Self {
        LiveFeed {
            inner: Arc::new(Inner {
                streams: Mutex::new(Streams::default()),
                limits,
                built: AtomicU64::new(0),
                fell_behind: AtomicU64::new(0),
            }),
        }
    }

    fn streams(&self) -> MutexGuard<'_, Streams> {
        // The map stays consistent whatever panicked while holding it.
        self.inner
            .streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Events built so far by this instance (each once, however many streams carried it).
    pub fn events_built(&self) -> u64 {
        self.inner.built.load(Ordering::Relaxed)
    }

    /// Streams closed because their client fell too far behind.
    pub fn streams_fallen_behind(&self) -> u64 {
        self.inner.fell_behind.load(Ordering::Relaxed)
    }

    /// Streams open on this instance.
    pub fn open_streams(&self) -> usize {
        self.streams().open.len()
    }

    /// Opens a stream for this session's agent, or says which limit is reached. The stream's
    /// place is given back when the returned body is dropped (the client went away) or when
    /// the feed closes it.
    pub fn open(
        &self,
        session_id: Uuid,
        viewer: Uuid,
        role: Role,
    ) -> Result<LiveStream, ServiceError> {
        let limits = self.inner.limits;
        let mut streams = self.streams();
        let of_session = streams.by_session.get(&session_id).copied().unwrap_or(0);
        if of_session >= limits.per_session {
            return Err(ServiceError::TooManyStreams {
                max: limits.per_session,
            });
        }
        if streams.open.len() >= limits.total {
            return Err(ServiceError::StreamsFull { max: limits.total });
        }
        let (out, receiver) = mpsc::channel(STREAM_BACKLOG);
        let id = streams.next_id;
        streams.next_id += 1;
        streams.open.insert(
            id,
            OpenStream {
                session_id,
                viewer,
                role,
                out,
            },
        );
        *streams.by_session.entry(session_id).or_default() += 1;
        Ok(LiveStream {
            feed: self.clone(),
            id,
            receiver,
        })
    }

    /// Sends one delivery's events to every stream, each stream the ones it may see, in order.
    /// A stream that cannot take it (its client is gone or this far behind) is closed.
    fn deliver(&self, events: &[LiveEvent]) {
        if events.is_empty() {
            return;
        }
        let all = concat(events.iter());
        let for_everyone = if events.iter().all(|e| e.audience == Audience::Everyone) {
            all.clone()
        } else {
            concat(events.iter().filter(|e| e.audience == Audience::Everyone))
        };
        // Agents some event of this delivery is addressed to, besides everyone and the admins.
        let named: HashSet<Uuid> = events
            .iter()
            .flat_map(|e| match &e.audience {
                Audience::Everyone => &[][..],
                Audience::AdminsAnd(agents) => &agents[..],
            })
            .copied()
            .collect();
        let mut streams = self.streams();
        let mut closing = Vec::new();
        for (&id, stream) in &streams.open {
            let bytes = if stream.role.may_supervise() {
                all.clone()
            } else if !named.contains(&stream.viewer) {
                for_everyone.clone()
            } else {
                concat(
                    events
                        .iter()
                        .filter(|e| e.audience.admits(stream.viewer, stream.role)),
                )
            };
            if bytes.is_empty() {
                continue;
            }
            if let Err(e) = stream.out.try_send(bytes) {
                if matches!(e, TrySendError::Full(_)) {
                    self.inner.fell_behind.fetch_add(1, Ordering::Relaxed);
                }
                closing.push((id, Close::Gone));
            }
        }
        close(&mut streams, closing);
    }

    /// Sends `bytes` to every open stream.
    fn send_to_all(&self, bytes: Bytes) {
        let mut streams = self.streams();
        let mut closing = Vec::new();
        for (&id, stream) in &streams.open {
            if stream.out.try_send(bytes.clone()).is_err() {
                closing.push((id, Close::Gone));
            }
        }
        close(&mut streams, closing);
    }

    /// Checks these sessions in one query: a stream whose session no longer holds (signed out,
    /// deactivated, expired, password reset) is told `session_ended` and closed; the others
    /// take their agent's current role (which decides what they may see). When the database
    /// cannot answer, every stream stays as it is: an outage must not sign everyone out.
    async fn check_sessions(&self, pool: &DbPool, sessions: Vec<Uuid>) {
        if sessions.is_empty() {
            return;
        }
        let Ok(mut conn) = pool.get().await else {
            return;
        };
        let Ok(live) = crate::db::sessions::find_active_agents(&mut conn, &sessions).await else {
            return;
        };
        drop(conn);
        let live: HashMap<Uuid, crate::domain::agent::Agent> = live.into_iter().collect();
        let checked: HashSet<Uuid> = sessions.into_iter().collect();
        let mut streams = self.streams();
        let mut closing = Vec::new();
        for (&id, stream) in streams.open.iter_mut() {
            if !checked.contains(&stream.session_id) {
                continue;
            }
            match live.get(&stream.session_id) {
                Some(agent) => stream.role = agent.role,
                None => closing.push((id, Close::SessionEnded)),
            }
        }
        close(&mut streams, closing);
    }

    /// The sessions of the open streams, all or only those of these agents.
    fn sessions(&self, of: Option<&HashSet<Uuid>>) -> Vec<Uuid> {
        let streams = self.streams();
        let mut sessions: Vec<Uuid> = streams
            .open
            .values()
            .filter(|s| of.is_none_or(|agents| agents.contains(&s.viewer)))
            .map(|s| s.session_id)
            .collect();
        sessions.sort_unstable();
        sessions.dedup();
        sessions
    }

    async fn run(
        self,
        pool: DbPool,
        waiting: calls::WaitingTotal,
        mut topics: broadcast::Receiver<Topic>,
        shutdown: Shutdown,
    ) {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.tick().await;
        loop {
            let first = tokio::select! {
                // The listener closed: streams end between two deliveries, and no new one is
                // served (the SPA reconnects elsewhere).
                _ = shutdown.closing() => {
                    self.close_all();
                    return;
                }
                received = topics.recv() => match received {
                    Ok(topic) => topic,
                    // Fell behind: the queue is the one view that is always worth refreshing.
                    Err(RecvError::Lagged(_)) => Topic::Queue,
                    Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
                    let sessions = self.sessions(None);
                    self.check_sessions(&pool, sessions).await;
                    self.send_to_all(empty_frame("ping"));
                    continue;
                }
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
            if self.open_streams() == 0 {
                continue;
            }
            // A change to a viewer may be their sign-out, deactivation, password reset or a
            // new role (which changes what they may see): their sessions are checked first.
            let agents: HashSet<Uuid> = batch
                .iter()
                .filter_map(|t| match t {
                    Topic::Agent(id) => Some(*id),
                    _ => None,
                })
                .collect();
            if !agents.is_empty() {
                let sessions = self.sessions(Some(&agents));
                self.check_sessions(&pool, sessions).await;
            }
            let events = build_all(&pool, &waiting, &batch).await;
            self.inner
                .built
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            self.deliver(&events);
        }
    }
}

fn concat<'a>(events: impl Iterator<Item = &'a LiveEvent>) -> Bytes {
    let mut out = BytesMut::new();
    for e in events {
        out.extend_from_slice(&e.bytes);
    }
    out.freeze()
}

/// Closes these streams: the sender goes, so the body ends once its client read what is
/// already waiting (`session_ended` last, for an ended session).
fn close(streams: &mut Streams, closing: Vec<(u64, Close)>) {
    for (id, why) in closing {
        if let Some(stream) = streams.remove(id) {
            if let Close::SessionEnded = why {
                let _ = stream.out.try_send(empty_frame("session_ended"));
            }
        }
    }
}

/// The body of one `GET /api/events` response. Dropping it (the client went away) gives the
/// stream's place back at once.
pub struct LiveStream {
    feed: LiveFeed,
    id: u64,
    receiver: mpsc::Receiver<Bytes>,
}

impl Stream for LiveStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx).map(|b| b.map(Ok))
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.feed.streams().remove(self.id);
    }
}

/// Builds the events for one window's changes, in the order they came: one read per kind (every
/// agent changed, every call changed with its legs and transfers, the queue's first page), the
/// kinds read at the same time, however many changes the window holds. The queue and agents'
/// presence are what the REST routes show every agent (`GET /api/queue`, `GET /api/agents`); a
/// call only goes to the agents it concerns and to admins, as `GET /api/calls/{id}` does. A
/// change whose read fails (or whose subject is gone) is left out, as a lost change would be:
/// the next one carries the current state.
async fn build_all(
    pool: &DbPool,
    waiting: &calls::WaitingTotal,
    batch: &[Topic],
) -> Vec<LiveEvent> {
    let agent_ids: Vec<Uuid> = batch
        .iter()
        .filter_map(|t| match t {
            Topic::Agent(id) => Some(*id),
            _ => None,
        })
        .collect();
    let call_ids: Vec<Uuid> = batch
        .iter()
        .filter_map(|t| match t {
            Topic::Call(id) => Some(*id),
            _ => None,
        })
        .collect();
    let queue_changed = batch.contains(&Topic::Queue);
    let (mut agents, mut calls, mut queue) = tokio::join!(
        agent_frames(pool, &agent_ids),
        call_frames(pool, &call_ids),
        async {
            if queue_changed {
                queue_frame(pool, waiting).await
            } else {
                None
            }
        },
    );
    batch
        .iter()
        .filter_map(|&topic| {
            let (audience, bytes) = match topic {
                Topic::Agent(id) => (Audience::Everyone, agents.remove(&id)?),
                Topic::Queue => (Audience::Everyone, queue.take()?),
                Topic::Call(id) => calls.remove(&id)?,
            };
            Some(LiveEvent {
                topic,
                audience,
                bytes,
            })
        })
        .collect()
}

async fn agent_frames(pool: &DbPool, ids: &[Uuid]) -> HashMap<Uuid, Bytes> {
    if ids.is_empty() {
        return HashMap::new();
    }
    match accounts::get_agents(pool, ids).await {
        Ok(agents) => agents
            .into_iter()
            .filter_map(|a| Some((a.id, sse_frame("agent", &AgentView::from(a))?)))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, changes = ids.len(), "live events: could not read agents");
            HashMap::new()
        }
    }
}

async fn call_frames(pool: &DbPool, ids: &[Uuid]) -> HashMap<Uuid, (Audience, Bytes)> {
    if ids.is_empty() {
        return HashMap::new();
    }
    match calls::call_summaries(pool, ids).await {
        Ok(details) => details
            .into_iter()
            .filter_map(|detail| {
                let bytes = sse_frame("call", &CallSummaryView::from(&detail.summary()))?;
                Some((detail.call.id, (detail.audience(), bytes)))
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, changes = ids.len(), "live events: could not read calls");
            HashMap::new()
        }
    }
}

/// The first page, as `GET /api/queue` answers it: a long queue must not make every event
/// megabytes.
async fn queue_frame(pool: &DbPool, waiting: &calls::WaitingTotal) -> Option<Bytes> {
    let first = calls::QueuePageRequest::first();
    let limit = first.limit;
    match calls::queue(pool, waiting, first).await {
        Ok(page) => sse_frame("queue", &QueuePageView::new(page, limit)),
        Err(e) => {
            tracing::warn!(error = %e, "live events: could not read the queue");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::error::TryRecvError;

    use super::*;

    fn feed(per_session: usize, total: usize) -> LiveFeed {
        LiveFeed::new(StreamLimits { per_session, total })
    }

    fn event(audience: Audience, text: &str) -> LiveEvent {
        LiveEvent {
            topic: Topic::Queue,
            audience,
            bytes: Bytes::from(text.to_owned()),
        }
    }

    /// What the stream has waiting, and whether the feed has closed it.
    fn drain(stream: &mut LiveStream) -> (Vec<String>, bool) {
        let mut got = Vec::new();
        loop {
            match stream.receiver.try_recv() {
                Ok(bytes) => got.push(String::from_utf8_lossy(&bytes).into_owned()),
                Err(TryRecvError::Empty) => return (got, false),
                Err(TryRecvError::Disconnected) => return (got, true),
            }
        }
    }

    #[test]
    fn a_session_holds_at_most_its_share_and_gets_it_back_when_a_stream_ends() {
        let feed = feed(2, 10);
        let (session, agent) = (Uuid::new_v4(), Uuid::new_v4());
        let first = feed.open(session, agent, Role::Agent).unwrap();
        let _second = feed.open(session, agent, Role::Agent).unwrap();
        assert!(matches!(
            feed.open(session, agent, Role::Agent),
            Err(ServiceError::TooManyStreams { max: 2 })
        ));
        // Another session is not held back by this one.
        let _other = feed.open(Uuid::new_v4(), agent, Role::Agent).unwrap();
        drop(first);
        assert_eq!(feed.open_streams(), 2);
        let _again = feed.open(session, agent, Role::Agent).unwrap();
    }

    #[test]
    fn the_instance_holds_at_most_its_total() {
        let feed = feed(5, 2);
        let a = feed
            .open(Uuid::new_v4(), Uuid::new_v4(), Role::Agent)
            .unwrap();
        let _b = feed
            .open(Uuid::new_v4(), Uuid::new_v4(), Role::Agent)
            .unwrap();
        assert!(matches!(
            feed.open(Uuid::new_v4(), Uuid::new_v4(), Role::Admin),
            Err(ServiceError::StreamsFull { max: 2 })
        ));
        drop(a);
        let _c = feed
            .open(Uuid::new_v4(), Uuid::new_v4(), Role::Agent)
            .unwrap();
        assert_eq!(feed.open_streams(), 2);
    }

    #[test]
    fn frames_are_one_event_line_and_one_data_line() {
        let frame = sse_frame("queue", &serde_json::json!([{"a": "b\nc"}])).unwrap();
        assert_eq!(&frame[..], b"event: queue\ndata: [{\"a\":\"b\\nc\"}]\n\n");
    }

    #[test]
    fn each_stream_gets_what_it_may_see_in_order_in_one_chunk_and_nothing_else() {
        let feed = feed(6, 10);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut a_stream = feed.open(Uuid::new_v4(), a, Role::Agent).unwrap();
        let mut b_stream = feed.open(Uuid::new_v4(), b, Role::Agent).unwrap();
        let mut admin_stream = feed
            .open(Uuid::new_v4(), Uuid::new_v4(), Role::Admin)
            .unwrap();

        feed.deliver(&[
            event(Audience::Everyone, "queue;"),
            event(Audience::AdminsAnd(vec![a]), "a's call;"),
            event(Audience::Everyone, "agent;"),
        ]);
        assert_eq!(drain(&mut a_stream).0, ["queue;a's call;agent;"]);
        assert_eq!(drain(&mut b_stream).0, ["queue;agent;"]);
        assert_eq!(drain(&mut admin_stream).0, ["queue;a's call;agent;"]);

        // A delivery with nothing for an agent sends them nothing, not an empty chunk.
        feed.deliver(&[event(Audience::AdminsAnd(vec![]), "waiting call;")]);
        assert_eq!(drain(&mut a_stream), (vec![], false));
        assert_eq!(drain(&mut b_stream), (vec![], false));
        assert_eq!(drain(&mut admin_stream).0, ["waiting call;"]);
    }

    #[test]
    fn a_stream_that_falls_behind_is_closed_and_the_others_are_not_held_up() {
        let feed = feed(6, 10);
        let session = Uuid::new_v4();
        let mut stalled = feed.open(session, Uuid::new_v4(), Role::Agent).unwrap();
        let mut reading = feed
            .open(Uuid::new_v4(), Uuid::new_v4(), Role::Agent)
            .unwrap();
        for i in 0..STREAM_BACKLOG + 10 {
            feed.deliver(&[event(Audience::Everyone, &format!("{i};"))]);
            assert_eq!(drain(&mut reading).0, [format!("{i};")], "delivery {i}");
        }
        // The stalled one kept what it had room for, and no more; then it ends, its place free.
        let (kept, closed) = drain(&mut stalled);
        assert_eq!(kept.len(), STREAM_BACKLOG);
        assert_eq!(kept.last().unwrap(), &format!("{};", STREAM_BACKLOG - 1));
        assert!(closed, "the stalled stream is closed");
        assert_eq!(feed.streams_fallen_behind(), 1);
        assert_eq!(feed.open_streams(), 1);
        drop(stalled);
        assert_eq!(feed.open_streams(), 1);
        let _again = feed.open(session, Uuid::new_v4(), Role::Agent).unwrap();
        assert_eq!(feed.open_streams(), 2);
    }

    #[test]
    fn a_stream_whose_client_left_is_forgotten_at_once() {
        let feed = feed(6, 10);
        let stream = feed
            .open(Uuid::new_v4(), Uuid::new_v4(), Role::Agent)
            .unwrap();
        drop(stream);
        assert_eq!(feed.open_streams(), 0);
        feed.deliver(&[event(Audience::Everyone, "x")]);
        assert_eq!(feed.streams_fallen_behind(), 0);
    }
}
