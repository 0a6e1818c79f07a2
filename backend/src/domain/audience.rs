//! Who may see a live event: agents see their own calls, the queue and the team; supervisors
//! and admins see everything. The same rule decides who may read a call's detail.

use uuid::Uuid;

use super::agent::Role;
use super::call::{Call, Participant, Transfer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every signed-in agent (the queue, the team's presence).
    Everyone,
    /// Supervisors and admins, and these agents.
    AdminsAnd(Vec<Uuid>),
}

impl Audience {
    pub fn admits(&self, viewer: Uuid, role: Role) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::AdminsAnd(agents) => role.may_supervise() || agents.contains(&viewer),
        }
    }
}

/// The agents a call concerns: its owner, every agent who has or had a leg in it, and every
/// agent a transfer of it was aimed at or made by (a target is told before their leg exists).
pub fn call_audience(
    call: &Call,
    participants: &[Participant],
    transfers: &[Transfer],
) -> Audience {
    let mut agents: Vec<Uuid> = call
        .owner_agent_id
        .into_iter()
        .chain(participants.iter().filter_map(|p| p.agent_id))
        .chain(
            transfers
                .iter()
                .flat_map(|t| [t.from_agent_id, t.to_agent_id])
                .flatten(),
        )
        .collect();
    agents.sort_unstable();
    agents.dedup();
    Audience::AdminsAnd(agents)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::call::{
        CallSid, CallStatus, ParticipantKind, ParticipantStatus, TransferMode, TransferStatus,
    };

    fn call(owner: Option<Uuid>) -> Call {
        Call {
            id: Uuid::new_v4(),
            customer_call_sid: CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap(),
            from_number: "+14155550100".into(),
            to_number: "+14155550199".into(),
            conference_name: "c".into(),
            conference_sid: None,
            status: CallStatus::InProgress,
            owner_agent_id: owner,
            queued_at: Utc::now(),
            created_at: Utc::now(),
            answered_at: None,
            ended_at: None,
            prefer_agent_id: None,
            avoid_agent_id: None,
        }
    }

    fn leg(call: &Call, agent: Option<Uuid>, phone: Option<&str>) -> Participant {
        Participant {
            id: Uuid::new_v4(),
            call_id: call.id,
            kind: if agent.is_some() {
                ParticipantKind::Agent
            } else {
                ParticipantKind::Customer
            },
            agent_id: agent,
            phone: phone.map(Into::into),
            call_sid: None,
            status: ParticipantStatus::Left,
            on_hold: false,
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

    fn transfer(call: &Call, from: Uuid, to: Option<Uuid>) -> Transfer {
        Transfer {
            id: Uuid::new_v4(),
            call_id: call.id,
            from_agent_id: Some(from),
            to_agent_id: to,
            to_number: to.is_none().then(|| "+14155550123".into()),
            mode: TransferMode::Warm,
            status: TransferStatus::Dialing,
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

    #[test]
    fn everyone_admits_every_role() {
        assert!(Audience::Everyone.admits(Uuid::new_v4(), Role::Agent));
        assert!(Audience::Everyone.admits(Uuid::new_v4(), Role::Admin));
    }

    #[test]
    fn a_waiting_call_concerns_admins_only() {
        let c = call(None);
        let audience = call_audience(&c, &[leg(&c, None, Some("+14155550100"))], &[]);
        assert_eq!(audience, Audience::AdminsAnd(vec![]));
        assert!(!audience.admits(Uuid::new_v4(), Role::Agent));
        assert!(audience.admits(Uuid::new_v4(), Role::Admin));
        assert!(audience.admits(Uuid::new_v4(), Role::Supervisor));
    }

    #[test]
    fn owner_past_and_present_legs_and_transfer_targets_are_admitted_and_nobody_else() {
        let (owner, left_earlier, target, stranger) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let c = call(Some(owner));
        let legs = [
            leg(&c, None, Some("+14155550100")),
            leg(&c, Some(owner), None),
            leg(&c, Some(left_earlier), None),
        ];
        let transfers = [transfer(&c, owner, Some(target)), transfer(&c, owner, None)];
        let audience = call_audience(&c, &legs, &transfers);
        for agent in [owner, left_earlier, target] {
            assert!(audience.admits(agent, Role::Agent), "{agent}");
        }
        assert!(!audience.admits(stranger, Role::Agent));
        let Audience::AdminsAnd(agents) = audience else {
            panic!("a call is never for everyone")
        };
        assert_eq!(agents.len(), 3, "each agent once: {agents:?}");
    }
}
