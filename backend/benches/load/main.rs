//! `make bench`: load figures for the backend: release build, loopback, real PostgreSQL, the
//! Twilio simulator. It prints a table; it is not a test (nothing here runs under `make test`).
//!
//! 1. Throughput: one server process (the release binary, live mode against the simulator) and
//!    `BENCH_CONNECTIONS` concurrent clients hammer, one endpoint at a time, the incoming-call
//!    webhook (signed, a new CallSid each time, so every request stores a call), the wait TwiML
//!    (signed), Voice token issuance and `GET /api/calls?limit=50`; throughput, p50/p99 latency,
//!    the server's CPU use and its peak RSS. Then signed conference callbacks (mute/unmute of
//!    200 stored calls' customers): how fast they are stored and answered, and how fast the
//!    callback inbox processes them (read from the database with `psql`, `BENCH_PSQL`).
//! 2. Routing: two server processes on a second, fresh database share one simulator; many
//!    customers dial in at once onto fewer agents. Each agent's browser is a simulator endpoint
//!    that answers `BENCH_ROUTING_ANSWER_MS` after it starts ringing, as a person waiting for
//!    the call would; rings keep Twilio's timing (the servers' 20 s ring timeout is not scaled
//!    down). This program hangs each customer up once an agent joined plus the talk time.
//!    Double-bookings (an agent's client identity with more than one live call in the
//!    simulator) are counted on every loop iteration; any makes the run exit non-zero. Agent
//!    legs that rang out and calls offered to more than one agent are counted too, and
//!    dial-to-agent is set against the theoretical queueing bound (talk time × rounds waited).
//! 3. Data scale (`history.rs`): a third fresh database seeded with a million calls and 15,000
//!    waiting callers; history and queue requests each loaded like the throughput phases.
//! 4. Live events (`streams.rs`): thousands of open event streams during a burst of calls.
//!
//! Environment (scripts/bench.sh sets the first three):
//!   BENCH_DATABASE_URL             fresh database for the throughput phases (required)
//!   BENCH_ROUTING_DATABASE_URL     another fresh database for the routing run (required)
//!   BENCH_HISTORY_DATABASE_URL     a third fresh database for the data-scale phase (required)
//!   BENCH_SERVER_BIN               server binary (default: the one cargo built for this bench)
//!   BENCH_CONNECTIONS              concurrent client connections (32)
//!   BENCH_SECONDS                  measured seconds per endpoint (5)
//!   BENCH_WARMUP_SECONDS           unmeasured seconds before each endpoint (1)
//!   BENCH_ROUTING_CALLS            customers dialling in at once (1000)
//!   BENCH_ROUTING_AGENTS           agents answering them (200)
//!   BENCH_ROUTING_TIMEOUT_SECONDS  limit for the routing run (120)
//!   BENCH_ROUTING_TALK_MS          how long a customer stays once an agent joined (2000)
//!   BENCH_ROUTING_ANSWER_MS        how long an agent's browser rings before they answer (0)
//!   BENCH_STREAMS_DATABASE_URL     another fresh database for the live-events run (streams.rs)
//!   BENCH_ONLY                     runs to do, comma-separated: `throughput`, `routing` (after the throughput phases), `streams`, `history` (all)
//!   BENCH_HISTORY_CALLS            calls in the data-scale history (1000000)
//!   BENCH_HISTORY_WAITING          callers waiting in the data-scale queue (15000)

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod routing_figures;

use anyhow::{bail, Context};
use serde_json::{json, Value};
use twilio::signature::{compute_signature, SIGNATURE_HEADER};
use twilio_sim::{
    CallStatus, ConferenceStatus, Direction, Endpoint, SimConfig, SimOptions, Simulator,
};
use url::Url;

mod history;
mod streams;

const NUMBER: &str = "+15005550006";
const PASSWORD: &str = "bench-password-0123456789";
const ADMIN_EMAIL: &str = "bench-admin@example.com";

// Targets from DESIGN.md ("Quality bars").
const TARGET_VOICE_RPS: f64 = 5_000.0;
const TARGET_VOICE_P99_MS: f64 = 20.0;
const TARGET_WAIT_RPS: f64 = 30_000.0;
const TARGET_RSS_MB: f64 = 150.0;

/// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ).
const TICKS_PER_SEC: f64 = 100.0;

struct Settings {
    database_url: String,
    routing_database_url: String,
    history_database_url: String,
    server_bin: PathBuf,
    /// `psql`, to read the callback inbox's backlog.
    psql: PathBuf,
    connections: usize,
    measure: Duration,
    warmup: Duration,
    routing_calls: usize,
    routing_agents: usize,
    routing_timeout: Duration,
    talk: Duration,
    history_calls: u64,
    history_waiting: u64,
    answer: Duration,
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => raw
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={raw:?} is not a valid number")),
        _ => Ok(default),
    }
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let required = |name: &str| {
            std::env::var(name)
                .with_context(|| format!("{name} is not set (run the benchmark with `make bench`)"))
        };
        let settings = Self {
            database_url: required("BENCH_DATABASE_URL")?,
            routing_database_url: required("BENCH_ROUTING_DATABASE_URL")?,
            history_database_url: required("BENCH_HISTORY_DATABASE_URL")?,
            server_bin: std::env::var("BENCH_SERVER_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|_| PathBuf::from(env!("CARGO_BIN_EXE_warm-transfer"))),
            psql: std::env::var("BENCH_PSQL")
                .map(PathBuf::from)
                .unwrap_or_else(|_| PathBuf::from("psql")),
            connections: env_number("BENCH_CONNECTIONS", 32usize)?.clamp(1, 1024),
            measure: Duration::from_secs_f64(
                env_number("BENCH_SECONDS", 5.0f64)?.clamp(0.5, 600.0),
            ),
            warmup: Duration::from_secs_f64(
                env_number("BENCH_WARMUP_SECONDS", 1.0f64)?.clamp(0.0, 60.0),
            ),
            routing_calls: env_number("BENCH_ROUTING_CALLS", 1000usize)?.clamp(1, 10_000),
            routing_agents: env_number("BENCH_ROUTING_AGENTS", 200usize)?.clamp(1, 500),
            routing_timeout: Duration::from_secs_f64(
                env_number("BENCH_ROUTING_TIMEOUT_SECONDS", 120.0f64)?.clamp(1.0, 3600.0),
            ),
            talk: Duration::from_millis(env_number("BENCH_ROUTING_TALK_MS", 2000u64)?.min(60_000)),
            answer: Duration::from_millis(env_number("BENCH_ROUTING_ANSWER_MS", 0u64)?.min(60_000)),
            history_calls: env_number("BENCH_HISTORY_CALLS", 1_000_000u64)?
                .clamp(1_000, 100_000_000),
            history_waiting: env_number("BENCH_HISTORY_WAITING", 15_000u64)?.min(1_000_000),
        };
        let urls = [
            &settings.database_url,
            &settings.routing_database_url,
            &settings.history_database_url,
        ];
        if urls.iter().collect::<HashSet<_>>().len() < urls.len() {
            bail!(
                "BENCH_DATABASE_URL, BENCH_ROUTING_DATABASE_URL and BENCH_HISTORY_DATABASE_URL \
                 must be different databases"
            );
        }
        if !settings.server_bin.is_file() {
            bail!(
                "server binary {} not found (build it with `cargo build --release -p warm-transfer`)",
                settings.server_bin.display()
            );
        }
        Ok(settings)
    }
}

// ------------------------------------------------------------------------------------------
// Processes

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn random_hex(len: usize) -> String {
    let mut out = String::new();
    while out.len() < len {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(len);
    out
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("warm-transfer-bench-{}", random_hex(12)));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One Twilio account (the simulator) and one database, shared by one or more server processes.
struct Cluster {
    sim: Simulator,
    sim_url: String,
    database_url: String,
    session_secret: String,
    twiml_app_sid: String,
    data_dir: PathBuf,
    server_bin: PathBuf,
}

impl Cluster {
    /// Starts the simulator; its number's voice URL points at `voice_port` on loopback.
    fn start(
        settings: &Settings,
        database_url: &str,
        voice_port: u16,
        data_dir: &Path,
        time_scale: f64,
    ) -> anyhow::Result<Self> {
        let base = format!("http://127.0.0.1:{voice_port}");
        let mut config = SimConfig::random(NUMBER, Url::parse(&format!("{base}/twilio/voice"))?);
        config.voice_fallback_url = Some(Url::parse(&format!("{base}/twilio/voice/fallback"))?);
        let sim = Simulator::with_options(
            config,
            SimOptions {
                time_scale,
                ..Default::default()
            },
        );
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let sim_url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        tokio::spawn(sim.serve(listener)?);
        Ok(Self {
            sim,
            sim_url,
            database_url: database_url.to_owned(),
            session_secret: random_hex(40),
            twiml_app_sid: format!("AP{}", random_hex(32)),
            data_dir: data_dir.to_owned(),
            server_bin: settings.server_bin.clone(),
        })
    }

    fn env(&self, port: u16) -> Vec<(&'static str, String)> {
        let config = self.sim.config();
        vec![
            ("APP_ENV", "development".into()),
            ("DATABASE_URL", self.database_url.clone()),
            ("APP_HOST", "127.0.0.1".into()),
            ("APP_PORT", port.to_string()),
            ("SESSION_SECRET", self.session_secret.clone()),
            ("LOG_FORMAT", "json".into()),
            ("RUST_LOG", "warn".into()),
            (
                "DATA_DIR",
                self.data_dir
                    .join(format!("data-{port}"))
                    .display()
                    .to_string(),
            ),
            ("TWILIO_API_BASE_URL", self.sim_url.clone()),
            ("PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}")),
            ("TWILIO_ACCOUNT_SID", config.account_sid.clone()),
            ("TWILIO_AUTH_TOKEN", config.auth_token.clone()),
            ("TWILIO_API_KEY_SID", config.api_key_sid.clone()),
            ("TWILIO_API_KEY_SECRET", config.api_key_secret.clone()),
            ("TWILIO_TWIML_APP_SID", self.twiml_app_sid.clone()),
            ("TWILIO_PHONE_NUMBER", NUMBER.into()),
        ]
    }

    fn command(&self, port: u16) -> Command {
        let mut command = Command::new(&self.server_bin);
        for name in [
            "DEMO_ADMIN_EMAIL",
            "DEMO_ADMIN_PASSWORD",
            "DEMO_AGENT_PASSWORD",
            "STATIC_DIR",
            "CORS_ALLOWED_ORIGINS",
            "DATABASE_POOL_SIZE",
            "AGENT_PASSWORD",
        ] {
            command.env_remove(name);
        }
        command.envs(self.env(port)).stdin(Stdio::null());
        command
    }

    /// `warm-transfer agents create --admin` (also applies the migrations).
    fn create_admin(&self) -> anyhow::Result<()> {
        let output = self
            .command(0)
            .args(["agents", "create", "--admin", "--email", ADMIN_EMAIL])
            .args(["--name", "Bench Admin", "--password", PASSWORD])
            .output()
            .context("running `warm-transfer agents create`")?;
        if !output.status.success() {
            bail!(
                "`warm-transfer agents create` failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    fn spawn_server(&self, name: &str, port: u16) -> anyhow::Result<Server> {
        let log = self.data_dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log)?;
        let child = self
            .command(port)
            .arg("serve")
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {}", self.server_bin.display()))?;
        Ok(Server {
            name: name.to_owned(),
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        })
    }
}

/// A server process, killed when dropped (also on error and panic).
struct Server {
    name: String,
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(90);
        let url = format!("{}/readyz", self.base);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "server {} exited during start-up ({status}); log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if let Ok(res) = http.get(&url).send().await {
                if res.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "server {} not ready within 90 s; log:\n{}",
            self.name,
            self.log_tail()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident set size in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

#[derive(Default)]
struct CpuSnapshot {
    server: Option<f64>,
    client: Option<f64>,
    machine: Option<f64>,
}

fn cpu_snapshot(server_pid: u32) -> CpuSnapshot {
    CpuSnapshot {
        server: cpu_seconds(server_pid),
        client: cpu_seconds(std::process::id()),
        machine: machine_busy_seconds(),
    }
}

fn cores(start: Option<f64>, end: Option<f64>, window: f64) -> f64 {
    match (start, end) {
        (Some(a), Some(b)) if window > 0.0 => (b - a) / window,
        _ => f64::NAN,
    }
}

/// Busy CPU time of the whole machine (all cores) in seconds, from /proc/stat.
fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    let busy: f64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Some(busy / TICKS_PER_SEC)
}

/// User plus system CPU time of a process in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

// ------------------------------------------------------------------------------------------
// The API as a client

async fn login(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let res = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("login as {email} failed: {status} {body}");
    }
    body["token"]
        .as_str()
        .map(str::to_owned)
        .context("login response without a token")
}

async fn api(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = http.request(method.clone(), url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{method} {url}: {status} {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

// ------------------------------------------------------------------------------------------
// Load phases

struct Phase {
    label: &'static str,
    requests: usize,
    errors: usize,
    first_error: Option<String>,
    rps: f64,
    p50: Duration,
    p99: Duration,
    /// CPU use during the measurement, in cores: the server, this process (the load
    /// generator), and the whole machine (PostgreSQL and anything else running included).
    server_cores: f64,
    client_cores: f64,
    machine_cores: f64,
    rss_max_kib: u64,
}

type MakeRequest = Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn describe_failure(res: Result<reqwest::Response, reqwest::Error>) -> Option<String> {
    match res {
        Ok(res) if res.status().is_success() => match res.bytes().await {
            Ok(_) => None,
            Err(e) => Some(format!("reading the body: {e}")),
        },
        Ok(res) => {
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            Some(format!(
                "{status}: {}",
                body.chars().take(200).collect::<String>()
            ))
        }
        Err(e) => Some(e.to_string()),
    }
}

async fn run_phase(
    label: &'static str,
    settings: &Settings,
    server: &Server,
    make: MakeRequest,
) -> anyhow::Result<Phase> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    // One request first: a misconfiguration shows as a clear message, not as 100 % errors.
    if let Some(error) = describe_failure(make(&http).send().await).await {
        bail!("{label}: the first request failed: {error}");
    }
    eprintln!(
        "bench: {label}: {} connections, {} s warm-up + {} s measured",
        settings.connections,
        settings.warmup.as_secs_f64(),
        settings.measure.as_secs_f64()
    );

    let pid = server.pid();
    let start = Instant::now();
    let measure_from = start + settings.warmup;
    let end = measure_from + settings.measure;

    // Peak RSS, sampled while the load runs.
    let rss_peak = Arc::new(AtomicU64::new(rss_kib(pid).unwrap_or(0)));
    let sampler = {
        let rss_peak = rss_peak.clone();
        tokio::spawn(async move {
            while Instant::now() < end {
                if let Some(kib) = rss_kib(pid) {
                    rss_peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let cpu_probe = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        cpu_snapshot(pid)
    });

    let mut workers = Vec::with_capacity(settings.connections);
    for _ in 0..settings.connections {
        let http = http.clone();
        let make = make.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(16_384);
            let mut errors = 0usize;
            let mut first_error = None;
            loop {
                let started = Instant::now();
                if started >= end {
                    break;
                }
                let failure = describe_failure(make(&http).send().await).await;
                let elapsed = started.elapsed();
                if started >= measure_from {
                    latencies.push(elapsed);
                    if let Some(failure) = failure {
                        errors += 1;
                        first_error.get_or_insert(failure);
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        let (mut l, e, f) = worker.await?;
        latencies.append(&mut l);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let finished = Instant::now();
    let cpu_end = cpu_snapshot(pid);
    let cpu_start = cpu_probe.await.unwrap_or_default();
    sampler.abort();
    if let Some(kib) = rss_kib(pid) {
        rss_peak.fetch_max(kib, Ordering::Relaxed);
    }

    let window = finished
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    latencies.sort_unstable();
    let phase = Phase {
        label,
        requests: latencies.len(),
        errors,
        first_error,
        rps: latencies.len() as f64 / window.max(1e-9),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        server_cores: cores(cpu_start.server, cpu_end.server, window),
        client_cores: cores(cpu_start.client, cpu_end.client, window),
        machine_cores: cores(cpu_start.machine, cpu_end.machine, window),
        rss_max_kib: rss_peak.load(Ordering::Relaxed),
    };
    eprintln!(
        "bench: {label}: {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        phase.requests,
        phase.rps,
        ms(phase.p50),
        ms(phase.p99),
        phase.errors
    );
    // Let the server finish background work (routing wake-ups, notifications) before the next.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(phase)
}

fn signed_form(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
) -> anyhow::Result<(String, String)> {
    let body = serde_urlencoded::to_string(params)?;
    Ok((body, compute_signature(auth_token, url, params)))
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn throughput(settings: &Settings, tmp: &Path) -> anyhow::Result<(Vec<Phase>, u64, Inbox)> {
    let port = free_port()?;
    // Nothing rings in these phases; `<Pause>`s and rings go a hundred times faster.
    let cluster = Cluster::start(settings, &settings.database_url, port, tmp, 0.01)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    eprintln!("bench: creating the admin and starting the server on port {port}");
    cluster.create_admin()?;
    let mut server = cluster.spawn_server("throughput", port)?;
    server.wait_ready(&http).await?;
    let base = server.base.clone();

    // An agent for the token phase; nobody is available, so incoming calls just queue.
    let admin = login(&http, &base, ADMIN_EMAIL, PASSWORD).await?;
    api(
        &http,
        reqwest::Method::POST,
        &format!("{base}/api/agents"),
        &admin,
        Some(json!({
            "email": "bench-agent@example.com",
            "display_name": "Bench Agent",
            "password": PASSWORD,
            "role": "agent",
        })),
    )
    .await?;
    let agent = login(&http, &base, "bench-agent@example.com", PASSWORD).await?;

    let config = cluster.sim.config().clone();
    let auth_token = Arc::new(config.auth_token.clone());
    let account_sid = Arc::new(config.account_sid.clone());
    let mut phases = Vec::new();

    // (a) The incoming-call webhook: a new call each time.
    let voice_url = format!("{base}/twilio/voice");
    let counter = Arc::new(AtomicU64::new(0));
    let make: MakeRequest = {
        let (auth_token, account_sid) = (auth_token.clone(), account_sid.clone());
        Arc::new(move |http: &reqwest::Client| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let call_sid = format!("CA{}", uuid::Uuid::new_v4().simple());
            let from = format!("+1415{:07}", n % 10_000_000);
            let params = pairs(&[
                ("AccountSid", account_sid.as_str()),
                ("ApiVersion", "2010-04-01"),
                ("CallSid", &call_sid),
                ("CallStatus", "ringing"),
                ("Called", NUMBER),
                ("Caller", &from),
                ("Direction", "inbound"),
                ("From", &from),
                ("To", NUMBER),
            ]);
            let (body, signature) =
                signed_form(&auth_token, &voice_url, &params).unwrap_or_default();
            http.post(&voice_url)
                .header(SIGNATURE_HEADER, signature)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        })
    };
    phases.push(run_phase("POST /twilio/voice", settings, &server, make).await?);

    // (b) The wait TwiML: same signed request each time (the handler keeps no state).
    let wait_url = format!("{base}/twilio/wait");
    let wait_call = format!("CA{}", random_hex(32));
    let params = pairs(&[
        ("AccountSid", account_sid.as_str()),
        ("CallSid", &wait_call),
        ("CallStatus", "in-progress"),
        ("QueuePosition", "1"),
        ("QueueTime", "0"),
        ("AvgQueueTime", "0"),
        ("CurrentQueueSize", "1"),
    ]);
    let (body, signature) = signed_form(&auth_token, &wait_url, &params)?;
    let make: MakeRequest = Arc::new(move |http: &reqwest::Client| {
        http.post(&wait_url)
            .header(SIGNATURE_HEADER, signature.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
    });
    phases.push(run_phase("POST /twilio/wait", settings, &server, make).await?);

    // (c) Voice access tokens.
    let token_url = format!("{base}/api/voice/token");
    let make: MakeRequest =
        Arc::new(move |http: &reqwest::Client| http.post(&token_url).bearer_auth(&agent));
    phases.push(run_phase("POST /api/voice/token", settings, &server, make).await?);

    // (d) Call history, over the calls phase (a) stored.
    let calls_url = format!("{base}/api/calls?limit=50");
    let make: MakeRequest =
        Arc::new(move |http: &reqwest::Client| http.get(&calls_url).bearer_auth(&admin));
    phases.push(run_phase("GET /api/calls?limit=50", settings, &server, make).await?);

    let voice_url_for_inbox = format!("{base}/twilio/voice");
    // (e) Conference callbacks: stored in one insert and answered 204, processed afterwards by
    // the inbox (one processor per database). Calls to carry them are stored first.
    let mut rooms = Vec::new();
    for _ in 0..INBOX_CALLS {
        let call_sid = format!("CA{}", uuid::Uuid::new_v4().simple());
        let params = pairs(&[
            ("AccountSid", account_sid.as_str()),
            ("CallSid", &call_sid),
            ("CallStatus", "ringing"),
            ("From", "+14155550100"),
            ("To", NUMBER),
        ]);
        let (body, signature) = signed_form(&auth_token, &voice_url_for_inbox, &params)?;
        http.post(&voice_url_for_inbox)
            .header(SIGNATURE_HEADER, signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?
            .error_for_status()?;
        let conference_sid = format!("CF{}", uuid::Uuid::new_v4().simple());
        rooms.push((call_sid, conference_sid));
    }
    let processed_before = inbox_count(settings, PROCESSED_CONFERENCE_CALLBACKS)?;
    let status_url = format!("{base}/twilio/conference-status");
    let sequence = Arc::new(AtomicU64::new(1));
    let rooms = Arc::new(rooms);
    let make: MakeRequest = {
        let (auth_token, account_sid) = (auth_token.clone(), account_sid.clone());
        Arc::new(move |http: &reqwest::Client| {
            let n = sequence.fetch_add(1, Ordering::Relaxed);
            let (call_sid, conference_sid) = &rooms[n as usize % rooms.len()];
            let name = format!("wt_{call_sid}");
            let (event, muted) = if n % 2 == 0 {
                ("participant-mute", "true")
            } else {
                ("participant-unmute", "false")
            };
            let params = pairs(&[
                ("AccountSid", account_sid.as_str()),
                ("CallSid", call_sid),
                ("ConferenceSid", conference_sid),
                ("EndConferenceOnExit", "true"),
                ("FriendlyName", &name),
                ("Hold", "false"),
                ("Muted", muted),
                ("SequenceNumber", &n.to_string()),
                ("StatusCallbackEvent", event),
            ]);
            let (body, signature) =
                signed_form(&auth_token, &status_url, &params).unwrap_or_default();
            http.post(&status_url)
                .header(SIGNATURE_HEADER, signature)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        })
    };
    let phase_started = Instant::now();
    let phase = run_phase(INBOX_PHASE, settings, &server, make).await?;
    let phase_ended = Instant::now();
    let stored = inbox_count(settings, UNPROCESSED)?;
    let mut backlog = stored;
    let deadline = Instant::now() + INBOX_DRAIN_LIMIT;
    while backlog > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        backlog = inbox_count(settings, UNPROCESSED)?;
    }
    let drained_after = phase_ended.elapsed();
    let processed =
        inbox_count(settings, PROCESSED_CONFERENCE_CALLBACKS)?.saturating_sub(processed_before);
    phases.push(phase);
    let inbox = Inbox {
        processed,
        left: backlog,
        backlog_at_end: stored,
        drained_after,
        // From the warm-up's start (run_phase starts its clock there) to the backlog's end.
        processed_per_s: processed as f64 / phase_started.elapsed().as_secs_f64(),
    };

    let idle_rss = rss_kib(server.pid()).unwrap_or(0);
    drop(server);
    Ok((phases, idle_rss, inbox))
}

/// Calls the conference-callback phase spreads its callbacks over.
const INBOX_CALLS: usize = 200;
const INBOX_PHASE: &str = "POST /twilio/conference-status";
/// How long the run waits for the inbox to drain after the phase.
const INBOX_DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// What became of the callbacks the conference-callback phase stored.
struct Inbox {
    /// Conference callbacks processed, warm-up included.
    processed: u64,
    /// Unprocessed when the phase ended (stored faster than processed).
    backlog_at_end: u64,
    /// Still unprocessed when the run stopped waiting.
    left: u64,
    drained_after: Duration,
    processed_per_s: f64,
}

const UNPROCESSED: &str = "processed_at IS NULL AND failed_at IS NULL";
const PROCESSED_CONFERENCE_CALLBACKS: &str = "processed_at IS NOT NULL AND kind = 'conference'";

/// How many stored callbacks match `condition`, read with `psql`.
fn inbox_count(settings: &Settings, condition: &str) -> anyhow::Result<u64> {
    let out = Command::new(&settings.psql)
        .arg(&settings.database_url)
        .args([
            "-Atqc",
            &format!("SELECT count(*) FROM callback_inbox WHERE {condition}"),
        ])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

// ------------------------------------------------------------------------------------------
// Routing run

struct Routing {
    calls: usize,
    agents: usize,
    served: usize,
    lost: usize,
    elapsed: Duration,
    to_agent_p50: Duration,
    to_agent_p99: Duration,
    double_bookings: usize,
    missed_rings: usize,
    legs_by_instance: Vec<(String, usize)>,
    reoffered_calls: usize,
    loop_iterations: usize,
    rss_before_kib: u64,
    rss_max_kib: u64,
}

struct BenchAgent {
    token: String,
    client: String,
    base: String,
}

async fn routing(settings: &Settings, tmp: &Path) -> anyhow::Result<Routing> {
    let ports = [free_port()?, free_port()?];
    // Twilio's own timing: an agent's browser rings for the servers' full ring timeout (20 s),
    // as it would for a person. Scaled down a hundred times it lasted 0.2 s, less than anyone
    // takes to answer, and every browser a little late rang out.
    let cluster = Cluster::start(settings, &settings.routing_database_url, ports[0], tmp, 1.0)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    eprintln!(
        "bench: routing: two servers (ports {} and {}), {} agents, {} customers at once",
        ports[0], ports[1], settings.routing_agents, settings.routing_calls
    );
    cluster.create_admin()?;
    let mut servers = vec![
        cluster.spawn_server("routing-a", ports[0])?,
        cluster.spawn_server("routing-b", ports[1])?,
    ];
    for server in &mut servers {
        server.wait_ready(&http).await?;
    }
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let admin = login(&http, &bases[0], ADMIN_EMAIL, PASSWORD).await?;

    // Agents, spread over both instances, all available.
    let mut agents = Vec::new();
    for i in 0..settings.routing_agents {
        let base = bases[i % bases.len()].clone();
        let email = format!("bench-agent-{i}@example.com");
        api(
            &http,
            reqwest::Method::POST,
            &format!("{base}/api/agents"),
            &admin,
            Some(json!({
                "email": email,
                "display_name": format!("Bench Agent {i}"),
                "password": PASSWORD,
                "role": "agent",
            })),
        )
        .await?;
        let token = login(&http, &base, &email, PASSWORD).await?;
        let me = api(
            &http,
            reqwest::Method::GET,
            &format!("{base}/api/me"),
            &token,
            None,
        )
        .await?;
        let identity = me["client_identity"]
            .as_str()
            .context("GET /api/me without client_identity")?;
        api(
            &http,
            reqwest::Method::PUT,
            &format!("{base}/api/me/status"),
            &token,
            Some(json!({ "status": "available" })),
        )
        .await?;
        let client = format!("client:{identity}");
        // The agent's browser: picks up `answer` after it starts ringing.
        cluster.sim.set_endpoint(
            &client,
            Endpoint::Answer {
                after_ms: u64::try_from(settings.answer.as_millis()).unwrap_or(u64::MAX),
            },
        );
        agents.push(BenchAgent {
            token,
            client,
            base,
        });
    }
    let by_client: HashMap<String, usize> = agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.client.clone(), i))
        .collect();

    let rss_of_servers = |servers: &[Server]| {
        servers
            .iter()
            .filter_map(|s| rss_kib(s.pid()))
            .max()
            .unwrap_or(0)
    };
    let rss_before = rss_of_servers(&servers);
    let sim = &cluster.sim;
    let started = Instant::now();
    let deadline = started + settings.routing_timeout;
    let mut dialed_at: HashMap<String, Instant> = HashMap::new();
    for i in 0..settings.routing_calls {
        let sid = sim.dial_in(&format!("+1202555{:04}", i % 10_000));
        dialed_at.insert(sid, Instant::now());
    }
    let mut waiting: HashSet<String> = dialed_at.keys().cloned().collect();
    // Customers with an agent in their conference, hanging up after the talk time.
    let mut talking: HashMap<String, Instant> = HashMap::new();
    let mut to_agent: Vec<Duration> = Vec::new();
    let mut lost = 0usize;
    let mut incidents: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut iterations = 0usize;
    let mut last_presence_check = Instant::now();
    let mut rss_max = 0u64;
    let mut last_served_at = started;

    while !(waiting.is_empty() && talking.is_empty()) && Instant::now() < deadline {
        iterations += 1;
        let snap = sim.snapshot();

        // Double-bookings: an agent's browser with more than one live call at this moment.
        let mut live: HashMap<&str, Vec<String>> = HashMap::new();
        for call in &snap.calls {
            if call.direction == Direction::OutboundApi
                && by_client.contains_key(&call.to)
                && !call.status.is_final()
            {
                live.entry(call.to.as_str())
                    .or_default()
                    .push(call.sid.clone());
            }
        }
        for (client, mut sids) in live {
            if sids.len() > 1 {
                sids.sort();
                if incidents.insert(sids.clone()) {
                    eprintln!("bench: DOUBLE BOOKING: {client} has live calls {sids:?}");
                }
            }
        }

        let agent_legs: HashSet<&str> = snap
            .calls
            .iter()
            .filter(|call| {
                call.direction == Direction::OutboundApi && by_client.contains_key(&call.to)
            })
            .map(|call| call.sid.as_str())
            .collect();

        // A customer with an agent in their conference has been served: they hang up (after
        // the talk time).
        for conference in &snap.conferences {
            if conference.status == ConferenceStatus::Completed {
                continue;
            }
            let has_agent = conference
                .participants
                .iter()
                .any(|p| agent_legs.contains(p.call_sid.as_str()));
            if !has_agent {
                continue;
            }
            for p in &conference.participants {
                if waiting.remove(&p.call_sid) {
                    to_agent.push(dialed_at[&p.call_sid].elapsed());
                    last_served_at = Instant::now();
                    talking.insert(p.call_sid.clone(), Instant::now() + settings.talk);
                }
            }
        }
        let done: Vec<String> = talking
            .iter()
            .filter(|(_, until)| Instant::now() >= **until)
            .map(|(sid, _)| sid.clone())
            .collect();
        for sid in done {
            talking.remove(&sid);
            if let Err(e) = sim.hang_up(&sid) {
                eprintln!("bench: hanging up {sid} failed: {e}");
            }
        }

        // Customers whose call ended before an agent joined.
        let ended: Vec<String> = waiting
            .iter()
            .filter(|sid| snap.call(sid.as_str()).is_some_and(|c| c.status.is_final()))
            .cloned()
            .collect();
        for sid in ended {
            eprintln!("bench: customer {sid} ended before an agent joined");
            waiting.remove(&sid);
            lost += 1;
        }

        // An agent whose ring timed out is set away by the backend; put them back, as a
        // person would.
        if last_presence_check.elapsed() >= Duration::from_millis(500) {
            last_presence_check = Instant::now();
            rss_max = rss_max.max(rss_of_servers(&servers));
            let team = api(
                &http,
                reqwest::Method::GET,
                &format!("{}/api/agents", bases[0]),
                &admin,
                None,
            )
            .await
            .unwrap_or(Value::Null);
            for view in team.as_array().into_iter().flatten() {
                if view["status"] != "away" {
                    continue;
                }
                let identity = view["client_identity"].as_str().unwrap_or_default();
                if let Some(&i) = by_client.get(&format!("client:{identity}")) {
                    let agent = &agents[i];
                    let _ = api(
                        &http,
                        reqwest::Method::PUT,
                        &format!("{}/api/me/status", agent.base),
                        &agent.token,
                        Some(json!({ "status": "available" })),
                    )
                    .await;
                }
            }
        }

        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let served = to_agent.len();
    let elapsed = last_served_at.saturating_duration_since(started);
    let snap = sim.snapshot();
    let missed_rings = snap
        .calls
        .iter()
        .filter(|c| {
            c.direction == Direction::OutboundApi
                && by_client.contains_key(&c.to)
                && c.status == CallStatus::NoAnswer
        })
        .count();
    let mut legs_by_instance: Vec<(String, usize)> =
        bases.iter().map(|b| (b.clone(), 0usize)).collect();
    let mut legs_per_conference: HashMap<String, usize> = HashMap::new();
    for record in sim.rest_log() {
        if record.operation.as_deref() != Some("CreateCall") {
            continue;
        }
        if !record
            .param("To")
            .is_some_and(|to| by_client.contains_key(to))
        {
            continue;
        }
        let url = record.param("Url").unwrap_or_default();
        if let Some((_, conference)) = Url::parse(url).ok().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "conference")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
        }) {
            *legs_per_conference.entry(conference).or_default() += 1;
        }
        for (base, count) in &mut legs_by_instance {
            if url.starts_with(base.as_str()) {
                *count += 1;
            }
        }
    }
    rss_max = rss_max.max(rss_of_servers(&servers));
    if !waiting.is_empty() {
        eprintln!(
            "bench: routing: time limit reached with {} customers still waiting",
            waiting.len()
        );
    }
    to_agent.sort_unstable();
    Ok(Routing {
        calls: settings.routing_calls,
        agents: settings.routing_agents,
        served,
        lost: lost + waiting.len(),
        elapsed,
        to_agent_p50: percentile(&to_agent, 50.0),
        to_agent_p99: percentile(&to_agent, 99.0),
        double_bookings: incidents.len(),
        missed_rings,
        legs_by_instance,
        reoffered_calls: legs_per_conference.values().filter(|&&n| n > 1).count(),
        loop_iterations: iterations,
        rss_before_kib: rss_before,
        rss_max_kib: rss_max,
    })
}

// ------------------------------------------------------------------------------------------
// Report

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn report(
    settings: &Settings,
    phases: &[Phase],
    idle_rss: u64,
    inbox: &Inbox,
    routing: Option<&Routing>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Warm Transfer benchmark: release build, loopback, PostgreSQL, Twilio simulator"
    );
    let _ = writeln!(
        out,
        "{} connections, {} s measured per endpoint after {} s warm-up; server: one process",
        settings.connections,
        settings.measure.as_secs_f64(),
        settings.warmup.as_secs_f64()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<24} {:>9} {:>7} {:>9} {:>8} {:>8} {:>16} {:>8}   {:<26} figure/target",
        "endpoint",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p99 ms",
        "cores srv/cli/all",
        "RSS MB",
        "target",
    );
    let _ = writeln!(out, "{}", "-".repeat(147));
    for p in phases {
        let (target, ratio) = match p.label {
            "POST /twilio/voice" => (
                format!("≥ {TARGET_VOICE_RPS:.0} req/s, p99 < {TARGET_VOICE_P99_MS:.0} ms"),
                format!(
                    "{:.2}× throughput ({}), {:.2}× p99 ({})",
                    p.rps / TARGET_VOICE_RPS,
                    verdict(p.rps >= TARGET_VOICE_RPS),
                    ms(p.p99) / TARGET_VOICE_P99_MS,
                    verdict(ms(p.p99) < TARGET_VOICE_P99_MS)
                ),
            ),
            "POST /twilio/wait" => (
                format!("≥ {TARGET_WAIT_RPS:.0} req/s"),
                format!(
                    "{:.2}× throughput ({})",
                    p.rps / TARGET_WAIT_RPS,
                    verdict(p.rps >= TARGET_WAIT_RPS)
                ),
            ),
            _ => ("no target set".to_owned(), "—".to_owned()),
        };
        let _ = writeln!(
            out,
            "{:<24} {:>9} {:>7} {:>9.0} {:>8.2} {:>8.2} {:>16} {:>8.1}   {:<26} {}",
            p.label,
            p.requests,
            p.errors,
            p.rps,
            ms(p.p50),
            ms(p.p99),
            format!(
                "{:.2}/{:.2}/{:.2}",
                p.server_cores, p.client_cores, p.machine_cores
            ),
            mib(p.rss_max_kib),
            target,
            ratio
        );
    }
    let rss_max = phases.iter().map(|p| p.rss_max_kib).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "{:<24} {:>71.1}   {:<26} {:.2}× ({})",
        "backend RSS, peak",
        mib(rss_max),
        format!("< {TARGET_RSS_MB:.0} MB"),
        mib(rss_max) / TARGET_RSS_MB,
        verdict(mib(rss_max) < TARGET_RSS_MB)
    );
    let _ = writeln!(
        out,
        "{:<24} {:>71.1}",
        "backend RSS, after load",
        mib(idle_rss)
    );
    for p in phases {
        if let Some(e) = &p.first_error {
            let _ = writeln!(out, "  {}: first error: {e}", p.label);
        }
    }

    if let Some(routing) = routing {
        let _ = writeln!(out);
        let _ = writeln!(
        out,
        "Routing: {} customers dial in at once onto {} agents, two server instances, one database; \
         talk time {} ms",
        routing.calls,
        routing.agents,
        settings.talk.as_millis()
    );
        let _ = writeln!(
            out,
            "  calls served        {:>8} of {}   target all; {:.3}× ({})",
            routing.served,
            routing.calls,
            routing.served as f64 / routing.calls.max(1) as f64,
            verdict(routing.served == routing.calls)
        );
        let _ = writeln!(
            out,
            "{}",
            routing_figures::zero_target("calls not served", routing.lost, routing.calls, "call")
        );
        let rounds = routing_figures::rounds(routing.calls, routing.agents);
        let _ = writeln!(
        out,
        "  time                {:>8.2} s   first dial to last customer reaching an agent; bound {:.2} s \
         (talk time × {} rounds waited), {:.3}× the bound",
        routing.elapsed.as_secs_f64(),
        (settings.talk * u32::try_from(rounds.saturating_sub(1)).unwrap_or(u32::MAX))
            .as_secs_f64(),
        rounds.saturating_sub(1),
        routing.elapsed.as_secs_f64()
            / (settings.talk * u32::try_from(rounds.saturating_sub(1)).unwrap_or(u32::MAX))
                .as_secs_f64()
                .max(1e-9)
    );
        let _ = writeln!(
            out,
            "  calls/s             {:>8.1}   no target set",
            routing.served as f64 / routing.elapsed.as_secs_f64().max(1e-9)
        );
        let bounds = routing_figures::queueing_bounds(routing.calls, routing.agents, settings.talk);
        let _ = writeln!(
            out,
            "{}",
            routing_figures::against_bound("p50", routing.to_agent_p50, percentile(&bounds, 50.0))
        );
        let _ = writeln!(
            out,
            "{}",
            routing_figures::against_bound("p99", routing.to_agent_p99, percentile(&bounds, 99.0))
        );
        let legs: Vec<String> = routing
            .legs_by_instance
            .iter()
            .map(|(base, n)| format!("{base}: {n}"))
            .collect();
        let dialed: usize = routing.legs_by_instance.iter().map(|(_, n)| n).sum();
        let _ = writeln!(
            out,
            "  agent legs dialed   {:>8}   target {} (one per call); {:.3}× ({}); by instance: {}",
            dialed,
            routing.calls,
            dialed as f64 / routing.calls.max(1) as f64,
            verdict(dialed == routing.calls),
            legs.join(", ")
        );
        let _ = writeln!(
            out,
            "{}",
            routing_figures::zero_target("ring-outs", routing.missed_rings, dialed, "agent leg")
        );
        let _ = writeln!(
            out,
            "{}",
            routing_figures::zero_target(
                "offered twice",
                routing.reoffered_calls,
                routing.calls,
                "call"
            )
        );
        let _ = writeln!(
        out,
        "  backend RSS         {:>8.1} MB peak (larger instance; {:.1} MB after signing the agents \
         in)   target < {TARGET_RSS_MB:.0} MB; {:.2}× ({})",
        mib(routing.rss_max_kib),
        mib(routing.rss_before_kib),
        mib(routing.rss_max_kib) / TARGET_RSS_MB,
        verdict(mib(routing.rss_max_kib) < TARGET_RSS_MB)
    );
        let _ = writeln!(
            out,
            "{} (checked on each of {} loop iterations)",
            routing_figures::zero_target(
                "double-bookings",
                routing.double_bookings,
                routing.agents,
                "agent"
            ),
            routing.loop_iterations
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Callback inbox ({INBOX_PHASE}: stored and answered 204, then processed, each call's in \
         order, several calls at once)"
    );
    let _ = writeln!(
        out,
        "  processed           {} conference callbacks at {:.0}/s from the phase's start until the \
         backlog was empty; no target set",
        inbox.processed, inbox.processed_per_s
    );
    let _ = writeln!(
        out,
        "  backlog             {} unprocessed when the phase ended; {} left {:.1} s later{}; \
         target 0 left ({})",
        inbox.backlog_at_end,
        inbox.left,
        inbox.drained_after.as_secs_f64(),
        if inbox.left == 0 {
            " (drained)"
        } else {
            " (gave up waiting)"
        },
        verdict(inbox.left == 0)
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Note: the machine is shared, and the load generator, the simulator and PostgreSQL run on\n\
         the same {0} cores as the server: these figures are indicative, not a capacity rating.\n\
         `cores srv/cli/all` is the CPU used during the measurement by the server, by this load\n\
         generator and by the whole machine (PostgreSQL and other tenants included; {0}.00 = all\n\
         cores busy).",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

async fn run() -> anyhow::Result<bool> {
    let settings = Settings::from_env()?;
    let tmp = TempDir::new()?;
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let wanted = |run: &str| only.trim().is_empty() || only.split(',').any(|r| r.trim() == run);
    let mut ok = true;
    if wanted("throughput") || wanted("routing") {
        ok = throughput_and_routing(&settings, &tmp.0, &wanted).await?;
    }
    if wanted("history") {
        let data_scale = history::data_scale(&settings, &tmp.0).await?;
        print!("{}", history::report(&data_scale));
    }
    if wanted("streams") {
        let rows = streams::run(&settings, &tmp.0).await?;
        println!();
        print!("{}", streams::report(&rows));
        for failure in streams::failures(&rows) {
            println!("FAILED: live events: {failure}");
            ok = false;
        }
    }
    Ok(ok)
}

async fn throughput_and_routing(
    settings: &Settings,
    tmp: &Path,
    wanted: &dyn Fn(&str) -> bool,
) -> anyhow::Result<bool> {
    let (phases, idle_rss, inbox) = throughput(settings, tmp).await?;
    let routing = if wanted("routing") {
        Some(routing(settings, tmp).await?)
    } else {
        None
    };
    print!(
        "{}",
        report(settings, &phases, idle_rss, &inbox, routing.as_ref())
    );
    let Some(routing) = routing else {
        return Ok(true);
    };
    let mut ok = true;
    if routing.double_bookings > 0 {
        println!(
            "FAILED: {} double-booking(s) in the routing run",
            routing.double_bookings
        );
        ok = false;
    }
    if routing.served < routing.calls {
        println!(
            "FAILED: the routing run served {} of {} calls",
            routing.served, routing.calls
        );
        ok = false;
    }
    Ok(ok)
}

async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench` (and any filter); this benchmark takes no arguments.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: cannot start the Tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    // On SIGINT/SIGTERM `run` is dropped, which kills the servers (their handles' Drop).
    let result = runtime.block_on(async {
        tokio::select! {
            result = run() => result,
            signal = shutdown_signal() => Err(anyhow::anyhow!("interrupted by {signal}")),
        }
    });
    // Servers are killed as their handles drop inside `run`; stop the simulator's tasks too.
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
