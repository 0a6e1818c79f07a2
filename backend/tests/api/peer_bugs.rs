//! Failures other warm-transfer implementations shipped (`PEER-BUGS.md`, rows 1–14): each test
//! sets up exactly that situation and checks both our record and what Twilio (the simulator) was
//! asked and holds. `docs/peer-bugs.md` maps every row to its tests.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{CallStatus as SimCallStatus, ConferenceStatus, RestRecord};

use crate::helpers::assert_error;
use crate::voice::{
    agent_leg, answered_call, connected, customer, finish_transfer, participant, start_transfer,
    Agent, CallCenter, WAIT,
};

const OUTSIDE: &str = "+14155550199";

async fn hold(
    cc: &CallCenter,
    token: &str,
    call_id: &str,
    participant_id: &str,
    on: bool,
) -> reqwest::Response {
    cc.app()
        .send_json(
            Method::POST,
            &format!("/api/calls/{call_id}/participants/{participant_id}/hold"),
            Some(token),
            &json!({ "hold": on }),
        )
        .await
}

/// The outside number rings; returns its leg's call SID.
async fn outside_rings(cc: &CallCenter) -> String {
    cc.sim
        .wait_for_ringing(OUTSIDE, WAIT)
        .await
        .expect("the outside number rings")
        .call_sid
}

/// `by` warm-transfers to the outside number, which answers; returns (transfer, its leg's SID)
/// once the admin's view shows the consultation.
async fn outside_consult(
    cc: &CallCenter,
    admin: &str,
    by: &Agent,
    call_id: &str,
    hold_customer: bool,
) -> (Value, String) {
    let transfer = start_transfer(
        cc,
        by,
        call_id,
        json!({ "mode": "warm", "target": { "phone_number": OUTSIDE }, "hold_customer": hold_customer }),
    )
    .await;
    let leg = outside_rings(cc).await;
    cc.sim.accept(&leg).unwrap();
    cc.call_until(admin, call_id, "consulting", |c| {
        c["transfers"][0]["status"] == "consulting"
    })
    .await;
    (transfer, leg)
}

/// `by` warm-transfers to `target` (an agent), who answers.
async fn agent_consult(
    cc: &CallCenter,
    admin: &str,
    by: &Agent,
    target: &Agent,
    call_id: &str,
    hold_customer: bool,
) -> Value {
    cc.set_status(target, "available").await;
    let transfer = start_transfer(
        cc,
        by,
        call_id,
        json!({ "mode": "warm", "target": { "agent_id": target.id }, "hold_customer": hold_customer }),
    )
    .await;
    cc.answer(target).await;
    cc.call_until(admin, call_id, "consulting", |c| {
        c["transfers"][0]["status"] == "consulting"
    })
    .await;
    transfer
}

fn external(call: &Value) -> &Value {
    participant(call, |p| p["kind"] == "external")
}

fn id_of(p: &Value) -> String {
    p["id"].as_str().unwrap().to_owned()
}

fn sid_of(p: &Value) -> String {
    p["call_sid"].as_str().unwrap().to_owned()
}

/// The conference the customer's call is in, according to Twilio.
fn conference_sid(cc: &CallCenter, customer_sid: &str) -> String {
    cc.sim
        .snapshot()
        .call(customer_sid)
        .and_then(|c| c.conference_sid.clone())
        .expect("the customer is in a conference")
}

/// Twilio's view of a participant: (held, ends the conference on exit), if still in it.
fn twilio_flags(cc: &CallCenter, conference: &str, call_sid: &str) -> Option<(bool, bool)> {
    cc.sim
        .snapshot()
        .conference(conference)
        .and_then(|c| c.participant(call_sid))
        .map(|p| (p.hold, p.end_conference_on_exit))
}

async fn twilio_until(
    cc: &CallCenter,
    what: &str,
    condition: impl FnMut(&twilio_sim::SimSnapshot) -> bool,
) -> twilio_sim::SimSnapshot {
    cc.sim
        .wait_for(condition, WAIT)
        .await
        .unwrap_or_else(|e| panic!("Twilio never showed {what}: {:#?}", e.last))
}

fn call_status(cc: &CallCenter, sid: &str) -> SimCallStatus {
    cc.sim.snapshot().call(sid).expect("the call").status
}

/// Participant update requests (`POST …/Participants/{CallSid}.json`) sent so far.
fn participant_updates(cc: &CallCenter) -> Vec<RestRecord> {
    cc.sim
        .rest_log()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("UpdateParticipant"))
        .collect()
}

/// The participant segment of a Participants request path (`…/Participants/{CallSid}.json`).
fn addressed(record: &RestRecord) -> &str {
    record
        .path
        .rsplit_once("/Participants/")
        .map(|(_, rest)| rest.trim_end_matches(".json"))
        .unwrap_or("")
}

fn no_ignored_changes(cc: &CallCenter) {
    let notes = cc.sim.snapshot().notes;
    assert!(
        notes.iter().all(|n| !n.message.contains("ignored")),
        "Twilio silently ignored a change: {notes:#?}"
    );
}

/// Lets callbacks and after-commit requests land before counting what was sent.
async fn settle(cc: &CallCenter) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    cc.sim.settle(WAIT).await.expect("callbacks delivered");
}

/// Row 1: the customer, on hold while their agent consults an outside number, hangs up. The
/// customer's leg is the one that ends the conference (its `endConferenceOnExit=true` was never
/// touched, so holding them could not lose it): the conference ends, the outside leg with it, and
/// the agent is freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_customer_hanging_up_during_an_outside_number_transfer_ends_the_call() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let (_, outside) = outside_consult(&cc, &admin, &a, &call_id, true).await;
    let conference = conference_sid(&cc, &customer_sid);
    twilio_until(&cc, "the customer held", |_| {
        twilio_flags(&cc, &conference, &customer_sid) == Some((true, true))
    })
    .await;
    assert_eq!(
        twilio_flags(&cc, &conference, &outside),
        Some((false, false))
    );

    cc.sim.hang_up(&customer_sid).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "completed", |c| {
            c["status"] == "completed"
        })
        .await;
    assert_eq!(call["transfers"][0]["status"], "canceled");
    let snapshot = twilio_until(&cc, "the conference over", |s| {
        s.conference(&conference)
            .is_some_and(|c| c.status == ConferenceStatus::Completed)
            && s.call(&outside).is_some_and(|c| c.status.is_final())
    })
    .await;
    assert_eq!(
        snapshot
            .conference(&conference)
            .unwrap()
            .call_sid_ending_conference
            .as_deref(),
        Some(customer_sid.as_str()),
        "the customer's leaving ended it"
    );
    cc.status_until(&a, "available").await;
    // Nobody ever asked Twilio to change the customer's endConferenceOnExit.
    assert!(participant_updates(&cc)
        .iter()
        .all(|r| addressed(r) != customer_sid || r.param("EndConferenceOnExit").is_none()));
}

/// Row 2: Twilio ignores an `endConferenceOnExit` change on a held participant. The outside
/// number is on hold when the agent completes the transfer to it: it is unheld first, then
/// given the flag, and the flag is confirmed by Twilio's `participant-modify` callback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_a_transfer_to_a_held_outside_number_unholds_it_before_handing_it_the_conference(
) {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let (transfer, outside) = outside_consult(&cc, &admin, &a, &call_id, false).await;
    let conference = conference_sid(&cc, &customer_sid);
    let call = cc.call_until(&admin, &call_id, "detail", |_| true).await;
    let res = hold(&cc, &a.token, &call_id, &id_of(external(&call)), true).await;
    assert_eq!(res.status(), 200);
    twilio_until(&cc, "the outside number held", |_| {
        twilio_flags(&cc, &conference, &outside) == Some((true, false))
    })
    .await;

    let res = finish_transfer(&cc, &a, &call_id, &transfer, "complete").await;
    assert_eq!(res.status(), 200);
    twilio_until(&cc, "the outside number owning the conference", |_| {
        twilio_flags(&cc, &conference, &outside) == Some((false, true))
    })
    .await;
    no_ignored_changes(&cc);
    let updates: Vec<_> = participant_updates(&cc)
        .into_iter()
        .filter(|r| addressed(r) == outside)
        .collect();
    let unhold = updates
        .iter()
        .position(|r| r.param("Hold") == Some("false"))
        .expect("an unhold");
    let flag = updates
        .iter()
        .position(|r| r.param("EndConferenceOnExit") == Some("true"))
        .expect("the flag change");
    assert!(unhold < flag, "unhold before the flag change: {updates:#?}");
    assert!(
        updates[flag].param("Hold").is_none(),
        "the flag change is not sent with a hold"
    );
    // Twilio confirmed the change through the conference callbacks.
    cc.sim
        .wait_for_webhooks(
            |log| {
                log.iter().any(|w| {
                    w.event.as_deref() == Some("participant-modify")
                        && w.call_sid.as_deref() == Some(outside.as_str())
                        && w.param("EndConferenceOnExit") == Some("true")
                })
            },
            WAIT,
        )
        .await
        .expect("participant-modify confirms the flag");
    let call = cc
        .call_until(&admin, &call_id, "the outside number owns the call", |c| {
            external(c)["end_conference_on_exit"] == true
                && external(c)["on_hold"] == false
                && agent_leg(c, &a)["status"] == "left"
        })
        .await;
    assert_eq!(call["status"], "in_progress");
}

/// Row 2, the dangerous direction: an outside number that took the call over (so it ends the
/// conference on exit) is on hold when it is removed. Were the flag change ignored, removing it
/// would end the conference for the customer; it is unheld first, the flag taken away, then
/// removed, and the customer stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_held_outside_owner_unholds_it_before_taking_its_end_conference_on_exit_away() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let (transfer, outside) = outside_consult(&cc, &admin, &a, &call_id, true).await;
    let res = finish_transfer(&cc, &a, &call_id, &transfer, "complete").await;
    assert_eq!(res.status(), 200);
    let conference = conference_sid(&cc, &customer_sid);
    let call = cc
        .call_until(&admin, &call_id, "the outside number owns the call", |c| {
            external(c)["end_conference_on_exit"] == true && agent_leg(c, &a)["status"] == "left"
        })
        .await;
    twilio_until(&cc, "the outside number owning the conference", |_| {
        twilio_flags(&cc, &conference, &outside) == Some((false, true))
    })
    .await;
    let outside_id = id_of(external(&call));
    let res = hold(&cc, &admin, &call_id, &outside_id, true).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    twilio_until(&cc, "the outside owner held", |_| {
        twilio_flags(&cc, &conference, &outside) == Some((true, true))
    })
    .await;
    let before = cc.sim.rest_log().len();

    let res = cc
        .app()
        .send_json(
            Method::DELETE,
            &format!("/api/calls/{call_id}/participants/{outside_id}"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    let call = cc
        .call_until(&admin, &call_id, "the customer back in the queue", |c| {
            c["status"] == "queued" && external(c)["status"] == "left"
        })
        .await;
    assert!(connected(customer(&call)));
    assert_eq!(call_status(&cc, &customer_sid), SimCallStatus::InProgress);
    let snapshot = cc.sim.snapshot();
    assert_eq!(
        snapshot.conference(&conference).unwrap().status,
        ConferenceStatus::InProgress,
        "the conference survived the removal"
    );
    no_ignored_changes(&cc);
    let sent: Vec<_> = cc.sim.rest_log()[before..]
        .iter()
        .filter(|r| addressed(r) == outside)
        .cloned()
        .collect();
    let steps: Vec<_> = sent
        .iter()
        .map(|r| {
            match (
                r.operation.as_deref(),
                r.param("Hold"),
                r.param("EndConferenceOnExit"),
            ) {
                (Some("UpdateParticipant"), Some("false"), None) => "unhold",
                (Some("UpdateParticipant"), None, Some("false")) => "flag off",
                (Some("DeleteParticipant"), _, _) => "remove",
                _ => "other",
            }
        })
        .collect();
    assert_eq!(steps, ["unhold", "flag off", "remove"], "{sent:#?}");
}

/// Row 3: the agent holds the customer while the outside number is still ringing. The ringing
/// leg is not lost: the transfer and its leg (with its call SID) stay on the call, and the
/// agent can still cancel it, which calls the leg off and unholds the customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holding_the_customer_while_the_outside_leg_rings_keeps_the_leg_cancellable() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let transfer = start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "phone_number": OUTSIDE }, "hold_customer": false }),
    )
    .await;
    let ringing = outside_rings(&cc).await;
    let call = cc
        .call_until(&admin, &call_id, "the leg's SID known", |c| {
            external(c)["call_sid"].as_str() == Some(ringing.as_str())
        })
        .await;
    let res = hold(&cc, &a.token, &call_id, &id_of(customer(&call)), true).await;
    assert_eq!(res.status(), 200);
    let conference = conference_sid(&cc, &customer_sid);
    twilio_until(&cc, "the customer held", |_| {
        twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(held, _)| held)
    })
    .await;

    // The ringing leg is still there, still known by its SID, still ringing.
    let call = cc
        .call_until(&admin, &call_id, "customer held", |c| {
            customer(c)["on_hold"] == true
        })
        .await;
    assert_eq!(call["transfers"][0]["status"], "dialing");
    let leg = external(&call);
    assert_eq!(leg["call_sid"], ringing.as_str());
    assert!(matches!(
        leg["status"].as_str(),
        Some("dialing" | "ringing")
    ));
    assert_eq!(call_status(&cc, &ringing), SimCallStatus::Ringing);

    let res = finish_transfer(&cc, &a, &call_id, &transfer, "cancel").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    twilio_until(&cc, "the ringing leg called off, customer unheld", |s| {
        s.call(&ringing).is_some_and(|c| c.status.is_final())
            && twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(held, _)| !held)
    })
    .await;
    let call = cc
        .call_until(&admin, &call_id, "canceled", |c| {
            c["transfers"][0]["status"] == "canceled" && customer(c)["on_hold"] == false
        })
        .await;
    assert_eq!(external(&call)["status"], "canceled");
    assert_eq!(call["owner_agent_id"], a.id.as_str());
}

/// Row 4: the only agent leaves while both the customer and the consulted outside number are on
/// hold. Nobody stays on hold (the outside number takes the call over and talks with the
/// customer), and holding a participant never changed its kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_last_agent_leaves_nobody_stays_on_hold_and_held_kinds_stay() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let (_, outside) = outside_consult(&cc, &admin, &a, &call_id, true).await;
    let call = cc.call_until(&admin, &call_id, "detail", |_| true).await;
    let res = hold(&cc, &a.token, &call_id, &id_of(external(&call)), true).await;
    assert_eq!(res.status(), 200);
    let conference = conference_sid(&cc, &customer_sid);
    twilio_until(&cc, "both held", |_| {
        twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| h)
            && twilio_flags(&cc, &conference, &outside).is_some_and(|(h, _)| h)
    })
    .await;
    let call = cc
        .call_until(&admin, &call_id, "both held in our record", |c| {
            customer(c)["on_hold"] == true && external(c)["on_hold"] == true
        })
        .await;
    assert_eq!(
        participant(&call, |p| sid_of(p) == customer_sid)["kind"],
        "customer"
    );
    assert_eq!(
        participant(&call, |p| p["call_sid"] == outside.as_str())["kind"],
        "external"
    );

    let res = cc
        .post(&a, &format!("/api/calls/{call_id}/leave"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    let snapshot = twilio_until(&cc, "nobody on hold", |s| {
        s.conference(&conference)
            .is_some_and(|c| c.participants.len() == 2 && c.participants.iter().all(|p| !p.hold))
    })
    .await;
    assert_eq!(
        snapshot.conference(&conference).unwrap().status,
        ConferenceStatus::InProgress
    );
    no_ignored_changes(&cc);
    let call = cc
        .call_until(&admin, &call_id, "the outside number owns the call", |c| {
            agent_leg(c, &a)["status"] == "left"
                && customer(c)["on_hold"] == false
                && external(c)["on_hold"] == false
                && external(c)["end_conference_on_exit"] == true
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert_eq!(
        participant(&call, |p| sid_of(p) == customer_sid)["kind"],
        "customer"
    );
    assert_eq!(
        participant(&call, |p| p["call_sid"] == outside.as_str())["kind"],
        "external"
    );
}

/// Row 5: holding and unholding a participant other than the customer (the consulted agent)
/// acts on that participant's leg; the customer's leg is not touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holding_a_transfer_target_acts_on_that_participant_not_the_customer() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    agent_consult(&cc, &admin, &a, &b, &call_id, false).await;
    let call = cc
        .call_until(&admin, &call_id, "b connected", |c| {
            connected(agent_leg(c, &b))
        })
        .await;
    let b_leg = agent_leg(&call, &b);
    let (b_id, b_sid) = (id_of(b_leg), sid_of(b_leg));
    let conference = conference_sid(&cc, &customer_sid);
    let before = participant_updates(&cc).len();

    let res = hold(&cc, &a.token, &call_id, &b_id, true).await;
    assert_eq!(res.status(), 200);
    twilio_until(&cc, "b held", |_| {
        twilio_flags(&cc, &conference, &b_sid).is_some_and(|(h, _)| h)
    })
    .await;
    assert_eq!(
        twilio_flags(&cc, &conference, &customer_sid).map(|(h, _)| h),
        Some(false),
        "the customer is not held"
    );
    let res = hold(&cc, &a.token, &call_id, &b_id, false).await;
    assert_eq!(res.status(), 200);
    twilio_until(&cc, "b unheld", |_| {
        twilio_flags(&cc, &conference, &b_sid).is_some_and(|(h, _)| !h)
    })
    .await;

    let sent = participant_updates(&cc)[before..].to_vec();
    let holds: Vec<_> = sent
        .iter()
        .map(|r| (addressed(r), r.param("Hold")))
        .collect();
    assert_eq!(
        holds,
        [
            (b_sid.as_str(), Some("true")),
            (b_sid.as_str(), Some("false"))
        ],
        "{sent:#?}"
    );
    let call = cc
        .call_until(&admin, &call_id, "b unheld", |c| {
            agent_leg(c, &b)["on_hold"] == false
        })
        .await;
    assert_eq!(customer(&call)["on_hold"], false);
}

/// Row 6: hold, unhold and mute address the participant by its call SID under the conference,
/// never by the conference SID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_addresses_the_participant_by_call_sid_never_the_conference_sid() {
    let cc = CallCenter::start().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let call = cc.my_call_until(&a, "detail", |_| true).await;
    let customer_id = id_of(customer(&call));
    let conference = conference_sid(&cc, &customer_sid);

    for on in [true, false] {
        let res = hold(&cc, &a.token, &call_id, &customer_id, on).await;
        assert_eq!(res.status(), 200);
    }
    twilio_until(&cc, "the customer unheld again", |_| {
        participant_updates(&cc).len() >= 2
            && twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| !h)
    })
    .await;
    let account = &cc.sim.config().account_sid;
    let sent = participant_updates(&cc);
    let expected_path = format!(
        "/2010-04-01/Accounts/{account}/Conferences/{conference}/Participants/{customer_sid}.json"
    );
    let holds: Vec<_> = sent.iter().filter(|r| r.param("Hold").is_some()).collect();
    assert_eq!(holds.len(), 2, "{sent:#?}");
    for r in &holds {
        assert_eq!(r.path, expected_path);
        assert_eq!(r.status, 200);
    }
    // No Participants request anywhere names the conference as the participant.
    for r in cc.sim.rest_log() {
        if r.path.contains("/Participants/") {
            assert!(addressed(&r).starts_with("CA"), "{r:#?}");
            assert_ne!(addressed(&r), conference);
        }
    }
}

/// Row 7: the agent leaves while the outside number still rings. The conference goes on (the
/// customer waits on hold); when the number answers it takes the call over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_while_the_outside_leg_rings_keeps_the_conference() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "phone_number": OUTSIDE } }),
    )
    .await;
    let ringing = outside_rings(&cc).await;
    let conference = conference_sid(&cc, &customer_sid);

    let res = cc
        .post(&a, &format!("/api/calls/{call_id}/leave"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    cc.call_until(&admin, &call_id, "a gone", |c| {
        agent_leg(c, &a)["status"] == "left"
    })
    .await;
    let snapshot = cc.sim.snapshot();
    assert_eq!(
        snapshot.conference(&conference).unwrap().status,
        ConferenceStatus::InProgress
    );
    assert_eq!(call_status(&cc, &customer_sid), SimCallStatus::InProgress);
    assert_eq!(call_status(&cc, &ringing), SimCallStatus::Ringing);

    cc.sim.accept(&ringing).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "the number took over", |c| {
            c["transfers"][0]["status"] == "completed"
                && customer(c)["on_hold"] == false
                && external(c)["end_conference_on_exit"] == true
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert!(connected(customer(&call)) && connected(external(&call)));
    twilio_until(&cc, "customer and number talking", |_| {
        twilio_flags(&cc, &conference, &customer_sid) == Some((false, true))
            && twilio_flags(&cc, &conference, &ringing) == Some((false, true))
    })
    .await;
}

/// Row 8: a consultation with an outside number is cancelled: the consulted leg is removed by
/// the call SID kept since it was placed, and the customer comes off hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_outside_consult_removes_the_consulted_leg_by_its_sid_and_unholds_the_customer()
{
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let (transfer, outside) = outside_consult(&cc, &admin, &a, &call_id, true).await;
    let conference = conference_sid(&cc, &customer_sid);
    twilio_until(&cc, "the customer held", |_| {
        twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| h)
    })
    .await;

    let res = finish_transfer(&cc, &a, &call_id, &transfer, "cancel").await;
    assert_eq!(res.status(), 200);
    let call = cc
        .call_until(&admin, &call_id, "consult off", |c| {
            external(c)["status"] == "left" && customer(c)["on_hold"] == false
        })
        .await;
    assert_eq!(call["transfers"][0]["status"], "canceled");
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    assert_eq!(external(&call)["call_sid"], outside.as_str());
    let removals: Vec<_> = cc
        .sim
        .rest_log()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("DeleteParticipant"))
        .collect();
    assert_eq!(removals.len(), 1, "{removals:#?}");
    assert_eq!(addressed(&removals[0]), outside);
    twilio_until(&cc, "customer unheld, number gone", |s| {
        twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| !h)
            && s.call(&outside).is_some_and(|c| c.status.is_final())
    })
    .await;
    assert!(connected(agent_leg(&call, &a)));
}

/// Row 9: the transfer is cancelled while the target agent is still ringing: the ringing leg is
/// called off, the customer unheld, and the target freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_transfer_while_the_target_still_rings_calls_the_leg_off() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    let transfer = start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "agent_id": b.id } }),
    )
    .await;
    let ringing = cc.ringing(&b).await;
    let conference = conference_sid(&cc, &customer_sid);

    let res = finish_transfer(&cc, &a, &call_id, &transfer, "cancel").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "canceled");
    twilio_until(&cc, "b's ringing leg called off", |s| {
        s.call(&ringing).is_some_and(|c| c.status.is_final())
            && twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| !h)
    })
    .await;
    assert!(cc.sim.ringing_for(&b.client()).is_empty());
    let call = cc
        .call_until(&admin, &call_id, "canceled", |c| {
            customer(c)["on_hold"] == false
        })
        .await;
    assert_eq!(
        participant(&call, |p| p["agent_id"] == b.id.as_str())["status"],
        "canceled"
    );
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    assert!(connected(agent_leg(&call, &a)));
    cc.status_until(&b, "available").await;
}

/// Row 10, warm: a transfer between agents sends Twilio only the customer's hold and unhold;
/// no `endConferenceOnExit` shuffling and no update of any agent's leg.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_warm_transfer_makes_no_needless_participant_updates() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let transfer = agent_consult(&cc, &admin, &a, &b, &call_id, true).await;
    let res = finish_transfer(&cc, &a, &call_id, &transfer, "complete").await;
    assert_eq!(res.status(), 200);
    cc.call_until(&admin, &call_id, "b owns", |c| {
        c["owner_agent_id"] == b.id.as_str()
            && agent_leg(c, &a)["status"] == "left"
            && customer(c)["on_hold"] == false
    })
    .await;
    settle(&cc).await;

    let sent = participant_updates(&cc);
    let summary: Vec<_> = sent
        .iter()
        .map(|r| {
            (
                addressed(r),
                r.param("Hold"),
                r.param("EndConferenceOnExit"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (customer_sid.as_str(), Some("true"), None),
            (customer_sid.as_str(), Some("false"), None)
        ],
        "{sent:#?}"
    );
}

/// Row 10, cold: the same for a cold transfer between agents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_cold_transfer_makes_no_needless_participant_updates() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "agent_id": b.id } }),
    )
    .await;
    cc.answer(&b).await;
    cc.call_until(&admin, &call_id, "b owns", |c| {
        c["owner_agent_id"] == b.id.as_str()
            && connected(agent_leg(c, &b))
            && customer(c)["on_hold"] == false
    })
    .await;
    settle(&cc).await;

    let sent = participant_updates(&cc);
    let summary: Vec<_> = sent
        .iter()
        .map(|r| {
            (
                addressed(r),
                r.param("Hold"),
                r.param("EndConferenceOnExit"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (customer_sid.as_str(), Some("true"), None),
            (customer_sid.as_str(), Some("false"), None)
        ],
        "{sent:#?}"
    );
}

/// `former` (who handed the call on) tries hold, transfer (to `colleague`), leave and hang-up:
/// each is refused with a conflict, nothing reaches Twilio, and their current call is gone.
async fn former_agent_is_refused(
    cc: &CallCenter,
    former: &Agent,
    colleague: &Agent,
    call_id: &str,
    customer_id: &str,
    when: &str,
) {
    cc.sim.settle(WAIT).await.unwrap();
    let before = cc.sim.rest_log().len();
    let res = hold(cc, &former.token, call_id, customer_id, false).await;
    assert_error(res, 409, "conflict").await;
    let res = cc
        .post(
            former,
            &format!("/api/calls/{call_id}/transfers"),
            json!({ "mode": "warm", "target": { "agent_id": colleague.id } }),
        )
        .await;
    assert_error(res, 409, "conflict").await;
    for action in ["leave", "hangup"] {
        let res = cc
            .post(former, &format!("/api/calls/{call_id}/{action}"), json!({}))
            .await;
        assert_error(res, 409, "conflict").await;
    }
    let me: Value = cc
        .app()
        .get("/api/me/call", Some(&former.token))
        .await
        .json()
        .await
        .unwrap();
    assert!(me["call"].is_null(), "{when}: {me:#}");
    let after: Vec<_> = cc.sim.rest_log()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .cloned()
        .collect();
    assert!(after.is_empty(), "{when}: {after:#?}");
}

/// Row 11: after a cold transfer the former agent no longer controls the conference: hold,
/// transfer, leave and hang-up are refused and reach Twilio not at all, while the target still
/// rings and after it answered; the former agent's current call is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_cold_transfer_the_former_agent_can_no_longer_control_the_call() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let c = cc.agent("c", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "agent_id": b.id } }),
    )
    .await;
    let call = cc
        .call_until(&admin, &call_id, "a gone", |x| {
            agent_leg(x, &a)["status"] == "left"
        })
        .await;
    let customer_id = id_of(customer(&call));
    cc.set_status(&c, "available").await;

    former_agent_is_refused(&cc, &a, &c, &call_id, &customer_id, "while b rings").await;
    cc.answer(&b).await;
    cc.call_until(&admin, &call_id, "b owns", |x| {
        x["owner_agent_id"] == b.id.as_str() && customer(x)["on_hold"] == false
    })
    .await;
    former_agent_is_refused(&cc, &a, &c, &call_id, &customer_id, "after b answered").await;
    assert_eq!(cc.agent_status(&c).await, "available", "c was never booked");
}

/// Row 11: after a completed warm transfer the former agent no longer controls the conference
/// either: every control is refused and reaches Twilio not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_warm_transfer_the_former_agent_can_no_longer_control_the_call() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let c = cc.agent("c", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let transfer = agent_consult(&cc, &admin, &a, &b, &call_id, true).await;
    let res = finish_transfer(&cc, &a, &call_id, &transfer, "complete").await;
    assert_eq!(res.status(), 200);
    let call = cc
        .call_until(&admin, &call_id, "b owns, a gone", |x| {
            x["owner_agent_id"] == b.id.as_str()
                && agent_leg(x, &a)["status"] == "left"
                && customer(x)["on_hold"] == false
        })
        .await;
    cc.set_status(&c, "available").await;
    let customer_id = id_of(customer(&call));
    former_agent_is_refused(&cc, &a, &c, &call_id, &customer_id, "after completing").await;
    assert_eq!(cc.agent_status(&c).await, "available", "c was never booked");
}

/// Row 12: the consulted agent hangs up mid-consult while the customer is on hold: the
/// transfer is off, the customer comes off hold, the first agent keeps the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_hanging_up_mid_consult_unholds_the_customer() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    agent_consult(&cc, &admin, &a, &b, &call_id, true).await;
    let conference = conference_sid(&cc, &customer_sid);
    twilio_until(&cc, "the customer held", |_| {
        twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| h)
    })
    .await;
    let call = cc
        .call_until(&admin, &call_id, "b on", |c| connected(agent_leg(c, &b)))
        .await;

    cc.sim.hang_up(&sid_of(agent_leg(&call, &b))).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "transfer off", |c| {
            c["transfers"][0]["status"] == "canceled"
                && agent_leg(c, &b)["status"] == "left"
                && customer(c)["on_hold"] == false
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    assert!(connected(agent_leg(&call, &a)));
    twilio_until(&cc, "the customer unheld", |_| {
        twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| !h)
    })
    .await;
    cc.status_until(&b, "available").await;
}

/// Row 12: the only agent leaves while the customer is on hold. The customer waits in the
/// queue (hold music, never silence) and comes off hold when the next agent joins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_while_the_customer_is_on_hold_gets_them_off_hold_with_the_next_agent() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let call = cc.my_call_until(&a, "detail", |_| true).await;
    let res = hold(&cc, &a.token, &call_id, &id_of(customer(&call)), true).await;
    assert_eq!(res.status(), 200);
    let conference = conference_sid(&cc, &customer_sid);
    twilio_until(&cc, "the customer held", |_| {
        twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| h)
    })
    .await;

    let res = cc
        .post(&a, &format!("/api/calls/{call_id}/leave"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    let call = cc
        .call_until(&admin, &call_id, "requeued", |c| {
            c["status"] == "queued" && agent_leg(c, &a)["status"] == "left"
        })
        .await;
    assert!(connected(customer(&call)));
    assert_eq!(call_status(&cc, &customer_sid), SimCallStatus::InProgress);
    // Waiting: held, so they hear music rather than an empty conference.
    assert_eq!(
        twilio_flags(&cc, &conference, &customer_sid).map(|(h, _)| h),
        Some(true)
    );

    let b = cc.agent("b", true).await;
    cc.answer(&b).await;
    let call = cc
        .call_until(&admin, &call_id, "b has the call, customer unheld", |c| {
            c["owner_agent_id"] == b.id.as_str() && customer(c)["on_hold"] == false
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    twilio_until(&cc, "the customer unheld", |_| {
        twilio_flags(&cc, &conference, &customer_sid).is_some_and(|(h, _)| !h)
    })
    .await;
}

/// Row 13: a cold transfer keeps the customer's leg where it is (the same conference, never
/// redirected or ended) and takes the transferring agent's leg out; the target joins the
/// customer's conference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_transfer_keeps_the_customers_leg_and_removes_the_agents() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let call = cc.my_call_until(&a, "detail", |_| true).await;
    let a_sid = sid_of(agent_leg(&call, &a));
    let conference = conference_sid(&cc, &customer_sid);
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "agent_id": b.id } }),
    )
    .await;
    let b_sid = cc.answer(&b).await;
    cc.call_until(&admin, &call_id, "b owns", |c| {
        c["owner_agent_id"] == b.id.as_str()
            && connected(agent_leg(c, &b))
            && customer(c)["on_hold"] == false
    })
    .await;

    let log = cc.sim.rest_log();
    // The customer's call itself was never updated (no redirect, no new TwiML, no hang-up).
    assert!(
        log.iter()
            .all(|r| r.operation.as_deref() != Some("UpdateCall")
                || !r.path.ends_with(&format!("/Calls/{customer_sid}.json"))),
        "{log:#?}"
    );
    // The agent's leg was taken out of the conference, not moved anywhere.
    let a_requests: Vec<_> = log.iter().filter(|r| r.path.contains(&a_sid)).collect();
    assert!(
        a_requests
            .iter()
            .any(|r| r.operation.as_deref() == Some("DeleteParticipant")),
        "{a_requests:#?}"
    );
    assert!(
        a_requests
            .iter()
            .all(|r| r.param("Url").is_none() && r.param("Twiml").is_none()),
        "{a_requests:#?}"
    );
    let snapshot = cc.sim.snapshot();
    assert_eq!(
        snapshot
            .call(&customer_sid)
            .unwrap()
            .conference_sid
            .as_deref(),
        Some(conference.as_str())
    );
    assert_eq!(
        snapshot.call(&customer_sid).unwrap().status,
        SimCallStatus::InProgress
    );
    let conf = snapshot.conference(&conference).unwrap();
    assert!(conf.participant(&customer_sid).is_some());
    assert!(conf.participant(&b_sid).is_some());
    assert!(conf.participant(&a_sid).is_none());
}

/// Row 14: the caller hangs up while an outside number is being rung for a transfer: that
/// ringing leg is called off with the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_abandoning_while_an_outside_number_rings_calls_that_leg_off() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "phone_number": OUTSIDE } }),
    )
    .await;
    let ringing = outside_rings(&cc).await;

    cc.sim.hang_up(&customer_sid).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "completed", |c| {
            c["status"] == "completed"
        })
        .await;
    assert_eq!(call["transfers"][0]["status"], "canceled");
    twilio_until(&cc, "the outside leg called off", |s| {
        s.call(&ringing).is_some_and(|c| c.status.is_final())
    })
    .await;
    assert!(cc.sim.ringing_for(OUTSIDE).is_empty());
    cc.status_until(&a, "available").await;
}
