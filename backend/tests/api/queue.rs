//! The queue, a page at a time: keyset pages in the router's order, the total on the first.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};
use crate::voice::CallCenter;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["call_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn get(app: &TestApp, query: &str, token: &str) -> Value {
    let res = app.get(&format!("/api/queue?{query}"), Some(token)).await;
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

/// Every page from the first, following `next_cursor`, with `between` run after each page.
async fn walk(
    app: &TestApp,
    token: &str,
    limit: usize,
    mut between: impl AsyncFnMut(usize),
) -> Vec<Value> {
    let mut pages = vec![get(app, &format!("limit={limit}"), token).await];
    while let Some(cursor) = pages.last().unwrap()["next_cursor"].as_str() {
        let cursor = cursor.to_owned();
        between(pages.len()).await;
        pages.push(get(app, &format!("limit={limit}&cursor={cursor}"), token).await);
        assert!(pages.len() < 100, "the walk ends");
    }
    pages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_comes_a_page_at_a_time_with_its_total_on_the_first() {
    let cc = CallCenter::start().await;
    let agent = cc.agent("ana", false).await;
    for i in 0..5 {
        cc.sim.dial_in(&format!("+1415555010{i}"));
    }
    let app = cc.app();
    let first = app
        .poll(
            "/api/queue?limit=2",
            Some(&agent.token),
            "five waiting",
            |p| p["total"] == 5,
        )
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["limit"], json!(2));
    assert!(first["next_cursor"].is_string(), "{first}");

    let pages = walk(app, &agent.token, 2, async |_| {}).await;
    assert_eq!(pages.len(), 3);
    // Later pages skip the count; the last one says there is no next.
    assert_eq!(pages[1]["total"], Value::Null);
    assert_eq!(pages[2]["total"], Value::Null);
    assert_eq!(pages[2]["next_cursor"], Value::Null);
    assert_eq!(ids(&pages[2]).len(), 1);

    // Longest-waiting first, across pages: the walk is the whole queue in one page's order.
    let all = get(app, "", &agent.token).await;
    assert_eq!(all["total"], 5);
    assert_eq!(all["next_cursor"], Value::Null);
    let walked: Vec<String> = pages.iter().flat_map(ids).collect();
    assert_eq!(walked, ids(&all));
    let places: Vec<chrono::DateTime<chrono::FixedOffset>> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["queued_at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(places.is_sorted(), "{places:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_shows_every_caller_waiting_throughout_once_while_others_join_and_leave() {
    let cc = CallCenter::start().await;
    let agent = cc.agent("ana", false).await;
    let app = cc.app();
    let mut sids = Vec::new();
    for i in 0..12 {
        sids.push(cc.sim.dial_in(&format!("+141555502{i:02}")));
    }
    app.poll(
        "/api/queue?limit=1",
        Some(&agent.token),
        "twelve waiting",
        |p| p["total"] == 12,
    )
    .await;
    let before = ids(&get(app, "limit=200", &agent.token).await);
    assert_eq!(before.len(), 12);

    // After each page one caller from the front, one from the back and one not yet reached
    // hang up, and two more call: the pages move under the walk.
    let mut left = Vec::new();
    let mut joined = 0;
    let pages = walk(app, &agent.token, 3, async |n| {
        for at in [0, 11, 3 * n + 1] {
            let sid = &sids[at.min(11)];
            if !left.contains(sid) {
                let _ = cc.sim.hang_up(sid);
                left.push(sid.clone());
            }
        }
        for _ in 0..2 {
            cc.sim.dial_in(&format!("+141555503{joined:02}"));
            joined += 1;
        }
        // The hang-ups and arrivals reach the queue before the next page is read.
        let expected = 12 - left.len() + joined;
        app.poll(
            "/api/queue?limit=1",
            Some(&agent.token),
            "the queue after the changes",
            |p| p["total"] == expected,
        )
        .await;
    })
    .await;

    let walked: Vec<String> = pages.iter().flat_map(ids).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in &walked {
        *seen.entry(id).or_default() += 1;
    }
    assert!(seen.values().all(|&n| n == 1), "shown twice: {walked:?}");
    // Who waited throughout: still waiting now, and already before the walk began.
    let now: HashSet<String> = ids(&get(app, "limit=200", &agent.token).await)
        .into_iter()
        .collect();
    let throughout: Vec<&String> = before.iter().filter(|id| now.contains(*id)).collect();
    assert!(throughout.len() >= 4, "{throughout:?}");
    for id in throughout {
        assert!(seen.contains_key(id.as_str()), "{id} skipped: {walked:?}");
    }
    assert!(pages.len() >= 4, "the walk took several pages");
}

#[tokio::test]
async fn a_cursor_this_api_did_not_give_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.admin_and_agent().await;
    for bad in [
        "cursor=nope",
        "cursor=123_notauuid",
        "cursor=abc_0d7c7e3e6a2f4c1b9f6a1b2c3d4e5f60",
        "cursor=99999999999999999999_0d7c7e3e6a2f4c1b9f6a1b2c3d4e5f60",
        "cursor=",
        "limit=5&cursor=_",
    ] {
        let res = app.get(&format!("/api/queue?{bad}"), Some(&token)).await;
        let body = assert_error(res, 400, "bad_request").await;
        assert_eq!(body["field"], "cursor", "{bad}: {body}");
    }
    for bad in ["limit=0", "limit=201"] {
        let res = app.get(&format!("/api/queue?{bad}"), Some(&token)).await;
        let body = assert_error(res, 422, "validation_failed").await;
        assert_eq!(body["field"], "limit", "{bad}: {body}");
    }
    // Offsets are gone (they cost a sort of the whole queue): an unknown parameter.
    for bad in ["limit=ten", "page=2", "offset=4"] {
        let res = app.get(&format!("/api/queue?{bad}"), Some(&token)).await;
        assert_error(res, 400, "bad_request").await;
    }
    // An empty queue: no rows, a total of 0, no next page.
    let empty = get(&app, "", &token).await;
    assert_eq!(
        (&empty["items"], &empty["total"], &empty["next_cursor"]),
        (&json!([]), &json!(0), &Value::Null)
    );
}

/// With more waiting than one page, the total is counted once per change of the queue, not on
/// every read (a count walks every waiting call); a change, from this instance or heard from
/// another, makes the next read count again. A first page that holds everyone is its own count.
#[tokio::test]
async fn the_total_is_counted_again_when_the_queue_changes_not_on_every_read() {
    use diesel_async::RunQueryDsl;
    use warm_transfer::services::calls::WaitingTotal;

    let app = TestApp::spawn().await;
    let (_, token, _) = app.admin_and_agent().await;
    let mut conn = app.state.pool.get().await.unwrap();
    // Callers stored without a word to the event bus (as by an instance whose notification
    // has not arrived yet).
    let store = |name: &'static str| {
        diesel::sql_query(format!(
            "INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                                status, queued_at)
             VALUES (gen_random_uuid(), 'CA' || md5('{name}'), '+14155550499', '+15005550006',
                     'wt_{name}', 'queued', now())"
        ))
    };
    for name in ["one", "two", "three"] {
        store(name).execute(&mut *conn).await.unwrap();
    }
    let heard_before = app.state.events.queue_version();
    let counted_by = std::time::Instant::now();
    let page = get(&app, "limit=1", &token).await;
    assert_eq!(page["total"], 3, "{page}");

    store("unheard").execute(&mut *conn).await.unwrap();
    let page = get(&app, "limit=1", &token).await;
    // Unless something else changed the queue meanwhile (or the count grew old), the count
    // from before stands.
    if app.state.events.queue_version() == heard_before
        && counted_by.elapsed() < WaitingTotal::RECOUNT_AFTER / 2
    {
        assert_eq!(
            page["total"], 3,
            "counted again with no change heard: {page}"
        );
    }
    // Every page that holds the whole queue counts it itself.
    let all = get(&app, "limit=200", &token).await;
    assert_eq!((all["total"].clone(), ids(&all).len()), (json!(4), 4));

    // The change is heard: the next read counts again.
    app.state
        .events
        .publish(warm_transfer::events::Topic::Queue);
    let page = get(&app, "limit=1", &token).await;
    assert_eq!(page["total"], 4, "{page}");
    // And a count is never trusted for long, heard or not.
    diesel::sql_query(
        "UPDATE calls SET status = 'completed', ended_at = now() WHERE conference_name = 'wt_unheard'",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    tokio::time::sleep(WaitingTotal::RECOUNT_AFTER).await;
    let page = get(&app, "limit=1", &token).await;
    assert_eq!(page["total"], 3, "{page}");
}
