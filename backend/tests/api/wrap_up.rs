//! After-call work and presence reasons through the real HTTP stack, the simulator and
//! PostgreSQL: wrap-up (finish, extend once, expiry, the disposition requirement), dispositions
//! and notes, away reasons, and the missed-call notice after a ring-out or a reject.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::voice::{answered_call, timeline_kinds, Agent, CallCenter, CUSTOMER};

async fn put(cc: &CallCenter, token: &str, path: &str, body: Value) -> reqwest::Response {
    cc.app()
        .send_json(Method::PUT, path, Some(token), &body)
        .await
}

async fn settings(cc: &CallCenter, admin: &str, seconds: i64, require_disposition: bool) {
    let res = put(
        cc,
        admin,
        "/api/wrap-up-settings",
        json!({ "wrap_up_seconds": seconds, "extension_seconds": 60, "require_disposition": require_disposition }),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn me(cc: &CallCenter, agent: &Agent) -> Value {
    cc.app()
        .get("/api/me", Some(&agent.token))
        .await
        .json()
        .await
        .unwrap()
}

/// The agent takes a call and the customer hangs up; returns the call's id.
async fn call_taken_and_ended(cc: &CallCenter, agent: &Agent) -> String {
    let (call_id, customer_sid) = answered_call(cc, agent).await;
    cc.sim.hang_up(&customer_sid).unwrap();
    call_id
}

async fn disposition(
    cc: &CallCenter,
    token: &str,
    call_id: &str,
    body: Value,
) -> reqwest::Response {
    put(
        cc,
        token,
        &format!("/api/calls/{call_id}/disposition"),
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrap_up_zero_turns_it_off() {
    let cc = CallCenter::start().await;
    let agent = cc.agent("ana", true).await;
    call_taken_and_ended(&cc, &agent).await;
    cc.status_until(&agent, "available").await;
    let res = cc.post(&agent, "/api/me/wrap-up/finish", json!({})).await;
    let body = assert_error(res, 409, "conflict").await;
    assert_eq!(body["message"], "you are not in wrap-up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_offers_no_call_during_wrap_up_and_finishing_frees_the_agent() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    settings(&cc, &admin, 600, false).await;
    let agent = cc.agent("ana", true).await;
    let call_id = call_taken_and_ended(&cc, &agent).await;
    cc.status_until(&agent, "wrap_up").await;
    let mine = me(&cc, &agent).await;
    assert_eq!(mine["wrap_up"]["call_id"], call_id.as_str());
    let until =
        chrono::DateTime::parse_from_rfc3339(mine["wrap_up"]["until"].as_str().unwrap()).unwrap();
    let left = until
        .signed_duration_since(chrono::Utc::now())
        .num_seconds();
    assert!((590..=600).contains(&left), "{left} s left");
    let call: Value = cc
        .call_until(&admin, &call_id, "the wrap-up on the timeline", |c| {
            timeline_kinds(c).contains(&"wrap_up_started".to_owned())
        })
        .await;
    assert_eq!(call["status"], "completed");

    // A new caller waits: the only agent is in wrap-up.
    cc.customer_calls().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        cc.sim.ringing_for(&agent.client()).is_empty(),
        "an agent in wrap-up was offered a call"
    );
    assert_eq!(cc.agent_status(&agent).await, "wrap_up");

    // Finishing early makes them available, and the waiting caller rings them.
    let res = cc.post(&agent, "/api/me/wrap-up/finish", json!({})).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    cc.ringing(&agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_disposition_blocks_finishing_and_extending_works_once() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    settings(&cc, &admin, 600, true).await;
    let agent = cc.agent("ana", true).await;
    let call_id = call_taken_and_ended(&cc, &agent).await;
    cc.status_until(&agent, "wrap_up").await;

    let res = cc.post(&agent, "/api/me/wrap-up/finish", json!({})).await;
    let body = assert_error(res, 409, "conflict").await;
    assert_eq!(
        body["message"],
        "choose a disposition for the call before finishing wrap-up"
    );
    // Going available by hand is finishing too: refused the same way.
    let res = put(
        &cc,
        &agent.token,
        "/api/me/status",
        json!({ "status": "available" }),
    )
    .await;
    assert_error(res, 409, "conflict").await;

    // Extend once; the second is refused.
    let before = me(&cc, &agent).await["wrap_up"]["until"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = cc.post(&agent, "/api/me/wrap-up/extend", json!({})).await;
    assert_eq!(res.status(), 200);
    let extended: Value = res.json().await.unwrap();
    assert_eq!(extended["wrap_up"]["extended"], true);
    let (a, b) = (
        chrono::DateTime::parse_from_rfc3339(&before).unwrap(),
        chrono::DateTime::parse_from_rfc3339(extended["wrap_up"]["until"].as_str().unwrap())
            .unwrap(),
    );
    assert_eq!(b.signed_duration_since(a).num_seconds(), 60);
    let res = cc.post(&agent, "/api/me/wrap-up/extend", json!({})).await;
    let body = assert_error(res, 409, "conflict").await;
    assert_eq!(body["message"], "wrap-up can be extended only once");

    // Notes alone do not satisfy the requirement; a code does.
    let res = disposition(
        &cc,
        &agent.token,
        &call_id,
        json!({ "notes": "called back later" }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = cc.post(&agent, "/api/me/wrap-up/finish", json!({})).await;
    assert_error(res, 409, "conflict").await;
    let res = disposition(
        &cc,
        &agent.token,
        &call_id,
        json!({ "code": "resolved", "notes": "Refund issued.\nFollow-up none." }),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let filed: Value = res.json().await.unwrap();
    assert_eq!(filed["label"], "Resolved");
    let res = cc.post(&agent, "/api/me/wrap-up/finish", json!({})).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "available");

    // The call's detail, timeline and the history list show it.
    let call = cc.call_until(&admin, &call_id, "detail", |_| true).await;
    assert_eq!(call["disposition"], "resolved");
    assert_eq!(
        call["disposition_detail"]["notes"],
        "Refund issued.\nFollow-up none."
    );
    assert!(timeline_kinds(&call).contains(&"disposition_set".to_owned()));
    let page: Value = cc
        .app()
        .get("/api/calls", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["disposition"], "resolved");

    // The wrap-up is over and a disposition is filed: changing it is for admins now.
    let res = disposition(&cc, &agent.token, &call_id, json!({ "code": "escalated" })).await;
    assert_error(res, 403, "forbidden").await;
    let res = disposition(&cc, &admin, &call_id, json!({ "code": "escalated" })).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispositions_refuse_strangers_bad_notes_and_unknown_codes() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    settings(&cc, &admin, 600, false).await;
    let agent = cc.agent("ana", true).await;
    let stranger = cc.agent("bob", false).await;
    let (call_id, _) = answered_call(&cc, &agent).await;

    // Filed during the call by the agent on it; never by an agent who did not handle it.
    let res = disposition(
        &cc,
        &stranger.token,
        &call_id,
        json!({ "code": "resolved" }),
    )
    .await;
    assert_error(res, 403, "forbidden").await;
    let res = disposition(
        &cc,
        &agent.token,
        &uuid::Uuid::new_v4().to_string(),
        json!({ "code": "resolved" }),
    )
    .await;
    assert_error(res, 404, "not_found").await;

    let too_long = "x".repeat(2001);
    let res = disposition(&cc, &agent.token, &call_id, json!({ "notes": too_long })).await;
    let body = assert_error(res, 400, "bad_request").await;
    assert_eq!(body["field"], "notes");
    assert!(body["message"].as_str().unwrap().contains("2000"), "{body}");
    let res = disposition(&cc, &agent.token, &call_id, json!({ "notes": "bell\u{7}" })).await;
    let body = assert_error(res, 400, "bad_request").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("control characters"),
        "{body}"
    );
    let res = disposition(&cc, &agent.token, &call_id, json!({ "code": "no_such" })).await;
    assert_eq!(assert_error(res, 400, "bad_request").await["field"], "code");

    // A deactivated code can no longer be picked.
    let res = cc
        .app()
        .send_json(
            Method::PATCH,
            "/api/dispositions/wrong_number",
            Some(&admin),
            &json!({ "active": false }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = disposition(
        &cc,
        &agent.token,
        &call_id,
        json!({ "code": "wrong_number" }),
    )
    .await;
    assert_error(res, 400, "bad_request").await;
    let res = disposition(&cc, &agent.token, &call_id, json!({ "code": "follow_up" })).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrap_up_ends_by_the_clock_unless_a_required_disposition_is_missing() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    settings(&cc, &admin, 1, false).await;
    let ana = cc.agent("ana", true).await;
    call_taken_and_ended(&cc, &ana).await;
    cc.status_until(&ana, "wrap_up").await;
    cc.status_until(&ana, "available").await;

    // Required and missing: the agent stays in wrap-up past its time, until they file one.
    settings(&cc, &admin, 1, true).await;
    let call_id = call_taken_and_ended(&cc, &ana).await;
    cc.status_until(&ana, "wrap_up").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(cc.agent_status(&ana).await, "wrap_up");
    let res = disposition(&cc, &ana.token, &call_id, json!({ "code": "resolved" })).await;
    assert_eq!(res.status(), 200);
    cc.status_until(&ana, "available").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrap_up_expiry_is_kept_in_the_database_and_survives_a_restart() {
    let (cc, relay) = CallCenter::start_with_cuttable_database().await;
    let admin = cc.admin().await;
    settings(&cc, &admin, 2, false).await;
    let ana = cc.agent("ana", true).await;
    call_taken_and_ended(&cc, &ana).await;
    cc.status_until(&ana, "wrap_up").await;
    // The instance loses its database for good (as if it died); a fresh one starts on the same
    // database with nothing in memory, and ends the wrap-up when its time is over.
    relay.lock().await.as_mut().unwrap().cut().await;
    let via_relay = url::Url::parse(cc.app().state.config.database.url.expose()).unwrap();
    let name = via_relay.path().trim_start_matches('/').to_owned();
    let mut env = crate::helpers::base_env(&crate::helpers::database_url(&name));
    env.insert("DATABASE_POOL_SIZE".into(), "4".into());
    let restarted = TestApp::spawn_on(env).await;
    restarted
        .poll(
            "/api/me",
            Some(&ana.token),
            "ana available after the restart",
            |me| me["status"] == "available",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn away_takes_an_active_reason() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let ana = cc.agent("ana", false).await;

    let reasons: Value = cc
        .app()
        .get("/api/away-reasons", Some(&ana.token))
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = reasons
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["break", "lunch", "training", "meeting"]);

    let res = put(
        &cc,
        &ana.token,
        "/api/me/status",
        json!({ "status": "away", "reason": "lunch" }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["away_reason"].as_str()),
        (Some("away"), Some("lunch"))
    );
    // The team list shows it too.
    let team: Value = cc
        .app()
        .get("/api/agents", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let listed = team
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ana.id.as_str())
        .unwrap();
    assert_eq!(listed["away_reason"], "lunch");

    for bad in ["nap", "missed_call", "Lunch"] {
        let res = put(
            &cc,
            &ana.token,
            "/api/me/status",
            json!({ "status": "away", "reason": bad }),
        )
        .await;
        assert_eq!(
            assert_error(res, 400, "bad_request").await["field"],
            "reason",
            "{bad}"
        );
    }
    let res = put(
        &cc,
        &ana.token,
        "/api/me/status",
        json!({ "status": "available", "reason": "lunch" }),
    )
    .await;
    assert_error(res, 400, "bad_request").await;

    // Admins manage the list; codes are unique and the system's own are reserved.
    let create = |token: &str, code: &str| {
        let body = json!({ "code": code, "label": "Coaching" });
        let token = token.to_owned();
        let app = cc.app();
        async move {
            app.send_json(Method::POST, "/api/away-reasons", Some(&token), &body)
                .await
        }
    };
    assert_error(create(&ana.token, "coaching").await, 403, "forbidden").await;
    assert_eq!(create(&admin, "coaching").await.status(), 201);
    assert_error(create(&admin, "coaching").await, 409, "conflict").await;
    assert_error(
        create(&admin, "missed_call").await,
        422,
        "validation_failed",
    )
    .await;
    let res = cc
        .app()
        .send_json(
            Method::PATCH,
            "/api/away-reasons/coaching",
            Some(&admin),
            &json!({ "active": false }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = put(
        &cc,
        &ana.token,
        "/api/me/status",
        json!({ "status": "away", "reason": "coaching" }),
    )
    .await;
    assert_error(res, 400, "bad_request").await;
    let res = cc
        .app()
        .get("/api/away-reasons?include_inactive=true", Some(&ana.token))
        .await;
    assert_error(res, 403, "forbidden").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrap_up_settings_are_bounded_and_for_admins() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let ana = cc.agent("ana", false).await;
    let body =
        json!({ "wrap_up_seconds": 30, "extension_seconds": 60, "require_disposition": false });
    assert_error(
        put(&cc, &ana.token, "/api/wrap-up-settings", body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    for (field, bad) in [
        ("wrap_up_seconds", 1801),
        ("wrap_up_seconds", -1),
        ("extension_seconds", 1801),
    ] {
        let mut b = body.clone();
        b[field] = json!(bad);
        let res = put(&cc, &admin, "/api/wrap-up-settings", b).await;
        assert_eq!(
            assert_error(res, 422, "validation_failed").await["field"],
            field
        );
    }
    let got: Value = cc
        .app()
        .get("/api/wrap-up-settings", Some(&ana.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["wrap_up_seconds"], 0,
        "wrap-up is off until an admin turns it on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ring_out_and_a_reject_set_the_agent_away_with_different_reasons_and_events() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let first = cc.agent("first", true).await;
    let second = cc.agent("second", true).await;
    cc.customer_calls().await;

    let ringing = cc.ringing(&first).await;
    cc.sim.time_out(&ringing).unwrap();
    cc.status_until(&first, "away").await;
    let mine = me(&cc, &first).await;
    assert_eq!(mine["away_reason"], "missed_call");
    assert_eq!(mine["missed_call"]["from_number"], CUSTOMER);
    let calls: Value = cc
        .app()
        .get("/api/calls", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let call_id = calls["items"][0]["id"].as_str().unwrap().to_owned();

    // The second agent declines it.
    let ringing = cc.ringing(&second).await;
    cc.sim.reject(&ringing).unwrap();
    cc.status_until(&second, "away").await;
    let theirs = me(&cc, &second).await;
    assert_eq!(theirs["away_reason"], "declined_call");
    assert_eq!(theirs["missed_call"]["from_number"], CUSTOMER);

    let call = cc
        .call_until(&admin, &call_id, "both misses on the timeline", |c| {
            let k = timeline_kinds(c);
            k.contains(&"agent_missed".to_owned()) && k.contains(&"agent_declined".to_owned())
        })
        .await;
    let kinds = timeline_kinds(&call);
    assert_eq!(
        kinds.iter().filter(|k| *k == "agent_missed").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "agent_declined").count(),
        1,
        "{kinds:?}"
    );

    // Going available clears the notice.
    cc.set_status(&first, "available").await;
    let mine = me(&cc, &first).await;
    assert!(
        mine["missed_call"].is_null() && mine["away_reason"].is_null(),
        "{mine}"
    );
}
