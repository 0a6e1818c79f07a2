//! The demo hang-up ends only the caller's own simulated calls.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};

#[tokio::test]
async fn an_agent_hangs_up_only_their_own_simulated_calls() {
    let app = TestApp::spawn().await;
    let (_, one, _) = app.admin_and_agent().await;
    app.create_agent("bo@example.com", warm_transfer::domain::agent::Role::Agent)
        .await;
    let two = app.token("bo@example.com").await;
    let available = json!({ "status": "available" });
    assert_eq!(
        app.send_json(Method::PUT, "/api/me/status", Some(&one), &available)
            .await
            .status(),
        200
    );
    let res = app
        .send_json(Method::POST, "/api/demo/calls", Some(&one), &json!({}))
        .await;
    assert_eq!(res.status(), 201);
    let customer = res.json::<Value>().await.unwrap()["call_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let ringing = app
        .poll("/api/demo/ringing", Some(&one), "agent one ringing", |v| {
            v.as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    let leg = ringing[0]["call_sid"].as_str().unwrap().to_owned();
    let hang_up = |token: &str, sid: &str| {
        app.client
            .post(app.url(&format!("/api/demo/calls/{sid}/hangup")))
            .bearer_auth(token.to_owned())
            .send()
    };
    // Agent two can end neither agent one's browser leg nor the customer agent one placed.
    assert_error(hang_up(&two, &leg).await.unwrap(), 404, "not_found").await;
    assert_error(hang_up(&two, &customer).await.unwrap(), 404, "not_found").await;
    let still = app
        .get("/api/demo/ringing", Some(&one))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        still[0]["call_sid"],
        leg.as_str(),
        "agent one's leg still rings"
    );

    // Agent one may: their own leg, then their customer.
    assert_eq!(hang_up(&one, &leg).await.unwrap().status(), 204);
    assert_eq!(hang_up(&one, &customer).await.unwrap().status(), 204);
}
