//! Security of the Twilio edge, idempotency under duplicated and reordered callbacks, retries,
//! and many simultaneous calls across two instances.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use twilio::signature::compute_signature;

use crate::helpers::assert_error;
use crate::voice::{agent_leg, connected, customer, CallCenter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_without_a_valid_signature_get_403_and_no_twiml() {
    let cc = CallCenter::start().await;
    let app = cc.app();
    let params = [
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("From", "+14155550100"),
        ("To", "+15005550006"),
    ];
    let url = app.url("/twilio/voice");

    let unsigned = app.client.post(&url).form(&params).send().await.unwrap();
    assert_eq!(unsigned.status(), 403);
    assert!(!unsigned.text().await.unwrap().contains("<Response"));

    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let forged = compute_signature("not-the-auth-token-0123456789abcd", &url, &owned);
    let res = app
        .client
        .post(&url)
        .header("X-Twilio-Signature", forged)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // Signed correctly but for other parameters (tampered in transit).
    let token = cc.sim.config().auth_token.clone();
    let signed = compute_signature(&token, &url, &owned);
    let res = app
        .client
        .post(&url)
        .header("X-Twilio-Signature", &signed)
        .form(&[
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("From", "+19999999999"),
            ("To", "+15005550006"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // And the genuine article gets TwiML that puts the caller in a conference.
    let res = app
        .client
        .post(&url)
        .header("X-Twilio-Signature", &signed)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("xml"));
    let body = res.text().await.unwrap();
    assert!(
        body.contains("<Conference")
            && body.contains("startConferenceOnEnter=\"false\"")
            && body.contains("endConferenceOnExit=\"true\""),
        "{body}"
    );

    for path in [
        "/twilio/wait",
        "/twilio/hold",
        "/twilio/conference-status",
        "/twilio/voice/fallback",
    ] {
        let res = app
            .client
            .post(app.url(path))
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_tokens_are_for_signed_in_agents_only_and_name_them() {
    let cc = CallCenter::start().await;
    let res = cc
        .app()
        .client
        .post(cc.app().url("/api/voice/token"))
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "unauthorized").await;

    let agent = cc.agent("ana", false).await;
    let res = cc
        .app()
        .client
        .post(cc.app().url("/api/voice/token"))
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["identity"], agent.identity.as_str());
    let claims = twilio::token::verify_access_token(
        body["token"].as_str().unwrap(),
        &cc.sim.config().api_key_secret,
        chrono::Utc::now().timestamp(),
    )
    .unwrap();
    assert_eq!(claims.grants.identity, agent.identity);
    assert_eq!(claims.iss, cc.sim.config().api_key_sid);
    assert_eq!(claims.sub, cc.sim.config().account_sid);
    assert!(claims.exp - claims.nbf <= 3600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_reordered_callbacks_are_applied_once_and_in_order() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let agent = cc.agent("ana", true).await;
    cc.sim.duplicate_next_callbacks(50);
    cc.customer_calls().await;
    cc.answer(&agent).await;
    let call = cc
        .my_call_until(&agent, "connected", |c| {
            c["status"] == "in_progress" && connected(customer(c))
        })
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let joins = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "participant_joined")
        .count();
    assert_eq!(joins, 1, "one join recorded despite duplicates");

    // Reordered hold/unhold: the later unhold must win even if it arrives first.
    cc.sim.reorder_next_callbacks(2);
    let customer_id = customer(&call)["id"].as_str().unwrap().to_owned();
    let hold_path = format!("/api/calls/{call_id}/participants/{customer_id}/hold");
    assert_eq!(
        cc.post(&agent, &hold_path, serde_json::json!({ "hold": true }))
            .await
            .status(),
        200
    );
    assert_eq!(
        cc.post(&agent, &hold_path, serde_json::json!({ "hold": false }))
            .await
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let call = cc
        .call_until(&admin, &call_id, "unheld", |c| {
            customer(c)["on_hold"] == false
        })
        .await;
    assert!(connected(agent_leg(&call, &agent)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_500_is_retried_and_the_agent_still_rings() {
    let cc = CallCenter::start().await;
    let agent = cc.agent("ana", true).await;
    cc.sim.fail_next_rest(2, 500);
    cc.customer_calls().await;
    cc.answer(&agent).await;
    cc.my_call_until(&agent, "connected", |c| c["status"] == "in_progress")
        .await;
    let creates: Vec<_> = cc
        .sim
        .rest_log()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/Calls.json"))
        .collect();
    assert!(
        creates.len() >= 3,
        "two failures then a success: {creates:#?}"
    );
    assert!(creates.iter().any(|r| r.status == 500) && creates.iter().any(|r| r.status == 201));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_calls_onto_five_agents_through_two_instances_never_double_book() {
    let cc = CallCenter::start_with(2, |_| {}).await;
    let mut agents = Vec::new();
    for i in 0..5 {
        agents.push(cc.agent(&format!("agent{i}"), true).await);
    }
    let identities: HashSet<String> = agents.iter().map(|a| a.client()).collect();

    // Besides their own routers, both instances are driven to route at the same time, so they
    // really compete for the same agents.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut routers = Vec::new();
    for app in &cc.apps {
        let (voice, stop) = (app.state.voice.clone(), stop.clone());
        routers.push(tokio::spawn(async move {
            let mut routed = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(true) = voice.route_next().await {
                    routed += 1;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            routed
        }));
    }

    let mut customers = HashSet::new();
    for _ in 0..20 {
        customers.insert(cc.customer_calls().await);
    }

    // Play every browser: answer what rings; once an agent is talking, the customer hangs up.
    let mut accepted = HashSet::new();
    let mut served = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while served.len() < 20 && tokio::time::Instant::now() < deadline {
        let snapshot = cc.sim.snapshot();
        // No browser ever has two calls at once (ringing or connected).
        let mut live: HashMap<&str, Vec<&str>> = HashMap::new();
        for call in snapshot
            .calls
            .iter()
            .filter(|c| !c.status.is_final() && identities.contains(&c.to))
        {
            live.entry(call.to.as_str())
                .or_default()
                .push(call.sid.as_str());
        }
        for (identity, legs) in &live {
            assert!(
                legs.len() <= 1,
                "{identity} holds {} calls at once: {legs:?}\n{:#?}",
                legs.len(),
                snapshot
                    .calls
                    .iter()
                    .filter(|c| c.to == *identity)
                    .collect::<Vec<_>>()
            );
        }
        for agent in &agents {
            for ringing in cc.sim.ringing_for(&agent.client()) {
                if accepted.insert(ringing.call_sid.clone()) {
                    let _ = cc.sim.accept(&ringing.call_sid);
                }
            }
        }
        for conference in &snapshot.conferences {
            if conference.participants.len() >= 2 {
                if let Some(customer) = conference
                    .participants
                    .iter()
                    .find(|p| customers.contains(&p.call_sid))
                {
                    if served.insert(customer.call_sid.clone()) {
                        let _ = cc.sim.hang_up(&customer.call_sid);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let routed: Vec<usize> = futures_util::future::join_all(routers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(served.len(), 20, "every caller talked to an agent");

    // Callbacks are processed from the inbox just after they are stored: wait for the last.
    let admin = cc.admin().await;
    let page: Value = cc
        .app()
        .poll(
            "/api/calls?limit=50",
            Some(&admin),
            "every call answered",
            |page| {
                page["items"].as_array().is_some_and(|calls| {
                    calls.len() == 20 && calls.iter().all(|c| c["answered_at"].is_string())
                })
            },
        )
        .await;
    let calls = page["items"].as_array().unwrap();
    assert_eq!(calls.len(), 20);
    assert!(
        calls.iter().all(|c| c["answered_at"].is_string()),
        "every call was answered"
    );
    assert!(
        routed.iter().all(|n| *n > 0),
        "both instances booked agents: {routed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_down_a_caller_still_gets_the_conference_and_music() {
    let (cc, relay) = CallCenter::start_with_cuttable_database().await;
    relay.lock().await.as_mut().unwrap().cut().await;

    let customer_sid = cc.customer_calls().await;
    let snapshot = cc
        .sim
        .wait_for(
            |s| {
                s.call(&customer_sid)
                    .is_some_and(|c| c.conference_sid.is_some() && !c.heard.is_empty())
            },
            Duration::from_secs(15),
        )
        .await
        .expect("the caller is in a conference hearing the wait music, not an error");
    let call = snapshot.call(&customer_sid).unwrap();
    assert!(!call.status.is_final(), "{call:#?}");
    let voice = cc
        .sim
        .webhook_log()
        .into_iter()
        .find(|w| w.url.ends_with("/twilio/voice"))
        .expect("voice webhook sent");
    assert_eq!(voice.response_status, Some(200), "{voice:#?}");
}

/// A call the voice webhook could not store (it answered from the fallback path) is adopted from
/// its first conference callback, so the caller is routed all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_unknown_to_the_database_is_adopted_from_its_conference_events() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let app = cc.app();
    let customer_sid = "CA0123456789abcdef0123456789abcdef";
    let url = app.url("/twilio/conference-status");
    let params: Vec<(String, String)> = [
        ("StatusCallbackEvent", "participant-join"),
        ("ConferenceSid", "CF0123456789abcdef0123456789abcdef"),
        ("FriendlyName", &format!("wt_{customer_sid}")),
        ("CallSid", customer_sid),
        ("SequenceNumber", "1"),
        ("Hold", "false"),
        ("Muted", "false"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature = compute_signature(&cc.sim.config().auth_token, &url, &params);
    let res = app
        .client
        .post(&url)
        .header("X-Twilio-Signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let page = app
        .poll("/api/calls", Some(&admin), "the adopted call", |p| {
            p["items"].as_array().is_some_and(|i| !i.is_empty())
        })
        .await;
    let call_id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let call = cc
        .call_until(&admin, &call_id, "customer connected", |c| {
            connected(customer(c))
        })
        .await;
    assert_eq!(call["customer_call_sid"], customer_sid);
    assert_eq!(call["status"], "queued");
}

/// SIDs are parsed where callbacks enter: a signed callback naming something that is no SID of
/// its kind can never succeed, so it is a 400 (not a 503 inviting a retry) and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_callback_with_a_malformed_sid_is_refused_and_changes_nothing() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let app = cc.app();
    let customer_sid = "CA0123456789abcdef0123456789abcdef";
    let cases: [(&str, &str, &str); 3] = [
        // A conference SID where the call SID belongs.
        (
            "/twilio/conference-status",
            "CallSid",
            "CF0123456789abcdef0123456789abcdef",
        ),
        ("/twilio/conference-status", "ConferenceSid", "CF0123"),
        (
            "/twilio/leg-status?participant=00000000-0000-0000-0000-000000000000",
            "CallSid",
            "CA0123456789abcdef0123456789abcdeg",
        ),
    ];
    for (path, field, bad) in cases {
        let url = app.url(path);
        let mut params: Vec<(String, String)> = [
            ("StatusCallbackEvent", "participant-join"),
            ("ConferenceSid", "CF0123456789abcdef0123456789abcdef"),
            ("FriendlyName", &format!("wt_{customer_sid}")),
            ("CallSid", customer_sid),
            ("CallStatus", "in-progress"),
            ("SequenceNumber", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        params.iter_mut().find(|(k, _)| k == field).unwrap().1 = bad.to_owned();
        let signature = compute_signature(&cc.sim.config().auth_token, &url, &params);
        let res = app
            .client
            .post(&url)
            .header("X-Twilio-Signature", signature)
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path} with {field}={bad}");
    }
    let page: serde_json::Value = app
        .get("/api/calls", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], serde_json::json!([]), "no call was adopted");
}

/// One client flooding the sign-in with wrong passwords must not starve the rest of the service:
/// a caller's voice webhook is still answered (and the call stored) in time, and a signed-in
/// agent's API call still succeeds. Each guess is answered, as 401 or, when the password
/// checkers are saturated, as 503 with Retry-After; never as a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_sign_ins_leaves_webhooks_and_the_api_working() {
    let cc = CallCenter::start_with(1, |env| {
        // As if the flood came from many addresses: the per-address limit does not step in.
        env.insert("LOGIN_MAX_FAILURES".into(), "100000".into());
    })
    .await;
    let admin = cc.admin().await;
    let app = cc.app();

    let mut flood = tokio::task::JoinSet::new();
    for i in 0..300 {
        let client = app.client.clone();
        let url = app.url("/api/auth/login");
        flood.spawn(async move {
            let res = client
                .post(url)
                .json(&serde_json::json!({
                    "email": format!("guess{i}@example.com"),
                    "password": "wrong-wrong-wrong",
                }))
                .send()
                .await
                .unwrap();
            (
                res.status().as_u16(),
                res.headers().contains_key("retry-after"),
            )
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let customer_sid = "CA00000000000000000000000000f100d0";
    let url = app.url("/twilio/voice");
    let params: Vec<(String, String)> = [
        ("CallSid", customer_sid),
        ("From", "+14155550100"),
        ("To", "+15005550006"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature = compute_signature(&cc.sim.config().auth_token, &url, &params);
    let started = std::time::Instant::now();
    let res = app
        .client
        .post(&url)
        .header("X-Twilio-Signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    let webhook_took = started.elapsed();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("<Conference"));
    // The webhook answers regardless after 3 s, with the call left unstored; well within that,
    // it had a database connection.
    assert!(
        webhook_took < Duration::from_secs(2),
        "voice webhook took {webhook_took:?}"
    );

    let started = std::time::Instant::now();
    let res = app.get("/api/calls", Some(&admin)).await;
    let api_took = started.elapsed();
    assert_eq!(res.status(), 200, "API call during the flood");
    let page: Value = res.json().await.unwrap();
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["customer_call_sid"] == customer_sid),
        "the call was stored: {page:#}"
    );
    assert!(
        api_took < Duration::from_secs(2),
        "API call took {api_took:?}"
    );

    let mut statuses = HashMap::<u16, usize>::new();
    while let Some(done) = flood.join_next().await {
        let (status, retry_after) = done.unwrap();
        assert!(
            status == 401 || (status == 503 && retry_after),
            "sign-in answered {status} (Retry-After: {retry_after})"
        );
        *statuses.entry(status).or_default() += 1;
    }
    assert!(statuses.contains_key(&401), "{statuses:?}");
}
