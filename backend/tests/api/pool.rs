//! The connection pool: statements kept prepared, and connections the database closed replaced
//! without a test query on every checkout.

use std::time::Duration;

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

use crate::bad_input::signed_post;
use crate::helpers::TestApp;
use crate::voice::CallCenter;
use warm_transfer::db::calls::ArrivingCall;

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
    for i in 0..3 {
        let sid = format!("CA{:032x}", 0xabc0 + i);
        let conference = format!("call-{sid}");
        let stored = warm_transfer::db::calls::store_inbound_call(
            &mut conn,
            ArrivingCall {
                customer_call_sid: &sid,
                from: "+15551230000",
                to: "+15559870000",
                conference_name: &conference,
                adopted_from_conference: None,
                adopted_from_twilio: None,
            },
        )
        .await
        .unwrap();
        assert!(stored.is_some(), "call {i} stored");
    }
    assert_eq!(
        prepared_like(&mut conn, "WITH arriving AS (%INSERT INTO calls%").await,
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

/// Arriving calls are stored together under a burst: each exactly once, with its customer leg
/// and its `call_received` entry, even when Twilio's retry of a webhook races the first try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_arriving_calls_stores_each_once_with_its_leg_and_entry() {
    let cc = CallCenter::start().await;
    let sids: Vec<String> = (0..80).map(|i| format!("CA{:032x}", 0x5000 + i)).collect();
    // Every tenth call's webhook comes twice at once.
    let posts: Vec<&String> = sids
        .iter()
        .enumerate()
        .flat_map(|(i, sid)| std::iter::repeat_n(sid, if i % 10 == 0 { 2 } else { 1 }))
        .collect();
    let answers = futures_util::future::join_all(posts.iter().map(|sid| async {
        let params = [
            ("CallSid", (*sid).clone()),
            ("From", "+14155550100".to_owned()),
            ("To", "+15005550006".to_owned()),
        ];
        let res = signed_post(&cc, "/twilio/voice", &params).await;
        (res.status().as_u16(), res.text().await.unwrap())
    }))
    .await;
    for (status, twiml) in &answers {
        assert_eq!(*status, 200, "{twiml}");
        assert!(twiml.contains("<Conference"), "{twiml}");
    }

    #[derive(QueryableByName, Debug)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sid: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        calls: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        legs: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        received: i64,
    }
    let mut conn = cc.apps[0].state.pool.get().await.unwrap();
    let stored: Vec<Stored> = diesel::sql_query(
        "SELECT c.customer_call_sid AS sid, count(DISTINCT c.id) AS calls,
                (SELECT count(*) FROM participants p
                  WHERE p.call_id = min(c.id::text)::uuid AND p.kind = 'customer'
                    AND p.call_sid = c.customer_call_sid) AS legs,
                (SELECT count(*) FROM call_events e
                  WHERE e.call_id = min(c.id::text)::uuid AND e.kind = 'call_received') AS received
           FROM calls c WHERE c.customer_call_sid = ANY($1)
          GROUP BY c.customer_call_sid",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&sids)
    .load(&mut *conn)
    .await
    .unwrap();
    assert_eq!(stored.len(), sids.len(), "every call stored: {stored:?}");
    for s in &stored {
        assert!(sids.contains(&s.sid), "{s:?}");
        assert_eq!((s.calls, s.legs, s.received), (1, 1, 1), "{s:?}");
    }
}
