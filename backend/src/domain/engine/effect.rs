//! Twilio requests the engine decides on; the service layer carries them out after commit.

use uuid::Uuid;

use crate::domain::call::{CallSid, ConferenceSid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Place a leg (agent browser or phone number) that joins the call's conference when answered.
    Dial {
        call_id: Uuid,
        participant_id: Uuid,
        to: String,
        conference: String,
        /// A supervisor's leg: it joins muted and unannounced even from the fallback URL, which
        /// answers without the database.
        supervisor: bool,
    },
    /// End a leg whatever its state: ringing, answered on its way in, or in the conference.
    HangUp { call_id: Uuid, call_sid: CallSid },
    Hold {
        call_id: Uuid,
        conference_sid: ConferenceSid,
        call_sid: CallSid,
        hold: bool,
    },
    Mute {
        call_id: Uuid,
        conference_sid: ConferenceSid,
        call_sid: CallSid,
        muted: bool,
    },
    /// Hands the conference's lifetime to a participant, or takes it back (the participant must
    /// not be on hold: Twilio silently ignores this change for held participants).
    EndConferenceOnExit {
        call_id: Uuid,
        conference_sid: ConferenceSid,
        call_sid: CallSid,
        value: bool,
    },
    Remove {
        call_id: Uuid,
        conference_sid: ConferenceSid,
        call_sid: CallSid,
    },
    /// Sets how a supervisor's leg is heard: by nobody (`muted`), by the agent it coaches only
    /// (`coach`), or by everyone.
    Monitor {
        call_id: Uuid,
        conference_sid: ConferenceSid,
        call_sid: CallSid,
        muted: bool,
        coach: Option<CallSid>,
    },
}

impl Effect {
    pub fn call_id(&self) -> Uuid {
        match self {
            Effect::Dial { call_id, .. }
            | Effect::HangUp { call_id, .. }
            | Effect::Hold { call_id, .. }
            | Effect::Mute { call_id, .. }
            | Effect::EndConferenceOnExit { call_id, .. }
            | Effect::Remove { call_id, .. }
            | Effect::Monitor { call_id, .. } => *call_id,
        }
    }
}
