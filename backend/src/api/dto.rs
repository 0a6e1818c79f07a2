//! Request and response bodies of the JSON API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::calls::CallEvent;
use crate::domain::agent::{Agent, AgentStatus, Role, SelectableStatus};
use crate::domain::board::LiveCallState;
use crate::domain::engine::TimelineEntry;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: Uuid,
    #[schema(example = "ana.lopez@example.com")]
    pub email: String,
    #[schema(example = "Ana Lopez")]
    pub display_name: String,
    pub role: Role,
    /// The Twilio Client identity the agent's browser registers under.
    #[schema(example = "ana_lopez_3f9a1c")]
    pub client_identity: String,
    pub status: AgentStatus,
    pub status_changed_at: DateTime<Utc>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Away: why. One of the away reasons' codes, or the system's own `missed_call` (a call
    /// rang out) or `declined_call` (the agent rejected it).
    #[schema(example = "lunch")]
    pub away_reason: Option<String>,
    /// Set away by the system: the call missed or declined.
    pub missed_call: Option<MissedCallView>,
    /// In wrap-up: the call and until when.
    pub wrap_up: Option<WrapUpView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MissedCallView {
    /// Who called.
    #[schema(example = "+15551230001")]
    pub from_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WrapUpView {
    /// The call being wrapped up.
    pub call_id: Option<Uuid>,
    /// When the wrap-up ends; `null` for a wrap-up with no time (it ends as soon as the
    /// agent's line is clear). Past while the agent must still file a required disposition.
    pub until: Option<DateTime<Utc>>,
    /// The one extension is used.
    pub extended: bool,
}

impl From<Agent> for AgentView {
    fn from(a: Agent) -> Self {
        Self {
            id: a.id,
            email: a.email.as_str().to_owned(),
            display_name: a.display_name.as_str().to_owned(),
            role: a.role,
            client_identity: a.client_identity.as_str().to_owned(),
            status: a.status,
            status_changed_at: a.status_changed_at,
            active: a.active,
            created_at: a.created_at,
            away_reason: (a.status == AgentStatus::Away)
                .then(|| a.presence.away_reason.clone())
                .flatten(),
            missed_call: match (a.status, a.presence.missed_call_from) {
                (AgentStatus::Away, Some(from_number)) => Some(MissedCallView { from_number }),
                _ => None,
            },
            wrap_up: (a.status == AgentStatus::WrapUp).then_some(WrapUpView {
                call_id: a.presence.wrap_up_call_id,
                until: a.presence.wrap_up_until,
                extended: a.presence.wrap_up_extended,
            }),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "admin@example.com", max_length = 254)]
    pub email: String,
    /// At most 1024 bytes.
    #[schema(example = "correct-horse-battery", max_length = 1024)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub agent: AgentView,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub status: SelectableStatus,
    /// With `away` only: one of the active away reasons' codes (see `GET /api/away-reasons`).
    #[schema(example = "lunch")]
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    #[serde(deserialize_with = "plain_text")]
    #[schema(
        format = "email",
        min_length = 3,
        max_length = 254,
        example = "ana@example.com"
    )]
    pub email: String,
    #[serde(deserialize_with = "plain_text")]
    #[schema(min_length = 1, max_length = 100, example = "Ana Lopez")]
    pub display_name: String,
    /// At least 10 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    #[serde(default = "default_role")]
    pub role: Role,
    /// Letters, digits and underscore; derived from the email when left out.
    pub client_identity: Option<String>,
}

/// Names and addresses never hold control characters (a NUL can't even be stored): such a
/// body is malformed, refused with 400 like any other undecodable JSON.
fn plain_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    if text.chars().any(char::is_control) {
        return Err(serde::de::Error::custom(
            "names and emails must not contain control characters",
        ));
    }
    Ok(text)
}

fn optional_plain_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(text) if text.chars().any(char::is_control) => Err(serde::de::Error::custom(
            "names and emails must not contain control characters",
        )),
        other => Ok(other),
    }
}

fn default_role() -> Role {
    Role::Agent
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    #[serde(default, deserialize_with = "optional_plain_text")]
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// Setting a password signs the agent out everywhere.
    #[schema(min_length = 10, max_length = 256)]
    pub password: Option<String>,
    /// `false` deactivates: the agent is signed out and stops receiving calls.
    pub active: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListAgentsQuery {
    /// Include deactivated agents.
    #[serde(default)]
    pub include_inactive: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoiceModeView {
    /// The built-in Twilio simulator plays Twilio; no real calls.
    Demo,
    /// Real Twilio.
    Live,
}

#[derive(Serialize, ToSchema)]
pub struct ClientConfig {
    pub mode: VoiceModeView,
    pub version: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

// ---- calls ----

use crate::domain::call::{
    CallStatus, MonitorMode, ParticipantKind, ParticipantStatus, TransferEndReason, TransferMode,
    TransferStatus,
};
use crate::services::calls::{CallDetail, CallSummary};

#[derive(Serialize, ToSchema)]
pub struct CallSummaryView {
    pub id: Uuid,
    #[schema(example = "CA0123456789abcdef0123456789abcdef")]
    pub customer_call_sid: String,
    #[schema(example = "+14155550100")]
    pub from_number: String,
    pub to_number: String,
    pub status: CallStatus,
    pub owner_agent_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// From answer to end, for answered calls that ended.
    pub duration_seconds: Option<i64>,
    /// The disposition code the call was filed under, if any.
    #[schema(example = "resolved")]
    pub disposition: Option<String>,
    /// Every agent who had a leg on the call (answered, rung, or a transfer target), once each, in the order they joined.
    pub handled_by: Vec<HandlingAgentView>,
    /// The transfers of the call in brief, oldest first; a call detail also lists them in full as transfers.
    pub transfer_summary: Vec<TransferBriefView>,
    /// What a live call is doing now (queued, ringing, talking, on hold, consulting): set in live
    /// `call` events and on the live board, null once the call is over and in history pages.
    pub live_state: Option<LiveCallState>,
    /// The supervisors on a live call now (ringing or joined) and how: set with `live_state`,
    /// empty in history pages.
    pub monitors: Vec<MonitorView>,
}

/// A supervisor on a live call.
#[derive(Serialize, ToSchema)]
pub struct MonitorView {
    pub agent_id: Uuid,
    #[schema(example = "Sue Park")]
    pub name: String,
    pub mode: MonitorMode,
    /// Whether their leg is in the conference (false while it rings).
    pub joined: bool,
}

/// An agent who had a leg on a call.
#[derive(Serialize, ToSchema)]
pub struct HandlingAgentView {
    pub id: Uuid,
    #[schema(example = "Ana Lopez")]
    pub name: String,
    /// Whether they joined the conference; false when their leg only rang.
    pub joined: bool,
}

/// A transfer as the history list shows it; a call detail has the full record.
#[derive(Serialize, ToSchema)]
pub struct TransferBriefView {
    pub mode: TransferMode,
    pub status: TransferStatus,
    pub from_agent_id: Option<Uuid>,
    /// The target agent, or null for a phone number.
    pub to_agent_id: Option<Uuid>,
    #[schema(example = "Ben Okafor")]
    pub to_name: Option<String>,
    #[schema(example = "+14155550123")]
    pub to_number: Option<String>,
}

impl From<&CallSummary> for CallSummaryView {
    fn from(s: &CallSummary) -> Self {
        let mut view = summary(&s.call, s.owner_name.clone());
        view.handled_by = s
            .handled_by
            .iter()
            .map(|a| HandlingAgentView {
                id: a.agent_id,
                name: a.name.clone(),
                joined: a.joined,
            })
            .collect();
        view.transfer_summary = s
            .transfers
            .iter()
            .map(|t| TransferBriefView {
                mode: t.mode,
                status: t.status,
                from_agent_id: t.from_agent_id,
                to_agent_id: t.to_agent_id,
                to_name: t.to_name.clone(),
                to_number: t.to_number.clone(),
            })
            .collect();
        view.disposition = s.disposition.clone();
        view.live_state = s.live_state;
        view.monitors = s
            .monitors
            .iter()
            .map(|m| MonitorView {
                agent_id: m.agent_id,
                name: m.name.clone(),
                mode: m.mode,
                joined: m.joined,
            })
            .collect();
        view
    }
}

fn summary(c: &crate::domain::call::Call, owner_name: Option<String>) -> CallSummaryView {
    CallSummaryView {
        id: c.id,
        customer_call_sid: c.customer_call_sid.to_string(),
        from_number: c.from_number.clone(),
        to_number: c.to_number.clone(),
        status: c.status,
        owner_agent_id: c.owner_agent_id,
        owner_name,
        created_at: c.created_at,
        answered_at: c.answered_at,
        ended_at: c.ended_at,
        duration_seconds: match (c.answered_at, c.ended_at) {
            (Some(a), Some(e)) => Some((e - a).num_seconds().max(0)),
            _ => None,
        },
        disposition: None,
        handled_by: Vec::new(),
        transfer_summary: Vec::new(),
        live_state: None,
        monitors: Vec::new(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantView {
    pub id: Uuid,
    pub kind: ParticipantKind,
    pub agent_id: Option<Uuid>,
    /// The agent's name, or the phone number.
    pub display_name: String,
    pub phone: Option<String>,
    pub call_sid: Option<String>,
    pub status: ParticipantStatus,
    pub on_hold: bool,
    pub muted: bool,
    /// Whether the conference ends when this participant leaves (the call's owner and the customer).
    pub end_conference_on_exit: bool,
    pub joined_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    /// A supervisor's leg: listening (muted), whispering to the call's agent, or barged in.
    pub monitor_mode: Option<MonitorMode>,
}

#[derive(Serialize, ToSchema)]
pub struct TransferView {
    pub id: Uuid,
    pub call_id: Uuid,
    pub mode: TransferMode,
    pub status: TransferStatus,
    pub from_agent_id: Option<Uuid>,
    pub to_agent_id: Option<Uuid>,
    pub to_number: Option<String>,
    pub target_participant_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The transferring agent's note for the target.
    pub note: Option<String>,
    /// Why it ended, when it ended other than by completing.
    pub end_reason: Option<TransferEndReason>,
    /// The agent who called it off (`end_reason` = `canceled`).
    pub ended_by: Option<Uuid>,
    /// It failed and the customer went back to the queue.
    pub requeued: bool,
}

impl From<&crate::domain::call::Transfer> for TransferView {
    fn from(t: &crate::domain::call::Transfer) -> Self {
        TransferView {
            id: t.id,
            call_id: t.call_id,
            mode: t.mode,
            status: t.status,
            from_agent_id: t.from_agent_id,
            to_agent_id: t.to_agent_id,
            to_number: t.to_number.clone(),
            target_participant_id: t.target_participant_id,
            created_at: t.created_at,
            answered_at: t.answered_at,
            ended_at: t.ended_at,
            note: t.note.clone(),
            end_reason: t.end_reason,
            ended_by: t.ended_by,
            requeued: t.requeued,
        }
    }
}

/// One timeline entry: when, and what (`kind`, with that kind's fields in `data`). An entry this
/// build cannot read (stored by an older one, or of a kind it does not know) comes as kind
/// `unknown` with the stored kind and data.
#[derive(Serialize, ToSchema)]
pub struct CallEventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: TimelineEntry,
}

impl From<CallEvent> for CallEventView {
    fn from(e: CallEvent) -> Self {
        CallEventView {
            id: e.id,
            at: e.at,
            entry: TimelineEntry::decode(&e.kind, e.data),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CallDetailView {
    #[serde(flatten)]
    pub summary: CallSummaryView,
    pub participants: Vec<ParticipantView>,
    pub transfers: Vec<TransferView>,
    pub timeline: Vec<CallEventView>,
    /// The disposition and notes filed for the call, if any.
    pub disposition_detail: Option<DispositionView>,
}

/// A call's disposition and notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct DispositionView {
    #[schema(example = "resolved")]
    pub code: Option<String>,
    #[schema(example = "Resolved")]
    pub label: Option<String>,
    pub notes: Option<String>,
    pub by: Option<Uuid>,
    pub at: Option<DateTime<Utc>>,
}

impl From<crate::db::presence::StoredDisposition> for DispositionView {
    fn from(d: crate::db::presence::StoredDisposition) -> Self {
        Self {
            code: d.code,
            label: d.label,
            notes: d.notes,
            by: d.by,
            at: d.at,
        }
    }
}

/// Files a call's disposition and notes (an agent who handled the call, during it or their
/// wrap-up; admins any time).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositionRequest {
    /// An active disposition's code; `null` files notes only.
    #[schema(example = "resolved")]
    pub code: Option<String>,
    /// Up to 2000 characters; line breaks and tabs allowed, other control characters not.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// Wrap-up settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct WrapUpSettingsView {
    /// How long an agent stays in wrap-up after each call; 0 turns wrap-up off.
    #[schema(minimum = 0, maximum = 1800, example = 30)]
    pub wrap_up_seconds: u32,
    /// How much longer an agent may ask for, once per wrap-up; 0: no extension.
    #[schema(minimum = 0, maximum = 1800, example = 60)]
    pub extension_seconds: u32,
    /// Whether a disposition is required before the agent is available again (wrap-up then
    /// lasts until one is filed, even past its time).
    pub require_disposition: bool,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

impl From<crate::db::presence::StoredSettings> for WrapUpSettingsView {
    fn from(s: crate::db::presence::StoredSettings) -> Self {
        Self {
            wrap_up_seconds: s.settings.seconds,
            extension_seconds: s.settings.extension_seconds,
            require_disposition: s.settings.require_disposition,
            updated_at: s.updated_at,
            updated_by: s.updated_by,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWrapUpSettingsRequest {
    #[schema(minimum = 0, maximum = 1800, example = 30)]
    pub wrap_up_seconds: i64,
    #[schema(minimum = 0, maximum = 1800, example = 60)]
    pub extension_seconds: i64,
    pub require_disposition: bool,
}

/// An entry of an admin-managed list: a disposition or an away reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListEntryView {
    #[schema(example = "lunch")]
    pub code: String,
    #[schema(example = "Lunch")]
    pub label: String,
    /// Inactive entries are kept (history stays readable) but can no longer be chosen.
    pub active: bool,
}

impl From<crate::db::presence::ListEntry> for ListEntryView {
    fn from(e: crate::db::presence::ListEntry) -> Self {
        Self {
            code: e.code,
            label: e.label,
            active: e.active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateListEntryRequest {
    /// 1-40 lower-case letters, digits or underscores; unique in its list.
    #[schema(example = "coaching", max_length = 40)]
    pub code: String,
    #[schema(example = "Coaching", max_length = 100)]
    pub label: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateListEntryRequest {
    #[schema(max_length = 100)]
    pub label: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListEntriesQuery {
    /// Admins only: include deactivated entries.
    #[serde(default)]
    pub include_inactive: bool,
}

impl From<CallDetail> for CallDetailView {
    fn from(d: CallDetail) -> Self {
        CallDetailView {
            summary: CallSummaryView::from(&d.summary()),
            disposition_detail: d.disposition.map(DispositionView::from),
            participants: d
                .participants
                .into_iter()
                .map(|(p, display_name)| ParticipantView {
                    id: p.id,
                    kind: p.kind,
                    agent_id: p.agent_id,
                    display_name,
                    phone: p.phone,
                    call_sid: p.call_sid.map(|sid| sid.to_string()),
                    status: p.status,
                    on_hold: p.on_hold,
                    muted: p.muted,
                    end_conference_on_exit: p.end_conference_on_exit,
                    joined_at: p.joined_at,
                    left_at: p.left_at,
                    monitor_mode: p.monitor_mode,
                })
                .collect(),
            transfers: d.transfers.iter().map(TransferView::from).collect(),
            timeline: d.timeline.into_iter().map(CallEventView::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CallPageView {
    pub items: Vec<CallSummaryView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CurrentCallView {
    pub call: Option<CallDetailView>,
}

/// Whom to give a queued call to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignCallRequest {
    pub agent_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct QueueEntryView {
    pub call_id: Uuid,
    pub from_number: String,
    pub status: CallStatus,
    /// The call's place in the queue (the router takes the earliest first); a supervisor
    /// moving a call to the front sets it earlier than everyone else's.
    pub queued_at: DateTime<Utc>,
    /// When the caller started waiting (the call came in): waits count from here.
    pub waiting_since: DateTime<Utc>,
    pub waiting_seconds: i64,
}

impl From<&crate::domain::call::Call> for QueueEntryView {
    fn from(c: &crate::domain::call::Call) -> Self {
        QueueEntryView {
            call_id: c.id,
            from_number: c.from_number.clone(),
            status: c.status,
            queued_at: c.queued_at,
            waiting_since: c.created_at,
            waiting_seconds: (Utc::now() - c.created_at).num_seconds().max(0),
        }
    }
}

/// One page of the queue.
#[derive(Serialize, ToSchema)]
pub struct QueuePageView {
    /// Longest-waiting first.
    pub items: Vec<QueueEntryView>,
    /// Calls waiting in all: on the first page (no `cursor`) only, `null` on later pages.
    /// Exact when the page holds the whole queue; with more waiting, counted at most 2 s
    /// before (and again after every change this instance hears of), and never less than the
    /// page shows. Whether there is more to read is `next_cursor`'s to say.
    pub total: Option<i64>,
    pub limit: i64,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl QueuePageView {
    pub fn new(page: crate::services::calls::QueuePage, limit: i64) -> Self {
        QueuePageView {
            items: page.items.iter().map(QueueEntryView::from).collect(),
            total: page.total,
            limit,
            next_cursor: page.next_cursor,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CallListQuery {
    pub status: Option<CallStatus>,
    /// Calls this agent handled, as owner or on any leg (answered, rung, or dialed as a transfer target, whatever the outcome); agents always get only their own.
    pub agent_id: Option<Uuid>,
    /// Created at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Who takes the call: exactly one of `agent_id` and `phone_number`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1, max_properties = 1)]
pub struct TransferTargetInput {
    /// An available agent.
    pub agent_id: Option<Uuid>,
    /// Or a phone number in E.164 form.
    #[schema(example = "+14155550123")]
    pub phone_number: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTransferRequest {
    pub mode: TransferMode,
    pub target: TransferTargetInput,
    /// Warm transfers only: put the customer on hold (with music) while you consult. Default true.
    pub hold_customer: Option<bool>,
    /// A note for the target, shown to them while it rings and during the call: at most 500
    /// characters, one line (no control characters). Blank means none.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Sends the customer back to the queue.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferToQueueRequest {
    /// A note for the agent who takes the call next, shown while it rings and during the call:
    /// at most 500 characters, one line (no control characters). Blank means none.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// How a supervisor is on a call.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorRequest {
    pub mode: MonitorMode,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    pub hold: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    pub muted: bool,
}

#[derive(Serialize, ToSchema)]
pub struct VoiceTokenView {
    /// A Twilio Voice access token for the Voice SDK's `Device`.
    pub token: String,
    /// The Twilio Client identity it registers (`client:<identity>`).
    pub identity: String,
    pub expires_at: DateTime<Utc>,
    pub ttl_seconds: u64,
}

/// The dialing policy for outside numbers (transfers to a phone number).
#[derive(Debug, Serialize, ToSchema)]
pub struct DialingPolicyView {
    /// Country calling codes whose numbers may be dialed.
    #[schema(example = json!([1]))]
    pub allowed_country_codes: Vec<u16>,
    /// Further number prefixes that may be dialed although their country is not allowed.
    #[schema(example = json!(["+4420"]))]
    pub allowed_prefixes: Vec<String>,
    /// Premium-rate, shared-cost or satellite ranges allowed after all (the destination must
    /// still be allowed by country or prefix).
    pub allowed_premium_prefixes: Vec<String>,
    /// Whether agents (not only admins) may dial numbers outside the home country.
    pub international_for_agents: bool,
    /// Outside dials one agent may place in any rolling hour; 0 turns outside dials off.
    pub max_dials_per_agent_per_hour: u32,
    /// Outside dials one call may have; 0 turns outside dials off.
    pub max_dials_per_call: u32,
    /// The country calling code of our Twilio number; other countries are international.
    #[schema(example = 1)]
    pub home_country_code: u16,
    /// Ranges always treated as premium or satellite (numbers libphonenumber knows as premium
    /// rate or shared cost are too).
    pub premium_prefixes: Vec<String>,
    /// No policy saved yet: the built-in default (the home country only) applies.
    pub is_default: bool,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

impl From<crate::services::dialing::PolicyInForce> for DialingPolicyView {
    fn from(f: crate::services::dialing::PolicyInForce) -> Self {
        let p = f.policy;
        Self {
            allowed_country_codes: p.allowed_country_codes.iter().map(|c| c.value()).collect(),
            allowed_prefixes: p
                .allowed_prefixes
                .iter()
                .map(|x| x.as_str().to_owned())
                .collect(),
            allowed_premium_prefixes: p
                .allowed_premium_prefixes
                .iter()
                .map(|x| x.as_str().to_owned())
                .collect(),
            international_for_agents: p.international_for_agents,
            max_dials_per_agent_per_hour: p.max_dials_per_agent_per_hour.value(),
            max_dials_per_call: p.max_dials_per_call.value(),
            home_country_code: f.home.value(),
            premium_prefixes: crate::domain::dialing::PREMIUM_PREFIXES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            is_default: f.is_default,
            updated_at: f.updated_at,
            updated_by: f.updated_by,
        }
    }
}

/// Replaces the dialing policy (admin). Entries are normalised: duplicates dropped, sorted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDialingPolicyRequest {
    /// Country calling codes (1–999, assigned by the ITU) whose numbers may be dialed.
    #[schema(max_items = 300, example = json!([1, 44]))]
    pub allowed_country_codes: Vec<u32>,
    /// `+` and 1–14 digits, e.g. `+4420`.
    #[schema(max_items = 200, example = json!([]))]
    pub allowed_prefixes: Vec<String>,
    /// `+` and 1–14 digits, e.g. `+1900`: lifts the premium block for that range only.
    #[schema(max_items = 200, example = json!([]))]
    pub allowed_premium_prefixes: Vec<String>,
    /// Whether agents (not only admins) may dial numbers outside the home country.
    pub international_for_agents: bool,
    /// Outside dials one agent may place in any rolling hour; 0 turns outside dials off.
    #[schema(minimum = 0, maximum = 1000, example = 10)]
    pub max_dials_per_agent_per_hour: i64,
    /// Outside dials one call may have; 0 turns outside dials off.
    #[schema(minimum = 0, maximum = 100, example = 3)]
    pub max_dials_per_call: i64,
}
