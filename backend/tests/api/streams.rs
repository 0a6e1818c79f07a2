//! Live-event streams: who sees what, how many streams a session may hold, and what one event
//! costs the database.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use warm_transfer::domain::agent::Role;
use warm_transfer::events::Topic;

use crate::helpers::{assert_error, TestApp};

async fn open_stream(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/events"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Everything a stream carries for `limit`, split into its events (`event: …\ndata: …`).
async fn read_for(stream: &mut reqwest::Response, limit: Duration) -> Vec<String> {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + limit;
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, stream.chunk()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads a stream until one of its events satisfies `check` (10 s at most); returns every
/// event read.
async fn read_until(
    stream: &mut reqwest::Response,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let events: Vec<String> = text
            .split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(str::to_owned)
            .collect();
        if events.iter().any(|e| check(e)) {
            return events;
        }
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("no {what} on the stream ({other:?}); read: {text}"),
        }
    }
}

/// Table reads (sequential and index scans) of this test's database so far, as PostgreSQL's
/// statistics report them: a measure of the queries run, whatever code ran them.
async fn table_reads(app: &TestApp) -> i64 {
    let mut conn = app.state.pool.get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Reads {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        reads: i64,
    }
    let row: Reads = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT (coalesce(sum(seq_scan), 0) + coalesce(sum(idx_scan), 0))::bigint AS reads \
             FROM pg_stat_user_tables",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    row.reads
}

/// Table reads while `events` call changes are published to `streams` open streams, minus the
/// background work of the same period.
async fn reads_per_event(app: &TestApp, tokens: &[String], call_id: uuid::Uuid) -> f64 {
    const EVENTS: usize = 20;
    let mut open = Vec::new();
    for token in tokens {
        let res = app
            .client
            .get(app.url("/api/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    // PostgreSQL's backends report their statistics when idle for a while.
    let settle = Duration::from_secs(12);
    tokio::time::sleep(settle).await;
    let before = table_reads(app).await;
    for _ in 0..EVENTS {
        app.state.events.publish(Topic::Call(call_id));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    tokio::time::sleep(settle).await;
    let after = table_reads(app).await;
    drop(open);
    (after - before) as f64 / EVENTS as f64
}

/// Prints the database cost of one call event with no stream and with 20 streams open.
/// `cargo nextest run -p warm-transfer --run-ignored only live_event_cost --no-capture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check; about a minute"]
async fn live_event_cost() {
    let app = TestApp::spawn_with(|env| {
        env.insert("DATABASE_POOL_SIZE".into(), "8".into());
    })
    .await;
    let mut tokens = Vec::new();
    for i in 0..20 {
        let email = format!("agent{i}@example.com");
        app.create_agent(&email, Role::Agent).await;
        tokens.push(app.token(&email).await);
    }
    let res = app
        .send_json(
            Method::POST,
            "/api/demo/calls",
            Some(&tokens[0]),
            &json!({}),
        )
        .await;
    assert!(res.status().is_success());
    let queue = app
        .poll(
            "/api/queue",
            Some(&tokens[0]),
            "the call queued",
            |q: &Value| q["items"].as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let call_id: uuid::Uuid = queue["items"][0]["call_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let idle = reads_per_event(&app, &[], call_id).await;
    let one = reads_per_event(&app, &tokens[..1], call_id).await;
    let twenty = reads_per_event(&app, &tokens, call_id).await;
    println!(
        "table reads per call event: background {idle:.1}, 1 stream {one:.1}, 20 streams {twenty:.1}"
    );
}

/// An agent's stream carries the queue and the team like the REST routes do, but a call's
/// own event only when the call concerns them: agent B never receives the call routed to A
/// (nor its SID), while A and an admin do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_stream_never_carries_a_colleague_call() {
    let app = TestApp::spawn().await;
    app.create_agent("a@example.com", Role::Agent).await;
    app.create_agent("b@example.com", Role::Agent).await;
    app.create_agent("boss@example.com", Role::Admin).await;
    let (a, b, admin) = (
        app.token("a@example.com").await,
        app.token("b@example.com").await,
        app.token("boss@example.com").await,
    );
    let mut a_stream = open_stream(&app, &a).await;
    let mut b_stream = open_stream(&app, &b).await;
    let mut admin_stream = open_stream(&app, &admin).await;
    for s in [&a_stream, &b_stream, &admin_stream] {
        assert_eq!(s.status(), 200);
    }

    // Only A is available, so the call rings A.
    let res = app
        .send_json(
            Method::PUT,
            "/api/me/status",
            Some(&a),
            &json!({ "status": "available" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let number = "+14155550177";
    let res = app
        .send_json(
            Method::POST,
            "/api/demo/calls",
            Some(&b),
            &json!({ "from": number }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let sid = res.json::<Value>().await.unwrap()["call_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let call = app
        .poll("/api/calls?limit=1", Some(&admin), "the call stored", |v| {
            v["items"][0]["customer_call_sid"] == sid.as_str()
        })
        .await;
    let call_id = call["items"][0]["id"].as_str().unwrap().to_owned();
    app.poll("/api/me/call", Some(&a), "the call ringing A", |v| {
        v["call"]["id"] == call_id.as_str()
    })
    .await;

    let is_this_call = |e: &str| e.starts_with("event: call") && e.contains(&call_id);
    let a_events = read_until(&mut a_stream, "A's call event", |e| {
        is_this_call(e) && e.contains("\"owner_agent_id\"")
    })
    .await;
    assert!(a_events.iter().any(|e| e.contains(&sid)), "{a_events:#?}");
    let admin_events = read_until(&mut admin_stream, "the admin's call event", is_this_call).await;
    assert!(
        admin_events
            .iter()
            .any(|e| e.contains(&sid) && e.contains(number)),
        "{admin_events:#?}"
    );

    let b_events = read_for(&mut b_stream, Duration::from_secs(2)).await;
    assert!(
        b_events.iter().any(|e| e.starts_with("event: agent")),
        "B still sees the team: {b_events:#?}"
    );
    for event in &b_events {
        assert!(!event.starts_with("event: call"), "B got a call: {event}");
        assert!(!event.contains(&sid), "B got the call's SID: {event}");
        // The number reaches B only as the queue route shows it to every agent.
        assert!(
            !event.contains(number) || event.starts_with("event: queue"),
            "B got the number outside the queue: {event}"
        );
    }
    assert_error(
        app.get(&format!("/api/calls/{call_id}"), Some(&b)).await,
        403,
        "forbidden",
    )
    .await;
}

/// A session may hold a bounded number of streams (429 past it), the instance too (503 with
/// Retry-After), and a stream that closes gives its place back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_capped_per_session_and_overall_and_a_closed_one_frees_its_slot() {
    let app = TestApp::spawn_with(|env| {
        env.insert("EVENT_STREAMS_PER_SESSION".into(), "2".into());
        env.insert("EVENT_STREAMS_MAX".into(), "3".into());
    })
    .await;
    app.create_agent("a@example.com", Role::Agent).await;
    app.create_agent("b@example.com", Role::Agent).await;
    let (a, b, b_again) = (
        app.token("a@example.com").await,
        app.token("b@example.com").await,
        app.token("b@example.com").await,
    );

    let first = open_stream(&app, &a).await;
    let second = open_stream(&app, &a).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let refused = assert_error(open_stream(&app, &a).await, 429, "too_many_streams").await;
    assert!(
        refused["message"].as_str().unwrap().contains('2'),
        "{refused}"
    );

    // Closing one frees its place for the same session.
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let third = loop {
        let res = open_stream(&app, &a).await;
        if res.status() == 200 {
            break res;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a closed stream's slot was not freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The instance holds 3: another session gets the last place, and then nobody else.
    let fourth = open_stream(&app, &b).await;
    assert_eq!(fourth.status(), 200);
    let res = open_stream(&app, &b_again).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_error(res, 503, "streams_full").await;
    assert_eq!(app.state.live.open_streams(), 3);

    drop((second, third, fourth));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while app.state.live.open_streams() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "slots not freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One change is built once, however many streams carry it, and they all carry the same bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_built_once_for_every_stream() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        let email = format!("agent{i}@example.com");
        ids.push(app.create_agent(&email, Role::Agent).await);
        tokens.push(app.token(&email).await);
    }
    let mut streams = Vec::new();
    for token in &tokens {
        let s = open_stream(&app, token).await;
        assert_eq!(s.status(), 200);
        streams.push(s);
    }
    // Let the streams subscribe before the change.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let built = app.state.live.events_built();
    app.state.events.publish(Topic::Agent(ids[0]));
    let mut seen = Vec::new();
    for s in &mut streams {
        let events = read_until(s, "the agent event", |e| e.starts_with("event: agent")).await;
        seen.push(
            events
                .into_iter()
                .find(|e| e.starts_with("event: agent"))
                .unwrap(),
        );
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:#?}");
    // Once (a background change landing in the same moment may add one), not once per stream.
    let builds = app.state.live.events_built() - built;
    assert!(
        (1..streams.len() as u64).contains(&builds),
        "{builds} builds for one change on {} streams",
        streams.len()
    );
}

/// A burst of changes (60 agents and the queue between them) reaches a stream complete and in
/// the order the changes were made, however the feed gathers and builds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_changes_arrives_complete_and_in_order() {
    let app = TestApp::spawn().await;
    app.create_agent("watcher@example.com", Role::Agent).await;
    let token = app.token("watcher@example.com").await;
    let colleagues = many_agents(&app, 60).await;
    let mut stream = open_stream(&app, &token).await;
    assert_eq!(stream.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let built = app.state.live.events_built();

    let mut expected: Vec<String> = Vec::new();
    for (i, id) in colleagues.iter().enumerate() {
        if i == 30 {
            app.state.events.publish(Topic::Queue);
            expected.push("queue".into());
        }
        app.state.events.publish(Topic::Agent(*id));
        expected.push(id.to_string());
    }
    let last = format!("\"id\":\"{}\"", colleagues[59]);
    let events = read_until(&mut stream, "the burst's last change", |e| {
        e.contains(&last)
    })
    .await;
    let got: Vec<String> = events
        .iter()
        .filter_map(|e| {
            if e.starts_with("event: queue") {
                return Some("queue".to_owned());
            }
            let data: Value = serde_json::from_str(e.split_once("data: ")?.1).ok()?;
            let id = data["id"].as_str()?;
            (e.starts_with("event: agent") && colleagues.iter().any(|c| c.to_string() == id))
                .then(|| id.to_owned())
        })
        .collect();
    assert_eq!(got, expected);
    // Each change built once (the queue's event carries the first page, as `GET /api/queue`).
    assert!(app.state.live.events_built() - built >= 61);
    let queue = events
        .iter()
        .find(|e| e.starts_with("event: queue"))
        .unwrap();
    let page: Value = serde_json::from_str(queue.split_once("data: ").unwrap().1).unwrap();
    assert_eq!(
        (&page["total"], &page["next_cursor"]),
        (&json!(0), &Value::Null)
    );
}

/// `count` more agents written straight to the database (no password hashing), all offline;
/// their ids.
async fn many_agents(app: &TestApp, count: usize) -> Vec<uuid::Uuid> {
    let mut conn = app.state.pool.get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let rows: Vec<Id> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(format!(
            "INSERT INTO agents (id, email, display_name, password_hash, role, client_identity) \
             SELECT gen_random_uuid(), 'many' || i || '@example.com', \
                    'A colleague with a long enough name to fill a line ' || i, 'x', 'agent', \
                    'many_' || i \
             FROM generate_series(1, {count}) AS i RETURNING id"
        )),
        &mut conn,
    )
    .await
    .unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

/// A client that opens a stream and then never reads: its socket takes a few kilobytes, and
/// everything else waits on the server.
async fn stalled_stream(app: &TestApp, token: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut conn = socket.connect(addr).await.unwrap();
    conn.write_all(
        format!(
            "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200", "the stalled stream opened");
    conn
}

/// A client that stops reading never delays another stream's events, and the server does not
/// buffer for it without bound: once it is far behind, its stream is closed (and its place
/// freed), while the reading stream carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_stream_does_not_delay_another_and_is_closed_once_far_behind() {
    let app = TestApp::spawn().await;
    app.create_agent("stalled@example.com", Role::Agent).await;
    app.create_agent("reading@example.com", Role::Agent).await;
    let stalled_token = app.token("stalled@example.com").await;
    let reading_token = app.token("reading@example.com").await;
    // Deliveries of 200 agents' events (some 80 kB each) fill the stalled client's buffers fast.
    let colleagues = many_agents(&app, 200).await;
    let _stalled = stalled_stream(&app, &stalled_token).await;
    let mut reading = open_stream(&app, &reading_token).await;
    assert_eq!(reading.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.state.live.open_streams(), 2);

    let mut text = String::new();
    let mut slowest = Duration::ZERO;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut round = 0;
    while app.state.live.streams_fallen_behind() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled stream is still open after {round} deliveries"
        );
        round += 1;
        let sent = tokio::time::Instant::now();
        for id in &colleagues {
            app.state.events.publish(Topic::Agent(*id));
        }
        // The last colleague's event closes each delivery.
        let last = format!("\"id\":\"{}\"", colleagues[colleagues.len() - 1]);
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(5), reading.chunk())
                .await
                .unwrap_or_else(|_| panic!("delivery {round} did not reach the reading stream"))
                .unwrap()
                .expect("the reading stream stays open");
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains(&last) {
                break;
            }
        }
        text.clear();
        slowest = slowest.max(sent.elapsed());
    }
    // A few database reads each, not held up by the stalled client's full buffers.
    assert!(
        slowest < Duration::from_secs(3),
        "a delivery took {slowest:?} to reach the reading stream"
    );
    assert_eq!(app.state.live.streams_fallen_behind(), 1);
    assert_eq!(
        app.state.live.open_streams(),
        1,
        "the stalled stream's place is free"
    );

    // The reading stream still gets what follows.
    app.state.events.publish(Topic::Agent(colleagues[0]));
    let first = colleagues[0].to_string();
    read_until(&mut reading, "the next event", |e| {
        e.starts_with("event: agent") && e.contains(&first)
    })
    .await;
}

/// With many streams open (two per session, as two tabs), a call's event reaches every stream
/// allowed to see it (both of the ringing agent's, every admin's) and no other, while the
/// ringing agent's new status reaches them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_reaches_every_stream_allowed_to_see_it_and_no_other() {
    let app = TestApp::spawn().await;
    let a = app.create_agent("a@example.com", Role::Agent).await;
    app.create_agent("boss@example.com", Role::Admin).await;
    let mut tokens = vec![
        app.token("a@example.com").await,
        app.token("boss@example.com").await,
    ];
    for i in 0..6 {
        let email = format!("other{i}@example.com");
        app.create_agent(&email, Role::Agent).await;
        tokens.push(app.token(&email).await);
    }
    // Two streams per session: a's are 0 and 1, the admin's 2 and 3, the others' after.
    let mut streams = Vec::new();
    for token in &tokens {
        for _ in 0..2 {
            let s = open_stream(&app, token).await;
            assert_eq!(s.status(), 200);
            streams.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let res = app
        .send_json(
            Method::PUT,
            "/api/me/status",
            Some(&tokens[0]),
            &json!({ "status": "available" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .send_json(
            Method::POST,
            "/api/demo/calls",
            Some(&tokens[2]),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let call = app
        .poll(
            "/api/me/call",
            Some(&tokens[0]),
            "the call ringing a",
            |v| v["call"]["id"].is_string(),
        )
        .await;
    let call_id = call["call"]["id"].as_str().unwrap().to_owned();

    let a_status = format!("\"id\":\"{a}\"");
    let is_call = |e: &str| e.starts_with("event: call") && e.contains(&call_id);
    for (i, stream) in streams.iter_mut().enumerate() {
        let allowed = i < 4;
        let events = if allowed {
            read_until(stream, "the call's event", is_call).await
        } else {
            read_for(stream, Duration::from_millis(1000)).await
        };
        assert!(
            events
                .iter()
                .any(|e| e.starts_with("event: agent") && e.contains(&a_status)),
            "stream {i} never saw a's status: {events:#?}"
        );
        if !allowed {
            assert!(
                !events.iter().any(|e| e.starts_with("event: call")),
                "stream {i} got a call it may not see: {events:#?}"
            );
        }
    }
}
