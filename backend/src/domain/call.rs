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
}

string_enum!(ParticipantKind { Customer => "customer", Agent => "agent", External => "external" });

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
        assert_eq!(
            serde_json::to_value(CallStatus::InProgress).unwrap(),
            "in_progress"
        );
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
