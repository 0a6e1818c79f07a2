//! Calls, their legs, and transfers: the states they move through and the rules between them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::agent::string_enum;
use super::ValidationError;
use twilio::rest::CallStatus as TwilioCallStatus;
pub use twilio::sid::{CallSid, ConferenceSid};

/// A customer call, from the customer's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// Waiting for an agent (hearing the wait music).
    Queued,
    /// An agent's browser is ringing.
    Ringing,
    /// Talking to an agent (or to a transfer target).
    InProgress,
    Completed,
    /// The customer hung up before anyone answered.
    Abandoned,
    Failed,
}

string_enum!(CallStatus {
    Queued => "queued",
    Ringing => "ringing",
    InProgress => "in_progress",
    Completed => "completed",
    Abandoned => "abandoned",
    Failed => "failed",
});

impl CallStatus {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CallStatus::Completed | CallStatus::Abandoned | CallStatus::Failed
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKind {
    Customer,
    Agent,
    /// A phone number outside the team (a transfer target).
    External,
    /// A supervisor listening to, coaching or joining the call: never the call's owner, and
    /// never what keeps the customer company.
    Supervisor,
}

string_enum!(ParticipantKind { Customer => "customer", Agent => "agent", External => "external", Supervisor => "supervisor" });

/// How a supervisor is on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MonitorMode {
    /// Hears everyone, heard by nobody (muted).
    Listen,
    /// Heard only by the owning agent (coaching them); the customer does not hear it.
    Whisper,
    /// Heard by everyone: joins the conversation.
    Barge,
}

string_enum!(MonitorMode { Listen => "listen", Whisper => "whisper", Barge => "barge" });

/// One leg of a call's conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    /// Asked Twilio to place the call.
    Dialing,
    Ringing,
    /// In the conference.
    Connected,
    Left,
    NoAnswer,
    Busy,
    Failed,
    Canceled,
}

string_enum!(ParticipantStatus {
    Dialing => "dialing",
    Ringing => "ringing",
    Connected => "connected",
    Left => "left",
    NoAnswer => "no_answer",
    Busy => "busy",
    Failed => "failed",
    Canceled => "canceled",
});

impl ParticipantStatus {
    /// Legs that may still be live in Twilio: being placed, ringing, or in the conference.
    pub const LIVE: [ParticipantStatus; 3] = [
        ParticipantStatus::Dialing,
        ParticipantStatus::Ringing,
        ParticipantStatus::Connected,
    ];

    /// Still being dialed: the leg may yet join.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            ParticipantStatus::Dialing | ParticipantStatus::Ringing
        )
    }

    pub fn is_final(self) -> bool {
        !self.is_pending() && self != ParticipantStatus::Connected
    }

    /// A leg that ended without ever joining.
    pub fn is_missed(self) -> bool {
        matches!(
            self,
            ParticipantStatus::NoAnswer
                | ParticipantStatus::Busy
                | ParticipantStatus::Failed
                | ParticipantStatus::Canceled
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferMode {
    /// Consult the target first; the customer may be held meanwhile.
    Warm,
    /// Hand over at once; the customer hears hold music until the target answers.
    Cold,
}

string_enum!(TransferMode { Warm => "warm", Cold => "cold" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// The target is being dialed.
    Dialing,
    /// Warm: the target is in the conference, talking with the agent.
    Consulting,
    Completed,
    Canceled,
    /// The target did not answer.
    Failed,
}

string_enum!(TransferStatus {
    Dialing => "dialing",
    Consulting => "consulting",
    Completed => "completed",
    Canceled => "canceled",
    Failed => "failed",
});

impl TransferStatus {
    pub fn is_active(self) -> bool {
        matches!(self, TransferStatus::Dialing | TransferStatus::Consulting)
    }
}

/// Why a transfer ended other than by completing: what the transferring agent (and the target)
/// are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferEndReason {
    /// An agent (`ended_by`) called it off.
    Canceled,
    /// The target let it ring out.
    NoAnswer,
    /// The target agent declined it in their browser.
    Declined,
    /// The outside number was busy.
    Busy,
    /// The target could not be reached (Twilio could not place the leg).
    Unreachable,
    /// The target agent signed out (or was deactivated) while it rang.
    TargetSignedOut,
    /// The target hung up: before joining, or during the consultation.
    TargetHungUp,
    /// The call ended (the customer hung up) before the transfer completed.
    CallEnded,
}

string_enum!(TransferEndReason {
    Canceled => "canceled",
    NoAnswer => "no_answer",
    Declined => "declined",
    Busy => "busy",
    Unreachable => "unreachable",
    TargetSignedOut => "target_signed_out",
    TargetHungUp => "target_hung_up",
    CallEnded => "call_ended",
});

impl TransferEndReason {
    /// Why a transfer whose target's leg ended without joining failed. Twilio reports a
    /// browser's reject as `busy`: for an agent that is a decline, for a phone a busy line.
    pub fn of_missed_leg(status: ParticipantStatus, target_is_agent: bool) -> Self {
        match status {
            ParticipantStatus::Busy if target_is_agent => Self::Declined,
            ParticipantStatus::Busy => Self::Busy,
            ParticipantStatus::NoAnswer => Self::NoAnswer,
            ParticipantStatus::Failed => Self::Unreachable,
            ParticipantStatus::Canceled => Self::Canceled,
            // Answered (or joined), then gone before the hand-over.
            ParticipantStatus::Left
            | ParticipantStatus::Connected
            | ParticipantStatus::Dialing
            | ParticipantStatus::Ringing => Self::TargetHungUp,
        }
    }
}

/// What a transfer target hears on answering, before joining the customer: who the call comes
/// from, whether that agent is still there (warm) or already gone (cold), and the note.
pub fn transfer_whisper(
    mode: TransferMode,
    from_agent: Option<&str>,
    note: Option<&str>,
) -> String {
    let from = from_agent.unwrap_or("a colleague");
    let mut text = match mode {
        TransferMode::Warm => format!("Transfer from {from}, who is on the line to brief you."),
        TransferMode::Cold => format!(
            "Transferred call from {from}, who has already left the call. The customer is on hold, waiting for you."
        ),
    };
    if let Some(note) = note {
        text.push_str(" Their note: ");
        text.push_str(note);
    }
    text
}

/// The longest handover note, in characters.
pub const MAX_HANDOVER_NOTE_CHARS: usize = 500;

/// What the transferring agent tells the target about the call: one line of at most
/// [`MAX_HANDOVER_NOTE_CHARS`] characters, no control characters. Blank means no note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverNote(String);

impl HandoverNote {
    pub fn parse(raw: &str) -> Result<Option<Self>, ValidationError> {
        let note = raw.trim();
        if note.chars().count() > MAX_HANDOVER_NOTE_CHARS {
            return Err(ValidationError::new(
                "note",
                format!("must be at most {MAX_HANDOVER_NOTE_CHARS} characters"),
            ));
        }
        if note.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "note",
                "must not contain control characters (line breaks included)",
            ));
        }
        Ok((!note.is_empty()).then(|| Self(note.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A customer call and what we know of it.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: Uuid,
    pub customer_call_sid: CallSid,
    pub from_number: String,
    pub to_number: String,
    pub conference_name: String,
    pub conference_sid: Option<ConferenceSid>,
    pub status: CallStatus,
    pub owner_agent_id: Option<Uuid>,
    pub queued_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Offer the call to this agent first: their browser dropped it (and they may be back).
    pub prefer_agent_id: Option<Uuid>,
    /// Never offer the call to this agent: they left it on purpose.
    pub avoid_agent_id: Option<Uuid>,
}

/// One leg of a call's conference: the customer, an agent, or an outside number.
#[derive(Debug, Clone)]
pub struct Participant {
    pub id: Uuid,
    pub call_id: Uuid,
    pub kind: ParticipantKind,
    pub agent_id: Option<Uuid>,
    pub phone: Option<String>,
    pub call_sid: Option<CallSid>,
    pub status: ParticipantStatus,
    pub on_hold: bool,
    pub muted: bool,
    pub end_conference_on_exit: bool,
    pub flags_sequence: i32,
    pub created_at: DateTime<Utc>,
    pub joined_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    /// When Twilio reported this leg's call over.
    pub call_ended_at: Option<DateTime<Utc>>,
    /// How a supervisor's leg is on the call (set exactly for [`ParticipantKind::Supervisor`]).
    pub monitor_mode: Option<MonitorMode>,
}

/// A hand-over of a call from one agent to another agent or an outside number.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub id: Uuid,
    pub call_id: Uuid,
    pub from_agent_id: Option<Uuid>,
    pub to_agent_id: Option<Uuid>,
    pub to_number: Option<String>,
    pub mode: TransferMode,
    pub status: TransferStatus,
    pub target_participant_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The transferring agent's note for the target.
    pub note: Option<String>,
    /// Why it ended, when it ended other than by completing.
    pub end_reason: Option<TransferEndReason>,
    /// The agent who called it off.
    pub ended_by: Option<Uuid>,
    /// It failed and the customer went back to the queue.
    pub requeued: bool,
}

/// The leg status a call-progress callback implies, before the conference says more.
pub fn leg_status(status: TwilioCallStatus) -> ParticipantStatus {
    match status {
        TwilioCallStatus::Queued | TwilioCallStatus::Initiated | TwilioCallStatus::Unknown => {
            ParticipantStatus::Dialing
        }
        TwilioCallStatus::Ringing => ParticipantStatus::Ringing,
        // Answered; it becomes `connected` when the conference reports the join.
        TwilioCallStatus::InProgress => ParticipantStatus::Ringing,
        TwilioCallStatus::Completed => ParticipantStatus::Left,
        TwilioCallStatus::Busy => ParticipantStatus::Busy,
        TwilioCallStatus::Failed => ParticipantStatus::Failed,
        TwilioCallStatus::NoAnswer => ParticipantStatus::NoAnswer,
        TwilioCallStatus::Canceled => ParticipantStatus::Canceled,
    }
}

/// The conference events Twilio delivers (`StatusCallbackEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConferenceEvent {
    ConferenceStart,
    ConferenceEnd,
    ParticipantJoin,
    ParticipantLeave,
    ParticipantHold,
    ParticipantUnhold,
    ParticipantMute,
    ParticipantUnmute,
    ParticipantModify,
    /// Events we subscribe to for completeness but do not act on (speaker, announcements).
    Other,
}

impl ConferenceEvent {
    pub fn parse(s: &str) -> Self {
        match s {
            "conference-start" => Self::ConferenceStart,
            "conference-end" => Self::ConferenceEnd,
            "participant-join" => Self::ParticipantJoin,
            "participant-leave" => Self::ParticipantLeave,
            "participant-hold" => Self::ParticipantHold,
            "participant-unhold" => Self::ParticipantUnhold,
            "participant-mute" => Self::ParticipantMute,
            "participant-unmute" => Self::ParticipantUnmute,
            "participant-modify" => Self::ParticipantModify,
            _ => Self::Other,
        }
    }
}

/// How many times one caller is put back into their conference after it failed under them,
/// before they hear an apology instead (a conference that keeps failing must not loop forever).
pub const MAX_CUSTOMER_REJOINS: u32 = 3;

/// What to do with a customer whose `<Dial><Conference>` ended (Twilio's `<Dial action>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCustomerDial {
    /// The call is over: hang up; the status callbacks close the record.
    HangUp,
    /// The caller is still on the line but out of the conference: put them back in.
    Rejoin,
    /// Rejoined too often: apologise, hang up, and close the call.
    GiveUp,
}

/// Decides what follows the customer's `<Dial>`.
///
/// `dial_status` is Twilio's `DialCallStatus`: `completed` (or `answered`) means the caller was
/// in the conference and it ended, which by design happens only when the caller or an owner
/// ends the call; any other status means the conference never took them in (a failed
/// `waitUrl`). `caller_gone` is Twilio's `CallStatus` saying the caller already hung up.
/// `call_live` is whether our record of the call is still open (`None`: not known, e.g. the
/// database is unreachable or never stored the call, which errs on keeping the caller).
pub fn after_customer_dial(
    dial_status: &str,
    caller_gone: bool,
    call_live: Option<bool>,
    rejoins: u32,
) -> AfterCustomerDial {
    let connected_then_ended = matches!(dial_status, "completed" | "answered");
    if caller_gone || connected_then_ended || call_live == Some(false) {
        AfterCustomerDial::HangUp
    } else if rejoins < MAX_CUSTOMER_REJOINS {
        AfterCustomerDial::Rejoin
    } else {
        AfterCustomerDial::GiveUp
    }
}

/// The conference that holds one customer call. Named after the customer's call SID, so even
/// the fallback route (which can't reach the database) puts the caller in the right room.
pub fn conference_name(customer: &CallSid) -> String {
    format!("wt_{}", customer.as_str())
}

/// The customer call SID a conference name came from.
pub fn customer_sid_from_conference(name: &str) -> Option<CallSid> {
    name.strip_prefix("wt_")
        .and_then(|sid| CallSid::parse(sid).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_text() {
        for s in CallStatus::ALL {
            assert_eq!(s.as_str().parse::<CallStatus>().unwrap(), *s);
        }
        for s in ParticipantStatus::ALL {
            assert_eq!(s.as_str().parse::<ParticipantStatus>().unwrap(), *s);
        }
        for s in TransferStatus::ALL {
            assert_eq!(s.as_str().parse::<TransferStatus>().unwrap(), *s);
        }
        for s in TransferEndReason::ALL {
            assert_eq!(s.as_str().parse::<TransferEndReason>().unwrap(), *s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(
            serde_json::to_value(CallStatus::InProgress).unwrap(),
            "in_progress"
        );
    }

    #[test]
    fn a_missed_transfer_says_why_in_the_targets_terms() {
        use ParticipantStatus as P;
        use TransferEndReason as R;
        assert_eq!(R::of_missed_leg(P::Busy, true), R::Declined);
        assert_eq!(R::of_missed_leg(P::Busy, false), R::Busy);
        assert_eq!(R::of_missed_leg(P::NoAnswer, true), R::NoAnswer);
        assert_eq!(R::of_missed_leg(P::NoAnswer, false), R::NoAnswer);
        assert_eq!(R::of_missed_leg(P::Failed, false), R::Unreachable);
        assert_eq!(R::of_missed_leg(P::Left, true), R::TargetHungUp);
    }

    #[test]
    fn a_cold_transfer_target_hears_the_first_agent_is_gone() {
        let cold = transfer_whisper(TransferMode::Cold, Some("Ana"), None);
        assert!(cold.contains("Ana, who has already left"), "{cold}");
        assert!(!cold.to_lowercase().contains("connecting you with"));
        let warm = transfer_whisper(TransferMode::Warm, Some("Ana"), Some("wants a refund"));
        assert!(warm.contains("Ana, who is on the line"), "{warm}");
        assert!(warm.ends_with("Their note: wants a refund"), "{warm}");
        assert!(transfer_whisper(TransferMode::Cold, None, None).contains("a colleague"));
    }

    #[test]
    fn handover_notes_are_one_bounded_line() {
        assert_eq!(HandoverNote::parse("   ").unwrap(), None);
        assert_eq!(
            HandoverNote::parse("  wants a refund  ")
                .unwrap()
                .unwrap()
                .as_str(),
            "wants a refund"
        );
        assert!(HandoverNote::parse(&"é".repeat(MAX_HANDOVER_NOTE_CHARS)).is_ok());
        let long = HandoverNote::parse(&"x".repeat(MAX_HANDOVER_NOTE_CHARS + 1)).unwrap_err();
        assert_eq!(long.field, "note");
        for bad in ["two\nlines", "tab\there", "bell\u{7}", "nul\0"] {
            assert_eq!(
                HandoverNote::parse(bad).unwrap_err().field,
                "note",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_caller_the_conference_never_took_in_is_rejoined_a_bounded_number_of_times() {
        use AfterCustomerDial::*;
        assert_eq!(after_customer_dial("failed", false, Some(true), 0), Rejoin);
        assert_eq!(after_customer_dial("failed", false, None, 0), Rejoin);
        assert_eq!(
            after_customer_dial("failed", false, Some(true), MAX_CUSTOMER_REJOINS - 1),
            Rejoin
        );
        assert_eq!(
            after_customer_dial("failed", false, Some(true), MAX_CUSTOMER_REJOINS),
            GiveUp
        );
    }

    #[test]
    fn a_dial_that_ended_normally_or_for_a_closed_call_hangs_up() {
        use AfterCustomerDial::*;
        assert_eq!(
            after_customer_dial("completed", false, Some(true), 0),
            HangUp
        );
        assert_eq!(after_customer_dial("answered", false, None, 0), HangUp);
        assert_eq!(after_customer_dial("failed", true, Some(true), 0), HangUp);
        assert_eq!(after_customer_dial("failed", false, Some(false), 0), HangUp);
    }

    #[test]
    fn twilio_statuses_map_to_leg_states() {
        assert_eq!(
            leg_status("no-answer".parse().unwrap()),
            ParticipantStatus::NoAnswer
        );
        assert_eq!(leg_status("busy".parse().unwrap()), ParticipantStatus::Busy);
        assert!(leg_status("in-progress".parse().unwrap()).is_pending());
        assert!("bogus".parse::<TwilioCallStatus>().is_err());
    }

    #[test]
    fn conference_names_come_from_the_customer_sid() {
        let sid = CallSid::parse("CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
        let name = conference_name(&sid);
        assert_eq!(customer_sid_from_conference(&name), Some(sid));
        assert_eq!(customer_sid_from_conference("other"), None);
        assert!(CallSid::parse("CF0123456789abcdef0123456789abcdef").is_err());
    }
}
