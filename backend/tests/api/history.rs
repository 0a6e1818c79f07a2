//! Call history: who handled a call (the agent filter, `handled_by`, `transfer_summary`) and paging.
//! Calls are written straight into the database, as the engine leaves them, so each test can
//! shape exactly the legs, owners and transfers it is about.

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde_json::Value;
use uuid::Uuid;
use warm_transfer::domain::agent::Role;

use crate::helpers::{assert_error, TestApp};

/// A finished call created at `at`, owned by `owner`.
async fn call(app: &TestApp, at: DateTime<Utc>, owner: Option<Uuid>) -> Uuid {
    let mut conn = app.state.pool.get().await.unwrap();
    let id = Uuid::new_v4();
    let sid = format!("CA{}", Uuid::new_v4().simple());
    diesel::sql_query(
        "INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                            status, owner_agent_id, queued_at, created_at, answered_at, ended_at)
         VALUES ($1, $2, '+14155550100', '+15005550006', 'wt_' || $2, 'completed', $3,
                 $4, $4, $4 + interval '5 seconds', $4 + interval '60 seconds')",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(&sid)
    .bind::<Nullable<SqlUuid>, _>(owner)
    .bind::<Timestamptz, _>(at)
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO participants (id, call_id, kind, phone, call_sid, status, created_at, joined_at)
         VALUES ($1, $2, 'customer', '+14155550100', $3, 'left', $4, $4)",
    )
    .bind::<SqlUuid, _>(Uuid::new_v4())
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(&sid)
    .bind::<Timestamptz, _>(at)
    .execute(&mut conn)
    .await
    .unwrap();
    id
}

/// An agent's leg on `call`, dialed `after` the call came in; `joined` when it was answered.
async fn leg(app: &TestApp, call: Uuid, agent: Uuid, after: Duration, joined: bool) -> Uuid {
    let mut conn = app.state.pool.get().await.unwrap();
    let id = Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO participants (id, call_id, kind, agent_id, call_sid, status, created_at,
                                   joined_at)
         SELECT $1, c.id, 'agent', $2, $3, CASE WHEN $5 THEN 'left' ELSE 'no_answer' END,
                c.created_at + $4 * interval '1 second',
                CASE WHEN $5 THEN c.created_at + ($4 + 2) * interval '1 second' END
         FROM calls c WHERE c.id = $6",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(agent)
    .bind::<Text, _>(format!("CA{}", Uuid::new_v4().simple()))
    .bind::<diesel::sql_types::Double, _>(after.num_seconds() as f64)
    .bind::<diesel::sql_types::Bool, _>(joined)
    .bind::<SqlUuid, _>(call)
    .execute(&mut conn)
    .await
    .unwrap();
    id
}

/// A warm transfer from `from` to `to` on `call` whose target leg is `target_leg`.
async fn transfer(app: &TestApp, call: Uuid, from: Uuid, to: Uuid, target_leg: Uuid, status: &str) {
    let mut conn = app.state.pool.get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO transfers (id, call_id, from_agent_id, to_agent_id, mode, status,
                                target_participant_id)
         VALUES ($1, $2, $3, $4, 'warm', $5, $6)",
    )
    .bind::<SqlUuid, _>(Uuid::new_v4())
    .bind::<SqlUuid, _>(call)
    .bind::<SqlUuid, _>(from)
    .bind::<SqlUuid, _>(to)
    .bind::<Text, _>(status)
    .bind::<SqlUuid, _>(target_leg)
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn page(app: &TestApp, query: &str, token: &str) -> Value {
    let res = app.get(&format!("/api/calls?{query}"), Some(token)).await;
    assert_eq!(res.status(), 200, "GET /api/calls?{query}");
    res.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<Uuid> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Every page of a listing, following `next_cursor`.
async fn every_page(app: &TestApp, query: &str, token: &str) -> Vec<Vec<Uuid>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("{query}&cursor={c}"),
            None => query.to_owned(),
        };
        let p = page(app, &q, token).await;
        pages.push(ids(&p));
        match p["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return pages,
        }
        assert!(pages.len() < 100, "paging never ends");
    }
}

#[tokio::test]
async fn the_agent_filter_lists_exactly_the_calls_any_of_whose_legs_the_agent_handled() {
    let app = TestApp::spawn().await;
    let admin_id = app.create_agent("boss@example.com", Role::Admin).await;
    let ana = app.create_agent("ana@example.com", Role::Agent).await;
    let ben = app.create_agent("ben@example.com", Role::Agent).await;
    let admin = app.token("boss@example.com").await;
    let ana_token = app.token("ana@example.com").await;
    let t0 = Utc::now() - Duration::hours(1);

    // Never on the call: Ben's alone, and one nobody answered.
    let bens = call(&app, t0, Some(ben)).await;
    leg(&app, bens, ben, Duration::seconds(1), true).await;
    let abandoned = call(&app, t0 + Duration::minutes(1), None).await;
    // Owner only (the owner's leg is not stored).
    let owned = call(&app, t0 + Duration::minutes(2), Some(ana)).await;
    // Only a transfer's target, and the transfer was canceled: Ben kept the call.
    let consulted = call(&app, t0 + Duration::minutes(3), Some(ben)).await;
    leg(&app, consulted, ben, Duration::seconds(1), true).await;
    let target = leg(&app, consulted, ana, Duration::seconds(30), true).await;
    transfer(&app, consulted, ben, ana, target, "canceled").await;
    // Rung only: her leg never joined.
    let rung = call(&app, t0 + Duration::minutes(4), Some(ben)).await;
    leg(&app, rung, ana, Duration::seconds(1), false).await;
    leg(&app, rung, ben, Duration::seconds(20), true).await;
    // Handed to Ben later: she stays on it.
    let handed = call(&app, t0 + Duration::minutes(5), None).await;
    leg(&app, handed, ana, Duration::seconds(1), true).await;
    let to_ben = leg(&app, handed, ben, Duration::seconds(30), true).await;
    transfer(&app, handed, ana, ben, to_ben, "completed").await;
    let mut conn = app.state.pool.get().await.unwrap();
    diesel::sql_query("UPDATE calls SET owner_agent_id = $1 WHERE id = $2")
        .bind::<SqlUuid, _>(ben)
        .bind::<SqlUuid, _>(handed)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);

    let hers = vec![handed, rung, consulted, owned];
    let as_admin = page(&app, &format!("agent_id={ana}"), &admin).await;
    assert_eq!(
        ids(&as_admin),
        hers,
        "newest first, and none she never handled"
    );
    assert!(as_admin["next_cursor"].is_null());
    // An agent gets her own, whatever agent she asks about.
    assert_eq!(ids(&page(&app, "", &ana_token).await), hers);
    assert_eq!(
        ids(&page(&app, &format!("agent_id={ben}"), &ana_token).await),
        hers
    );
    // Ben's: every call but the owner-only one and the abandoned one.
    let bens_page = page(&app, &format!("agent_id={ben}"), &admin).await;
    assert_eq!(ids(&bens_page), vec![handed, rung, consulted, bens]);
    // Nobody's: an agent who handled nothing, and one that does not exist.
    assert!(ids(&page(&app, &format!("agent_id={admin_id}"), &admin).await).is_empty());
    assert!(ids(&page(&app, &format!("agent_id={}", Uuid::new_v4()), &admin).await).is_empty());
    // Admin without a filter: all six.
    let all = ids(&page(&app, "", &admin).await);
    assert_eq!(all.len(), 6);
    assert!(all.contains(&abandoned));
    // The filter composes with status and dates.
    assert!(ids(&page(&app, &format!("agent_id={ana}&status=abandoned"), &admin).await).is_empty());
    let since = (t0 + Duration::minutes(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until = (t0 + Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        ids(&page(
            &app,
            &format!("agent_id={ana}&since={since}&until={until}"),
            &admin
        )
        .await),
        vec![rung, consulted]
    );
}

#[tokio::test]
async fn a_history_item_names_its_handling_agents_in_join_order_and_its_transfers() {
    let app = TestApp::spawn().await;
    app.create_agent("boss@example.com", Role::Admin).await;
    let ana = app.create_agent("ana@example.com", Role::Agent).await;
    let ben = app.create_agent("ben@example.com", Role::Agent).await;
    let admin = app.token("boss@example.com").await;

    let lone = call(&app, Utc::now() - Duration::minutes(10), None).await;
    let id = call(&app, Utc::now() - Duration::minutes(5), Some(ben)).await;
    // Ben was rung first but did not answer; Ana answered, then handed it to Ben; a first
    // attempt to hand it over was canceled. Ben's two legs count once.
    leg(&app, id, ben, Duration::seconds(1), false).await;
    leg(&app, id, ana, Duration::seconds(20), true).await;
    let first = leg(&app, id, ben, Duration::seconds(40), true).await;
    transfer(&app, id, ana, ben, first, "canceled").await;
    let second = leg(&app, id, ben, Duration::seconds(80), true).await;
    transfer(&app, id, ana, ben, second, "completed").await;

    let listed = page(&app, "", &admin).await;
    assert_eq!(ids(&listed), vec![id, lone]);
    let item = &listed["items"][0];
    let handled: Vec<(&str, &str, bool)> = item["handled_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap(),
                a["name"].as_str().unwrap(),
                a["joined"].as_bool().unwrap(),
            )
        })
        .collect();
    let (ana_s, ben_s) = (ana.to_string(), ben.to_string());
    assert_eq!(
        handled,
        vec![(ana_s.as_str(), "ana", true), (ben_s.as_str(), "ben", true)],
        "in the order they joined; Ben once, joined on a later leg"
    );
    let transfers = item["transfer_summary"].as_array().unwrap();
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[0]["status"], "canceled");
    assert_eq!(transfers[1]["status"], "completed");
    assert_eq!(transfers[1]["mode"], "warm");
    assert_eq!(transfers[1]["to_name"], "ben");
    assert_eq!(transfers[1]["from_agent_id"], ana_s.as_str());
    assert!(transfers[1]["to_number"].is_null());
    // The abandoned call: nobody, no transfers (present and empty, not missing).
    assert_eq!(listed["items"][1]["handled_by"], serde_json::json!([]));
    assert_eq!(
        listed["items"][1]["transfer_summary"],
        serde_json::json!([])
    );
    // The call's detail shows the same.
    let detail: Value = app
        .get(&format!("/api/calls/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["handled_by"], item["handled_by"]);
    assert_eq!(detail["transfer_summary"], item["transfer_summary"]);
    assert_eq!(detail["transfers"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn history_pages_never_repeat_or_skip_a_call_even_as_new_calls_arrive() {
    let app = TestApp::spawn().await;
    app.create_agent("boss@example.com", Role::Admin).await;
    let ana = app.create_agent("ana@example.com", Role::Agent).await;
    let admin = app.token("boss@example.com").await;
    let ana_token = app.token("ana@example.com").await;
    // Seven calls, three of them created at the very same instant (the id breaks the tie).
    let t0 = Utc::now() - Duration::hours(2);
    let mut expected = Vec::new();
    for i in 0..7 {
        let at = if (2..5).contains(&i) {
            t0 + Duration::minutes(2)
        } else {
            t0 + Duration::minutes(i)
        };
        let id = call(&app, at, Some(ana)).await;
        leg(&app, id, ana, Duration::seconds(1), true).await;
        expected.push((at, id));
    }
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<Uuid> = expected.into_iter().map(|(_, id)| id).collect();

    for (query, token) in [
        ("limit=2".to_owned(), &admin),
        (format!("limit=2&agent_id={ana}"), &admin),
        ("limit=2".to_owned(), &ana_token),
        ("limit=3".to_owned(), &ana_token),
    ] {
        let pages = every_page(&app, &query, token).await;
        assert!(
            pages.iter().all(|p| !p.is_empty()),
            "{query}: an empty page"
        );
        assert_eq!(pages.concat(), expected, "{query}");
    }

    // A call arriving between two page reads does not shift the next page.
    let first = page(&app, &format!("limit=3&agent_id={ana}"), &admin).await;
    let newer = call(&app, Utc::now(), Some(ana)).await;
    leg(&app, newer, ana, Duration::seconds(1), true).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(
        &app,
        &format!("limit=3&agent_id={ana}&cursor={cursor}"),
        &admin,
    )
    .await;
    assert_eq!(ids(&second), expected[3..6]);

    // A cursor this API never returned is a malformed request, as for the queue.
    for bad in ["cursor=nope", "cursor=123_notauuid", "cursor=garbage"] {
        let res = app.get(&format!("/api/calls?{bad}"), Some(&admin)).await;
        let body = assert_error(res, 400, "bad_request").await;
        assert_eq!(body["field"], "cursor", "{bad}: {body}");
    }
    for bad in ["limit=0", "limit=201"] {
        let res = app.get(&format!("/api/calls?{bad}"), Some(&admin)).await;
        let body = assert_error(res, 422, "validation_failed").await;
        assert_eq!(body["field"], "limit", "{bad}: {body}");
    }
}

#[tokio::test]
async fn a_sparse_agent_gets_exactly_their_few_calls_from_a_long_history() {
    let app = TestApp::spawn().await;
    app.create_agent("boss@example.com", Role::Admin).await;
    let busy = app.create_agent("busy@example.com", Role::Agent).await;
    let rare = app.create_agent("rare@example.com", Role::Agent).await;
    let admin = app.token("boss@example.com").await;
    let rare_token = app.token("rare@example.com").await;
    // 2,000 calls of another agent, one a minute.
    let mut conn = app.state.pool.get().await.unwrap();
    diesel::sql_query(
        "WITH c AS (
             INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                                status, owner_agent_id, created_at)
             SELECT gen_random_uuid(), 'CA' || md5('history-' || i), '+14155550100',
                    '+15005550006', 'wt_CA' || md5('history-' || i), 'completed', $1,
                    now() - i * interval '1 minute'
             FROM generate_series(1, 2000) AS i
             RETURNING id, created_at
         )
         INSERT INTO participants (id, call_id, kind, agent_id, call_sid, status, created_at)
         SELECT gen_random_uuid(), id, 'agent', $1, 'CA' || md5(id::text), 'left', created_at
         FROM c",
    )
    .bind::<SqlUuid, _>(busy)
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    // Three of the rare agent's, spread through it: oldest, middle, newest.
    let mut theirs = Vec::new();
    for minutes in [0, 1000, 2500] {
        let id = call(
            &app,
            Utc::now() - Duration::minutes(minutes) + Duration::seconds(30),
            None,
        )
        .await;
        leg(&app, id, rare, Duration::seconds(1), true).await;
        theirs.push(id);
    }
    for (query, token) in [
        (format!("agent_id={rare}"), &admin),
        (String::new(), &rare_token),
    ] {
        let listed = page(&app, &format!("limit=2&{query}"), token).await;
        assert_eq!(ids(&listed), theirs[..2], "{query}");
        let cursor = listed["next_cursor"].as_str().unwrap();
        let rest = page(&app, &format!("limit=2&{query}&cursor={cursor}"), token).await;
        assert_eq!(ids(&rest), theirs[2..], "{query}");
        assert!(rest["next_cursor"].is_null(), "{query}");
    }
    let busy_pages = every_page(&app, &format!("limit=200&agent_id={busy}"), &admin).await;
    assert_eq!(busy_pages.concat().len(), 2000);
}
