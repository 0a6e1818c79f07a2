//! The connection pool: statements kept prepared, and connections the database closed replaced
//! without a test query on every checkout.

use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

use crate::helpers::TestApp;
use crate::voice::CallCenter;
use warm_transfer::domain::engine::TimelineEvent;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn prepared_like(conn: &mut diesel_async::AsyncPgConnection, pattern: &str) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1")
        .bind::<diesel::sql_types::Text, _>(pattern)
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn the_voice_webhooks_insert_is_prepared_once_per_connection_and_reused() {
    let app = TestApp::spawn().await;
    let mut conn = app.state.pool.get().await.unwrap();
    let received = TimelineEvent::CallReceived {
        from: "+15551230000".into(),
        to: "+15559870000".into(),
        adopted_from_conference: None,
        adopted_from_twilio: None,
    };
    for i in 0..3 {
        let sid = format!("CA{:032x}", 0xabc0 + i);
        let stored = warm_transfer::db::calls::store_inbound_call(
            &mut conn,
            &sid,
            "+15551230000",
            "+15559870000",
            &format!("call-{sid}"),
            &received,
        )
        .await
        .unwrap();
        assert!(stored.is_some(), "call {i} stored");
    }
    assert_eq!(
        prepared_like(&mut conn, "WITH call AS (%INSERT INTO calls%").await,
        1,
        "three calls, one prepared statement"
    );

    // What it saves: a plain `sql_query` is prepared anew (unnamed) on every call and never kept.
    for _ in 0..2 {
        diesel::sql_query("SELECT 4242 AS n")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    assert_eq!(prepared_like(&mut conn, "SELECT 4242%").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_database_closed_are_replaced_and_the_next_caller_is_stored() {
    let cc = CallCenter::start().await;
    let app = &cc.apps[0];
    // Open a few pooled connections and put them back.
    {
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(app.state.pool.get().await.unwrap());
        }
    }
    let pooled = app.state.pool.status().size;
    assert!(pooled >= 4, "pool holds {pooled} connections");

    // The database ends every session of this database but ours (a restart or a failover does
    // the same to the pool).
    let mut admin = app.state.pool.get().await.unwrap();
    let ended: Vec<Count> = diesel::sql_query(
        "SELECT 1::bigint AS n FROM pg_stat_activity,
                LATERAL pg_terminate_backend(pid) AS ended
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND ended",
    )
    .load(&mut *admin)
    .await
    .unwrap();
    // Ours goes too, last, so that no old connection is left.
    let _ = diesel::sql_query("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(&mut *admin)
        .await;
    drop(admin);
    assert!(ended.len() >= 3, "ended {} sessions", ended.len());
    // Each connection reads the database's goodbye as it arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Every connection handed out now works on its first query.
    let mut fresh = Vec::new();
    for i in 0..pooled {
        let mut conn = app.state.pool.get().await.unwrap();
        let one: Count = diesel::sql_query("SELECT 1::bigint AS n")
            .get_result(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("connection {i} handed out dead: {e}"));
        assert_eq!(one.n, 1);
        fresh.push(conn);
    }
    drop(fresh);

    // And a caller arriving now is stored.
    let sid = cc.customer_calls().await;
    let mut conn = app.state.pool.get().await.unwrap();
    let mut stored = None;
    for _ in 0..100 {
        stored = warm_transfer::db::calls::find_call_by_sid(&mut conn, &sid)
            .await
            .unwrap();
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stored.is_some(), "the caller's call {sid} is stored");
    let voice = cc
        .sim
        .webhook_log()
        .into_iter()
        .find(|w| w.url.ends_with("/twilio/voice"))
        .expect("voice webhook sent");
    assert_eq!(voice.response_status, Some(200), "{voice:#?}");
}
