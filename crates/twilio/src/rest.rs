//! Async client for the parts of Twilio's 2010-04-01 REST API the call flow uses: calls,
//! conferences and conference participants.
//!
//! Requests go to `{base}/2010-04-01/Accounts/{AccountSid}/…` with form bodies and HTTP Basic auth
//! (API key SID and secret, so the auth token never leaves the webhook validator). The base URL is
//! configurable so tests and demo mode talk to the simulator instead of `api.twilio.com`.
//!
//! Parameter names and values follow the official OpenAPI description
//! (`shared/twilio/twilio_api_v2010.yaml`); a test checks every request this client sends against
//! it. Every callback URL we pass is fetched with POST (sent explicitly, because `HoldMethod`
//! defaults to GET), so every webhook carries a signed form body.
//!
//! Retries: 429, 5xx, timeouts and connection failures back off and retry (a bounded number of
//! times, honouring `Retry-After` up to the policy's maximum delay); every other 4xx surfaces at
//! once as [`TwilioError::Api`]. Note that a timed-out POST may have reached Twilio, so a retried
//! `create_call` can, rarely, place a second call; callers should reconcile through status
//! callbacks rather than assume exactly-once.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

/// Twilio's production API host.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

const API_VERSION: &str = "2010-04-01";

/// Conferences share a name per customer call, so one page is always enough.
const CONFERENCE_PAGE_SIZE: &str = "50";

/// However many conferences there are, a listing stops after this many pages (5,000 at 50 a
/// page) rather than looping on a misbehaving server.
pub const MAX_CONFERENCE_PAGES: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with an error status (for 429/5xx only when retries are off).
    #[error("Twilio API error: HTTP {status}{}: {message}", code_suffix(.code))]
    Api {
        status: u16,
        /// Twilio's error code (e.g. 20404), documented at `more_info`.
        code: Option<i64>,
        message: String,
        more_info: Option<String>,
    },
    /// Every attempt failed with a retryable error (429, 5xx, timeout, connection failure).
    #[error("Twilio unavailable after {attempts} attempts; last error: {last}")]
    Unavailable {
        attempts: usize,
        #[source]
        last: Box<TwilioError>,
    },
    /// The HTTP exchange failed (timeouts and connection failures end up in `Unavailable`).
    #[error("HTTP request to Twilio failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// A success response whose body is not the resource we asked for.
    #[error("unexpected response body from Twilio: {0}")]
    Decode(#[source] serde_json::Error),
    /// Rejected before sending: the request could never succeed.
    #[error("invalid Twilio request: {0}")]
    InvalidRequest(&'static str),
    /// A success response naming a resource by something that is not a SID of its kind.
    #[error("Twilio answered with a malformed SID: {0}")]
    MalformedSid(#[from] crate::sid::InvalidSid),
    /// The configured base URL cannot have API paths appended (e.g. `mailto:`).
    #[error("Twilio base URL {0:?} cannot carry an API path")]
    InvalidBaseUrl(String),
}

fn code_suffix(code: &Option<i64>) -> String {
    code.map(|code| format!(" (Twilio code {code})"))
        .unwrap_or_default()
}

impl TwilioError {
    /// The HTTP status Twilio answered with, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Unavailable { last, .. } => last.http_status(),
            _ => None,
        }
    }

    /// Twilio's numeric error code, if it sent one.
    pub fn twilio_code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => *code,
            Self::Unavailable { last, .. } => last.twilio_code(),
            _ => None,
        }
    }

    /// True for 404: the call, conference or participant no longer exists (e.g. it already hung
    /// up), which callers removing or updating a leg usually treat as done.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, .. })
    }
}

/// How failed requests are retried. The defaults keep the worst case (about 2 s of sleeping)
/// short enough for an API handler; tests use millisecond delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: usize,
    /// Delay before the first retry; later delays double up to `max_delay`.
    pub min_delay: Duration,
    /// Cap on any single delay, including one asked for by `Retry-After`.
    pub max_delay: Duration,
    /// Randomise delays so many instances do not retry in lockstep.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(1),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    fn backoff(&self) -> ExponentialBuilder {
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries);
        if self.jitter {
            builder.with_jitter()
        } else {
            builder
        }
    }
}

/// Call progress events a `StatusCallback` can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallProgressEvent {
    Initiated,
    Ringing,
    Answered,
    Completed,
}

impl CallProgressEvent {
    pub const ALL: [Self; 4] = [
        Self::Initiated,
        Self::Ringing,
        Self::Answered,
        Self::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::Answered => "answered",
            Self::Completed => "completed",
        }
    }
}

/// `POST /Calls.json`: places an outbound call (an agent's browser, a transfer target's phone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateCall {
    /// E.164 number, `client:<identity>` or SIP address.
    pub to: String,
    /// Caller ID: a Twilio or verified number, or `client:<identity>`.
    pub from: String,
    /// TwiML URL fetched with POST when the call is answered. Exactly one of `url` and `twiml`.
    pub url: Option<String>,
    /// Inline TwiML for the answered call (max 4000 characters).
    pub twiml: Option<String>,
    /// TwiML URL fetched with POST if `url` fails.
    pub fallback_url: Option<String>,
    /// Call progress callback, called with POST.
    pub status_callback: Option<String>,
    /// Events for `status_callback`; Twilio sends only `completed` when empty.
    pub status_callback_events: Vec<CallProgressEvent>,
    /// Ring time before giving up as `no-answer` (Twilio default 60, max 600; may add ~5 s).
    pub timeout_secs: Option<u32>,
    /// Maximum call duration.
    pub time_limit_secs: Option<u32>,
}

/// The status a live call can be moved to through `update_call`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallUpdateStatus {
    /// Hangs up a queued or ringing call (no effect once answered).
    Canceled,
    /// Hangs up a call whatever its state.
    Completed,
}

impl CallUpdateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Canceled => "canceled",
            Self::Completed => "completed",
        }
    }
}

/// `POST /Calls/{Sid}.json`: redirects a live call to new TwiML, or hangs it up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateCall {
    /// New TwiML URL, fetched with POST at once (e.g. to move a customer's leg on cold transfer).
    pub url: Option<String>,
    /// New inline TwiML.
    pub twiml: Option<String>,
    pub status: Option<CallUpdateStatus>,
}

/// `POST /Conferences/{ConferenceSid}/Participants/{CallSid}.json`.
///
/// Twilio silently ignores an `end_conference_on_exit` change on a participant that is on hold:
/// unhold first (or change it before holding) and confirm through the conference callbacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateParticipant {
    pub hold: Option<bool>,
    /// Music (or Play/Say/Pause/Redirect TwiML) while on hold, fetched with POST.
    pub hold_url: Option<String>,
    pub muted: Option<bool>,
    pub end_conference_on_exit: Option<bool>,
    /// Announcement to this participant, fetched with POST.
    pub announce_url: Option<String>,
    pub beep_on_exit: Option<bool>,
    /// Whether this participant coaches another: heard only by the participant it coaches.
    pub coaching: Option<bool>,
    /// The participant (its call SID) a coaching participant is heard by.
    pub call_sid_to_coach: Option<String>,
}

/// Call status as Twilio reports it. Unknown values decode to `Unknown` instead of failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    Queued,
    Initiated,
    Ringing,
    InProgress,
    Completed,
    Busy,
    Failed,
    NoAnswer,
    Canceled,
    #[serde(other)]
    Unknown,
}

/// A `CallStatus` callback parameter that names no status Twilio documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown call status {0:?}")]
pub struct UnknownCallStatus(pub String);

impl std::str::FromStr for CallStatus {
    type Err = UnknownCallStatus;

    /// Parses a `CallStatus` form parameter from a callback; unlike the JSON resource, a
    /// callback value we do not know is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match serde_json::from_value::<Self>(serde_json::Value::String(s.to_owned())) {
            Ok(Self::Unknown) | Err(_) => Err(UnknownCallStatus(s.to_owned())),
            Ok(status) => Ok(status),
        }
    }
}

impl CallStatus {
    /// The value as Twilio writes it (`in-progress`, `no-answer`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::NoAnswer => "no-answer",
            Self::Canceled => "canceled",
            Self::Unknown => "unknown",
        }
    }

    /// True once the call is over and no further status can follow.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConferenceStatus {
    Init,
    InProgress,
    Completed,
    #[serde(other)]
    Unknown,
}

impl ConferenceStatus {
    fn as_query_value(self) -> Option<&'static str> {
        match self {
            Self::Init => Some("init"),
            Self::InProgress => Some("in-progress"),
            Self::Completed => Some("completed"),
            Self::Unknown => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParticipantStatus {
    Queued,
    Connecting,
    Ringing,
    Connected,
    Complete,
    Failed,
    #[serde(other)]
    Unknown,
}

/// The Call resource fields the call flow reads. Everything but the SID is optional so a field
/// Twilio drops or nulls never breaks decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallResource {
    pub sid: String,
    pub account_sid: Option<String>,
    pub parent_call_sid: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub status: Option<CallStatus>,
    pub direction: Option<String>,
    pub answered_by: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Seconds, as a string (Twilio's representation).
    pub duration: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConferenceResource {
    pub sid: String,
    pub account_sid: Option<String>,
    pub friendly_name: Option<String>,
    pub status: Option<ConferenceStatus>,
    pub region: Option<String>,
    pub reason_conference_ended: Option<String>,
    pub call_sid_ending_conference: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantResource {
    pub call_sid: String,
    pub conference_sid: Option<String>,
    pub account_sid: Option<String>,
    pub label: Option<String>,
    pub status: Option<ParticipantStatus>,
    pub hold: Option<bool>,
    pub muted: Option<bool>,
    pub end_conference_on_exit: Option<bool>,
    pub start_conference_on_enter: Option<bool>,
    pub coaching: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct ConferencePage {
    #[serde(default)]
    conferences: Vec<ConferenceResource>,
    /// The next page's path and query, relative to the API's host; `None` on the last page.
    #[serde(default)]
    next_page_uri: Option<String>,
}

/// Twilio's JSON error body: `{code, message, more_info, status}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
    more_info: Option<String>,
}

/// Form fields in the order they are added; names are the spec's (`To`, `StatusCallback`, …).
#[derive(Debug, Default)]
struct Form(Vec<(&'static str, String)>);

impl Form {
    fn add(&mut self, name: &'static str, value: impl Into<String>) {
        self.0.push((name, value.into()));
    }

    fn add_opt(&mut self, name: &'static str, value: Option<&str>) {
        if let Some(value) = value {
            self.add(name, value);
        }
    }

    /// Twilio's booleans are the strings `true` and `false`.
    fn add_bool(&mut self, name: &'static str, value: Option<bool>) {
        if let Some(value) = value {
            self.add(name, if value { "true" } else { "false" });
        }
    }

    /// A callback URL together with its method: always POST, so the webhook is form-encoded
    /// and signature-checked like every other.
    fn add_callback(&mut self, name: &'static str, method_name: &'static str, url: Option<&str>) {
        if let Some(url) = url {
            self.add(name, url);
            self.add(method_name, "POST");
        }
    }
}

/// One attempt's failure, classified for the retry loop.
enum AttemptError {
    Retryable {
        error: TwilioError,
        retry_after: Option<Duration>,
    },
    Fatal(TwilioError),
}

impl AttemptError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }

    fn from_transport(error: reqwest::Error) -> Self {
        // Timeouts and refused/failed connections are transient; anything else (a malformed
        // request, a body that cannot be built) will fail the same way again.
        if error.is_timeout() || error.is_connect() {
            Self::Retryable {
                error: TwilioError::Transport(error),
                retry_after: None,
            }
        } else {
            Self::Fatal(TwilioError::Transport(error))
        }
    }
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Retryable { error, .. } | Self::Fatal(error) => error.fmt(f),
        }
    }
}

/// Client for one Twilio account. Cheap to clone (the HTTP connection pool is shared); `Debug`
/// never prints the API key secret.
#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    /// `{base}/2010-04-01/Accounts/{AccountSid}`; resource paths are appended as segments.
    account_url: Url,
    api_key_sid: String,
    api_key_secret: String,
    retry: RetryPolicy,
}

impl fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioClient")
            .field("account_url", &self.account_url.as_str())
            .field("api_key_sid", &self.api_key_sid)
            .field("api_key_secret", &"<redacted>")
            .field("retry", &self.retry)
            .finish()
    }
}

impl TwilioClient {
    /// `timeout` bounds each attempt (connect, request and response body); retries come on top.
    pub fn new(
        base_url: Url,
        account_sid: &str,
        api_key_sid: &str,
        api_key_secret: &str,
        timeout: Duration,
    ) -> Result<Self, TwilioError> {
        if account_sid.is_empty() {
            return Err(TwilioError::InvalidRequest("account SID must not be empty"));
        }
        let mut account_url = base_url.clone();
        account_url.set_query(None);
        account_url.set_fragment(None);
        account_url
            .path_segments_mut()
            .map_err(|()| TwilioError::InvalidBaseUrl(base_url.to_string()))?
            .pop_if_empty()
            .extend([API_VERSION, "Accounts", account_sid]);

        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("warm-transfer/", env!("CARGO_PKG_VERSION")))
            // Twilio's API never redirects; following one would replay a POST somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(TwilioError::Transport)?;

        Ok(Self {
            http,
            account_url,
            api_key_sid: api_key_sid.to_owned(),
            api_key_secret: api_key_secret.to_owned(),
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Places a call. `to`, `from` and exactly one of `url`/`twiml` are required.
    pub async fn create_call(&self, call: &CreateCall) -> Result<CallResource, TwilioError> {
        if call.to.is_empty() || call.from.is_empty() {
            return Err(TwilioError::InvalidRequest("a call needs both To and From"));
        }
        if call.url.is_some() == call.twiml.is_some() {
            return Err(TwilioError::InvalidRequest(
                "a call needs exactly one of Url and Twiml",
            ));
        }
        let mut form = Form::default();
        form.add("To", call.to.as_str());
        form.add("From", call.from.as_str());
        form.add_callback("Url", "Method", call.url.as_deref());
        form.add_opt("Twiml", call.twiml.as_deref());
        form.add_callback(
            "FallbackUrl",
            "FallbackMethod",
            call.fallback_url.as_deref(),
        );
        form.add_callback(
            "StatusCallback",
            "StatusCallbackMethod",
            call.status_callback.as_deref(),
        );
        for event in &call.status_callback_events {
            // A repeated field, one per event, as the spec requires.
            form.add("StatusCallbackEvent", event.as_str());
        }
        if let Some(timeout) = call.timeout_secs {
            form.add("Timeout", timeout.to_string());
        }
        if let Some(limit) = call.time_limit_secs {
            form.add("TimeLimit", limit.to_string());
        }
        let url = self.endpoint(&["Calls.json"]);
        self.send_json(Method::POST, url, Some(form)).await
    }

    /// Redirects a live call to new TwiML or hangs it up.
    pub async fn update_call(
        &self,
        call_sid: &str,
        update: &UpdateCall,
    ) -> Result<CallResource, TwilioError> {
        if update.url.is_some() && update.twiml.is_some() {
            return Err(TwilioError::InvalidRequest(
                "set at most one of Url and Twiml (Twilio ignores Twiml when both are set)",
            ));
        }
        let mut form = Form::default();
        form.add_callback("Url", "Method", update.url.as_deref());
        form.add_opt("Twiml", update.twiml.as_deref());
        form.add_opt("Status", update.status.map(CallUpdateStatus::as_str));
        if form.0.is_empty() {
            return Err(TwilioError::InvalidRequest(
                "a call update needs at least one field",
            ));
        }
        let url = self.endpoint(&["Calls", &json_resource(call_sid)]);
        self.send_json(Method::POST, url, Some(form)).await
    }

    pub async fn fetch_call(&self, call_sid: &str) -> Result<CallResource, TwilioError> {
        let url = self.endpoint(&["Calls", &json_resource(call_sid)]);
        self.send_json(Method::GET, url, None).await
    }

    pub async fn fetch_conference(
        &self,
        conference_sid: &str,
    ) -> Result<ConferenceResource, TwilioError> {
        let url = self.endpoint(&["Conferences", &json_resource(conference_sid)]);
        self.send_json(Method::GET, url, None).await
    }

    /// Conferences with this friendly name (newest first), optionally only those in `status`. Used to find a conference's SID when a callback has not yet told us.
    pub async fn list_conferences_by_name(
        &self,
        friendly_name: &str,
        status: Option<ConferenceStatus>,
    ) -> Result<Vec<ConferenceResource>, TwilioError> {
        self.list_conferences(Some(friendly_name), status).await
    }

    /// Conferences, newest first, optionally only those with a name or a status: every page,
    /// following `next_page_uri`, up to [`MAX_CONFERENCE_PAGES`] pages.
    pub async fn list_conferences(
        &self,
        friendly_name: Option<&str>,
        status: Option<ConferenceStatus>,
    ) -> Result<Vec<ConferenceResource>, TwilioError> {
        let status = match status {
            Some(status) => Some(status.as_query_value().ok_or(TwilioError::InvalidRequest(
                "cannot filter conferences by an unknown status",
            ))?),
            None => None,
        };
        let mut url = self.endpoint(&["Conferences.json"]);
        {
            let mut query = url.query_pairs_mut();
            if let Some(friendly_name) = friendly_name {
                query.append_pair("FriendlyName", friendly_name);
            }
            if let Some(status) = status {
                query.append_pair("Status", status);
            }
            query.append_pair("PageSize", CONFERENCE_PAGE_SIZE);
        }
        let mut conferences = Vec::new();
        for _ in 0..MAX_CONFERENCE_PAGES {
            let page: ConferencePage = self.send_json(Method::GET, url, None).await?;
            conferences.extend(page.conferences);
            let Some(next) = page.next_page_uri.filter(|next| !next.is_empty()) else {
                return Ok(conferences);
            };
            url = self.next_page(&next)?;
        }
        tracing::warn!(
            pages = MAX_CONFERENCE_PAGES,
            "stopped listing conferences after the page limit"
        );
        Ok(conferences)
    }

    /// A `next_page_uri` (a path on the API's host) as a URL. Anything that would leave the
    /// host the client talks to is refused.
    fn next_page(&self, next: &str) -> Result<Url, TwilioError> {
        if !next.starts_with('/') || next.starts_with("//") {
            return Err(TwilioError::InvalidRequest(
                "Twilio answered a next page that is not a path on its host",
            ));
        }
        self.account_url
            .join(next)
            .map_err(|_| TwilioError::InvalidRequest("Twilio answered an unreadable next page"))
    }

    /// Ends a conference, disconnecting every participant.
    pub async fn end_conference(
        &self,
        conference_sid: &str,
    ) -> Result<ConferenceResource, TwilioError> {
        let mut form = Form::default();
        form.add("Status", "completed");
        let url = self.endpoint(&["Conferences", &json_resource(conference_sid)]);
        self.send_json(Method::POST, url, Some(form)).await
    }

    pub async fn fetch_participant(
        &self,
        conference_sid: &str,
        call_sid: &str,
    ) -> Result<ParticipantResource, TwilioError> {
        let url = self.participant_url(conference_sid, call_sid);
        self.send_json(Method::GET, url, None).await
    }

    /// Holds/unholds, mutes/unmutes or hands over `endConferenceOnExit` for one leg. Acts on the
    /// participant's call SID, never the conference SID alone.
    pub async fn update_participant(
        &self,
        conference_sid: &str,
        call_sid: &str,
        update: &UpdateParticipant,
    ) -> Result<ParticipantResource, TwilioError> {
        let mut form = Form::default();
        form.add_bool("Hold", update.hold);
        form.add_callback("HoldUrl", "HoldMethod", update.hold_url.as_deref());
        form.add_bool("Muted", update.muted);
        form.add_bool("EndConferenceOnExit", update.end_conference_on_exit);
        form.add_callback(
            "AnnounceUrl",
            "AnnounceMethod",
            update.announce_url.as_deref(),
        );
        form.add_bool("BeepOnExit", update.beep_on_exit);
        form.add_bool("Coaching", update.coaching);
        if let Some(coachee) = &update.call_sid_to_coach {
            form.add("CallSidToCoach", coachee.as_str());
        }
        if form.0.is_empty() {
            return Err(TwilioError::InvalidRequest(
                "a participant update needs at least one field",
            ));
        }
        let url = self.participant_url(conference_sid, call_sid);
        self.send_json(Method::POST, url, Some(form)).await
    }

    /// Removes a leg from the conference, hanging it up. A 404 (already gone) is returned as
    /// [`TwilioError::Api`]; check [`TwilioError::is_not_found`] to treat it as done.
    pub async fn remove_participant(
        &self,
        conference_sid: &str,
        call_sid: &str,
    ) -> Result<(), TwilioError> {
        let url = self.participant_url(conference_sid, call_sid);
        self.send(Method::DELETE, url, None).await.map(drop)
    }

    fn participant_url(&self, conference_sid: &str, call_sid: &str) -> Url {
        self.endpoint(&[
            "Conferences",
            conference_sid,
            "Participants",
            &json_resource(call_sid),
        ])
    }

    /// Appends path segments to the account URL. Each segment is percent-encoded by `url`, so a
    /// SID containing `/` or `?` cannot escape into another path.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.account_url.clone();
        url.path_segments_mut()
            .expect("the account URL was checked to carry a path in TwilioClient::new")
            .extend(segments);
        url
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        form: Option<Form>,
    ) -> Result<T, TwilioError> {
        let body = self.send(method, url, form).await?;
        serde_json::from_slice(&body).map_err(TwilioError::Decode)
    }

    /// Sends the request, retrying per the policy, and returns the success body.
    async fn send(
        &self,
        method: Method,
        url: Url,
        form: Option<Form>,
    ) -> Result<Vec<u8>, TwilioError> {
        let attempts = AtomicUsize::new(0);
        let max_delay = self.retry.max_delay;
        let outcome = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(method.clone(), url.clone(), form.as_ref())
                .await
        })
        .retry(self.retry.backoff())
        .when(AttemptError::is_retryable)
        .adjust(|error, backoff_delay| {
            // `None` means retries are exhausted; keep it. Otherwise honour Retry-After, capped.
            let delay = backoff_delay?;
            match error {
                AttemptError::Retryable {
                    retry_after: Some(asked),
                    ..
                } => Some(delay.max((*asked).min(max_delay))),
                _ => Some(delay),
            }
        })
        .notify(|error, delay| {
            tracing::warn!(
                %method,
                path = url.path(),
                retry_in_ms = delay.as_millis(),
                error = %error,
                "Twilio request failed; retrying"
            );
        })
        .await;

        match outcome {
            Ok(body) => Ok(body),
            Err(AttemptError::Fatal(error)) => Err(error),
            Err(AttemptError::Retryable { error, .. }) => Err(TwilioError::Unavailable {
                attempts: attempts.load(Ordering::Relaxed),
                last: Box::new(error),
            }),
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: Url,
        form: Option<&Form>,
    ) -> Result<Vec<u8>, AttemptError> {
        let mut request = self
            .http
            .request(method, url)
            .basic_auth(&self.api_key_sid, Some(&self.api_key_secret))
            .header(ACCEPT, "application/json");
        if let Some(form) = form {
            request = request.form(&form.0);
        }
        let response = request.send().await.map_err(AttemptError::from_transport)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(AttemptError::from_transport)?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let error = api_error(status, &body);
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(AttemptError::Retryable { error, retry_after })
        } else {
            Err(AttemptError::Fatal(error))
        }
    }
}

/// `{sid}.json`, the last path segment of a single resource.
fn json_resource(sid: &str) -> String {
    format!("{sid}.json")
}

/// `Retry-After` in delta-seconds (the form Twilio uses); HTTP dates are ignored.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Builds [`TwilioError::Api`] from Twilio's JSON error body, or from the status alone when the
/// body is not Twilio's (e.g. an HTML page from a proxy).
fn api_error(status: StatusCode, body: &[u8]) -> TwilioError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (code, message, more_info) = match parsed {
        Some(body) => (body.code, body.message, body.more_info),
        None => (None, None, None),
    };
    let message = message
        .filter(|message| !message.trim().is_empty())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("unexpected status")
                .to_owned()
        });
    TwilioError::Api {
        status: status.as_u16(),
        code,
        message,
        more_info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_status_names_parse_back() {
        for status in [
            CallStatus::Queued,
            CallStatus::Initiated,
            CallStatus::Ringing,
            CallStatus::InProgress,
            CallStatus::Completed,
            CallStatus::Busy,
            CallStatus::Failed,
            CallStatus::NoAnswer,
            CallStatus::Canceled,
        ] {
            assert_eq!(status.as_str().parse::<CallStatus>(), Ok(status));
        }
        assert!(CallStatus::Unknown.as_str().parse::<CallStatus>().is_err());
    }
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use serde_json::json;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
    const KEY_SID: &str = "SK00000000000000000000000000000002";
    const KEY_SECRET: &str = "key-secret";
    const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";
    const CONFERENCE_SID: &str = "CF0123456789abcdef0123456789abcdef";

    // ---- a scripted HTTP/1.1 server that records what it receives ----

    #[derive(Debug, Clone)]
    struct Recorded {
        method: String,
        /// Path and query, as sent on the request line.
        target: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Recorded {
        fn path(&self) -> &str {
            self.target.split('?').next().unwrap_or_default()
        }

        fn query(&self) -> Vec<(String, String)> {
            let query = self.target.split_once('?').map_or("", |(_, query)| query);
            decode_pairs(query)
        }

        fn form(&self) -> Vec<(String, String)> {
            decode_pairs(&self.body)
        }

        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }
    }

    fn decode_pairs(encoded: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(encoded.as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[derive(Debug, Clone)]
    enum Reply {
        Respond {
            status: u16,
            body: String,
            headers: Vec<(&'static str, String)>,
        },
        /// Read the request, then never answer (until the client gives up).
        Stall,
    }

    fn reply(status: u16, body: serde_json::Value) -> Reply {
        Reply::Respond {
            status,
            body: body.to_string(),
            headers: vec![("Content-Type", "application/json".to_owned())],
        }
    }

    fn no_content() -> Reply {
        Reply::Respond {
            status: 204,
            body: String::new(),
            headers: Vec::new(),
        }
    }

    fn twilio_error(status: u16, code: i64, message: &str) -> Reply {
        reply(
            status,
            json!({
                "code": code,
                "message": message,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": status,
            }),
        )
    }

    struct TestServer {
        base_url: Url,
        requests: Arc<Mutex<Vec<Recorded>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl TestServer {
        async fn start(script: Vec<Reply>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let requests = Arc::new(Mutex::new(Vec::new()));
            let script = Arc::new(Mutex::new(VecDeque::from(script)));
            let recorded = Arc::clone(&requests);
            let task = tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let recorded = Arc::clone(&recorded);
                    let script = Arc::clone(&script);
                    tokio::spawn(serve_one(stream, recorded, script));
                }
            });
            Self {
                base_url: Url::parse(&format!("http://{address}")).unwrap(),
                requests,
                task,
            }
        }

        fn requests(&self) -> Vec<Recorded> {
            self.requests.lock().unwrap().clone()
        }

        fn only_request(&self) -> Recorded {
            let requests = self.requests();
            assert_eq!(requests.len(), 1, "{requests:#?}");
            requests[0].clone()
        }

        fn client(&self) -> TwilioClient {
            client_for(self.base_url.clone(), Duration::from_secs(5))
        }
    }

    fn fast_retries() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            jitter: false,
        }
    }

    fn client_for(base_url: Url, timeout: Duration) -> TwilioClient {
        TwilioClient::new(base_url, ACCOUNT_SID, KEY_SID, KEY_SECRET, timeout)
            .unwrap()
            .with_retry_policy(fast_retries())
    }

    async fn serve_one(
        mut stream: TcpStream,
        recorded: Arc<Mutex<Vec<Recorded>>>,
        script: Arc<Mutex<VecDeque<Reply>>>,
    ) {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        recorded.lock().unwrap().push(request);
        let next = script.lock().unwrap().pop_front();
        let (status, body, headers) = match next {
            Some(Reply::Respond {
                status,
                body,
                headers,
            }) => (status, body, headers),
            Some(Reply::Stall) => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
            None => (599, "script exhausted".to_owned(), Vec::new()),
        };
        let mut response = format!(
            "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&body);
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
        let mut buffer = Vec::new();
        let header_end = loop {
            let mut chunk = [0_u8; 4096];
            let read = stream.read(&mut chunk).await.ok()?;
            if read == 0 {
                return None;
            }
            buffer.extend_from_slice(&chunk[..read]);
            if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break position;
            }
        };
        let head = String::from_utf8(buffer[..header_end].to_vec()).ok()?;
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next()?.split(' ');
        let method = request_line.next()?.to_owned();
        let target = request_line.next()?.to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        let content_length = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = buffer[header_end + 4..].to_vec();
        while body.len() < content_length {
            let mut chunk = [0_u8; 4096];
            let read = stream.read(&mut chunk).await.ok()?;
            if read == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..read]);
        }
        Some(Recorded {
            method,
            target,
            headers,
            body: String::from_utf8(body).ok()?,
        })
    }

    fn call_json(status: &str) -> serde_json::Value {
        json!({
            "sid": CALL_SID,
            "account_sid": ACCOUNT_SID,
            "parent_call_sid": null,
            "to": "client:agent_7",
            "from": "+14155550100",
            "status": status,
            "direction": "outbound-api",
            "start_time": null,
            "end_time": null,
            "duration": null,
            "price": null,
            "subresource_uris": {"notifications": "/x"},
            "a_field_we_do_not_model": 42
        })
    }

    fn participant_json() -> serde_json::Value {
        json!({
            "account_sid": ACCOUNT_SID,
            "call_sid": CALL_SID,
            "conference_sid": CONFERENCE_SID,
            "label": null,
            "status": "connected",
            "hold": true,
            "muted": false,
            "end_conference_on_exit": false,
            "start_conference_on_enter": true,
            "coaching": false
        })
    }

    fn conference_json(status: &str) -> serde_json::Value {
        json!({
            "sid": CONFERENCE_SID,
            "account_sid": ACCOUNT_SID,
            "friendly_name": "call-42",
            "status": status,
            "region": "us1",
            "reason_conference_ended": null,
            "call_sid_ending_conference": null,
            "date_created": "Thu, 01 Jan 2015 10:23:45 +0000",
            "date_updated": "Thu, 01 Jan 2015 10:23:45 +0000"
        })
    }

    fn account_path(rest: &str) -> String {
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/{rest}")
    }

    fn agent_call() -> CreateCall {
        CreateCall {
            to: "client:agent_7".to_owned(),
            from: "+14155550100".to_owned(),
            url: Some("https://app.test/twilio/agent-leg?call=42&leg=1".to_owned()),
            status_callback: Some("https://app.test/twilio/call-status".to_owned()),
            status_callback_events: CallProgressEvent::ALL.to_vec(),
            timeout_secs: Some(20),
            ..CreateCall::default()
        }
    }

    // ---- requests ----

    #[tokio::test]
    async fn create_call_posts_spec_form_with_basic_auth() {
        let server = TestServer::start(vec![reply(201, call_json("queued"))]).await;
        let call = server.client().create_call(&agent_call()).await.unwrap();
        assert_eq!(call.sid, CALL_SID);
        assert_eq!(call.status, Some(CallStatus::Queued));
        assert_eq!(call.to.as_deref(), Some("client:agent_7"));

        let request = server.only_request();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path(), account_path("Calls.json"));
        let expected_auth = format!("Basic {}", BASE64.encode(format!("{KEY_SID}:{KEY_SECRET}")));
        assert_eq!(
            request.header("authorization"),
            Some(expected_auth.as_str())
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            request.form(),
            pairs(&[
                ("To", "client:agent_7"),
                ("From", "+14155550100"),
                ("Url", "https://app.test/twilio/agent-leg?call=42&leg=1"),
                ("Method", "POST"),
                ("StatusCallback", "https://app.test/twilio/call-status"),
                ("StatusCallbackMethod", "POST"),
                ("StatusCallbackEvent", "initiated"),
                ("StatusCallbackEvent", "ringing"),
                ("StatusCallbackEvent", "answered"),
                ("StatusCallbackEvent", "completed"),
                ("Timeout", "20"),
            ])
        );
    }

    #[tokio::test]
    async fn create_call_validates_before_sending() {
        let server = TestServer::start(Vec::new()).await;
        let client = server.client();
        let neither = CreateCall {
            url: None,
            ..agent_call()
        };
        let both = CreateCall {
            twiml: Some("<Response/>".to_owned()),
            ..agent_call()
        };
        let no_to = CreateCall {
            to: String::new(),
            ..agent_call()
        };
        for call in [neither, both, no_to] {
            assert!(matches!(
                client.create_call(&call).await,
                Err(TwilioError::InvalidRequest(_))
            ));
        }
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn update_call_sends_only_the_fields_set() {
        let server = TestServer::start(vec![
            reply(200, call_json("in-progress")),
            reply(200, call_json("canceled")),
            reply(200, call_json("in-progress")),
        ])
        .await;
        let client = server.client();
        client
            .update_call(
                CALL_SID,
                &UpdateCall {
                    url: Some("https://app.test/twilio/hold?x=1&y=2".to_owned()),
                    ..UpdateCall::default()
                },
            )
            .await
            .unwrap();
        let canceled = client
            .update_call(
                CALL_SID,
                &UpdateCall {
                    status: Some(CallUpdateStatus::Canceled),
                    ..UpdateCall::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(canceled.status, Some(CallStatus::Canceled));
        client
            .update_call(
                CALL_SID,
                &UpdateCall {
                    twiml: Some("<Response><Hangup/></Response>".to_owned()),
                    ..UpdateCall::default()
                },
            )
            .await
            .unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 3);
        for request in &requests {
            assert_eq!(request.method, "POST");
            assert_eq!(
                request.path(),
                account_path(&format!("Calls/{CALL_SID}.json"))
            );
        }
        assert_eq!(
            requests[0].form(),
            pairs(&[
                ("Url", "https://app.test/twilio/hold?x=1&y=2"),
                ("Method", "POST")
            ])
        );
        assert_eq!(requests[1].form(), pairs(&[("Status", "canceled")]));
        assert_eq!(
            requests[2].form(),
            pairs(&[("Twiml", "<Response><Hangup/></Response>")])
        );
    }

    #[tokio::test]
    async fn update_call_rejects_empty_and_ambiguous_updates() {
        let server = TestServer::start(Vec::new()).await;
        let client = server.client();
        assert!(matches!(
            client.update_call(CALL_SID, &UpdateCall::default()).await,
            Err(TwilioError::InvalidRequest(_))
        ));
        let both = UpdateCall {
            url: Some("https://app.test/a".to_owned()),
            twiml: Some("<Response/>".to_owned()),
            status: None,
        };
        assert!(matches!(
            client.update_call(CALL_SID, &both).await,
            Err(TwilioError::InvalidRequest(_))
        ));
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn fetch_call_gets_the_call_and_tolerates_unknown_fields_and_statuses() {
        let server = TestServer::start(vec![
            reply(200, call_json("no-answer")),
            reply(200, call_json("some-future-status")),
        ])
        .await;
        let client = server.client();
        let call = client.fetch_call(CALL_SID).await.unwrap();
        assert_eq!(call.status, Some(CallStatus::NoAnswer));
        assert!(call.status.is_some_and(CallStatus::is_final));
        let call = client.fetch_call(CALL_SID).await.unwrap();
        assert_eq!(call.status, Some(CallStatus::Unknown));

        let request = &server.requests()[0];
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.path(),
            account_path(&format!("Calls/{CALL_SID}.json"))
        );
        assert!(request.body.is_empty());
    }

    #[tokio::test]
    async fn fetch_conference_gets_the_conference() {
        let server = TestServer::start(vec![reply(200, conference_json("in-progress"))]).await;
        let conference = server
            .client()
            .fetch_conference(CONFERENCE_SID)
            .await
            .unwrap();
        assert_eq!(conference.status, Some(ConferenceStatus::InProgress));
        assert_eq!(conference.friendly_name.as_deref(), Some("call-42"));
        let request = server.only_request();
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.path(),
            account_path(&format!("Conferences/{CONFERENCE_SID}.json"))
        );
    }

    #[tokio::test]
    async fn listing_conferences_follows_every_page_and_stays_on_the_host() {
        let next = format!(
            "{}?Status=in-progress&PageSize=50&Page=1&PageToken=PA1",
            account_path("Conferences.json")
        );
        let server = TestServer::start(vec![
            reply(
                200,
                json!({ "conferences": [conference_json("in-progress")], "next_page_uri": next }),
            ),
            reply(
                200,
                json!({ "conferences": [conference_json("in-progress")], "next_page_uri": null }),
            ),
            reply(
                200,
                json!({ "conferences": [], "next_page_uri": "https://elsewhere.example.com/x" }),
            ),
        ])
        .await;
        let client = server.client();
        let all = client
            .list_conferences(None, Some(ConferenceStatus::InProgress))
            .await
            .unwrap();
        assert_eq!(all.len(), 2, "both pages");
        let requests = server.requests();
        assert_eq!(requests[1].path(), account_path("Conferences.json"));
        assert_eq!(
            requests[1].query(),
            pairs(&[
                ("Status", "in-progress"),
                ("PageSize", "50"),
                ("Page", "1"),
                ("PageToken", "PA1")
            ])
        );
        // A next page on another host is never requested.
        assert!(matches!(
            client.list_conferences(None, None).await,
            Err(TwilioError::InvalidRequest(_))
        ));
        assert_eq!(server.requests().len(), 3);
    }

    #[tokio::test]
    async fn list_conferences_by_name_filters_by_name_and_status() {
        let page = json!({
            "conferences": [conference_json("in-progress")],
            "first_page_uri": "/x", "next_page_uri": null, "page": 0, "page_size": 50
        });
        let server = TestServer::start(vec![
            reply(200, page),
            reply(200, json!({"conferences": []})),
        ])
        .await;
        let client = server.client();
        let conferences = client
            .list_conferences_by_name("call 42&x", Some(ConferenceStatus::InProgress))
            .await
            .unwrap();
        assert_eq!(conferences.len(), 1);
        assert_eq!(conferences[0].sid, CONFERENCE_SID);
        assert!(client
            .list_conferences_by_name("call-43", None)
            .await
            .unwrap()
            .is_empty());

        let requests = server.requests();
        assert_eq!(requests[0].method, "GET");
        assert_eq!(requests[0].path(), account_path("Conferences.json"));
        assert_eq!(
            requests[0].query(),
            pairs(&[
                ("FriendlyName", "call 42&x"),
                ("Status", "in-progress"),
                ("PageSize", "50")
            ])
        );
        assert_eq!(
            requests[1].query(),
            pairs(&[("FriendlyName", "call-43"), ("PageSize", "50")])
        );
        assert!(matches!(
            client
                .list_conferences_by_name("x", Some(ConferenceStatus::Unknown))
                .await,
            Err(TwilioError::InvalidRequest(_))
        ));
    }

    #[tokio::test]
    async fn end_conference_posts_completed_status() {
        let server = TestServer::start(vec![reply(200, conference_json("completed"))]).await;
        server
            .client()
            .end_conference(CONFERENCE_SID)
            .await
            .unwrap();
        let request = server.only_request();
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.path(),
            account_path(&format!("Conferences/{CONFERENCE_SID}.json"))
        );
        assert_eq!(request.form(), pairs(&[("Status", "completed")]));
    }

    #[tokio::test]
    async fn update_participant_sends_booleans_as_true_false_and_post_methods() {
        let server = TestServer::start(vec![
            reply(200, participant_json()),
            reply(200, participant_json()),
        ])
        .await;
        let client = server.client();
        let participant = client
            .update_participant(
                CONFERENCE_SID,
                CALL_SID,
                &UpdateParticipant {
                    hold: Some(true),
                    hold_url: Some("https://app.test/twilio/hold-music".to_owned()),
                    ..UpdateParticipant::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(participant.hold, Some(true));
        assert_eq!(participant.status, Some(ParticipantStatus::Connected));
        client
            .update_participant(
                CONFERENCE_SID,
                CALL_SID,
                &UpdateParticipant {
                    hold: Some(false),
                    muted: Some(false),
                    end_conference_on_exit: Some(true),
                    announce_url: Some("https://app.test/twilio/announce".to_owned()),
                    beep_on_exit: Some(false),
                    ..UpdateParticipant::default()
                },
            )
            .await
            .unwrap();

        let requests = server.requests();
        let path = account_path(&format!(
            "Conferences/{CONFERENCE_SID}/Participants/{CALL_SID}.json"
        ));
        assert_eq!(requests[0].method, "POST");
        assert_eq!(requests[0].path(), path);
        assert_eq!(
            requests[0].form(),
            pairs(&[
                ("Hold", "true"),
                ("HoldUrl", "https://app.test/twilio/hold-music"),
                ("HoldMethod", "POST"),
            ])
        );
        assert_eq!(requests[1].path(), path);
        assert_eq!(
            requests[1].form(),
            pairs(&[
                ("Hold", "false"),
                ("Muted", "false"),
                ("EndConferenceOnExit", "true"),
                ("AnnounceUrl", "https://app.test/twilio/announce"),
                ("AnnounceMethod", "POST"),
                ("BeepOnExit", "false"),
            ])
        );
    }

    #[tokio::test]
    async fn update_participant_rejects_an_empty_update() {
        let server = TestServer::start(Vec::new()).await;
        assert!(matches!(
            server
                .client()
                .update_participant(CONFERENCE_SID, CALL_SID, &UpdateParticipant::default())
                .await,
            Err(TwilioError::InvalidRequest(_))
        ));
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn fetch_participant_gets_the_leg() {
        let server = TestServer::start(vec![reply(200, participant_json())]).await;
        let participant = server
            .client()
            .fetch_participant(CONFERENCE_SID, CALL_SID)
            .await
            .unwrap();
        assert_eq!(participant.call_sid, CALL_SID);
        assert_eq!(participant.end_conference_on_exit, Some(false));
        let request = server.only_request();
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.path(),
            account_path(&format!(
                "Conferences/{CONFERENCE_SID}/Participants/{CALL_SID}.json"
            ))
        );
    }

    #[tokio::test]
    async fn remove_participant_deletes_and_accepts_204() {
        let server = TestServer::start(vec![no_content()]).await;
        server
            .client()
            .remove_participant(CONFERENCE_SID, CALL_SID)
            .await
            .unwrap();
        let request = server.only_request();
        assert_eq!(request.method, "DELETE");
        assert_eq!(
            request.path(),
            account_path(&format!(
                "Conferences/{CONFERENCE_SID}/Participants/{CALL_SID}.json"
            ))
        );
        assert!(request.body.is_empty());
    }

    #[tokio::test]
    async fn path_segments_are_percent_encoded() {
        let server = TestServer::start(vec![reply(200, call_json("queued"))]).await;
        server
            .client()
            .fetch_call("CA1/../../Other?x=1")
            .await
            .unwrap();
        let request = server.only_request();
        assert_eq!(
            request.target,
            account_path("Calls/CA1%2F..%2F..%2FOther%3Fx=1.json")
        );
    }

    #[tokio::test]
    async fn base_url_path_prefix_is_kept() {
        let server = TestServer::start(vec![reply(200, call_json("queued"))]).await;
        let base = server.base_url.join("/sim/twilio/").unwrap();
        client_for(base, Duration::from_secs(5))
            .fetch_call(CALL_SID)
            .await
            .unwrap();
        assert_eq!(
            server.only_request().path(),
            format!("/sim/twilio/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{CALL_SID}.json")
        );
    }

    /// The router calls the client from spawned tasks, so the client and its futures must be Send.
    #[test]
    fn client_and_its_futures_can_cross_threads() {
        fn assert_send<T: Send>(_: &T) {}
        fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
        assert_send_sync_clone::<TwilioClient>();
        let client = client_for(
            Url::parse(DEFAULT_BASE_URL).unwrap(),
            Duration::from_secs(1),
        );
        let call = agent_call();
        assert_send(&client.create_call(&call));
        assert_send(&client.update_call(CALL_SID, &UpdateCall::default()));
        assert_send(&client.remove_participant(CONFERENCE_SID, CALL_SID));
        assert_send(&client.list_conferences_by_name("x", None));
        assert_send(&client.update_participant(
            CONFERENCE_SID,
            CALL_SID,
            &UpdateParticipant::default(),
        ));
    }

    #[test]
    fn debug_output_redacts_the_api_key_secret() {
        let client = client_for(
            Url::parse(DEFAULT_BASE_URL).unwrap(),
            Duration::from_secs(1),
        );
        let rendered = format!("{client:?}");
        assert!(!rendered.contains(KEY_SECRET), "{rendered}");
        assert!(rendered.contains(KEY_SID));
    }

    #[test]
    fn base_urls_that_cannot_carry_a_path_are_rejected() {
        let result = TwilioClient::new(
            Url::parse("mailto:ops@example.com").unwrap(),
            ACCOUNT_SID,
            KEY_SID,
            KEY_SECRET,
            Duration::from_secs(1),
        );
        assert!(matches!(result, Err(TwilioError::InvalidBaseUrl(_))));
    }

    // ---- errors and retries ----

    #[tokio::test]
    async fn retries_500_then_succeeds() {
        let server = TestServer::start(vec![
            twilio_error(500, 20500, "Internal Server Error"),
            reply(200, call_json("in-progress")),
        ])
        .await;
        let call = server.client().fetch_call(CALL_SID).await.unwrap();
        assert_eq!(call.status, Some(CallStatus::InProgress));
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn retries_429_then_succeeds_and_resends_the_same_form() {
        let server = TestServer::start(vec![
            Reply::Respond {
                status: 429,
                body: json!({"code": 20429, "message": "Too Many Requests", "status": 429})
                    .to_string(),
                headers: vec![("Retry-After", "0".to_owned())],
            },
            reply(201, call_json("queued")),
        ])
        .await;
        server.client().create_call(&agent_call()).await.unwrap();
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].form(), requests[1].form());
        assert_eq!(requests[0].path(), requests[1].path());
    }

    #[tokio::test]
    async fn retry_after_is_honoured_but_capped_by_the_policy() {
        let server = TestServer::start(vec![
            Reply::Respond {
                status: 429,
                body: String::new(),
                headers: vec![("Retry-After", "3600".to_owned())],
            },
            reply(200, call_json("queued")),
        ])
        .await;
        let started = std::time::Instant::now();
        server.client().fetch_call(CALL_SID).await.unwrap();
        // Capped at max_delay (5 ms), not an hour.
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn gives_up_after_max_retries_with_unavailable() {
        let server = TestServer::start(vec![
            twilio_error(503, 20503, "Service Unavailable"),
            twilio_error(503, 20503, "Service Unavailable"),
            twilio_error(502, 20502, "Bad Gateway"),
            twilio_error(503, 20503, "Service Unavailable"),
            reply(200, call_json("queued")),
        ])
        .await;
        let error = server.client().fetch_call(CALL_SID).await.unwrap_err();
        match &error {
            TwilioError::Unavailable { attempts, last } => {
                assert_eq!(*attempts, 4);
                assert!(matches!(**last, TwilioError::Api { status: 503, .. }));
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert_eq!(error.http_status(), Some(503));
        assert_eq!(server.requests().len(), 4, "1 attempt + 3 retries");
    }

    #[tokio::test]
    async fn not_found_is_not_retried() {
        let server = TestServer::start(vec![
            twilio_error(404, 20404, "The requested resource was not found"),
            reply(200, participant_json()),
        ])
        .await;
        let error = server
            .client()
            .remove_participant(CONFERENCE_SID, CALL_SID)
            .await
            .unwrap_err();
        assert!(error.is_not_found());
        assert_eq!(error.twilio_code(), Some(20404));
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn bad_request_surfaces_twilios_error_body() {
        let server = TestServer::start(vec![
            twilio_error(400, 21205, "Url is not a valid URL: nope"),
            reply(201, call_json("queued")),
        ])
        .await;
        let error = server
            .client()
            .create_call(&agent_call())
            .await
            .unwrap_err();
        match &error {
            TwilioError::Api {
                status,
                code,
                message,
                more_info,
            } => {
                assert_eq!(*status, 400);
                assert_eq!(*code, Some(21205));
                assert_eq!(message, "Url is not a valid URL: nope");
                assert_eq!(
                    more_info.as_deref(),
                    Some("https://www.twilio.com/docs/errors/21205")
                );
            }
            other => panic!("expected Api, got {other:?}"),
        }
        let shown = error.to_string();
        assert!(shown.contains("400") && shown.contains("21205"), "{shown}");
        assert_eq!(server.requests().len(), 1, "4xx must not be retried");
    }

    #[tokio::test]
    async fn non_json_error_body_falls_back_to_the_status_reason() {
        let server = TestServer::start(vec![Reply::Respond {
            status: 403,
            body: "<html>Forbidden</html>".to_owned(),
            headers: vec![("Content-Type", "text/html".to_owned())],
        }])
        .await;
        let error = server.client().fetch_call(CALL_SID).await.unwrap_err();
        assert!(matches!(
            error,
            TwilioError::Api { status: 403, code: None, ref message, .. } if message == "Forbidden"
        ));
    }

    #[tokio::test]
    async fn timeouts_are_retried() {
        let server = TestServer::start(vec![Reply::Stall, reply(200, call_json("ringing"))]).await;
        let client = client_for(server.base_url.clone(), Duration::from_millis(200));
        let call = client.fetch_call(CALL_SID).await.unwrap();
        assert_eq!(call.status, Some(CallStatus::Ringing));
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn persistent_timeouts_end_as_unavailable() {
        let server = TestServer::start(vec![Reply::Stall; 4]).await;
        let client = client_for(server.base_url.clone(), Duration::from_millis(100));
        let error = client.fetch_call(CALL_SID).await.unwrap_err();
        match error {
            TwilioError::Unavailable { attempts, last } => {
                assert_eq!(attempts, 4);
                assert!(matches!(*last, TwilioError::Transport(ref e) if e.is_timeout()));
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn connection_refused_is_retried_then_unavailable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let client = client_for(
            Url::parse(&format!("http://{address}")).unwrap(),
            Duration::from_secs(1),
        );
        match client.fetch_call(CALL_SID).await.unwrap_err() {
            TwilioError::Unavailable { attempts, last } => {
                assert_eq!(attempts, 4);
                assert!(matches!(*last, TwilioError::Transport(ref e) if e.is_connect()));
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn malformed_success_body_is_a_decode_error_without_retry() {
        let server = TestServer::start(vec![
            reply(200, json!({"not": "a call"})),
            reply(200, call_json("queued")),
        ])
        .await;
        assert!(matches!(
            server.client().fetch_call(CALL_SID).await,
            Err(TwilioError::Decode(_))
        ));
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn retries_can_be_disabled() {
        let server = TestServer::start(vec![
            twilio_error(500, 20500, "Internal Server Error"),
            reply(200, call_json("queued")),
        ])
        .await;
        let client = server.client().with_retry_policy(RetryPolicy {
            max_retries: 0,
            ..fast_retries()
        });
        assert!(matches!(
            client.fetch_call(CALL_SID).await,
            Err(TwilioError::Unavailable { attempts: 1, .. })
        ));
        assert_eq!(server.requests().len(), 1);
    }

    // ---- contract with the official OpenAPI description ----

    const SPEC_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/twilio/twilio_api_v2010.yaml"
    );

    /// Finds the spec's operation for a recorded request by matching the path template.
    fn spec_operation<'a>(
        spec: &'a serde_yaml::Value,
        request: &Recorded,
    ) -> (&'a str, &'a serde_yaml::Value) {
        let paths = spec["paths"].as_mapping().expect("spec has paths");
        let actual: Vec<&str> = request.path().split('/').collect();
        for (template, item) in paths {
            let template = template.as_str().expect("path keys are strings");
            let pattern: Vec<&str> = template.split('/').collect();
            let matches = pattern.len() == actual.len()
                && pattern.iter().zip(&actual).all(|(expected, got)| {
                    if expected.starts_with('{') {
                        let suffix = expected.rsplit_once('}').map_or("", |(_, s)| s);
                        got.len() > suffix.len() && got.ends_with(suffix)
                    } else {
                        expected == got
                    }
                });
            if matches {
                let operation = &item[request.method.to_ascii_lowercase().as_str()];
                assert!(
                    !operation.is_null(),
                    "{} {} is not an operation of {template}",
                    request.method,
                    request.path()
                );
                return (template, operation);
            }
        }
        panic!("{} is not a path of the spec", request.path());
    }

    fn resolve<'a>(
        spec: &'a serde_yaml::Value,
        schema: &'a serde_yaml::Value,
    ) -> &'a serde_yaml::Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference
                    .strip_prefix("#/components/schemas/")
                    .expect("local schema reference");
                &spec["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    fn check_value(
        spec: &serde_yaml::Value,
        context: &str,
        schema: &serde_yaml::Value,
        value: &str,
    ) {
        let schema = resolve(spec, schema);
        let schema = if schema["type"].as_str() == Some("array") {
            resolve(spec, &schema["items"])
        } else {
            schema
        };
        if let Some(allowed) = schema["enum"].as_sequence() {
            assert!(
                allowed.iter().any(|item| item.as_str() == Some(value)),
                "{context}: {value:?} is not one of {allowed:?}"
            );
        }
        match schema["type"].as_str() {
            Some("boolean") => assert!(
                value == "true" || value == "false",
                "{context}: {value:?} is not a boolean"
            ),
            Some("integer") => assert!(
                value.parse::<i64>().is_ok(),
                "{context}: {value:?} is not an integer"
            ),
            _ => {}
        }
    }

    fn check_against_spec(spec: &serde_yaml::Value, request: &Recorded) {
        let (template, operation) = spec_operation(spec, request);
        let context = format!("{} {template}", request.method);

        let query_parameters: Vec<&serde_yaml::Value> = operation["parameters"]
            .as_sequence()
            .map(|parameters| {
                parameters
                    .iter()
                    .filter(|parameter| parameter["in"].as_str() == Some("query"))
                    .collect()
            })
            .unwrap_or_default();
        for (name, value) in request.query() {
            let parameter = query_parameters
                .iter()
                .find(|parameter| parameter["name"].as_str() == Some(name.as_str()))
                .unwrap_or_else(|| panic!("{context}: unknown query parameter {name}"));
            check_value(
                spec,
                &format!("{context} ?{name}"),
                &parameter["schema"],
                &value,
            );
        }

        let form = request.form();
        let body_schema =
            &operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        if body_schema.is_null() {
            assert!(
                form.is_empty(),
                "{context}: sends a body the spec does not take"
            );
            return;
        }
        let properties = &body_schema["properties"];
        for (name, value) in &form {
            let property = &properties[name.as_str()];
            assert!(
                !property.is_null(),
                "{context}: unknown form parameter {name}"
            );
            check_value(spec, &format!("{context} {name}"), property, value);
        }
        for required in body_schema["required"].as_sequence().into_iter().flatten() {
            let required = required.as_str().expect("required names are strings");
            assert!(
                form.iter().any(|(name, _)| name == required),
                "{context}: missing required {required}"
            );
        }
    }

    #[tokio::test]
    async fn every_request_matches_the_official_spec() {
        let spec_text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|error| panic!("cannot read {SPEC_PATH}: {error}"));
        let spec: serde_yaml::Value = serde_yaml::from_str(&spec_text).expect("spec is YAML");

        let server = TestServer::start(vec![
            reply(201, call_json("queued")),
            reply(201, call_json("queued")),
            reply(200, call_json("in-progress")),
            reply(200, call_json("canceled")),
            reply(200, call_json("completed")),
            reply(200, call_json("completed")),
            reply(200, conference_json("in-progress")),
            reply(200, json!({"conferences": []})),
            reply(200, conference_json("completed")),
            reply(200, participant_json()),
            reply(200, participant_json()),
            reply(200, participant_json()),
            no_content(),
        ])
        .await;
        let client = server.client();
        let everything = CreateCall {
            fallback_url: Some("https://app.test/twilio/fallback".to_owned()),
            time_limit_secs: Some(14_400),
            ..agent_call()
        };
        client.create_call(&everything).await.unwrap();
        let inline = CreateCall {
            url: None,
            twiml: Some("<Response/>".to_owned()),
            ..agent_call()
        };
        client.create_call(&inline).await.unwrap();
        for update in [
            UpdateCall {
                url: Some("https://app.test/twilio/wait".to_owned()),
                ..UpdateCall::default()
            },
            UpdateCall {
                status: Some(CallUpdateStatus::Canceled),
                ..UpdateCall::default()
            },
            UpdateCall {
                status: Some(CallUpdateStatus::Completed),
                twiml: Some("<Response/>".to_owned()),
                url: None,
            },
        ] {
            client.update_call(CALL_SID, &update).await.unwrap();
        }
        client.fetch_call(CALL_SID).await.unwrap();
        client.fetch_conference(CONFERENCE_SID).await.unwrap();
        client
            .list_conferences_by_name("call-42", Some(ConferenceStatus::InProgress))
            .await
            .unwrap();
        client.end_conference(CONFERENCE_SID).await.unwrap();
        client
            .update_participant(
                CONFERENCE_SID,
                CALL_SID,
                &UpdateParticipant {
                    hold: Some(true),
                    hold_url: Some("https://app.test/twilio/hold".to_owned()),
                    muted: Some(true),
                    end_conference_on_exit: Some(false),
                    announce_url: Some("https://app.test/twilio/announce".to_owned()),
                    beep_on_exit: Some(true),
                    ..UpdateParticipant::default()
                },
            )
            .await
            .unwrap();
        client
            .update_participant(
                CONFERENCE_SID,
                CALL_SID,
                &UpdateParticipant {
                    end_conference_on_exit: Some(true),
                    ..UpdateParticipant::default()
                },
            )
            .await
            .unwrap();
        client
            .fetch_participant(CONFERENCE_SID, CALL_SID)
            .await
            .unwrap();
        client
            .remove_participant(CONFERENCE_SID, CALL_SID)
            .await
            .unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 13);
        for request in &requests {
            check_against_spec(&spec, request);
        }
    }

    #[test]
    fn call_progress_events_are_the_specs_call_events() {
        let spec_text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|error| panic!("cannot read {SPEC_PATH}: {error}"));
        let spec: serde_yaml::Value = serde_yaml::from_str(&spec_text).expect("spec is YAML");
        let allowed: Vec<&str> = spec["components"]["schemas"]["call_enum_event"]["enum"]
            .as_sequence()
            .expect("call_enum_event enum")
            .iter()
            .filter_map(|item| item.as_str())
            .collect();
        let ours: Vec<&str> = CallProgressEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(ours, allowed);
    }

    #[test]
    fn statuses_decode_from_twilio_spellings() {
        let decode =
            |text: &str| serde_json::from_str::<CallStatus>(&format!("\"{text}\"")).unwrap();
        assert_eq!(decode("in-progress"), CallStatus::InProgress);
        assert_eq!(decode("no-answer"), CallStatus::NoAnswer);
        assert_eq!(decode("canceled"), CallStatus::Canceled);
        assert_eq!(decode("initiated"), CallStatus::Initiated);
        assert_eq!(decode("brand-new"), CallStatus::Unknown);
        assert!(!CallStatus::Ringing.is_final());
        let participant: ParticipantStatus = serde_json::from_str("\"complete\"").unwrap();
        assert_eq!(participant, ParticipantStatus::Complete);
    }
}
