//! Live updates for dashboards: what changed (an agent, a call, the queue), fanned out to every
//! subscriber in this process and, through PostgreSQL `LISTEN`/`NOTIFY`, to every other instance.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;
use uuid::Uuid;

const CHANNEL: &str = "warm_transfer_events";

/// What changed; subscribers fetch the current state themselves, so a missed or merged
/// notification can never leave them with a stale copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "topic", content = "id", rename_all = "snake_case")]
pub enum Topic {
    Agent(Uuid),
    Call(Uuid),
    Queue,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Notification {
    origin: Uuid,
    topics: Vec<Topic>,
}

/// Topics sent in one NOTIFY at most (its payload must stay under PostgreSQL's 8000 bytes).
const TOPICS_PER_NOTIFY: usize = 64;

#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Topic>,
    /// Identifies this instance, so it ignores its own notifications coming back.
    origin: Uuid,
    outbound: Option<tokio::sync::mpsc::UnboundedSender<Topic>>,
    /// Bumped whenever the queue changes (here or, as far as this instance has heard, on
    /// another instance), so what was read of the queue can be known to be still current.
    queue_version: Arc<AtomicU64>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus for this process only.
    pub fn new() -> Self {
        let (local, _) = broadcast::channel(1024);
        Self {
            local,
            origin: Uuid::new_v4(),
            outbound: None,
            queue_version: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A bus shared with every instance on the same database. The listener reconnects by itself.
    pub fn shared(database_url: &str) -> Self {
        let mut bus = Self::new();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        bus.outbound = Some(tx);
        tokio::spawn(relay(
            database_url.to_owned(),
            bus.origin,
            bus.local.clone(),
            bus.queue_version.clone(),
            rx,
        ));
        bus
    }

    pub fn publish(&self, topic: Topic) {
        if topic == Topic::Queue {
            self.queue_version.fetch_add(1, Ordering::SeqCst);
        }
        // No subscribers is fine.
        let _ = self.local.send(topic);
        if let Some(outbound) = &self.outbound {
            let _ = outbound.send(topic);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Topic> {
        self.local.subscribe()
    }

    /// Changes whenever the queue may have changed: a value read of the queue with this
    /// version is current for as long as the version stays the same (and the relay to the
    /// other instances is up; it bumps the version whenever it reconnects).
    pub fn queue_version(&self) -> u64 {
        self.queue_version.load(Ordering::SeqCst)
    }
}

/// Keeps one connection that both LISTENs for other instances' changes and NOTIFYs ours.
async fn relay(
    database_url: String,
    origin: Uuid,
    local: broadcast::Sender<Topic>,
    queue_version: Arc<AtomicU64>,
    mut outbound: tokio::sync::mpsc::UnboundedReceiver<Topic>,
) {
    loop {
        // Whatever other instances changed while the relay was down was not heard.
        queue_version.fetch_add(1, Ordering::SeqCst);
        match crate::db::tls::connect_raw(&database_url).await {
            Ok((client, mut messages)) => {
                let (notes_tx, mut notes_rx) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    while let Some(Ok(message)) = messages.next().await {
                        if let tokio_postgres::AsyncMessage::Notification(n) = message {
                            let _ = notes_tx.send(n.payload().to_owned());
                        }
                    }
                });
                if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    tracing::warn!(error = %e, "event relay could not LISTEN");
                } else {
                    // Changes made while the relay was connecting were not heard either.
                    queue_version.fetch_add(1, Ordering::SeqCst);
                    loop {
                        tokio::select! {
                            note = notes_rx.recv() => match note {
                                Some(payload) => {
                                    if let Ok(n) = serde_json::from_str::<Notification>(&payload) {
                                        if n.origin != origin {
                                            for topic in n.topics {
                                                if topic == Topic::Queue {
                                                    queue_version.fetch_add(1, Ordering::SeqCst);
                                                }
                                                let _ = local.send(topic);
                                            }
                                        }
                                    }
                                }
                                None => break,
                            },
                            topic = outbound.recv() => match topic {
                                Some(first) => {
                                    // Whatever else is waiting goes in the same NOTIFY, once each.
                                    let mut topics = vec![first];
                                    while topics.len() < TOPICS_PER_NOTIFY {
                                        match outbound.try_recv() {
                                            Ok(topic) if !topics.contains(&topic) => topics.push(topic),
                                            Ok(_) => {}
                                            Err(_) => break,
                                        }
                                    }
                                    let payload = serde_json::to_string(&Notification { origin, topics }).unwrap_or_default();
                                    if client.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]).await.is_err() {
                                        break;
                                    }
                                }
                                None => return,
                            },
                        }
                    }
                }
                driver.abort();
            }
            Err(e) => tracing::debug!(error = %e, "event relay cannot reach the database"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
