//! The call engine: inbound calls, routing, Twilio's callbacks, transfers and call control.
//!
//! Every change to a call happens inside a transaction that locks the call's row, so handlers on
//! several backend instances never interleave on one call. What a change means is decided by the
//! pure core in [`crate::domain::engine`] (see `decide`). Twilio REST requests are never made
//! while a lock is held: a transaction decides and records, returns the [`Effect`]s to carry out,
//! and they run after commit.

mod arrivals;
mod callbacks;
mod control;
mod decide;
mod effects;
mod inbound;
mod inbox;
mod reconcile;
mod routing;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use uuid::Uuid;

pub use crate::domain::engine::Effect;
pub use callbacks::{BadCallback, ConferenceCallback, LegStatusCallback};
pub use control::{TransferRequest, TransferTarget};
pub use inbound::{CustomerDialEnded, InboundCall};
pub use inbox::RawCallback;

use crate::db::DbPool;
use crate::domain::phone::PhoneNumber;
use crate::events::EventBus;
use crate::shutdown::Shutdown;
use twilio::rest::TwilioClient;

/// Where Twilio reaches our webhooks; all built from the public base URL.
#[derive(Debug, Clone)]
pub struct WebhookUrls {
    base: String,
}

/// The query flag that marks a supervisor's leg in its TwiML URLs.
fn supervisor_flag(supervisor: bool) -> &'static str {
    if supervisor {
        "&supervisor=true"
    } else {
        ""
    }
}

impl WebhookUrls {
    pub fn new(public_base_url: &url::Url) -> Self {
        Self {
            base: public_base_url.as_str().trim_end_matches('/').to_owned(),
        }
    }
    pub fn voice(&self) -> String {
        format!("{}/twilio/voice", self.base)
    }
    pub fn voice_fallback(&self) -> String {
        format!("{}/twilio/voice/fallback", self.base)
    }
    pub fn wait(&self) -> String {
        format!("{}/twilio/wait", self.base)
    }
    pub fn hold(&self) -> String {
        format!("{}/twilio/hold", self.base)
    }
    pub fn conference_status(&self) -> String {
        format!("{}/twilio/conference-status", self.base)
    }
    /// Carries the conference name (and whether the leg is a supervisor's) too, so the leg can
    /// join as it should even if the database is down.
    pub fn leg_answered(&self, participant: Uuid, conference: &str, supervisor: bool) -> String {
        format!(
            "{}/twilio/leg?participant={participant}&conference={conference}{}",
            self.base,
            supervisor_flag(supervisor)
        )
    }
    /// Where a leg we dialed goes if `leg_answered` fails: the same room, without the database.
    pub fn leg_fallback(&self, participant: Uuid, conference: &str, supervisor: bool) -> String {
        format!(
            "{}/twilio/leg/fallback?participant={participant}&conference={conference}{}",
            self.base,
            supervisor_flag(supervisor)
        )
    }
    /// The customer's `<Dial action>`; `rejoins` counts the times they were put back already.
    pub fn dial_done(&self, rejoins: u32) -> String {
        format!("{}/twilio/dial-done?rejoins={rejoins}", self.base)
    }
    pub fn leg_status(&self, participant: Uuid) -> String {
        format!("{}/twilio/leg-status?participant={participant}", self.base)
    }
}

/// The number the simulator plays in demo mode: Twilio's test number that always succeeds.
pub const DEMO_NUMBER: &str = "+15005550006";

#[derive(Debug, Clone)]
pub struct VoiceSettings {
    /// Our Twilio number: the caller ID of every leg we dial.
    pub phone_number: PhoneNumber,
    /// How long an agent's browser (or a transfer target) rings before it counts as no answer.
    pub ring_timeout: Duration,
    /// How long a leg may go unconfirmed before the engine asks Twilio what became of it.
    pub stale_leg_after: Duration,
    /// How often a leg believed in the conference is checked with Twilio (its leave and its
    /// end may both have been lost).
    pub live_leg_check_every: Duration,
    pub hold_music_url: String,
    pub greeting: String,
    /// A caller not in their conference this long after arriving (or after dropping out of
    /// one) hung up before the `<Dial>` ran: the call is abandoned.
    pub customer_join_timeout: Duration,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        Self {
            phone_number: PhoneNumber::parse(DEMO_NUMBER).expect("the demo number is E.164"),
            ring_timeout: Duration::from_secs(20),
            stale_leg_after: Duration::from_secs(80),
            live_leg_check_every: Duration::from_secs(300),
            hold_music_url:
                "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"
                    .into(),
            greeting:
                "Thanks for calling. Please hold while we connect you to the next available agent."
                    .into(),
            customer_join_timeout: Duration::from_secs(20),
        }
    }
}

/// Shared by webhooks, the API and the router.
#[derive(Clone)]
pub struct VoiceEngine {
    inner: Arc<Inner>,
}

struct Inner {
    pool: DbPool,
    twilio: TwilioClient,
    urls: WebhookUrls,
    settings: VoiceSettings,
    router_wakeup: Notify,
    events: EventBus,
    /// When each stale leg was last asked about (see `reconcile`), so Twilio is asked at most
    /// once per `stale_leg_after` for each.
    legs_checked: std::sync::Mutex<std::collections::HashMap<Uuid, std::time::Instant>>,
    /// When each leg believed in the conference was last checked with Twilio.
    connected_checked: std::sync::Mutex<std::collections::HashMap<Uuid, std::time::Instant>>,
    /// Callbacks kept while the database is unreachable.
    buffer: inbox::Buffer,
    /// Wakes the inbox processor when a callback was stored.
    inbox_wakeup: Notify,
    /// Arriving calls waiting to be stored together.
    arrivals: arrivals::Arrivals,
    /// Draining stops the router; the server's end stops the inbox; Twilio requests decided
    /// before are waited for.
    shutdown: Shutdown,
}

impl VoiceEngine {
    pub fn new(
        pool: DbPool,
        twilio: TwilioClient,
        urls: WebhookUrls,
        settings: VoiceSettings,
        events: EventBus,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                twilio,
                urls,
                settings,
                router_wakeup: Notify::new(),
                events,
                legs_checked: Default::default(),
                connected_checked: Default::default(),
                buffer: Default::default(),
                inbox_wakeup: Notify::new(),
                arrivals: Default::default(),
                shutdown,
            }),
        }
    }

    pub fn urls(&self) -> &WebhookUrls {
        &self.inner.urls
    }

    pub fn settings(&self) -> &VoiceSettings {
        &self.inner.settings
    }

    fn pool(&self) -> &DbPool {
        &self.inner.pool
    }

    fn twilio(&self) -> &TwilioClient {
        &self.inner.twilio
    }

    fn events(&self) -> &EventBus {
        &self.inner.events
    }

    fn shutdown(&self) -> &Shutdown {
        &self.inner.shutdown
    }

    /// Asks the router to look at the queue now rather than at its next tick.
    pub fn wake_router(&self) {
        self.inner.router_wakeup.notify_one();
    }
}
