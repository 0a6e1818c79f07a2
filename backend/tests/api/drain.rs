//! SIGTERM drains the instance: the real binary, a live-event stream open and a webhook in
//! flight (held up by a lock on the calls table) when the signal arrives.

use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use twilio::signature::{compute_signature, SIGNATURE_HEADER};

use crate::helpers::create_database;
use crate::processes::{
    free_port, live_env, login, start_simulator, Process, TempDir, ADMIN_EMAIL, NUMBER,
};

const GRACE_SECONDS: u64 = 8;
const DELAY_SECONDS: u64 = 1;

/// Posts a signed voice webhook (a new caller) in the background.
fn voice_webhook(
    http: &reqwest::Client,
    base: &str,
    sim: &twilio_sim::Simulator,
    call_sid: &str,
) -> tokio::task::JoinHandle<(u16, String)> {
    let url = format!("{base}/twilio/voice");
    let params: Vec<(String, String)> = [
        ("CallSid", call_sid),
        ("AccountSid", sim.config().account_sid.as_str()),
        ("From", "+14155550100"),
        ("To", NUMBER),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let signature = compute_signature(&sim.config().auth_token, &url, &params);
    let http = http.clone();
    tokio::spawn(async move {
        let res = http
            .post(&url)
            .header(SIGNATURE_HEADER, signature)
            .form(&params)
            .send()
            .await
            .expect("the webhook in flight is answered");
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    })
}

/// Waits until the voice webhook's insert of the call waits for the held one (the only thing
/// that can wait on a lock in this database).
async fn wait_for_lock_waiter(db: &tokio_postgres::Client, server: &Process) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let waiting: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the webhook never reached the database:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A transaction that inserts (and holds, uncommitted) a call with `call_sid`: the webhook's
/// insert of the same call waits for it, nothing else does.
async fn hold_call(database_url: &str, call_sid: &str) -> tokio_postgres::Client {
    let (db, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    db.batch_execute("BEGIN").await.unwrap();
    db.execute(
        "INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name, status) \
         VALUES (gen_random_uuid(), $1, 'held', 'held', 'held-' || $1, 'completed')",
        &[&call_sid],
    )
    .await
    .unwrap();
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_webhooks_and_streams_then_exits_0() {
    let database_url = create_database().await;
    let tmp = TempDir::new("drain");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (sim, sim_url) = start_simulator(&base);
    let mut env = live_env(&database_url, port, &base, &sim, &sim_url, &tmp.0);
    env.insert("SHUTDOWN_GRACE_SECONDS".into(), GRACE_SECONDS.to_string());
    env.insert("SHUTDOWN_DELAY_SECONDS".into(), DELAY_SECONDS.to_string());
    let mut server = Process::backend("drained", &env, &tmp.0);
    server.wait_ready(&format!("{base}/readyz")).await;
    let http = reqwest::Client::new();
    let admin = login(&http, &base, ADMIN_EMAIL).await;

    // A live-event stream, open.
    let stream = http
        .get(format!("{base}/api/events"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut stream = stream;

    // The voice webhook, held up: storing its call waits for another transaction.
    let call_sid = format!("CA{}", uuid::Uuid::new_v4().simple());
    let locker = hold_call(&database_url, &call_sid).await;
    let webhook = voice_webhook(&http, &base, &sim, &call_sid);
    wait_for_lock_waiter(&locker, &server).await;

    server.signal(libc::SIGTERM);
    let signalled = Instant::now();

    // Readiness turns 503 at once; the instance still serves meanwhile, telling clients to
    // take their next request elsewhere.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let readiness = loop {
        let res = fresh.get(format!("{base}/readyz")).send().await.unwrap();
        if res.status() == 503 || signalled.elapsed() > Duration::from_secs(1) {
            break res;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(readiness.status(), 503);
    assert!(
        signalled.elapsed() < Duration::from_secs(1),
        "{:?}",
        signalled.elapsed()
    );
    assert_eq!(readiness.headers()["connection"], "close");
    let body = readiness.text().await.unwrap();
    assert!(body.contains("shutting down"), "{body}");
    let config = fresh
        .get(format!("{base}/api/config"))
        .send()
        .await
        .unwrap();
    assert_eq!(config.status(), 200, "still serving during the delay");

    // After the delay, new connections are refused.
    let refused = loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Err(e) => break e,
            Ok(_) if signalled.elapsed() < Duration::from_secs(DELAY_SECONDS + 1) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Ok(_) => panic!("a draining instance still accepts connections"),
        }
    };
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(signalled.elapsed() >= Duration::from_secs(DELAY_SECONDS));

    // The live-event stream ends cleanly, between events.
    let mut received = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(chunk) = stream.chunk().await.expect("the stream ends, not breaks") {
            received.extend_from_slice(&chunk);
        }
    })
    .await;
    assert!(ended.is_ok(), "the live-event stream is still open");
    assert!(
        received.is_empty() || received.ends_with(b"\n\n"),
        "ended mid-event: {:?}",
        String::from_utf8_lossy(&received)
    );

    // The process waits for the webhook in flight: still running until the lock goes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "exited with a webhook in flight"
    );
    locker.batch_execute("ROLLBACK").await.unwrap();
    let (status, twiml) = webhook.await.unwrap();
    assert_eq!(status, 200, "{twiml}");
    assert!(twiml.contains("<Conference"), "{twiml}");

    let exit = server
        .wait_exit(Duration::from_secs(GRACE_SECONDS))
        .await
        .unwrap_or_else(|| panic!("still running after the grace time:\n{}", server.log_tail()));
    assert!(exit.success(), "{exit}:\n{}", server.log_tail());
    assert!(signalled.elapsed() < Duration::from_secs(GRACE_SECONDS));

    // What Twilio sent was kept: the call is stored.
    let stored: i64 = locker
        .query_one(
            "SELECT count(*) FROM calls WHERE customer_call_sid = $1",
            &[&call_sid],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1, "{}", server.log_tail());
}

/// A second signal while draining stops at once, with a failure status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_while_draining_exits_at_once_with_failure() {
    let database_url = create_database().await;
    let tmp = TempDir::new("drain-twice");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (sim, sim_url) = start_simulator(&base);
    let mut env = live_env(&database_url, port, &base, &sim, &sim_url, &tmp.0);
    env.insert("SHUTDOWN_GRACE_SECONDS".into(), "60".into());
    let mut server = Process::backend("twice", &env, &tmp.0);
    server.wait_ready(&format!("{base}/readyz")).await;
    let http = reqwest::Client::new();
    // A webhook in flight, which a drain waits for.
    let call_sid = format!("CA{}", uuid::Uuid::new_v4().simple());
    let locker = hold_call(&database_url, &call_sid).await;
    let held = voice_webhook(&http, &base, &sim, &call_sid);
    wait_for_lock_waiter(&locker, &server).await;

    server.signal(libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the first signal drains: it waits for the request in flight"
    );
    server.signal(libc::SIGTERM);
    let exit = server
        .wait_exit(Duration::from_millis(1500))
        .await
        .expect("the second signal stops at once, not when the webhook ends");
    assert!(!exit.success(), "{exit}");
    held.abort();
    let _ = locker.batch_execute("ROLLBACK").await;
}
