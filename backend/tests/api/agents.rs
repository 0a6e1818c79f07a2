use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp, PASSWORD};

fn new_agent(email: &str) -> Value {
    json!({ "email": email, "display_name": "Bea Diaz", "password": "a-long-password", "role": "agent" })
}

#[tokio::test]
async fn admins_create_list_update_and_deactivate_agents() {
    let app = TestApp::spawn().await;
    let (admin, _, _) = app.admin_and_agent().await;

    let res = app
        .send_json(
            Method::POST,
            "/api/agents",
            Some(&admin),
            &new_agent("bea@example.com"),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let bea: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/agents/{}", bea["id"].as_str().unwrap())
    );
    assert_eq!(bea["status"], "offline");
    let identity = bea["client_identity"].as_str().unwrap();
    assert!(
        identity.starts_with("bea_")
            && identity
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "{identity}"
    );

    let list: Vec<Value> = app
        .get("/api/agents", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 3);

    let path = format!("/api/agents/{}", bea["id"].as_str().unwrap());
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&admin),
            &json!({"display_name": "Bea D.", "role": "admin"}),
        )
        .await;
    let updated: Value = res.json().await.unwrap();
    assert_eq!(
        (updated["display_name"].as_str(), updated["role"].as_str()),
        (Some("Bea D."), Some("admin"))
    );

    let bea_token = {
        let res = app.login("bea@example.com", "a-long-password").await;
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let res = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    // Deactivation signs Bea out at once and keeps her out.
    assert_error(
        app.get("/api/me", Some(&bea_token)).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.login("bea@example.com", "a-long-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let active: Vec<Value> = app
        .get("/api/agents", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(active.len(), 2);
    let all: Vec<Value> = app
        .get("/api/agents?include_inactive=true", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
}

#[tokio::test]
async fn admin_routes_refuse_agents_with_403_and_anonymous_callers_with_401() {
    let app = TestApp::spawn().await;
    let (_, agent, agent_id) = app.admin_and_agent().await;
    let path = format!("/api/agents/{agent_id}");

    assert_error(
        app.send_json(
            Method::POST,
            "/api/agents",
            Some(&agent),
            &new_agent("x@example.com"),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.send_json(
            Method::PATCH,
            &path,
            Some(&agent),
            &json!({"role": "admin"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.client
            .delete(app.url(&path))
            .bearer_auth(&agent)
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get("/api/agents?include_inactive=true", Some(&agent))
            .await,
        403,
        "forbidden",
    )
    .await;

    assert_error(
        app.send_json(
            Method::POST,
            "/api/agents",
            None,
            &new_agent("x@example.com"),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.send_json(Method::PATCH, &path, None, &json!({"role": "admin"}))
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.client.delete(app.url(&path)).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_error(app.get("/api/agents", None).await, 401, "unauthorized").await;

    // Agents may still see their team.
    assert_eq!(app.get("/api/agents", Some(&agent)).await.status(), 200);
}

#[tokio::test]
async fn duplicate_email_or_identity_is_a_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (admin, _, _) = app.admin_and_agent().await;
    let res = app
        .send_json(
            Method::POST,
            "/api/agents",
            Some(&admin),
            &new_agent("ANA@example.com"),
        )
        .await;
    let body = assert_error(res, 409, "conflict").await;
    assert!(
        body["message"].as_str().unwrap().contains("email"),
        "{body}"
    );

    let mut with_identity = new_agent("carla@example.com");
    with_identity["client_identity"] = json!("carla_1");
    assert_eq!(
        app.send_json(Method::POST, "/api/agents", Some(&admin), &with_identity)
            .await
            .status(),
        201
    );
    with_identity["email"] = json!("carla2@example.com");
    assert_error(
        app.send_json(Method::POST, "/api/agents", Some(&admin), &with_identity)
            .await,
        409,
        "conflict",
    )
    .await;

    let list: Vec<Value> = app
        .get("/api/agents", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
}

#[tokio::test]
async fn invalid_fields_get_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let (admin, _, _) = app.admin_and_agent().await;
    for (field, value) in [
        ("email", json!("not-an-email")),
        ("password", json!("short")),
        ("display_name", json!("  ")),
        ("client_identity", json!("has space")),
    ] {
        let mut body = new_agent("dan@example.com");
        body[field] = value;
        let res = app
            .send_json(Method::POST, "/api/agents", Some(&admin), &body)
            .await;
        let err = assert_error(res, 422, "validation_failed").await;
        assert_eq!(err["field"], field);
    }
    let res = app
        .send_json(
            Method::POST,
            "/api/agents",
            Some(&admin),
            &json!({"email": "dan@example.com", "role": "boss"}),
        )
        .await;
    assert_error(res, 400, "bad_request").await;
}

#[tokio::test]
async fn unknown_agents_are_404_and_admins_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;
    let (admin, _, _) = app.admin_and_agent().await;
    let path = format!("/api/agents/{}", uuid::Uuid::new_v4());
    assert_error(
        app.send_json(
            Method::PATCH,
            &path,
            Some(&admin),
            &json!({"display_name": "x"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get("/api/agents/not-a-uuid", Some(&admin)).await,
        400,
        "bad_request",
    )
    .await;

    let me: Value = app.get("/api/me", Some(&admin)).await.json().await.unwrap();
    let own = format!("/api/agents/{}", me["id"].as_str().unwrap());
    assert_error(
        app.client
            .delete(app.url(&own))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;
}

#[tokio::test]
async fn a_password_reset_signs_the_agent_out_everywhere() {
    let app = TestApp::spawn().await;
    let (admin, agent, agent_id) = app.admin_and_agent().await;
    let path = format!("/api/agents/{agent_id}");
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&admin),
            &json!({"password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_error(app.get("/api/me", Some(&agent)).await, 401, "unauthorized").await;
    assert_error(
        app.login("ana@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login("ana@example.com", "a-brand-new-password")
            .await
            .status(),
        200
    );
}

/// Two admins, each demoting (or deactivating) the other at the same moment: one of them wins,
/// the other is refused, and the team keeps an active admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_removing_each_other_at_once_leave_an_admin() {
    let app = TestApp::spawn().await;
    for round in 0..10 {
        let (a_email, b_email) = (
            format!("a{round}@example.com"),
            format!("b{round}@example.com"),
        );
        let a = app
            .create_agent(&a_email, warm_transfer::domain::agent::Role::Admin)
            .await;
        let b = app
            .create_agent(&b_email, warm_transfer::domain::agent::Role::Admin)
            .await;
        let (a_token, b_token) = (app.token(&a_email).await, app.token(&b_email).await);
        let remove = |token: String, target: uuid::Uuid| {
            let client = app.client.clone();
            let url = app.url(&format!("/api/agents/{target}"));
            async move {
                let req = if round % 2 == 0 {
                    client.patch(url).json(&json!({"role": "agent"}))
                } else {
                    client.delete(url)
                };
                req.bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        let (by_a, by_b) = tokio::join!(remove(a_token, b), remove(b_token, a));
        let mut statuses = [by_a, by_b];
        statuses.sort();
        let won = if round % 2 == 0 { 200 } else { 204 };
        assert!(
            // The loser is refused; or, deactivated first, no longer signed in at all.
            statuses[0] == won && matches!(statuses[1], 401 | 403 | 409),
            "round {round}: {statuses:?}"
        );
        let remaining: i64 = diesel_async::RunQueryDsl::get_result(
            diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT count(*) FROM agents WHERE role = 'admin' AND active)",
            )),
            &mut app.state.pool.get().await.unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(remaining, 1, "round {round}: one active admin remains");
        // Start the next round with no admin.
        diesel_async::RunQueryDsl::execute(
            diesel::sql_query("UPDATE agents SET active = false WHERE role = 'admin'"),
            &mut app.state.pool.get().await.unwrap(),
        )
        .await
        .unwrap();
    }
}

/// The engine stores an agent's status as a move from the status it saw: a sign-out (or a
/// booking) committed meanwhile is kept, never overwritten by a stale decision.
#[tokio::test]
async fn a_status_move_from_a_status_the_agent_left_meanwhile_changes_nothing() {
    use warm_transfer::domain::agent::{AgentStatus, Role};
    let app = TestApp::spawn().await;
    let id = app.create_agent("ana@example.com", Role::Agent).await;
    let mut conn = app.state.pool.get().await.unwrap();
    // New agents start offline; a decision that saw them busy must not make them available.
    let moved = warm_transfer::db::agents::move_status(
        &mut conn,
        id,
        AgentStatus::Busy,
        AgentStatus::Available,
    )
    .await
    .unwrap();
    assert!(!moved);
    let agent = warm_transfer::db::agents::find(&mut conn, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(agent.status, AgentStatus::Offline);
    let moved = warm_transfer::db::agents::move_status(
        &mut conn,
        id,
        AgentStatus::Offline,
        AgentStatus::Available,
    )
    .await
    .unwrap();
    assert!(moved);
    let agent = warm_transfer::db::agents::find(&mut conn, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(agent.status, AgentStatus::Available);
}
