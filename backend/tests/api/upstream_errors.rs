//! Twilio's error text (which can name the account) stays in the log; agents get a reference.

use serde_json::{json, Value};

use crate::helpers::assert_error;
use crate::voice::{answered_call, CallCenter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilios_error_text_is_logged_and_the_agent_gets_a_reference() {
    let cc = CallCenter::start().await;
    let agent = cc.agent("ana", true).await;
    let (call_id, _) = answered_call(&cc, &agent).await;
    let call: Value = cc
        .app()
        .get(&format!("/api/calls/{call_id}"), Some(&agent.token))
        .await
        .json()
        .await
        .unwrap();
    let customer_id = call["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "customer")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    cc.sim.fail_next_rest(1, 400);
    let res = cc
        .post(
            &agent,
            &format!("/api/calls/{call_id}/participants/{customer_id}/hold"),
            json!({ "hold": true }),
        )
        .await;
    let body = assert_error(res, 502, "upstream_failed").await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Twilio refused the request; see the server log (ref "),
        "{message}"
    );
    let account = &cc.sim.config().account_sid;
    assert!(!message.contains(account.as_str()), "{message}");
    assert!(!message.contains("HTTP 400"), "{message}");
}
