//! Supervisors on a call: listen (muted), whisper (only the agent hears them), barge (everyone
//! does), stop, and take the call over.

use reqwest::Method;
use serde_json::{json, Value};
use warm_transfer::domain::agent::Role;

use crate::helpers::assert_error;
use crate::voice::{
    agent_leg, answered_call, connected, customer, timeline_kinds, Agent, CallCenter,
};

async fn supervisor(cc: &CallCenter, name: &str, available: bool) -> Agent {
    let email = format!("{name}@example.com");
    let app = cc.app();
    let id = app.create_agent(&email, Role::Supervisor).await.to_string();
    let token = app.token(&email).await;
    let me: Value = app.get("/api/me", Some(&token)).await.json().await.unwrap();
    let sup = Agent {
        id,
        token,
        identity: me["client_identity"].as_str().unwrap().to_owned(),
        email,
    };
    if available {
        cc.set_status(&sup, "available").await;
    }
    sup
}

async fn monitor(cc: &CallCenter, who: &Agent, call_id: &str, mode: &str) -> reqwest::Response {
    cc.post(
        who,
        &format!("/api/calls/{call_id}/monitor"),
        json!({ "mode": mode }),
    )
    .await
}

fn supervisor_leg<'a>(call: &'a Value, sup: &Agent) -> Option<&'a Value> {
    call["participants"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|p| p["agent_id"] == sup.id.as_str() && p["kind"] == "supervisor")
}

/// Who hears `speaker` in the customer's conference, by call SID.
fn heard_by(cc: &CallCenter, customer_sid: &str, speaker: &str) -> Vec<String> {
    let snap = cc.sim.snapshot();
    let conf = snap
        .conferences
        .iter()
        .rev()
        .find(|c| c.participant(customer_sid).is_some())
        .expect("the customer's conference");
    conf.heard_by(speaker)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The supervisor listens and answers; returns their leg's call SID once it is in the call.
async fn listening(cc: &CallCenter, sup: &Agent, call_id: &str) -> String {
    let res = monitor(cc, sup, call_id, "listen").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let leg: Value = res.json().await.unwrap();
    assert_eq!(leg["kind"], "supervisor");
    assert_eq!(leg["monitor_mode"], "listen");
    let sid = cc.answer(sup).await;
    assert_eq!(
        leg["call_sid"],
        sid.as_str(),
        "the API names the leg the browser rings with"
    );
    cc.call_until(&sup.token, call_id, "the supervisor in the call", |c| {
        supervisor_leg(c, sup).is_some_and(connected)
    })
    .await;
    sid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_is_for_supervisors_and_refuses_what_does_not_fit() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, _) = answered_call(&cc, &ana).await;
    let app = cc.app();

    // A plain agent may do none of it.
    assert_error(
        monitor(&cc, &ana, &call_id, "listen").await,
        403,
        "forbidden",
    )
    .await;
    let res = app
        .send_json(
            Method::DELETE,
            &format!("/api/calls/{call_id}/monitor"),
            Some(&ana.token),
            &json!({}),
        )
        .await;
    assert_error(res, 403, "forbidden").await;
    let res = cc
        .post(&ana, &format!("/api/calls/{call_id}/take-over"), json!({}))
        .await;
    assert_error(res, 403, "forbidden").await;

    // Bad input names the field; an unknown call is 404.
    let body = assert_error(
        monitor(&cc, &sue, &call_id, "spy").await,
        400,
        "bad_request",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("listen"),
        "{body}"
    );
    let unknown = uuid::Uuid::new_v4();
    assert_error(
        monitor(&cc, &sue, &unknown.to_string(), "listen").await,
        404,
        "not_found",
    )
    .await;

    // Stopping or taking over without being on the call: 409, nothing changes.
    let res = app
        .send_json(
            Method::DELETE,
            &format!("/api/calls/{call_id}/monitor"),
            Some(&sue.token),
            &json!({}),
        )
        .await;
    assert_error(res, 409, "conflict").await;
    let res = cc
        .post(&sue, &format!("/api/calls/{call_id}/take-over"), json!({}))
        .await;
    let body = assert_error(res, 409, "conflict").await;
    assert!(
        body["message"].as_str().unwrap().contains("listen"),
        "{body}"
    );

    // A supervisor on their own routed call can't monitor it.
    let sam = supervisor(&cc, "sam", true).await;
    let (own_call, _) = answered_call(&cc, &sam).await;
    let body = assert_error(
        monitor(&cc, &sam, &own_call, "listen").await,
        409,
        "conflict",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("agent"),
        "{body}"
    );
    // ...nor another one while on a call.
    let body = assert_error(
        monitor(&cc, &sam, &call_id, "listen").await,
        409,
        "conflict",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("another call"),
        "{body}"
    );

    let call = cc
        .call_until(&sue.token, &call_id, "unchanged", |_| true)
        .await;
    assert!(call["participants"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["kind"] != "supervisor"));
    assert_eq!(call["owner_agent_id"], ana.id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_who_declines_or_misses_the_listening_leg_is_not_set_away_and_the_call_goes_on(
) {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;
    // Available only now, so the router gave the call to ana.
    cc.set_status(&sue, "available").await;

    let res = monitor(&cc, &sue, &call_id, "listen").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // While it rings the router keeps them out.
    assert_eq!(cc.agent_status(&sue).await, "reserved");
    let ringing = cc.ringing(&sue).await;
    cc.sim.reject(&ringing).unwrap();
    let call = cc
        .call_until(&sue.token, &call_id, "the leg declined", |c| {
            supervisor_leg(c, &sue).is_some_and(|p| p["status"] == "busy")
        })
        .await;
    assert!(timeline_kinds(&call).contains(&"monitor_missed".to_owned()));
    cc.status_until(&sue, "available").await;

    // Again, and this time it rings out.
    let res = monitor(&cc, &sue, &call_id, "listen").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let ringing = cc.ringing(&sue).await;
    cc.sim.time_out(&ringing).unwrap();
    cc.call_until(&sue.token, &call_id, "the leg rang out", |c| {
        supervisor_leg(c, &sue).is_some_and(|p| p["status"] == "no_answer")
    })
    .await;
    cc.status_until(&sue, "available").await;

    // The call is untouched: still ana's, both still talking.
    let call = cc
        .call_until(&sue.token, &call_id, "the call", |_| true)
        .await;
    assert_eq!(call["status"], "in_progress");
    assert_eq!(call["owner_agent_id"], ana.id.as_str());
    assert!(connected(agent_leg(&call, &ana)) && connected(customer(&call)));
    assert_eq!(cc.agent_status(&ana).await, "busy");
    assert!(cc
        .sim
        .snapshot()
        .call(&customer_sid)
        .is_some_and(|c| !c.status.is_final()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_whisper_and_barge_decide_who_hears_the_supervisor_then_stop_ends_only_their_leg() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;
    // Available only now, so the router gave the call to ana.
    cc.set_status(&sue, "available").await;
    let sue_sid = listening(&cc, &sue, &call_id).await;
    let call = cc.call_until(&sue.token, &call_id, "read", |_| true).await;
    let ana_sid = agent_leg(&call, &ana)["call_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cc.agent_status(&sue).await, "busy");

    // Listening: nobody hears the supervisor; they hear both.
    assert!(heard_by(&cc, &customer_sid, &sue_sid).is_empty());
    assert!(heard_by(&cc, &customer_sid, &customer_sid).contains(&sue_sid));
    assert!(heard_by(&cc, &customer_sid, &ana_sid).contains(&sue_sid));

    // Whisper: only the agent hears them.
    let res = monitor(&cc, &sue, &call_id, "whisper").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(
        res.json::<Value>().await.unwrap()["monitor_mode"],
        "whisper"
    );
    assert_eq!(
        heard_by(&cc, &customer_sid, &sue_sid),
        std::slice::from_ref(&ana_sid)
    );

    // Barge: everyone does.
    let res = monitor(&cc, &sue, &call_id, "barge").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mut heard = heard_by(&cc, &customer_sid, &sue_sid);
    heard.sort();
    let mut both = vec![customer_sid.clone(), ana_sid.clone()];
    both.sort();
    assert_eq!(heard, both);

    // Stop: only their leg ends; the call goes on with ana, and sue is free again.
    let res = cc
        .app()
        .send_json(
            Method::DELETE,
            &format!("/api/calls/{call_id}/monitor"),
            Some(&sue.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    let call = cc
        .call_until(&sue.token, &call_id, "the supervisor gone", |c| {
            supervisor_leg(c, &sue).is_some_and(|p| p["status"] == "left")
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert!(connected(agent_leg(&call, &ana)) && connected(customer(&call)));
    let kinds = timeline_kinds(&call);
    for kind in ["monitor_started", "monitor_mode_changed", "monitor_stopped"] {
        assert!(kinds.contains(&kind.to_owned()), "{kind} in {kinds:?}");
    }
    cc.status_until(&sue, "available").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_hanging_up_ends_the_supervisor_leg_too() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;
    // Available only now, so the router gave the call to ana.
    cc.set_status(&sue, "available").await;
    let sue_sid = listening(&cc, &sue, &call_id).await;

    cc.sim.hang_up(&customer_sid).unwrap();
    let call = cc
        .call_until(&sue.token, &call_id, "the call over", |c| {
            c["status"] == "completed"
        })
        .await;
    assert!(supervisor_leg(&call, &sue).is_some_and(|p| p["status"] == "left"));
    cc.status_until(&sue, "available").await;
    let snap = cc
        .sim
        .settle(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        snap.call(&sue_sid).is_some_and(|c| c.status.is_final()),
        "the supervisor's line was hung up"
    );
    assert!(
        snap.conferences
            .iter()
            .all(|c| c.participant(&sue_sid).is_none()),
        "no leftover participant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_barge_take_over_leaves_the_supervisor_with_the_customer_and_the_agent_in_wrap_up() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let res = cc
        .app()
        .send_json(
            Method::PUT,
            "/api/wrap-up-settings",
            Some(&admin),
            &json!({ "wrap_up_seconds": 60, "extension_seconds": 60, "require_disposition": false }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;
    // Available only now, so the router gave the call to ana.
    cc.set_status(&sue, "available").await;
    let sue_sid = listening(&cc, &sue, &call_id).await;
    let res = monitor(&cc, &sue, &call_id, "barge").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let res = cc
        .post(&sue, &format!("/api/calls/{call_id}/take-over"), json!({}))
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    let call = cc
        .call_until(&sue.token, &call_id, "sue owning the call, ana gone", |c| {
            c["owner_agent_id"] == sue.id.as_str() && agent_leg(c, &ana)["status"] == "left"
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert!(connected(customer(&call)));
    let sue_leg = agent_leg(&call, &sue);
    assert_eq!(sue_leg["kind"], "agent");
    assert!(sue_leg["monitor_mode"].is_null());
    assert!(timeline_kinds(&call).contains(&"taken_over".to_owned()));
    cc.status_until(&ana, "wrap_up").await;
    assert_eq!(cc.agent_status(&sue).await, "busy");
    // The customer hears sue and she hears them; the customer's line never dropped.
    assert!(heard_by(&cc, &customer_sid, &sue_sid).contains(&customer_sid));
    assert!(heard_by(&cc, &customer_sid, &customer_sid).contains(&sue_sid));
    assert!(cc
        .sim
        .snapshot()
        .call(&customer_sid)
        .is_some_and(|c| !c.status.is_final()));
    // Sue's own console shows it as her call.
    cc.my_call_until(&sue, "her call", |c| c["id"] == call_id.as_str())
        .await;

    // A second take-over: she is no longer a listener.
    let res = cc
        .post(&sue, &format!("/api/calls/{call_id}/take-over"), json!({}))
        .await;
    assert_error(res, 409, "conflict").await;
}

/// The supervisor's leg fetches its TwiML from a URL that fails (Twilio then asks the fallback
/// URL, which answers without the database): it still joins muted and unannounced, so the
/// customer never hears a supervisor who only meant to listen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listening_leg_answered_from_the_fallback_url_still_joins_muted() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;
    cc.set_status(&sue, "available").await;
    let res = monitor(&cc, &sue, &call_id, "listen").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // The next TwiML fetch is the supervisor's leg answering: it fails, the fallback answers.
    cc.sim.fail_next_voice_urls(1);
    let sue_sid = cc.answer(&sue).await;
    cc.call_until(&sue.token, &call_id, "the supervisor in the call", |c| {
        supervisor_leg(c, &sue).is_some_and(connected)
    })
    .await;
    let fallback = cc
        .sim
        .webhook_log()
        .into_iter()
        .find(|w| {
            w.url.contains("/twilio/leg/fallback")
                && w.call_sid.as_deref() == Some(sue_sid.as_str())
        })
        .expect("the supervisor's leg asked the fallback URL");
    assert_eq!(fallback.response_status, Some(200), "{fallback:#?}");
    assert!(
        heard_by(&cc, &customer_sid, &sue_sid).is_empty(),
        "a listening supervisor is heard by nobody"
    );
}

async fn take_over(cc: &CallCenter, sup: &Agent, call_id: &str) -> reqwest::Response {
    cc.post(sup, &format!("/api/calls/{call_id}/take-over"), json!({}))
        .await
}

fn sid_of(leg: &Value) -> String {
    leg["call_sid"].as_str().unwrap().to_owned()
}

/// Twilio refuses to unmute the supervisor, a take over's first step: the agent is never taken
/// out, the customer keeps hearing them, and the call reads as before, with the failure on its
/// timeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_take_over_twilio_refuses_leaves_the_agent_with_the_customer_and_changes_nothing() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;
    cc.set_status(&sue, "available").await;
    let sue_sid = listening(&cc, &sue, &call_id).await;
    let call = cc.call_until(&sue.token, &call_id, "read", |_| true).await;
    let ana_sid = sid_of(agent_leg(&call, &ana));

    cc.sim.fail_next_rest(1, 400);
    let body = assert_error(take_over(&cc, &sue, &call_id).await, 502, "upstream_failed").await;
    let call = cc.call_until(&sue.token, &call_id, "read", |_| true).await;
    assert_eq!(call["status"], "in_progress");
    assert_eq!(call["owner_agent_id"], ana.id.as_str());
    assert!(connected(agent_leg(&call, &ana)) && connected(customer(&call)));
    let sue_leg = supervisor_leg(&call, &sue).expect("still her supervisor leg");
    assert!(connected(sue_leg));
    assert_eq!(sue_leg["monitor_mode"], "listen");
    let kinds = timeline_kinds(&call);
    assert!(kinds.contains(&"take_over_failed".to_owned()), "{kinds:?}");
    assert!(!kinds.contains(&"taken_over".to_owned()), "{kinds:?}");
    // In Twilio too: Ana was never taken out, and the customer hears her, not Sue.
    let snap = cc
        .sim
        .settle(std::time::Duration::from_secs(2))
        .await
        .unwrap();
    let conf = snap
        .conferences
        .iter()
        .rev()
        .find(|c| c.participant(&customer_sid).is_some())
        .unwrap();
    assert!(
        conf.participant(&ana_sid).is_some(),
        "ana is still in the call"
    );
    assert!(heard_by(&cc, &customer_sid, &ana_sid).contains(&customer_sid));
    assert!(heard_by(&cc, &customer_sid, &sue_sid).is_empty());
    assert_eq!(cc.agent_status(&ana).await, "busy");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("was not taken over"),
        "{body}"
    );

    // Once Twilio answers again, a second try goes through.
    let res = take_over(&cc, &sue, &call_id).await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    cc.call_until(&sue.token, &call_id, "sue owning the call, ana gone", |c| {
        c["owner_agent_id"] == sue.id.as_str() && agent_leg(c, &ana)["status"] == "left"
    })
    .await;
    assert!(heard_by(&cc, &customer_sid, &sue_sid).contains(&customer_sid));
}

/// Twilio refuses a switch from listening to whispering: the stored mode (what the board and
/// the agent's banner show) stays what Twilio has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mode_switch_twilio_refuses_keeps_the_mode_twilio_has() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;
    cc.set_status(&sue, "available").await;
    let sue_sid = listening(&cc, &sue, &call_id).await;

    cc.sim.fail_next_rest(1, 400);
    let body = assert_error(
        monitor(&cc, &sue, &call_id, "whisper").await,
        502,
        "upstream_failed",
    )
    .await;
    let call = cc.call_until(&sue.token, &call_id, "read", |_| true).await;
    let sue_leg = supervisor_leg(&call, &sue).unwrap();
    assert_eq!(sue_leg["monitor_mode"], "listen");
    assert!(connected(sue_leg));
    assert!(timeline_kinds(&call).contains(&"monitor_mode_change_failed".to_owned()));
    let board: Vec<Value> = cc
        .app()
        .get("/api/board/calls", Some(&sue.token))
        .await
        .json()
        .await
        .unwrap();
    let on_board = board.iter().find(|c| c["id"] == call_id.as_str()).unwrap();
    assert_eq!(on_board["monitors"][0]["mode"], "listen", "{on_board}");
    assert!(heard_by(&cc, &customer_sid, &sue_sid).is_empty());
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("heard as before"),
        "{body}"
    );

    // Once Twilio answers again, the switch goes through.
    let res = monitor(&cc, &sue, &call_id, "whisper").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let ana_sid = sid_of(agent_leg(&call, &ana));
    assert_eq!(heard_by(&cc, &customer_sid, &sue_sid), [ana_sid]);
}

/// A supervisor made a plain agent while listening keeps their leg, but it makes them no agent
/// of the call: they may not hold the customer or hang up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listening_leg_grants_no_agent_rights_to_someone_no_longer_a_supervisor() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, _) = answered_call(&cc, &ana).await;
    cc.set_status(&sue, "available").await;
    listening(&cc, &sue, &call_id).await;
    let res = cc
        .app()
        .send_json(
            Method::PATCH,
            &format!("/api/agents/{}", sue.id),
            Some(&admin),
            &json!({ "role": "agent" }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let call = cc.call_until(&admin, &call_id, "read", |_| true).await;
    let customer_id = customer(&call)["id"].as_str().unwrap().to_owned();
    let res = cc
        .post(
            &sue,
            &format!("/api/calls/{call_id}/participants/{customer_id}/hold"),
            json!({ "hold": true }),
        )
        .await;
    assert_error(res, 403, "forbidden").await;
    let res = cc
        .post(&sue, &format!("/api/calls/{call_id}/hangup"), json!({}))
        .await;
    assert_error(res, 403, "forbidden").await;
    let call = cc.call_until(&admin, &call_id, "read", |_| true).await;
    assert_eq!(call["status"], "in_progress");
    assert_eq!(customer(&call)["on_hold"], false);
    // What they may still do: stop listening, which ends only their own leg.
    let res = cc
        .app()
        .send_json(
            Method::DELETE,
            &format!("/api/calls/{call_id}/monitor"),
            Some(&sue.token),
            &json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let call = cc
        .call_until(&admin, &call_id, "the listening leg gone", |c| {
            c["participants"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["kind"] != "supervisor" || p["status"] == "left")
        })
        .await;
    assert_eq!(call["status"], "in_progress");
}

/// A supervisor who handled the call earlier as its agent (and had their wrap-up then) now only
/// listens: their listening leg ending frees them, without a second wrap-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_who_had_the_call_earlier_is_not_put_in_wrap_up_when_they_stop_listening() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let res = cc
        .app()
        .send_json(
            Method::PUT,
            "/api/wrap-up-settings",
            Some(&admin),
            &json!({ "wrap_up_seconds": 60, "extension_seconds": 60, "require_disposition": false }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let sue = supervisor(&cc, "sue", true).await;
    let ana = cc.agent("ana", false).await;
    // Sue takes the call as its agent, sends it back to the queue and finishes her wrap-up.
    let (call_id, _) = answered_call(&cc, &sue).await;
    let res = cc
        .post(
            &sue,
            &format!("/api/calls/{call_id}/transfer-to-queue"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    cc.status_until(&sue, "wrap_up").await;
    let res = cc.post(&sue, "/api/me/wrap-up/finish", json!({})).await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    cc.status_until(&sue, "available").await;
    // Ana has it now; Sue listens in, then stops.
    cc.set_status(&ana, "available").await;
    cc.answer(&ana).await;
    cc.call_until(&admin, &call_id, "ana has it", |c| {
        c["status"] == "in_progress" && connected(agent_leg(c, &ana))
    })
    .await;
    listening(&cc, &sue, &call_id).await;
    assert_eq!(cc.agent_status(&sue).await, "busy");
    let res = cc
        .app()
        .send_json(
            Method::DELETE,
            &format!("/api/calls/{call_id}/monitor"),
            Some(&sue.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    cc.call_until(&admin, &call_id, "the listening leg over", |c| {
        supervisor_leg(c, &sue).is_some_and(|p| p["status"] == "left")
    })
    .await;
    cc.status_until(&sue, "available").await;
    let call = cc.call_until(&admin, &call_id, "read", |_| true).await;
    let wrap_ups = timeline_kinds(&call)
        .iter()
        .filter(|k| *k == "wrap_up_started")
        .count();
    assert_eq!(wrap_ups, 1, "only the one for Sue's time as its agent");
}
