//! The call flow end to end: signed webhooks, the simulator playing Twilio, real PostgreSQL.

use serde_json::{json, Value};

use crate::voice::{
    agent_leg, connected, customer, participant, timeline_kinds, CallCenter, CUSTOMER,
};

/// The tutorial's six steps: two agents available, a customer calls and waits, agent 1 answers,
/// brings in agent 2, leaves; customer and agent 2 still talk; the customer hangs up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tutorials_warm_transfer() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let agent1 = cc.agent("agent1", true).await;
    let agent2 = cc.agent("agent2", false).await;
    cc.set_status(&agent2, "available").await; // agent 1 has been idle longer: they ring first

    let customer_sid = cc.customer_calls().await;
    // The customer waits in a conference, hearing the greeting and music.
    cc.sim
        .wait_for(
            |s| {
                s.conferences
                    .iter()
                    .any(|c| c.participants.iter().any(|p| p.call_sid == customer_sid))
            },
            crate::voice::WAIT,
        )
        .await
        .expect("the customer is in a conference");

    cc.answer(&agent1).await;
    let call = cc
        .my_call_until(&agent1, "agent 1 connected", |c| {
            c["status"] == "in_progress" && connected(agent_leg(c, &agent1))
        })
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    assert_eq!(call["from_number"], CUSTOMER);
    assert_eq!(call["owner_agent_id"], agent1.id.as_str());
    assert_eq!(cc.agent_status(&agent1).await, "busy");
    assert!(connected(customer(&call)));

    // Agent 1 brings in agent 2 (warm), holding the customer meanwhile.
    let res = cc
        .post(
            &agent1,
            &format!("/api/calls/{call_id}/transfers"),
            json!({ "mode": "warm", "target": { "agent_id": agent2.id } }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let transfer: Value = res.json().await.unwrap();
    assert_eq!(transfer["status"], "dialing");
    cc.status_until(&agent2, "reserved").await;
    cc.answer(&agent2).await;
    let call = cc
        .call_until(&admin, &call_id, "agent 2 consulting", |c| {
            c["transfers"][0]["status"] == "consulting" && customer(c)["on_hold"] == true
        })
        .await;
    assert!(connected(agent_leg(&call, &agent2)));

    // Agent 1 completes: leaves; agent 2 owns the call and the customer is off hold.
    let res = cc
        .post(
            &agent1,
            &format!(
                "/api/calls/{call_id}/transfers/{}/complete",
                transfer["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let call = cc
        .call_until(&admin, &call_id, "agent 1 gone, agent 2 owning", |c| {
            agent_leg(c, &agent1)["status"] == "left"
                && customer(c)["on_hold"] == false
                && agent_leg(c, &agent2)["end_conference_on_exit"] == false
        })
        .await;
    assert_eq!(call["owner_agent_id"], agent2.id.as_str());
    assert_eq!(call["status"], "in_progress");
    assert!(connected(customer(&call)) && connected(agent_leg(&call, &agent2)));
    assert_eq!(call["transfers"][0]["status"], "completed");
    cc.status_until(&agent1, "available").await;
    // In the simulator's conference the customer and agent 2 are still talking.
    let snapshot = cc.sim.snapshot();
    let conference = snapshot
        .conferences
        .iter()
        .find(|c| c.participants.iter().any(|p| p.call_sid == customer_sid))
        .unwrap();
    assert_eq!(conference.participants.len(), 2, "{conference:#?}");

    // The customer hangs up: the call is over and both agents are free again.
    cc.sim.hang_up(&customer_sid).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "call completed", |c| {
            c["status"] == "completed"
        })
        .await;
    cc.status_until(&agent2, "available").await;
    cc.status_until(&agent1, "available").await;
    assert!(call["ended_at"].is_string() && call["duration_seconds"].is_number());
    let kinds = timeline_kinds(&call);
    for expected in [
        "call_received",
        "agent_ringing",
        "participant_joined",
        "transfer_started",
        "transfer_completed",
        "participant_left",
        "call_ended",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "timeline lacks {expected}: {kinds:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_waits_until_an_agent_becomes_available() {
    let cc = CallCenter::start().await;
    let agent = cc.agent("ana", false).await;
    cc.customer_calls().await;
    let queue: Vec<Value> = loop {
        let page: Value = cc
            .app()
            .get("/api/queue", Some(&agent.token))
            .await
            .json()
            .await
            .unwrap();
        let q = page["items"].as_array().cloned().unwrap_or_default();
        if !q.is_empty() {
            assert_eq!(page["total"], 1);
            break q;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(queue[0]["status"], "queued");
    assert_eq!(queue[0]["from_number"], CUSTOMER);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(
        cc.sim.ringing_for(&agent.client()).is_empty(),
        "nobody is available, nobody rings"
    );

    cc.set_status(&agent, "available").await;
    cc.answer(&agent).await;
    cc.my_call_until(&agent, "connected", |c| c["status"] == "in_progress")
        .await;
    let page: Value = cc
        .app()
        .get("/api/queue", Some(&agent.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], serde_json::json!([]));
    assert_eq!(page["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_ring_moves_to_the_next_agent() {
    let cc = CallCenter::start().await;
    let first = cc.agent("first", true).await;
    let second = cc.agent("second", true).await;
    cc.customer_calls().await;

    let ringing = cc.ringing(&first).await;
    assert!(
        cc.sim.ringing_for(&second.client()).is_empty(),
        "one agent rings at a time"
    );
    cc.sim.time_out(&ringing).unwrap();
    // The agent who let it ring out stops receiving calls; the next one rings.
    cc.status_until(&first, "away").await;
    cc.answer(&second).await;
    let call = cc
        .my_call_until(&second, "second agent connected", |c| {
            c["status"] == "in_progress"
        })
        .await;
    assert_eq!(
        participant(&call, |p| p["agent_id"] == first.id.as_str())["status"],
        "no_answer"
    );
    assert!(timeline_kinds(&call).contains(&"agent_missed".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_ring_moves_on_too() {
    let cc = CallCenter::start().await;
    let first = cc.agent("first", true).await;
    let second = cc.agent("second", true).await;
    cc.customer_calls().await;
    let ringing = cc.ringing(&first).await;
    cc.sim.reject(&ringing).unwrap();
    cc.answer(&second).await;
    cc.my_call_until(&second, "connected", |c| c["status"] == "in_progress")
        .await;
    cc.status_until(&first, "away").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_hangs_up_while_waiting_is_abandoned_and_the_ringing_agent_freed() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let agent = cc.agent("ana", true).await;
    let customer_sid = cc.customer_calls().await;
    let ringing = cc.ringing(&agent).await;
    cc.sim.hang_up(&customer_sid).unwrap();

    cc.status_until(&agent, "available").await;
    // The agent's ringing leg is called off.
    cc.sim
        .wait_for(
            |s| {
                s.calls
                    .iter()
                    .any(|c| c.sid == ringing && c.status.is_final())
            },
            crate::voice::WAIT,
        )
        .await
        .expect("ringing leg canceled");
    let page: Value = cc
        .app()
        .get("/api/calls", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let call_id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let call = cc
        .call_until(&admin, &call_id, "abandoned", |c| {
            c["status"] == "abandoned"
        })
        .await;
    assert!(call["answered_at"].is_null());
}
