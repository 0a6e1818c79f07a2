//! The live board: what each live call is doing now, as supervisors see it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::agent::AgentStatus;
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
            let agent_on = participants.iter().filter(connected).any(|p| {
                !matches!(
                    p.kind,
                    ParticipantKind::Customer | ParticipantKind::Supervisor
                )
            });
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

/// Why a call cannot be moved to the front of the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontRefusal {
    #[error("only a queued call can be moved; this one is {0}")]
    NotQueued(CallStatus),
    #[error("the call is already first in the queue")]
    AlreadyFirst,
}

/// The queue position (`queued_at`) that puts a queued call first: just before the first of
/// the others waiting (`(queued_at, id)`, the router's order). The caller's wait is still
/// counted from when they called.
pub fn front_of_queue(
    call: &Call,
    first_other: Option<(DateTime<Utc>, Uuid)>,
) -> Result<DateTime<Utc>, FrontRefusal> {
    if call.status != CallStatus::Queued {
        return Err(FrontRefusal::NotQueued(call.status));
    }
    match first_other {
        Some(first) if first < (call.queued_at, call.id) => Ok(first.0 - Duration::milliseconds(1)),
        _ => Err(FrontRefusal::AlreadyFirst),
    }
}

/// Why a waiting call cannot be given to an agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignRefusal {
    #[error("only a queued call can be given to an agent; this one is {0}")]
    NotQueued(CallStatus),
    #[error("the agent is not taking calls ({0})")]
    AgentNotTakingCalls(AgentStatus),
    #[error("the agent is deactivated")]
    AgentInactive,
}

/// Giving a queued call to an agent: it goes first in line (its new `queued_at`, when it is
/// not first already) and is offered to that agent as soon as they are free. The agent must be
/// taking calls (available, or on or finishing a call); the caller is never held back for them:
/// if someone else frees up first, they take it.
pub fn assign_to(
    call: &Call,
    agent_status: AgentStatus,
    agent_active: bool,
    first_other: Option<(DateTime<Utc>, Uuid)>,
) -> Result<Option<DateTime<Utc>>, AssignRefusal> {
    if call.status != CallStatus::Queued {
        return Err(AssignRefusal::NotQueued(call.status));
    }
    if !agent_active {
        return Err(AssignRefusal::AgentInactive);
    }
    if matches!(agent_status, AgentStatus::Offline | AgentStatus::Away) {
        return Err(AssignRefusal::AgentNotTakingCalls(agent_status));
    }
    match front_of_queue(call, first_other) {
        Ok(at) => Ok(Some(at)),
        Err(FrontRefusal::AlreadyFirst) => Ok(None),
        Err(FrontRefusal::NotQueued(s)) => Err(AssignRefusal::NotQueued(s)),
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
            monitor_mode: None,
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
            note: None,
            end_reason: None,
            ended_by: None,
            requeued: false,
        }
    }

    use ParticipantKind::{Agent, Customer};
    use ParticipantStatus::{Connected, Left};

    #[test]
    fn a_queued_call_moves_just_before_the_first_in_line() {
        let mut c = call(CallStatus::Queued);
        let first = (c.queued_at - Duration::seconds(30), Uuid::new_v4());
        assert_eq!(
            front_of_queue(&c, Some(first)),
            Ok(first.0 - Duration::milliseconds(1))
        );
        // Already first: alone in the queue, or ahead of the others.
        assert_eq!(front_of_queue(&c, None), Err(FrontRefusal::AlreadyFirst));
        let later = (c.queued_at + Duration::seconds(1), Uuid::new_v4());
        assert_eq!(
            front_of_queue(&c, Some(later)),
            Err(FrontRefusal::AlreadyFirst)
        );
        // Same instant: the id breaks the tie, as the router does.
        c.id = Uuid::from_u128(2);
        let tie = (c.queued_at, Uuid::from_u128(1));
        assert!(front_of_queue(&c, Some(tie)).is_ok());
        c.id = Uuid::from_u128(0);
        assert_eq!(
            front_of_queue(&c, Some(tie)),
            Err(FrontRefusal::AlreadyFirst)
        );
        // Ringing, talking or over: not in the queue to reorder.
        for status in [
            CallStatus::Ringing,
            CallStatus::InProgress,
            CallStatus::Completed,
        ] {
            assert_eq!(
                front_of_queue(&call(status), Some(first)),
                Err(FrontRefusal::NotQueued(status))
            );
        }
    }

    #[test]
    fn a_queued_call_is_given_to_an_agent_taking_calls_and_goes_first() {
        let c = call(CallStatus::Queued);
        let first = (c.queued_at - Duration::seconds(30), Uuid::new_v4());
        for status in [
            AgentStatus::Available,
            AgentStatus::Reserved,
            AgentStatus::Busy,
            AgentStatus::WrapUp,
        ] {
            assert_eq!(
                assign_to(&c, status, true, Some(first)),
                Ok(Some(first.0 - Duration::milliseconds(1)))
            );
        }
        // Already first: it keeps its place.
        assert_eq!(assign_to(&c, AgentStatus::Busy, true, None), Ok(None));
        for status in [AgentStatus::Offline, AgentStatus::Away] {
            assert_eq!(
                assign_to(&c, status, true, None),
                Err(AssignRefusal::AgentNotTakingCalls(status))
            );
        }
        assert_eq!(
            assign_to(&c, AgentStatus::Available, false, None),
            Err(AssignRefusal::AgentInactive)
        );
        assert_eq!(
            assign_to(
                &call(CallStatus::InProgress),
                AgentStatus::Available,
                true,
                None
            ),
            Err(AssignRefusal::NotQueued(CallStatus::InProgress))
        );
    }

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
