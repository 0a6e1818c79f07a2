//! Three instances on one database behind Debian's Caddy, configured by `deploy/caddy/Caddyfile`
//! (plain HTTP on loopback). Agents sign in and keep live-event streams open through the proxy,
//! calls are in progress (talking, on hold with a transfer ringing, waiting in the queue); one
//! instance is killed (SIGKILL, a crash), later another drains (SIGTERM). No call is lost, no
//! agent is booked twice, Twilio's webhooks reach the survivors through the proxy, and every
//! stream reconnects and, after refetching, shows what the database holds.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use twilio_sim::{CallStatus, Direction, Simulator};

use crate::helpers::{create_database, PASSWORD};
use crate::processes::{
    free_port, live_env, login, start_simulator, Process, TempDir, ADMIN_EMAIL,
};

const CADDY: &str = "/usr/bin/caddy";
const WAIT: Duration = Duration::from_secs(15);
const GRACE_SECONDS: u64 = 10;

fn caddyfile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/caddy/Caddyfile")
}

struct Agent {
    id: String,
    token: String,
    client: String,
}

/// What one dashboard believes: every agent's status, loaded on (re)connect and kept up to date
/// by `agent` events, as the SPA does.
#[derive(Default)]
struct Dashboard {
    opened: usize,
    ended: usize,
    statuses: BTreeMap<String, String>,
}

/// Plays one dashboard: opens `GET /api/events` through the proxy, refetches the agents on every
/// open, applies `agent` events, reconnects when the stream ends.
async fn dashboard(
    http: reqwest::Client,
    proxy: String,
    token: String,
    view: Arc<Mutex<Dashboard>>,
    stop: CancellationToken,
) {
    while !stop.is_cancelled() {
        let res = http
            .get(format!("{proxy}/api/events"))
            .bearer_auth(&token)
            .send()
            .await;
        let Ok(res) = res else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        if res.status() != 200 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let mut stream = res;
        // Refetch what the dashboard shows; events from now on apply on top.
        let agents = api(
            &http,
            Method::GET,
            &format!("{proxy}/api/agents"),
            &token,
            None,
        )
        .await;
        {
            let mut view = view.lock().unwrap();
            view.opened += 1;
            view.statuses = agents
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    (
                        a["id"].as_str().unwrap().to_owned(),
                        a["status"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
        }
        let mut pending = String::new();
        loop {
            let chunk = tokio::select! {
                chunk = stream.chunk() => chunk,
                _ = stop.cancelled() => return,
            };
            let Ok(Some(bytes)) = chunk else { break };
            pending.push_str(&String::from_utf8_lossy(&bytes));
            while let Some(end) = pending.find("\n\n") {
                let frame: String = pending.drain(..end + 2).collect();
                let mut name = "";
                let mut data = "";
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = v;
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = v;
                    }
                }
                if name == "agent" {
                    let agent: Value = serde_json::from_str(data).unwrap();
                    view.lock().unwrap().statuses.insert(
                        agent["id"].as_str().unwrap().to_owned(),
                        agent["status"].as_str().unwrap().to_owned(),
                    );
                }
            }
        }
        view.lock().unwrap().ended += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn api(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http.request(method.clone(), url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{method} {url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn set_status(http: &reqwest::Client, proxy: &str, agent: &Agent, status: &str) {
    api(
        http,
        Method::PUT,
        &format!("{proxy}/api/me/status"),
        &agent.token,
        Some(json!({ "status": status })),
    )
    .await;
}

/// Agents' client identities with more than one live call in the simulator right now.
fn double_bookings(sim: &Simulator, clients: &[String]) -> Vec<String> {
    let snapshot = sim.snapshot();
    clients
        .iter()
        .filter(|client| {
            snapshot
                .calls
                .iter()
                .filter(|c| {
                    c.direction == Direction::OutboundApi
                        && &c.to == *client
                        && !c.status.is_final()
                })
                .count()
                > 1
        })
        .cloned()
        .collect()
}

/// Every customer is still on the line and in a conference.
fn assert_no_call_lost(sim: &Simulator, customers: &[String]) {
    let snapshot = sim.snapshot();
    for sid in customers {
        let call = snapshot.calls.iter().find(|c| &c.sid == sid).unwrap();
        assert_eq!(call.status, CallStatus::InProgress, "{call:#?}");
        assert!(
            snapshot
                .conferences
                .iter()
                .any(|c| c.participant(sid).is_some()),
            "customer {sid} is in no conference"
        );
    }
}

/// Waits until `agent`'s browser rings and answers it.
async fn answer(sim: &Simulator, agent: &Agent) {
    let ringing = sim
        .wait_for_ringing(&agent.client, WAIT)
        .await
        .expect("the agent's browser rings");
    sim.accept(&ringing.call_sid).unwrap();
}

/// Polls `GET /api/me/call` of `agent` through the proxy until `check` holds.
async fn my_call_until(
    http: &reqwest::Client,
    proxy: &str,
    agent: &Agent,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let body = api(
            http,
            Method::GET,
            &format!("{proxy}/api/me/call"),
            &agent.token,
            None,
        )
        .await;
        if check(&body["call"]) {
            return body["call"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn connected_as(call: &Value, agent: &Agent) -> bool {
    call["status"] == "in_progress"
        && call["participants"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["agent_id"] == agent.id.as_str() && p["status"] == "connected")
        })
}

/// Agents' statuses as the database holds them.
async fn database_statuses(db: &tokio_postgres::Client) -> BTreeMap<String, String> {
    db.query(
        "SELECT id::text, status::text FROM agents WHERE active",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect()
}

/// Waits until every dashboard has reconnected since its last drop and shows the database's
/// statuses.
async fn dashboards_match_database(
    db: &tokio_postgres::Client,
    dashboards: &[Arc<Mutex<Dashboard>>],
) {
    let deadline = Instant::now() + WAIT;
    loop {
        let truth = database_statuses(db).await;
        let all_match = dashboards.iter().all(|d| {
            let d = d.lock().unwrap();
            d.opened == d.ended + 1 && d.statuses == truth
        });
        if all_match {
            return;
        }
        if Instant::now() > deadline {
            let views: Vec<String> = dashboards
                .iter()
                .map(|d| {
                    let d = d.lock().unwrap();
                    format!("opened {} ended {} {:?}", d.opened, d.ended, d.statuses)
                })
                .collect();
            panic!("dashboards differ from the database {truth:?}:\n{views:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_behind_caddy_lose_no_call_when_one_crashes_and_one_drains() {
    assert!(
        Path::new(CADDY).is_file(),
        "{CADDY} not found: scripts/ensure-tools.sh installs Caddy (apt-get install caddy)"
    );
    let database_url = create_database().await;
    let tmp = TempDir::new("cluster");
    let proxy_port = free_port();
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    // Twilio reaches the app only through the proxy.
    let (sim, sim_url) = start_simulator(&proxy);
    let ports = [free_port(), free_port(), free_port()];
    let mut instances = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let mut env = live_env(&database_url, *port, &proxy, &sim, &sim_url, &tmp.0);
        for (k, v) in [
            ("TRUSTED_PROXIES", "127.0.0.1".to_owned()),
            ("RING_TIMEOUT_SECONDS", "60".to_owned()),
            ("SHUTDOWN_GRACE_SECONDS", GRACE_SECONDS.to_string()),
            // Caddy checks readiness every second.
            ("SHUTDOWN_DELAY_SECONDS", "2".to_owned()),
        ] {
            env.insert(k.to_owned(), v);
        }
        let mut instance = Process::backend(&format!("instance-{i}"), &env, &tmp.0);
        if i == 0 {
            // The first one migrates the database; the others start on it.
            instance
                .wait_ready(&format!("http://127.0.0.1:{port}/readyz"))
                .await;
        }
        instances.push(instance);
    }
    for (instance, port) in instances.iter_mut().zip(ports).skip(1) {
        instance
            .wait_ready(&format!("http://127.0.0.1:{port}/readyz"))
            .await;
    }
    let caddy_home = tmp.0.join("caddy");
    let caddy_env: HashMap<String, String> = [
        ("HOME", caddy_home.display().to_string()),
        (
            "XDG_DATA_HOME",
            caddy_home.join("data").display().to_string(),
        ),
        (
            "XDG_CONFIG_HOME",
            caddy_home.join("config").display().to_string(),
        ),
        ("WT_SITE_ADDRESS", proxy.clone()),
        (
            "WT_UPSTREAMS",
            ports.map(|p| format!("127.0.0.1:{p}")).join(" "),
        ),
        ("WT_TLS", "off".to_owned()),
        ("WT_CADDY_ADMIN", "off".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let caddyfile = caddyfile();
    let mut caddy = Process::spawn(
        "caddy",
        Path::new(CADDY),
        &[
            "run",
            "--adapter",
            "caddyfile",
            "--config",
            caddyfile.to_str().unwrap(),
        ],
        &caddy_env,
        &tmp.0,
    );
    caddy.wait_ready(&format!("{proxy}/readyz")).await;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (db, connection) = tokio_postgres::connect(&database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);

    // Four agents and the admin sign in through the proxy; every one keeps a dashboard open.
    let admin = login(&http, &proxy, ADMIN_EMAIL).await;
    let mut agents = Vec::new();
    for name in ["ana", "ben", "cat", "dan"] {
        let email = format!("{name}@example.com");
        let created = api(
            &http,
            Method::POST,
            &format!("{proxy}/api/agents"),
            &admin,
            Some(json!({
                "email": email, "display_name": name, "password": PASSWORD, "role": "agent",
            })),
        )
        .await;
        let token = login(&http, &proxy, &email).await;
        agents.push(Agent {
            id: created["id"].as_str().unwrap().to_owned(),
            token,
            client: format!("client:{}", created["client_identity"].as_str().unwrap()),
        });
    }
    let stop = CancellationToken::new();
    let mut dashboards = Vec::new();
    for token in agents
        .iter()
        .map(|a| a.token.clone())
        .chain([admin.clone(), admin.clone()])
    {
        let view = Arc::new(Mutex::new(Dashboard::default()));
        tokio::spawn(dashboard(
            http.clone(),
            proxy.clone(),
            token,
            view.clone(),
            stop.clone(),
        ));
        dashboards.push(view);
    }

    // Nobody is ever booked twice: watched all along in the simulator.
    let clients: Vec<String> = agents.iter().map(|a| a.client.clone()).collect();
    let incidents = Arc::new(Mutex::new(Vec::<String>::new()));
    let watcher = tokio::spawn({
        let sim = sim.clone();
        let incidents = incidents.clone();
        let stop = stop.clone();
        async move {
            while !stop.is_cancelled() {
                incidents
                    .lock()
                    .unwrap()
                    .extend(double_bookings(&sim, &clients));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });

    let [ana, ben, cat, dan] = &agents[..] else {
        unreachable!()
    };
    // Three customers talking to ana, ben and dan.
    let mut customers = Vec::new();
    for agent in [ana, ben, dan] {
        set_status(&http, &proxy, agent, "available").await;
        customers.push(sim.dial_in(&format!("+1415555{:04}", customers.len())));
        answer(&sim, agent).await;
        my_call_until(&http, &proxy, agent, "connected", |c| {
            connected_as(c, agent)
        })
        .await;
    }
    // Ben consults cat: his customer is on hold, cat's browser rings.
    set_status(&http, &proxy, cat, "available").await;
    let ben_call = my_call_until(&http, &proxy, ben, "ben's call", |c| connected_as(c, ben)).await;
    let ben_call_id = ben_call["id"].as_str().unwrap().to_owned();
    let transfer = api(
        &http,
        Method::POST,
        &format!("{proxy}/api/calls/{ben_call_id}/transfers"),
        &ben.token,
        Some(json!({ "mode": "warm", "target": { "agent_id": cat.id } })),
    )
    .await;
    let cat_ringing = sim
        .wait_for_ringing(&cat.client, WAIT)
        .await
        .expect("cat's browser rings");
    // A fourth customer waits in the queue: every agent is busy or reserved.
    customers.push(sim.dial_in("+14155550004"));
    let deadline = Instant::now() + WAIT;
    while api(
        &http,
        Method::GET,
        &format!("{proxy}/api/queue"),
        &admin,
        None,
    )
    .await["total"]
        != 1
    {
        assert!(
            Instant::now() < deadline,
            "the fourth customer never queued"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    dashboards_match_database(&db, &dashboards).await;
    let streams_before: usize = dashboards.iter().map(|d| d.lock().unwrap().opened).sum();
    assert_eq!(streams_before, dashboards.len());

    // Crash: instance 1 dies mid-call.
    instances[1].signal(libc::SIGKILL);
    let killed_at = chrono::Utc::now();
    assert!(instances[1]
        .wait_exit(Duration::from_secs(5))
        .await
        .is_some());
    assert_no_call_lost(&sim, &customers);
    // Caddy 2.6 cannot resend a POST a dead instance refused (see the Caddyfile): Twilio's
    // next callbacks come once its health check has taken the instance out.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // Cat answers (Twilio's callbacks now reach the survivors), ben hands over and leaves;
    // ben is free, so the queued customer rings him.
    sim.accept(&cat_ringing.call_sid).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let call = api(
            &http,
            Method::GET,
            &format!("{proxy}/api/calls/{ben_call_id}"),
            &ben.token,
            None,
        )
        .await;
        if call["transfers"][0]["status"] == "consulting" {
            break;
        }
        assert!(Instant::now() < deadline, "cat never joined: {call:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    api(
        &http,
        Method::POST,
        &format!(
            "{proxy}/api/calls/{ben_call_id}/transfers/{}/complete",
            transfer["id"].as_str().unwrap()
        ),
        &ben.token,
        Some(json!({})),
    )
    .await;
    answer(&sim, ben).await;
    my_call_until(&http, &proxy, ben, "ben with the fourth customer", |c| {
        connected_as(c, ben) && c["id"] != ben_call_id.as_str()
    })
    .await;
    my_call_until(&http, &proxy, cat, "cat owning ben's first call", |c| {
        connected_as(c, cat) && c["id"] == ben_call_id.as_str()
    })
    .await;
    assert_no_call_lost(&sim, &customers);
    dashboards_match_database(&db, &dashboards).await;
    let dropped: usize = dashboards.iter().map(|d| d.lock().unwrap().ended).sum();
    assert!(dropped >= 1, "no stream was on the crashed instance");

    // Graceful: instance 2 drains while four calls are in progress, and exits 0.
    let dropped_before = dropped;
    instances[2].signal(libc::SIGTERM);
    let exit = instances[2]
        .wait_exit(Duration::from_secs(GRACE_SECONDS))
        .await
        .expect("the drained instance exits within its grace time");
    assert!(exit.success(), "{exit}:\n{}", instances[2].log_tail());
    assert_no_call_lost(&sim, &customers);
    dashboards_match_database(&db, &dashboards).await;
    let dropped: usize = dashboards.iter().map(|d| d.lock().unwrap().ended).sum();
    assert!(
        dropped > dropped_before,
        "no stream was on the drained instance"
    );

    // The customers hang up one by one; the last instance closes every call.
    for sid in &customers {
        sim.hang_up(sid).unwrap();
    }
    let deadline = Instant::now() + WAIT;
    loop {
        let open: i64 = db
            .query_one(
                "SELECT count(*) FROM calls WHERE status::text <> 'completed'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        let busy: i64 = db
            .query_one(
                "SELECT count(*) FROM agents WHERE role::text = 'agent' AND status::text <> 'available'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if open == 0 && busy == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} calls not completed, {busy} agents not available:\n{}",
            instances[0].log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls: i64 = db
        .query_one("SELECT count(*) FROM calls", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(calls, 4, "one call per customer");
    dashboards_match_database(&db, &dashboards).await;
    stop.cancel();
    watcher.await.unwrap();
    assert!(
        incidents.lock().unwrap().is_empty(),
        "double-booked: {:?}",
        incidents.lock().unwrap()
    );

    // Every webhook Twilio sent after the crash was answered (the proxy took it elsewhere).
    let after_crash: Vec<_> = sim
        .webhook_log()
        .into_iter()
        .filter(|w| w.at > killed_at)
        .collect();
    assert!(!after_crash.is_empty());
    for webhook in &after_crash {
        assert!(
            webhook
                .response_status
                .is_some_and(|s| (200..300).contains(&s)),
            "{} {:?} answered {:?}",
            webhook.url,
            webhook.event,
            webhook.response_status
        );
    }
}
