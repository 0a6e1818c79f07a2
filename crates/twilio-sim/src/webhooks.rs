//! Outgoing webhooks: signed exactly as Twilio signs them, logged for tests, and (for status
//! callbacks) delivered asynchronously and in order per call or conference.
//!
//! Signing: `X-Twilio-Signature` is `compute_signature(auth_token, url, params)` over the exact
//! URL requested; POST parameters go in a form body and are signed, GET parameters are appended
//! to the query string and signed as part of the URL (Twilio's rule for GET webhooks). Each
//! delivery also carries `I-Twilio-Idempotency-Token`, the same on a repeated delivery.
//!
//! Delivery: status callbacks are not retried when the app answers with an error (Twilio does not
//! retry status callbacks by default); the response is only logged. Each call's and each
//! conference's callbacks go through one queue, so they arrive in the order they happened, unless
//! a fault asks for duplicates or a reordered batch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::state::{HttpMethod, HttpTarget, Params};
use super::Inner;
use twilio::signature::{compute_signature, SIGNATURE_HEADER};

/// Header Twilio uses to let receivers drop repeated deliveries of one webhook.
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// What a webhook was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// The TwiML for a call: the number's voice URL, a call's `Url`, or a `<Redirect>`.
    Voice,
    /// The fallback after the voice request failed.
    VoiceFallback,
    /// A `<Dial action>` request.
    DialAction,
    WaitUrl,
    HoldUrl,
    AnnounceUrl,
    /// A call progress status callback.
    CallStatus,
    /// A conference status callback.
    ConferenceStatus,
}

/// One webhook request the simulator made, and how the app answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRecord {
    pub at: DateTime<Utc>,
    pub kind: WebhookKind,
    pub method: HttpMethod,
    /// The full URL requested (with the parameters for GET).
    pub url: String,
    pub params: Params,
    pub signature: String,
    pub idempotency_token: String,
    pub call_sid: Option<String>,
    pub conference_sid: Option<String>,
    /// `StatusCallbackEvent` for conference callbacks, the progress event for call callbacks.
    pub event: Option<String>,
    /// True for the second copy sent by the duplicate-delivery fault.
    pub duplicate: bool,
    pub response_status: Option<u16>,
    pub error: Option<String>,
}

impl WebhookRecord {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A webhook about to be sent.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub kind: WebhookKind,
    pub target: HttpTarget,
    pub params: Params,
    pub call_sid: Option<String>,
    pub conference_sid: Option<String>,
    pub event: Option<String>,
    pub token: String,
}

impl Outgoing {
    pub fn new(kind: WebhookKind, target: HttpTarget, params: Params) -> Self {
        Self {
            kind,
            target,
            params,
            call_sid: None,
            conference_sid: None,
            event: None,
            token: uuid::Uuid::new_v4().to_string(),
        }
    }
}

/// The app's answer to a webhook.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// Why a webhook got no usable answer; the code is Twilio's error for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendError {
    /// 11200 HTTP retrieval failure (bad status), 11205 HTTP connection failure (refused,
    /// timed out).
    pub code: u16,
    pub message: String,
}

/// Signs and sends one webhook, logging it. Applies the webhook latency fault.
pub(crate) async fn send(
    inner: &Inner,
    out: &Outgoing,
    duplicate: bool,
) -> Result<Reply, SendError> {
    let latency = inner.faults().webhook_latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let (url, form): (url::Url, &[(String, String)]) = match out.target.method {
        HttpMethod::Post => (out.target.url.clone(), &out.params),
        HttpMethod::Get => {
            let mut url = out.target.url.clone();
            if !out.params.is_empty() {
                url.query_pairs_mut().extend_pairs(out.params.iter());
            }
            (url, &[])
        }
    };
    let signature = compute_signature(&inner.config.auth_token, url.as_str(), form);
    let method = match out.target.method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
    };
    let mut request = inner
        .http
        .request(method, url.clone())
        .header(SIGNATURE_HEADER, &signature)
        .header(IDEMPOTENCY_HEADER, &out.token)
        .header(USER_AGENT, "TwilioProxy/1.1");
    if out.target.method == HttpMethod::Post {
        request = request.form(form);
    }
    let outcome = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
                .to_owned();
            match response.text().await {
                Ok(body) => Ok(Reply {
                    status,
                    content_type,
                    body,
                }),
                Err(error) => Err(SendError {
                    code: 11200,
                    message: format!("reading the response failed: {error}"),
                }),
            }
        }
        Err(error) => Err(SendError {
            code: 11205,
            message: if error.is_timeout() {
                "timed out waiting for the response".to_owned()
            } else {
                format!("connection failed: {error}")
            },
        }),
    };
    let record = WebhookRecord {
        at: Utc::now(),
        kind: out.kind,
        method: out.target.method,
        url: url.to_string(),
        params: out.params.clone(),
        signature,
        idempotency_token: out.token.clone(),
        call_sid: out.call_sid.clone(),
        conference_sid: out.conference_sid.clone(),
        event: out.event.clone(),
        duplicate,
        response_status: outcome.as_ref().ok().map(|reply| reply.status),
        error: outcome.as_ref().err().map(|error| error.message.clone()),
    };
    match &outcome {
        Ok(reply) if !(200..300).contains(&reply.status) => tracing::info!(
            target: "twilio_sim",
            kind = ?out.kind,
            url = %url,
            status = reply.status,
            "webhook answered with an error status"
        ),
        Err(error) => tracing::info!(
            target: "twilio_sim",
            kind = ?out.kind,
            url = %url,
            error = %error.message,
            "webhook failed"
        ),
        Ok(_) => {}
    }
    {
        let mut state = inner.lock();
        inner.append_log(&mut state.webhook_log, record);
    }
    inner.bump();
    outcome
}

/// Per-call and per-conference queues that keep status callbacks in order, plus the batch held
/// back by the reorder fault.
#[derive(Default)]
pub(crate) struct Dispatcher {
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Outgoing>>>,
    held: Mutex<HeldBatch>,
    /// Status callbacks queued or being delivered (for `Simulator::settle`).
    in_flight: AtomicUsize,
}

impl Dispatcher {
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

#[derive(Default)]
struct HeldBatch {
    items: Vec<Outgoing>,
    /// Identifies the current batch, so a timer only flushes the batch it was started for.
    batch: u64,
}

/// How long an idle callback queue lives before its task exits.
const QUEUE_IDLE: Duration = Duration::from_secs(30);

/// Queues a status callback for delivery after the current state change (never inline).
pub(crate) fn enqueue_callback(inner: &Arc<Inner>, key: String, out: Outgoing) {
    if inner
        .faults()
        .take_loss(out.event.as_deref(), out.call_sid.as_deref())
    {
        tracing::debug!(target: "twilio_sim", event = ?out.event, call_sid = ?out.call_sid, "callback lost by fault");
        return;
    }
    inner.dispatcher.in_flight.fetch_add(1, Ordering::SeqCst);
    let reorder = {
        let mut faults = inner.faults();
        if faults.reorder_next_callbacks > 0 {
            faults.reorder_next_callbacks -= 1;
            Some((faults.reorder_next_callbacks, faults.reorder_max_hold_ms))
        } else {
            None
        }
    };
    if let Some((remaining, max_hold_ms)) = reorder {
        hold_for_reordering(inner, out, remaining, max_hold_ms);
        return;
    }

    let mut queues = inner
        .dispatcher
        .queues
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let unqueued = match queues.get(&key) {
        Some(sender) => match sender.send(out) {
            Ok(()) => None,
            // The worker exited; a new one takes the callback it refused.
            Err(mpsc::error::SendError(out)) => Some(out),
        },
        None => Some(out),
    };
    if let Some(out) = unqueued {
        start_queue(inner, &mut queues, key, out);
    }
}

fn start_queue(
    inner: &Arc<Inner>,
    queues: &mut HashMap<String, mpsc::UnboundedSender<Outgoing>>,
    key: String,
    first: Outgoing,
) {
    let (sender, receiver) = mpsc::unbounded_channel();
    // Cannot fail: the receiver is alive right here.
    let _ = sender.send(first);
    queues.insert(key.clone(), sender);
    let worker_inner = Arc::clone(inner);
    inner.spawn(queue_worker(worker_inner, key, receiver));
}

async fn queue_worker(
    inner: Arc<Inner>,
    key: String,
    mut receiver: mpsc::UnboundedReceiver<Outgoing>,
) {
    loop {
        match tokio::time::timeout(QUEUE_IDLE, receiver.recv()).await {
            Ok(Some(out)) => deliver_callback(&inner, out).await,
            Ok(None) => return,
            Err(_idle) => {
                // Senders only send while holding the map lock, so once the key is removed under
                // that lock nothing more can arrive; drain what raced in before the removal.
                let leftover = {
                    let mut queues = inner
                        .dispatcher
                        .queues
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    match receiver.try_recv() {
                        Ok(out) => Some(out),
                        Err(_) => {
                            queues.remove(&key);
                            None
                        }
                    }
                };
                match leftover {
                    Some(out) => deliver_callback(&inner, out).await,
                    None => return,
                }
            }
        }
    }
}

/// Sends a status callback once, or twice under the duplicate fault (same idempotency token).
async fn deliver_callback(inner: &Arc<Inner>, out: Outgoing) {
    // Errors are logged by `send`; Twilio does not retry status callbacks.
    let _ = send(inner, &out, false).await;
    if inner.faults().take_duplicate() {
        let _ = send(inner, &out, true).await;
    }
    inner.dispatcher.in_flight.fetch_sub(1, Ordering::SeqCst);
    inner.bump();
}

fn hold_for_reordering(inner: &Arc<Inner>, out: Outgoing, remaining: u32, max_hold_ms: u64) {
    let mut held = inner
        .dispatcher
        .held
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let first = held.items.is_empty();
    held.items.push(out);
    if remaining == 0 {
        let batch = std::mem::take(&mut held.items);
        held.batch += 1;
        drop(held);
        inner.spawn(deliver_reversed(Arc::clone(inner), batch));
    } else if first {
        let batch_id = held.batch;
        let timer_inner = Arc::clone(inner);
        inner.spawn(async move {
            tokio::time::sleep(Duration::from_millis(max_hold_ms)).await;
            let batch = {
                let mut held = timer_inner
                    .dispatcher
                    .held
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if held.batch != batch_id {
                    return;
                }
                held.batch += 1;
                std::mem::take(&mut held.items)
            };
            // The batch never filled up: stop holding callbacks back.
            timer_inner.faults().reorder_next_callbacks = 0;
            deliver_reversed(timer_inner, batch).await;
        });
    }
}

async fn deliver_reversed(inner: Arc<Inner>, batch: Vec<Outgoing>) {
    for out in batch.into_iter().rev() {
        deliver_callback(&inner, out).await;
    }
}
