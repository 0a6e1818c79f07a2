//! The dialing policy against toll fraud: outside numbers a transfer may dial, who may dial
//! them, how often, and how admins change the policy. Every refusal must leave Twilio untouched
//! and show in the call's timeline.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::assert_error;
use crate::voice::{answered_call, finish_transfer, start_transfer, Agent, CallCenter};

const POLICY: &str = "/api/dialing-policy";

fn transfer_to(number: &str) -> Value {
    json!({ "mode": "warm", "target": { "phone_number": number } })
}

async fn dial(cc: &CallCenter, by: &Agent, call_id: &str, number: &str) -> reqwest::Response {
    cc.post(
        by,
        &format!("/api/calls/{call_id}/transfers"),
        transfer_to(number),
    )
    .await
}

async fn put_policy(cc: &CallCenter, token: &str, body: Value) -> reqwest::Response {
    cc.app()
        .send_json(Method::PUT, POLICY, Some(token), &body)
        .await
}

fn policy(countries: &[u32], intl_for_agents: bool, per_agent: u32, per_call: u32) -> Value {
    json!({
        "allowed_country_codes": countries,
        "allowed_prefixes": [],
        "allowed_premium_prefixes": [],
        "international_for_agents": intl_for_agents,
        "max_dials_per_agent_per_hour": per_agent,
        "max_dials_per_call": per_call,
    })
}

/// Twilio was never asked to call `number`.
fn assert_never_dialed(cc: &CallCenter, number: &str) {
    let calls = cc.sim.snapshot().calls;
    assert!(
        calls.iter().all(|c| c.to != number),
        "{number} was dialed: {calls:#?}"
    );
    let log = format!("{:?}", cc.sim.rest_log());
    assert!(!log.contains(number), "a REST request named {number}");
}

async fn call_detail(cc: &CallCenter, token: &str, call_id: &str) -> Value {
    cc.app()
        .get(&format!("/api/calls/{call_id}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

fn outside_dials(call: &Value) -> Vec<Value> {
    call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "outside_dial")
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn premium_and_satellite_numbers_are_refused_nothing_is_dialed_and_the_timeline_says_who_asked(
) {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;

    // Even with the whole world allowed, the premium ranges stay shut.
    let res = put_policy(&cc, &admin, policy(&[1, 44, 882, 979], true, 100, 100)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    for (number, prefix) in [
        ("+882345678901", "+882"),
        ("+979123456789", "+979"),
        ("+19005551234", "+1900"),
    ] {
        let err = assert_error(
            dial(&cc, &a, &call_id, number).await,
            403,
            "dial_not_allowed",
        )
        .await;
        assert_eq!(
            err["message"],
            format!("{prefix}… is a premium or satellite range, not allowed by the dialing policy")
        );
        assert_never_dialed(&cc, number);
    }

    let call = call_detail(&cc, &admin, &call_id).await;
    assert!(call["transfers"].as_array().unwrap().is_empty(), "{call:#}");
    assert!(
        call["participants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["kind"] != "external"),
        "{call:#}"
    );
    let customer = crate::voice::customer(&call);
    assert_eq!(
        customer["on_hold"], false,
        "a refused dial must not hold the customer"
    );
    let dials = outside_dials(&call);
    assert_eq!(dials.len(), 3, "{call:#}");
    for event in &dials {
        assert_eq!(event["data"]["decision"], "refused");
        assert_eq!(event["data"]["reason"], "premium");
        assert_eq!(event["data"]["by"], a.id.as_str());
        assert_eq!(event["data"]["by_role"], "agent");
    }
    assert_eq!(dials[0]["data"]["number"], "+882345678901");

    // The same transfer to a home number goes through, and is recorded as allowed.
    start_transfer(&cc, &a, &call_id, transfer_to("+14155550199")).await;
    cc.sim
        .wait_for_ringing("+14155550199", crate::voice::WAIT)
        .await
        .expect("the home number rings");
    let call = call_detail(&cc, &admin, &call_id).await;
    assert_eq!(outside_dials(&call)[3]["data"]["decision"], "allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_only_the_home_country_is_dialable() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;

    let view: Value = cc
        .app()
        .get(POLICY, Some(&a.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["is_default"], true, "{view}");
    assert_eq!(view["home_country_code"], 1, "the Twilio number is +1");
    assert_eq!(view["allowed_country_codes"], json!([1]));
    assert_eq!(view["international_for_agents"], false);

    let (call_id, _) = answered_call(&cc, &a).await;
    let err = assert_error(
        dial(&cc, &a, &call_id, "+442071838750").await,
        403,
        "dial_not_allowed",
    )
    .await;
    assert!(err["message"].as_str().unwrap().contains("+44…"), "{err}");
    assert_never_dialed(&cc, "+442071838750");
    let call = call_detail(&cc, &admin, &call_id).await;
    assert_eq!(
        outside_dials(&call)[0]["data"]["reason"],
        "destination_not_allowed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn international_numbers_are_for_admins_unless_the_policy_opens_them_to_agents() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let admin_id = cc
        .app()
        .get("/api/me", Some(&admin))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let res = put_policy(&cc, &admin, policy(&[1, 44], false, 10, 5)).await;
    assert_eq!(res.status(), 200);

    let uk = "+442071838750";
    let err = assert_error(dial(&cc, &a, &call_id, uk).await, 403, "dial_not_allowed").await;
    assert!(
        err["message"].as_str().unwrap().contains("only admins"),
        "{err}"
    );
    assert_never_dialed(&cc, uk);

    // The admin (not on the call, but admins may act on any call) may dial it.
    let res = cc
        .app()
        .send_json(
            Method::POST,
            &format!("/api/calls/{call_id}/transfers"),
            Some(&admin),
            &transfer_to(uk),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    cc.sim
        .wait_for_ringing(uk, crate::voice::WAIT)
        .await
        .expect("the admin's international dial rings");

    let call = call_detail(&cc, &admin, &call_id).await;
    let dials = outside_dials(&call);
    assert_eq!(dials[0]["data"]["decision"], "refused");
    assert_eq!(dials[0]["data"]["reason"], "international_admin_only");
    assert_eq!(dials[0]["data"]["by"], a.id.as_str());
    assert_eq!(dials[1]["data"]["decision"], "allowed");
    assert_eq!(dials[1]["data"]["by"], admin_id.as_str());
    assert_eq!(dials[1]["data"]["by_role"], "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_call_limit_stops_dial_and_cancel_loops() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;
    let res = put_policy(&cc, &admin, policy(&[1], false, 100, 2)).await;
    assert_eq!(res.status(), 200);

    let mut refused = None;
    for attempt in 0..10 {
        let res = dial(&cc, &a, &call_id, "+14155550199").await;
        if res.status() == 201 {
            let transfer: Value = res.json().await.unwrap();
            let res = finish_transfer(&cc, &a, &call_id, &transfer, "cancel").await;
            assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
            continue;
        }
        assert!(
            res.headers().get("retry-after").is_none(),
            "the call's limit never frees up"
        );
        refused = Some((attempt, assert_error(res, 429, "dial_limit_reached").await));
        break;
    }
    let (attempt, err) = refused.expect("the per-call limit was never reached");
    assert_eq!(attempt, 2, "two dials allowed, the third refused");
    assert!(
        err["message"].as_str().unwrap().contains("limit per call"),
        "{err}"
    );
    let call = call_detail(&cc, &admin, &call_id).await;
    assert_eq!(
        outside_dials(&call).last().unwrap()["data"]["reason"],
        "call_limit"
    );
    assert_eq!(call["transfers"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_agent_limit_counts_across_calls_and_says_when_it_frees_up() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let res = put_policy(&cc, &admin, policy(&[1], false, 2, 100)).await;
    assert_eq!(res.status(), 200);

    // Two dials on a first call, hung up; the third, on a new call, is over the hour's limit.
    let (first, _) = answered_call(&cc, &a).await;
    for _ in 0..2 {
        let transfer = start_transfer(&cc, &a, &first, transfer_to("+14155550199")).await;
        let res = finish_transfer(&cc, &a, &first, &transfer, "cancel").await;
        assert_eq!(res.status(), 200);
    }
    let res = cc
        .post(&a, &format!("/api/calls/{first}/hangup"), json!({}))
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    cc.status_until(&a, "available").await;

    let (second, _) = answered_call(&cc, &a).await;
    let res = dial(&cc, &a, &second, "+14155550198").await;
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After on the agent's limit")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&retry_after), "{retry_after}");
    let err = assert_error(res, 429, "dial_limit_reached").await;
    assert!(
        err["message"].as_str().unwrap().contains("limit per agent"),
        "{err}"
    );
    assert_never_dialed(&cc, "+14155550198");

    // Another's budget is their own.
    let res = cc
        .app()
        .send_json(
            Method::POST,
            &format!("/api/calls/{second}/transfers"),
            Some(&admin),
            &transfer_to("+14155550198"),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_change_the_policy_and_bad_input_changes_nothing() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", false).await;

    let res = put_policy(&cc, &a.token, policy(&[1, 44], true, 10, 3)).await;
    assert_error(res, 403, "forbidden").await;
    let res = cc
        .app()
        .send_json(Method::PUT, POLICY, None, &policy(&[1, 44], true, 10, 3))
        .await;
    assert_eq!(res.status(), 401);

    // Malformed: wrong types, unknown or missing fields.
    for body in [
        json!({ "allowed_country_codes": "1" }),
        json!({ "allowed_country_codes": [-1], "allowed_prefixes": [], "allowed_premium_prefixes": [],
                "international_for_agents": false, "max_dials_per_agent_per_hour": 1, "max_dials_per_call": 1 }),
        {
            let mut p = policy(&[1], false, 1, 1);
            p["allow_everything"] = json!(true);
            p
        },
    ] {
        let res = put_policy(&cc, &admin, body).await;
        assert_error(res, 400, "bad_request").await;
    }
    // Well-formed but invalid: each names its field.
    for (body, field) in [
        (policy(&[999], false, 1, 1), "allowed_country_codes"),
        (policy(&[1], false, 1001, 1), "max_dials_per_agent_per_hour"),
        (policy(&[1], false, 1, 101), "max_dials_per_call"),
        (
            {
                let mut p = policy(&[1], false, 1, 1);
                p["allowed_prefixes"] = json!(["44"]);
                p
            },
            "allowed_prefixes",
        ),
        (
            {
                let mut p = policy(&[1], false, 1, 1);
                p["allowed_premium_prefixes"] = json!(["+1900x"]);
                p
            },
            "allowed_premium_prefixes",
        ),
    ] {
        let res = put_policy(&cc, &admin, body).await;
        let err = assert_error(res, 422, "validation_failed").await;
        assert_eq!(err["field"], field, "{err}");
    }
    let view: Value = cc
        .app()
        .get(POLICY, Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["is_default"], true, "nothing was saved: {view}");

    // A good one is saved normalised, and read back by everyone.
    let mut body = policy(&[44, 1, 44], true, 20, 4);
    body["allowed_prefixes"] = json!([" +4420", "+4420"]);
    let res = put_policy(&cc, &admin, body).await;
    assert_eq!(res.status(), 200);
    let view: Value = cc
        .app()
        .get(POLICY, Some(&a.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["is_default"], false);
    assert_eq!(view["allowed_country_codes"], json!([1, 44]));
    assert_eq!(view["allowed_prefixes"], json!(["+4420"]));
    assert_eq!(view["max_dials_per_agent_per_hour"], 20);
    assert!(view["updated_by"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_dials_on_two_instances_cannot_both_take_the_last_slot() {
    let cc = CallCenter::start_with(2, |_| {}).await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let b = cc.agent("b", true).await;
    let calls = [
        answered_call(&cc, &a).await.0,
        answered_call(&cc, &b).await.0,
    ];
    assert_ne!(calls[0], calls[1]);

    let post = |app: usize, path: String, body: Value| {
        let admin = admin.clone();
        let app = &cc.apps[app];
        async move {
            app.send_json(Method::POST, &path, Some(&admin), &body)
                .await
        }
    };
    // Each round leaves the admin one slot in the hour, and dials out on both calls at once
    // through both instances: one dial, one refusal. (A race lost without the lock shows up in
    // a round or two.)
    for round in 1..=5u32 {
        let res = put_policy(&cc, &admin, policy(&[1], false, round, 100)).await;
        assert_eq!(res.status(), 200);
        let (one, two) = tokio::join!(
            post(
                0,
                format!("/api/calls/{}/transfers", calls[0]),
                transfer_to("+14155550101")
            ),
            post(
                1,
                format!("/api/calls/{}/transfers", calls[1]),
                transfer_to("+14155550102")
            )
        );
        let mut statuses = [one.status().as_u16(), two.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 429], "round {round}");
        for (call_id, res) in calls.iter().zip([one, two]) {
            if res.status() == 201 {
                let transfer: Value = res.json().await.unwrap();
                let path = format!(
                    "/api/calls/{call_id}/transfers/{}/cancel",
                    transfer["id"].as_str().unwrap()
                );
                let res = post(0, path, json!({})).await;
                assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
            }
        }
    }
}
