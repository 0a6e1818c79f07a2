//! The queue, a page at a time.

use serde_json::{json, Value};

use crate::helpers::assert_error;
use crate::voice::CallCenter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_comes_a_page_at_a_time_with_its_total() {
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
    assert_eq!((&first["limit"], &first["offset"]), (&json!(2), &json!(0)));
    let last: Value = app
        .get("/api/queue?limit=2&offset=4", Some(&agent.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_eq!(last["total"], 5);
    // Longest-waiting first, across pages.
    let all: Value = app
        .get("/api/queue", Some(&agent.token))
        .await
        .json()
        .await
        .unwrap();
    let ids = |page: &Value| -> Vec<Value> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["call_id"].clone())
            .collect()
    };
    let every = ids(&all);
    assert_eq!(every.len(), 5);
    assert_eq!(every[..2], ids(&first)[..]);
    assert_eq!(every[4..], ids(&last)[..]);

    for bad in ["limit=0", "limit=201", "offset=-1"] {
        let res = app
            .get(&format!("/api/queue?{bad}"), Some(&agent.token))
            .await;
        assert_error(res, 422, "validation_failed").await;
    }
    for bad in ["limit=ten", "page=2"] {
        let res = app
            .get(&format!("/api/queue?{bad}"), Some(&agent.token))
            .await;
        assert_error(res, 400, "bad_request").await;
    }
}
