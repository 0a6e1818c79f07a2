//! What the engine writes on a call's timeline. Each variant is one `kind` in the API and the
//! database (`call_events.kind`), its fields the entry's `data`; the mapping is this enum's serde
//! attributes and nothing else.

use serde::Serialize;
use uuid::Uuid;

use crate::domain::agent::Role;
use crate::domain::call::{
    CallSid, CallStatus, ConferenceSid, ParticipantKind, ParticipantStatus, TransferMode,
};
use crate::domain::phone::PhoneNumber;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum TimelineEvent {
    AgentRinging {
        agent_id: Uuid,
        participant_id: Uuid,
    },
    ParticipantJoined {
        participant_id: Uuid,
        agent_id: Option<Uuid>,
        kind: ParticipantKind,
    },
    ParticipantLeft {
        participant_id: Uuid,
        agent_id: Option<Uuid>,
        kind: ParticipantKind,
    },
    /// A routed agent's leg (or an agent transfer target's) ended without joining.
    AgentMissed {
        participant_id: Uuid,
        agent_id: Option<Uuid>,
        phone: Option<String>,
        status: ParticipantStatus,
    },
    /// A routed agent (or an agent transfer target) declined the call: their browser rejected
    /// it (Twilio reports the leg `busy`). A ring-out is [`TimelineEvent::AgentMissed`].
    AgentDeclined {
        participant_id: Uuid,
        agent_id: Option<Uuid>,
    },
    /// An agent whose call is over is in wrap-up until this time.
    WrapUpStarted {
        agent_id: Uuid,
        until: chrono::DateTime<chrono::Utc>,
    },
    /// An agent (or admin) filed the call's disposition and notes.
    DispositionSet {
        by: Uuid,
        code: Option<String>,
        /// How long the notes are (the notes themselves are on the call, not in the timeline).
        notes_chars: usize,
    },
    /// An outside transfer target's leg ended without joining.
    TargetMissed {
        participant_id: Uuid,
        agent_id: Option<Uuid>,
        phone: Option<String>,
        status: ParticipantStatus,
    },
    CustomerOutOfConference {
        participant_id: Uuid,
        reason: Option<String>,
    },
    ConferenceLost {
        conference_sid: Option<ConferenceSid>,
    },
    CustomerNeverJoined {
        status: CallStatus,
    },
    CustomerJoinedLate {},
    Requeued {
        reason: &'static str,
    },
    TransferStarted {
        transfer_id: Uuid,
        mode: TransferMode,
        by: Uuid,
        to_agent_id: Option<Uuid>,
        to_number: Option<String>,
    },
    TransferTargetJoined {
        transfer_id: Uuid,
        participant_id: Uuid,
    },
    TransferCompleted {
        transfer_id: Uuid,
        mode: TransferMode,
        to_agent_id: Option<Uuid>,
        to_number: Option<String>,
    },
    TransferCanceled {
        transfer_id: Uuid,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        by: Option<Uuid>,
    },
    TransferFailed {
        transfer_id: Uuid,
        status: ParticipantStatus,
    },
    Hold {
        participant_id: Uuid,
        hold: bool,
        by: Uuid,
    },
    Mute {
        participant_id: Uuid,
        muted: bool,
        by: Uuid,
    },
    ParticipantRemoved {
        participant_id: Uuid,
        by: Uuid,
    },
    AgentLeaving {
        agent_id: Uuid,
    },
    AgentHandedBack {
        agent_id: Uuid,
        reason: &'static str,
    },
    HangupRequested {
        by: Uuid,
    },
    CallEnded {
        status: CallStatus,
        reason: &'static str,
    },
    /// A call-progress callback for one of our legs, as received.
    LegStatus {
        participant_id: Uuid,
        call_sid: CallSid,
        status: String,
    },
    /// A conference status callback, as received.
    ConferenceEvent {
        event: String,
        call_sid: Option<CallSid>,
        sequence: Option<i64>,
        hold: Option<bool>,
        muted: Option<bool>,
        reason: Option<String>,
    },
    /// The caller's `<Dial>` ended without the call being over: they were put back in.
    CustomerRejoined {
        dial_status: String,
        rejoins: u32,
    },
    /// An agent asked to dial an outside number; the dialing policy's decision.
    OutsideDial {
        by: Uuid,
        by_role: Role,
        number: PhoneNumber,
        /// `allowed` or `refused`.
        decision: &'static str,
        reason: Option<&'static str>,
        message: Option<String>,
    },
    /// A Twilio request the engine decided on failed.
    TwilioError {
        request: String,
        error: String,
    },
}

impl TimelineEvent {
    /// The entry's kind and data, as stored and served.
    pub fn to_entry(&self) -> (String, serde_json::Value) {
        let value = serde_json::to_value(self).expect("timeline events serialize");
        let serde_json::Value::Object(mut entry) = value else {
            unreachable!("an adjacently tagged enum serializes to an object")
        };
        let kind = match entry.remove("kind") {
            Some(serde_json::Value::String(kind)) => kind,
            _ => unreachable!("every timeline event has its kind"),
        };
        let data = entry
            .remove("data")
            .unwrap_or_else(|| serde_json::Value::Object(Default::default()));
        (kind, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_carry_their_kind_apart_from_their_data() {
        let event = TimelineEvent::CallEnded {
            status: CallStatus::Completed,
            reason: "customer hung up",
        };
        assert_eq!(
            event.to_entry(),
            (
                "call_ended".to_owned(),
                json!({ "status": "completed", "reason": "customer hung up" })
            )
        );
        let (kind, data) = TimelineEvent::CustomerJoinedLate {}.to_entry();
        assert_eq!((kind.as_str(), data), ("customer_joined_late", json!({})));
    }

    #[test]
    fn a_cancellation_names_either_its_reason_or_who_asked() {
        let id = Uuid::nil();
        let (_, by_agent) = TimelineEvent::TransferCanceled {
            transfer_id: id,
            reason: None,
            by: Some(id),
        }
        .to_entry();
        assert_eq!(by_agent, json!({ "transfer_id": id, "by": id }));
    }
}
