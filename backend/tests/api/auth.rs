use reqwest::Method;
use serde_json::{json, Value};
use warm_transfer::domain::agent::Role;

use crate::helpers::{assert_error, TestApp, PASSWORD};

#[tokio::test]
async fn login_returns_a_token_that_opens_the_api() {
    let app = TestApp::spawn().await;
    app.create_agent("Ana@Example.com", Role::Agent).await;

    let res = app.login("  ana@EXAMPLE.com ", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["agent"]["email"], "ana@example.com");
    assert_eq!(body["agent"]["role"], "agent");
    assert!(body["agent"].get("password_hash").is_none());
    assert!(body["expires_at"].as_str().is_some());
    let token = body["token"].as_str().unwrap();

    let me: Value = app.get("/api/me", Some(token)).await.json().await.unwrap();
    assert_eq!(me["email"], "ana@example.com");
    assert_eq!(me["status"], "offline");
}

#[tokio::test]
async fn wrong_credentials_get_401_json_and_do_not_reveal_which_part_was_wrong() {
    let app = TestApp::spawn().await;
    app.create_agent("ana@example.com", Role::Agent).await;

    let wrong_password = assert_error(
        app.login("ana@example.com", "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown_email = assert_error(
        app.login("nobody@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong_password["message"], unknown_email["message"]);
}

#[tokio::test]
async fn repeated_failures_are_limited_until_the_window_passes() {
    let app = TestApp::spawn_with(|env| {
        env.insert("LOGIN_MAX_FAILURES".into(), "3".into());
    })
    .await;
    app.create_agent("ana@example.com", Role::Agent).await;

    for _ in 0..3 {
        assert_error(
            app.login("ana@example.com", "guess-guess-guess").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Locked now, even with the right password.
    let res = app.login("ana@example.com", PASSWORD).await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    assert_error(res, 429, "too_many_attempts").await;

    // Another agent is not locked out by someone guessing at Ana.
    app.create_agent("bob@example.com", Role::Agent).await;
    assert_eq!(app.login("bob@example.com", PASSWORD).await.status(), 200);

    // Once the failures age out of the window, the right password works again.
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE login_failures SET at = at - interval '1 hour'"),
        &mut app.state.pool.get().await.unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn logout_revokes_the_token_and_sets_the_agent_offline() {
    let app = TestApp::spawn().await;
    app.create_agent("ana@example.com", Role::Agent).await;
    let token = app.token("ana@example.com").await;
    let res = app
        .send_json(
            Method::PUT,
            "/api/me/status",
            Some(&token),
            &json!({"status": "available"}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "available");

    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_error(app.get("/api/me", Some(&token)).await, 401, "unauthorized").await;

    let token = app.token("ana@example.com").await;
    let me: Value = app.get("/api/me", Some(&token)).await.json().await.unwrap();
    assert_eq!(me["status"], "offline");
}

#[tokio::test]
async fn missing_malformed_and_forged_tokens_get_401() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/me", None).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_error(res, 401, "unauthorized").await;
    assert_error(
        app.get("/api/me", Some("not-a-jwt")).await,
        401,
        "unauthorized",
    )
    .await;
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJzaWQiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJpc3MiOiJ3YXJtLXRyYW5zZmVyIiwiaWF0IjoxLCJleHAiOjk5OTk5OTk5OTl9.c2lnbmF0dXJl";
    assert_error(app.get("/api/me", Some(forged)).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn presence_changes_by_hand_and_rejects_unknown_states() {
    let app = TestApp::spawn().await;
    app.create_agent("ana@example.com", Role::Agent).await;
    let token = app.token("ana@example.com").await;
    for status in ["available", "away", "offline"] {
        let res = app
            .send_json(
                Method::PUT,
                "/api/me/status",
                Some(&token),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["status"], status);
    }
    // `busy` is set by the call flow, never by hand.
    let res = app
        .send_json(
            Method::PUT,
            "/api/me/status",
            Some(&token),
            &json!({ "status": "busy" }),
        )
        .await;
    assert_error(res, 400, "bad_request").await;
}

#[tokio::test]
async fn malformed_json_and_unknown_fields_get_400_json() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": \"ana@example.com\", ")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "bad_request").await;

    let res = app
        .send_json(
            Method::POST,
            "/api/auth/login",
            None,
            &json!({"email": "a@b.co", "password": "x", "admin": true}),
        )
        .await;
    let body = assert_error(res, 400, "bad_request").await;
    assert!(
        body["message"].as_str().unwrap().contains("admin"),
        "{body}"
    );

    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "unsupported_media_type").await;

    assert_error(app.get("/api/no-such-route", None).await, 404, "not_found").await;
}

/// Sign-in input that can never belong to an agent is refused before any work: no hashing, no
/// database row, and a 400 rather than a 500 from the database.
#[tokio::test]
async fn oversized_or_malformed_sign_in_input_is_refused_and_records_nothing() {
    let app = TestApp::spawn().await;
    app.create_agent("ana@example.com", Role::Agent).await;

    // Random text, so PostgreSQL can't compress it into an index row.
    let noise: String = (0..100)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    let long_email = format!("{noise}@example.com");
    for (email, password) in [
        (long_email.as_str(), "guess-guess-guess"),
        ("ana\u{0}@example.com", "guess-guess-guess"),
        ("ana@example.com\u{7}", "guess-guess-guess"),
        ("ana@example.com", &"p".repeat(1025)),
    ] {
        let res = app.login(email, password).await;
        assert_eq!(
            res.status(),
            400,
            "email of {} bytes, password of {} bytes",
            email.len(),
            password.len()
        );
        assert_error(res, 400, "bad_request").await;
    }
    let failures: i64 = diesel_async::RunQueryDsl::get_result(
        diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM login_failures)",
        )),
        &mut app.state.pool.get().await.unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(failures, 0, "refused input records no failure");
    // The longest accepted password still gets an ordinary answer.
    assert_error(
        app.login("ana@example.com", &"p".repeat(1024)).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status(), 200);
}

/// Guesses sent all at once are counted as they are judged: no more of them get an answer than
/// the limit allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_guesses_cannot_exceed_the_failure_limit() {
    let app = TestApp::spawn_with(|env| {
        env.insert("LOGIN_MAX_FAILURES".into(), "3".into());
    })
    .await;
    app.create_agent("ana@example.com", Role::Agent).await;

    let guesses = (0..20).map(|i| {
        let client = app.client.clone();
        let url = app.url("/api/auth/login");
        async move {
            client
                .post(url)
                .json(
                    &json!({ "email": "ana@example.com", "password": format!("guess-number-{i}") }),
                )
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let judged = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((judged, refused), (3, 17), "{statuses:?}");
}

/// A client whose connections come from `ip` (any 127.x.y.z reaches the test server), so
/// tests can sign in from several addresses.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_with(
    app: &TestApp,
    client: &reqwest::Client,
    headers: &[(&str, &str)],
    email: &str,
    password: &str,
) -> reqwest::Response {
    let mut req = client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": password }));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Someone guessing at Ana's password from one address slows down only that address: Ana signs
/// in from her own at once, while the guesser waits even with the right password.
#[tokio::test]
async fn a_stranger_guessing_from_one_address_cannot_lock_the_owner_out_from_another() {
    let app = TestApp::spawn_with(|env| {
        env.insert("LOGIN_MAX_FAILURES".into(), "3".into());
    })
    .await;
    app.create_agent("ana@example.com", Role::Agent).await;
    let (stranger, ana) = (client_from("127.0.0.2"), client_from("127.0.0.3"));

    let mut statuses = Vec::new();
    for i in 0..10 {
        let res = login_with(
            &app,
            &stranger,
            &[],
            "ana@example.com",
            &format!("guess-{i}"),
        )
        .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(&statuses[..3], [401, 401, 401]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let res = login_with(&app, &stranger, &[], "ana@example.com", PASSWORD).await;
    assert!(retry_after(&res) >= 1);
    assert_error(res, 429, "too_many_attempts").await;

    let res = login_with(&app, &ana, &[], "ana@example.com", PASSWORD).await;
    assert_eq!(res.status(), 200, "the owner is not locked out");
}

/// Without a trusted proxy in front, `X-Forwarded-For` and `Forwarded` are whatever the client
/// wrote: a guesser changing them on every attempt still waits as the one address it is.
#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let app = TestApp::spawn_with(|env| {
        env.insert("LOGIN_MAX_FAILURES".into(), "3".into());
        // A proxy is trusted, but not the address the test connects from.
        env.insert("TRUSTED_PROXIES".into(), "10.0.0.0/8".into());
    })
    .await;
    app.create_agent("ana@example.com", Role::Agent).await;
    let client = client_from("127.0.0.2");
    for i in 0..3 {
        let spoofed = format!("198.51.100.{i}");
        let res = login_with(
            &app,
            &client,
            &[("x-forwarded-for", &spoofed)],
            "ana@example.com",
            "a-wrong-guess",
        )
        .await;
        assert_eq!(res.status(), 401);
    }
    for headers in [
        [("x-forwarded-for", "203.0.113.50")],
        [("forwarded", "for=203.0.113.51")],
    ] {
        let res = login_with(&app, &client, &headers, "ana@example.com", "a-wrong-guess").await;
        assert_error(res, 429, "too_many_attempts").await;
    }
}

/// Behind a trusted proxy every client shares the proxy's address; the proxy's
/// `X-Forwarded-For` (or `Forwarded`) tells them apart, so a guesser behind it doesn't lock out
/// the owner behind the same proxy.
#[tokio::test]
async fn forwarded_headers_from_a_trusted_proxy_name_the_client() {
    let app = TestApp::spawn_with(|env| {
        env.insert("LOGIN_MAX_FAILURES".into(), "3".into());
        env.insert("TRUSTED_PROXIES".into(), "127.0.0.4/32".into());
    })
    .await;
    app.create_agent("ana@example.com", Role::Agent).await;
    let proxy = client_from("127.0.0.4");
    // The guesser's own header claims an address; the proxy appends the one it saw.
    let guesser = [("x-forwarded-for", "192.0.2.1, 198.51.100.7")];
    for _ in 0..3 {
        let res = login_with(&app, &proxy, &guesser, "ana@example.com", "a-wrong-guess").await;
        assert_eq!(res.status(), 401);
    }
    let res = login_with(&app, &proxy, &guesser, "ana@example.com", PASSWORD).await;
    assert_error(res, 429, "too_many_attempts").await;
    // The same guesser through `Forwarded` is still the same client.
    let res = login_with(
        &app,
        &proxy,
        &[("forwarded", "for=198.51.100.7;proto=https")],
        "ana@example.com",
        PASSWORD,
    )
    .await;
    assert_error(res, 429, "too_many_attempts").await;

    for owner in [
        ("x-forwarded-for", "198.51.100.8"),
        ("forwarded", r#"for="[2001:db8::8]:4711""#),
    ] {
        let res = login_with(&app, &proxy, &[owner], "ana@example.com", PASSWORD).await;
        assert_eq!(res.status(), 200, "{owner:?}");
    }
}

/// Each failure past the free ones doubles the wait, which stops growing at the cap; a wait
/// passed lets one more attempt be judged.
#[tokio::test]
async fn the_wait_doubles_with_each_failure_up_to_the_cap() {
    let app = TestApp::spawn_with(|env| {
        env.insert("LOGIN_MAX_FAILURES".into(), "2".into());
        env.insert("LOGIN_BACKOFF_MAX_SECONDS".into(), "5".into());
    })
    .await;
    app.create_agent("ana@example.com", Role::Agent).await;
    let age_failures = || async {
        diesel_async::RunQueryDsl::execute(
            diesel::sql_query("UPDATE login_failures SET at = at - interval '10 seconds'"),
            &mut app.state.pool.get().await.unwrap(),
        )
        .await
        .unwrap();
    };
    for _ in 0..2 {
        assert_eq!(
            app.login("ana@example.com", "wrong-guess").await.status(),
            401
        );
    }
    let mut waits = Vec::new();
    for _ in 0..5 {
        let res = app.login("ana@example.com", "wrong-guess").await;
        waits.push(retry_after(&res));
        assert_error(res, 429, "too_many_attempts").await;
        age_failures().await;
        assert_eq!(
            app.login("ana@example.com", "wrong-guess").await.status(),
            401
        );
    }
    assert_eq!(waits, [1, 2, 4, 5, 5]);
    age_failures().await;
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status(), 200);
}

/// An admin clears an agent's failed sign-ins so they can sign in at once; agents may not, and
/// an unknown agent is a 404.
#[tokio::test]
async fn an_admin_unlocks_an_agent_and_nobody_else_may() {
    let app = TestApp::spawn_with(|env| {
        env.insert("LOGIN_MAX_FAILURES".into(), "3".into());
    })
    .await;
    let (admin, agent_token, ana) = app.admin_and_agent().await;
    for _ in 0..3 {
        assert_eq!(
            app.login("ana@example.com", "wrong-guess").await.status(),
            401
        );
    }
    assert_error(
        app.login("ana@example.com", PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;

    let unlock = |id: uuid::Uuid, token: Option<String>| {
        let mut req = app
            .client
            .post(app.url(&format!("/api/agents/{id}/unlock")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_error(unlock(ana, None).await.unwrap(), 401, "unauthorized").await;
    assert_error(
        unlock(ana, Some(agent_token)).await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.login("ana@example.com", PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;
    assert_error(
        unlock(uuid::Uuid::new_v4(), Some(admin.clone()))
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;

    assert_eq!(unlock(ana, Some(admin)).await.unwrap().status(), 204);
    assert_eq!(app.login("ana@example.com", PASSWORD).await.status(), 200);
}
