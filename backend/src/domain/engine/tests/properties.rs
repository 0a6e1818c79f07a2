//! Random sequences of inputs, in any order, against the engine core: Twilio's callbacks for
//! any leg at any time (late, repeated, reordered, or never), agents' requests, the router's
//! offers, timers and reconciliation results. After every step the product's promises hold.
//! A failure shrinks to a minimal sequence; `PROPTEST_CASES` runs more cases.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::domain::presence::{decide_wrap_up, WrapUp, WrapUpMove, WrapUpRequest, WrapUpSettings};

/// One step of the world around the engine.
#[derive(Debug, Clone)]
enum Step {
    /// The router offers the call to an agent (only when it would: queued, caller present,
    /// agent available with no live leg).
    Offer(usize),
    /// The dialer learns a new leg's call SID.
    LearnSid(usize),
    Progress(usize, TwilioCallStatus),
    DialFailed(usize),
    Join(usize),
    Leave {
        leg: usize,
        call_goes_on: bool,
        ended_around: bool,
    },
    /// The customer's own conference events: dropped out (their call going on or not), back in.
    CustomerLeave {
        call_goes_on: bool,
    },
    CustomerJoin,
    Flag {
        leg: usize,
        event: ConferenceEvent,
        sequence: Option<i64>,
    },
    ConferenceEnd,
    CustomerGone,
    EndCall,
    /// An agent signs out on the call: handed back, then offline.
    SignOut(usize),
    Act {
        actor: usize,
        admin: bool,
        action: ActionKind,
    },
    /// Time passes (`secs`) and the wrap-up clock ticks, or an agent finishes or extends their
    /// wrap-up: the wrap-up rules, outside the call's engine.
    WrapUp {
        agent: usize,
        request: WrapUpRequest,
        secs: i64,
    },
    /// The call's disposition is filed.
    Dispose,
}

#[derive(Debug, Clone)]
enum ActionKind {
    TransferToAgent {
        agent: usize,
        mode: TransferMode,
        hold: bool,
    },
    TransferToNumber {
        mode: TransferMode,
        hold: bool,
    },
    Complete,
    Cancel,
    Hold(usize, bool),
    Mute(usize, bool),
    Remove(usize),
    Leave,
    ToQueue,
    HangUp,
}

const AGENTS: [u128; 3] = [ALICE, BOB, CAROL];

fn twilio_status() -> impl Strategy<Value = TwilioCallStatus> {
    prop_oneof![
        Just(TwilioCallStatus::Ringing),
        Just(TwilioCallStatus::InProgress),
        Just(TwilioCallStatus::Completed),
        Just(TwilioCallStatus::NoAnswer),
        Just(TwilioCallStatus::Busy),
        Just(TwilioCallStatus::Failed),
        Just(TwilioCallStatus::Canceled),
    ]
}

fn mode() -> impl Strategy<Value = TransferMode> {
    prop_oneof![Just(TransferMode::Warm), Just(TransferMode::Cold)]
}

fn action() -> impl Strategy<Value = ActionKind> {
    prop_oneof![
        (0..3usize, mode(), any::<bool>())
            .prop_map(|(agent, mode, hold)| ActionKind::TransferToAgent { agent, mode, hold }),
        (mode(), any::<bool>())
            .prop_map(|(mode, hold)| ActionKind::TransferToNumber { mode, hold }),
        Just(ActionKind::Complete),
        Just(ActionKind::Cancel),
        (0..8usize, any::<bool>()).prop_map(|(l, on)| ActionKind::Hold(l, on)),
        (0..8usize, any::<bool>()).prop_map(|(l, on)| ActionKind::Mute(l, on)),
        (0..8usize).prop_map(ActionKind::Remove),
        Just(ActionKind::Leave),
        Just(ActionKind::ToQueue),
        Just(ActionKind::HangUp),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let leg = 0..8usize;
    // Weighted so most sequences get far into a call (answers, transfers, drops) before the
    // rarer steps that end it.
    prop_oneof![
        12 => (0..3usize).prop_map(Step::Offer),
        12 => leg.clone().prop_map(Step::LearnSid),
        14 => (leg.clone(), twilio_status()).prop_map(|(l, s)| Step::Progress(l, s)),
        2 => leg.clone().prop_map(Step::DialFailed),
        16 => leg.clone().prop_map(Step::Join),
        8 => (leg.clone(), prop::bool::weighted(0.1))
            .prop_map(|(leg, ended_around)| Step::Leave { leg, call_goes_on: false, ended_around }),
        4 => (leg, prop_oneof![
                Just(ConferenceEvent::ParticipantHold),
                Just(ConferenceEvent::ParticipantUnhold),
                Just(ConferenceEvent::ParticipantMute),
                Just(ConferenceEvent::ParticipantModify),
            ], prop::option::of(0..20i64))
            .prop_map(|(leg, event, sequence)| Step::Flag { leg, event, sequence }),
        1 => any::<bool>().prop_map(|call_goes_on| Step::CustomerLeave { call_goes_on }),
        2 => Just(Step::CustomerJoin),
        1 => Just(Step::ConferenceEnd),
        1 => Just(Step::CustomerGone),
        1 => Just(Step::EndCall),
        2 => (0..3usize).prop_map(Step::SignOut),
        30 => (0..3usize, prop::bool::weighted(0.1), action())
            .prop_map(|(actor, admin, action)| Step::Act { actor, admin, action }),
        6 => (0..3usize, prop_oneof![
                Just(WrapUpRequest::Tick),
                Just(WrapUpRequest::Finish),
                Just(WrapUpRequest::Extend),
            ], 0..400i64)
            .prop_map(|(agent, request, secs)| Step::WrapUp { agent, request, secs }),
        1 => Just(Step::Dispose),
    ]
}

/// An agent's timed wrap-up, as stored beside their status.
#[derive(Debug, Clone, Copy)]
struct Wrapping {
    until: chrono::DateTime<chrono::Utc>,
    extended: bool,
}

struct World {
    state: CallSnapshot,
    next_id: u128,
    settings: WrapUpSettings,
    wrapping: HashMap<Uuid, Wrapping>,
    disposed: bool,
}

impl World {
    fn new(settings: WrapUpSettings) -> Self {
        let mut state = queued();
        state.wrap_up_seconds = settings.seconds;
        Self {
            state,
            next_id: 1000,
            settings,
            wrapping: HashMap::new(),
            disposed: false,
        }
    }

    /// Keeps the stored wrap-up details in step with a decision (the store writes them only
    /// while the agent is in wrap-up; any status change clears them).
    fn note_wrap_ups(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Agent { id, .. } => {
                    self.wrapping.remove(id);
                }
                Change::WrapUpStarted {
                    agent_id, until, ..
                } => {
                    self.wrapping.insert(
                        *agent_id,
                        Wrapping {
                            until: *until,
                            extended: false,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    /// A wrap-up step by the wrap-up rules; checks their promises and applies the outcome.
    fn wrap_up_step(
        &mut self,
        agent: usize,
        request: WrapUpRequest,
        secs: i64,
    ) -> Result<(), TestCaseError> {
        if request == WrapUpRequest::Tick {
            self.state.now += chrono::Duration::seconds(secs);
        }
        let now = self.state.now;
        let agent_id = id(AGENTS[agent]);
        let Some(status) = self.state.agent(agent_id).map(|a| a.status) else {
            return Ok(());
        };
        let stored = self.wrapping.get(&agent_id).copied();
        let live_leg = self.state.agent_has_live_leg(agent_id);
        let wrap_up = WrapUp {
            until: stored.map(|w| w.until),
            extended: stored.is_some_and(|w| w.extended),
            disposed: self.disposed,
            live_leg,
        };
        match decide_wrap_up(status, wrap_up, &self.settings, request, now) {
            Ok(WrapUpMove::Available) => {
                prop_assert_eq!(status, AgentStatus::WrapUp, "freed from {}", status);
                prop_assert!(!live_leg, "freed from wrap-up with a live leg");
                prop_assert!(
                    !self.settings.require_disposition || self.disposed,
                    "freed with a required disposition missing"
                );
                if request == WrapUpRequest::Tick {
                    prop_assert!(stored.is_some_and(|w| w.until <= now), "freed before time");
                }
                let a = self
                    .state
                    .agents
                    .iter_mut()
                    .find(|a| a.id == agent_id)
                    .unwrap();
                a.status = AgentStatus::Available;
                self.wrapping.remove(&agent_id);
            }
            Ok(WrapUpMove::ExtendTo(until)) => {
                let w = stored.expect("extended a wrap-up with no time");
                prop_assert!(!w.extended, "extended twice");
                prop_assert!(until > w.until && until > now);
                self.wrapping.insert(
                    agent_id,
                    Wrapping {
                        until,
                        extended: true,
                    },
                );
            }
            Ok(WrapUpMove::AwaitingDisposition) => {
                prop_assert!(self.settings.require_disposition && !self.disposed);
            }
            Ok(WrapUpMove::Stay) => {}
            Err(_) => prop_assert!(request != WrapUpRequest::Tick, "the clock was refused"),
        }
        Ok(())
    }

    fn fresh_id(&mut self) -> Uuid {
        self.next_id += 1;
        id(self.next_id)
    }

    /// One of the legs we placed (agents and outside numbers), if any.
    fn leg(&self, i: usize) -> Option<&Participant> {
        let legs: Vec<&Participant> = self
            .state
            .participants
            .iter()
            .filter(|p| p.kind != ParticipantKind::Customer)
            .collect();
        (!legs.is_empty()).then(|| legs[i % legs.len()])
    }

    /// Any participant, the customer first: what agents act on.
    fn participant(&self, i: usize) -> Option<&Participant> {
        let all = &self.state.participants;
        all.get(i % all.len())
    }

    fn conference_input(&self, event: ConferenceEvent, p: Option<&Participant>) -> ConferenceInput {
        ConferenceInput {
            event,
            conference_sid: self
                .state
                .call
                .conference_sid
                .clone()
                .unwrap_or_else(|| conference_sid(1)),
            call_sid: p.and_then(|p| p.call_sid.clone()),
            participant_id: p.filter(|p| p.call_sid.is_some()).map(|p| p.id),
            sequence: None,
            hold: None,
            muted: None,
            end_conference_on_exit: None,
            call_goes_on: false,
            conference_ended_around: false,
            reason: None,
        }
    }

    /// The input a step stands for, or `None` when the world would not produce it now.
    fn input(&mut self, step: &Step) -> Option<Input> {
        let s = &self.state;
        Some(match step {
            Step::WrapUp { .. } | Step::Dispose => return None,
            Step::Offer(a) => {
                let agent = id(AGENTS[*a]);
                let view = s.agent(agent)?;
                let routable = s.call.status == CallStatus::Queued
                    && s.customer()?.status == ParticipantStatus::Connected
                    && view.status == AgentStatus::Available
                    && !s.agent_has_live_leg(agent)
                    && s.call.avoid_agent_id != Some(agent);
                if !routable {
                    return None;
                }
                let leg_id = self.fresh_id();
                Input::Offer {
                    agent_id: agent,
                    leg_id,
                    dial_to: format!("client:{a}"),
                }
            }
            Step::LearnSid(l) => {
                let p = self.leg(*l)?.clone();
                if p.call_sid.is_some() {
                    return None;
                }
                let sid = sid_of(p.id.as_u128() as u32);
                self.state
                    .participants
                    .iter_mut()
                    .find(|x| x.id == p.id)?
                    .call_sid = Some(sid);
                return None;
            }
            Step::Progress(l, status) => {
                let p = self.leg(*l)?;
                if p.kind == ParticipantKind::Customer || p.call_sid.is_none() {
                    return None;
                }
                Input::LegProgress {
                    participant_id: p.id,
                    status: *status,
                }
            }
            Step::DialFailed(l) => {
                let p = self.leg(*l)?;
                if p.kind == ParticipantKind::Customer || p.call_sid.is_some() {
                    return None;
                }
                Input::DialFailed {
                    participant_id: p.id,
                }
            }
            Step::Join(l) => {
                let p = self.leg(*l)?;
                p.call_sid.as_ref()?;
                Input::Conference(self.conference_input(ConferenceEvent::ParticipantJoin, Some(p)))
            }
            Step::Leave {
                leg,
                call_goes_on,
                ended_around,
            } => {
                let p = self.leg(*leg)?;
                p.call_sid.as_ref()?;
                let mut cb = self.conference_input(ConferenceEvent::ParticipantLeave, Some(p));
                cb.call_goes_on = *call_goes_on;
                cb.conference_ended_around = *ended_around;
                Input::Conference(cb)
            }
            Step::Flag {
                leg,
                event,
                sequence,
            } => {
                let p = self.leg(*leg)?;
                let mut cb = self.conference_input(*event, Some(p));
                cb.sequence = *sequence;
                Input::Conference(cb)
            }
            Step::CustomerLeave { call_goes_on } => {
                let mut cb = self.conference_input(ConferenceEvent::ParticipantLeave, s.customer());
                cb.call_goes_on = *call_goes_on;
                Input::Conference(cb)
            }
            Step::CustomerJoin => Input::Conference(
                self.conference_input(ConferenceEvent::ParticipantJoin, s.customer()),
            ),
            Step::ConferenceEnd => {
                Input::Conference(self.conference_input(ConferenceEvent::ConferenceEnd, None))
            }
            Step::CustomerGone => Input::CustomerGone,
            Step::EndCall => Input::EndCall {
                reason: "the conference kept failing",
            },
            Step::SignOut(a) => Input::HandBack {
                agent_id: id(AGENTS[*a]),
                reason: "signed out",
            },
            Step::Act {
                actor,
                admin,
                action,
            } => {
                let actor = Actor {
                    id: id(AGENTS[*actor]),
                    supervises: *admin,
                };
                let leg_id =
                    |w: &World, l: &usize| w.participant(*l).map(|p| p.id).unwrap_or_default();
                let transfer = s.transfers.last().map(|t| t.id).unwrap_or_default();
                let action = match action {
                    ActionKind::TransferToAgent { agent, mode, hold } => {
                        let target = AGENTS[*agent];
                        Action::StartTransfer {
                            leg_id: self.fresh_id(),
                            transfer_id: self.fresh_id(),
                            target: TransferTo::Agent {
                                id: id(target),
                                name: format!("agent {agent}"),
                                dial_to: format!("client:{agent}"),
                            },
                            mode: *mode,
                            hold_customer: *hold,
                            note: None,
                        }
                    }
                    ActionKind::TransferToNumber { mode, hold } => Action::StartTransfer {
                        leg_id: self.fresh_id(),
                        transfer_id: self.fresh_id(),
                        target: TransferTo::Number(
                            crate::domain::phone::PhoneNumber::parse("+15005550006").unwrap(),
                        ),
                        mode: *mode,
                        hold_customer: *hold,
                        note: None,
                    },
                    ActionKind::Complete => Action::CompleteTransfer {
                        transfer_id: transfer,
                    },
                    ActionKind::Cancel => Action::CancelTransfer {
                        transfer_id: transfer,
                    },
                    ActionKind::Hold(l, on) => Action::Hold {
                        participant_id: leg_id(self, l),
                        hold: *on,
                    },
                    ActionKind::Mute(l, on) => Action::Mute {
                        participant_id: leg_id(self, l),
                        muted: *on,
                    },
                    ActionKind::Remove(l) => Action::Remove {
                        participant_id: leg_id(self, l),
                    },
                    ActionKind::Leave => Action::Leave,
                    ActionKind::ToQueue => Action::TransferToQueue { note: None },
                    ActionKind::HangUp => Action::HangUp,
                };
                Input::Action { actor, action }
            }
        })
    }
}

/// The state the stored changes lead to, from the state before: what is stored is what was
/// decided.
fn replay(before: &CallSnapshot, changes: &[Change]) -> CallSnapshot {
    let mut s = before.clone();
    for change in changes {
        match change {
            Change::Call(u) => s.call.apply(u),
            Change::Leg { id, update } => s
                .participants
                .iter_mut()
                .find(|p| p.id == *id)
                .expect("a known leg")
                .apply(update),
            Change::NewLeg(leg) => s.participants.push(leg.to_participant(before.now)),
            Change::NewTransfer(t) => s.transfers.push(t.to_transfer(before.now)),
            Change::Transfer { id, status, end } => {
                let t = s
                    .transfers
                    .iter_mut()
                    .find(|t| t.id == *id)
                    .expect("a known transfer");
                t.status = *status;
                if let Some(end) = end {
                    t.end_reason = Some(end.reason);
                    t.ended_by = end.by;
                    t.requeued = end.requeued;
                }
            }
            Change::Agent { id, from, to } => {
                let a = s
                    .agents
                    .iter_mut()
                    .find(|a| a.id == *id)
                    .expect("a known agent");
                assert_eq!(
                    a.status, *from,
                    "a change from a status the agent is not in"
                );
                a.status = *to;
            }
            Change::WrapUpStarted { agent_id, .. } => {
                let a = s.agent(*agent_id).expect("a known agent");
                assert_eq!(
                    a.status,
                    AgentStatus::WrapUp,
                    "wrap-up time for an agent not in wrap-up"
                );
            }
            Change::AwayBecause { agent_id, .. } => {
                let a = s.agent(*agent_id).expect("a known agent");
                assert_eq!(
                    a.status,
                    AgentStatus::Away,
                    "an away reason for an agent not away"
                );
            }
        }
    }
    s
}

fn summary(s: &CallSnapshot) -> String {
    format!(
        "{:?} owner={:?} conf={:?} legs={:?} transfers={:?} agents={:?}",
        s.call.status,
        s.call.owner_agent_id,
        s.call.conference_sid,
        s.participants
            .iter()
            .map(|p| (
                p.id,
                p.status,
                p.on_hold,
                p.muted,
                p.end_conference_on_exit,
                p.call_sid.clone()
            ))
            .collect::<Vec<_>>(),
        s.transfers
            .iter()
            .map(|t| (t.id, t.status))
            .collect::<Vec<_>>(),
        s.agents
            .iter()
            .map(|a| (a.id, a.status))
            .collect::<Vec<_>>(),
    )
}

fn check(before: &CallSnapshot, input: &Input, d: &Decision) -> Result<(), TestCaseError> {
    let after = &d.state;
    let customer_sid = &before.call.customer_call_sid;
    let asked_to_hang_up = matches!(
        input,
        Input::Action {
            action: Action::HangUp,
            ..
        }
    );

    // 1. The customer is hung up (or pushed out of the conference) only when an agent asks.
    for e in &d.effects {
        match e {
            Effect::HangUp { call_sid, .. } if call_sid == customer_sid => {
                prop_assert!(asked_to_hang_up, "hung up the customer on {input:?}")
            }
            Effect::Remove { call_sid, .. } => {
                prop_assert!(
                    call_sid != customer_sid,
                    "removed the customer on {input:?}"
                )
            }
            // 6. An agent's leg never owns the conference: their lost browser must not end it.
            Effect::EndConferenceOnExit {
                value: true,
                call_sid,
                ..
            } => {
                let p = after
                    .participants
                    .iter()
                    .find(|p| p.call_sid.as_ref() == Some(call_sid));
                prop_assert!(
                    p.is_some_and(|p| p.kind == ParticipantKind::External),
                    "gave the conference to {p:?}"
                );
            }
            _ => {}
        }
        prop_assert_eq!(e.call_id(), before.call.id);
    }

    // 2. An agent is available only with no live leg, and a call ending never makes an agent
    //    who signed out (or went away) available.
    for a in &after.agents {
        if a.status == AgentStatus::Available {
            prop_assert!(
                !after.agent_has_live_leg(a.id),
                "agent {} available with a live leg",
                a.id
            );
            let was = before.agent(a.id).map(|b| b.status);
            prop_assert!(
                matches!(
                    was,
                    Some(
                        AgentStatus::Available
                            | AgentStatus::Reserved
                            | AgentStatus::Busy
                            | AgentStatus::WrapUp
                    )
                ),
                "agent {} made available from {was:?}",
                a.id
            );
        }
        // No agent holds two legs of the call at once.
        let live = after
            .participants
            .iter()
            .filter(|p| p.agent_id == Some(a.id) && !p.status.is_final())
            .count();
        prop_assert!(live <= 1, "agent {} has {live} live legs", a.id);
    }

    // 2b. With wrap-up on, a call's decision never ends an agent's wrap-up (the clock or the
    //     agent does), and an agent whose call is over with their line clear is in wrap-up.
    if before.wrap_up_seconds > 0 {
        for a in &after.agents {
            let was = before.agent(a.id).map(|b| b.status);
            prop_assert!(
                !(was == Some(AgentStatus::WrapUp) && a.status == AgentStatus::Available),
                "agent {} taken out of a timed wrap-up by {input:?}",
                a.id
            );
            prop_assert!(
                !(was == Some(AgentStatus::Busy) && a.status == AgentStatus::Available),
                "agent {} skipped wrap-up on {input:?}",
                a.id
            );
        }
    }

    // 3. No leg rings for a call that is over.
    if after.call.status.is_final() {
        for p in after
            .participants
            .iter()
            .filter(|p| p.kind != ParticipantKind::Customer)
        {
            prop_assert!(
                !p.status.is_pending(),
                "leg {} still {} in a closed call",
                p.id,
                p.status
            );
        }
        prop_assert!(after.active_transfer().is_none());
    }

    // 4. The customer leaving the conference for good ends the call.
    if let Input::Conference(cb) = input {
        let customer_left = cb.event == ConferenceEvent::ParticipantLeave
            && cb.participant_id == before.customer().map(|c| c.id)
            && before
                .customer()
                .is_some_and(|c| c.status == ParticipantStatus::Connected)
            && !cb.call_goes_on
            && before.call.conference_sid.as_ref() == Some(&cb.conference_sid);
        if customer_left {
            prop_assert!(
                after.call.status.is_final(),
                "the customer left but the call is {}",
                after.call.status
            );
        }
    }

    // 5. At most one transfer is under way.
    prop_assert!(
        after
            .transfers
            .iter()
            .filter(|t| t.status.is_active())
            .count()
            <= 1
    );

    // 7. What is stored is what was decided.
    prop_assert_eq!(summary(&replay(before, &d.changes)), summary(after));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_engines_promises_hold_whatever_arrives_in_whatever_order(
        steps in prop::collection::vec(step(), 1..80),
        wrap_up_seconds in prop_oneof![Just(0u32), Just(30), Just(300)],
        require_disposition in any::<bool>(),
    ) {
        let mut world = World::new(WrapUpSettings {
            seconds: wrap_up_seconds,
            extension_seconds: 60,
            require_disposition,
        });
        for step in &steps {
            match step {
                Step::WrapUp { agent, request, secs } => {
                    world.wrap_up_step(*agent, *request, *secs)?;
                    continue;
                }
                Step::Dispose => {
                    world.disposed = true;
                    continue;
                }
                _ => {}
            }
            let Some(input) = world.input(step) else { continue };
            let before = world.state.clone();
            let is_action = matches!(input, Input::Action { .. });
            match decide(before.clone(), input.clone()) {
                Ok(decision) => {
                    check(&before, &input, &decision)?;
                    world.note_wrap_ups(&decision.changes);
                    world.state = decision.state;
                }
                Err(refusal) => prop_assert!(is_action, "refused {input:?}: {refusal}"),
            }
            if let Step::SignOut(a) = step {
                if let Some(agent) = world.state.agents.iter_mut().find(|x| x.id == id(AGENTS[*a])) {
                    agent.status = AgentStatus::Offline;
                }
                world.wrapping.remove(&id(AGENTS[*a]));
            }
        }
    }
}
