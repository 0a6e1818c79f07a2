//! The call engine's decisions, free of SQL and HTTP.
//!
//! The service layer loads a [`CallSnapshot`] under the call's row lock, hands it one [`Input`]
//! (a Twilio callback, an agent's action, a timer, a reconciliation result) to [`decide`], and
//! stores what comes back: the [`Change`]s to the call, its legs, transfers and agents, the
//! [`Effect`]s to ask of Twilio after commit, and the [`TimelineEvent`]s to record.

mod effect;
mod rules;
mod timeline;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use effect::Effect;
pub use timeline::{DialDecision, TimelineEntry, TimelineEvent, UnreadableEntry};

use crate::domain::agent::AgentStatus;
use crate::domain::call::{
    Call, CallSid, CallStatus, ConferenceEvent, ConferenceSid, HandoverNote, MonitorMode,
    Participant, ParticipantKind, ParticipantStatus, Transfer, TransferEndReason, TransferMode,
    TransferStatus,
};
use crate::domain::phone::PhoneNumber;
use crate::domain::presence::SystemAwayReason;
use twilio::rest::CallStatus as TwilioCallStatus;

/// A leg that left without Twilio reporting its call over stops counting as live this long
/// after it left, so one lost callback can't hold an agent forever.
pub const LIVE_AFTER_LEAVING: chrono::Duration = chrono::Duration::minutes(2);

/// Everything a decision about one call may look at.
#[derive(Debug, Clone)]
pub struct CallSnapshot {
    pub call: Call,
    pub participants: Vec<Participant>,
    /// Every transfer of the call, oldest first; at most one is active.
    pub transfers: Vec<Transfer>,
    /// The agents with a leg in the call, and any agent the input names.
    pub agents: Vec<AgentView>,
    pub now: DateTime<Utc>,
    /// How long an agent whose call is over stays in wrap-up; 0: no wrap-up (available as soon
    /// as their line is clear).
    pub wrap_up_seconds: u32,
}

/// What a decision needs to know of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentView {
    pub id: Uuid,
    pub status: AgentStatus,
    pub active: bool,
    /// Whether a leg of theirs in another call may still be live in Twilio.
    pub live_elsewhere: bool,
}

impl CallSnapshot {
    pub fn participant(&self, id: Uuid) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    pub fn active_transfer(&self) -> Option<&Transfer> {
        self.transfers.iter().find(|t| t.status.is_active())
    }

    pub fn agent(&self, id: Uuid) -> Option<&AgentView> {
        self.agents.iter().find(|a| a.id == id)
    }

    pub fn customer(&self) -> Option<&Participant> {
        self.participants
            .iter()
            .find(|p| p.kind == ParticipantKind::Customer)
    }

    /// Whether any leg of the agent may still be live in Twilio: until Twilio reports its call
    /// over, their phone is still on it and would drop the next call.
    pub fn agent_has_live_leg(&self, agent_id: Uuid) -> bool {
        self.agent(agent_id).is_some_and(|a| a.live_elsewhere)
            || self
                .participants
                .iter()
                .any(|p| p.agent_id == Some(agent_id) && leg_may_be_live(p, self.now))
    }
}

/// The rule behind [`CallSnapshot::agent_has_live_leg`], also applied in SQL by the router.
pub fn leg_may_be_live(p: &Participant, now: DateTime<Utc>) -> bool {
    p.call_ended_at.is_none()
        && (ParticipantStatus::LIVE.contains(&p.status)
            || p.left_at
                .is_some_and(|left| left > now - LIVE_AFTER_LEAVING))
}

/// One thing that happened to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Twilio's call-progress callback for one of the legs we placed.
    LegProgress {
        participant_id: Uuid,
        status: TwilioCallStatus,
    },
    /// Twilio refused to place a leg.
    DialFailed { participant_id: Uuid },
    /// A conference status callback, its participant already identified.
    Conference(ConferenceInput),
    /// Twilio says the customer's call is over (asked after their callbacks went missing).
    CustomerGone,
    /// The call is to end for everyone: the caller could not be kept.
    EndCall { reason: &'static str },
    /// The router books an available agent for the queued call.
    Offer {
        agent_id: Uuid,
        leg_id: Uuid,
        dial_to: String,
    },
    /// An agent's (or admin's) request.
    Action { actor: Actor, action: Action },
    /// Twilio refused to take the agent out of the conference for a transfer to the queue: they
    /// are still with the customer, so the call is theirs again.
    QueueTransferRefused { agent_id: Uuid },
    /// Twilio refused to switch how a supervisor's joined leg is heard: it is still heard as
    /// `mode`, the mode it had before the request, and is recorded so again.
    MonitorModeRefused { agent_id: Uuid, mode: MonitorMode },
    /// Twilio made the supervisor's leg heard by everyone, a take over's first step: the call
    /// now changes hands, if it still can.
    TakeOverHeard { actor: Actor },
    /// A take over stopped after its first step: Twilio refused to make the supervisor heard by
    /// everyone, or the call could no longer be taken over once it had. Nothing changed for
    /// the customer or the agent; the supervisor stays on the call as they were.
    TakeOverRefused { agent_id: Uuid },
    /// An agent signing out or being deactivated gives the call back without ending it.
    HandBack {
        agent_id: Uuid,
        reason: &'static str,
    },
}

/// A conference event (`StatusCallbackEvent`) as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceInput {
    pub event: ConferenceEvent,
    pub conference_sid: ConferenceSid,
    /// The leg's call SID, for participant events.
    pub call_sid: Option<CallSid>,
    /// The call's participant that leg is, when known.
    pub participant_id: Option<Uuid>,
    pub sequence: Option<i64>,
    pub hold: Option<bool>,
    pub muted: Option<bool>,
    pub end_conference_on_exit: Option<bool>,
    /// The participant's call goes on after leaving (`CallStatus=in-progress` on a leave).
    pub call_goes_on: bool,
    /// The leave was the conference ending around the participant.
    pub conference_ended_around: bool,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    /// A supervisor or admin: may act on any live call.
    pub supervises: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    StartTransfer {
        /// Ids for the new leg and transfer, chosen by the caller.
        leg_id: Uuid,
        transfer_id: Uuid,
        target: TransferTo,
        mode: TransferMode,
        /// Warm only: hold the customer (with music) while consulting. Cold always holds.
        hold_customer: bool,
        /// What the target is told about the call.
        note: Option<HandoverNote>,
    },
    /// Cold, to the queue: the agent leaves and the customer waits for the next agent, in the
    /// place they first queued at (ahead of anyone who called later).
    TransferToQueue {
        /// What the next agent is told about the call (on the timeline, which they see).
        note: Option<HandoverNote>,
    },
    CompleteTransfer {
        transfer_id: Uuid,
    },
    CancelTransfer {
        transfer_id: Uuid,
    },
    Hold {
        participant_id: Uuid,
        hold: bool,
    },
    Mute {
        participant_id: Uuid,
        muted: bool,
    },
    Remove {
        participant_id: Uuid,
    },
    Leave,
    HangUp,
    /// A supervisor listens to, whispers to the agent of, or joins the call: starts their leg
    /// (rung at `dial_to`, id `leg_id`) or switches the mode of the one they have.
    Monitor {
        mode: MonitorMode,
        leg_id: Uuid,
        dial_to: String,
    },
    /// A supervisor stops listening: only their leg ends.
    StopMonitor,
    /// A supervisor on the call becomes its owner; its agent leaves.
    TakeOver,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTo {
    /// A colleague (in the snapshot's agents), reached at `dial_to`.
    Agent {
        id: Uuid,
        name: String,
        dial_to: String,
    },
    Number(PhoneNumber),
}

/// Why a request was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
}

/// A change to store, in the order decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Call(CallUpdate),
    Leg {
        id: Uuid,
        update: LegUpdate,
    },
    NewLeg(NewLeg),
    NewTransfer(NewTransfer),
    Transfer {
        id: Uuid,
        status: TransferStatus,
        /// How it ended, when it ended other than by completing.
        end: Option<TransferEnd>,
    },
    /// An agent's status moves `from` what the snapshot saw `to` another; stored only if it is
    /// still `from`, so a sign-out or a booking committed meanwhile is never overwritten.
    Agent {
        id: Uuid,
        from: AgentStatus,
        to: AgentStatus,
    },
    /// The agent just moved to wrap-up for this call, until this time (stored only while they
    /// are still in wrap-up).
    WrapUpStarted {
        agent_id: Uuid,
        call_id: Uuid,
        until: DateTime<Utc>,
    },
    /// The agent just set away was set so because of this call (stored only while they are
    /// still away): what their missed-call notice says.
    AwayBecause {
        agent_id: Uuid,
        reason: SystemAwayReason,
        call_id: Uuid,
        from_number: String,
    },
}

/// Fields of a call to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallUpdate {
    pub status: Option<CallStatus>,
    pub owner_agent_id: Option<Option<Uuid>>,
    /// `Some(None)` forgets a conference that ended while the caller stayed on the line.
    pub conference_sid: Option<Option<ConferenceSid>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// `Some(None)` reopens a call closed too early.
    pub ended_at: Option<Option<DateTime<Utc>>>,
    pub prefer_agent_id: Option<Option<Uuid>>,
    pub avoid_agent_id: Option<Option<Uuid>>,
}

/// Fields of a leg to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegUpdate {
    pub status: Option<ParticipantStatus>,
    pub on_hold: Option<bool>,
    pub muted: Option<bool>,
    pub end_conference_on_exit: Option<bool>,
    pub flags_sequence: Option<i32>,
    pub joined_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    pub call_ended_at: Option<DateTime<Utc>>,
    /// A supervisor's leg taken over becomes an agent leg.
    pub kind: Option<ParticipantKind>,
    pub monitor_mode: Option<Option<MonitorMode>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLeg {
    pub id: Uuid,
    pub call_id: Uuid,
    pub kind: ParticipantKind,
    pub agent_id: Option<Uuid>,
    pub phone: Option<String>,
    /// A supervisor's leg: how they are on the call.
    pub monitor_mode: Option<MonitorMode>,
}

/// How a transfer that did not complete ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferEnd {
    pub reason: TransferEndReason,
    /// The agent who called it off.
    pub by: Option<Uuid>,
    /// The customer went back to the queue because of it.
    pub requeued: bool,
}

impl TransferEnd {
    pub fn because(reason: TransferEndReason) -> Self {
        Self {
            reason,
            by: None,
            requeued: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer {
    pub id: Uuid,
    pub call_id: Uuid,
    pub from_agent_id: Option<Uuid>,
    pub to_agent_id: Option<Uuid>,
    pub to_number: Option<String>,
    pub mode: TransferMode,
    pub target_participant_id: Uuid,
    pub note: Option<HandoverNote>,
}

impl NewLeg {
    /// The leg as it stands once stored: being dialed, no SID yet.
    pub fn to_participant(&self, now: DateTime<Utc>) -> Participant {
        Participant {
            id: self.id,
            call_id: self.call_id,
            kind: self.kind,
            agent_id: self.agent_id,
            phone: self.phone.clone(),
            call_sid: None,
            status: ParticipantStatus::Dialing,
            on_hold: false,
            muted: false,
            end_conference_on_exit: false,
            flags_sequence: 0,
            created_at: now,
            joined_at: None,
            left_at: None,
            call_ended_at: None,
            monitor_mode: self.monitor_mode,
        }
    }
}

impl NewTransfer {
    /// The transfer as it stands once stored: dialing its target.
    pub fn to_transfer(&self, now: DateTime<Utc>) -> Transfer {
        Transfer {
            id: self.id,
            call_id: self.call_id,
            from_agent_id: self.from_agent_id,
            to_agent_id: self.to_agent_id,
            to_number: self.to_number.clone(),
            mode: self.mode,
            status: TransferStatus::Dialing,
            target_participant_id: Some(self.target_participant_id),
            created_at: now,
            answered_at: None,
            ended_at: None,
            note: self.note.as_ref().map(|n| n.as_str().to_owned()),
            end_reason: None,
            ended_by: None,
            requeued: false,
        }
    }
}

/// What [`decide`] concluded: the state after it, and how to get there.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The snapshot with every change applied.
    pub state: CallSnapshot,
    pub changes: Vec<Change>,
    pub effects: Vec<Effect>,
    pub timeline: Vec<TimelineEvent>,
    /// Something routable changed: an agent became available or a call joined the queue.
    pub wake_router: bool,
    /// The call's view changed (its subscribers and the queue should hear about it).
    pub call_changed: bool,
}

impl Decision {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.effects.is_empty() && self.timeline.is_empty()
    }
}

/// Whether `actor` may start a transfer of the call now, before anything about its target is
/// looked up: the same checks [`decide`] makes first for [`Action::StartTransfer`].
pub fn may_start_transfer(snapshot: &CallSnapshot, actor: Actor) -> Result<(), Refusal> {
    let engine = rules::Engine::new(snapshot.clone());
    engine.authorize(actor)?;
    engine.transfer_preconditions()
}

/// Decides what one input means for the call.
pub fn decide(snapshot: CallSnapshot, input: Input) -> Result<Decision, Refusal> {
    let mut engine = rules::Engine::new(snapshot);
    engine.handle(input)?;
    Ok(engine.finish())
}

impl Call {
    pub(crate) fn apply(&mut self, u: &CallUpdate) {
        if let Some(v) = u.status {
            self.status = v;
        }
        if let Some(v) = u.owner_agent_id {
            self.owner_agent_id = v;
        }
        if let Some(v) = &u.conference_sid {
            self.conference_sid = v.clone();
        }
        if let Some(v) = u.answered_at {
            self.answered_at = Some(v);
        }
        if let Some(v) = u.ended_at {
            self.ended_at = v;
        }
        if let Some(v) = u.prefer_agent_id {
            self.prefer_agent_id = v;
        }
        if let Some(v) = u.avoid_agent_id {
            self.avoid_agent_id = v;
        }
    }
}

impl Participant {
    pub(crate) fn apply(&mut self, u: &LegUpdate) {
        if let Some(v) = u.status {
            self.status = v;
        }
        if let Some(v) = u.on_hold {
            self.on_hold = v;
        }
        if let Some(v) = u.muted {
            self.muted = v;
        }
        if let Some(v) = u.end_conference_on_exit {
            self.end_conference_on_exit = v;
        }
        if let Some(v) = u.flags_sequence {
            self.flags_sequence = v;
        }
        if let Some(v) = u.joined_at {
            self.joined_at = Some(v);
        }
        if let Some(v) = u.left_at {
            self.left_at = Some(v);
        }
        if let Some(v) = u.call_ended_at {
            self.call_ended_at = Some(v);
        }
        if let Some(v) = u.kind {
            self.kind = v;
        }
        if let Some(v) = u.monitor_mode {
            self.monitor_mode = v;
        }
    }
}
