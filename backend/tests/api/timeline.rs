//! The call detail's timeline: every entry typed (`kind` + that kind's `data`), entries stored
//! in an older shape or of a kind this build does not know served as `unknown`, never an error.

use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

use crate::helpers::assert_error;
use crate::voice::{answered_call, customer, CallCenter};

async fn call_detail(cc: &CallCenter, token: &str, call_id: &str) -> Value {
    let res = cc
        .app()
        .get(&format!("/api/calls/{call_id}"), Some(token))
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn entries<'a>(call: &'a Value, kind: &str) -> Vec<&'a Value> {
    call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// Appends a timeline row by hand, as an older build (or a newer one) might have stored it.
async fn insert_raw(cc: &CallCenter, call_id: &str, kind: &str, data: Value) {
    let mut conn = cc.app().state.pool.get().await.unwrap();
    diesel::sql_query(
        "INSERT INTO call_events (call_id, kind, data) VALUES ($1::uuid, $2, $3::jsonb)",
    )
    .bind::<diesel::sql_types::Text, _>(call_id)
    .bind::<diesel::sql_types::Text, _>(kind)
    .bind::<diesel::sql_types::Text, _>(data.to_string())
    .execute(&mut conn)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_shapes_and_unknown_kinds_come_back_as_unknown_entries_and_the_detail_still_loads() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, _) = answered_call(&cc, &a).await;

    // A hold recorded before `by` and `hold` existed; a kind no build of this one writes; a
    // SID that is not one; a pre-typed adoption entry (no from/to).
    let old_hold = json!({ "participant_id": "not-a-uuid", "on_hold": true });
    insert_raw(&cc, &call_id, "hold", old_hold.clone()).await;
    insert_raw(&cc, &call_id, "call_adopted", json!({ "conference": "x" })).await;
    insert_raw(
        &cc,
        &call_id,
        "leg_status",
        json!({ "participant_id": a.id, "call_sid": "XX123", "status": "ringing" }),
    )
    .await;
    insert_raw(
        &cc,
        &call_id,
        "call_received",
        json!({ "adopted_from_conference": "wt-CA0123" }),
    )
    .await;

    let call = call_detail(&cc, &admin, &call_id).await;
    let unknown = entries(&call, "unknown");
    let stored: Vec<(&Value, &Value)> = unknown
        .iter()
        .map(|e| (&e["data"]["stored_kind"], &e["data"]["stored_data"]))
        .collect();
    assert_eq!(
        stored,
        vec![
            (&json!("hold"), &old_hold),
            (&json!("call_adopted"), &json!({ "conference": "x" })),
            (
                &json!("leg_status"),
                &json!({ "participant_id": a.id, "call_sid": "XX123", "status": "ringing" })
            ),
        ],
        "{call:#}"
    );
    for e in &unknown {
        assert!(e["id"].is_i64() && e["at"].is_string(), "{e:#}");
    }
    // The older adoption shape is still a call_received: the party is unknown.
    let received = entries(&call, "call_received");
    assert_eq!(received.len(), 2, "{call:#}");
    assert_eq!(
        received[1]["data"],
        json!({ "from": "unknown", "to": "unknown", "adopted_from_conference": "wt-CA0123" })
    );
    // Known entries written by this build are never served as unknown.
    assert!(entries(&call, "agent_ringing").len() == 1, "{call:#}");

    // The agent's own view of the call decodes the same way.
    let res = cc.app().get("/api/me/call", Some(&a.token)).await;
    assert_eq!(res.status(), 200);
    let mine: Value = res.json().await.unwrap();
    assert_eq!(entries(&mine["call"], "unknown").len(), 3, "{mine:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_mute_and_their_reversals_are_typed_entries_naming_who_did_them() {
    let cc = CallCenter::start().await;
    let admin = cc.admin().await;
    let a = cc.agent("a", true).await;
    let (call_id, customer_sid) = answered_call(&cc, &a).await;
    let call = call_detail(&cc, &admin, &call_id).await;
    let customer_id = customer(&call)["id"].as_str().unwrap().to_owned();

    // Refused first: an unknown participant, then someone not on the call.
    let stranger = cc.agent("b", false).await;
    let hold = format!("/api/calls/{call_id}/participants/{customer_id}/hold");
    let mute = format!("/api/calls/{call_id}/participants/{customer_id}/mute");
    assert_error(
        cc.post(&stranger, &hold, json!({ "hold": true })).await,
        403,
        "forbidden",
    )
    .await;
    for (path, body) in [
        (&hold, json!({ "hold": true })),
        (&hold, json!({ "hold": false })),
        (&mute, json!({ "muted": true })),
        (&mute, json!({ "muted": false })),
    ] {
        let res = cc.post(&a, path, body).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }

    let call = call_detail(&cc, &admin, &call_id).await;
    let holds: Vec<&Value> = entries(&call, "hold")
        .into_iter()
        .map(|e| &e["data"])
        .collect();
    assert_eq!(
        holds,
        vec![
            &json!({ "participant_id": customer_id, "hold": true, "by": a.id }),
            &json!({ "participant_id": customer_id, "hold": false, "by": a.id }),
        ]
    );
    let mutes: Vec<&Value> = entries(&call, "mute")
        .into_iter()
        .map(|e| &e["data"])
        .collect();
    assert_eq!(
        mutes,
        vec![
            &json!({ "participant_id": customer_id, "muted": true, "by": a.id }),
            &json!({ "participant_id": customer_id, "muted": false, "by": a.id }),
        ]
    );
    // The first entry, written by the voice webhook's one statement, is typed like the rest.
    let first = &call["timeline"][0];
    assert_eq!(first["kind"], "call_received", "{call:#}");
    assert_eq!(
        first["data"],
        json!({ "from": call["from_number"], "to": call["to_number"] })
    );
    assert!(entries(&call, "unknown").is_empty(), "{call:#}");
    assert!(call["customer_call_sid"] == customer_sid.as_str());
}

#[test]
fn the_openapi_document_shows_each_kind_with_its_fields_and_a_discriminator() {
    let doc = serde_json::to_value(warm_transfer::startup::openapi_document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    // The call detail's entries: one schema per kind, `id`, `at`, `kind` and that kind's `data`.
    let entry = &schemas["CallEventView"];
    assert_eq!(entry["discriminator"]["propertyName"], "kind", "{entry:#}");
    let mapping = entry["discriminator"]["mapping"].as_object().unwrap();
    let refs: Vec<&str> = entry["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["$ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), mapping.len());
    for (kind, target) in mapping {
        assert!(refs.contains(&target.as_str().unwrap()), "{kind}");
        let name = target.as_str().unwrap().rsplit('/').next().unwrap();
        let schema = &schemas[name];
        assert_eq!(
            schema["properties"]["kind"]["enum"],
            json!([kind]),
            "{name}"
        );
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for field in ["id", "at", "kind", "data"] {
            assert!(
                required.contains(&field),
                "{name} lacks {field}: {schema:#}"
            );
        }
    }
    for kind in [
        "call_received",
        "hold",
        "mute",
        "transfer_started",
        "call_ended",
        "unknown",
    ] {
        assert!(mapping.contains_key(kind), "no {kind} in {mapping:?}");
    }
    let hold = &schemas["TimelineHold"]["properties"]["data"];
    for field in ["participant_id", "hold", "by"] {
        assert!(
            hold["properties"][field].is_object(),
            "hold lacks {field}: {hold:#}"
        );
    }
    assert_eq!(hold["properties"]["hold"]["type"], "boolean");
    let unknown = &schemas["TimelineUnknown"]["properties"]["data"]["properties"];
    assert!(unknown["stored_kind"].is_object() && unknown["stored_data"].is_object());
    let detail = &schemas["CallDetailView"];
    let timeline = serde_json::to_string(detail).unwrap();
    assert!(
        timeline.contains("#/components/schemas/CallEventView"),
        "{timeline}"
    );
}
