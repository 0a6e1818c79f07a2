//! Demo mode: the simulator runs inside the server and the dashboard drives it through
//! `/api/demo/*`; the whole transfer works with nothing but the API.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use warm_transfer::domain::agent::Role;

use crate::helpers::{assert_error, TestApp};

async fn poll(
    app: &TestApp,
    token: &str,
    path: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    app.poll(path, Some(token), what, check).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_transfer_through_the_demo_api() {
    let app = TestApp::spawn().await;
    let config: Value = app.get("/api/config", None).await.json().await.unwrap();
    assert_eq!(config["mode"], "demo");
    app.create_agent("one@example.com", Role::Agent).await;
    app.create_agent("two@example.com", Role::Agent).await;
    let one = app.token("one@example.com").await;
    let two = app.token("two@example.com").await;
    for token in [&one, &two] {
        let res = app
            .send_json(
                Method::PUT,
                "/api/me/status",
                Some(token),
                &json!({ "status": "available" }),
            )
            .await;
        assert_eq!(res.status(), 200);
    }

    let res = app
        .send_json(
            Method::POST,
            "/api/demo/calls",
            Some(&one),
            &json!({ "from": "+1 415 555 0123" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let customer_sid = res.json::<Value>().await.unwrap()["call_sid"]
        .as_str()
        .unwrap()
        .to_owned();

    let ringing = poll(&app, &one, "/api/demo/ringing", "agent one ringing", |v| {
        v.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(
        ringing[0]["from"], "+15005550006",
        "agents see our number as the caller ID of the leg"
    );
    let leg = ringing[0]["call_sid"].as_str().unwrap().to_owned();
    // Agent two can't answer agent one's browser.
    assert_error(
        app.client
            .post(app.url(&format!("/api/demo/ringing/{leg}/accept")))
            .bearer_auth(&two)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.client
            .post(app.url(&format!("/api/demo/ringing/{leg}/accept")))
            .bearer_auth(&one)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    let mine = poll(&app, &one, "/api/me/call", "connected", |v| {
        v["call"]["status"] == "in_progress"
    })
    .await;
    assert_eq!(mine["call"]["from_number"], "+14155550123");
    let call_id = mine["call"]["id"].as_str().unwrap().to_owned();
    let me_two: Value = app.get("/api/me", Some(&two)).await.json().await.unwrap();

    let res = app
        .send_json(
            Method::POST,
            &format!("/api/calls/{call_id}/transfers"),
            Some(&one),
            &json!({ "mode": "warm", "target": { "agent_id": me_two["id"] } }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let transfer_id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ringing = poll(&app, &two, "/api/demo/ringing", "agent two ringing", |v| {
        v.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let leg = ringing[0]["call_sid"].as_str().unwrap().to_owned();
    assert_eq!(
        app.client
            .post(app.url(&format!("/api/demo/ringing/{leg}/accept")))
            .bearer_auth(&two)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    poll(&app, &two, "/api/me/call", "consulting", |v| {
        v["call"]["transfers"][0]["status"] == "consulting"
    })
    .await;

    let res = app
        .send_json(
            Method::POST,
            &format!("/api/calls/{call_id}/transfers/{transfer_id}/complete"),
            Some(&one),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    poll(&app, &one, "/api/me/call", "agent one off the call", |v| {
        v["call"].is_null()
    })
    .await;
    let theirs = poll(&app, &two, "/api/me/call", "agent two owns", |v| {
        v["call"]["owner_agent_id"] == me_two["id"]
    })
    .await;
    assert_eq!(theirs["call"]["id"], call_id.as_str());

    assert_eq!(
        app.client
            .post(app.url(&format!("/api/demo/calls/{customer_sid}/hangup")))
            .bearer_auth(&two)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    poll(
        &app,
        &two,
        &format!("/api/calls/{call_id}"),
        "completed",
        |v| v["status"] == "completed",
    )
    .await;
    poll(&app, &two, "/api/me", "agent two available", |v| {
        v["status"] == "available"
    })
    .await;
    assert_error(
        app.client
            .post(app.url("/api/demo/calls/CA00000000000000000000000000000000/hangup"))
            .bearer_auth(&two)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_routes_need_a_session_and_do_not_exist_in_live_mode() {
    let app = TestApp::spawn().await;
    assert_error(
        app.client
            .post(app.url("/api/demo/calls"))
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;

    let cc = crate::voice::CallCenter::start().await;
    let agent = cc.agent("ana", false).await;
    let config: Value = cc
        .app()
        .get("/api/config", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["mode"], "live");
    let res = cc
        .app()
        .send_json(
            Method::POST,
            "/api/demo/calls",
            Some(&agent.token),
            &json!({}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    // Nor is the simulator's REST API served by a live server.
    let res = cc
        .app()
        .client
        .get(
            cc.app()
                .url("/2010-04-01/Accounts/AC00000000000000000000000000000000/Calls.json"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_stream_agent_queue_and_call_changes() {
    let app = TestApp::spawn().await;
    app.create_agent("one@example.com", Role::Agent).await;
    let token = app.token("one@example.com").await;
    let mut stream = app
        .client
        .get(app.url("/api/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));

    let res = app
        .send_json(
            Method::PUT,
            "/api/me/status",
            Some(&token),
            &json!({ "status": "available" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    app.send_json(Method::POST, "/api/demo/calls", Some(&token), &json!({}))
        .await;

    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(seen.contains("event: agent")
        && seen.contains("event: queue")
        && seen.contains("event: call"))
    {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("events arrive in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("\"email\":\"one@example.com\""), "{seen}");

    assert_error(app.get("/api/events", None).await, 401, "unauthorized").await;
}

/// `APP_ENV=production` without Twilio settings is a misconfiguration, not a request for the
/// simulator: the server refuses to start (naming what to set), and touches nothing.
#[tokio::test]
async fn production_without_twilio_settings_refuses_to_start_in_demo_mode() {
    let database_url = crate::helpers::create_database().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data_dir = std::env::temp_dir().join(format!("wt-{}", uuid::Uuid::new_v4().simple()));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_warm-transfer"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database_url)
        .env("APP_ENV", "production")
        .env("APP_HOST", "127.0.0.1")
        .env("APP_PORT", port.to_string())
        .env("DATA_DIR", &data_dir)
        .env(
            "SESSION_SECRET",
            "test-session-secret-0123456789abcdefghijkl",
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server binary");
    let mut exited = None;
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        let serving = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success());
        assert!(!serving, "production started in demo mode");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = exited.expect("the server exits");
    assert!(!status.success());
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    for var in ["DEMO_MODE", "TWILIO_ACCOUNT_SID", "PUBLIC_BASE_URL"] {
        assert!(stderr.contains(var), "the error names {var}: {stderr}");
    }
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("password"),
        "no credentials printed"
    );
    // Nothing was created: not even the tables.
    let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(
        &database_url,
    )
    .await
    .unwrap();
    let tables: i64 = diesel_async::RunQueryDsl::get_result(
        diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public')",
        )),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(tables, 0);
    let _ = std::fs::remove_dir_all(&data_dir);
}

/// Asked for explicitly, production runs the demo (e.g. a public showcase).
#[tokio::test]
async fn production_runs_the_demo_when_asked_to() {
    let app = TestApp::spawn_with(|env| {
        env.insert("APP_ENV".into(), "production".into());
        env.insert("DEMO_MODE".into(), "allow".into());
    })
    .await;
    let config: Value = app.get("/api/config", None).await.json().await.unwrap();
    assert_eq!(config["mode"], "demo");
}

/// Reads a live-event stream until it ends (or `limit` passes); returns what it carried and
/// whether it ended.
async fn read_until_closed(mut stream: reqwest::Response, limit: Duration) -> (String, bool) {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None)) | Ok(Err(_)) => return (seen, true),
            Err(_) => return (seen, false),
        }
    }
}

/// A live-event stream lives no longer than its session: signing out (or being deactivated)
/// ends it at once with `session_ended`, instead of streaming every call to a closed session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_end_with_the_session() {
    let app = TestApp::spawn().await;
    app.create_agent("one@example.com", Role::Agent).await;
    let agent_two = app.create_agent("two@example.com", Role::Agent).await;
    let admin_email = "boss@example.com";
    app.create_agent(admin_email, Role::Admin).await;
    let admin = app.token(admin_email).await;

    // Signing out ends the agent's own stream.
    let token = app.token("one@example.com").await;
    let stream = app
        .client
        .get(app.url("/api/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let res = app
        .send_json(Method::POST, "/api/auth/logout", Some(&token), &json!({}))
        .await;
    assert_eq!(res.status(), 204);
    let (seen, closed) = read_until_closed(stream, Duration::from_secs(5)).await;
    assert!(closed, "the stream stays open after sign-out: {seen}");
    assert!(seen.contains("event: session_ended"), "{seen}");

    // Deactivation ends the deactivated agent's stream.
    let token = app.token("two@example.com").await;
    let stream = app
        .client
        .get(app.url("/api/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let res = app
        .send_json(
            Method::DELETE,
            &format!("/api/agents/{agent_two}"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let (seen, closed) = read_until_closed(stream, Duration::from_secs(5)).await;
    assert!(closed, "the stream stays open after deactivation: {seen}");
    assert!(seen.contains("event: session_ended"), "{seen}");
}

/// A consult to an outside number in demo mode: the simulator rings the number and the demo
/// panel's API answers, talks (the party is in the conference) and hangs up as that party.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_panel_plays_the_outside_party_of_a_transfer() {
    let app = TestApp::spawn().await;
    app.create_agent("one@example.com", Role::Agent).await;
    app.create_agent("two@example.com", Role::Agent).await;
    let one = app.token("one@example.com").await;
    let two = app.token("two@example.com").await;
    let res = app
        .send_json(
            Method::PUT,
            "/api/me/status",
            Some(&one),
            &json!({ "status": "available" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .send_json(Method::POST, "/api/demo/calls", Some(&one), &json!({}))
        .await;
    assert_eq!(res.status(), 201);
    let ringing = poll(&app, &one, "/api/demo/ringing", "agent one ringing", |v| {
        v.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let leg = ringing[0]["call_sid"].as_str().unwrap().to_owned();
    app.client
        .post(app.url(&format!("/api/demo/ringing/{leg}/accept")))
        .bearer_auth(&one)
        .send()
        .await
        .unwrap();
    let mine = poll(&app, &one, "/api/me/call", "connected", |v| {
        v["call"]["status"] == "in_progress"
    })
    .await;
    let call_id = mine["call"]["id"].as_str().unwrap().to_owned();

    // Nothing to play yet.
    let none: Value = app
        .get("/api/demo/outside-calls", Some(&one))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!([]));

    let res = app
        .send_json(
            Method::POST,
            &format!("/api/calls/{call_id}/transfers"),
            Some(&one),
            &json!({ "mode": "warm", "target": { "phone_number": "+14155550199" }, "note": "VIP" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let outside = poll(
        &app,
        &one,
        "/api/demo/outside-calls",
        "the number rings",
        |v| {
            v.as_array()
                .is_some_and(|a| a.len() == 1 && a[0]["status"] == "ringing")
        },
    )
    .await;
    assert_eq!(outside[0]["to"], "+14155550199");
    assert_eq!(outside[0]["call_id"], call_id.as_str());
    let sid = outside[0]["call_sid"].as_str().unwrap().to_owned();
    let path = format!("/api/demo/outside-calls/{sid}");

    // Only the transferring agent plays their outside party; bad actions are 400s.
    let theirs: Value = app
        .get("/api/demo/outside-calls", Some(&two))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs, json!([]));
    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&two),
            &json!({ "action": "answer" }),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&one),
            &json!({ "action": "dance" }),
        )
        .await;
    assert_eq!(res.status(), 400);

    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&one),
            &json!({ "action": "answer" }),
        )
        .await;
    assert_eq!(res.status(), 204);
    poll(
        &app,
        &one,
        "/api/me/call",
        "consulting the outside party",
        |v| v["call"]["transfers"][0]["status"] == "consulting",
    )
    .await;
    let talking = poll(&app, &one, "/api/demo/outside-calls", "talking", |v| {
        v[0]["status"] == "in-progress"
    })
    .await;
    let heard = talking[0]["heard"].as_array().unwrap();
    assert!(
        heard.iter().any(|h| h.as_str().unwrap().contains("VIP")),
        "{heard:?}"
    );
    // Answering twice is a conflict, not a second leg.
    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&one),
            &json!({ "action": "answer" }),
        )
        .await;
    assert_eq!(res.status(), 409);

    let res = app
        .send_json(
            Method::POST,
            &path,
            Some(&one),
            &json!({ "action": "hang_up" }),
        )
        .await;
    assert_eq!(res.status(), 204);
    let call = poll(&app, &one, "/api/me/call", "the party hung up", |v| {
        v["call"]["transfers"][0]["status"] == "canceled"
    })
    .await;
    assert_eq!(call["call"]["transfers"][0]["end_reason"], "target_hung_up");
    assert_eq!(
        call["call"]["status"], "in_progress",
        "the customer stays with agent one"
    );
    poll(&app, &one, "/api/demo/outside-calls", "gone", |v| {
        v.as_array().is_some_and(|a| a.is_empty())
    })
    .await;
}
