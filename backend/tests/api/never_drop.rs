//! "Never drop a caller": an agent's lost browser, a leave, a removal, a sign-out or a
//! deactivation in the middle of a call never ends it for the customer. Only an explicit hang-up
//! (the customer's, or an agent's through the API) does.

use serde_json::{json, Value};
use twilio_sim::CallStatus as SimCallStatus;

use crate::voice::{
    agent_leg, answered_call, connected, customer, participant, Agent, CallCenter, WAIT,
};

/// `from` warm-transfers the call to `to` (an agent), who answers, and completes it: `to` owns
/// the call and `from` has left.
async fn hand_over(cc: &CallCenter, admin: &str, from: &Agent, to: &Agent, call_id: &str) {
    cc.set_status(to, "available").await;
    let res = cc
        .post(
            from,
            &format!("/api/calls/{call_id}/transfers"),
            json!({ "mode": "warm", "target": { "agent_id": to.id } }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let transfer: Value = res.json().await.unwrap();
    cc.answer(to).await;
    cc.call_until(admin, call_id, "consulting", |c| {
        c["transfers"][0]["status"] == "consulting"
    })
    .await;
    let res = cc
        .post(
            from,
            &format!(
                "/api/calls/{call_id}/transfers/{}/complete",
                transfer["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    cc.call_until(admin, call_id, "handed over", |c| {
        c["owner_agent_id"] == to.id.as_str() && agent_leg(c, from)["status"] == "left"
    })
    .await;
}

fn customer_call_status(cc: &CallCenter, customer_sid: &str) -> SimCallStatus {
    cc.sim
        .snapshot()
        .calls
        .iter()
        .find(|c| c.sid == customer_sid)
        .expect("the customer's call")
        .status
}

/// The customer is still on the line: their call is live in Twilio and our record agrees.
async fn assert_customer_kept(cc: &CallCenter, admin: &str, call_id: &str, customer_sid: &str) {
    // Give the conference's callbacks time to land, then look at both sides.
    let call = cc
        .call_until(admin, call_id, "the customer back in the queue", |c| {
            matches!(c["status"].as_str(), Some("queued" | "ringing"))
        })
        .await;
    assert!(connected(customer(&call)), "{call:#}");
    assert_eq!(
        customer_call_status(cc, customer_sid),
        SimCallStatus::InProgress,
        "the customer's call is still up in Twilio"
    );
}

/// Item 6: after a completed transfer the new owner's browser crashes. The customer hears hold
/// music and the router rings that same agent again first (not the colleague who handed over).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_owners_lost_browser_keeps_the_customer_and_rings_that_agent_again() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", false).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    hand_over(&cc, &admin, &a, &b, &call_id).await;
    let call = cc
        .call_until(&admin, &call_id, "b's leg", |c| connected(agent_leg(c, &b)))
        .await;
    assert_eq!(
        agent_leg(&call, &b)["end_conference_on_exit"],
        false,
        "an agent's leg never owns the conference"
    );
    cc.status_until(&a, "available").await;

    // B's tab dies: Twilio ends their leg; nobody asked to end the call.
    let b_leg = agent_leg(&call, &b)["call_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    cc.sim.hang_up(&b_leg).unwrap();

    assert_customer_kept(&cc, &admin, &call_id, &customer_sid).await;
    // B comes back first; A (idle longer) is not rung before B.
    let ringing = cc.ringing(&b).await;
    assert!(
        cc.sim.ringing_for(&a.client()).is_empty(),
        "the agent who had the call is rung again first"
    );
    cc.sim.accept(&ringing).unwrap();
    let call = cc
        .call_until(&admin, &call_id, "b back on the call", |c| {
            c["status"] == "in_progress" && c["owner_agent_id"] == b.id.as_str()
        })
        .await;
    assert!(connected(customer(&call)));
}

/// Item 4: removing a participant that ends the conference on exit (an outside number that took
/// the call over) takes that power away first, so the customer stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_outside_owner_keeps_the_customer() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let res = cc
        .post(
            &a,
            &format!("/api/calls/{call_id}/transfers"),
            json!({ "mode": "warm", "target": { "phone_number": "+14155550199" } }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let transfer: Value = res.json().await.unwrap();
    let ringing = cc
        .sim
        .wait_for_ringing("+14155550199", WAIT)
        .await
        .expect("the number rings");
    cc.sim.accept(&ringing.call_sid).unwrap();
    cc.call_until(&admin, &call_id, "consulting", |c| {
        c["transfers"][0]["status"] == "consulting"
    })
    .await;
    let res = cc
        .post(
            &a,
            &format!(
                "/api/calls/{call_id}/transfers/{}/complete",
                transfer["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let call = cc
        .call_until(&admin, &call_id, "the number owns the call", |c| {
            participant(c, |p| p["kind"] == "external")["end_conference_on_exit"] == true
                && agent_leg(c, &a)["status"] == "left"
        })
        .await;
    let outside = participant(&call, |p| p["kind"] == "external")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let res = cc
        .app()
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/calls/{call_id}/participants/{outside}"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    assert_customer_kept(&cc, &admin, &call_id, &customer_sid).await;
}

/// Item 9: an agent who leaves while alone with the customer sends them back to the queue, and
/// the call goes to another agent, never back to the one who left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_alone_requeues_to_another_agent_not_the_one_who_left() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;

    let res = cc
        .post(&a, &format!("/api/calls/{call_id}/leave"), json!({}))
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    assert_customer_kept(&cc, &admin, &call_id, &customer_sid).await;
    cc.status_until(&a, "available").await;
    // Nobody else is available: the customer waits; A is not rung again.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert!(
        cc.sim.ringing_for(&a.client()).is_empty(),
        "the agent who left is not offered the same call"
    );
    let call = cc.call_until(&admin, &call_id, "queued", |_| true).await;
    assert_eq!(call["status"], "queued");

    // A colleague becomes available and gets it.
    let b = cc.agent("b", true).await;
    cc.answer(&b).await;
    cc.call_until(&admin, &call_id, "b has the call", |c| {
        c["status"] == "in_progress" && c["owner_agent_id"] == b.id.as_str()
    })
    .await;
}

/// Item 8: signing out on a call is refused with a message that says what to do, and changes
/// nothing; the caller is never stranded with a signed-out agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_mid_call_is_refused_and_keeps_the_session() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;

    let res = cc.post(&a, "/api/auth/logout", json!({})).await;
    let err = crate::helpers::assert_error(res, 409, "conflict").await;
    assert!(err["message"].as_str().unwrap().contains("call"), "{err:#}");
    // Still signed in, still on the call.
    assert_eq!(cc.agent_status(&a).await, "busy");
    let call = cc
        .call_until(&admin, &call_id, "in progress", |_| true)
        .await;
    assert_eq!(call["status"], "in_progress");
    assert!(connected(agent_leg(&call, &a)));
}

/// Item 8: an agent may sign out handing the call back: the customer returns to the queue and
/// goes to a colleague, and the signed-out agent stays offline when the call ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_with_hand_back_requeues_and_stays_offline() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;

    let res = cc
        .post(&a, "/api/auth/logout?hand_back=true", json!({}))
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    let me = cc.app().get("/api/me", Some(&a.token)).await;
    assert_eq!(me.status(), 401, "the session is over");
    assert_customer_kept(&cc, &admin, &call_id, &customer_sid).await;

    let b = cc.agent("b", true).await;
    cc.answer(&b).await;
    cc.call_until(&admin, &call_id, "b has the call", |c| {
        c["status"] == "in_progress" && c["owner_agent_id"] == b.id.as_str()
    })
    .await;
    cc.sim.hang_up(&customer_sid).unwrap();
    cc.call_until(&admin, &call_id, "completed", |c| {
        c["status"] == "completed"
    })
    .await;
    cc.status_until(&b, "available").await;
    let agents: Value = cc
        .app()
        .get("/api/agents", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let a_row = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == a.id.as_str())
        .unwrap();
    assert_eq!(a_row["status"], "offline", "{a_row:#}");
}

/// Item 8: deactivating an agent on a call hands the call back to the queue; the customer is
/// kept and the deactivated agent is never made available by the call ending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_an_agent_mid_call_hands_the_call_back() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;

    let res = cc
        .app()
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/agents/{}", a.id),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    assert_customer_kept(&cc, &admin, &call_id, &customer_sid).await;
    let call = cc
        .call_until(&admin, &call_id, "a's leg gone", |c| {
            agent_leg(c, &a)["status"] == "left"
        })
        .await;
    assert!(connected(customer(&call)));
    // The agent's browser leg was ended too (it cannot keep listening in).
    let leg = agent_leg(&call, &a)["call_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let leg_status = cc
        .sim
        .snapshot()
        .calls
        .iter()
        .find(|c| c.sid == leg)
        .unwrap()
        .status;
    assert_eq!(leg_status, SimCallStatus::Completed);
    let agents: Value = cc
        .app()
        .get("/api/agents?include_inactive=true", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let a_row = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == a.id.as_str())
        .unwrap();
    assert_eq!(a_row["status"], "offline", "{a_row:#}");
}

/// A call center whose engine asks Twilio about a leg after 2 s without news.
async fn impatient_call_center() -> CallCenter {
    CallCenter::start_with(1, |env| {
        env.insert("STALE_LEG_SECONDS".into(), "2".into());
    })
    .await
}

/// Item 1: the customer's participant-join callback is lost, so we still believe them ringing.
/// Long after, the engine asks Twilio instead of ending the leg on that stale belief: the
/// customer is never hung up, and their join is recorded from Twilio's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_customer_join_never_gets_the_customer_hung_up() {
    let cc = impatient_call_center().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    // The first join is the customer's.
    cc.sim.lose_next_callbacks("participant-join", None, 1);
    let customer_sid = cc.customer_calls().await;
    cc.answer(&a).await;
    let call = cc
        .my_call_until(&a, "a connected", |c| connected(agent_leg(c, &a)))
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();

    // Well past the stale limit, the customer is still talking, and we know it.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(
        customer_call_status(&cc, &customer_sid),
        SimCallStatus::InProgress
    );
    let call = cc
        .call_until(&admin, &call_id, "the customer's join reconciled", |c| {
            connected(customer(c))
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert!(connected(agent_leg(&call, &a)));
}

/// Item 1: an agent's participant-join is lost after they answered, so we still believe their
/// leg ringing. The engine asks Twilio, finds them in the conference, and records the join: the
/// agent is never hung up mid-conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_agent_join_is_settled_from_twilio_not_hung_up() {
    let cc = impatient_call_center().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let customer_sid = cc.customer_calls().await;
    let leg = cc.ringing(&a).await;
    cc.sim
        .lose_next_callbacks("participant-join", Some(&leg), 1);
    cc.sim.accept(&leg).unwrap();

    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let leg_status = cc
        .sim
        .snapshot()
        .calls
        .iter()
        .find(|c| c.sid == leg)
        .unwrap()
        .status;
    assert_eq!(
        leg_status,
        SimCallStatus::InProgress,
        "the agent is still on"
    );
    assert_eq!(
        customer_call_status(&cc, &customer_sid),
        SimCallStatus::InProgress
    );
    let call = cc
        .my_call_until(&a, "a's join reconciled", |c| {
            c["status"] == "in_progress" && connected(agent_leg(c, &a))
        })
        .await;
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    let _ = admin;
    cc.status_until(&a, "busy").await;
}

/// Item 1: an agent leg whose end was never reported (its completed callback lost) is settled
/// from Twilio's answer: the agent is freed and the call moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_ring_out_is_settled_from_twilio() {
    let cc = impatient_call_center().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    cc.customer_calls().await;
    let leg = cc.ringing(&a).await;
    // The leg rings out, and its final callback (the `completed` progress event, carrying
    // CallStatus=no-answer) is lost.
    cc.sim.lose_next_callbacks("completed", Some(&leg), 1);
    cc.sim.time_out(&leg).unwrap();
    let page = cc
        .app()
        .poll("/api/calls", Some(&admin), "the call", |p| {
            p["items"].as_array().is_some_and(|i| !i.is_empty())
        })
        .await;
    let call_id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let call = cc
        .call_until(&admin, &call_id, "the ring-out settled", |c| {
            participant(c, |p| p["agent_id"] == a.id.as_str())["status"] == "no_answer"
                && c["status"] == "queued"
        })
        .await;
    assert!(
        connected(customer(&call)),
        "the customer waits in the queue"
    );
    // Twilio said no-answer: the agent let it ring out, as if the callback had come.
    cc.status_until(&a, "away").await;
}

/// An agent's browser drops mid-call and both its participant-leave and its `completed` callback
/// are lost, so we still believe the agent on the call. The connected leg is checked with Twilio
/// (every `LIVE_LEG_CHECK_SECONDS`): its leave is recorded, the customer goes back to the queue
/// with music and is offered to that agent first, and the agent is not held busy for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_leg_whose_leave_and_end_were_lost_is_found_gone_and_the_customer_kept() {
    let cc = CallCenter::start_with(1, |env| {
        env.insert("LIVE_LEG_CHECK_SECONDS".into(), "2".into());
    })
    .await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let call = cc
        .call_until(&admin, &call_id, "a's leg", |c| connected(agent_leg(c, &a)))
        .await;
    let a_leg = agent_leg(&call, &a)["call_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    cc.sim
        .lose_next_callbacks("participant-leave", Some(&a_leg), 1);
    cc.sim.lose_next_callbacks("completed", Some(&a_leg), 1);
    cc.sim.hang_up(&a_leg).unwrap();

    let call = cc
        .call_until(&admin, &call_id, "a's leave found from Twilio", |c| {
            c["status"] == "queued" && agent_leg(c, &a)["status"] == "left"
        })
        .await;
    assert!(connected(customer(&call)), "{call:#}");
    assert!(
        crate::voice::timeline_kinds(&call).contains(&"requeued".to_owned()),
        "{call:#}"
    );
    assert_eq!(
        customer_call_status(&cc, &customer_sid),
        SimCallStatus::InProgress
    );
    // Twilio said the leg is over: the agent is free, and is offered the call again first.
    cc.call_until(&admin, &call_id, "a rung again", |c| {
        c["participants"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["agent_id"] == a.id.as_str())
            .count()
            == 2
    })
    .await;
}

/// Item 2: callbacks that arrive while the database is down are answered 2xx (Twilio never
/// retries an error answer) and kept; once it is back they are processed, so an agent who
/// answered during the outage is recorded on the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_during_a_database_outage_are_kept_and_processed_after() {
    let (cc, relay) = CallCenter::start_with_cuttable_database().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let customer_sid = cc.customer_calls().await;
    let leg = cc.ringing(&a).await;

    relay.lock().await.as_mut().unwrap().cut().await;
    cc.sim.clear_logs();
    cc.sim.accept(&leg).unwrap();
    // The join and the leg's progress reach the app while the database is down.
    let delivered = cc
        .sim
        .wait_for(
            |_| {
                cc.sim.webhook_log().iter().any(|w| {
                    w.event.as_deref() == Some("participant-join")
                        && w.call_sid.as_deref() == Some(leg.as_str())
                        && w.response_status.is_some()
                })
            },
            std::time::Duration::from_secs(15),
        )
        .await;
    assert!(delivered.is_ok(), "the join callback was delivered");
    for w in cc.sim.webhook_log() {
        if matches!(
            w.kind,
            twilio_sim::WebhookKind::ConferenceStatus | twilio_sim::WebhookKind::CallStatus
        ) {
            assert_eq!(
                w.response_status,
                Some(204),
                "a callback during the outage is answered 2xx: {w:#?}"
            );
        }
    }
    relay.lock().await.as_mut().unwrap().open().await;

    // Caught up once the database is back (a busy machine can take a while to reconnect).
    let call = cc
        .app()
        .poll_within(
            "/api/me/call",
            Some(&a.token),
            "the join processed after the outage",
            std::time::Duration::from_secs(30),
            |body| {
                let c = &body["call"];
                c["participants"].is_array()
                    && c["status"] == "in_progress"
                    && connected(agent_leg(c, &a))
            },
        )
        .await["call"]
        .clone();
    assert_eq!(call["owner_agent_id"], a.id.as_str());
    assert_eq!(call["customer_call_sid"], customer_sid.as_str());
    let _ = admin;
}

/// Item 2: a customer who calls while the database is down still gets the conference and music,
/// and once the database is back the call is stored and routed to an agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_during_a_database_outage_is_routed_once_it_is_back() {
    let (cc, relay) = CallCenter::start_with_cuttable_database().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;

    relay.lock().await.as_mut().unwrap().cut().await;
    let customer_sid = cc.customer_calls().await;
    cc.sim
        .wait_for(
            |s| {
                s.call(&customer_sid)
                    .is_some_and(|c| c.conference_sid.is_some() && !c.heard.is_empty())
            },
            std::time::Duration::from_secs(15),
        )
        .await
        .expect("the caller waits in the conference");
    // Long enough for every callback of the call's arrival to have been answered.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    relay.lock().await.as_mut().unwrap().open().await;

    cc.answer(&a).await;
    let call = cc
        .my_call_until(&a, "routed after the outage", |c| {
            c["status"] == "in_progress" && connected(agent_leg(c, &a))
        })
        .await;
    assert_eq!(call["customer_call_sid"], customer_sid.as_str());
    assert!(connected(customer(&call)));
    // The conference names neither party: the numbers come from Twilio's record of the call.
    assert_eq!(call["from_number"], crate::voice::CUSTOMER, "{call:#}");
    assert_ne!(call["to_number"], "unknown", "{call:#}");
    let _ = admin;
}

/// A caller whose voice webhook failed (Twilio answered from the fallback URL, which needs no
/// database) is adopted from their conference's first callback, which names neither party: the
/// agent is shown the caller's number all the same, from Twilio's record of the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_adopted_from_a_conference_callback_is_shown_with_their_number() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    cc.sim.fail_next_voice_urls(1);
    let customer_sid = cc.customer_calls().await;
    let page = cc
        .app()
        .poll(
            "/api/calls",
            Some(&admin),
            "the adopted call, numbered",
            |p| {
                p["items"].as_array().is_some_and(|items| {
                    items.iter().any(|c| {
                        c["customer_call_sid"] == customer_sid.as_str()
                            && c["from_number"] == crate::voice::CUSTOMER
                    })
                })
            },
        )
        .await;
    let call = &page["items"][0];
    assert_ne!(call["to_number"], "unknown", "{call:#}");
}

/// Item 2: a caller the database never heard of (the voice webhook answered from its fallback
/// route, which needs no database, and the caller's join callback was lost, as after a restart
/// that lost what it kept during an outage) waits in a live conference. The app looks for live
/// conferences it does not know, adopts the call, and routes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_conference_nobody_told_us_about_is_adopted_and_routed() {
    let cc = CallCenter::start_with(1, |env| {
        env.insert("STALE_LEG_SECONDS".into(), "2".into());
    })
    .await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    // Nothing reaches the database: the voice URL is unreachable so Twilio asks the fallback
    // route (which needs no database), and the caller's join callback is lost.
    cc.sim.fail_next_voice_urls(1);
    cc.sim.lose_next_callbacks("participant-join", None, 1);
    let customer_sid = cc.customer_calls().await;

    cc.answer(&a).await;
    let call = cc
        .my_call_until(&a, "the adopted call answered", |c| {
            c["status"] == "in_progress" && connected(agent_leg(c, &a))
        })
        .await;
    assert_eq!(call["customer_call_sid"], customer_sid.as_str());
    assert!(connected(customer(&call)));
    let _ = admin;
}

/// A leg's join can be processed before we learn its call SID (the create request's answer is
/// slow, its progress callbacks lost or late): the join carries the participant label we gave
/// the leg, so the agent is recognised on the call at once instead of sitting unseen in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_that_beats_the_legs_sid_is_recognised_by_its_label() {
    let cc = CallCenter::start().await;
    let a = cc.agent("a", true).await;
    for event in ["initiated", "ringing", "answered"] {
        cc.sim.lose_next_callbacks(event, None, 1);
    }
    // Twilio places the leg at once but its answer to our create request takes 4 s.
    cc.sim
        .timeout_next_rest(1, std::time::Duration::from_secs(4));
    cc.customer_calls().await;
    let started = std::time::Instant::now();
    cc.answer(&a).await;
    let call = cc
        .my_call_until(&a, "a on the call", |c| {
            c["status"] == "in_progress" && connected(agent_leg(c, &a))
        })
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "recognised by its label, not after the create request answered ({:?})",
        started.elapsed()
    );
    assert_eq!(call["owner_agent_id"], a.id.as_str());
}
