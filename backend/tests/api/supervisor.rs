//! Supervisors: the role, the live board, and acting on other agents' calls.

use reqwest::Method;
use serde_json::{json, Value};
use warm_transfer::domain::agent::Role;

use crate::helpers::{assert_error, TestApp, PASSWORD};
use crate::voice::{agent_leg, answered_call, connected, customer, Agent, CallCenter};

/// A supervisor, signed in, optionally available for calls.
async fn supervisor(cc: &CallCenter, name: &str, available: bool) -> Agent {
    let email = format!("{name}@example.com");
    let app = cc.app();
    let id = app.create_agent(&email, Role::Supervisor).await.to_string();
    let token = app.token(&email).await;
    let me: Value = app.get("/api/me", Some(&token)).await.json().await.unwrap();
    assert_eq!(me["role"], "supervisor");
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

async fn board(cc: &CallCenter, token: &str) -> Vec<Value> {
    let res = cc.app().get("/api/board/calls", Some(token)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn board_until(
    cc: &CallCenter,
    token: &str,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..200 {
        let calls = board(cc, token).await;
        if check(&calls) {
            return calls;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("board never showed {what}: {:#?}", board(cc, token).await);
}

#[tokio::test]
async fn a_plain_agent_gets_403_on_every_supervisor_endpoint() {
    let app = TestApp::spawn().await;
    let (_, agent, _) = app.admin_and_agent().await;
    assert_error(app.get("/api/board/calls", None).await, 401, "unauthorized").await;
    let body = assert_error(
        app.get("/api/board/calls", Some(&agent)).await,
        403,
        "forbidden",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("supervisor"),
        "{body}"
    );
}

#[tokio::test]
async fn admins_give_the_supervisor_role_and_supervisors_cannot_manage() {
    let app = TestApp::spawn().await;
    let (admin, _, ana) = app.admin_and_agent().await;

    // An unknown role is refused, naming the roles there are.
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/api/agents/{ana}"),
            Some(&admin),
            &json!({ "role": "boss" }),
        )
        .await;
    let body = assert_error(res, 400, "bad_request").await;
    assert!(
        body["message"].as_str().unwrap().contains("`supervisor`"),
        "{body}"
    );

    // Admins create supervisors and promote agents.
    let res = app
        .send_json(
            Method::POST,
            "/api/agents",
            Some(&admin),
            &json!({ "email": "sue@example.com", "display_name": "Sue", "password": PASSWORD, "role": "supervisor" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["role"], "supervisor");
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/api/agents/{ana}"),
            Some(&admin),
            &json!({ "role": "supervisor" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["role"], "supervisor");
    let listed: Vec<Value> = app
        .get("/api/agents", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.iter().filter(|a| a["role"] == "supervisor").count(),
        2
    );

    // Supervisors manage neither agents nor settings.
    let sue = app.token("sue@example.com").await;
    let me: Value = app.get("/api/me", Some(&sue)).await.json().await.unwrap();
    let admin_id = app
        .get("/api/me", Some(&admin))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .clone();
    for (method, path, body) in [
        (
            Method::POST,
            "/api/agents".to_owned(),
            json!({ "email": "x@example.com", "display_name": "X", "password": "a-long-password" }),
        ),
        (
            Method::PATCH,
            format!("/api/agents/{ana}"),
            json!({ "role": "admin" }),
        ),
        (
            Method::PATCH,
            format!("/api/agents/{}", me["id"].as_str().unwrap()),
            json!({ "role": "admin" }),
        ),
        (
            Method::DELETE,
            format!("/api/agents/{}", admin_id.as_str().unwrap()),
            json!({}),
        ),
        (
            Method::PUT,
            "/api/wrap-up-settings".to_owned(),
            json!({ "wrap_up_seconds": 10, "extension_seconds": 60, "require_disposition": false }),
        ),
        (
            Method::POST,
            "/api/dispositions".to_owned(),
            json!({ "code": "x", "label": "X" }),
        ),
        (
            Method::POST,
            "/api/away-reasons".to_owned(),
            json!({ "code": "x", "label": "X" }),
        ),
    ] {
        let res = app
            .send_json(method.clone(), &path, Some(&sue), &body)
            .await;
        assert_eq!(
            res.status(),
            403,
            "{method} {path}: {}",
            res.text().await.unwrap()
        );
    }
    let res = app
        .get("/api/agents?include_inactive=true", Some(&sue))
        .await;
    assert_eq!(res.status(), 403);
    // But they see the board.
    assert_eq!(app.get("/api/board/calls", Some(&sue)).await.status(), 200);

    // An admin cannot demote themselves to supervisor (someone must stay admin).
    let res = app
        .send_json(
            Method::PATCH,
            &format!("/api/agents/{}", admin_id.as_str().unwrap()),
            Some(&admin),
            &json!({ "role": "supervisor" }),
        )
        .await;
    assert_error(res, 409, "conflict").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_take_calls_and_see_every_live_call_with_its_state() {
    let cc = CallCenter::start().await;
    // Only a supervisor is available: they are routed the call like an agent.
    let sue = supervisor(&cc, "sue", true).await;
    let (sue_call, _) = answered_call(&cc, &sue).await;
    assert_eq!(cc.agent_status(&sue).await, "busy");

    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;

    // The board lists both calls, oldest first, talking, with their owners.
    let calls = board_until(&cc, &sue.token, "both calls talking", |calls| {
        calls.len() == 2 && calls.iter().all(|c| c["live_state"] == "talking")
    })
    .await;
    assert_eq!(calls[0]["id"], sue_call.as_str());
    assert_eq!(calls[1]["id"], call_id.as_str());
    assert_eq!(calls[1]["owner_name"], "ana");
    // The plain agent sees neither the board nor the supervisor's call.
    assert_eq!(
        cc.app()
            .get("/api/board/calls", Some(&ana.token))
            .await
            .status(),
        403
    );
    assert_eq!(
        cc.app()
            .get(&format!("/api/calls/{sue_call}"), Some(&ana.token))
            .await
            .status(),
        403
    );
    // The supervisor reads the agent's call and its history.
    let detail = cc
        .call_until(&sue.token, &call_id, "readable", |c| {
            c["id"] == call_id.as_str()
        })
        .await;
    let list: Value = cc
        .app()
        .get("/api/calls?status=in_progress", Some(&sue.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");

    // The agent holds the customer: the board says so.
    let customer_leg = customer(&detail)["id"].as_str().unwrap().to_owned();
    let res = cc
        .post(
            &ana,
            &format!("/api/calls/{call_id}/participants/{customer_leg}/hold"),
            json!({ "hold": true }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    board_until(&cc, &sue.token, "the call on hold", |calls| {
        calls
            .iter()
            .any(|c| c["id"] == call_id.as_str() && c["live_state"] == "on_hold")
    })
    .await;

    // A supervisor may end another agent's call; it leaves the board; a second end is 409.
    let res = cc
        .post(&sue, &format!("/api/calls/{call_id}/hangup"), json!({}))
        .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
    cc.call_until(&sue.token, &call_id, "completed", |c| {
        c["status"] == "completed"
    })
    .await;
    board_until(&cc, &sue.token, "the ended call gone", |calls| {
        calls.len() == 1 && calls[0]["id"] == sue_call.as_str()
    })
    .await;
    assert!(cc
        .sim
        .snapshot()
        .call(&customer_sid)
        .is_none_or(|c| c.status.is_final()));
    let res = cc
        .post(&sue, &format!("/api/calls/{call_id}/hangup"), json!({}))
        .await;
    assert_error(res, 409, "conflict").await;
    let unknown = uuid::Uuid::new_v4();
    let res = cc
        .post(&sue, &format!("/api/calls/{unknown}/hangup"), json!({}))
        .await;
    assert_error(res, 404, "not_found").await;
    // The agent is free again; the supervisor's own call goes on.
    cc.status_until(&ana, "available").await;
    let own = cc
        .my_call_until(&sue, "still on their own call", |c| {
            c["id"] == sue_call.as_str()
        })
        .await;
    assert!(connected(agent_leg(&own, &sue)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_signs_out_an_agent_mid_call_and_the_caller_goes_to_a_colleague() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &ana).await;

    // Unhappy paths first: a plain agent may not; an unknown agent is 404.
    let bob = cc.agent("bob", false).await;
    let res = cc
        .post(&bob, &format!("/api/agents/{}/sign-out", ana.id), json!({}))
        .await;
    assert_error(res, 403, "forbidden").await;
    let unknown = uuid::Uuid::new_v4();
    let res = cc
        .post(&sue, &format!("/api/agents/{unknown}/sign-out"), json!({}))
        .await;
    assert_error(res, 404, "not_found").await;
    let res = cc
        .post(&sue, &format!("/api/agents/{}/sign-out", sue.id), json!({}))
        .await;
    let body = assert_error(res, 409, "conflict").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/api/auth/logout"),
        "{body}"
    );

    cc.set_status(&bob, "available").await;
    let res = cc
        .post(&sue, &format!("/api/agents/{}/sign-out", ana.id), json!({}))
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["status"], "offline");
    // Her session is over.
    assert_eq!(
        cc.app().get("/api/me", Some(&ana.token)).await.status(),
        401
    );
    // The caller was not dropped: they ring bob, who answers, and talk on.
    cc.answer(&bob).await;
    let call = cc
        .call_until(&sue.token, &call_id, "bob talking to the customer", |c| {
            c["owner_agent_id"] == bob.id.as_str()
                && connected(agent_leg(c, &bob))
                && connected(customer(c))
        })
        .await;
    assert_eq!(call["status"], "in_progress");
    assert!(cc
        .sim
        .snapshot()
        .call(&customer_sid)
        .is_some_and(|c| !c.status.is_final()));

    // Signing her out again: nothing to sign out of.
    let res = cc
        .post(&sue, &format!("/api/agents/{}/sign-out", ana.id), json!({}))
        .await;
    assert_error(res, 409, "conflict").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_moves_a_queued_call_to_the_front_of_the_queue() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", false).await;
    // Three callers wait; nobody is available.
    for from in ["+14155550101", "+14155550102", "+14155550103"] {
        cc.sim.dial_in(from);
    }
    let queue = cc
        .app()
        .poll(
            "/api/queue",
            Some(&sue.token),
            "three callers waiting",
            |q| q["total"] == 3,
        )
        .await;
    let ids: Vec<String> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["call_id"].as_str().unwrap().to_owned())
        .collect();
    let last = &ids[2];
    let waiting_since = queue["items"][2]["waiting_since"].clone();
    let last_from = queue["items"][2]["from_number"].clone();

    // Unhappy paths first.
    let res = cc
        .post(&ana, &format!("/api/calls/{last}/move-to-front"), json!({}))
        .await;
    assert_error(res, 403, "forbidden").await;
    let unknown = uuid::Uuid::new_v4();
    let res = cc
        .post(
            &sue,
            &format!("/api/calls/{unknown}/move-to-front"),
            json!({}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let res = cc
        .post(
            &sue,
            &format!("/api/calls/{}/move-to-front", ids[0]),
            json!({}),
        )
        .await;
    let body = assert_error(res, 409, "conflict").await;
    assert!(
        body["message"].as_str().unwrap().contains("already first"),
        "{body}"
    );

    // The last caller goes first; their wait still counts from when they called.
    let res = cc
        .post(&sue, &format!("/api/calls/{last}/move-to-front"), json!({}))
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let queue: Value = cc
        .app()
        .get("/api/queue", Some(&sue.token))
        .await
        .json()
        .await
        .unwrap();
    let order: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [last.as_str(), ids[0].as_str(), ids[1].as_str()]);
    assert_eq!(queue["items"][0]["waiting_since"], waiting_since);
    let res = cc
        .post(&sue, &format!("/api/calls/{last}/move-to-front"), json!({}))
        .await;
    assert_error(res, 409, "conflict").await;

    let detail = cc
        .call_until(&sue.token, last, "the move in the timeline", |c| {
            c["timeline"]
                .as_array()
                .is_some_and(|t| t.iter().any(|e| e["kind"] == "moved_to_front"))
        })
        .await;
    let moved = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "moved_to_front")
        .unwrap();
    assert_eq!(moved["data"]["by"], sue.id.as_str());
    assert_eq!(detail["from_number"], last_from);

    // A call being answered is no longer in the queue to reorder.
    for id in &ids {
        cc.call_until(&sue.token, id, "the caller in the conference", |c| {
            connected(customer(c))
        })
        .await;
    }
    cc.set_status(&ana, "available").await;
    cc.answer(&ana).await;
    let call = cc
        .my_call_until(&ana, "ana on a call", |c| c["status"] == "in_progress")
        .await;
    let taken = call["id"].as_str().unwrap();
    let res = cc
        .post(
            &sue,
            &format!("/api/calls/{taken}/move-to-front"),
            json!({}),
        )
        .await;
    let body = assert_error(res, 409, "conflict").await;
    assert!(
        body["message"].as_str().unwrap().contains("in_progress"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_gives_a_waiting_caller_to_a_busy_agent_who_gets_them_next() {
    let cc = CallCenter::start().await;
    let sue = supervisor(&cc, "sue", false).await;
    let ana = cc.agent("ana", true).await;
    let bob = cc.agent("bob", false).await;
    let (ana_call, ana_customer) = answered_call(&cc, &ana).await;
    // Two more callers wait while ana is busy and bob is offline.
    for from in ["+14155550102", "+14155550103"] {
        cc.sim.dial_in(from);
    }
    let queue = cc
        .app()
        .poll("/api/queue", Some(&sue.token), "two callers waiting", |q| {
            q["total"] == 2
        })
        .await;
    let second = queue["items"][1]["call_id"].as_str().unwrap().to_owned();
    for id in [queue["items"][0]["call_id"].as_str().unwrap(), &second] {
        cc.call_until(&sue.token, id, "the caller in the conference", |c| {
            connected(customer(c))
        })
        .await;
    }
    let path = format!("/api/calls/{second}/assign");

    // Unhappy paths first.
    let res = cc.post(&bob, &path, json!({ "agent_id": ana.id })).await;
    assert_error(res, 403, "forbidden").await;
    let res = cc
        .post(&sue, &path, json!({ "agent_id": uuid::Uuid::new_v4() }))
        .await;
    assert_error(res, 404, "not_found").await;
    let unknown = uuid::Uuid::new_v4();
    let res = cc
        .post(
            &sue,
            &format!("/api/calls/{unknown}/assign"),
            json!({ "agent_id": ana.id }),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    let res = cc.post(&sue, &path, json!({ "agent_id": bob.id })).await;
    let body = assert_error(res, 409, "conflict").await;
    assert!(
        body["message"].as_str().unwrap().contains("offline"),
        "{body}"
    );
    let res = cc.post(&sue, &path, json!({})).await;
    assert_eq!(res.status(), 400);
    let res = cc
        .post(
            &sue,
            &format!("/api/calls/{ana_call}/assign"),
            json!({ "agent_id": ana.id }),
        )
        .await;
    assert_error(res, 409, "conflict").await;

    // Given to ana: first in line, and hers when she is free.
    let res = cc.post(&sue, &path, json!({ "agent_id": ana.id })).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let queue: Value = cc
        .app()
        .get("/api/queue", Some(&sue.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"][0]["call_id"], second.as_str());
    cc.sim.hang_up(&ana_customer).unwrap();
    cc.answer(&ana).await;
    let call = cc
        .my_call_until(&ana, "ana on her next call", |c| {
            c["status"] == "in_progress" && c["id"] != ana_call.as_str()
        })
        .await;
    assert_eq!(call["id"], second.as_str());
    let given = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "assigned_to")
        .unwrap_or_else(|| panic!("no assigned_to in {call:#}"));
    assert_eq!(given["data"]["agent_id"], ana.id.as_str());
    assert_eq!(given["data"]["by"], sue.id.as_str());
}
