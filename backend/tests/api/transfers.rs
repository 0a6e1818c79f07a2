//! Transfer variants and their failure paths, and call control.

use serde_json::{json, Value};

use crate::voice::{
    agent_leg, answered_call, connected, customer, finish_transfer, participant, start_transfer,
    timeline_kinds, Agent, CallCenter,
};

/// `by` warm-transfers the call to `target`, who answers; returns the transfer once the
/// admin's view shows it (the `index`th of the call) consulting.
async fn consult(
    cc: &CallCenter,
    admin: &str,
    by: &Agent,
    target: &Agent,
    call_id: &str,
    index: usize,
) -> Value {
    cc.set_status(target, "available").await;
    let transfer = start_transfer(
        cc,
        by,
        call_id,
        json!({ "mode": "warm", "target": { "agent_id": target.id } }),
    )
    .await;
    cc.answer(target).await;
    cc.call_until(admin, call_id, "consulting", |c| {
        c["transfers"][index]["status"] == "consulting"
    })
    .await;
    transfer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_warm_transfer_leaves_the_first_agent_with_the_customer() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let transfer = consult(&cc, &admin, &a, &b, &call_id, 0).await;

    let res = finish_transfer(&cc, &a, &call_id, &transfer, "cancel").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "canceled");
    let call = cc
        .call_until(&admin, &call_id, "b removed, customer unheld", |c| {
            agent_leg(c, &b)["status"] == "left" && customer(c)["on_hold"] == false
        })
        .await;
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    assert!(connected(agent_leg(&call, &a)));
    cc.status_until(&b, "available").await;

    // The finished transfer can't be completed or canceled again.
    let res = finish_transfer(&cc, &a, &call_id, &transfer, "complete").await;
    crate::helpers::assert_error(res, 409, "conflict").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_transfer_target_who_rejects_changes_nothing_for_the_customer() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "agent_id": b.id } }),
    )
    .await;
    let ringing = cc.ringing(&b).await;
    cc.sim.reject(&ringing).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "transfer failed", |c| {
            c["transfers"][0]["status"] == "failed" && customer(c)["on_hold"] == false
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    assert!(timeline_kinds(&call).contains(&"transfer_failed".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_transfer_hands_over_when_the_target_answers() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "agent_id": b.id } }),
    )
    .await;

    // A leaves at once; the customer hears hold music while B rings.
    let call = cc
        .call_until(&admin, &call_id, "a gone, customer held", |c| {
            agent_leg(c, &a)["status"] == "left" && customer(c)["on_hold"] == true
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    cc.status_until(&a, "available").await;

    cc.answer(&b).await;
    let call = cc
        .call_until(&admin, &call_id, "b owns the call", |c| {
            c["owner_agent_id"] == b.id.as_str()
                && customer(c)["on_hold"] == false
                && agent_leg(c, &b)["end_conference_on_exit"] == false
        })
        .await;
    assert_eq!(call["transfers"][0]["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_cold_transfer_puts_the_call_back_in_the_queue() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "agent_id": b.id } }),
    )
    .await;
    cc.status_until(&a, "available").await;
    // A became available again after leaving, so the requeued call may ring A: make A away first.
    cc.set_status(&a, "away").await;

    let ringing = cc.ringing(&b).await;
    cc.sim.time_out(&ringing).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "back in the queue", |c| {
            c["status"] == "queued" && c["transfers"][0]["status"] == "failed"
        })
        .await;
    // Never dropped: the customer is still in the conference, hearing hold music.
    assert!(connected(customer(&call)));
    assert_eq!(customer(&call)["on_hold"], true);

    // The next available agent gets it.
    let c = cc.agent("c", true).await;
    cc.answer(&c).await;
    let call = cc
        .call_until(&admin, &call_id, "c answered", |x| {
            x["status"] == "in_progress"
                && x["owner_agent_id"] == c.id.as_str()
                && customer(x)["on_hold"] == false
        })
        .await;
    assert!(connected(agent_leg(&call, &c)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_reach_external_numbers_and_bad_numbers_get_422() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;

    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfers"),
            json!({ "mode": "warm", "target": { "phone_number": "555-0100" } }),
        )
        .await;
    let err = crate::helpers::assert_error(res, 422, "validation_failed").await;
    assert_eq!(err["field"], "phone_number");
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfers"),
            json!({ "mode": "warm", "target": {} }),
        )
        .await;
    crate::helpers::assert_error(res, 422, "validation_failed").await;

    let transfer = start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "phone_number": "+1 (415) 555-0199" } }),
    )
    .await;
    assert_eq!(transfer["to_number"], "+14155550199");
    let ringing = cc
        .sim
        .wait_for_ringing("+14155550199", crate::voice::WAIT)
        .await
        .expect("the number rings");
    cc.sim.accept(&ringing.call_sid).unwrap();
    cc.call_until(&admin, &call_id, "consulting", |c| {
        c["transfers"][0]["status"] == "consulting"
    })
    .await;
    let res = finish_transfer(&cc, &a, &call_id, &transfer, "complete").await;
    assert_eq!(res.status(), 200);
    let call = cc
        .call_until(&admin, &call_id, "external owns", |c| {
            participant(c, |p| p["kind"] == "external")["end_conference_on_exit"] == true
                && agent_leg(c, &a)["status"] == "left"
        })
        .await;
    assert!(call["owner_agent_id"].is_null());
    assert_eq!(call["status"], "in_progress");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_hanging_up_during_a_transfer_ends_everything() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let customer_sid = cc.customer_calls().await;
    cc.answer(&a).await;
    let call = cc
        .my_call_until(&a, "connected", |c| {
            c["status"] == "in_progress" && connected(customer(c))
        })
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "agent_id": b.id } }),
    )
    .await;
    let ringing = cc.ringing(&b).await;

    cc.sim.hang_up(&customer_sid).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "completed", |c| {
            c["status"] == "completed"
        })
        .await;
    assert_eq!(call["transfers"][0]["status"], "canceled");
    cc.status_until(&a, "available").await;
    cc.status_until(&b, "available").await;
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
        .expect("the transfer target's ringing leg is called off");

    // Control on a finished call is a conflict that changes nothing.
    let res = cc
        .post(&a, &format!("/api/calls/{call_id}/hangup"), json!({}))
        .await;
    crate::helpers::assert_error(res, 409, "conflict").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_mute_show_in_the_participants_state() {
    let cc = CallCenter::start().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let call = cc
        .my_call_until(&a, "connected", |c| c["status"] == "in_progress")
        .await;
    let customer_id = customer(&call)["id"].as_str().unwrap().to_owned();
    let own_id = agent_leg(&call, &a)["id"].as_str().unwrap().to_owned();

    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/participants/{customer_id}/hold"),
            json!({ "hold": true }),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["on_hold"], true);
    // Twilio confirms through the conference callback, and the simulator plays hold music.
    cc.sim
        .wait_for(
            |s| {
                s.conferences
                    .iter()
                    .flat_map(|c| &c.participants)
                    .any(|p| p.call_sid == customer(&call)["call_sid"].as_str().unwrap() && p.hold)
            },
            crate::voice::WAIT,
        )
        .await
        .expect("held in Twilio");
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/participants/{customer_id}/hold"),
            json!({ "hold": false }),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["on_hold"], false);

    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/participants/{own_id}/mute"),
            json!({ "muted": true }),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["muted"], true);
    let call = cc
        .my_call_until(&a, "muted", |c| {
            agent_leg(c, &a)["muted"] == true && customer(c)["on_hold"] == false
        })
        .await;
    let kinds = timeline_kinds(&call);
    assert!(
        kinds.contains(&"hold".to_owned()) && kinds.contains(&"mute".to_owned()),
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_agents_on_the_call_control_it() {
    let cc = CallCenter::start().await;
    let a = cc.agent("a", true).await;
    let outsider = cc.agent("outsider", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let res = cc
        .post(
            &outsider,
            &format!("/api/calls/{call_id}/hangup"),
            json!({}),
        )
        .await;
    crate::helpers::assert_error(res, 403, "forbidden").await;
    // Asked of an outsider, a transfer is refused before its target is looked up: an agent id
    // that does not exist, or a malformed number, gets the same 403 (nothing to learn from it).
    for target in [
        json!({ "agent_id": uuid::Uuid::new_v4() }),
        json!({ "phone_number": "not a number" }),
    ] {
        let res = cc
            .post(
                &outsider,
                &format!("/api/calls/{call_id}/transfers"),
                json!({ "target": target, "mode": "warm" }),
            )
            .await;
        crate::helpers::assert_error(res, 403, "forbidden").await;
    }
    let res = cc
        .app()
        .get(&format!("/api/calls/{call_id}"), Some(&outsider.token))
        .await;
    crate::helpers::assert_error(res, 403, "forbidden").await;
    let res = cc
        .app()
        .client
        .post(cc.app().url(&format!("/api/calls/{call_id}/leave")))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(res, 401, "unauthorized").await;
    // Transferring to someone who is not available is a conflict.
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfers"),
            json!({ "mode": "warm", "target": { "agent_id": outsider.id } }),
        )
        .await;
    crate::helpers::assert_error(res, 409, "conflict").await;

    // Hanging up ends it for everyone.
    let res = cc
        .post(&a, &format!("/api/calls/{call_id}/hangup"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    cc.status_until(&a, "available").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_who_leaves_without_a_transfer_sends_the_customer_back_to_the_queue() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let res = cc
        .post(&a, &format!("/api/calls/{call_id}/leave"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    let call = cc
        .call_until(&admin, &call_id, "requeued", |c| {
            timeline_kinds(c).contains(&"requeued".to_owned())
                && agent_leg(c, &a)["status"] == "left"
        })
        .await;
    assert!(connected(customer(&call)), "the customer is never dropped");
    assert!(call["owner_agent_id"].is_null() || call["status"] != "completed");
    // A left on purpose: free again, but not offered the same call (it waits for a colleague).
    cc.status_until(&a, "available").await;
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    assert!(cc.sim.ringing_for(&a.client()).is_empty());
}

/// A second transfer hands the call on again; no agent's leg ever ends the conference, so
/// completing it never hangs up on the customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_transfer_keeps_the_customer_connected() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let c = cc.agent("c", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let first = consult(&cc, &admin, &a, &b, &call_id, 0).await;
    let res = finish_transfer(&cc, &a, &call_id, &first, "complete").await;
    assert_eq!(res.status(), 200);
    cc.call_until(&admin, &call_id, "b owns", |x| {
        x["owner_agent_id"] == b.id.as_str()
            && agent_leg(x, &b)["end_conference_on_exit"] == false
            && agent_leg(x, &a)["status"] == "left"
    })
    .await;

    let second = consult(&cc, &admin, &b, &c, &call_id, 1).await;
    let res = finish_transfer(&cc, &b, &call_id, &second, "complete").await;
    assert_eq!(res.status(), 200);
    let call = cc
        .call_until(&admin, &call_id, "c owns, b gone", |x| {
            x["owner_agent_id"] == c.id.as_str()
                && agent_leg(x, &b)["status"] == "left"
                && agent_leg(x, &c)["end_conference_on_exit"] == false
        })
        .await;
    assert_eq!(
        call["status"], "in_progress",
        "the customer is still connected"
    );
    assert!(connected(customer(&call)) && connected(agent_leg(&call, &c)));
    assert_eq!(customer(&call)["on_hold"], false);
}

/// An owner who leaves while the transfer target still rings must not take the customer along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_leaving_while_the_target_rings_keeps_the_customer() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let c = cc.agent("c", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    let first = start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "agent_id": b.id } }),
    )
    .await;
    let _ = first;
    cc.answer(&b).await;
    cc.call_until(&admin, &call_id, "b owns", |x| {
        x["owner_agent_id"] == b.id.as_str() && agent_leg(x, &b)["end_conference_on_exit"] == false
    })
    .await;

    cc.set_status(&c, "available").await;
    start_transfer(
        &cc,
        &b,
        &call_id,
        json!({ "mode": "warm", "target": { "agent_id": c.id } }),
    )
    .await;
    let ringing = cc.ringing(&c).await;
    let res = cc
        .post(&b, &format!("/api/calls/{call_id}/leave"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    cc.call_until(&admin, &call_id, "b gone", |x| {
        agent_leg(x, &b)["status"] == "left"
    })
    .await;
    cc.sim.accept(&ringing).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "c took over", |x| {
            x["owner_agent_id"] == c.id.as_str() && customer(x)["on_hold"] == false
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert!(connected(customer(&call)));
}

// ---- handover notes, truthful outcomes, the queue as a target ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handover_note_too_long_or_with_control_characters_is_a_400_naming_the_field() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    for note in [
        "x".repeat(501),
        "line one\nline two".to_owned(),
        "bell\u{7}".to_owned(),
    ] {
        let res = cc
            .post(
                &a,
                &format!("/api/calls/{call_id}/transfers"),
                json!({ "mode": "warm", "target": { "agent_id": b.id }, "note": note }),
            )
            .await;
        let err = crate::helpers::assert_error(res, 400, "bad_request").await;
        assert_eq!(err["field"], "note", "{err}");
    }
    // Nothing started: no transfer, b still free.
    let call = cc.call_until(&admin, &call_id, "detail", |_| true).await;
    assert_eq!(call["transfers"], json!([]));
    assert_eq!(cc.agent_status(&b).await, "available");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_sees_and_hears_the_handover_note_and_the_timeline_keeps_it() {
    let cc = CallCenter::start().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    let transfer = start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "agent_id": b.id }, "note": "  Wants a refund for order 1042  " }),
    )
    .await;
    assert_eq!(transfer["note"], "Wants a refund for order 1042");
    // While it rings, the target's view of the call carries the note.
    let ringing = cc
        .my_call_until(&b, "offered to b", |c| {
            c["transfers"][0]["status"] == "dialing"
        })
        .await;
    assert_eq!(
        ringing["transfers"][0]["note"],
        "Wants a refund for order 1042"
    );
    let leg = cc.answer(&b).await;
    let call = cc
        .my_call_until(&b, "consulting", |c| {
            c["transfers"][0]["status"] == "consulting"
        })
        .await;
    assert_eq!(
        call["transfers"][0]["note"],
        "Wants a refund for order 1042"
    );
    assert!(timeline_kinds(&call).contains(&"handover_note".to_owned()));
    let note = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "handover_note")
        .unwrap();
    assert_eq!(note["data"]["by"], a.id.as_str());
    assert_eq!(note["data"]["note"], "Wants a refund for order 1042");
    // On answering, b heard who it is from (still on the line) and the note.
    let said = cc.sim.snapshot().call(&leg).unwrap().said().join(" ");
    assert!(said.contains("who is on the line"), "{said}");
    assert!(said.contains("Wants a refund for order 1042"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_transfer_target_hears_that_the_first_agent_has_left() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "phone_number": "+14155550199" } }),
    )
    .await;
    let ringing = cc
        .sim
        .wait_for_ringing("+14155550199", crate::voice::WAIT)
        .await
        .unwrap();
    cc.sim.accept(&ringing.call_sid).unwrap();
    cc.call_until(&admin, &call_id, "handed over", |c| {
        c["transfers"][0]["status"] == "completed"
    })
    .await;
    let said = cc
        .sim
        .snapshot()
        .call(&ringing.call_sid)
        .unwrap()
        .said()
        .join(" ");
    assert!(said.contains("has already left the call"), "{said}");
    assert!(
        !said.to_lowercase().contains("on the line to brief"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_consult_names_who_cancelled_it() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let transfer = consult(&cc, &admin, &a, &b, &call_id, 0).await;
    let res = finish_transfer(&cc, &a, &call_id, &transfer, "cancel").await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["end_reason"], "canceled");
    assert_eq!(view["ended_by"], a.id.as_str());
    assert_eq!(view["requeued"], false);
    // The target can read why the consult ended from the call they were on.
    let seen_by_b = cc
        .call_until(&b.token, &call_id, "b sees the cancel", |c| {
            c["transfers"][0]["status"] == "canceled"
        })
        .await;
    assert_eq!(seen_by_b["transfers"][0]["ended_by"], a.id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_transfer_tells_the_sender_why_and_that_the_customer_is_back_with_them() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "agent_id": b.id } }),
    )
    .await;
    let ringing = cc.ringing(&b).await;
    cc.sim.reject(&ringing).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "transfer failed", |c| {
            c["transfers"][0]["status"] == "failed"
        })
        .await;
    assert_eq!(call["transfers"][0]["end_reason"], "declined");
    assert_eq!(call["transfers"][0]["requeued"], false);
    assert_eq!(call["status"], "in_progress");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_cold_transfer_tells_the_sender_the_customer_went_back_to_the_queue() {
    let cc = CallCenter::start().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "phone_number": "+14155550199" } }),
    )
    .await;
    cc.status_until(&a, "available").await;
    cc.set_status(&a, "away").await;
    let ringing = cc
        .sim
        .wait_for_ringing("+14155550199", crate::voice::WAIT)
        .await
        .unwrap();
    cc.sim.time_out(&ringing.call_sid).unwrap();
    // The sender, no longer on the call, can still read how it went.
    let call = cc
        .call_until(&a.token, &call_id, "failed and requeued", |c| {
            c["transfers"][0]["status"] == "failed"
        })
        .await;
    assert_eq!(call["transfers"][0]["end_reason"], "no_answer");
    assert_eq!(call["transfers"][0]["requeued"], true);
    assert_eq!(call["status"], "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_who_signs_out_while_it_rings_fails_the_transfer_and_the_customer_is_requeued() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "cold", "target": { "agent_id": b.id } }),
    )
    .await;
    cc.status_until(&a, "available").await;
    cc.set_status(&a, "away").await;
    cc.ringing(&b).await;
    let res = cc
        .post(&b, "/api/auth/logout?hand_back=true", json!({}))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let call = cc
        .call_until(&admin, &call_id, "failed and requeued", |c| {
            c["transfers"][0]["status"] == "failed" && c["status"] == "queued"
        })
        .await;
    assert_eq!(call["transfers"][0]["end_reason"], "target_signed_out");
    assert_eq!(call["transfers"][0]["requeued"], true);
    // Never dropped: still in the conference, on hold music.
    assert!(connected(customer(&call)));
    assert_eq!(customer(&call)["on_hold"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_racing_the_targets_answer_leaves_the_customer_with_the_first_agent() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.set_status(&b, "available").await;
    let transfer = start_transfer(
        &cc,
        &a,
        &call_id,
        json!({ "mode": "warm", "target": { "agent_id": b.id } }),
    )
    .await;
    let ringing = cc.ringing(&b).await;
    let (cancel, _) = tokio::join!(
        finish_transfer(&cc, &a, &call_id, &transfer, "cancel"),
        async { cc.sim.accept(&ringing) }
    );
    assert_eq!(cancel.status(), 200);
    let call = cc
        .call_until(&admin, &call_id, "b gone, customer back with a", |c| {
            c["transfers"][0]["status"] == "canceled"
                && !connected(agent_leg(c, &b))
                && agent_leg(c, &b)["status"] != "ringing"
                && customer(c)["on_hold"] == false
        })
        .await;
    assert_eq!(call["transfers"][0]["end_reason"], "canceled");
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    assert!(connected(agent_leg(&call, &a)));
    cc.status_until(&b, "available").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_to_queue_of_a_call_that_already_ended_is_a_409() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    cc.sim.hang_up(&customer_sid).unwrap();
    cc.call_until(&admin, &call_id, "completed", |c| {
        c["status"] == "completed"
    })
    .await;
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfer-to-queue"),
            json!({}),
        )
        .await;
    crate::helpers::assert_error(res, 409, "conflict").await;
    // Unknown call, and someone not on the call.
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{}/transfer-to-queue", uuid::Uuid::new_v4()),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_to_queue_puts_the_customer_ahead_of_later_callers_and_frees_the_agent() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    // Someone else calls meanwhile and waits: nobody is free.
    cc.sim.dial_in("+14155550177");
    cc.app()
        .poll("/api/queue", Some(&admin), "second caller queued", |q| {
            q["items"].as_array().is_some_and(|i| i.len() == 1)
        })
        .await;
    let outsider = cc.agent("x", false).await;
    let res = cc
        .post(
            &outsider,
            &format!("/api/calls/{call_id}/transfer-to-queue"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 403);

    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfer-to-queue"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let call = cc
        .call_until(&admin, &call_id, "requeued", |c| c["status"] == "queued")
        .await;
    assert!(connected(customer(&call)), "never dropped");
    assert_eq!(customer(&call)["on_hold"], true);
    let kinds = timeline_kinds(&call);
    assert!(
        kinds.contains(&"transferred_to_queue".to_owned()),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"call_received".to_owned()), "history kept");
    // First in line, ahead of the caller who has waited since.
    let queue = cc
        .app()
        .poll("/api/queue", Some(&admin), "both queued", |q| {
            q["items"].as_array().is_some_and(|i| i.len() == 2)
        })
        .await;
    assert_eq!(queue["items"][0]["call_id"], call_id.as_str());
    // The agent is released (no wrap-up configured: straight back to available) and is not
    // offered the call they sent away: what rings them is the later caller.
    cc.ringing(&a).await;
    let offered = cc
        .my_call_until(&a, "a offered a call", |c| !c.is_null())
        .await;
    assert_ne!(offered["id"], call_id.as_str());
    // A colleague gets the call that went back to the queue.
    let c = cc.agent("c", true).await;
    cc.answer(&c).await;
    cc.call_until(&admin, &call_id, "c has it", |x| {
        x["status"] == "in_progress" && x["owner_agent_id"] == c.id.as_str()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_to_queue_that_twilio_refuses_keeps_the_customer_with_the_agent() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    cc.sim.fail_next_rest(1, 400);
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfer-to-queue"),
            json!({}),
        )
        .await;
    crate::helpers::assert_error(res, 502, "upstream_failed").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let call = cc.call_until(&admin, &call_id, "detail", |_| true).await;
    assert_eq!(call["status"], "in_progress");
    assert!(connected(agent_leg(&call, &a)));
    assert!(connected(customer(&call)));
    assert_eq!(customer(&call)["on_hold"], false);
    let kinds = timeline_kinds(&call);
    let sent = kinds.iter().position(|k| k == "transferred_to_queue");
    let failed = kinds.iter().position(|k| k == "transfer_to_queue_failed");
    assert!(sent.is_some() && failed > sent, "{kinds:?}");
    // A second try, once Twilio answers again, goes through.
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfer-to-queue"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 204);
    cc.call_until(&admin, &call_id, "requeued", |c| c["status"] == "queued")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_to_queue_is_refused_while_someone_else_is_with_the_customer() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    consult(&cc, &admin, &a, &b, &call_id, 0).await;
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfer-to-queue"),
            json!({}),
        )
        .await;
    crate::helpers::assert_error(res, 409, "conflict").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_transfer_to_queue_right_after_the_first_requeues_the_call_once() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let path = format!("/api/calls/{call_id}/transfer-to-queue");
    let (first, second) = tokio::join!(cc.post(&a, &path, json!({})), async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        cc.post(&a, &path, json!({})).await
    });
    let statuses = [first.status().as_u16(), second.status().as_u16()];
    assert!(statuses.contains(&204), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [204, 409].contains(s)),
        "{statuses:?}"
    );
    let call = cc
        .call_until(&admin, &call_id, "requeued", |c| c["status"] == "queued")
        .await;
    assert!(connected(customer(&call)), "never dropped");
    let requeues = timeline_kinds(&call)
        .iter()
        .filter(|k| *k == "requeued")
        .count();
    assert_eq!(requeues, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_to_queue_takes_a_note_for_the_next_agent_and_a_bad_one_changes_nothing() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let path = format!("/api/calls/{call_id}/transfer-to-queue");

    // Bad input first: each a 400 saying what is wrong, and the customer stays with A.
    for note in ["x".repeat(501), "line one\nline two".to_owned()] {
        let res = cc.post(&a, &path, json!({ "note": note })).await;
        let err = crate::helpers::assert_error(res, 400, "bad_request").await;
        assert_eq!(err["field"], "note", "{err}");
    }
    for body in [json!({ "note": 5 }), json!({ "notes": "typo" })] {
        let res = cc.post(&a, &path, body).await;
        let err = crate::helpers::assert_error(res, 400, "bad_request").await;
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains("invalid JSON body"),
            "{err}"
        );
    }
    let call = cc.call_until(&admin, &call_id, "detail", |_| true).await;
    assert_eq!(call["status"], "in_progress");
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    assert!(!timeline_kinds(&call).contains(&"transferred_to_queue".to_owned()));

    let res = cc
        .post(&a, &path, json!({ "note": "  Wants the billing team  " }))
        .await;
    assert_eq!(res.status(), 204);
    // The next agent sees the note with the call, from the moment it rings.
    let c = cc.agent("c", true).await;
    cc.ringing(&c).await;
    let offered = cc
        .my_call_until(&c, "c offered the call", |x| x["id"] == call_id.as_str())
        .await;
    let sent = offered["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "transferred_to_queue")
        .cloned()
        .expect("the transfer to the queue is on the timeline");
    assert_eq!(sent["data"]["by"], a.id.as_str());
    assert_eq!(sent["data"]["note"], "Wants the billing team");
    cc.answer(&c).await;
    cc.call_until(&admin, &call_id, "c has it", |x| {
        x["status"] == "in_progress" && x["owner_agent_id"] == c.id.as_str()
    })
    .await;

    // The body may be left out altogether: no note.
    let res = cc
        .app()
        .client
        .post(cc.app().url(&path))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let call = cc
        .call_until(&admin, &call_id, "sent back twice", |x| {
            x["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "transferred_to_queue")
                .count()
                == 2
        })
        .await;
    let second = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["kind"] == "transferred_to_queue")
        .unwrap()
        .clone();
    assert_eq!(second["data"]["by"], c.id.as_str());
    assert!(second["data"].get("note").is_none(), "{second}");
}
