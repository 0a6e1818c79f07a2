//! Input that can never succeed is refused with 400 at the edge and changes nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twilio::signature::compute_signature;

use crate::helpers::{assert_error, TestApp};
use crate::voice::CallCenter;

#[tokio::test]
async fn control_characters_in_names_and_emails_are_refused_with_400() {
    let app = TestApp::spawn().await;
    let (admin, _, agent_id) = app.admin_and_agent().await;
    for (email, name) in [
        ("a\u{0}b@example.com", "Nul In Email"),
        ("ab\u{7}@example.com", "Bell In Email"),
        ("ok@example.com", "Nul\u{0} In Name"),
        ("ok2@example.com", "Tab\tIn Name"),
    ] {
        let res = app
            .send_json(
                Method::POST,
                "/api/agents",
                Some(&admin),
                &json!({ "email": email, "display_name": name, "password": "long-enough-password" }),
            )
            .await;
        let body = assert_error(res, 400, "bad_request").await;
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("control characters"),
            "{body}"
        );
    }
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/api/agents/{agent_id}"),
            Some(&admin),
            &json!({ "display_name": "x\u{0}y" }),
        )
        .await;
    assert_error(res, 400, "bad_request").await;

    let agents: Vec<Value> = app
        .get("/api/agents", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agents.len(), 2, "nothing created: {agents:#?}");
    assert!(agents
        .iter()
        .all(|a| !a["display_name"].as_str().unwrap().contains('\u{0}')));
}

/// Posts a signed form to a `/twilio` path of the call center's app.
pub(crate) async fn signed_post(
    cc: &CallCenter,
    path: &str,
    params: &[(&str, String)],
) -> reqwest::Response {
    let app = cc.app();
    let url = app.url(path);
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let signature = compute_signature(&cc.sim.config().auth_token, &url, &owned);
    app.client
        .post(&url)
        .header("X-Twilio-Signature", signature)
        .form(&owned)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_callbacks_that_can_never_be_stored_are_refused_with_400() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let customer_sid = "CA0123456789abcdef0123456789abcdef";
    let conference = |field: &'static str, value: String| {
        let mut params = vec![
            ("StatusCallbackEvent", "participant-join".to_owned()),
            (
                "ConferenceSid",
                "CF0123456789abcdef0123456789abcdef".to_owned(),
            ),
            ("FriendlyName", format!("wt_{customer_sid}")),
            ("CallSid", customer_sid.to_owned()),
            ("SequenceNumber", "1".to_owned()),
            ("Hold", "false".to_owned()),
            ("Muted", "false".to_owned()),
        ];
        match params.iter_mut().find(|(k, _)| *k == field) {
            Some(p) => p.1 = value,
            None => params.push((field, value)),
        }
        params
    };
    // Past the index limit of PostgreSQL (2.7 KB) for a field we look up by; past anything
    // Twilio sends for the rest.
    let big = "x".repeat(3_000);
    let huge = "x".repeat(17_000);
    for (field, value) in [
        ("FriendlyName", format!("wt_{customer_sid}\u{0}")),
        ("Muted", "false\u{0}".to_owned()),
        ("FriendlyName", big.clone()),
        ("AnythingElse", huge.clone()),
        ("AnythingElse", "a\u{0}b".to_owned()),
    ] {
        let res = signed_post(&cc, "/twilio/conference-status", &conference(field, value)).await;
        assert_eq!(res.status(), 400, "conference-status with a bad {field}");
    }
    let leg = "/twilio/leg-status?participant=00000000-0000-0000-0000-000000000000";
    for value in [format!("{customer_sid}\u{0}"), huge.clone()] {
        let res = signed_post(
            &cc,
            leg,
            &[
                ("CallSid", customer_sid.to_owned()),
                ("CallStatus", "in-progress".to_owned()),
                ("Extra", value),
            ],
        )
        .await;
        assert_eq!(res.status(), 400, "leg-status");
    }
    // The voice webhook: From and To are phone numbers or client addresses, never this long.
    for (field, value) in [
        ("From", "+1".to_owned() + &"5".repeat(100)),
        ("To", "client:".to_owned() + &"a".repeat(100)),
        ("From", "+1415555\u{0}0100".to_owned()),
        ("CallerName", huge.clone()),
    ] {
        let mut params = vec![
            ("CallSid", "CA00000000000000000000000000000bad".to_owned()),
            ("From", "+14155550100".to_owned()),
            ("To", "+15005550006".to_owned()),
        ];
        match params.iter_mut().find(|(k, _)| *k == field) {
            Some(p) => p.1 = value,
            None => params.push((field, value)),
        }
        let res = signed_post(&cc, "/twilio/voice", &params).await;
        assert_eq!(res.status(), 400, "voice with a bad {field}");
    }

    // Nothing was stored or adopted, and a good callback still goes through.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let page: Value = cc
        .app()
        .get("/api/calls", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([]), "no call was stored");
    let ok = signed_post(
        &cc,
        "/twilio/conference-status",
        &conference("Muted", "false".into()),
    )
    .await;
    assert_eq!(ok.status(), 204);
}
