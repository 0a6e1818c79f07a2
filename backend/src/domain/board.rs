//! The live board: what each live call is doing now, as supervisors see it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::call::{Call, CallStatus, Participant, ParticipantKind, ParticipantStatus, Transfer};

/// What a live call is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiveCallState {
    /// The caller waits for an agent (also after an agent left and the call went back).
    Queued,
    /// An agent's phone is ringing for it.
    Ringing,
    /// The caller talks with an agent.
    Talking,
    /// The caller hears hold music.
    OnHold,
    /// A transfer is under way: its target is being dialed or consulted.
    Consulting,
}

/// The state of a call from its legs and transfers; `None` once the call is over.
pub fn live_state(
    call: &Call,
    participants: &[Participant],
    transfers: &[Transfer],
) -> Option<LiveCallState> {
    match call.status {
        s if s.is_final() => None,
        CallStatus::Queued => Some(LiveCallState::Queued),
        CallStatus::Ringing => Some(LiveCallState::Ringing),
        _ => {
            if transfers.iter().any(|t| t.status.is_active()) {
                return Some(LiveCallState::Consulting);
            }
            let connected = |p: &&Participant| p.status == ParticipantStatus::Connected;
            let customer_held = participants
                .iter()
                .filter(connected)
                .any(|p| p.kind == ParticipantKind::Customer && p.on_hold);
            let agent_on = participants
                .iter()
                .filter(connected)
                .any(|p| p.kind != ParticipantKind::Customer);
            Some(if customer_held {
                LiveCallState::OnHold
            } else if agent_on {
                LiveCallState::Talking
            } else {
                LiveCallState::Queued
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::domain::call::{CallSid, TransferMode, TransferStatus};

    fn call(status: CallStatus) -> Call {
        Call {
            id: Uuid::new_v4(),
            customer_call_sid: CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
            from_number: "+14155550100".into(),
            to_number: "+14155550199".into(),
            conference_name: "c".into(),
            conference_sid: None,
            status,
            owner_agent_id: None,
            queued_at: Utc::now(),
            created_at: Utc::now(),
            answered_at: None,
            ended_at: None,
            prefer_agent_id: None,
            avoid_agent_id: None,
        }
    }

    fn leg(kind: ParticipantKind, status: ParticipantStatus, on_hold: bool) -> Participant {
        Participant {
            id: Uuid::new_v4(),
            call_id: Uuid::nil(),
            kind,
            agent_id: (kind == ParticipantKind::Agent).then(Uuid::new_v4),
            phone: None,
            call_sid: None,
            status,
            on_hold,
            muted: false,
            end_conference_on_exit: false,
            flags_sequence: 0,
            created_at: Utc::now(),
            joined_at: None,
            left_at: None,
            call_ended_at: None,
        }
    }

    fn transfer(status: TransferStatus) -> Transfer {
        Transfer {
            id: Uuid::new_v4(),
            call_id: Uuid::nil(),
            from_agent_id: Some(Uuid::new_v4()),
            to_agent_id: Some(Uuid::new_v4()),
            to_number: None,
            mode: TransferMode::Warm,
            status,
            target_participant_id: None,
            created_at: Utc::now(),
            answered_at: None,
            ended_at: None,
        }
    }

    use ParticipantKind::{Agent, Customer};
    use ParticipantStatus::{Connected, Left};

    #[test]
    fn an_ended_call_has_no_live_state() {
        for status in [
            CallStatus::Completed,
            CallStatus::Abandoned,
            CallStatus::Failed,
        ] {
            assert_eq!(live_state(&call(status), &[], &[]), None);
        }
    }

    #[test]
    fn waiting_and_ringing_calls_say_so() {
        assert_eq!(
            live_state(
                &call(CallStatus::Queued),
                &[leg(Customer, Connected, false)],
                &[]
            ),
            Some(LiveCallState::Queued)
        );
        assert_eq!(
            live_state(&call(CallStatus::Ringing), &[], &[]),
            Some(LiveCallState::Ringing)
        );
    }

    #[test]
    fn a_call_in_progress_talks_holds_or_consults() {
        let c = call(CallStatus::InProgress);
        let talking = [
            leg(Customer, Connected, false),
            leg(Agent, Connected, false),
        ];
        assert_eq!(live_state(&c, &talking, &[]), Some(LiveCallState::Talking));
        let held = [leg(Customer, Connected, true), leg(Agent, Connected, false)];
        assert_eq!(live_state(&c, &held, &[]), Some(LiveCallState::OnHold));
        // A transfer under way wins over hold: the customer is held *because* of it.
        for status in [TransferStatus::Dialing, TransferStatus::Consulting] {
            assert_eq!(
                live_state(&c, &held, &[transfer(status)]),
                Some(LiveCallState::Consulting)
            );
        }
        // Finished transfers no longer count.
        assert_eq!(
            live_state(&c, &talking, &[transfer(TransferStatus::Completed)]),
            Some(LiveCallState::Talking)
        );
    }

    #[test]
    fn a_call_whose_agents_all_left_is_waiting_again() {
        let c = call(CallStatus::InProgress);
        let alone = [leg(Customer, Connected, false), leg(Agent, Left, false)];
        assert_eq!(live_state(&c, &alone, &[]), Some(LiveCallState::Queued));
    }
}
