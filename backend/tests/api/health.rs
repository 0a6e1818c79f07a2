use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{assert_error, base_env, create_database, Relay, TestApp};

#[tokio::test]
async fn healthz_answers_and_responses_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("x-request-id")
        .is_some_and(|v| !v.is_empty()));
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
    assert_eq!(app.get("/readyz", None).await.status(), 200);
}

#[tokio::test]
async fn docs_and_the_openapi_document_are_served() {
    let app = TestApp::spawn().await;
    let res = app.get("/docs", None).await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/docs/");
    let html = app.get("/docs/", None).await.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // The explorer's assets come from the binary, not a CDN.
    assert_eq!(
        app.get("/docs/swagger-ui-bundle.js", None).await.status(),
        200
    );
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(doc["paths"]["/api/auth/login"]["post"].is_object());
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(|env| {
        env.insert(
            "CORS_ALLOWED_ORIGINS".into(),
            "http://127.0.0.1:5173".into(),
        );
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("http://127.0.0.1:5173").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://127.0.0.1:5173"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn readiness_fails_while_the_database_is_down_and_recovers_when_it_returns() {
    let real = url::Url::parse(&create_database().await).unwrap();
    let pg: SocketAddr = format!(
        "{}:{}",
        real.host_str().unwrap(),
        real.port().unwrap_or(5432)
    )
    .parse()
    .unwrap();
    let mut relay = Relay::start(pg).await;
    let mut via_relay = real.clone();
    via_relay.set_port(Some(relay.addr.port())).unwrap();

    let app = TestApp::spawn_on(base_env(via_relay.as_str())).await;
    assert_eq!(app.get("/readyz", None).await.status(), 200);

    relay.cut().await;
    let res = app.get("/readyz", None).await;
    assert_error(res, 503, "unavailable").await;
    // Liveness is not readiness: the process is fine.
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    // API calls that need the database say so instead of hanging or answering 500.
    let res = app.login("ana@example.com", "whatever-password").await;
    assert_error(res, 503, "unavailable").await;

    relay.open().await;
    let mut recovered = false;
    for _ in 0..50 {
        if app.get("/readyz", None).await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "readiness did not recover after the database returned"
    );
}

#[tokio::test]
async fn metrics_expose_requests_and_contact_center_gauges() {
    let app = TestApp::spawn().await;
    app.create_agent("ana@example.com", warm_transfer::domain::agent::Role::Agent)
        .await;
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    let mut body = String::new();
    for _ in 0..50 {
        body = app.get("/metrics", None).await.text().await.unwrap();
        if body.contains("warm_transfer_agents{status=\"offline\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        body.contains("warm_transfer_http_requests_total{endpoint=\"/healthz\""),
        "{body}"
    );
    assert!(
        body.contains("warm_transfer_agents{status=\"offline\"} 1"),
        "{body}"
    );
    assert!(body.contains("warm_transfer_calls_waiting 0"), "{body}");
    assert!(
        body.contains("warm_transfer_callback_inbox_backlog 0"),
        "{body}"
    );
}
