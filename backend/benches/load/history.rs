//! Data scale: call history and the queue at production size, on a database of their own.
//!
//! One server process (release binary, live mode against the simulator) on a fresh database;
//! two agents are created through the API (so they can sign in), then `history_seed.sql`
//! (generate_series, through `psql`) adds `BENCH_HISTORY_CALLS` finished calls (1,000,000) with
//! their legs and transfers, half of them handled by one agent (some only as a transfer's
//! target), three by another, the rest spread over 50 more, and `BENCH_HISTORY_WAITING`
//! callers (15,000) waiting in the queue. Each row then loads one history or queue request with
//! `BENCH_CONNECTIONS` concurrent clients, like the throughput phases; every row's target is
//! p99 < 50 ms.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use super::{api, free_port, login, ms, run_phase, Cluster, MakeRequest, Phase, Settings};
use super::{ADMIN_EMAIL, PASSWORD};

/// Every history and queue row: p99 under this.
const TARGET_P99_MS: f64 = 50.0;
const HEAVY_EMAIL: &str = "bench-heavy@example.com";
const SPARSE_EMAIL: &str = "bench-sparse@example.com";
const SEED_SQL: &str = include_str!("history_seed.sql");

pub(super) struct DataScale {
    calls: u64,
    waiting: u64,
    seed_time: Duration,
    /// Rows in the tables after seeding: calls, participants, transfers, call_agents.
    rows: Vec<(String, u64)>,
    phases: Vec<Phase>,
}

/// `SELECT …` through psql, one value.
fn psql_value(settings: &Settings, url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new(&settings.psql)
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-Atqc", sql])
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The history cursor (as the API encodes it) of the call `offset` places down a listing.
fn cursor_at(settings: &Settings, url: &str, from: &str, offset: u64) -> anyhow::Result<String> {
    let cursor = psql_value(
        settings,
        url,
        &format!(
            "SELECT (extract(epoch FROM created_at) * 1000000)::bigint || '_' || \
             replace(id::text, '-', '') FROM {from} \
             ORDER BY created_at DESC, id DESC OFFSET {offset} LIMIT 1"
        ),
    )?;
    if cursor.is_empty() {
        bail!("no call {offset} places down {from}");
    }
    Ok(cursor)
}

async fn create_agent(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    email: &str,
    name: &str,
) -> anyhow::Result<String> {
    let agent = api(
        http,
        reqwest::Method::POST,
        &format!("{base}/api/agents"),
        admin,
        Some(json!({
            "email": email,
            "display_name": name,
            "password": PASSWORD,
            "role": "agent",
        })),
    )
    .await?;
    agent["id"]
        .as_str()
        .map(str::to_owned)
        .context("created agent without an id")
}

/// The queue cursor (as the API encodes it) of the waiting call `offset` places down the queue:
/// the page after it starts `offset + 1` places down.
fn queue_cursor_at(settings: &Settings, url: &str, offset: u64) -> anyhow::Result<String> {
    let cursor = psql_value(
        settings,
        url,
        &format!(
            "SELECT (extract(epoch FROM queued_at) * 1000000)::bigint || '_' || \
             replace(id::text, '-', '') FROM calls WHERE status IN ('queued', 'ringing') \
             ORDER BY queued_at, id OFFSET {offset} LIMIT 1"
        ),
    )?;
    if cursor.is_empty() {
        bail!("no waiting call {offset} places down the queue");
    }
    Ok(cursor)
}

/// Checks one answer before loading the route: a wrong page would make fast figures worthless.
async fn expect_page(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    items: usize,
    more: bool,
) -> anyhow::Result<()> {
    let page = api(http, reqwest::Method::GET, url, token, None).await?;
    let got = page["items"].as_array().map_or(0, Vec::len);
    let has_more = page["next_cursor"].is_string();
    if got != items || has_more != more {
        bail!("{url}: expected {items} items (more: {more}), got {got} (more: {has_more})");
    }
    Ok(())
}

pub(super) async fn data_scale(settings: &Settings, tmp: &Path) -> anyhow::Result<DataScale> {
    let url = settings.history_database_url.clone();
    let port = free_port()?;
    let cluster = Cluster::start(settings, &url, port, tmp, 0.01)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    eprintln!("bench: data scale: creating the admin and starting the server on port {port}");
    cluster.create_admin()?;
    let mut server = cluster.spawn_server("history", port)?;
    server.wait_ready(&http).await?;
    let base = server.base.clone();
    let admin = login(&http, &base, ADMIN_EMAIL, PASSWORD).await?;
    let heavy = create_agent(&http, &base, &admin, HEAVY_EMAIL, "Heavy Agent").await?;
    let sparse = create_agent(&http, &base, &admin, SPARSE_EMAIL, "Sparse Agent").await?;

    let calls = settings.history_calls;
    let waiting = settings.history_waiting;
    eprintln!("bench: data scale: seeding {calls} calls and {waiting} waiting callers");
    let seed_file = tmp.join("history_seed.sql");
    std::fs::write(&seed_file, SEED_SQL)?;
    let started = Instant::now();
    let out = Command::new(&settings.psql)
        .arg(&url)
        .args(["-q", "-v", "ON_ERROR_STOP=1"])
        .args([
            "-v",
            &format!("heavy={heavy}"),
            "-v",
            &format!("sparse={sparse}"),
        ])
        .args([
            "-v",
            &format!("calls={calls}"),
            "-v",
            &format!("waiting={waiting}"),
        ])
        .arg("-f")
        .arg(&seed_file)
        .output()
        .context("running psql")?;
    if !out.status.success() {
        bail!("seeding failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let seed_time = started.elapsed();
    let mut rows = Vec::new();
    for table in ["calls", "participants", "transfers", "call_agents"] {
        let n = psql_value(settings, &url, &format!("SELECT count(*) FROM {table}"))?;
        rows.push((table.to_owned(), n.parse()?));
    }
    eprintln!(
        "bench: data scale: seeded in {:.1} s: {}",
        seed_time.as_secs_f64(),
        rows.iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let heavy_token = login(&http, &base, HEAVY_EMAIL, PASSWORD).await?;
    let sparse_token = login(&http, &base, SPARSE_EMAIL, PASSWORD).await?;
    let deep = cursor_at(settings, &url, "calls", calls * 9 / 10)?;
    let heavy_deep = cursor_at(
        settings,
        &url,
        &format!(
            "(SELECT c.* FROM calls c JOIN call_agents a ON a.call_id = c.id \
             WHERE a.agent_id = '{heavy}') AS mine"
        ),
        calls * 9 / 20,
    )?;
    // A day's window half a year back: about 2,900 calls (one every 30 s).
    let window = psql_value(
        settings,
        &url,
        "SELECT to_char(now() - interval '183 days', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ' ' || \
         to_char(now() - interval '182 days', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    )?;
    let (since, until) = window.split_once(' ').context("bad date window")?;

    // Queue pages by cursor: one 90% of the way down, and the last full page.
    // The deep page needs 50 callers after it and one more (a next page): a queue of 520 or more.
    let queue_rows = waiting >= 520;
    let (queue_deep, queue_last) = if queue_rows {
        (
            queue_cursor_at(settings, &url, waiting * 9 / 10)?,
            queue_cursor_at(settings, &url, waiting - 51)?,
        )
    } else {
        (String::new(), String::new())
    };

    let calls_url = format!("{base}/api/calls?limit=50");
    let queue_url = format!("{base}/api/queue?limit=50");
    let rows_to_load: Vec<(&'static str, String, String, usize, bool)> = vec![
        (
            "calls: admin, no filter",
            calls_url.clone(),
            admin.clone(),
            50,
            true,
        ),
        (
            "calls: own (500k)",
            calls_url.clone(),
            heavy_token.clone(),
            50,
            true,
        ),
        (
            "calls: agent_id= (500k)",
            format!("{calls_url}&agent_id={heavy}"),
            admin.clone(),
            50,
            true,
        ),
        (
            "calls: own (3)",
            calls_url.clone(),
            sparse_token.clone(),
            3,
            false,
        ),
        (
            "calls: agent_id= (3)",
            format!("{calls_url}&agent_id={sparse}"),
            admin.clone(),
            3,
            false,
        ),
        (
            "calls: deep cursor (90%)",
            format!("{calls_url}&cursor={deep}"),
            admin.clone(),
            50,
            true,
        ),
        (
            "calls: own, deep cursor",
            format!("{calls_url}&cursor={heavy_deep}"),
            heavy_token.clone(),
            50,
            true,
        ),
        (
            "calls: status=abandoned",
            format!("{calls_url}&status=abandoned"),
            admin.clone(),
            50,
            true,
        ),
        (
            "calls: status=failed",
            format!("{calls_url}&status=failed"),
            admin.clone(),
            0,
            false,
        ),
        (
            "calls: one day, 6 mo ago",
            format!("{calls_url}&since={since}&until={until}"),
            admin.clone(),
            50,
            true,
        ),
        (
            "queue: first page",
            queue_url.clone(),
            heavy_token.clone(),
            50,
            true,
        ),
        (
            "queue: deep cursor (90%)",
            format!("{queue_url}&cursor={queue_deep}"),
            heavy_token.clone(),
            50,
            true,
        ),
        (
            "queue: last page (cursor)",
            format!("{queue_url}&cursor={queue_last}"),
            heavy_token.clone(),
            50,
            false,
        ),
    ];
    let mut phases = Vec::new();
    for (label, url, token, items, more) in rows_to_load {
        if !queue_rows && label.starts_with("queue") {
            continue;
        }
        expect_page(&http, &url, &token, items, more)
            .await
            .with_context(|| label.to_owned())?;
        let make: MakeRequest =
            Arc::new(move |http: &reqwest::Client| http.get(&url).bearer_auth(&token));
        phases.push(run_phase(label, settings, &server, make).await?);
    }
    drop(server);
    Ok(DataScale {
        calls,
        waiting,
        seed_time,
        rows,
        phases,
    })
}

pub(super) fn report(d: &DataScale) -> String {
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Data scale: {} calls in history (half handled by one agent, three by another), {} \
         callers waiting; seeded in {:.1} s ({})",
        d.calls,
        d.waiting,
        d.seed_time.as_secs_f64(),
        d.rows
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "{:<26} {:>9} {:>7} {:>9} {:>8} {:>8}   {:<14} figure/target",
        "request (limit=50)", "requests", "errors", "req/s", "p50 ms", "p99 ms", "target",
    );
    let _ = writeln!(out, "{}", "-".repeat(105));
    for p in &d.phases {
        let p99 = ms(p.p99);
        let _ = writeln!(
            out,
            "{:<26} {:>9} {:>7} {:>9.0} {:>8.2} {:>8.2}   {:<14} {:.2}× p99 ({})",
            p.label,
            p.requests,
            p.errors,
            p.rps,
            ms(p.p50),
            p99,
            format!("p99 < {TARGET_P99_MS:.0} ms"),
            p99 / TARGET_P99_MS,
            super::verdict(p99 < TARGET_P99_MS && p.errors == 0)
        );
    }
    for p in &d.phases {
        if let Some(e) = &p.first_error {
            let _ = writeln!(out, "  {}: first error: {e}", p.label);
        }
    }
    out
}
