//! Live events under load: many agents' consoles hold `GET /api/events` open while a burst of
//! calls goes through the simulator; how late each event reaches each stream, whether any
//! stream missed a state it should have seen, how `GET /api/me` answers meanwhile, and the
//! server's memory.
//!
//! One row per stream count (`BENCH_STREAMS`, default `200,1000,2000`), each on a fresh server
//! process over the same database (`BENCH_STREAMS_DATABASE_URL`, fresh for the run). Every agent
//! holds two streams on one session, as a console open in two tabs does; one agent in a hundred
//! is an admin (who sees every call). The agents and their sessions are written with `psql` and
//! their tokens signed with the server's secret: 1,000 sign-ins through the API would spend
//! minutes on password hashing, which is not what this run measures.
//!
//! The burst (`BENCH_STREAMS_CALLS`, 20): that many customers dial in at once onto twice as many
//! available agents; this program plays the agents' browsers (accepts what rings), then each
//! agent cold-transfers their call to an agent still free, the target accepts, and the customers
//! hang up.
//!
//! Delivery delay, per stream and per state it sees for the first time:
//! - an agent's state: arrival minus the event's `status_changed_at`;
//! - a call's state: arrival minus the latest of the event's `created_at`, `answered_at` and
//!   `ended_at` and of this program's last action on the call (dial, transfer request, the
//!   target's accept, hang-up) before the arrival. A call's `ringing` state has neither (the
//!   server decides it) and is not timed.
//!
//! A state that changed before the stream opened is not timed either: the stream could not
//! carry that change (a console loads it when it connects), and a later event repeating it
//! (another change to the same call, a routing pass touching the agent) is not a late delivery.
//!
//! Lost: once the burst settled, each stream's last state of every agent that changed while it
//! was open, and of every call it may see (an admin: all; an agent: those they owned or were
//! transferred), is compared with the final state the API reports; each difference is one.
//! Dropped: streams the server closed before the end.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use twilio_sim::{CallStatus, Direction};
use uuid::Uuid;

use super::{api, free_port, mib, ms, percentile, rss_kib, verdict, Cluster, Server, Settings};

const TARGET_DELIVERY_P99_MS: f64 = 250.0;
/// `GET /api/me` during the burst: p50 under this many times its p50 with no stream open.
const TARGET_API_SLOWDOWN: f64 = 2.0;
const TARGET_RSS_MB: f64 = 150.0;
/// One agent in this many is an admin.
const ADMIN_EVERY: usize = 100;
const STREAMS_PER_AGENT: usize = 2;
/// Streams opened at once while connecting them.
const OPEN_CONCURRENCY: usize = 64;
const PHASE_LIMIT: Duration = Duration::from_secs(60);
/// After the last hang-up, how long the streams keep reading before they are compared.
const SETTLE: Duration = Duration::from_secs(3);

pub struct StreamsRow {
    pub streams: usize,
    pub agents: usize,
    pub admins: usize,
    pub calls: usize,
    pub open_seconds: f64,
    pub burst_seconds: f64,
    pub deliveries: usize,
    pub timed: usize,
    pub delivery_p50: Duration,
    pub delivery_p99: Duration,
    pub delivery_max: Duration,
    /// Deliveries later than the target, by what they carried (`agent <status>` or
    /// `call <status>`): how many, to how many streams, and the earliest and latest server-side
    /// change among them (seconds into the burst), so a late tail names its cause.
    pub late: Vec<LateGroup>,
    pub lost: usize,
    pub dropped: usize,
    pub me_no_streams: (Duration, Duration),
    pub me_idle: (Duration, Duration),
    pub me_burst: (Duration, Duration),
    pub me_errors: usize,
    pub rss_before_kib: u64,
    pub rss_peak_kib: u64,
    pub server_cpu_seconds: f64,
    pub problems: Vec<String>,
}

pub struct LateGroup {
    pub what: String,
    pub deliveries: usize,
    pub streams: usize,
    pub worst: Duration,
    pub changed_from_s: f64,
    pub changed_to_s: f64,
}

/// Collects the deliveries later than the target, grouped by what they carried.
#[derive(Default)]
struct LateTally {
    groups: HashMap<String, (usize, HashSet<usize>, Duration, f64, f64)>,
}

impl LateTally {
    fn add(&mut self, what: String, stream: usize, delay: Duration, changed_s: f64) {
        let late = Duration::from_secs_f64(TARGET_DELIVERY_P99_MS / 1000.0);
        if delay <= late {
            return;
        }
        let g = self
            .groups
            .entry(what)
            .or_insert_with(|| (0, HashSet::new(), Duration::ZERO, f64::MAX, f64::MIN));
        g.0 += 1;
        g.1.insert(stream);
        g.2 = g.2.max(delay);
        g.3 = g.3.min(changed_s);
        g.4 = g.4.max(changed_s);
    }

    fn into_groups(self) -> Vec<LateGroup> {
        let mut groups: Vec<LateGroup> = self
            .groups
            .into_iter()
            .map(|(what, (deliveries, streams, worst, from, to))| LateGroup {
                what,
                deliveries,
                streams: streams.len(),
                worst,
                changed_from_s: from,
                changed_to_s: to,
            })
            .collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.deliveries));
        groups
    }
}

struct StreamsSettings {
    database_url: String,
    counts: Vec<usize>,
    calls: usize,
}

impl StreamsSettings {
    fn from_env() -> anyhow::Result<Self> {
        let database_url = std::env::var("BENCH_STREAMS_DATABASE_URL").context(
            "BENCH_STREAMS_DATABASE_URL is not set (run the benchmark with `make bench`)",
        )?;
        let counts = std::env::var("BENCH_STREAMS")
            .unwrap_or_else(|_| "200,1000,2000".into())
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| anyhow::anyhow!("BENCH_STREAMS: {s:?} is not a number"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let calls = super::env_number("BENCH_STREAMS_CALLS", 20usize)?.clamp(1, 200);
        if counts.is_empty() {
            bail!("BENCH_STREAMS lists no stream count");
        }
        for &n in &counts {
            // Callers' agents, transfer targets and at least one admin.
            if n / STREAMS_PER_AGENT < 2 * calls + 1 || n > 2000 {
                bail!(
                    "BENCH_STREAMS: {n} streams is {} agents; it takes {} to {} for {calls} calls",
                    n / STREAMS_PER_AGENT,
                    2 * calls + 1,
                    2000 / STREAMS_PER_AGENT
                );
            }
        }
        Ok(Self {
            database_url,
            counts,
            calls,
        })
    }
}

// ------------------------------------------------------------------------------------------
// Agents and sessions

struct StreamAgent {
    id: Uuid,
    session_id: Uuid,
    admin: bool,
    client: String,
}

fn psql(settings: &Settings, url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new(&settings.psql)
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-Atqc", sql])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `count` agents with the admin's password and one session each, all offline.
fn create_agents(settings: &Settings, url: &str, count: usize) -> anyhow::Result<Vec<StreamAgent>> {
    psql(
        settings,
        url,
        &format!(
            "INSERT INTO agents (id, email, display_name, password_hash, role, client_identity, status) \
             SELECT gen_random_uuid(), 'stream-agent-' || i || '@example.com', 'Stream Agent ' || i, a.password_hash, \
                    CASE WHEN i % {ADMIN_EVERY} = {last} THEN 'admin' ELSE 'agent' END, \
                    'stream_agent_' || i, 'offline' \
             FROM generate_series(0, {max}) AS i, \
                  (SELECT password_hash FROM agents WHERE email = '{admin}') AS a; \
             INSERT INTO sessions (id, agent_id, expires_at) \
             SELECT gen_random_uuid(), id, now() + interval '1 day' FROM agents \
             WHERE client_identity LIKE 'stream\\_agent\\_%';",
            last = ADMIN_EVERY - 1,
            max = count - 1,
            admin = super::ADMIN_EMAIL,
        ),
    )?;
    let rows = psql(
        settings,
        url,
        "SELECT split_part(a.client_identity, '_', 3)::int, a.id, s.id, a.role, a.client_identity \
         FROM agents a JOIN sessions s ON s.agent_id = a.id \
         WHERE a.client_identity LIKE 'stream\\_agent\\_%' ORDER BY 1",
    )?;
    let mut agents = Vec::with_capacity(count);
    for line in rows.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('|').collect();
        let [_, id, session, role, identity] = f[..] else {
            bail!("unexpected psql row {line:?}");
        };
        agents.push(StreamAgent {
            id: id.parse()?,
            session_id: session.parse()?,
            admin: role == "admin",
            client: format!("client:{identity}"),
        });
    }
    if agents.len() != count {
        bail!("created {} agents, expected {count}", agents.len());
    }
    Ok(agents)
}

// ------------------------------------------------------------------------------------------
// Streams as a client

#[derive(Deserialize)]
struct AgentData {
    id: Uuid,
    status: String,
    status_changed_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct CallData {
    id: Uuid,
    customer_call_sid: String,
    status: String,
    owner_agent_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

enum Seen {
    Agent(AgentData),
    Call(CallData),
    Other,
}

struct Arrival {
    at: SystemTime,
    seen: Seen,
}

#[derive(Default)]
struct StreamLog {
    /// When the server had answered the request (the stream was registered before that).
    opened_at: Option<SystemTime>,
    arrivals: Vec<Arrival>,
    events: usize,
    bad: usize,
    /// The server ended the stream before this program stopped reading.
    closed_early: bool,
}

/// Reads one stream until `stop` turns true, keeping the agent and call states it carries.
async fn read_stream(
    mut res: reqwest::Response,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> StreamLog {
    let mut log = StreamLog {
        opened_at: Some(SystemTime::now()),
        ..StreamLog::default()
    };
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = tokio::select! {
            chunk = res.chunk() => chunk,
            _ = stop.wait_for(|s| *s) => return log,
        };
        let at = SystemTime::now();
        let Ok(Some(chunk)) = chunk else {
            log.closed_early = true;
            return log;
        };
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = buf.drain(..end + 2).collect();
            log.events += 1;
            let text = String::from_utf8_lossy(&frame);
            let mut name = "";
            let mut data = "";
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = v;
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = v;
                }
            }
            let seen = match name {
                "agent" => serde_json::from_str(data).map(Seen::Agent).ok(),
                "call" => serde_json::from_str(data).map(Seen::Call).ok(),
                _ => Some(Seen::Other),
            };
            match seen {
                Some(Seen::Other) => {}
                Some(seen) => log.arrivals.push(Arrival { at, seen }),
                None => log.bad += 1,
            }
        }
    }
}

/// `GET /api/me` latencies, sequentially, until `stop` turns true.
async fn sample_me(
    http: reqwest::Client,
    url: String,
    token: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    while !*stop.borrow() {
        let started = Instant::now();
        let ok = match http.get(&url).bearer_auth(&token).send().await {
            Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
            Err(_) => false,
        };
        if ok {
            latencies.push(started.elapsed());
        } else {
            errors += 1;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
    latencies.sort_unstable();
    (latencies, errors)
}

async fn measure_me(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    how_long: Duration,
) -> ((Duration, Duration), usize) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(sample_me(
        http.clone(),
        format!("{base}/api/me"),
        token.to_owned(),
        rx,
    ));
    tokio::time::sleep(how_long).await;
    let _ = tx.send(true);
    let (l, errors) = task.await.unwrap_or_default();
    ((percentile(&l, 50.0), percentile(&l, 99.0)), errors)
}

// ------------------------------------------------------------------------------------------
// The run

pub async fn run(settings: &Settings, tmp: &Path) -> anyhow::Result<Vec<StreamsRow>> {
    let own = StreamsSettings::from_env()?;
    let most = own.counts.iter().max().copied().unwrap_or(0) / STREAMS_PER_AGENT;
    // The admin (and the migrations) through the CLI, as the other runs do.
    let setup = Cluster::start(settings, &own.database_url, free_port()?, tmp, 1.0)?;
    setup.create_admin()?;
    drop(setup);
    eprintln!("bench: streams: creating {most} agents with a session each");
    let agents = create_agents(settings, &own.database_url, most)?;
    let mut rows = Vec::new();
    for &n in &own.counts {
        rows.push(row(settings, &own, tmp, &agents[..n / STREAMS_PER_AGENT], n).await?);
    }
    Ok(rows)
}

/// What this program did to each call (by the customer's CallSid), and when.
#[derive(Default)]
struct Actions(HashMap<String, Vec<SystemTime>>);

impl Actions {
    fn record(&mut self, sid: &str) {
        self.0
            .entry(sid.to_owned())
            .or_default()
            .push(SystemTime::now());
    }

    fn last_before(&self, sid: &str, at: SystemTime) -> Option<SystemTime> {
        self.0.get(sid)?.iter().filter(|t| **t <= at).max().copied()
    }
}

struct CallRow {
    id: Uuid,
    sid: String,
    status: String,
    owner: Option<Uuid>,
}

async fn calls_now(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    n: usize,
) -> anyhow::Result<Vec<CallRow>> {
    let page = api(
        http,
        reqwest::Method::GET,
        &format!("{base}/api/calls?limit={n}"),
        admin,
        None,
    )
    .await?;
    Ok(page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some(CallRow {
                id: c["id"].as_str()?.parse().ok()?,
                sid: c["customer_call_sid"].as_str()?.to_owned(),
                status: c["status"].as_str()?.to_owned(),
                owner: c["owner_agent_id"].as_str().and_then(|s| s.parse().ok()),
            })
        })
        .collect())
}

/// Accepts every agent leg ringing in the simulator; returns the clients that were rung.
fn accept_ringing(
    sim: &twilio_sim::Simulator,
    clients: &HashSet<&str>,
    accepted: &mut HashSet<String>,
) -> Vec<String> {
    let mut rung = Vec::new();
    for call in sim.snapshot().calls {
        if call.direction == Direction::OutboundApi
            && call.status == CallStatus::Ringing
            && clients.contains(call.to.as_str())
            && accepted.insert(call.sid.clone())
        {
            if let Err(e) = sim.accept(&call.sid) {
                eprintln!("bench: streams: accepting {} failed: {e}", call.sid);
            }
            rung.push(call.to.clone());
        }
    }
    rung
}

async fn row(
    settings: &Settings,
    own: &StreamsSettings,
    tmp: &Path,
    agents: &[StreamAgent],
    streams: usize,
) -> anyhow::Result<StreamsRow> {
    let port = free_port()?;
    let cluster = Cluster::start(settings, &own.database_url, port, tmp, 1.0)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut server: Server = cluster.spawn_server(&format!("streams-{streams}"), port)?;
    server.wait_ready(&http).await?;
    let base = server.base.clone();
    let pid = server.pid();
    let keys = warm_transfer::auth::session::SessionKeys::new(cluster.session_secret.as_bytes());
    let now = Utc::now();
    let tokens: Vec<String> = agents
        .iter()
        .map(|a| keys.issue(a.id, a.session_id, now, now + chrono::Duration::hours(12)))
        .collect::<Result<_, _>>()?;
    let admin_index = agents
        .iter()
        .position(|a| a.admin)
        .context("no admin among the agents")?;
    let admin = tokens[admin_index].clone();
    let calls = own.calls;
    eprintln!(
        "bench: streams: {streams} streams of {} agents on port {port}, {calls} calls",
        agents.len()
    );

    // The agents who take calls and transfers: the first 2 × calls (never admins), available.
    let workers: Vec<usize> = (0..agents.len())
        .filter(|&i| !agents[i].admin)
        .take(2 * calls)
        .collect();
    for &i in &workers {
        api(
            &http,
            reqwest::Method::PUT,
            &format!("{base}/api/me/status"),
            &tokens[i],
            Some(json!({ "status": "available" })),
        )
        .await?;
    }

    // Peak RSS, sampled for the whole row.
    let rss_before = rss_kib(pid).unwrap_or(0);
    let rss_peak = Arc::new(std::sync::atomic::AtomicU64::new(rss_before));
    let cpu_before = super::cpu_seconds(pid).unwrap_or(0.0);
    let (stop_rss, stop_rss_rx) = tokio::sync::watch::channel(false);
    let sampler = {
        let rss_peak = rss_peak.clone();
        let mut stop = stop_rss_rx;
        tokio::spawn(async move {
            while !*stop.borrow() {
                if let Some(kib) = rss_kib(pid) {
                    rss_peak.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
        })
    };

    let (me_no_streams, mut me_errors) =
        measure_me(&http, &base, &tokens[workers[0]], Duration::from_secs(2)).await;

    // Open the streams, two per agent, as many at once as OPEN_CONCURRENCY.
    let stream_http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let (stop_streams, stop_streams_rx) = tokio::sync::watch::channel(false);
    let opening = Instant::now();
    let opened_at = SystemTime::now();
    let mut readers = Vec::with_capacity(streams);
    let owners: Vec<usize> = (0..agents.len())
        .flat_map(|i| std::iter::repeat_n(i, STREAMS_PER_AGENT))
        .collect();
    for chunk in owners.chunks(OPEN_CONCURRENCY) {
        let opened = futures_util::future::join_all(chunk.iter().map(|&i| {
            stream_http
                .get(format!("{base}/api/events"))
                .bearer_auth(&tokens[i])
                .send()
        }))
        .await;
        for (res, &i) in opened.into_iter().zip(chunk) {
            let res = res.with_context(|| format!("opening a stream for agent {i}"))?;
            if !res.status().is_success() {
                let status = res.status();
                bail!(
                    "opening stream {} failed: {status} {}",
                    readers.len() + 1,
                    res.text().await.unwrap_or_default()
                );
            }
            readers.push((i, tokio::spawn(read_stream(res, stop_streams_rx.clone()))));
        }
    }
    let open_seconds = opening.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (me_idle, errors) =
        measure_me(&http, &base, &tokens[workers[0]], Duration::from_secs(2)).await;
    me_errors += errors;

    // The burst, with `GET /api/me` sampled throughout.
    let (stop_me, stop_me_rx) = tokio::sync::watch::channel(false);
    let me_task = tokio::spawn(sample_me(
        http.clone(),
        format!("{base}/api/me"),
        tokens[workers[0]].clone(),
        stop_me_rx,
    ));
    let burst_started = Instant::now();
    let burst_started_wall = SystemTime::now();
    let mut problems = Vec::new();
    let actions = Arc::new(Mutex::new(Actions::default()));
    let sim = &cluster.sim;
    // The agents' browsers answer at once, in a task of their own (a ring is short here: the
    // simulator runs at 1/100 of real time), and note when a transfer's target answered.
    let sid_of_target_client: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let (stop_answering, stop_answering_rx) = tokio::sync::watch::channel(false);
    let answering = {
        let sim = sim.clone();
        let clients: HashSet<String> = workers.iter().map(|&i| agents[i].client.clone()).collect();
        let targets = sid_of_target_client.clone();
        let actions = actions.clone();
        let mut stop = stop_answering_rx;
        tokio::spawn(async move {
            let clients: HashSet<&str> = clients.iter().map(String::as_str).collect();
            let mut accepted = HashSet::new();
            while !*stop.borrow() {
                for client in accept_ringing(&sim, &clients, &mut accepted) {
                    if let Some(sid) = targets.lock().unwrap().get(&client) {
                        actions.lock().unwrap().record(sid);
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(2)) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
        })
    };
    let mut sids = Vec::new();
    for k in 0..calls {
        let sid = sim.dial_in(&format!("+1202555{:04}", k % 10_000));
        actions.lock().unwrap().record(&sid);
        sids.push(sid);
    }
    // Routed and answered.
    let deadline = Instant::now() + PHASE_LIMIT;
    let mut first_owner: HashMap<Uuid, Uuid> = HashMap::new();
    loop {
        let now = calls_now(&http, &base, &admin, calls).await?;
        for c in &now {
            if c.status == "in_progress" {
                if let Some(owner) = c.owner {
                    first_owner.entry(c.id).or_insert(owner);
                }
            }
        }
        if first_owner.len() >= calls || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if first_owner.len() < calls {
        problems.push(format!(
            "{} of {calls} calls answered in time",
            first_owner.len()
        ));
    }

    // Each owner cold-transfers to an agent still free.
    let by_id: HashMap<Uuid, usize> = agents.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    let owners_now: HashSet<Uuid> = first_owner.values().copied().collect();
    let mut free = workers
        .iter()
        .copied()
        .filter(|&i| !owners_now.contains(&agents[i].id));
    let rows = calls_now(&http, &base, &admin, calls).await?;
    let mut target_of: HashMap<Uuid, Uuid> = HashMap::new();
    for c in &rows {
        let (Some(&owner), Some(target)) = (first_owner.get(&c.id), free.next()) else {
            continue;
        };
        let owner_token = &tokens[by_id[&owner]];
        // A target whose ring was missed earlier was set away; they come back, as a person would.
        let _ = api(
            &http,
            reqwest::Method::PUT,
            &format!("{base}/api/me/status"),
            &tokens[target],
            Some(json!({ "status": "available" })),
        )
        .await;
        actions.lock().unwrap().record(&c.sid);
        let res = api(
            &http,
            reqwest::Method::POST,
            &format!("{base}/api/calls/{}/transfers", c.id),
            owner_token,
            Some(json!({ "mode": "cold", "target": { "agent_id": agents[target].id } })),
        )
        .await;
        match res {
            Ok(_) => {
                target_of.insert(c.id, agents[target].id);
                sid_of_target_client
                    .lock()
                    .unwrap()
                    .insert(agents[target].client.clone(), c.sid.clone());
            }
            Err(e) => problems.push(format!("transfer of {}: {e}", c.sid)),
        }
    }
    let deadline = Instant::now() + PHASE_LIMIT;
    loop {
        let now = calls_now(&http, &base, &admin, calls).await?;
        let done = now
            .iter()
            .filter(|c| {
                target_of
                    .get(&c.id)
                    .is_some_and(|t| c.owner == Some(*t) && c.status == "in_progress")
            })
            .count();
        if done >= target_of.len() || Instant::now() >= deadline {
            if done < target_of.len() {
                problems.push(format!(
                    "{done} of {} transfers taken in time",
                    target_of.len()
                ));
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // The customers hang up.
    for sid in &sids {
        actions.lock().unwrap().record(sid);
        if let Err(e) = sim.hang_up(sid) {
            problems.push(format!("hanging up {sid}: {e}"));
        }
    }
    let deadline = Instant::now() + PHASE_LIMIT;
    let final_calls = loop {
        let now = calls_now(&http, &base, &admin, calls).await?;
        let ended = now
            .iter()
            .filter(|c| matches!(c.status.as_str(), "completed" | "abandoned" | "failed"))
            .count();
        if ended >= calls || Instant::now() >= deadline {
            if ended < calls {
                problems.push(format!("{ended} of {calls} calls ended in time"));
            }
            break now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let burst_seconds = burst_started.elapsed().as_secs_f64();
    let _ = stop_answering.send(true);
    let _ = answering.await;
    tokio::time::sleep(SETTLE).await;
    let _ = stop_me.send(true);
    let (me_burst_l, errors) = me_task.await.unwrap_or_default();
    me_errors += errors;

    let team = api(
        &http,
        reqwest::Method::GET,
        &format!("{base}/api/agents"),
        &admin,
        None,
    )
    .await?;
    let _ = stop_streams.send(true);
    let mut logs = Vec::with_capacity(readers.len());
    for (i, reader) in readers {
        logs.push((i, reader.await?));
    }
    let _ = stop_rss.send(true);
    let _ = sampler.await;
    let rss_peak_kib = rss_peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .max(rss_kib(pid).unwrap_or(0));
    let server_cpu_seconds = super::cpu_seconds(pid).unwrap_or(0.0) - cpu_before;
    drop(server);

    // Final states.
    let mut final_agent: HashMap<Uuid, String> = HashMap::new();
    for view in team.as_array().into_iter().flatten() {
        let Ok(a) = serde_json::from_value::<AgentData>(view.clone()) else {
            continue;
        };
        if a.status_changed_at > DateTime::<Utc>::from(opened_at) {
            final_agent.insert(a.id, a.status);
        }
    }
    let final_call: HashMap<Uuid, String> = final_calls
        .iter()
        .map(|c| (c.id, c.status.clone()))
        .collect();

    let actions = actions.lock().unwrap();
    let mut delays = Vec::new();
    let mut deliveries = 0;
    let mut lost = 0;
    let mut dropped = 0;
    let mut bad = 0;
    let mut late = LateTally::default();
    let burst_at: DateTime<Utc> = burst_started_wall.into();
    let since_burst =
        |t: DateTime<Utc>| (t - burst_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
    for (i, log) in &logs {
        let viewer = &agents[*i];
        dropped += usize::from(log.closed_early);
        bad += log.bad;
        deliveries += log.arrivals.len();
        let mut seen_states: HashSet<(Uuid, String, Option<Uuid>, i64)> = HashSet::new();
        let mut last_agent: HashMap<Uuid, &str> = HashMap::new();
        let mut last_call: HashMap<Uuid, &str> = HashMap::new();
        let opened: DateTime<Utc> = log.opened_at.unwrap_or(opened_at).into();
        for arrival in &log.arrivals {
            let at: DateTime<Utc> = arrival.at.into();
            match &arrival.seen {
                Seen::Agent(a) => {
                    last_agent.insert(a.id, &a.status);
                    let key = (
                        a.id,
                        a.status.clone(),
                        None,
                        a.status_changed_at.timestamp_micros(),
                    );
                    if seen_states.insert(key) && a.status_changed_at >= opened {
                        let delay = (at - a.status_changed_at).to_std().unwrap_or_default();
                        late.add(
                            format!("agent {}", a.status),
                            *i,
                            delay,
                            since_burst(a.status_changed_at),
                        );
                        delays.push(delay);
                    }
                }
                Seen::Call(c) => {
                    last_call.insert(c.id, &c.status);
                    let key = (c.id, c.status.clone(), c.owner_agent_id, 0);
                    if !seen_states.insert(key) || c.status == "ringing" {
                        continue;
                    }
                    let mut changed = c.created_at;
                    for t in [c.answered_at, c.ended_at].into_iter().flatten() {
                        changed = changed.max(t);
                    }
                    if let Some(t) = actions.last_before(&c.customer_call_sid, arrival.at) {
                        changed = changed.max(t.into());
                    }
                    if changed < opened {
                        continue;
                    }
                    let delay = (at - changed).to_std().unwrap_or_default();
                    late.add(
                        format!("call {}", c.status),
                        *i,
                        delay,
                        since_burst(changed),
                    );
                    delays.push(delay);
                }
                Seen::Other => {}
            }
        }
        for (agent, status) in &final_agent {
            if last_agent.get(agent) != Some(&status.as_str()) {
                lost += 1;
            }
        }
        for (call, status) in &final_call {
            let concerned = viewer.admin
                || first_owner.get(call) == Some(&viewer.id)
                || target_of.get(call) == Some(&viewer.id);
            if concerned && last_call.get(call) != Some(&status.as_str()) {
                lost += 1;
            }
        }
    }
    if bad > 0 {
        problems.push(format!("{bad} events could not be read"));
    }
    delays.sort_unstable();
    let me_burst = (percentile(&me_burst_l, 50.0), percentile(&me_burst_l, 99.0));
    let row = StreamsRow {
        streams,
        agents: agents.len(),
        admins: agents.iter().filter(|a| a.admin).count(),
        calls,
        open_seconds,
        burst_seconds,
        deliveries,
        timed: delays.len(),
        delivery_p50: percentile(&delays, 50.0),
        delivery_p99: percentile(&delays, 99.0),
        delivery_max: delays.last().copied().unwrap_or_default(),
        late: late.into_groups(),
        lost,
        dropped,
        me_no_streams,
        me_idle,
        me_burst,
        me_errors,
        rss_before_kib: rss_before,
        rss_peak_kib,
        server_cpu_seconds,
        problems,
    };
    eprintln!(
        "bench: streams: {streams}: delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} \
         timed of {} deliveries; lost {}, dropped {}; /api/me p50 {:.2} -> {:.2} ms; RSS peak {:.1} MB",
        ms(row.delivery_p50),
        ms(row.delivery_p99),
        ms(row.delivery_max),
        row.timed,
        row.deliveries,
        row.lost,
        row.dropped,
        ms(row.me_no_streams.0),
        ms(row.me_burst.0),
        mib(row.rss_peak_kib)
    );
    // Agents go back to offline for the next row (fresh server, same database).
    psql(
        settings,
        &own.database_url,
        "UPDATE agents SET status = 'offline' WHERE client_identity LIKE 'stream\\_agent\\_%'",
    )?;
    Ok(row)
}

// ------------------------------------------------------------------------------------------
// Report

pub fn report(rows: &[StreamsRow]) -> String {
    let mut out = String::new();
    let Some(first) = rows.first() else {
        return out;
    };
    let _ = writeln!(
        out,
        "Live events: agents hold {STREAMS_PER_AGENT} streams each (GET /api/events, one session), \
         1 in {ADMIN_EVERY} an admin; a burst of {} calls routed, answered, cold-transferred to \
         another agent and hung up; one server per row",
        first.calls
    );
    let _ = writeln!(
        out,
        "{:>8} {:>7} {:>7} {:>8} {:>11} {:>9} {:>9} {:>9} {:>6} {:>8} {:>22} {:>8} {:>8}",
        "streams",
        "agents",
        "open s",
        "burst s",
        "deliveries",
        "p50 ms",
        "p99 ms",
        "max ms",
        "lost",
        "dropped",
        "/api/me p50 none/idle/burst",
        "RSS MB",
        "CPU s",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:>8} {:>7} {:>7.1} {:>8.1} {:>11} {:>9.1} {:>9.1} {:>9.1} {:>6} {:>8} {:>27} {:>8.1} {:>8.1}",
            r.streams,
            r.agents,
            r.open_seconds,
            r.burst_seconds,
            r.deliveries,
            ms(r.delivery_p50),
            ms(r.delivery_p99),
            ms(r.delivery_max),
            r.lost,
            r.dropped,
            format!(
                "{:.2}/{:.2}/{:.2}",
                ms(r.me_no_streams.0),
                ms(r.me_idle.0),
                ms(r.me_burst.0)
            ),
            mib(r.rss_peak_kib),
            r.server_cpu_seconds,
        );
    }
    let _ = writeln!(
        out,
        "  against the targets (figure, target, figure/target):"
    );
    for r in rows {
        let slowdown = ms(r.me_burst.0) / ms(r.me_no_streams.0).max(1e-6);
        let _ = writeln!(
            out,
            "  {:>5} streams: delivery p99 {:.1} ms < {TARGET_DELIVERY_P99_MS:.0} ms: {:.2}× ({}); \
             /api/me p50 in the burst {:.2} ms < {TARGET_API_SLOWDOWN:.0}× its {:.2} ms with no stream: \
             {:.2}× ({}); RSS peak {:.1} MB < {TARGET_RSS_MB:.0} MB: {:.2}× ({}); lost {} (target 0, {}); \
             dropped {} (target 0, {})",
            r.streams,
            ms(r.delivery_p99),
            ms(r.delivery_p99) / TARGET_DELIVERY_P99_MS,
            verdict(ms(r.delivery_p99) < TARGET_DELIVERY_P99_MS),
            ms(r.me_burst.0),
            ms(r.me_no_streams.0),
            slowdown / TARGET_API_SLOWDOWN,
            verdict(slowdown < TARGET_API_SLOWDOWN),
            mib(r.rss_peak_kib),
            mib(r.rss_peak_kib) / TARGET_RSS_MB,
            verdict(mib(r.rss_peak_kib) < TARGET_RSS_MB),
            r.lost,
            verdict(r.lost == 0),
            r.dropped,
            verdict(r.dropped == 0),
        );
        let _ = writeln!(
            out,
            "         {} agents ({} admins); /api/me p99 none/idle/burst {:.2}/{:.2}/{:.2} ms ({} errors); {} of {} \
             deliveries timed (a call's `ringing` is not); RSS {:.1} MB before the streams opened",
            r.agents,
            r.admins,
            ms(r.me_no_streams.1),
            ms(r.me_idle.1),
            ms(r.me_burst.1),
            r.me_errors,
            r.timed,
            r.deliveries,
            mib(r.rss_before_kib),
        );
        for g in r.late.iter().take(6) {
            let _ = writeln!(
                out,
                "         late (> {TARGET_DELIVERY_P99_MS:.0} ms): {} × {} on {} streams, worst {:.0} ms, \
                 changed {:.2}–{:.2} s into the burst",
                g.deliveries,
                g.what,
                g.streams,
                ms(g.worst),
                g.changed_from_s,
                g.changed_to_s,
            );
        }
        for p in &r.problems {
            let _ = writeln!(out, "         problem: {p}");
        }
    }
    out
}

/// Anything in the rows that makes the run a failure: a lost event or a problem in the burst.
pub fn failures(rows: &[StreamsRow]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows {
        if r.lost > 0 {
            out.push(format!("{} streams: {} states lost", r.streams, r.lost));
        }
        for p in &r.problems {
            out.push(format!("{} streams: {p}", r.streams));
        }
    }
    out
}
