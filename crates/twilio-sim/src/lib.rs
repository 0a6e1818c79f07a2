//! A faithful stand-in for Twilio Voice, used by every test and by demo mode (no Twilio account
//! exists here).
//!
//! What it does, and why each part exists:
//! - serves the subset of Twilio's 2010-04-01 REST API the backend uses, at Twilio's real paths,
//!   so [`twilio::rest::TwilioClient`] works against it unchanged with only its base URL
//!   changed; requests the official OpenAPI description would reject are rejected with Twilio's
//!   error JSON ([`rest`], with the accepted parameters embedded in [`spec_tables`] and a test
//!   that checks them against the spec file);
//! - keeps call and conference state and applies Twilio's rules ([`state`]): conference start and
//!   end, first-participant callback settings, hold and wait music, the ignored
//!   `EndConferenceOnExit` change on a held participant;
//! - drives the app's webhooks with correctly signed requests in Twilio's order and with Twilio's
//!   parameters, after the REST response ([`webhooks`], [`engine`]);
//! - plays the customer (dial in, hang up) and the agents' browsers (ring, accept, reject, time
//!   out), from Rust or over `/sim/*` JSON routes for the demo UI ([`control`]);
//! - injects faults at runtime ([`faults`]).
//!
//! Where Twilio's documentation is silent the choices are noted where they are made (e.g. the
//! `ReasonParticipantLeft` for a REST hang-up, the order of `participant-join` and
//! `conference-start`).

mod control;
mod engine;
mod faults;
mod rest;
mod spec_tables;
mod state;
mod twiml;
mod webhooks;

use std::future::Future;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;
use tokio::sync::watch;
use url::Url;

pub use faults::{Faults, LoseCallbacks};
pub use rest::RestRecord;
pub use state::{
    normalize_address, CallSnapshot, CallStatus, ConferenceSnapshot, ConferenceStatus, Departure,
    Direction, Endpoint, Heard, HeardSource, HttpMethod, ParticipantSnapshot, SimError, SimNote,
    SimSnapshot, APPLICATION_ERROR_MESSAGE, DEFAULT_WAIT_MUSIC,
};
pub use webhooks::{WebhookKind, WebhookRecord, IDEMPOTENCY_HEADER};

use state::{Effect, HttpTarget, State};

/// The Twilio account and number the simulator plays.
#[derive(Clone)]
pub struct SimConfig {
    pub account_sid: String,
    /// Signs webhooks; also accepted (with the account SID) for REST Basic auth.
    pub auth_token: String,
    pub api_key_sid: String,
    pub api_key_secret: String,
    /// Our Twilio number, E.164.
    pub phone_number: String,
    /// The number's voice URL (our incoming-call webhook), requested with POST.
    pub voice_url: Url,
    /// The number's voice fallback URL, requested when the voice URL fails.
    pub voice_fallback_url: Option<Url>,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("api_key_sid", &self.api_key_sid)
            .field("api_key_secret", &"<redacted>")
            .field("phone_number", &self.phone_number)
            .field("voice_url", &self.voice_url.as_str())
            .field(
                "voice_fallback_url",
                &self.voice_fallback_url.as_ref().map(Url::as_str),
            )
            .finish()
    }
}

impl SimConfig {
    /// Fresh random credentials (valid SID shapes) for demo mode and tests.
    pub fn random(phone_number: impl Into<String>, voice_url: Url) -> Self {
        Self {
            account_sid: state::new_sid("AC"),
            auth_token: format!("{:032x}", rand::random::<u128>()),
            api_key_sid: state::new_sid("SK"),
            api_key_secret: format!("{:032x}", rand::random::<u128>()),
            phone_number: phone_number.into(),
            voice_url,
            voice_fallback_url: None,
        }
    }
}

/// Knobs that are not part of a Twilio account.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Multiplies simulated time (ring timeouts, `<Pause>`): 0.01 turns a 60 s ring into 0.6 s.
    pub time_scale: f64,
    /// How long the simulator waits for a webhook answer; Twilio waits 15 s.
    pub webhook_timeout: Duration,
    /// Documents fetched per wait/hold/announce session (the first plus followed `<Redirect>`s);
    /// real Twilio loops for as long as the music plays.
    pub max_media_fetches: usize,
    /// The number's status callback (Twilio sends it `completed` for inbound calls).
    pub number_status_callback: Option<Url>,
    /// Gap between a call's creation and `initiated`, and between `initiated` and `ringing`.
    pub dial_delay: Duration,
    /// The REST and webhook logs keep at most this many entries each (oldest dropped), so a
    /// long demo session does not grow without bound.
    pub max_log_entries: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            time_scale: 1.0,
            webhook_timeout: Duration::from_secs(15),
            max_media_fetches: 3,
            number_status_callback: None,
            dial_delay: Duration::from_millis(10),
            max_log_entries: 20_000,
        }
    }
}

/// A call ringing at an agent's browser or a phone, waiting to be accepted or rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingingCall {
    pub call_sid: String,
    pub from: String,
    pub to: String,
    pub since: DateTime<Utc>,
}

/// A `wait_for*` condition did not hold in time; carries the last state for the failure message.
#[derive(Debug, thiserror::Error)]
#[error("simulator condition not met within {waited:?}")]
pub struct WaitTimeout {
    pub waited: Duration,
    pub last: Box<SimSnapshot>,
}

/// The simulator. Cheap to clone (one shared state).
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Shared by the REST handlers, the control routes and every background task.
pub(crate) struct Inner {
    pub(crate) config: SimConfig,
    pub(crate) options: SimOptions,
    state: Mutex<State>,
    faults: Mutex<Faults>,
    time_scale_bits: AtomicU64,
    /// Bumped on every change; `wait_for` and the engine wait on it instead of sleeping.
    pub(crate) version: watch::Sender<u64>,
    pub(crate) http: reqwest::Client,
    pub(crate) dispatcher: webhooks::Dispatcher,
    /// Background work runs on the runtime the simulator was created on (or the first one that
    /// used it), so tasks outlive the actix worker that happened to handle a request.
    runtime: OnceLock<Handle>,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn bump(&self) {
        self.version.send_modify(|version| *version += 1);
    }

    pub(crate) fn time_scale(&self) -> f64 {
        f64::from_bits(self.time_scale_bits.load(Ordering::Relaxed))
    }

    /// A simulated duration in real time.
    pub(crate) fn scaled(&self, duration: Duration) -> Duration {
        duration.mul_f64(self.time_scale().max(0.0))
    }

    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Some(handle) = self.runtime.get() {
            handle.spawn(task);
            return;
        }
        match Handle::try_current() {
            Ok(handle) => {
                let handle = self.runtime.get_or_init(|| handle);
                handle.spawn(task);
            }
            Err(_) => tracing::error!(
                target: "twilio_sim",
                "simulator used outside a Tokio runtime; background work dropped"
            ),
        }
    }

    /// Runs one state change under the lock, then (unlocked) announces it and carries out its
    /// effects.
    pub(crate) fn mutate<R>(
        self: &Arc<Self>,
        change: impl FnOnce(&mut State, DateTime<Utc>, &mut Vec<Effect>) -> R,
    ) -> R {
        let mut effects = Vec::new();
        let result = {
            let mut state = self.lock();
            change(&mut state, Utc::now(), &mut effects)
        };
        self.bump();
        engine::apply(self, effects);
        result
    }

    /// Appends to a log, dropping the oldest entries beyond `max_log_entries` (trimmed in
    /// batches so appends stay cheap).
    pub(crate) fn append_log<T>(&self, log: &mut Vec<T>, entry: T) {
        log.push(entry);
        let cap = self.options.max_log_entries.max(1);
        if log.len() > cap + cap / 4 {
            let excess = log.len() - cap;
            log.drain(..excess);
        }
    }

    fn snapshot(&self) -> SimSnapshot {
        let version = *self.version.borrow();
        self.lock().snapshot(version)
    }
}

/// How long an idle webhook connection may be reused: well under the app's keep-alive.
const IDLE_CONNECTION_REUSE: Duration = Duration::from_secs(2);

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        Self::with_options(config, SimOptions::default())
    }

    pub fn with_options(config: SimConfig, options: SimOptions) -> Self {
        let http = reqwest::Client::builder()
            .timeout(options.webhook_timeout)
            // Idle connections are dropped before the app's keep-alive (actix closes them after
            // 5 s) runs out: a webhook sent on a connection the app is closing fails with a
            // connection error of the simulator's making, and the caller would go to the
            // fallback URL for it.
            .pool_idle_timeout(IDLE_CONNECTION_REUSE)
            // Twilio signs the URL it was given; following a redirect would break that.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|error| {
                tracing::error!(target: "twilio_sim", %error, "HTTP client setup failed; using defaults");
                reqwest::Client::new()
            });
        let (version, _) = watch::channel(0u64);
        let runtime = OnceLock::new();
        if let Ok(handle) = Handle::try_current() {
            let _ = runtime.set(handle);
        }
        let inner = Inner {
            state: Mutex::new(State::new(config.account_sid.clone())),
            faults: Mutex::new(Faults::default()),
            time_scale_bits: AtomicU64::new(options.time_scale.to_bits()),
            version,
            http,
            dispatcher: webhooks::Dispatcher::default(),
            runtime,
            config,
            options,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    // ------------------------------------------------------------------ HTTP

    /// Mounts the REST API (`/2010-04-01/Accounts/{AccountSid}/…`) and the `/sim/*` control
    /// routes.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        self.configure_rest(cfg);
        self.configure_control(cfg);
    }

    /// Mounts only Twilio's REST API paths.
    pub fn configure_rest(&self, cfg: &mut web::ServiceConfig) {
        rest::configure(self.clone(), cfg);
    }

    /// Mounts only the `/sim/*` control routes (customer and agent-browser actions, state,
    /// logs, faults). Unauthenticated: mount them in demo mode only.
    pub fn configure_control(&self, cfg: &mut web::ServiceConfig) {
        control::configure(self.clone(), cfg);
    }

    /// Runs the simulator as its own HTTP server on `listener` (REST and `/sim/*`). Spawn or
    /// await the returned server; it does not install signal handlers.
    pub fn serve(&self, listener: TcpListener) -> std::io::Result<actix_web::dev::Server> {
        let sim = self.clone();
        let server = HttpServer::new(move || {
            let sim = sim.clone();
            App::new().configure(move |cfg| sim.configure(cfg))
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)?
        .run();
        Ok(server)
    }

    // ------------------------------------------------------------------ the customer

    /// A customer calls our number from `from`: Twilio requests the voice URL (signed, with
    /// `CallStatus=ringing`, `Direction=inbound`) and executes the TwiML. Returns the call SID.
    pub fn dial_in(&self, from: &str) -> String {
        self.place_inbound(from, false)
    }

    fn place_inbound(&self, from: &str, hangs_up_before_twiml: bool) -> String {
        let to = self.inner.config.phone_number.clone();
        let callback = self
            .inner
            .options
            .number_status_callback
            .clone()
            .map(|url| HttpTarget {
                url,
                method: HttpMethod::Post,
            });
        self.inner.mutate(|state, now, fx| {
            let sid = state.create_inbound(from, &to, callback, now);
            if let Some(call) = state.calls.get_mut(&sid) {
                call.hangs_up_before_twiml = hangs_up_before_twiml;
            }
            fx.push(Effect::RunProgram {
                call_sid: sid.clone(),
                generation: 0,
            });
            sid
        })
    }

    /// A customer calls our number and hangs up after the voice URL answered but before its
    /// TwiML runs (so before any `<Dial>`): the call ends `canceled` while still ringing, and
    /// no conference ever hears of it. Twilio lets a caller hang up at any moment; this one
    /// picks the moment between the webhook and the first verb. Returns the call SID.
    pub fn dial_in_and_hang_up_before_twiml(&self, from: &str) -> String {
        self.place_inbound(from, true)
    }

    /// The party on this call hangs up: an answered call completes; a ringing outbound call is
    /// declined (`busy`, as when a Voice SDK user rejects); anything not yet ringing is canceled.
    pub fn hang_up(&self, call_sid: &str) -> Result<(), SimError> {
        self.inner.mutate(|state, now, fx| {
            let call = state
                .call(call_sid)
                .ok_or_else(|| SimError::CallNotFound(call_sid.to_owned()))?;
            let (status, why) = match (call.status, call.direction) {
                (CallStatus::InProgress, Direction::Inbound) => {
                    (CallStatus::Completed, "caller hung up")
                }
                (CallStatus::InProgress, Direction::OutboundApi) => {
                    (CallStatus::Completed, "callee hung up")
                }
                (CallStatus::Ringing, Direction::OutboundApi) => {
                    (CallStatus::Busy, "rejected by the callee")
                }
                (status, _) if status.is_unanswered() => {
                    (CallStatus::Canceled, "caller hung up before answer")
                }
                (status, _) => {
                    return Err(SimError::InvalidState {
                        sid: call_sid.to_owned(),
                        status: status.as_str(),
                        action: "hanging up",
                    })
                }
            };
            state.end_call(call_sid, status, why, now, fx);
            Ok(())
        })
    }

    // ------------------------------------------------------------------ the agent's browser

    /// The far end answers a ringing outbound call (the agent clicks Accept): `answered`
    /// callback, then the call's `Url`/`Twiml` runs.
    pub fn accept(&self, call_sid: &str) -> Result<(), SimError> {
        self.inner
            .mutate(|state, now, fx| state.answer(call_sid, now, fx))
    }

    /// The far end declines a ringing outbound call. A Voice SDK `reject()` ends the call
    /// `busy` (Twilio reports `DialCallStatus=busy` for it).
    pub fn reject(&self, call_sid: &str) -> Result<(), SimError> {
        self.end_ringing(call_sid, CallStatus::Busy, "rejected by the callee")
    }

    /// The ring timeout elapses now instead of after the call's `Timeout` (`no-answer`).
    pub fn time_out(&self, call_sid: &str) -> Result<(), SimError> {
        self.end_ringing(call_sid, CallStatus::NoAnswer, "no answer")
    }

    fn end_ringing(
        &self,
        call_sid: &str,
        status: CallStatus,
        why: &'static str,
    ) -> Result<(), SimError> {
        self.inner.mutate(|state, now, fx| {
            let call = state
                .call(call_sid)
                .ok_or_else(|| SimError::CallNotFound(call_sid.to_owned()))?;
            if call.status != CallStatus::Ringing || call.direction != Direction::OutboundApi {
                return Err(SimError::InvalidState {
                    sid: call_sid.to_owned(),
                    status: call.status.as_str(),
                    action: why,
                });
            }
            state.end_call(call_sid, status, why, now, fx);
            Ok(())
        })
    }

    /// Outbound calls ringing at `to` (`client:alice`, `alice`, or an E.164 number).
    pub fn ringing_for(&self, to: &str) -> Vec<RingingCall> {
        self.snapshot()
            .ringing(to)
            .into_iter()
            .map(|call| RingingCall {
                call_sid: call.sid.clone(),
                from: call.from.clone(),
                to: call.to.clone(),
                since: call.created_at,
            })
            .collect()
    }

    /// How calls to `to` are answered from now on (default: ring until accepted, rejected or
    /// timed out). Useful for transfer targets' phones in the demo and for failure-path tests.
    pub fn set_endpoint(&self, to: &str, endpoint: Endpoint) {
        let to = normalize_address(to);
        self.inner.mutate(|state, _, _| {
            state.endpoints.insert(to, endpoint);
        });
    }

    // ------------------------------------------------------------------ observing

    /// Everything the simulator holds right now.
    pub fn snapshot(&self) -> SimSnapshot {
        self.inner.snapshot()
    }

    /// Every REST request received, in order.
    pub fn rest_log(&self) -> Vec<RestRecord> {
        self.inner.lock().rest_log.clone()
    }

    /// Every webhook sent, in order of completion.
    pub fn webhook_log(&self) -> Vec<WebhookRecord> {
        self.inner.lock().webhook_log.clone()
    }

    pub fn clear_logs(&self) {
        self.inner.mutate(|state, _, _| {
            state.rest_log.clear();
            state.webhook_log.clear();
        });
    }

    /// Waits until `condition` holds for the state (checked on every change, not by sleeping).
    pub async fn wait_for(
        &self,
        mut condition: impl FnMut(&SimSnapshot) -> bool,
        timeout: Duration,
    ) -> Result<SimSnapshot, WaitTimeout> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut versions = self.inner.version.subscribe();
        loop {
            let snapshot = self.snapshot();
            if condition(&snapshot) {
                return Ok(snapshot);
            }
            match tokio::time::timeout_at(deadline, versions.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    return Err(WaitTimeout {
                        waited: timeout,
                        last: Box::new(self.snapshot()),
                    })
                }
            }
        }
    }

    /// Waits until `condition` holds for the webhook log; returns the log.
    pub async fn wait_for_webhooks(
        &self,
        mut condition: impl FnMut(&[WebhookRecord]) -> bool,
        timeout: Duration,
    ) -> Result<Vec<WebhookRecord>, WaitTimeout> {
        let mut log = Vec::new();
        self.wait_for(
            |_| {
                log = self.webhook_log();
                condition(&log)
            },
            timeout,
        )
        .await?;
        Ok(log)
    }

    /// Status callbacks queued or being delivered right now.
    pub fn pending_callbacks(&self) -> usize {
        self.inner.dispatcher.in_flight()
    }

    /// Waits until every status callback queued so far has been delivered (or held back by the
    /// reorder fault has been released). Use it before switching a callback fault on, so the
    /// fault hits the callbacks the test means.
    pub async fn settle(&self, timeout: Duration) -> Result<SimSnapshot, WaitTimeout> {
        self.wait_for(|_| self.pending_callbacks() == 0, timeout)
            .await
    }

    /// Waits for a call ringing at `to` and returns it.
    pub async fn wait_for_ringing(
        &self,
        to: &str,
        timeout: Duration,
    ) -> Result<RingingCall, WaitTimeout> {
        let snapshot = self
            .wait_for(|s| !s.ringing(to).is_empty(), timeout)
            .await?;
        let ringing = snapshot.ringing(to);
        let call = ringing.first().ok_or_else(|| WaitTimeout {
            waited: timeout,
            last: Box::new(snapshot.clone()),
        })?;
        Ok(RingingCall {
            call_sid: call.sid.clone(),
            from: call.from.clone(),
            to: call.to.clone(),
            since: call.created_at,
        })
    }

    // ------------------------------------------------------------------ faults and time

    pub fn faults(&self) -> Faults {
        self.inner.faults().clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.inner.faults() = faults;
    }

    pub fn clear_faults(&self) {
        self.set_faults(Faults::default());
    }

    /// The next `count` REST requests fail with `status` (500, 503, 429…) without effect.
    pub fn fail_next_rest(&self, count: u32, status: u16) {
        let mut faults = self.inner.faults();
        faults.fail_next_rest = count;
        faults.fail_status = status;
    }

    /// The next `count` REST requests take effect but answer only after `delay` (set it past
    /// the client's timeout).
    pub fn timeout_next_rest(&self, count: u32, delay: Duration) {
        let mut faults = self.inner.faults();
        faults.timeout_next_rest = count;
        faults.timeout_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    }

    pub fn set_rest_latency(&self, latency: Duration) {
        self.inner.faults().rest_latency_ms =
            u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    }

    pub fn set_webhook_latency(&self, latency: Duration) {
        self.inner.faults().webhook_latency_ms =
            u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    }

    /// The next `count` status callbacks are delivered twice (same idempotency token).
    pub fn duplicate_next_callbacks(&self, count: u32) {
        self.inner.faults().duplicate_next_callbacks = count;
    }

    /// The next `count` status callbacks are held back and delivered in reverse order.
    /// Loses the next `count` status callbacks for `event` (about `call_sid`, when given).
    pub fn lose_next_callbacks(&self, event: &str, call_sid: Option<&str>, count: u32) {
        self.inner
            .faults()
            .lose_callbacks
            .push(faults::LoseCallbacks {
                event: event.to_owned(),
                call_sid: call_sid.map(str::to_owned),
                count,
            });
    }

    pub fn reorder_next_callbacks(&self, count: u32) {
        self.inner.faults().reorder_next_callbacks = count;
    }

    /// The next `count` `waitUrl` fetches fail as if the app were unreachable: the waiting
    /// participant is dropped from the conference and the call continues after its `<Dial>`
    /// (its `action`, the next verb, or a hang-up).
    /// The next `count` requests for a call's TwiML fail as unreachable; Twilio falls back.
    pub fn fail_next_voice_urls(&self, count: u32) {
        self.inner.faults().fail_next_voice_urls = count;
    }

    pub fn fail_next_wait_urls(&self, count: u32) {
        self.inner.faults().fail_next_wait_urls = count;
    }

    /// Changes the time scale for timers started from now on.
    pub fn set_time_scale(&self, scale: f64) {
        self.inner
            .time_scale_bits
            .store(scale.to_bits(), Ordering::Relaxed);
    }
}
