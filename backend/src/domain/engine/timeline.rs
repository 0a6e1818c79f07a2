//! What the engine writes on a call's timeline. Each variant is one `kind` in the API and the
//! database (`call_events.kind`), its fields the entry's `data`; the mapping is this enum's serde
//! attributes and nothing else. Reading back goes through [`TimelineEntry::decode`], which keeps
//! an entry this build cannot read (an older shape, or a kind it does not know) as it was stored.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::agent::Role;
use crate::domain::call::{
    CallSid, CallStatus, ConferenceSid, MonitorMode, ParticipantKind, ParticipantStatus,
    TransferMode,
};
use crate::domain::phone::PhoneNumber;

/// One timeline entry: `kind` names the event, `data` holds its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum TimelineEvent {
    /// The customer's call reached the voice webhook (or, when the webhook could not store it,
    /// was adopted later from a conference callback or from Twilio's list of conferences).
    CallReceived {
        #[serde(default = "unknown_party")]
        from: String,
        #[serde(default = "unknown_party")]
        to: String,
        /// The conference whose callback made us adopt the call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        adopted_from_conference: Option<String>,
        /// The live conference reconciliation found and adopted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        adopted_from_twilio: Option<String>,
    },
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
        #[schema(value_type = Option<String>)]
        conference_sid: Option<ConferenceSid>,
    },
    CustomerNeverJoined {
        status: CallStatus,
    },
    CustomerJoinedLate {},
    Requeued {
        reason: Cow<'static, str>,
    },
    TransferStarted {
        transfer_id: Uuid,
        mode: TransferMode,
        by: Uuid,
        to_agent_id: Option<Uuid>,
        to_number: Option<String>,
    },
    /// The transferring agent's note to the target, given when the transfer started.
    HandoverNote {
        transfer_id: Uuid,
        by: Uuid,
        note: String,
    },
    /// An agent sent the customer back to the queue (a cold transfer to the queue), with a note
    /// for whoever takes the call next.
    TransferredToQueue {
        by: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Twilio refused to take the agent out for a transfer to the queue: the customer is
    /// still with them.
    TransferToQueueFailed {
        by: Uuid,
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
        reason: Option<Cow<'static, str>>,
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
        reason: Cow<'static, str>,
    },
    HangupRequested {
        by: Uuid,
    },
    /// A supervisor moved the waiting call to the front of the queue.
    MovedToFront {
        by: Uuid,
    },
    /// A supervisor gave the waiting call to an agent: first in line, offered to them first.
    AssignedTo {
        agent_id: Uuid,
        by: Uuid,
    },
    /// A supervisor asked to be on the call (their browser is rung), listening, whispering or
    /// barging.
    MonitorStarted {
        participant_id: Uuid,
        by: Uuid,
        mode: MonitorMode,
    },
    /// A supervisor on the call switched how they are heard.
    MonitorModeChanged {
        participant_id: Uuid,
        by: Uuid,
        mode: MonitorMode,
    },
    /// A supervisor asked to stop listening: only their leg ends.
    MonitorStopped {
        participant_id: Uuid,
        by: Uuid,
    },
    /// A supervisor's leg ended without joining (declined, rang out, failed, called off).
    MonitorMissed {
        participant_id: Uuid,
        agent_id: Option<Uuid>,
        status: ParticipantStatus,
    },
    /// A supervisor on the call took it over: the call is theirs and its agent left.
    TakenOver {
        by: Uuid,
        from_agent_id: Option<Uuid>,
    },
    /// A take over did not happen (Twilio refused to make the supervisor heard by everyone, or
    /// the call changed meanwhile): the agent still has the call, the supervisor is on it as
    /// before.
    TakeOverFailed {
        by: Uuid,
    },
    /// Twilio refused to switch how a supervisor is heard: they are still heard as before.
    MonitorModeChangeFailed {
        participant_id: Uuid,
        by: Uuid,
        /// The mode asked for.
        mode: MonitorMode,
    },
    CallEnded {
        status: CallStatus,
        reason: Cow<'static, str>,
    },
    /// A call-progress callback for one of our legs, as received.
    LegStatus {
        participant_id: Uuid,
        #[schema(value_type = String)]
        call_sid: CallSid,
        status: String,
    },
    /// A conference status callback, as received.
    ConferenceEvent {
        event: String,
        #[schema(value_type = Option<String>)]
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
        #[schema(value_type = String)]
        number: PhoneNumber,
        decision: DialDecision,
        /// The refusal's code (`premium`, `destination_not_allowed`, ...), when refused.
        reason: Option<Cow<'static, str>>,
        message: Option<String>,
    },
    /// A Twilio request the engine decided on failed.
    TwilioError {
        request: String,
        error: String,
    },
}

fn unknown_party() -> String {
    "unknown".to_owned()
}

/// What the dialing policy said about an outside number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DialDecision {
    Allowed,
    Refused,
}

/// A stored timeline entry, read back.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TimelineEntry {
    Known(TimelineEvent),
    Unreadable(UnreadableEntry),
}

/// An entry this build cannot read: an older shape of a kind, or a kind it does not know.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum UnreadableEntry {
    /// The entry as stored.
    Unknown {
        stored_kind: String,
        /// Any JSON value.
        stored_data: serde_json::Value,
    },
}

impl TimelineEntry {
    /// Reads a stored entry. Never fails: what does not match a [`TimelineEvent`] comes back
    /// as stored, so an old row or a newer build's kind cannot break a call's detail.
    pub fn decode(kind: &str, data: serde_json::Value) -> Self {
        let tagged = serde_json::json!({ "kind": kind, "data": data });
        match TimelineEvent::deserialize(&tagged) {
            Ok(event) => TimelineEntry::Known(event),
            Err(_) => {
                let serde_json::Value::Object(mut tagged) = tagged else {
                    unreachable!("built as an object")
                };
                TimelineEntry::Unreadable(UnreadableEntry::Unknown {
                    stored_kind: kind.to_owned(),
                    stored_data: tagged.remove("data").unwrap_or_default(),
                })
            }
        }
    }
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
            reason: "customer hung up".into(),
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

    /// One of each kind, with the optional fields both set and unset across them.
    fn one_of_each() -> Vec<TimelineEvent> {
        use TimelineEvent::*;
        let id = Uuid::from_u128(7);
        let sid = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
        vec![
            CallReceived {
                from: "+15551230001".into(),
                to: "+15557654321".into(),
                adopted_from_conference: None,
                adopted_from_twilio: Some("CF0123456789abcdef0123456789abcdef".into()),
            },
            AgentRinging {
                agent_id: id,
                participant_id: id,
            },
            ParticipantJoined {
                participant_id: id,
                agent_id: None,
                kind: ParticipantKind::Customer,
            },
            ParticipantLeft {
                participant_id: id,
                agent_id: Some(id),
                kind: ParticipantKind::Agent,
            },
            AgentMissed {
                participant_id: id,
                agent_id: Some(id),
                phone: None,
                status: ParticipantStatus::NoAnswer,
            },
            TargetMissed {
                participant_id: id,
                agent_id: None,
                phone: Some("+15550001111".into()),
                status: ParticipantStatus::Busy,
            },
            CustomerOutOfConference {
                participant_id: id,
                reason: Some("left".into()),
            },
            ConferenceLost {
                conference_sid: Some(
                    ConferenceSid::parse("CF0123456789abcdef0123456789abcdef").unwrap(),
                ),
            },
            CustomerNeverJoined {
                status: CallStatus::Abandoned,
            },
            CustomerJoinedLate {},
            Requeued {
                reason: "the agent left".into(),
            },
            TransferStarted {
                transfer_id: id,
                mode: TransferMode::Warm,
                by: id,
                to_agent_id: Some(id),
                to_number: None,
            },
            HandoverNote {
                transfer_id: id,
                by: id,
                note: "wants a refund".into(),
            },
            TransferredToQueue {
                by: id,
                note: Some("asked for billing".into()),
            },
            TransferToQueueFailed { by: id },
            TransferTargetJoined {
                transfer_id: id,
                participant_id: id,
            },
            TransferCompleted {
                transfer_id: id,
                mode: TransferMode::Cold,
                to_agent_id: None,
                to_number: Some("+15550001111".into()),
            },
            TransferCanceled {
                transfer_id: id,
                reason: Some("target left".into()),
                by: None,
            },
            TransferFailed {
                transfer_id: id,
                status: ParticipantStatus::NoAnswer,
            },
            Hold {
                participant_id: id,
                hold: false,
                by: id,
            },
            Mute {
                participant_id: id,
                muted: true,
                by: id,
            },
            ParticipantRemoved {
                participant_id: id,
                by: id,
            },
            AgentLeaving { agent_id: id },
            AgentHandedBack {
                agent_id: id,
                reason: "signed out".into(),
            },
            HangupRequested { by: id },
            MovedToFront { by: id },
            AssignedTo {
                agent_id: id,
                by: id,
            },
            MonitorStarted {
                participant_id: id,
                by: id,
                mode: MonitorMode::Listen,
            },
            MonitorModeChanged {
                participant_id: id,
                by: id,
                mode: MonitorMode::Whisper,
            },
            MonitorStopped {
                participant_id: id,
                by: id,
            },
            MonitorMissed {
                participant_id: id,
                agent_id: Some(id),
                status: ParticipantStatus::Busy,
            },
            TakenOver {
                by: id,
                from_agent_id: Some(id),
            },
            TakeOverFailed { by: id },
            MonitorModeChangeFailed {
                participant_id: id,
                by: id,
                mode: MonitorMode::Barge,
            },
            CallEnded {
                status: CallStatus::Completed,
                reason: "customer hung up".into(),
            },
            LegStatus {
                participant_id: id,
                call_sid: sid.clone(),
                status: "no-answer".into(),
            },
            ConferenceEvent {
                event: "participant-hold".into(),
                call_sid: Some(sid),
                sequence: Some(4),
                hold: Some(true),
                muted: None,
                reason: None,
            },
            CustomerRejoined {
                dial_status: "completed".into(),
                rejoins: 2,
            },
            OutsideDial {
                by: id,
                by_role: Role::Agent,
                number: PhoneNumber::parse("+14155550100").unwrap(),
                decision: DialDecision::Refused,
                reason: Some("premium".into()),
                message: Some("not allowed".into()),
            },
            TwilioError {
                request: "hold".into(),
                error: "timed out".into(),
            },
        ]
    }

    #[test]
    fn every_kind_reads_back_as_it_was_written() {
        for event in one_of_each() {
            let (kind, data) = event.to_entry();
            assert_eq!(
                TimelineEntry::decode(&kind, data),
                TimelineEntry::Known(event)
            );
        }
    }

    #[test]
    fn what_does_not_read_as_an_event_comes_back_as_stored() {
        let cases = [
            ("call_adopted", json!({ "conference": "x" })),
            // an older hold, before `hold` and `by`
            (
                "hold",
                json!({ "participant_id": Uuid::nil(), "on_hold": true }),
            ),
            // a SID that is not one
            (
                "leg_status",
                json!({ "participant_id": Uuid::nil(), "call_sid": "XX1", "status": "ringing" }),
            ),
            ("call_ended", json!("not an object")),
            ("", json!({})),
        ];
        for (kind, data) in cases {
            let entry = TimelineEntry::decode(kind, data.clone());
            assert_eq!(
                entry,
                TimelineEntry::Unreadable(UnreadableEntry::Unknown {
                    stored_kind: kind.to_owned(),
                    stored_data: data.clone(),
                })
            );
            assert_eq!(
                serde_json::to_value(&entry).unwrap(),
                json!({ "kind": "unknown", "data": { "stored_kind": kind, "stored_data": data } })
            );
        }
    }

    #[test]
    fn an_adoption_stored_before_from_and_to_were_written_still_reads_as_received() {
        let entry = TimelineEntry::decode(
            "call_received",
            json!({ "adopted_from_conference": "wt-CA1" }),
        );
        assert_eq!(
            entry,
            TimelineEntry::Known(TimelineEvent::CallReceived {
                from: "unknown".into(),
                to: "unknown".into(),
                adopted_from_conference: Some("wt-CA1".into()),
                adopted_from_twilio: None,
            })
        );
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
