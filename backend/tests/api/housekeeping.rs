//! Expired sessions and old failed sign-ins are pruned.

use std::time::Duration;

use diesel_async::RunQueryDsl;

use crate::helpers::TestApp;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let mut conn = app.state.pool.get().await.unwrap();
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn pruning_removes_expired_sessions_and_old_sign_in_failures() {
    let app = TestApp::spawn().await;
    let (admin, agent, _) = app.admin_and_agent().await;
    let _ = app.login("ana@example.com", "wrong-password-1").await;
    let mut conn = app.state.pool.get().await.unwrap();
    // The agent's session expired an hour ago; one failed sign-in is a day old.
    diesel::sql_query(
        "UPDATE sessions SET expires_at = now() - interval '1 hour' \
         WHERE agent_id = (SELECT id FROM agents WHERE email = 'ana@example.com')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO login_failures (email, client_ip, at) \
         VALUES ('old@example.com', '127.0.0.1', now() - interval '1 day')",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let pruned =
        warm_transfer::services::housekeeping::prune(&app.state.pool, Duration::from_secs(900))
            .await
            .unwrap();
    assert_eq!((pruned.sessions, pruned.login_failures), (1, 1));

    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM sessions").await,
        1,
        "the admin's live session stays"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM login_failures WHERE email = 'ana@example.com'"
        )
        .await,
        1,
        "a failure inside the window stays"
    );
    assert_eq!(app.get("/api/me", Some(&admin)).await.status(), 200);
    assert_eq!(app.get("/api/me", Some(&agent)).await.status(), 401);
}
