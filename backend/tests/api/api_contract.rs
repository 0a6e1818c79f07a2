//! The API does what its OpenAPI document says: statuses, limits, and 405 for another method
//! on a known path.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};

#[tokio::test]
async fn another_method_on_a_known_path_is_405_with_allow() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        ("TRACE", "/api/agents", "GET, POST"),
        ("PUT", "/api/agents", "GET, POST"),
        (
            "TRACE",
            "/api/calls/00000000-0000-0000-0000-000000000000",
            "GET",
        ),
        ("DELETE", "/api/auth/login", "POST"),
        ("TRACE", "/healthz", "GET"),
    ] {
        let res = app
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(path),
            )
            .send()
            .await
            .unwrap();
        let allowed = res
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(allowed.as_deref(), Some(allow), "{method} {path}");
        assert_error(res, 405, "method_not_allowed").await;
    }
    let res = app
        .client
        .request(Method::TRACE, app.url("/api/nowhere"))
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn the_document_lists_the_statuses_and_limits_the_server_enforces() {
    let app = TestApp::spawn().await;
    let (admin, _, _) = app.admin_and_agent().await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let op = |path: &str, method: &str| doc["paths"][path][method].clone();

    // A path UUID that does not parse: 400, and the document says so.
    let res = app.get("/api/calls/not-a-uuid", Some(&admin)).await;
    assert_error(res, 400, "bad_request").await;
    assert!(op("/api/calls/{id}", "get")["responses"]["400"].is_object());
    // A body without Content-Type: 415, documented.
    let res = app
        .client
        .post(app.url("/api/agents"))
        .bearer_auth(&admin)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "unsupported_media_type").await;
    assert!(op("/api/agents", "post")["responses"]["415"].is_object());

    // Limits.
    let queue_limit = op("/api/queue", "get")["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()["schema"]
        .clone();
    assert_eq!(
        (&queue_limit["minimum"], &queue_limit["maximum"]),
        (&json!(1), &json!(200))
    );
    let create = &doc["components"]["schemas"]["CreateAgentRequest"]["properties"];
    assert_eq!(create["password"]["minLength"], 10);
    assert_eq!(create["password"]["maxLength"], 256);
    assert_eq!(create["email"]["format"], "email");
    assert_eq!(create["email"]["maxLength"], 254);
    // A transfer target is an agent or a number: exactly one of the two.
    let target = &doc["components"]["schemas"]["TransferTargetInput"];
    assert_eq!(
        (&target["minProperties"], &target["maxProperties"]),
        (&json!(1), &json!(1))
    );
    let call = "/api/calls/00000000-0000-0000-0000-000000000000/transfers";
    for body in [
        json!({ "mode": "warm", "target": {} }),
        json!({ "mode": "warm", "target": {
            "agent_id": "00000000-0000-0000-0000-000000000000", "phone_number": "+14155550123" } }),
    ] {
        let res = app
            .send_json(reqwest::Method::POST, call, Some(&admin), &body)
            .await;
        assert_error(res, 422, "validation_failed").await;
    }
}
