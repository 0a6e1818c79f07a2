//! The engine's rules, one input at a time, and a property test over random sequences of
//! inputs in any order (Twilio's callbacks arrive late, twice, or never).

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::call::TransferStatus;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
}

fn sid_of(n: u32) -> CallSid {
    CallSid::parse(&format!("CA{n:032x}")).unwrap()
}

fn conference_sid(n: u32) -> ConferenceSid {
    ConferenceSid::parse(&format!("CF{n:032x}")).unwrap()
}

const CUSTOMER_SID: u32 = 1;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const CALL: u128 = 100;
const CUSTOMER: u128 = 200;
const ALICE: u128 = 1;
const BOB: u128 = 2;
const CAROL: u128 = 3;

fn leg(
    n: u128,
    kind: ParticipantKind,
    agent: Option<u128>,
    status: ParticipantStatus,
) -> Participant {
    Participant {
        id: id(n),
        call_id: id(CALL),
        kind,
        agent_id: agent.map(id),
        phone: (kind == ParticipantKind::External).then(|| "+15005550006".to_owned()),
        call_sid: Some(sid_of(n as u32)),
        status,
        on_hold: false,
        muted: false,
        end_conference_on_exit: kind == ParticipantKind::Customer,
        flags_sequence: 0,
        created_at: at(),
        joined_at: (status == ParticipantStatus::Connected).then(at),
        left_at: None,
        call_ended_at: None,
        monitor_mode: (kind == ParticipantKind::Supervisor).then_some(MonitorMode::Listen),
    }
}

fn agent(n: u128, status: AgentStatus) -> AgentView {
    AgentView {
        id: id(n),
        status,
        active: true,
        live_elsewhere: false,
    }
}

/// A queued call whose caller is in the conference; Alice, Bob and Carol are available.
fn queued() -> CallSnapshot {
    let mut customer = leg(
        CUSTOMER,
        ParticipantKind::Customer,
        None,
        ParticipantStatus::Connected,
    );
    customer.call_sid = Some(sid_of(CUSTOMER_SID));
    CallSnapshot {
        call: Call {
            id: id(CALL),
            customer_call_sid: sid_of(CUSTOMER_SID),
            from_number: "+15005550006".into(),
            to_number: "+15005550006".into(),
            conference_name: "wt_call".into(),
            conference_sid: Some(conference_sid(1)),
            status: CallStatus::Queued,
            owner_agent_id: None,
            queued_at: at(),
            created_at: at(),
            answered_at: None,
            ended_at: None,
            prefer_agent_id: None,
            avoid_agent_id: None,
        },
        participants: vec![customer],
        transfers: vec![],
        agents: vec![
            agent(ALICE, AgentStatus::Available),
            agent(BOB, AgentStatus::Available),
            agent(CAROL, AgentStatus::Available),
        ],
        now: at(),
        wrap_up_seconds: 0,
    }
}

/// Alice answered and is talking with the customer (her leg is participant 11).
fn answered() -> CallSnapshot {
    let mut s = queued();
    s.call.status = CallStatus::InProgress;
    s.call.owner_agent_id = Some(id(ALICE));
    s.call.answered_at = Some(at());
    s.participants.push(leg(
        11,
        ParticipantKind::Agent,
        Some(ALICE),
        ParticipantStatus::Connected,
    ));
    s.agents[0].status = AgentStatus::Busy;
    s
}

fn alice() -> Actor {
    Actor {
        id: id(ALICE),
        supervises: false,
    }
}

fn ok(s: CallSnapshot, input: Input) -> Decision {
    decide(s, input).expect("accepted")
}

fn act(s: CallSnapshot, actor: Actor, action: Action) -> Result<Decision, Refusal> {
    decide(s, Input::Action { actor, action })
}

fn conference(event: ConferenceEvent, s: &CallSnapshot, leg: u128) -> Input {
    let p = s.participant(id(leg));
    Input::Conference(ConferenceInput {
        event,
        conference_sid: s
            .call
            .conference_sid
            .clone()
            .unwrap_or_else(|| conference_sid(1)),
        call_sid: p.and_then(|p| p.call_sid.clone()),
        participant_id: p.map(|p| p.id),
        sequence: None,
        hold: None,
        muted: None,
        end_conference_on_exit: None,
        call_goes_on: false,
        conference_ended_around: false,
        reason: None,
    })
}

fn join(s: &CallSnapshot, leg: u128) -> Input {
    conference(ConferenceEvent::ParticipantJoin, s, leg)
}

fn leave(s: &CallSnapshot, leg: u128) -> Input {
    conference(ConferenceEvent::ParticipantLeave, s, leg)
}

fn status_of(d: &Decision, leg: u128) -> ParticipantStatus {
    d.state.participant(id(leg)).unwrap().status
}

fn agent_status(d: &Decision, n: u128) -> AgentStatus {
    d.state.agent(id(n)).unwrap().status
}

fn hangs_up(d: &Decision, sid: &CallSid) -> bool {
    d.effects
        .iter()
        .any(|e| matches!(e, Effect::HangUp { call_sid, .. } if call_sid == sid))
}

fn kinds(d: &Decision) -> Vec<String> {
    d.timeline.iter().map(|e| e.to_entry().0).collect()
}

/// Offers the queued call to an agent; the new leg's id is `leg`, its SID learnt at once.
fn offered(mut s: CallSnapshot, agent_n: u128, leg_n: u128) -> CallSnapshot {
    s = ok(
        s,
        Input::Offer {
            agent_id: id(agent_n),
            leg_id: id(leg_n),
            dial_to: "client:x".into(),
        },
    )
    .state;
    s.participants
        .iter_mut()
        .find(|p| p.id == id(leg_n))
        .unwrap()
        .call_sid = Some(sid_of(leg_n as u32));
    s
}

// ---- routing and answering ----

#[test]
fn an_offer_books_the_agent_rings_their_browser_and_the_call_rings() {
    let d = ok(
        queued(),
        Input::Offer {
            agent_id: id(ALICE),
            leg_id: id(11),
            dial_to: "client:alice".into(),
        },
    );
    assert_eq!(d.state.call.status, CallStatus::Ringing);
    assert_eq!(agent_status(&d, ALICE), AgentStatus::Reserved);
    assert_eq!(status_of(&d, 11), ParticipantStatus::Dialing);
    assert!(matches!(&d.effects[..], [Effect::Dial { to, .. }] if to == "client:alice"));
    assert_eq!(kinds(&d), ["agent_ringing"]);
}

#[test]
fn an_agent_who_joins_owns_the_call_and_is_busy() {
    let s = offered(queued(), ALICE, 11);
    let d = ok(s.clone(), join(&s, 11));
    assert_eq!(d.state.call.status, CallStatus::InProgress);
    assert_eq!(d.state.call.owner_agent_id, Some(id(ALICE)));
    assert!(d.state.call.answered_at.is_some());
    assert_eq!(agent_status(&d, ALICE), AgentStatus::Busy);
    // A first answer sends Twilio no needless unhold.
    assert!(d.effects.is_empty());
}

#[test]
fn an_agent_who_lets_it_ring_out_is_set_away_and_the_call_goes_back_to_the_queue() {
    let s = offered(queued(), ALICE, 11);
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(11),
            status: TwilioCallStatus::NoAnswer,
        },
    );
    assert_eq!(agent_status(&d, ALICE), AgentStatus::Away);
    assert_eq!(d.state.call.status, CallStatus::Queued);
    assert!(d.wake_router);
    assert_eq!(kinds(&d), ["agent_missed"]);
}

#[test]
fn a_leg_twilio_could_not_place_is_no_fault_of_the_agent() {
    let s = offered(queued(), ALICE, 11);
    let d = ok(
        s,
        Input::DialFailed {
            participant_id: id(11),
        },
    );
    assert_eq!(status_of(&d, 11), ParticipantStatus::Failed);
    assert_eq!(agent_status(&d, ALICE), AgentStatus::Available);
    assert_eq!(d.state.call.status, CallStatus::Queued);
}

#[test]
fn an_answered_leg_that_ends_before_its_join_requeues_with_music() {
    let s = offered(queued(), ALICE, 11);
    let s = ok(
        s,
        Input::LegProgress {
            participant_id: id(11),
            status: TwilioCallStatus::InProgress,
        },
    )
    .state;
    assert!(s.call.answered_at.is_some());
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(11),
            status: TwilioCallStatus::Completed,
        },
    );
    assert_eq!(d.state.call.status, CallStatus::Queued);
    assert!(kinds(&d).contains(&"requeued".to_owned()));
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Hold { hold: true, .. })));
    // Not at fault, and Twilio reported the leg over: free at once.
    assert_eq!(agent_status(&d, ALICE), AgentStatus::Available);
}

// ---- agents' legs ending ----

#[test]
fn an_agent_is_freed_only_once_twilio_reports_their_leg_over() {
    let s = answered();
    let s = ok(
        s.clone(),
        Input::Action {
            actor: alice(),
            action: Action::Leave,
        },
    )
    .state;
    let d = ok(s.clone(), leave(&s, 11));
    assert_eq!(
        agent_status(&d, ALICE),
        AgentStatus::WrapUp,
        "the leg's call may still be up"
    );
    let d = ok(
        d.state,
        Input::LegProgress {
            participant_id: id(11),
            status: TwilioCallStatus::Completed,
        },
    );
    assert_eq!(agent_status(&d, ALICE), AgentStatus::Available);
}

#[test]
fn with_wrap_up_on_an_agent_whose_call_is_over_stays_in_timed_wrap_up() {
    let mut s = answered();
    s.wrap_up_seconds = 45;
    let d = ok(s.clone(), leave(&s, 11));
    assert_eq!(agent_status(&d, ALICE), AgentStatus::WrapUp);
    let until = at() + chrono::Duration::seconds(45);
    assert!(d.changes.contains(&Change::WrapUpStarted {
        agent_id: id(ALICE),
        call_id: id(CALL),
        until,
    }));
    assert!(kinds(&d).contains(&"wrap_up_started".to_owned()));
    // Twilio reporting the leg over does not end a timed wrap-up: the clock (or the agent) does.
    let d = ok(
        d.state,
        Input::LegProgress {
            participant_id: id(11),
            status: TwilioCallStatus::Completed,
        },
    );
    assert_eq!(agent_status(&d, ALICE), AgentStatus::WrapUp);
    assert!(!d.wake_router);
    assert!(!d
        .changes
        .iter()
        .any(|c| matches!(c, Change::WrapUpStarted { .. })));
}

#[test]
fn wrap_up_goes_to_the_agent_who_handled_the_call_not_to_one_who_only_rang() {
    let mut s = offered(queued(), ALICE, 11);
    s.wrap_up_seconds = 45;
    // Called off before answering (no fault of theirs): straight back to available.
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(11),
            status: TwilioCallStatus::Canceled,
        },
    );
    assert_eq!(agent_status(&d, ALICE), AgentStatus::Available);
    assert!(!d
        .changes
        .iter()
        .any(|c| matches!(c, Change::WrapUpStarted { .. })));
}

#[test]
fn the_customer_hanging_up_puts_the_agent_in_wrap_up() {
    let mut s = answered();
    s.wrap_up_seconds = 30;
    let d = ok(s.clone(), leave(&s, CUSTOMER));
    assert!(d.state.call.status.is_final());
    assert_eq!(agent_status(&d, ALICE), AgentStatus::WrapUp);
    assert!(d
        .changes
        .iter()
        .any(|c| matches!(c, Change::WrapUpStarted { agent_id, .. } if *agent_id == id(ALICE))));
}

#[test]
fn a_ring_out_and_a_decline_are_different_events_and_reasons() {
    for (status, kind, reason) in [
        (
            TwilioCallStatus::NoAnswer,
            "agent_missed",
            SystemAwayReason::MissedCall,
        ),
        (
            TwilioCallStatus::Busy,
            "agent_declined",
            SystemAwayReason::DeclinedCall,
        ),
    ] {
        let s = offered(queued(), ALICE, 11);
        let d = ok(
            s,
            Input::LegProgress {
                participant_id: id(11),
                status,
            },
        );
        assert_eq!(agent_status(&d, ALICE), AgentStatus::Away);
        assert_eq!(kinds(&d), [kind]);
        assert!(
            d.changes.contains(&Change::AwayBecause {
                agent_id: id(ALICE),
                reason,
                call_id: id(CALL),
                from_number: "+15005550006".into(),
            }),
            "{:?}",
            d.changes
        );
    }
}

#[test]
fn a_leg_live_in_another_call_keeps_the_agent_booked() {
    let mut s = answered();
    s.agents[0].live_elsewhere = true;
    let s = ok(s.clone(), leave(&s, 11)).state;
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(11),
            status: TwilioCallStatus::Completed,
        },
    );
    assert_eq!(agent_status(&d, ALICE), AgentStatus::WrapUp);
}

#[test]
fn a_signed_out_agent_is_never_made_available_by_a_call_ending() {
    let mut s = answered();
    s.agents[0].status = AgentStatus::Offline;
    let s = ok(s.clone(), leave(&s, CUSTOMER)).state;
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(11),
            status: TwilioCallStatus::Completed,
        },
    );
    assert_eq!(agent_status(&d, ALICE), AgentStatus::Offline);
}

#[test]
fn an_agent_whose_line_drops_leaves_the_customer_on_hold_and_is_offered_the_call_first() {
    let s = answered();
    let d = ok(s.clone(), leave(&s, 11));
    assert_eq!(d.state.call.status, CallStatus::Queued);
    assert_eq!(d.state.call.prefer_agent_id, Some(id(ALICE)));
    assert!(!hangs_up(&d, &sid_of(CUSTOMER_SID)));
    assert!(d.effects.iter().any(|e| matches!(e, Effect::Hold { hold: true, call_sid, .. } if *call_sid == sid_of(CUSTOMER_SID))));
    assert_eq!(status_of(&d, CUSTOMER), ParticipantStatus::Connected);
}

#[test]
fn an_agent_who_leaves_on_purpose_is_not_offered_the_call_again() {
    let s = answered();
    let s = ok(
        s,
        Input::Action {
            actor: alice(),
            action: Action::Leave,
        },
    )
    .state;
    assert_eq!(s.call.avoid_agent_id, Some(id(ALICE)));
    let d = ok(s.clone(), leave(&s, 11));
    assert_eq!(d.state.call.prefer_agent_id, None);
    assert!(d.timeline.contains(&TimelineEvent::Requeued {
        reason: "the agent left".into()
    }));
}

// ---- the customer ----

#[test]
fn the_customer_hanging_up_ends_the_call_and_every_agent_leg() {
    let s = answered();
    let d = ok(s.clone(), leave(&s, CUSTOMER));
    assert_eq!(d.state.call.status, CallStatus::Completed);
    assert!(hangs_up(&d, &sid_of(11)));
    assert_eq!(agent_status(&d, ALICE), AgentStatus::WrapUp);
    assert!(d.timeline.contains(&TimelineEvent::CallEnded {
        status: CallStatus::Completed,
        reason: "customer hung up".into()
    }));
}

#[test]
fn a_caller_dropped_from_a_failing_conference_is_on_their_way_back_not_gone() {
    let s = answered();
    let Input::Conference(mut cb) = leave(&s, CUSTOMER) else {
        unreachable!()
    };
    cb.call_goes_on = true;
    let d = ok(s, Input::Conference(cb));
    assert_eq!(d.state.call.status, CallStatus::InProgress);
    assert_eq!(status_of(&d, CUSTOMER), ParticipantStatus::Ringing);
    // The conference ending now only forgets the conference.
    let s = d.state;
    let d = ok(
        s.clone(),
        conference(ConferenceEvent::ConferenceEnd, &s, CUSTOMER),
    );
    assert_eq!(d.state.call.status, CallStatus::InProgress);
    assert_eq!(d.state.call.conference_sid, None);
}

#[test]
fn a_caller_who_never_arrives_abandons_the_call_and_a_late_join_reopens_it() {
    let mut s = offered(queued(), ALICE, 11);
    s.participants[0].status = ParticipantStatus::Ringing;
    let d = ok(s, Input::CustomerGone);
    assert_eq!(d.state.call.status, CallStatus::Abandoned);
    assert_eq!(status_of(&d, 11), ParticipantStatus::Canceled);
    assert!(hangs_up(&d, &sid_of(11)));
    assert!(kinds(&d).contains(&"customer_never_joined".to_owned()));
    let s = d.state;
    let d = ok(s.clone(), join(&s, CUSTOMER));
    assert_eq!(d.state.call.status, CallStatus::Queued);
    assert_eq!(d.state.call.ended_at, None);
    assert!(d.wake_router);
}

#[test]
fn closing_a_call_whose_caller_is_between_conferences_never_hangs_them_up() {
    // The conference kept failing: the caller hears an apology from their own TwiML, which a
    // REST hang-up would cut short.
    let s = answered();
    let Input::Conference(mut cb) = leave(&s, CUSTOMER) else {
        unreachable!()
    };
    cb.call_goes_on = true;
    let s = ok(s, Input::Conference(cb)).state;
    let d = ok(
        s,
        Input::EndCall {
            reason: "the conference kept failing",
        },
    );
    assert_eq!(d.state.call.status, CallStatus::Completed);
    assert!(!hangs_up(&d, &sid_of(CUSTOMER_SID)));
    assert!(hangs_up(&d, &sid_of(11)));
}

#[test]
fn twilio_saying_a_joined_caller_is_gone_completes_the_call() {
    let d = ok(answered(), Input::CustomerGone);
    assert_eq!(d.state.call.status, CallStatus::Completed);
}

// ---- transfers ----

fn transfer_to(target: TransferTo, mode: TransferMode, hold_customer: bool) -> Action {
    Action::StartTransfer {
        leg_id: id(12),
        transfer_id: id(50),
        target,
        mode,
        hold_customer,
        note: None,
    }
}

fn to_bob() -> TransferTo {
    TransferTo::Agent {
        id: id(BOB),
        name: "Bob".into(),
        dial_to: "client:bob".into(),
    }
}

fn to_number() -> TransferTo {
    TransferTo::Number(crate::domain::phone::PhoneNumber::parse("+15005550006").unwrap())
}

fn with_target_sid(mut s: CallSnapshot) -> CallSnapshot {
    s.participants
        .iter_mut()
        .find(|p| p.id == id(12))
        .unwrap()
        .call_sid = Some(sid_of(12));
    s
}

#[test]
fn a_warm_transfer_consults_then_hands_over_and_the_first_agent_leaves() {
    let d = act(
        answered(),
        alice(),
        transfer_to(to_bob(), TransferMode::Warm, true),
    )
    .unwrap();
    assert_eq!(agent_status(&d, BOB), AgentStatus::Reserved);
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Hold { hold: true, .. })));
    let s = with_target_sid(d.state);
    let d = ok(s.clone(), join(&s, 12));
    assert_eq!(
        d.state.active_transfer().unwrap().status,
        TransferStatus::Consulting
    );
    let d = act(
        d.state,
        alice(),
        Action::CompleteTransfer {
            transfer_id: id(50),
        },
    )
    .unwrap();
    assert_eq!(d.state.call.owner_agent_id, Some(id(BOB)));
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Remove { call_sid, .. } if *call_sid == sid_of(11))));
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Hold { hold: false, .. })));
    // Bob's leg never owns the conference: his lost browser must not hang up the customer.
    assert!(!d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::EndConferenceOnExit { value: true, .. })));
}

#[test]
fn an_outside_number_that_takes_the_call_over_owns_the_conference() {
    let d = act(
        answered(),
        alice(),
        transfer_to(to_number(), TransferMode::Cold, false),
    )
    .unwrap();
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Remove { call_sid, .. } if *call_sid == sid_of(11))));
    let s = with_target_sid(d.state);
    let d = ok(s.clone(), join(&s, 12));
    assert!(d.effects.iter().any(|e| matches!(e, Effect::EndConferenceOnExit { value: true, call_sid, .. } if *call_sid == sid_of(12))));
    assert_eq!(d.state.call.owner_agent_id, None);
}

#[test]
fn a_cold_transfer_nobody_answers_goes_back_to_the_queue() {
    let d = act(
        answered(),
        alice(),
        transfer_to(to_bob(), TransferMode::Cold, false),
    )
    .unwrap();
    let s = with_target_sid(d.state);
    let s = ok(s.clone(), leave(&s, 11)).state;
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(12),
            status: TwilioCallStatus::NoAnswer,
        },
    );
    assert_eq!(d.state.call.status, CallStatus::Queued);
    assert_eq!(d.state.transfers[0].status, TransferStatus::Failed);
    assert_eq!(agent_status(&d, BOB), AgentStatus::Away);
}

#[test]
fn a_warm_transfer_nobody_answers_gives_the_customer_back_to_the_agent() {
    let d = act(
        answered(),
        alice(),
        transfer_to(to_number(), TransferMode::Warm, true),
    )
    .unwrap();
    let s = with_target_sid(d.state);
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(12),
            status: TwilioCallStatus::Busy,
        },
    );
    assert_eq!(d.state.call.status, CallStatus::InProgress);
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Hold { hold: false, .. })));
}

#[test]
fn an_owner_who_walks_away_mid_consultation_hands_the_call_to_the_target() {
    let d = act(
        answered(),
        alice(),
        transfer_to(to_bob(), TransferMode::Warm, false),
    )
    .unwrap();
    let s = with_target_sid(d.state);
    let s = ok(s.clone(), join(&s, 12)).state;
    let d = ok(s.clone(), leave(&s, 11));
    assert_eq!(d.state.call.owner_agent_id, Some(id(BOB)));
    assert_eq!(d.state.transfers[0].status, TransferStatus::Completed);
}

#[test]
fn a_cancelled_transfer_calls_the_target_off_and_unholds_the_customer() {
    let d = act(
        answered(),
        alice(),
        transfer_to(to_bob(), TransferMode::Warm, true),
    )
    .unwrap();
    let s = with_target_sid(d.state);
    let d = act(
        s,
        alice(),
        Action::CancelTransfer {
            transfer_id: id(50),
        },
    )
    .unwrap();
    assert_eq!(status_of(&d, 12), ParticipantStatus::Canceled);
    assert!(hangs_up(&d, &sid_of(12)));
    assert_eq!(d.state.transfers[0].status, TransferStatus::Canceled);
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Hold { hold: false, .. })));
    assert_eq!(d.state.call.owner_agent_id, Some(id(ALICE)));
}

#[test]
fn transfers_that_do_not_fit_the_call_are_refused() {
    let mut busy_bob = answered();
    busy_bob.agents[1].status = AgentStatus::Busy;
    assert_eq!(
        act(
            busy_bob,
            alice(),
            transfer_to(to_bob(), TransferMode::Warm, false)
        )
        .unwrap_err(),
        Refusal::Conflict("Bob is not available (status: busy)".into())
    );
    let s = act(
        answered(),
        alice(),
        transfer_to(to_number(), TransferMode::Warm, false),
    )
    .unwrap()
    .state;
    assert!(
        matches!(act(s, alice(), transfer_to(to_bob(), TransferMode::Warm, false)), Err(Refusal::Conflict(m)) if m.contains("already in progress"))
    );
    assert!(
        matches!(act(queued(), Actor { id: id(ALICE), supervises: true }, transfer_to(to_bob(), TransferMode::Warm, false)), Err(Refusal::Conflict(m)) if m.contains("only a call in progress"))
    );
    let self_transfer = TransferTo::Agent {
        id: id(ALICE),
        name: "Alice".into(),
        dial_to: "client:alice".into(),
    };
    assert!(
        matches!(act(answered(), alice(), transfer_to(self_transfer, TransferMode::Warm, false)), Err(Refusal::Conflict(m)) if m.contains("already on this call"))
    );
}

// ---- agents' requests ----

#[test]
fn only_agents_on_the_call_or_admins_may_act() {
    let bob = Actor {
        id: id(BOB),
        supervises: false,
    };
    assert!(matches!(
        act(answered(), bob, Action::HangUp),
        Err(Refusal::Forbidden(_))
    ));
    let admin = Actor {
        id: id(CAROL),
        supervises: true,
    };
    assert!(act(answered(), admin, Action::HangUp).is_ok());
    let s = ok(answered(), Input::CustomerGone).state;
    assert!(
        matches!(act(s, alice(), Action::HangUp), Err(Refusal::Conflict(m)) if m.contains("already ended"))
    );
}

#[test]
fn hanging_up_ends_the_customers_leg_which_only_an_agent_may_ask_for() {
    let d = act(answered(), alice(), Action::HangUp).unwrap();
    assert!(hangs_up(&d, &sid_of(CUSTOMER_SID)));
}

/// The stored flag can lag Twilio (a callback about an earlier change, carrying that moment's
/// flags, processed after a newer request), so a request matching it is still sent: skipping it
/// left the customer muted after the agent unmuted them.
#[test]
fn a_request_is_sent_even_when_the_stored_flag_already_shows_it() {
    let hold = Action::Hold {
        participant_id: id(CUSTOMER),
        hold: true,
    };
    let d = act(answered(), alice(), hold.clone()).unwrap();
    assert_eq!(d.effects.len(), 1);
    assert_eq!(kinds(&d), ["hold"]);
    let d = act(d.state, alice(), hold).unwrap();
    assert_eq!(d.effects.len(), 1, "{d:?}");
    assert_eq!(kinds(&d), ["hold"]);

    let mute = |muted| Action::Mute {
        participant_id: id(CUSTOMER),
        muted,
    };
    let d = act(answered(), alice(), mute(false)).unwrap();
    assert_eq!(
        d.effects.len(),
        1,
        "unmuting a leg stored as unmuted still asks Twilio"
    );
    assert_eq!(kinds(&d), ["mute"]);
}

#[test]
fn the_customer_cannot_be_removed_only_hung_up() {
    let err = act(
        answered(),
        alice(),
        Action::Remove {
            participant_id: id(CUSTOMER),
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        Refusal::Conflict("to drop the customer, hang up the call".into())
    );
    assert_eq!(
        act(
            answered(),
            alice(),
            Action::Remove {
                participant_id: id(999)
            }
        )
        .unwrap_err(),
        Refusal::NotFound("participant")
    );
}

#[test]
fn removing_the_owner_of_the_conference_takes_that_power_away_first() {
    let d = act(
        answered(),
        alice(),
        transfer_to(to_number(), TransferMode::Cold, false),
    )
    .unwrap();
    let s = with_target_sid(d.state);
    let s = ok(s.clone(), join(&s, 12)).state;
    let mut s = s;
    let admin = Actor {
        id: id(CAROL),
        supervises: true,
    };
    s.participants
        .iter_mut()
        .find(|p| p.id == id(12))
        .unwrap()
        .on_hold = true;
    let d = act(
        s,
        admin,
        Action::Remove {
            participant_id: id(12),
        },
    )
    .unwrap();
    let order: Vec<&str> = d
        .effects
        .iter()
        .map(|e| match e {
            Effect::Hold { hold: false, .. } => "unhold",
            Effect::EndConferenceOnExit { value: false, .. } => "give up ownership",
            Effect::Remove { .. } => "remove",
            _ => "other",
        })
        .collect();
    assert_eq!(order, ["unhold", "give up ownership", "remove"]);
}

#[test]
fn handing_back_calls_off_a_ringing_leg_and_keeps_the_customer() {
    let s = offered(queued(), ALICE, 11);
    let d = ok(
        s,
        Input::HandBack {
            agent_id: id(ALICE),
            reason: "signed out",
        },
    );
    assert_eq!(status_of(&d, 11), ParticipantStatus::Canceled);
    assert_eq!(d.state.call.avoid_agent_id, Some(id(ALICE)));
    assert!(!hangs_up(&d, &sid_of(CUSTOMER_SID)));
    assert!(!d.state.call.status.is_final());
}

// ---- out-of-order and repeated callbacks ----

#[test]
fn a_join_after_the_leave_changes_nothing_and_a_called_off_leg_that_joins_is_hung_up() {
    let s = answered();
    let s = ok(s.clone(), leave(&s, 11)).state;
    let d = ok(s.clone(), join(&s, 11));
    assert_eq!(status_of(&d, 11), ParticipantStatus::Left);
    assert!(d.effects.is_empty());

    let s = offered(queued(), ALICE, 11);
    let s = ok(
        s,
        Input::HandBack {
            agent_id: id(ALICE),
            reason: "signed out",
        },
    )
    .state;
    let d = ok(s.clone(), join(&s, 11));
    assert!(hangs_up(&d, &sid_of(11)));
}

#[test]
fn older_flag_events_do_not_undo_newer_ones() {
    let s = answered();
    let Input::Conference(mut hold) = conference(ConferenceEvent::ParticipantHold, &s, CUSTOMER)
    else {
        unreachable!()
    };
    hold.sequence = Some(5);
    let Input::Conference(mut unhold) =
        conference(ConferenceEvent::ParticipantUnhold, &s, CUSTOMER)
    else {
        unreachable!()
    };
    unhold.sequence = Some(4);
    let s = ok(s, Input::Conference(hold)).state;
    let d = ok(s, Input::Conference(unhold));
    assert!(d.state.participant(id(CUSTOMER)).unwrap().on_hold);
}

#[test]
fn the_conference_ending_under_a_connected_caller_ends_the_call() {
    let s = answered();
    let d = ok(
        s.clone(),
        conference(ConferenceEvent::ConferenceEnd, &s, CUSTOMER),
    );
    assert_eq!(d.state.call.status, CallStatus::Completed);
}

#[test]
fn events_of_an_earlier_conference_change_nothing_about_the_caller() {
    let s = answered();
    let Input::Conference(mut end) = conference(ConferenceEvent::ConferenceEnd, &s, CUSTOMER)
    else {
        unreachable!()
    };
    end.conference_sid = conference_sid(9);
    let d = ok(s, Input::Conference(end));
    assert_eq!(d.state.call.status, CallStatus::InProgress);
}

mod properties;

// ---- transfer outcomes, notes, and the queue as a target ----

fn end_of(d: &Decision) -> (Option<TransferEndReason>, Option<Uuid>, bool) {
    let t = &d.state.transfers[0];
    (t.end_reason, t.ended_by, t.requeued)
}

#[test]
fn a_handover_note_travels_with_the_transfer_and_into_the_timeline() {
    let note = HandoverNote::parse("wants a refund for order 42").unwrap();
    let d = act(
        answered(),
        alice(),
        Action::StartTransfer {
            leg_id: id(12),
            transfer_id: id(50),
            target: to_bob(),
            mode: TransferMode::Warm,
            hold_customer: true,
            note,
        },
    )
    .unwrap();
    assert_eq!(
        d.state.transfers[0].note.as_deref(),
        Some("wants a refund for order 42")
    );
    assert_eq!(kinds(&d), ["transfer_started", "handover_note"]);
    // No note, no entry.
    let d = act(
        answered(),
        alice(),
        transfer_to(to_bob(), TransferMode::Warm, true),
    )
    .unwrap();
    assert_eq!(kinds(&d), ["transfer_started"]);
}

#[test]
fn a_cancelled_transfer_names_who_cancelled_it() {
    let s = with_target_sid(
        act(
            answered(),
            alice(),
            transfer_to(to_bob(), TransferMode::Warm, true),
        )
        .unwrap()
        .state,
    );
    let s = ok(s.clone(), join(&s, 12)).state;
    let d = act(
        s,
        alice(),
        Action::CancelTransfer {
            transfer_id: id(50),
        },
    )
    .unwrap();
    assert_eq!(
        end_of(&d),
        (Some(TransferEndReason::Canceled), Some(id(ALICE)), false)
    );
}

#[test]
fn a_failed_transfer_says_why_and_whether_the_customer_was_requeued() {
    // Warm, declined in Bob's browser: the customer is back with Alice.
    let s = with_target_sid(
        act(
            answered(),
            alice(),
            transfer_to(to_bob(), TransferMode::Warm, true),
        )
        .unwrap()
        .state,
    );
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(12),
            status: TwilioCallStatus::Busy,
        },
    );
    assert_eq!(end_of(&d), (Some(TransferEndReason::Declined), None, false));

    // Cold, rung out: the customer went back to the queue.
    let s = with_target_sid(
        act(
            answered(),
            alice(),
            transfer_to(to_number(), TransferMode::Cold, false),
        )
        .unwrap()
        .state,
    );
    let s = ok(s.clone(), leave(&s, 11)).state;
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(12),
            status: TwilioCallStatus::NoAnswer,
        },
    );
    assert_eq!(end_of(&d), (Some(TransferEndReason::NoAnswer), None, true));
    assert_eq!(d.state.call.status, CallStatus::Queued);
}

#[test]
fn a_target_who_signs_out_while_it_rings_fails_the_transfer_and_never_strands_the_customer() {
    let s = with_target_sid(
        act(
            answered(),
            alice(),
            transfer_to(to_bob(), TransferMode::Cold, false),
        )
        .unwrap()
        .state,
    );
    let s = ok(s.clone(), leave(&s, 11)).state;
    let d = ok(
        s,
        Input::HandBack {
            agent_id: id(BOB),
            reason: "signed out",
        },
    );
    assert_eq!(d.state.transfers[0].status, TransferStatus::Failed);
    assert_eq!(
        end_of(&d),
        (Some(TransferEndReason::TargetSignedOut), None, true)
    );
    assert_eq!(d.state.call.status, CallStatus::Queued);
    assert!(d.state.active_transfer().is_none());
    assert!(hangs_up(&d, &sid_of(12)));
}

#[test]
fn the_customer_hanging_up_mid_transfer_ends_it_as_call_ended() {
    let s = with_target_sid(
        act(
            answered(),
            alice(),
            transfer_to(to_bob(), TransferMode::Warm, true),
        )
        .unwrap()
        .state,
    );
    let d = ok(s.clone(), leave(&s, CUSTOMER));
    assert_eq!(end_of(&d).0, Some(TransferEndReason::CallEnded));
}

#[test]
fn transfer_to_queue_takes_the_agent_out_and_the_leave_requeues_the_call() {
    let d = act(answered(), alice(), Action::TransferToQueue { note: None }).unwrap();
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Remove { call_sid, .. } if *call_sid == sid_of(11))));
    // Nothing but the removal is asked of Twilio: if it fails, the customer is still with Alice.
    assert_eq!(d.effects.len(), 1);
    assert_eq!(d.state.call.status, CallStatus::InProgress);
    assert_eq!(kinds(&d), ["transferred_to_queue"]);

    let s = d.state;
    let d = ok(s.clone(), leave(&s, 11));
    assert_eq!(d.state.call.status, CallStatus::Queued);
    assert_eq!(d.state.call.owner_agent_id, None);
    // Keeps its first place in the line and is not offered back to Alice.
    assert_eq!(d.state.call.queued_at, s.call.queued_at);
    assert_eq!(d.state.call.avoid_agent_id, Some(id(ALICE)));
    assert!(d.state.customer().unwrap().on_hold);
    assert_eq!(agent_status(&d, ALICE), AgentStatus::WrapUp);
}

#[test]
fn a_transfer_to_queue_keeps_its_note_for_the_next_agent_on_the_timeline() {
    let note = HandoverNote::parse("wants the billing team").unwrap();
    let d = act(answered(), alice(), Action::TransferToQueue { note }).unwrap();
    let recorded: Vec<_> = d
        .timeline
        .iter()
        .filter_map(|e| match e {
            TimelineEvent::TransferredToQueue { by, note } => Some((*by, note.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        recorded,
        [(id(ALICE), Some("wants the billing team".to_owned()))]
    );
}

#[test]
fn a_transfer_to_queue_twilio_refused_gives_the_call_back_to_the_agent() {
    let s = act(answered(), alice(), Action::TransferToQueue { note: None })
        .unwrap()
        .state;
    let d = ok(
        s,
        Input::QueueTransferRefused {
            agent_id: id(ALICE),
        },
    );
    assert_eq!(d.state.call.avoid_agent_id, None);
    assert_eq!(d.state.call.status, CallStatus::InProgress);
    assert_eq!(kinds(&d), ["transfer_to_queue_failed"]);
    // Already out after all (the leave arrived): nothing to undo.
    let s = act(answered(), alice(), Action::TransferToQueue { note: None })
        .unwrap()
        .state;
    let s = ok(s.clone(), leave(&s, 11)).state;
    let d = ok(
        s,
        Input::QueueTransferRefused {
            agent_id: id(ALICE),
        },
    );
    assert!(d.timeline.is_empty());
}

#[test]
fn transfer_to_queue_is_refused_when_it_does_not_fit() {
    // Someone else is with the customer.
    let s = act(
        answered(),
        alice(),
        transfer_to(to_bob(), TransferMode::Warm, true),
    )
    .unwrap()
    .state;
    assert!(matches!(
        act(s, alice(), Action::TransferToQueue { note: None }),
        Err(Refusal::Conflict(_))
    ));
    // The call is over.
    let mut over = answered();
    over.call.status = CallStatus::Completed;
    assert!(matches!(
        act(over, alice(), Action::TransferToQueue { note: None }),
        Err(Refusal::Conflict(m)) if m.contains("already ended")
    ));
    // Still queued: nothing to transfer.
    let mut s = queued();
    s.participants.push(leg(
        11,
        ParticipantKind::Agent,
        Some(ALICE),
        ParticipantStatus::Connected,
    ));
    assert!(matches!(
        act(s, alice(), Action::TransferToQueue { note: None }),
        Err(Refusal::Conflict(_))
    ));
}

// ---- supervisors on a call ----

const SUE: u128 = 9;
const SUE_LEG: u128 = 19;

fn sue() -> Actor {
    Actor {
        id: id(SUE),
        supervises: true,
    }
}

fn monitor_action(mode: MonitorMode) -> Action {
    Action::Monitor {
        mode,
        leg_id: id(SUE_LEG),
        dial_to: "client:sue".into(),
    }
}

/// Alice talks with the customer; Sue (a supervisor) is in the conference, listening.
fn monitored() -> CallSnapshot {
    let mut s = answered();
    s.agents.push(agent(SUE, AgentStatus::Busy));
    s.participants.push(leg(
        SUE_LEG,
        ParticipantKind::Supervisor,
        Some(SUE),
        ParticipantStatus::Connected,
    ));
    s
}

#[test]
fn a_supervisor_starts_listening_on_a_muted_leg_of_their_own_and_is_kept_from_the_router() {
    let mut s = answered();
    s.agents.push(agent(SUE, AgentStatus::Available));
    // A plain agent may not.
    assert!(matches!(
        act(s.clone(), alice(), monitor_action(MonitorMode::Listen)),
        Err(Refusal::Forbidden(_))
    ));
    let d = act(s, sue(), monitor_action(MonitorMode::Listen)).unwrap();
    let new_leg = d.state.participant(id(SUE_LEG)).unwrap();
    assert_eq!(new_leg.kind, ParticipantKind::Supervisor);
    assert_eq!(new_leg.monitor_mode, Some(MonitorMode::Listen));
    assert!(d.effects.iter().any(
        |e| matches!(e, Effect::Dial { participant_id, .. } if *participant_id == id(SUE_LEG))
    ));
    assert_eq!(agent_status(&d, SUE), AgentStatus::Reserved);
    // The call is untouched: still Alice's.
    assert_eq!(d.state.call.owner_agent_id, Some(id(ALICE)));
    assert_eq!(kinds(&d), ["monitor_started"]);
}

#[test]
fn whisper_needs_the_calls_agent_in_the_conference() {
    let mut s = monitored();
    s.participants
        .iter_mut()
        .find(|p| p.id == id(11))
        .unwrap()
        .status = ParticipantStatus::Left;
    assert!(matches!(
        act(s, sue(), monitor_action(MonitorMode::Whisper)),
        Err(Refusal::Conflict(m)) if m.contains("no agent on the call to coach")
    ));
    // With Alice there, whisper coaches her leg and unmutes Sue.
    let d = act(monitored(), sue(), monitor_action(MonitorMode::Whisper)).unwrap();
    assert!(d.effects.iter().any(|e| matches!(
        e,
        Effect::Monitor { muted: false, coach: Some(sid), .. } if *sid == sid_of(11)
    )));
    assert_eq!(
        d.state.participant(id(SUE_LEG)).unwrap().monitor_mode,
        Some(MonitorMode::Whisper)
    );
}

#[test]
fn a_declined_listening_leg_does_not_set_the_supervisor_away_or_touch_the_call() {
    let mut s = answered();
    s.agents.push(agent(SUE, AgentStatus::Available));
    let mut s = act(s, sue(), monitor_action(MonitorMode::Listen))
        .unwrap()
        .state;
    s.participants.last_mut().unwrap().call_sid = Some(sid_of(SUE_LEG as u32));
    let d = ok(
        s,
        Input::LegProgress {
            participant_id: id(SUE_LEG),
            status: TwilioCallStatus::Busy,
        },
    );
    assert_eq!(agent_status(&d, SUE), AgentStatus::Available);
    assert_eq!(d.state.call.status, CallStatus::InProgress);
    assert_eq!(d.state.call.owner_agent_id, Some(id(ALICE)));
    assert_eq!(kinds(&d), ["monitor_missed"]);
}

#[test]
fn the_supervisor_never_keeps_the_customer_when_the_agent_leaves() {
    let s = monitored();
    let d = ok(s.clone(), leave(&s, 11));
    assert_eq!(d.state.call.status, CallStatus::Queued);
    assert_eq!(d.state.call.owner_agent_id, None);
    assert!(hangs_up(&d, &sid_of(SUE_LEG as u32)));
    // Their leg leaving frees them without wrap-up, and changes nothing about the call.
    let mut s = monitored();
    s.wrap_up_seconds = 30;
    let mut after = ok(s.clone(), leave(&s, SUE_LEG)).state;
    assert_eq!(after.call.status, CallStatus::InProgress);
    assert_eq!(after.call.owner_agent_id, Some(id(ALICE)));
    after.now += chrono::Duration::minutes(5);
    let d = ok(
        after,
        Input::LegProgress {
            participant_id: id(SUE_LEG),
            status: TwilioCallStatus::Completed,
        },
    );
    assert_eq!(agent_status(&d, SUE), AgentStatus::Available);
}

/// Both steps of Sue's take over: her leg made heard by everyone, then (Twilio having done it)
/// the call changing hands.
fn take_over(s: CallSnapshot) -> Result<Decision, Refusal> {
    let heard = act(s, sue(), Action::TakeOver)?;
    decide(heard.state, Input::TakeOverHeard { actor: sue() })
}

#[test]
fn take_over_makes_the_supervisor_the_owner_and_takes_the_agent_out() {
    // Not on the call: refused, nothing changes.
    let mut s = answered();
    s.agents.push(agent(SUE, AgentStatus::Available));
    assert!(matches!(
        act(s, sue(), Action::TakeOver),
        Err(Refusal::Conflict(m)) if m.contains("listen to it first")
    ));
    // A leg still ringing is not in the call either.
    let mut s = monitored();
    s.participants.last_mut().unwrap().status = ParticipantStatus::Ringing;
    assert!(matches!(
        act(s, sue(), Action::TakeOver),
        Err(Refusal::Conflict(_))
    ));

    // First only Sue's leg is made heard by everyone; nothing else is asked or stored yet.
    let d = act(monitored(), sue(), Action::TakeOver).unwrap();
    assert!(d.changes.is_empty() && d.timeline.is_empty(), "{d:?}");
    assert!(matches!(
        d.effects.as_slice(),
        [Effect::Monitor { call_sid, muted: false, coach: None, .. }]
            if *call_sid == sid_of(SUE_LEG as u32)
    ));
    // Once Twilio has done that, the call changes hands and Alice is taken out.
    let d = take_over(monitored()).unwrap();
    let leg = d.state.participant(id(SUE_LEG)).unwrap();
    assert_eq!(leg.kind, ParticipantKind::Agent);
    assert_eq!(leg.monitor_mode, None);
    assert_eq!(d.state.call.owner_agent_id, Some(id(SUE)));
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Remove { call_sid, .. } if *call_sid == sid_of(11))));
    assert_eq!(kinds(&d), ["taken_over"]);
    // Alice's leave then sends her to wrap-up; the call stays Sue's.
    let s = d.state;
    let d = ok(s.clone(), leave(&s, 11));
    assert_eq!(d.state.call.status, CallStatus::InProgress);
    assert_eq!(d.state.call.owner_agent_id, Some(id(SUE)));
    assert_eq!(agent_status(&d, ALICE), AgentStatus::WrapUp);
}

#[test]
fn the_agent_cannot_hold_mute_or_remove_the_supervisor_listening_in() {
    let s = monitored();
    let sue_leg = id(SUE_LEG);
    for action in [
        Action::Hold {
            participant_id: sue_leg,
            hold: true,
        },
        Action::Mute {
            participant_id: sue_leg,
            muted: false,
        },
    ] {
        assert!(
            matches!(
                act(s.clone(), alice(), action.clone()),
                Err(Refusal::Conflict(_))
            ),
            "{action:?}"
        );
        // Not the supervisor either: their mode says whether they are muted.
        assert!(matches!(
            act(s.clone(), sue(), action),
            Err(Refusal::Conflict(_))
        ));
    }
    let remove = Action::Remove {
        participant_id: sue_leg,
    };
    assert!(matches!(
        act(s.clone(), alice(), remove.clone()),
        Err(Refusal::Forbidden(_))
    ));
    let d = act(s, sue(), remove).unwrap();
    assert!(d.effects.iter().any(
        |e| matches!(e, Effect::Remove { call_sid, .. } if *call_sid == sid_of(SUE_LEG as u32))
    ));
}

#[test]
fn a_whispering_supervisor_coaches_whoever_the_call_is_handed_to() {
    let mut s = monitored();
    s.participants
        .iter_mut()
        .find(|p| p.id == id(SUE_LEG))
        .unwrap()
        .monitor_mode = Some(MonitorMode::Whisper);
    let d = act(s, alice(), transfer_to(to_bob(), TransferMode::Warm, true)).unwrap();
    let s = with_target_sid(d.state);
    let s = ok(s.clone(), join(&s, 12)).state;
    let d = act(
        s,
        alice(),
        Action::CompleteTransfer {
            transfer_id: id(50),
        },
    )
    .unwrap();
    assert_eq!(d.state.call.owner_agent_id, Some(id(BOB)));
    let coached: Vec<_> = d
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Monitor {
                call_sid, coach, ..
            } if *call_sid == sid_of(SUE_LEG as u32) => Some(coach.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(coached, [Some(sid_of(12))], "Sue now coaches Bob's leg");
    assert_eq!(
        d.state.participant(id(SUE_LEG)).unwrap().monitor_mode,
        Some(MonitorMode::Whisper)
    );
}

#[test]
fn taking_over_takes_the_customer_off_hold_and_needs_an_agent_to_take_from() {
    // The agent had the customer on hold: the new owner talks to them at once.
    let mut s = monitored();
    s.participants
        .iter_mut()
        .find(|p| p.kind == ParticipantKind::Customer)
        .unwrap()
        .on_hold = true;
    let d = take_over(s).unwrap();
    assert!(d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Hold { hold: false, .. })));
    // An outside number has the call (its leg ends the conference): refused, nothing changes.
    let mut s = monitored();
    s.call.owner_agent_id = None;
    assert!(matches!(
        act(s, sue(), Action::TakeOver),
        Err(Refusal::Conflict(m)) if m.contains("outside number")
    ));
}

#[test]
fn a_supervisor_who_had_the_call_as_its_agent_earlier_is_not_put_in_wrap_up_by_their_listening_leg()
{
    // Sue handled the call earlier as its agent (that leg left); now she only listens.
    let mut s = monitored();
    s.wrap_up_seconds = 30;
    let mut earlier = leg(
        13,
        ParticipantKind::Agent,
        Some(SUE),
        ParticipantStatus::Left,
    );
    earlier.left_at = Some(at() - chrono::Duration::minutes(10));
    earlier.call_ended_at = earlier.left_at;
    s.participants.push(earlier);
    let d = ok(s.clone(), leave(&s, SUE_LEG));
    assert_ne!(agent_status(&d, SUE), AgentStatus::WrapUp);
    assert!(!kinds(&d).contains(&"wrap_up_started".to_owned()));
    let mut after = d.state;
    after.now += chrono::Duration::minutes(5);
    let d = ok(
        after,
        Input::LegProgress {
            participant_id: id(SUE_LEG),
            status: TwilioCallStatus::Completed,
        },
    );
    assert_eq!(agent_status(&d, SUE), AgentStatus::Available);
    // The call ending while she listens: no wrap-up either.
    let d = ok(s, Input::EndCall { reason: "test" });
    assert_ne!(agent_status(&d, SUE), AgentStatus::WrapUp);
}

#[test]
fn a_supervisor_leaving_keeps_the_mark_of_the_agent_who_left_and_their_leg_grants_no_agent_rights()
{
    // Bob left on purpose earlier: the call is not to be offered back to him.
    let mut s = monitored();
    s.call.avoid_agent_id = Some(id(BOB));
    let d = act(s.clone(), sue(), Action::Leave).unwrap();
    assert_eq!(d.state.call.avoid_agent_id, Some(id(BOB)));
    let d = act(s.clone(), sue(), Action::StopMonitor).unwrap();
    assert_eq!(d.state.call.avoid_agent_id, Some(id(BOB)));
    // An agent leaving still marks themselves.
    let d = act(s.clone(), alice(), Action::Leave).unwrap();
    assert_eq!(d.state.call.avoid_agent_id, Some(id(ALICE)));

    // Sue, no longer a supervisor, still has her listening leg: it makes her no agent of the
    // call.
    let demoted = Actor {
        id: id(SUE),
        supervises: false,
    };
    for action in [
        Action::Hold {
            participant_id: id(CUSTOMER),
            hold: true,
        },
        Action::Leave,
        Action::HangUp,
    ] {
        assert!(
            matches!(
                act(s.clone(), demoted, action.clone()),
                Err(Refusal::Forbidden(_))
            ),
            "{action:?}"
        );
    }
}

#[test]
fn a_mode_switch_twilio_refused_is_stored_as_it_was_before() {
    let d = act(monitored(), sue(), monitor_action(MonitorMode::Barge)).unwrap();
    assert_eq!(
        d.state.participant(id(SUE_LEG)).unwrap().monitor_mode,
        Some(MonitorMode::Barge)
    );
    let d = ok(
        d.state,
        Input::MonitorModeRefused {
            agent_id: id(SUE),
            mode: MonitorMode::Listen,
        },
    );
    let leg = d.state.participant(id(SUE_LEG)).unwrap();
    assert_eq!(leg.monitor_mode, Some(MonitorMode::Listen));
    assert!(leg.muted);
    assert!(matches!(
        d.effects.as_slice(),
        [Effect::Monitor {
            muted: true,
            coach: None,
            ..
        }]
    ));
    assert_eq!(kinds(&d), ["monitor_mode_change_failed"]);
    assert!(matches!(
        &d.timeline[0],
        TimelineEvent::MonitorModeChangeFailed {
            mode: MonitorMode::Barge,
            ..
        }
    ));
    // Her leg gone meanwhile: nothing to put back.
    let s = monitored();
    let s = ok(s.clone(), leave(&s, SUE_LEG)).state;
    let d = ok(
        s,
        Input::MonitorModeRefused {
            agent_id: id(SUE),
            mode: MonitorMode::Listen,
        },
    );
    assert!(d.effects.is_empty() && d.timeline.is_empty());
}

fn with_sue_as(mut s: CallSnapshot, mode: MonitorMode) -> CallSnapshot {
    let leg = s
        .participants
        .iter_mut()
        .find(|p| p.id == id(SUE_LEG))
        .unwrap();
    leg.monitor_mode = Some(mode);
    leg.muted = mode == MonitorMode::Listen;
    s
}

#[test]
fn a_take_over_twilio_refused_leaves_the_agent_with_the_call_and_the_supervisor_as_they_were() {
    // Twilio refused to make Sue (whispering to Alice) heard by everyone.
    let s = with_sue_as(monitored(), MonitorMode::Whisper);
    let heard = act(s, sue(), Action::TakeOver).unwrap();
    assert!(
        !heard
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Remove { .. })),
        "Alice stays until Sue is heard"
    );
    let d = ok(heard.state, Input::TakeOverRefused { agent_id: id(SUE) });
    assert_eq!(d.state.call.owner_agent_id, Some(id(ALICE)));
    let leg = d.state.participant(id(SUE_LEG)).unwrap();
    assert_eq!(leg.kind, ParticipantKind::Supervisor);
    assert_eq!(leg.monitor_mode, Some(MonitorMode::Whisper));
    assert_eq!(
        d.state.participant(id(11)).unwrap().status,
        ParticipantStatus::Connected
    );
    // Asked of Twilio again as it was (a request that timed out may have taken effect).
    assert!(matches!(
        d.effects.as_slice(),
        [Effect::Monitor { muted: false, coach: Some(sid), .. }] if *sid == sid_of(11)
    ));
    assert!(!d
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Remove { .. } | Effect::Hold { .. })));
    assert_eq!(kinds(&d), ["take_over_failed"]);

    // The call changed between the two steps (a transfer started): the second step is refused,
    // and the refusal puts Sue back as listening.
    let heard = act(monitored(), sue(), Action::TakeOver).unwrap();
    let s = act(
        heard.state,
        alice(),
        transfer_to(to_bob(), TransferMode::Warm, false),
    )
    .unwrap()
    .state;
    assert!(matches!(
        decide(s.clone(), Input::TakeOverHeard { actor: sue() }),
        Err(Refusal::Conflict(m)) if m.contains("transfer is in progress")
    ));
    let d = ok(s, Input::TakeOverRefused { agent_id: id(SUE) });
    assert!(matches!(
        d.effects.as_slice(),
        [Effect::Monitor {
            muted: true,
            coach: None,
            ..
        }]
    ));
    assert_eq!(d.state.call.owner_agent_id, Some(id(ALICE)));
}
