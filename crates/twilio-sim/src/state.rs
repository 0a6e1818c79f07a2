//! The simulator's model of one Twilio account: calls, conferences, participants, and the rules
//! Twilio applies to them.
//!
//! Everything here is synchronous and runs under the simulator's one lock, so every rule can be
//! unit-tested without HTTP or timers. A change never performs I/O itself: it pushes [`Effect`]s
//! (callbacks to deliver, TwiML programs to run, hold music to fetch) that the engine carries out
//! after the lock is released. That split is also what makes callbacks asynchronous to the REST
//! request that caused them, as they are at Twilio.
//!
//! Twilio behaviour modelled here, with the documentation it comes from:
//! - `<Conference>` (TwiML docs): a conference starts when at least two participants are in it
//!   and one has `startConferenceOnEnter=true`; it ends when a participant with
//!   `endConferenceOnExit=true` leaves or the last participant leaves; the **first** participant
//!   sets `statusCallback` and `statusCallbackEvent`, later ones are ignored; callbacks carry
//!   `ConferenceSid, FriendlyName, AccountSid, SequenceNumber, Timestamp, StatusCallbackEvent` and,
//!   for participant events, `CallSid, Muted, Hold, Coaching, EndConferenceOnExit,
//!   StartConferenceOnEnter`; `participant-leave` adds `ReasonParticipantLeft` and
//!   `ParticipantCallStatus`; `conference-end` adds `ReasonConferenceEnded`, `Reason`,
//!   `CallSidEndingConference`. `modify` fires when `BeepOnExit`, `EndConferenceOnExit`,
//!   `Coaching` or `WaitUrl` change.
//! - Call progress callbacks (`<Number>`/Calls docs): events `initiated ringing answered
//!   completed` (only `completed` when none are named), each with the voice request parameters
//!   plus `CallbackSource=call-progress-events`, `SequenceNumber` (from 0), `Timestamp`
//!   (RFC 2822) and, on `completed`, `CallDuration`; `answered` carries `CallStatus=in-progress`.
//! - The trap from DESIGN.md: changing `EndConferenceOnExit` on a participant that is on hold is
//!   ignored without an error.
//! - Who hears whom (Participant resource docs, `coaching` / `call_sid_to_coach`): "the
//!   participant being coached is the only participant who can hear the participant who is
//!   coaching"; `Coaching` defaults to false unless `CallSidToCoach` is given. A muted participant
//!   is heard by nobody; a held one hears hold music and is heard by nobody; before the
//!   conference starts everyone hears the wait music. See [`ConferenceSnapshot::hears`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use super::rest::RestRecord;
use super::webhooks::WebhookRecord;

/// The only REST API version Twilio's voice webhooks report.
pub const API_VERSION: &str = "2010-04-01";

/// Twilio's default conference wait music ("default classical playlist", `<Conference>` docs).
pub const DEFAULT_WAIT_MUSIC: &str = "https://s3.amazonaws.com/com.twilio.sounds.music/index.xml";

/// What a caller hears when Twilio cannot get usable TwiML from the URL or its fallback.
pub const APPLICATION_ERROR_MESSAGE: &str =
    "We are sorry, an application error has occurred. Goodbye.";

/// Form parameters in order; names may repeat.
pub type Params = Vec<(String, String)>;

/// A new random SID: two-letter prefix and 32 lowercase hex digits, as Twilio's.
pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}

/// True when `value` is `prefix` followed by exactly 32 hex digits (the spec's SID patterns).
pub fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|byte| byte.is_ascii_hexdigit())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    /// Twilio accepts the method names in any case.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_uppercase().as_str() {
            "GET" => Some(Self::Get),
            "POST" => Some(Self::Post),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// A URL Twilio requests and the method it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    pub url: Url,
    pub method: HttpMethod,
}

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
}

impl CallStatus {
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
        }
    }

    /// The spelling the Call resource uses: its `status` enum (`call_enum_status`) has no
    /// `initiated`, which only appears in callbacks, so an initiated call reads as `queued`.
    pub fn resource_str(self) -> &'static str {
        match self {
            Self::Initiated => "queued",
            other => other.as_str(),
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }

    /// Not yet answered and not over: the states `Status=canceled` applies to.
    pub fn is_unanswered(self) -> bool {
        matches!(self, Self::Queued | Self::Initiated | Self::Ringing)
    }

    /// The SIP response code Twilio reports on the `completed` callback.
    fn sip_response_code(self) -> &'static str {
        match self {
            Self::Busy => "486",
            Self::NoAnswer | Self::Canceled => "487",
            Self::Failed => "500",
            _ => "200",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Inbound,
    OutboundApi,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::OutboundApi => "outbound-api",
        }
    }
}

/// Call progress events a `StatusCallback` subscribes to (`call_enum_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallEvent {
    Initiated,
    Ringing,
    Answered,
    Completed,
}

impl CallEvent {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "initiated" => Some(Self::Initiated),
            "ringing" => Some(Self::Ringing),
            "answered" => Some(Self::Answered),
            "completed" => Some(Self::Completed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::Answered => "answered",
            Self::Completed => "completed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConferenceStatus {
    Init,
    InProgress,
    Completed,
}

impl ConferenceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Init => "init",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
        }
    }
}

/// Where something a caller heard came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeardSource {
    /// The call's own TwiML (voice URL, `Url`, `Twiml`, redirects).
    Call,
    /// The conference `waitUrl` while waiting for the conference to start.
    WaitUrl,
    /// The participant `HoldUrl` while on hold.
    HoldUrl,
    /// A participant or conference `AnnounceUrl`.
    Announcement,
    /// Twilio itself (default music, the application-error message).
    Twilio,
}

/// One thing a caller heard, in order. Tests assert on these ("the caller heard hold music").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Heard {
    Say {
        source: HeardSource,
        text: String,
    },
    Play {
        source: HeardSource,
        url: String,
    },
    Pause {
        source: HeardSource,
        seconds: u32,
    },
    /// A TwiML document was fetched on this caller's behalf.
    Fetched {
        source: HeardSource,
        url: String,
    },
    FetchFailed {
        source: HeardSource,
        url: String,
        error: String,
    },
    /// Nothing plays (e.g. `waitUrl=""`).
    Silence {
        source: HeardSource,
    },
    /// A verb the simulator does not act on, or one not allowed in this context.
    Skipped {
        source: HeardSource,
        verb: String,
    },
}

/// What an answered call executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// Inbound calls: the number's voice URL (with its fallback).
    VoiceUrl,
    Url(HttpTarget),
    Twiml(String),
}

/// How a dialed destination behaves when the simulator rings it (the demo and tests play the
/// far end). `Ring` waits for [`crate::Simulator::accept`] / `reject` / timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "behaviour", rename_all = "snake_case")]
pub enum Endpoint {
    Ring,
    /// Picks up `after_ms` (real milliseconds) after it starts ringing, unless the call's ring
    /// timeout (scaled by the time scale) runs out first: then `no-answer`.
    Answer {
        after_ms: u64,
    },
    Busy,
    Fail,
    NoAnswer,
}

#[derive(Debug, Clone)]
pub struct CallRecord {
    pub sid: String,
    pub from: String,
    pub to: String,
    pub direction: Direction,
    pub status: CallStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When dialing started (outbound) or the call arrived (inbound): the resource's start_time.
    pub started_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub program: Program,
    pub fallback: Option<HttpTarget>,
    pub status_callback: Option<HttpTarget>,
    pub status_events: Vec<CallEvent>,
    /// Ring timeout in seconds (Twilio default 60, max 600).
    pub timeout_secs: u32,
    pub callback_seq: u32,
    /// The conference this call is in right now.
    pub conference: Option<String>,
    /// Bumped whenever the running TwiML program must stop (redirect, hang-up).
    pub generation: u64,
    pub heard: Vec<Heard>,
    pub ended_by: Option<String>,
    /// The caller hangs up once the TwiML has been fetched, before it runs (a test sets this
    /// through [`crate::Simulator::dial_in_and_hang_up_before_twiml`]).
    pub hangs_up_before_twiml: bool,
}

/// A REST-created outbound call.
#[derive(Debug, Clone)]
pub struct OutboundSpec {
    pub to: String,
    pub from: String,
    pub program: Program,
    pub fallback: Option<HttpTarget>,
    pub status_callback: Option<HttpTarget>,
    pub status_events: Vec<CallEvent>,
    pub timeout_secs: u32,
}

/// What a participant hears before the conference starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitSetting {
    Default,
    Silent,
    Target(HttpTarget),
}

#[derive(Debug, Clone)]
pub struct ParticipantRecord {
    pub call_sid: String,
    pub label: Option<String>,
    pub muted: bool,
    pub hold: bool,
    pub end_conference_on_exit: bool,
    pub start_conference_on_enter: bool,
    pub beep_on_exit: bool,
    pub coaching: bool,
    pub call_sid_to_coach: Option<String>,
    pub joined_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub hold_target: Option<HttpTarget>,
    pub wait: WaitSetting,
    /// Whether the call has TwiML left after its `<Dial>` (or a Dial `action`): decides the
    /// `ParticipantCallStatus` reported when the conference drops it.
    pub continues_after: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Departure {
    pub call_sid: String,
    pub reason: String,
    pub call_status: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ConferenceRecord {
    pub sid: String,
    pub friendly_name: String,
    pub status: ConferenceStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status_callback: Option<HttpTarget>,
    pub events: Vec<String>,
    pub seq: u32,
    pub participants: Vec<ParticipantRecord>,
    pub departed: Vec<Departure>,
    pub reason_ended: Option<&'static str>,
    pub reason_text: Option<String>,
    pub call_sid_ending: Option<String>,
}

/// A `<Conference>` join, with URLs already resolved.
#[derive(Debug, Clone)]
pub struct JoinSpec {
    pub name: String,
    pub start_conference_on_enter: bool,
    pub end_conference_on_exit: bool,
    pub muted: bool,
    pub beep_on_exit: bool,
    pub wait: WaitSetting,
    pub status_callback: Option<HttpTarget>,
    pub events: Vec<String>,
    pub label: Option<String>,
    pub continues_after: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOutcome {
    pub conference_sid: String,
    /// The conference has not started: the participant hears the wait URL.
    pub waiting: bool,
}

/// A Participants API update (`UpdateParticipant`); `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ParticipantChanges {
    pub muted: Option<bool>,
    pub hold: Option<bool>,
    pub hold_target: Option<HttpTarget>,
    pub end_conference_on_exit: Option<bool>,
    pub beep_on_exit: Option<bool>,
    pub coaching: Option<bool>,
    pub call_sid_to_coach: Option<String>,
    pub wait: Option<WaitSetting>,
    pub announce: Option<HttpTarget>,
}

/// Why a participant left; decides `ReasonParticipantLeft` (values from the `<Conference>`
/// docs: `conference_ended_via_api`, `moderator_ended_conference`, `participant_updated_via_api`,
/// `participant_hung_up`, `participant_add_failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveCause {
    /// The participant's call ended (either party hung up, or `Status=completed` via REST).
    HungUp,
    /// The call was given new TwiML through the Calls API.
    Redirected,
    /// Removed through the Participants API (DELETE).
    Kicked,
    /// The conference ended around it: by an `endConferenceOnExit` participant or via the API.
    ConferenceEnded { via_api: bool },
    /// The `waitUrl` could not be fetched, so the participant never fully joined.
    AddFailed,
}

impl LeaveCause {
    fn reason(self) -> &'static str {
        match self {
            Self::HungUp => "participant_hung_up",
            Self::Redirected | Self::Kicked => "participant_updated_via_api",
            Self::ConferenceEnded { via_api: true } => "conference_ended_via_api",
            Self::ConferenceEnded { via_api: false } => "moderator_ended_conference",
            Self::AddFailed => "participant_add_failed",
        }
    }
}

/// Why a conference ended (`conference_enum_reason_conference_ended`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndCause {
    ViaApi,
    EndOnExitLeft(String),
    EndOnExitKicked(String),
    LastLeft(String),
    LastKicked(String),
}

impl EndCause {
    fn reason(&self) -> &'static str {
        match self {
            Self::ViaApi => "conference-ended-via-api",
            Self::EndOnExitLeft(_) => "participant-with-end-conference-on-exit-left",
            Self::EndOnExitKicked(_) => "participant-with-end-conference-on-exit-kicked",
            Self::LastLeft(_) => "last-participant-left",
            Self::LastKicked(_) => "last-participant-kicked",
        }
    }

    fn text(&self) -> String {
        match self {
            Self::ViaApi => "Conference ended via API".to_owned(),
            Self::EndOnExitLeft(sid) => {
                format!("Participant {sid} with endConferenceOnExit left the conference")
            }
            Self::EndOnExitKicked(sid) => {
                format!("Participant {sid} with endConferenceOnExit was removed via API")
            }
            Self::LastLeft(sid) => format!("Last participant {sid} left the conference"),
            Self::LastKicked(sid) => format!("Last participant {sid} was removed via API"),
        }
    }

    fn call_sid(&self) -> Option<&str> {
        match self {
            Self::ViaApi => None,
            Self::EndOnExitLeft(sid)
            | Self::EndOnExitKicked(sid)
            | Self::LastLeft(sid)
            | Self::LastKicked(sid) => Some(sid),
        }
    }
}

/// Work for the engine once the lock is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A call progress callback; callbacks of one call are delivered in order.
    CallCallback {
        call_sid: String,
        target: HttpTarget,
        params: Params,
        event: String,
    },
    /// A conference status callback; callbacks of one conference are delivered in order.
    ConferenceCallback {
        conference_sid: String,
        target: HttpTarget,
        params: Params,
        event: String,
    },
    /// Run the call's TwiML program (after answer or a REST redirect).
    RunProgram { call_sid: String, generation: u64 },
    /// Play hold music to a participant that was just put on hold.
    HoldMusic {
        call_sid: String,
        conference_sid: String,
        target: Option<HttpTarget>,
    },
    /// Play an announcement to one participant, or to the whole conference.
    Announce {
        conference_sid: String,
        call_sid: Option<String>,
        target: HttpTarget,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("no call {0}")]
    CallNotFound(String),
    #[error("no conference {0}")]
    ConferenceNotFound(String),
    #[error("no participant {call} in conference {conference}")]
    ParticipantNotFound { conference: String, call: String },
    #[error("call {sid} is {status}, which does not allow {action}")]
    InvalidState {
        sid: String,
        status: &'static str,
        action: &'static str,
    },
    #[error("participant label {0:?} is already in use in this conference")]
    LabelInUse(String),
}

/// Something the simulator did that Twilio does silently; kept so tests and the demo can see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimNote {
    pub at: DateTime<Utc>,
    pub message: String,
}

#[derive(Debug)]
pub struct State {
    pub account_sid: String,
    pub calls: HashMap<String, CallRecord>,
    pub call_order: Vec<String>,
    pub conferences: HashMap<String, ConferenceRecord>,
    pub conference_order: Vec<String>,
    pub endpoints: HashMap<String, Endpoint>,
    pub rest_log: Vec<RestRecord>,
    pub webhook_log: Vec<WebhookRecord>,
    pub notes: Vec<SimNote>,
}

fn bool_str(value: bool) -> String {
    if value { "true" } else { "false" }.to_owned()
}

fn pair(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

/// The parameters of every voice request (TwiML fetches and call callbacks).
fn voice_params(account_sid: &str, call: &CallRecord, call_status: &str) -> Params {
    vec![
        pair("AccountSid", account_sid),
        pair("ApiVersion", API_VERSION),
        pair("CallSid", &call.sid),
        pair("CallStatus", call_status),
        pair("Called", &call.to),
        pair("Caller", &call.from),
        pair("Direction", call.direction.as_str()),
        pair("From", &call.from),
        pair("To", &call.to),
    ]
}

/// Short subscription name for a delivered conference event.
fn subscription_name(event: &str) -> &str {
    match event {
        "conference-start" => "start",
        "conference-end" => "end",
        "participant-join" => "join",
        "participant-leave" => "leave",
        "participant-mute" | "participant-unmute" => "mute",
        "participant-hold" | "participant-unhold" => "hold",
        "participant-modify" => "modify",
        "participant-speech-start" | "participant-speech-stop" => "speaker",
        "announcement-end" | "announcement-fail" => "announcement",
        other => other,
    }
}

/// Queues a conference callback if the conference's first participant subscribed to it.
fn conference_event(
    account_sid: &str,
    conference: &mut ConferenceRecord,
    event: &str,
    participant: Option<&ParticipantRecord>,
    extra: Params,
    now: DateTime<Utc>,
    fx: &mut Vec<Effect>,
) {
    let Some(target) = conference.status_callback.clone() else {
        return;
    };
    let wanted = subscription_name(event);
    if !conference.events.iter().any(|name| name == wanted) {
        return;
    }
    conference.seq += 1;
    let mut params = vec![
        pair("AccountSid", account_sid),
        pair("ConferenceSid", &conference.sid),
        pair("FriendlyName", &conference.friendly_name),
        pair("SequenceNumber", conference.seq.to_string()),
        pair("StatusCallbackEvent", event),
        pair("Timestamp", now.to_rfc2822()),
    ];
    if let Some(participant) = participant {
        params.extend([
            pair("CallSid", &participant.call_sid),
            pair("Coaching", bool_str(participant.coaching)),
            pair(
                "EndConferenceOnExit",
                bool_str(participant.end_conference_on_exit),
            ),
            pair("Hold", bool_str(participant.hold)),
            pair("Muted", bool_str(participant.muted)),
            pair(
                "StartConferenceOnEnter",
                bool_str(participant.start_conference_on_enter),
            ),
        ]);
        if let Some(label) = &participant.label {
            params.push(pair("ParticipantLabel", label));
        }
    }
    params.extend(extra);
    fx.push(Effect::ConferenceCallback {
        conference_sid: conference.sid.clone(),
        target,
        params,
        event: event.to_owned(),
    });
}

impl State {
    pub fn new(account_sid: impl Into<String>) -> Self {
        Self {
            account_sid: account_sid.into(),
            calls: HashMap::new(),
            call_order: Vec::new(),
            conferences: HashMap::new(),
            conference_order: Vec::new(),
            endpoints: HashMap::new(),
            rest_log: Vec::new(),
            webhook_log: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn note(&mut self, now: DateTime<Utc>, message: String) {
        tracing::debug!(target: "twilio_sim", "{message}");
        self.notes.push(SimNote { at: now, message });
    }

    // ---------------------------------------------------------------- calls

    /// A customer calls our number: Twilio requests the voice URL with `CallStatus=ringing`.
    pub fn create_inbound(
        &mut self,
        from: &str,
        to: &str,
        number_status_callback: Option<HttpTarget>,
        now: DateTime<Utc>,
    ) -> String {
        let sid = new_sid("CA");
        self.insert_call(CallRecord {
            sid: sid.clone(),
            from: from.to_owned(),
            to: to.to_owned(),
            direction: Direction::Inbound,
            status: CallStatus::Ringing,
            created_at: now,
            updated_at: now,
            started_at: Some(now),
            answered_at: None,
            ended_at: None,
            program: Program::VoiceUrl,
            fallback: None,
            status_callback: number_status_callback,
            // A number's status callback only ever receives `completed`.
            status_events: vec![CallEvent::Completed],
            timeout_secs: 0,
            callback_seq: 0,
            conference: None,
            generation: 0,
            heard: Vec::new(),
            ended_by: None,
            hangs_up_before_twiml: false,
        });
        sid
    }

    /// `POST /Calls.json`: the call starts `queued`.
    pub fn create_outbound(&mut self, spec: OutboundSpec, now: DateTime<Utc>) -> String {
        let sid = new_sid("CA");
        let status_events = if spec.status_events.is_empty() {
            vec![CallEvent::Completed]
        } else {
            spec.status_events
        };
        self.insert_call(CallRecord {
            sid: sid.clone(),
            from: spec.from,
            to: spec.to,
            direction: Direction::OutboundApi,
            status: CallStatus::Queued,
            created_at: now,
            updated_at: now,
            started_at: None,
            answered_at: None,
            ended_at: None,
            program: spec.program,
            fallback: spec.fallback,
            status_callback: spec.status_callback,
            status_events,
            timeout_secs: spec.timeout_secs,
            callback_seq: 0,
            conference: None,
            generation: 0,
            heard: Vec::new(),
            ended_by: None,
            hangs_up_before_twiml: false,
        });
        sid
    }

    fn insert_call(&mut self, call: CallRecord) {
        self.call_order.push(call.sid.clone());
        self.calls.insert(call.sid.clone(), call);
    }

    pub fn call(&self, sid: &str) -> Option<&CallRecord> {
        self.calls.get(sid)
    }

    /// True while the call exists, is not over and still runs program `generation`.
    pub fn program_alive(&self, sid: &str, generation: u64) -> bool {
        self.calls
            .get(sid)
            .is_some_and(|call| !call.status.is_final() && call.generation == generation)
    }

    pub fn heard(&mut self, sid: &str, heard: Heard) {
        if let Some(call) = self.calls.get_mut(sid) {
            call.heard.push(heard);
        }
    }

    /// The voice request parameters for a TwiML fetch made on behalf of `sid`.
    pub fn request_params(&self, sid: &str) -> Option<Params> {
        let call = self.calls.get(sid)?;
        Some(voice_params(&self.account_sid, call, call.status.as_str()))
    }

    fn call_callback(
        &mut self,
        sid: &str,
        event: CallEvent,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let account_sid = self.account_sid.clone();
        let Some(call) = self.calls.get_mut(sid) else {
            return;
        };
        let Some(target) = call.status_callback.clone() else {
            return;
        };
        if !call.status_events.contains(&event) {
            return;
        }
        let status = match event {
            CallEvent::Answered => CallStatus::InProgress.as_str(),
            _ => call.status.as_str(),
        };
        let mut params = voice_params(&account_sid, call, status);
        params.extend([
            pair("CallbackSource", "call-progress-events"),
            pair("SequenceNumber", call.callback_seq.to_string()),
            pair("Timestamp", now.to_rfc2822()),
        ]);
        call.callback_seq += 1;
        if event == CallEvent::Completed {
            let seconds = call_duration_secs(call);
            params.extend([
                pair("CallDuration", seconds.to_string()),
                // `Duration` is in whole minutes, rounded up.
                pair("Duration", seconds.div_ceil(60).to_string()),
                pair("SipResponseCode", call.status.sip_response_code()),
            ]);
        }
        fx.push(Effect::CallCallback {
            call_sid: sid.to_owned(),
            target,
            params,
            event: event.as_str().to_owned(),
        });
    }

    fn set_status(&mut self, sid: &str, status: CallStatus, now: DateTime<Utc>) {
        if let Some(call) = self.calls.get_mut(sid) {
            call.status = status;
            call.updated_at = now;
        }
    }

    /// `queued` → `initiated`. False when the call was canceled meanwhile.
    pub fn begin_dialing(&mut self, sid: &str, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> bool {
        if self.calls.get(sid).map(|call| call.status) != Some(CallStatus::Queued) {
            return false;
        }
        self.set_status(sid, CallStatus::Initiated, now);
        if let Some(call) = self.calls.get_mut(sid) {
            call.started_at = Some(now);
        }
        self.call_callback(sid, CallEvent::Initiated, now, fx);
        true
    }

    /// `initiated` → `ringing`. False when the call ended meanwhile.
    pub fn start_ringing(&mut self, sid: &str, now: DateTime<Utc>, fx: &mut Vec<Effect>) -> bool {
        if self.calls.get(sid).map(|call| call.status) != Some(CallStatus::Initiated) {
            return false;
        }
        self.set_status(sid, CallStatus::Ringing, now);
        self.call_callback(sid, CallEvent::Ringing, now, fx);
        true
    }

    /// The far end of a ringing outbound call answers: `answered` callback, then the call's
    /// TwiML is fetched with `CallStatus=in-progress`.
    pub fn answer(
        &mut self,
        sid: &str,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> Result<(), SimError> {
        let call = self
            .calls
            .get_mut(sid)
            .ok_or_else(|| SimError::CallNotFound(sid.to_owned()))?;
        if call.direction != Direction::OutboundApi || call.status != CallStatus::Ringing {
            return Err(SimError::InvalidState {
                sid: sid.to_owned(),
                status: call.status.as_str(),
                action: "answering",
            });
        }
        call.status = CallStatus::InProgress;
        call.answered_at = Some(now);
        call.updated_at = now;
        call.generation += 1;
        let generation = call.generation;
        self.call_callback(sid, CallEvent::Answered, now, fx);
        fx.push(Effect::RunProgram {
            call_sid: sid.to_owned(),
            generation,
        });
        Ok(())
    }

    /// An inbound call is answered by the first TwiML verb that is not `<Reject>`.
    pub fn answer_inbound(&mut self, sid: &str, now: DateTime<Utc>) {
        if let Some(call) = self.calls.get_mut(sid) {
            if call.direction == Direction::Inbound && call.status == CallStatus::Ringing {
                call.status = CallStatus::InProgress;
                call.answered_at = Some(now);
                call.updated_at = now;
            }
        }
    }

    /// Ends a call with a final status, taking it out of its conference first. Returns false if
    /// it was already over (every hang-up path is idempotent).
    pub fn end_call(
        &mut self,
        sid: &str,
        status: CallStatus,
        ended_by: &str,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> bool {
        let conference = {
            let Some(call) = self.calls.get_mut(sid) else {
                return false;
            };
            if call.status.is_final() {
                return false;
            }
            call.status = status;
            call.ended_at = Some(now);
            call.updated_at = now;
            call.generation += 1;
            call.ended_by = Some(ended_by.to_owned());
            call.conference.clone()
        };
        if let Some(conference_sid) = conference {
            self.remove_participant(&conference_sid, sid, LeaveCause::HungUp, now, fx);
        }
        self.call_callback(sid, CallEvent::Completed, now, fx);
        true
    }

    /// A REST update with `Url`/`Twiml`: a live call leaves its conference and runs the new
    /// TwiML; an unanswered call will run it when answered.
    pub fn redirect(
        &mut self,
        sid: &str,
        program: Program,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> Result<(), SimError> {
        let (status, conference) = {
            let call = self
                .calls
                .get_mut(sid)
                .ok_or_else(|| SimError::CallNotFound(sid.to_owned()))?;
            if call.status.is_final() {
                return Err(SimError::InvalidState {
                    sid: sid.to_owned(),
                    status: call.status.as_str(),
                    action: "redirecting",
                });
            }
            call.program = program;
            call.updated_at = now;
            (call.status, call.conference.clone())
        };
        if status != CallStatus::InProgress {
            return Ok(());
        }
        if let Some(conference_sid) = conference {
            self.remove_participant(&conference_sid, sid, LeaveCause::Redirected, now, fx);
        }
        if let Some(call) = self.calls.get_mut(sid) {
            if !call.status.is_final() {
                call.generation += 1;
                fx.push(Effect::RunProgram {
                    call_sid: sid.to_owned(),
                    generation: call.generation,
                });
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- conferences

    fn active_conference_named(&self, name: &str) -> Option<String> {
        self.conference_order
            .iter()
            .rev()
            .filter_map(|sid| self.conferences.get(sid))
            .find(|conference| {
                conference.friendly_name == name && conference.status != ConferenceStatus::Completed
            })
            .map(|conference| conference.sid.clone())
    }

    /// `<Dial><Conference>`: creates the conference on first join (taking this participant's
    /// status callback and events), adds the participant, and starts the conference once two
    /// participants are in and one has `startConferenceOnEnter`.
    pub fn join_conference(
        &mut self,
        call_sid: &str,
        spec: JoinSpec,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> Result<JoinOutcome, SimError> {
        match self.calls.get(call_sid) {
            Some(call) if !call.status.is_final() => {}
            Some(call) => {
                return Err(SimError::InvalidState {
                    sid: call_sid.to_owned(),
                    status: call.status.as_str(),
                    action: "joining a conference",
                })
            }
            None => return Err(SimError::CallNotFound(call_sid.to_owned())),
        }
        let conference_sid = match self.active_conference_named(&spec.name) {
            Some(sid) => sid,
            None => {
                let sid = new_sid("CF");
                self.conference_order.push(sid.clone());
                self.conferences.insert(
                    sid.clone(),
                    ConferenceRecord {
                        sid: sid.clone(),
                        friendly_name: spec.name.clone(),
                        status: ConferenceStatus::Init,
                        created_at: now,
                        updated_at: now,
                        status_callback: spec.status_callback.clone(),
                        events: spec.events.clone(),
                        seq: 0,
                        participants: Vec::new(),
                        departed: Vec::new(),
                        reason_ended: None,
                        reason_text: None,
                        call_sid_ending: None,
                    },
                );
                sid
            }
        };
        let account_sid = self.account_sid.clone();
        let conference = self
            .conferences
            .get_mut(&conference_sid)
            .ok_or_else(|| SimError::ConferenceNotFound(conference_sid.clone()))?;
        if let Some(label) = &spec.label {
            // Twilio error 16025: the call is not added and continues with the next verb.
            if conference
                .participants
                .iter()
                .any(|p| p.label.as_deref() == Some(label.as_str()))
            {
                return Err(SimError::LabelInUse(label.clone()));
            }
        }
        let participant = ParticipantRecord {
            call_sid: call_sid.to_owned(),
            label: spec.label,
            muted: spec.muted,
            hold: false,
            end_conference_on_exit: spec.end_conference_on_exit,
            start_conference_on_enter: spec.start_conference_on_enter,
            beep_on_exit: spec.beep_on_exit,
            coaching: false,
            call_sid_to_coach: None,
            joined_at: now,
            updated_at: now,
            hold_target: None,
            wait: spec.wait,
            continues_after: spec.continues_after,
        };
        conference.participants.push(participant.clone());
        conference.updated_at = now;
        conference_event(
            &account_sid,
            conference,
            "participant-join",
            Some(&participant),
            Vec::new(),
            now,
            fx,
        );
        if conference.status == ConferenceStatus::Init
            && conference.participants.len() >= 2
            && conference
                .participants
                .iter()
                .any(|p| p.start_conference_on_enter)
        {
            conference.status = ConferenceStatus::InProgress;
            conference_event(
                &account_sid,
                conference,
                "conference-start",
                None,
                Vec::new(),
                now,
                fx,
            );
        }
        let waiting = conference.status == ConferenceStatus::Init;
        if let Some(call) = self.calls.get_mut(call_sid) {
            call.conference = Some(conference_sid.clone());
        }
        Ok(JoinOutcome {
            conference_sid,
            waiting,
        })
    }

    /// True while `call_sid` is in `conference_sid` and that conference has not started.
    pub fn is_waiting(&self, call_sid: &str, conference_sid: &str) -> bool {
        self.conferences
            .get(conference_sid)
            .is_some_and(|conference| {
                conference.status == ConferenceStatus::Init
                    && conference
                        .participants
                        .iter()
                        .any(|p| p.call_sid == call_sid)
            })
    }

    /// True while `call_sid` is in `conference_sid` and on hold.
    pub fn is_held(&self, call_sid: &str, conference_sid: &str) -> bool {
        self.conferences
            .get(conference_sid)
            .is_some_and(|conference| {
                conference.status != ConferenceStatus::Completed
                    && conference
                        .participants
                        .iter()
                        .any(|p| p.call_sid == call_sid && p.hold)
            })
    }

    /// Takes one participant out and reports `participant-leave`, without applying the
    /// conference-ending rules (callers decide).
    fn detach(
        &mut self,
        conference_sid: &str,
        call_sid: &str,
        cause: LeaveCause,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> Option<ParticipantRecord> {
        let account_sid = self.account_sid.clone();
        let conference = self.conferences.get_mut(conference_sid)?;
        let index = conference
            .participants
            .iter()
            .position(|p| p.call_sid == call_sid)?;
        let participant = conference.participants.remove(index);
        conference.updated_at = now;
        let call_status = match self.calls.get_mut(call_sid) {
            Some(call) => {
                if call.conference.as_deref() == Some(conference_sid) {
                    call.conference = None;
                }
                if call.status.is_final() {
                    call.status.as_str()
                } else {
                    match cause {
                        LeaveCause::Redirected => "in-progress",
                        _ if participant.continues_after => "in-progress",
                        _ => "completed",
                    }
                }
            }
            None => "completed",
        };
        conference.departed.push(Departure {
            call_sid: call_sid.to_owned(),
            reason: cause.reason().to_owned(),
            call_status: call_status.to_owned(),
            at: now,
        });
        conference_event(
            &account_sid,
            conference,
            "participant-leave",
            Some(&participant),
            vec![
                pair("ParticipantCallStatus", call_status),
                pair("ReasonParticipantLeft", cause.reason()),
            ],
            now,
            fx,
        );
        Some(participant)
    }

    /// A participant leaves (hang-up, redirect, DELETE, failed wait URL); the conference ends if
    /// it had `endConferenceOnExit` or was the last one.
    pub fn remove_participant(
        &mut self,
        conference_sid: &str,
        call_sid: &str,
        cause: LeaveCause,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> bool {
        let Some(participant) = self.detach(conference_sid, call_sid, cause, now, fx) else {
            return false;
        };
        let Some(conference) = self.conferences.get(conference_sid) else {
            return true;
        };
        if conference.status == ConferenceStatus::Completed {
            return true;
        }
        let kicked = cause == LeaveCause::Kicked;
        let sid = call_sid.to_owned();
        if participant.end_conference_on_exit {
            let end = if kicked {
                EndCause::EndOnExitKicked(sid)
            } else {
                EndCause::EndOnExitLeft(sid)
            };
            self.end_conference(conference_sid, end, now, fx);
        } else if conference.participants.is_empty() {
            let end = if kicked {
                EndCause::LastKicked(sid)
            } else {
                EndCause::LastLeft(sid)
            };
            self.end_conference(conference_sid, end, now, fx);
        }
        true
    }

    /// Ends a conference: every remaining participant is dropped (their calls go on to the TwiML
    /// after `<Dial>`, which hangs them up when there is none), then `conference-end`.
    pub fn end_conference(
        &mut self,
        conference_sid: &str,
        cause: EndCause,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let remaining: Vec<String> = match self.conferences.get_mut(conference_sid) {
            Some(conference) if conference.status != ConferenceStatus::Completed => {
                conference.status = ConferenceStatus::Completed;
                conference.updated_at = now;
                conference.reason_ended = Some(cause.reason());
                conference.reason_text = Some(cause.text());
                conference.call_sid_ending = cause.call_sid().map(str::to_owned);
                conference
                    .participants
                    .iter()
                    .map(|p| p.call_sid.clone())
                    .collect()
            }
            _ => return,
        };
        let leave = LeaveCause::ConferenceEnded {
            via_api: cause == EndCause::ViaApi,
        };
        for call_sid in remaining {
            self.detach(conference_sid, &call_sid, leave, now, fx);
        }
        let account_sid = self.account_sid.clone();
        if let Some(conference) = self.conferences.get_mut(conference_sid) {
            let mut extra = vec![
                pair("Reason", cause.text()),
                pair("ReasonConferenceEnded", cause.reason()),
            ];
            if let Some(sid) = cause.call_sid() {
                extra.push(pair("CallSidEndingConference", sid));
            }
            conference_event(
                &account_sid,
                conference,
                "conference-end",
                None,
                extra,
                now,
                fx,
            );
        }
    }

    /// Finds a live participant by call SID or label (the Participants API accepts either).
    pub fn find_participant(
        &self,
        conference_sid: &str,
        call_sid_or_label: &str,
    ) -> Option<&ParticipantRecord> {
        let conference = self.conferences.get(conference_sid)?;
        if conference.status == ConferenceStatus::Completed {
            return None;
        }
        conference.participants.iter().find(|p| {
            p.call_sid == call_sid_or_label || p.label.as_deref() == Some(call_sid_or_label)
        })
    }

    /// `POST /Conferences/{Sid}/Participants/{CallSid}.json`.
    ///
    /// Reproduces Twilio's trap: when the participant is on hold as the request arrives, an
    /// `EndConferenceOnExit` change is ignored silently (no error, no `participant-modify`).
    pub fn update_participant(
        &mut self,
        conference_sid: &str,
        call_sid: &str,
        changes: ParticipantChanges,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> Result<(), SimError> {
        let account_sid = self.account_sid.clone();
        let not_found = || SimError::ParticipantNotFound {
            conference: conference_sid.to_owned(),
            call: call_sid.to_owned(),
        };
        let conference = self
            .conferences
            .get_mut(conference_sid)
            .filter(|conference| conference.status != ConferenceStatus::Completed)
            .ok_or_else(not_found)?;
        let index = conference
            .participants
            .iter()
            .position(|p| p.call_sid == call_sid)
            .ok_or_else(not_found)?;

        let mut events: Vec<&'static str> = Vec::new();
        let mut modified = false;
        let mut ignored_end_on_exit = false;
        let mut hold_started = false;
        {
            let participant = &mut conference.participants[index];
            let was_held = participant.hold;
            if let Some(target) = changes.hold_target {
                participant.hold_target = Some(target);
            }
            if let Some(muted) = changes.muted {
                if muted != participant.muted {
                    participant.muted = muted;
                    events.push(if muted {
                        "participant-mute"
                    } else {
                        "participant-unmute"
                    });
                }
            }
            if let Some(hold) = changes.hold {
                if hold != participant.hold {
                    participant.hold = hold;
                    hold_started = hold;
                    events.push(if hold {
                        "participant-hold"
                    } else {
                        "participant-unhold"
                    });
                }
            }
            if let Some(end_on_exit) = changes.end_conference_on_exit {
                if was_held {
                    ignored_end_on_exit = end_on_exit != participant.end_conference_on_exit;
                } else if end_on_exit != participant.end_conference_on_exit {
                    participant.end_conference_on_exit = end_on_exit;
                    modified = true;
                }
            }
            if let Some(beep) = changes.beep_on_exit {
                if beep != participant.beep_on_exit {
                    participant.beep_on_exit = beep;
                    modified = true;
                }
            }
            if let Some(coaching) = changes.coaching {
                if coaching != participant.coaching {
                    participant.coaching = coaching;
                    modified = true;
                }
            }
            if let Some(coachee) = changes.call_sid_to_coach {
                // Coaching defaults to true when only the participant to coach is named.
                if changes.coaching.is_none() && !participant.coaching {
                    participant.coaching = true;
                    modified = true;
                }
                participant.call_sid_to_coach = Some(coachee);
            }
            if let Some(wait) = changes.wait {
                if wait != participant.wait {
                    participant.wait = wait;
                    modified = true;
                }
            }
            if modified {
                events.push("participant-modify");
            }
            participant.updated_at = now;
        }
        conference.updated_at = now;
        let participant = conference.participants[index].clone();
        for event in events {
            conference_event(
                &account_sid,
                conference,
                event,
                Some(&participant),
                Vec::new(),
                now,
                fx,
            );
        }
        if hold_started {
            fx.push(Effect::HoldMusic {
                call_sid: call_sid.to_owned(),
                conference_sid: conference_sid.to_owned(),
                target: participant.hold_target.clone(),
            });
        }
        if let Some(target) = changes.announce {
            fx.push(Effect::Announce {
                conference_sid: conference_sid.to_owned(),
                call_sid: Some(call_sid.to_owned()),
                target,
            });
        }
        if ignored_end_on_exit {
            self.note(
                now,
                format!(
                    "EndConferenceOnExit change for {call_sid} in {conference_sid} ignored: \
                     the participant is on hold (Twilio ignores it silently)"
                ),
            );
        }
        Ok(())
    }

    /// An announcement finished (or failed): `announcement-end` / `announcement-fail`, with the
    /// participant's parameters when it was played to one participant that is still present.
    pub fn announcement_done(
        &mut self,
        conference_sid: &str,
        call_sid: Option<&str>,
        target: &HttpTarget,
        failure: Option<String>,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        let account_sid = self.account_sid.clone();
        let Some(conference) = self.conferences.get_mut(conference_sid) else {
            return;
        };
        let participant = call_sid.and_then(|sid| {
            conference
                .participants
                .iter()
                .find(|p| p.call_sid == sid)
                .cloned()
        });
        let mut extra = vec![pair("AnnounceUrl", target.url.as_str())];
        let event = match failure {
            Some(reason) => {
                extra.push(pair("ReasonAnnouncementFailed", reason));
                "announcement-fail"
            }
            None => "announcement-end",
        };
        conference_event(
            &account_sid,
            conference,
            event,
            participant.as_ref(),
            extra,
            now,
            fx,
        );
    }

    /// The far end's behaviour for a dialed address.
    pub fn endpoint(&self, to: &str) -> Endpoint {
        self.endpoints.get(to).copied().unwrap_or(Endpoint::Ring)
    }

    /// `POST /Conferences/{Sid}.json` with `Status=completed`.
    pub fn end_conference_via_api(
        &mut self,
        conference_sid: &str,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) -> Result<(), SimError> {
        if !self.conferences.contains_key(conference_sid) {
            return Err(SimError::ConferenceNotFound(conference_sid.to_owned()));
        }
        self.end_conference(conference_sid, EndCause::ViaApi, now, fx);
        Ok(())
    }

    // ---------------------------------------------------------------- snapshots

    pub fn snapshot(&self, version: u64) -> SimSnapshot {
        let calls = self
            .call_order
            .iter()
            .filter_map(|sid| self.calls.get(sid))
            .map(|call| CallSnapshot {
                sid: call.sid.clone(),
                from: call.from.clone(),
                to: call.to.clone(),
                direction: call.direction,
                status: call.status,
                created_at: call.created_at,
                answered_at: call.answered_at,
                ended_at: call.ended_at,
                ended_by: call.ended_by.clone(),
                conference_sid: call.conference.clone(),
                heard: call.heard.clone(),
            })
            .collect();
        let conferences = self
            .conference_order
            .iter()
            .filter_map(|sid| self.conferences.get(sid))
            .map(|conference| ConferenceSnapshot {
                sid: conference.sid.clone(),
                friendly_name: conference.friendly_name.clone(),
                status: conference.status,
                created_at: conference.created_at,
                status_callback: conference
                    .status_callback
                    .as_ref()
                    .map(|target| target.url.to_string()),
                status_callback_events: conference.events.clone(),
                participants: conference
                    .participants
                    .iter()
                    .map(|p| ParticipantSnapshot {
                        call_sid: p.call_sid.clone(),
                        label: p.label.clone(),
                        hold: p.hold,
                        muted: p.muted,
                        end_conference_on_exit: p.end_conference_on_exit,
                        start_conference_on_enter: p.start_conference_on_enter,
                        coaching: p.coaching,
                        call_sid_to_coach: p.call_sid_to_coach.clone(),
                        beep_on_exit: p.beep_on_exit,
                        joined_at: p.joined_at,
                    })
                    .collect(),
                departed: conference.departed.clone(),
                reason_ended: conference.reason_ended.map(str::to_owned),
                call_sid_ending_conference: conference.call_sid_ending.clone(),
            })
            .collect();
        SimSnapshot {
            version,
            calls,
            conferences,
            notes: self.notes.clone(),
        }
    }
}

/// Seconds between answer and end (0 for calls never answered).
fn call_duration_secs(call: &CallRecord) -> u64 {
    match (call.answered_at, call.ended_at) {
        (Some(answered), Some(ended)) => {
            u64::try_from((ended - answered).num_seconds()).unwrap_or(0)
        }
        _ => 0,
    }
}

/// A serialisable view of everything the simulator holds (for tests and the demo UI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimSnapshot {
    /// Increases on every change; pass it back to `GET /sim/state?after=` to long-poll.
    pub version: u64,
    pub calls: Vec<CallSnapshot>,
    pub conferences: Vec<ConferenceSnapshot>,
    /// Things Twilio does silently (e.g. an ignored `EndConferenceOnExit` change).
    pub notes: Vec<SimNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSnapshot {
    pub sid: String,
    pub from: String,
    pub to: String,
    pub direction: Direction,
    pub status: CallStatus,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
    pub conference_sid: Option<String>,
    pub heard: Vec<Heard>,
}

impl CallSnapshot {
    /// Texts of every `<Say>` this caller heard, in order.
    pub fn said(&self) -> Vec<&str> {
        self.heard
            .iter()
            .filter_map(|heard| match heard {
                Heard::Say { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// True when anything from `source` reached the caller (a fetch, a Play, a Say).
    pub fn heard_from(&self, source: HeardSource) -> bool {
        self.heard.iter().any(|heard| match heard {
            Heard::Say { source: s, .. }
            | Heard::Play { source: s, .. }
            | Heard::Pause { source: s, .. }
            | Heard::Fetched { source: s, .. } => *s == source,
            _ => false,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConferenceSnapshot {
    pub sid: String,
    pub friendly_name: String,
    pub status: ConferenceStatus,
    pub created_at: DateTime<Utc>,
    pub status_callback: Option<String>,
    pub status_callback_events: Vec<String>,
    pub participants: Vec<ParticipantSnapshot>,
    pub departed: Vec<Departure>,
    pub reason_ended: Option<String>,
    pub call_sid_ending_conference: Option<String>,
}

impl ConferenceSnapshot {
    pub fn participant(&self, call_sid: &str) -> Option<&ParticipantSnapshot> {
        self.participants.iter().find(|p| p.call_sid == call_sid)
    }

    /// Whether `listener` hears `speaker` in this conference now: both are in it and it has
    /// started; neither is on hold (hold music replaces the conference); the speaker is not
    /// muted; and a coaching speaker is heard only by the participant they coach.
    pub fn hears(&self, listener: &str, speaker: &str) -> bool {
        if listener == speaker || self.status != ConferenceStatus::InProgress {
            return false;
        }
        let (Some(l), Some(s)) = (self.participant(listener), self.participant(speaker)) else {
            return false;
        };
        if l.hold || s.hold || s.muted {
            return false;
        }
        if s.coaching {
            return s.call_sid_to_coach.as_deref() == Some(listener);
        }
        true
    }

    /// The participants who hear `speaker` now, in join order.
    pub fn heard_by(&self, speaker: &str) -> Vec<&str> {
        self.participants
            .iter()
            .map(|p| p.call_sid.as_str())
            .filter(|listener| self.hears(listener, speaker))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantSnapshot {
    pub call_sid: String,
    pub label: Option<String>,
    pub hold: bool,
    pub muted: bool,
    pub end_conference_on_exit: bool,
    pub start_conference_on_enter: bool,
    pub coaching: bool,
    /// The participant a coaching participant whispers to.
    pub call_sid_to_coach: Option<String>,
    pub beep_on_exit: bool,
    pub joined_at: DateTime<Utc>,
}

impl SimSnapshot {
    pub fn call(&self, sid: &str) -> Option<&CallSnapshot> {
        self.calls.iter().find(|call| call.sid == sid)
    }

    pub fn conference(&self, sid: &str) -> Option<&ConferenceSnapshot> {
        self.conferences
            .iter()
            .find(|conference| conference.sid == sid)
    }

    /// The newest conference with this friendly name.
    pub fn conference_named(&self, name: &str) -> Option<&ConferenceSnapshot> {
        self.conferences
            .iter()
            .rev()
            .find(|conference| conference.friendly_name == name)
    }

    /// The conference `call_sid` is in right now.
    pub fn conference_of(&self, call_sid: &str) -> Option<&ConferenceSnapshot> {
        let sid = self.call(call_sid)?.conference_sid.as_deref()?;
        self.conference(sid)
    }

    /// Calls ringing at `to` (`client:alice`, `alice` or an E.164 number).
    pub fn ringing(&self, to: &str) -> Vec<&CallSnapshot> {
        let to = normalize_address(to);
        self.calls
            .iter()
            .filter(|call| {
                call.status == CallStatus::Ringing && call.direction == Direction::OutboundApi
            })
            .filter(|call| call.to == to)
            .collect()
    }
}

/// `alice` means `client:alice`; numbers and `client:`/`sip:` addresses stay as they are.
pub fn normalize_address(to: &str) -> String {
    let to = to.trim();
    if to.starts_with('+') || to.contains(':') {
        to.to_owned()
    } else {
        format!("client:{to}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> HttpTarget {
        HttpTarget {
            url: Url::parse(&format!("https://app.test{path}")).unwrap(),
            method: HttpMethod::Post,
        }
    }

    fn all_events() -> Vec<String> {
        "start end join leave mute hold modify"
            .split(' ')
            .map(str::to_owned)
            .collect()
    }

    fn customer_spec(name: &str) -> JoinSpec {
        JoinSpec {
            name: name.into(),
            start_conference_on_enter: false,
            end_conference_on_exit: true,
            muted: false,
            beep_on_exit: false,
            wait: WaitSetting::Target(target("/wait")),
            status_callback: Some(target("/conference-status")),
            events: all_events(),
            label: None,
            continues_after: false,
        }
    }

    fn agent_spec(name: &str) -> JoinSpec {
        JoinSpec {
            name: name.into(),
            start_conference_on_enter: true,
            end_conference_on_exit: false,
            muted: false,
            beep_on_exit: false,
            wait: WaitSetting::Default,
            status_callback: None,
            events: Vec::new(),
            label: None,
            continues_after: false,
        }
    }

    fn outbound(state: &mut State, to: &str, events: Vec<CallEvent>) -> String {
        state.create_outbound(
            OutboundSpec {
                to: to.into(),
                from: "+15005550006".into(),
                program: Program::Url(target("/agent")),
                fallback: None,
                status_callback: Some(target("/call-status")),
                status_events: events,
                timeout_secs: 30,
            },
            Utc::now(),
        )
    }

    /// An answered agent leg (outbound call in progress).
    fn answered_agent(state: &mut State, fx: &mut Vec<Effect>) -> String {
        let sid = outbound(state, "client:alice", vec![]);
        let now = Utc::now();
        assert!(state.begin_dialing(&sid, now, fx));
        assert!(state.start_ringing(&sid, now, fx));
        state.answer(&sid, now, fx).unwrap();
        sid
    }

    fn conference_events(fx: &[Effect]) -> Vec<(String, Params)> {
        fx.iter()
            .filter_map(|effect| match effect {
                Effect::ConferenceCallback { event, params, .. } => {
                    Some((event.clone(), params.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn names(fx: &[Effect]) -> Vec<String> {
        conference_events(fx)
            .into_iter()
            .map(|(event, _)| event)
            .collect()
    }

    fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Customer waiting in "room" plus an agent that joined: returns (customer, agent, conf).
    fn bridged(state: &mut State, fx: &mut Vec<Effect>) -> (String, String, String) {
        let now = Utc::now();
        let customer = state.create_inbound("+15551110000", "+15005550006", None, now);
        state.answer_inbound(&customer, now);
        let joined = state
            .join_conference(&customer, customer_spec("room"), now, fx)
            .unwrap();
        let agent = answered_agent(state, fx);
        state
            .join_conference(&agent, agent_spec("room"), now, fx)
            .unwrap();
        (customer, agent, joined.conference_sid)
    }

    #[test]
    fn sids_look_like_twilios() {
        let sid = new_sid("CA");
        assert!(is_sid(&sid, "CA"), "{sid}");
        assert!(!is_sid(&sid, "CF"));
        assert!(!is_sid("CA123", "CA"));
        assert!(!is_sid("CAzz000000000000000000000000000000", "CA"));
    }

    #[test]
    fn customer_waits_until_an_agent_with_start_on_enter_joins() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let now = Utc::now();
        let customer = state.create_inbound("+15551110000", "+15005550006", None, now);
        let joined = state
            .join_conference(&customer, customer_spec("room"), now, &mut fx)
            .unwrap();
        assert!(joined.waiting, "alone with startConferenceOnEnter=false");
        assert!(state.is_waiting(&customer, &joined.conference_sid));
        assert_eq!(names(&fx), ["participant-join"]);
        assert_eq!(
            state.conferences[&joined.conference_sid].status,
            ConferenceStatus::Init
        );

        fx.clear();
        let agent = answered_agent(&mut state, &mut fx);
        fx.clear();
        let agent_join = state
            .join_conference(&agent, agent_spec("room"), now, &mut fx)
            .unwrap();
        assert_eq!(
            agent_join.conference_sid, joined.conference_sid,
            "same room"
        );
        assert!(!agent_join.waiting);
        assert_eq!(names(&fx), ["participant-join", "conference-start"]);
        assert!(!state.is_waiting(&customer, &joined.conference_sid));
    }

    #[test]
    fn a_lone_start_on_enter_participant_still_waits_for_a_second() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let agent = answered_agent(&mut state, &mut fx);
        let joined = state
            .join_conference(&agent, agent_spec("solo"), Utc::now(), &mut fx)
            .unwrap();
        assert!(
            joined.waiting,
            "Twilio: a conference needs two participants to start"
        );
    }

    #[test]
    fn only_the_first_participants_callback_settings_count() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let now = Utc::now();
        let agent = answered_agent(&mut state, &mut fx);
        // The agent joins first and subscribes to nothing.
        let joined = state
            .join_conference(&agent, agent_spec("room"), now, &mut fx)
            .unwrap();
        let customer = state.create_inbound("+15551110000", "+15005550006", None, now);
        fx.clear();
        state
            .join_conference(&customer, customer_spec("room"), now, &mut fx)
            .unwrap();
        assert!(
            conference_events(&fx).is_empty(),
            "later statusCallback is ignored"
        );
        assert!(state.conferences[&joined.conference_sid]
            .status_callback
            .is_none());
    }

    #[test]
    fn join_callback_carries_participant_flags_and_sequence() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, agent, conference) = bridged(&mut state, &mut fx);
        let events = conference_events(&fx);
        let (_, first) = &events[0];
        assert_eq!(param(first, "CallSid"), Some(customer.as_str()));
        assert_eq!(param(first, "ConferenceSid"), Some(conference.as_str()));
        assert_eq!(param(first, "FriendlyName"), Some("room"));
        assert_eq!(param(first, "EndConferenceOnExit"), Some("true"));
        assert_eq!(param(first, "StartConferenceOnEnter"), Some("false"));
        assert_eq!(param(first, "Hold"), Some("false"));
        assert_eq!(param(first, "Muted"), Some("false"));
        assert_eq!(param(first, "Coaching"), Some("false"));
        assert_eq!(param(first, "SequenceNumber"), Some("1"));
        assert_eq!(param(first, "AccountSid"), Some("AC1"));
        let (_, second) = &events[1];
        assert_eq!(param(second, "CallSid"), Some(agent.as_str()));
        assert_eq!(param(second, "SequenceNumber"), Some("2"));
    }

    #[test]
    fn end_on_exit_participant_leaving_ends_the_conference_for_everyone() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, agent, conference) = bridged(&mut state, &mut fx);
        fx.clear();
        assert!(state.end_call(
            &customer,
            CallStatus::Completed,
            "customer hung up",
            Utc::now(),
            &mut fx
        ));
        assert_eq!(
            names(&fx),
            ["participant-leave", "participant-leave", "conference-end"]
        );
        let events = conference_events(&fx);
        let (_, customer_leave) = &events[0];
        assert_eq!(param(customer_leave, "CallSid"), Some(customer.as_str()));
        assert_eq!(
            param(customer_leave, "ReasonParticipantLeft"),
            Some("participant_hung_up")
        );
        assert_eq!(
            param(customer_leave, "ParticipantCallStatus"),
            Some("completed")
        );
        let (_, agent_leave) = &events[1];
        assert_eq!(param(agent_leave, "CallSid"), Some(agent.as_str()));
        assert_eq!(
            param(agent_leave, "ReasonParticipantLeft"),
            Some("moderator_ended_conference")
        );
        let (_, end) = &events[2];
        assert_eq!(
            param(end, "ReasonConferenceEnded"),
            Some("participant-with-end-conference-on-exit-left")
        );
        assert_eq!(
            param(end, "CallSidEndingConference"),
            Some(customer.as_str())
        );
        assert!(
            param(end, "CallSid").is_none(),
            "conference-end has no participant"
        );
        assert_eq!(
            state.conferences[&conference].status,
            ConferenceStatus::Completed
        );
        assert_eq!(
            state.calls[&agent].conference, None,
            "agent dropped from the room"
        );
    }

    #[test]
    fn conference_survives_a_leaving_agent_and_ends_with_the_last_participant() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, agent, conference) = bridged(&mut state, &mut fx);
        // The customer hands endConferenceOnExit away first (as a completed transfer would).
        state
            .update_participant(
                &conference,
                &customer,
                ParticipantChanges {
                    end_conference_on_exit: Some(false),
                    ..Default::default()
                },
                Utc::now(),
                &mut fx,
            )
            .unwrap();
        fx.clear();
        state.end_call(
            &agent,
            CallStatus::Completed,
            "agent hung up",
            Utc::now(),
            &mut fx,
        );
        assert_eq!(names(&fx), ["participant-leave"]);
        assert_eq!(
            state.conferences[&conference].status,
            ConferenceStatus::InProgress
        );
        fx.clear();
        state.end_call(
            &customer,
            CallStatus::Completed,
            "customer hung up",
            Utc::now(),
            &mut fx,
        );
        assert_eq!(names(&fx), ["participant-leave", "conference-end"]);
        let events = conference_events(&fx);
        assert_eq!(
            param(&events[1].1, "ReasonConferenceEnded"),
            Some("last-participant-left")
        );
    }

    #[test]
    fn end_on_exit_change_is_ignored_while_held_and_applied_once_unheld() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, _agent, conference) = bridged(&mut state, &mut fx);
        let update = |state: &mut State, changes: ParticipantChanges, fx: &mut Vec<Effect>| {
            fx.clear();
            state
                .update_participant(&conference, &customer, changes, Utc::now(), fx)
                .unwrap();
        };
        update(
            &mut state,
            ParticipantChanges {
                hold: Some(true),
                hold_target: Some(target("/hold")),
                ..Default::default()
            },
            &mut fx,
        );
        assert_eq!(names(&fx), ["participant-hold"]);
        assert!(fx.iter().any(|effect| matches!(
            effect,
            Effect::HoldMusic { target: Some(t), .. } if t.url.path() == "/hold"
        )));

        update(
            &mut state,
            ParticipantChanges {
                end_conference_on_exit: Some(false),
                ..Default::default()
            },
            &mut fx,
        );
        assert!(names(&fx).is_empty(), "no participant-modify while held");
        assert!(
            state
                .find_participant(&conference, &customer)
                .unwrap()
                .end_conference_on_exit
        );
        assert_eq!(state.notes.len(), 1, "{:?}", state.notes);

        update(
            &mut state,
            ParticipantChanges {
                hold: Some(false),
                ..Default::default()
            },
            &mut fx,
        );
        assert_eq!(names(&fx), ["participant-unhold"]);
        update(
            &mut state,
            ParticipantChanges {
                end_conference_on_exit: Some(false),
                ..Default::default()
            },
            &mut fx,
        );
        assert_eq!(names(&fx), ["participant-modify"]);
        let events = conference_events(&fx);
        assert_eq!(param(&events[0].1, "EndConferenceOnExit"), Some("false"));
        assert!(
            !state
                .find_participant(&conference, &customer)
                .unwrap()
                .end_conference_on_exit
        );
    }

    #[test]
    fn mute_events_fire_only_on_change() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, _, conference) = bridged(&mut state, &mut fx);
        for (muted, expected) in [
            (true, vec!["participant-mute"]),
            (true, vec![]),
            (false, vec!["participant-unmute"]),
        ] {
            fx.clear();
            state
                .update_participant(
                    &conference,
                    &customer,
                    ParticipantChanges {
                        muted: Some(muted),
                        ..Default::default()
                    },
                    Utc::now(),
                    &mut fx,
                )
                .unwrap();
            assert_eq!(names(&fx), expected);
        }
    }

    /// A supervisor's leg as a contact center adds it: muted, no beep, never starting or ending
    /// the conference.
    fn supervisor_spec(name: &str) -> JoinSpec {
        JoinSpec {
            muted: true,
            start_conference_on_enter: false,
            end_conference_on_exit: false,
            ..agent_spec(name)
        }
    }

    fn update(state: &mut State, conference: &str, call: &str, changes: ParticipantChanges) {
        state
            .update_participant(conference, call, changes, Utc::now(), &mut Vec::new())
            .unwrap();
    }

    #[test]
    fn monitoring_whispering_and_barging_decide_who_hears_the_supervisor() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, agent, conference) = bridged(&mut state, &mut fx);
        let supervisor = answered_agent(&mut state, &mut fx);
        state
            .join_conference(&supervisor, supervisor_spec("room"), Utc::now(), &mut fx)
            .unwrap();
        let heard_by = |state: &State, speaker: &str| -> Vec<String> {
            let snapshot = state.snapshot(0);
            let conf = snapshot.conference(&conference).unwrap();
            conf.heard_by(speaker)
                .into_iter()
                .map(str::to_owned)
                .collect()
        };
        // Customer and agent hear each other, and the supervisor hears both.
        assert_eq!(
            heard_by(&state, &customer),
            [agent.as_str(), supervisor.as_str()]
        );
        assert_eq!(
            heard_by(&state, &agent),
            [customer.as_str(), supervisor.as_str()]
        );
        // Monitor (muted): nobody hears the supervisor.
        assert!(heard_by(&state, &supervisor).is_empty());

        // Whisper: only the coached agent hears the supervisor; the customer does not.
        update(
            &mut state,
            &conference,
            &supervisor,
            ParticipantChanges {
                muted: Some(false),
                coaching: Some(true),
                call_sid_to_coach: Some(agent.clone()),
                ..Default::default()
            },
        );
        assert_eq!(heard_by(&state, &supervisor), [agent.as_str()]);
        assert_eq!(
            heard_by(&state, &customer),
            [agent.as_str(), supervisor.as_str()]
        );

        // Barge: unmuted, not coaching: everyone hears the supervisor.
        update(
            &mut state,
            &conference,
            &supervisor,
            ParticipantChanges {
                coaching: Some(false),
                ..Default::default()
            },
        );
        assert_eq!(
            heard_by(&state, &supervisor),
            [customer.as_str(), agent.as_str()]
        );

        // Back to monitor.
        update(
            &mut state,
            &conference,
            &supervisor,
            ParticipantChanges {
                muted: Some(true),
                ..Default::default()
            },
        );
        assert!(heard_by(&state, &supervisor).is_empty());

        // A held customer hears music: nobody hears them, and they hear nobody.
        update(
            &mut state,
            &conference,
            &customer,
            ParticipantChanges {
                hold: Some(true),
                ..Default::default()
            },
        );
        assert!(heard_by(&state, &customer).is_empty());
        assert_eq!(heard_by(&state, &agent), [supervisor.as_str()]);
    }

    #[test]
    fn naming_a_call_to_coach_turns_coaching_on() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, agent, conference) = bridged(&mut state, &mut fx);
        update(
            &mut state,
            &conference,
            &agent,
            ParticipantChanges {
                call_sid_to_coach: Some(customer.clone()),
                ..Default::default()
            },
        );
        let snapshot = state.snapshot(0);
        let conf = snapshot.conference(&conference).unwrap();
        let p = conf.participant(&agent).unwrap();
        assert!(p.coaching);
        assert_eq!(p.call_sid_to_coach.as_deref(), Some(customer.as_str()));
        assert_eq!(conf.heard_by(&agent), [customer.as_str()]);
    }

    #[test]
    fn a_supervisor_leaving_never_ends_the_conference_and_is_dropped_when_it_ends() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, _agent, conference) = bridged(&mut state, &mut fx);
        let supervisor = answered_agent(&mut state, &mut fx);
        state
            .join_conference(&supervisor, supervisor_spec("room"), Utc::now(), &mut fx)
            .unwrap();
        state.end_call(
            &supervisor,
            CallStatus::Completed,
            "supervisor hung up",
            Utc::now(),
            &mut fx,
        );
        assert_eq!(
            state.conferences[&conference].status,
            ConferenceStatus::InProgress
        );
        // Rejoined, then the customer hangs up: the conference ends around the supervisor too.
        let again = answered_agent(&mut state, &mut fx);
        state
            .join_conference(&again, supervisor_spec("room"), Utc::now(), &mut fx)
            .unwrap();
        state.end_call(
            &customer,
            CallStatus::Completed,
            "customer hung up",
            Utc::now(),
            &mut fx,
        );
        assert_eq!(
            state.conferences[&conference].status,
            ConferenceStatus::Completed
        );
        assert!(state.conferences[&conference].participants.is_empty());
    }

    #[test]
    fn kicking_the_end_on_exit_participant_reports_kicked() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, _, conference) = bridged(&mut state, &mut fx);
        fx.clear();
        assert!(state.remove_participant(
            &conference,
            &customer,
            LeaveCause::Kicked,
            Utc::now(),
            &mut fx
        ));
        let events = conference_events(&fx);
        assert_eq!(
            param(&events[0].1, "ReasonParticipantLeft"),
            Some("participant_updated_via_api")
        );
        assert_eq!(
            param(&events.last().unwrap().1, "ReasonConferenceEnded"),
            Some("participant-with-end-conference-on-exit-kicked")
        );
    }

    #[test]
    fn redirecting_a_participant_takes_it_out_and_restarts_its_program() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let (customer, agent, conference) = bridged(&mut state, &mut fx);
        fx.clear();
        let generation = state.calls[&agent].generation;
        state
            .redirect(
                &agent,
                Program::Twiml("<Response/>".into()),
                Utc::now(),
                &mut fx,
            )
            .unwrap();
        let events = conference_events(&fx);
        assert_eq!(events[0].0, "participant-leave");
        assert_eq!(
            param(&events[0].1, "ReasonParticipantLeft"),
            Some("participant_updated_via_api")
        );
        assert_eq!(
            param(&events[0].1, "ParticipantCallStatus"),
            Some("in-progress")
        );
        assert!(fx.contains(&Effect::RunProgram {
            call_sid: agent.clone(),
            generation: generation + 1
        }));
        assert!(state.find_participant(&conference, &customer).is_some());
        assert_eq!(
            state.conferences[&conference].status,
            ConferenceStatus::InProgress
        );
    }

    #[test]
    fn call_progress_callbacks_follow_subscriptions_and_sequence_from_zero() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let sid = outbound(
            &mut state,
            "client:alice",
            CallEvent::ALL_FOR_TESTS.to_vec(),
        );
        let now = Utc::now();
        state.begin_dialing(&sid, now, &mut fx);
        state.start_ringing(&sid, now, &mut fx);
        state.answer(&sid, now, &mut fx).unwrap();
        state.end_call(&sid, CallStatus::Completed, "hung up", now, &mut fx);
        let callbacks: Vec<(String, String, String)> = fx
            .iter()
            .filter_map(|effect| match effect {
                Effect::CallCallback { event, params, .. } => Some((
                    event.clone(),
                    param(params, "CallStatus").unwrap().to_owned(),
                    param(params, "SequenceNumber").unwrap().to_owned(),
                )),
                _ => None,
            })
            .collect();
        let expected: Vec<(String, String, String)> = [
            ("initiated", "initiated", "0"),
            ("ringing", "ringing", "1"),
            ("answered", "in-progress", "2"),
            ("completed", "completed", "3"),
        ]
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect();
        assert_eq!(callbacks, expected);
        let Some(Effect::CallCallback { params, .. }) = fx
            .iter()
            .rev()
            .find(|effect| matches!(effect, Effect::CallCallback { .. }))
        else {
            panic!()
        };
        assert_eq!(
            param(params, "CallbackSource"),
            Some("call-progress-events")
        );
        assert_eq!(param(params, "Direction"), Some("outbound-api"));
        assert_eq!(param(params, "CallDuration"), Some("0"));
        assert!(param(params, "Timestamp").unwrap().ends_with("+0000"));
    }

    #[test]
    fn without_events_only_completed_is_sent() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let sid = outbound(&mut state, "client:alice", vec![]);
        let now = Utc::now();
        state.begin_dialing(&sid, now, &mut fx);
        state.start_ringing(&sid, now, &mut fx);
        state.end_call(&sid, CallStatus::Busy, "rejected", now, &mut fx);
        let events: Vec<&str> = fx
            .iter()
            .filter_map(|effect| match effect {
                Effect::CallCallback { event, params, .. } => {
                    assert_eq!(param(params, "CallStatus"), Some("busy"));
                    Some(event.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(events, ["completed"]);
    }

    #[test]
    fn ending_twice_is_a_no_op_and_answering_needs_ringing() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let sid = outbound(&mut state, "client:alice", vec![]);
        assert!(matches!(
            state.answer(&sid, Utc::now(), &mut fx),
            Err(SimError::InvalidState { .. })
        ));
        assert!(state.end_call(&sid, CallStatus::Canceled, "canceled", Utc::now(), &mut fx));
        assert!(!state.end_call(&sid, CallStatus::Completed, "again", Utc::now(), &mut fx));
        assert_eq!(state.calls[&sid].status, CallStatus::Canceled);
    }

    #[test]
    fn duplicate_participant_label_is_refused() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let now = Utc::now();
        let a = state.create_inbound("+15551110000", "+15005550006", None, now);
        let b = state.create_inbound("+15551110001", "+15005550006", None, now);
        let labelled = |label: &str| JoinSpec {
            label: Some(label.into()),
            ..customer_spec("room")
        };
        state
            .join_conference(&a, labelled("customer"), now, &mut fx)
            .unwrap();
        assert_eq!(
            state.join_conference(&b, labelled("customer"), now, &mut fx),
            Err(SimError::LabelInUse("customer".into()))
        );
        assert!(state
            .find_participant(&state.calls[&a].conference.clone().unwrap(), "customer")
            .is_some());
    }

    #[test]
    fn ringing_view_normalises_client_identities() {
        let mut state = State::new("AC1");
        let mut fx = Vec::new();
        let sid = outbound(&mut state, "client:alice", vec![]);
        state.begin_dialing(&sid, Utc::now(), &mut fx);
        state.start_ringing(&sid, Utc::now(), &mut fx);
        let snapshot = state.snapshot(1);
        assert_eq!(snapshot.ringing("alice").len(), 1);
        assert_eq!(snapshot.ringing("client:alice").len(), 1);
        assert!(snapshot.ringing("client:bob").is_empty());
    }

    impl CallEvent {
        const ALL_FOR_TESTS: [CallEvent; 4] = [
            CallEvent::Initiated,
            CallEvent::Ringing,
            CallEvent::Answered,
            CallEvent::Completed,
        ];
    }
}
