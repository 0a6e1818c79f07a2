//! Property test of the whole call flow: random interleavings of customers, agents' browsers,
//! agents' API actions and Twilio faults, driven through the simulator against the real app,
//! with the product's promises checked after every step once the system is quiet.
//!
//! Each case is generated from a seed (a seeded RNG, no shrinking: a failure prints its seed and
//! the steps so far; shrink by hand into a named test below). Knobs:
//! - `CALL_ENGINE_SEED=<u64>` replays one case (the same actions in the same order; timing, and so
//!   which leg happens to be ringing, may still differ a little between runs);
//! - `CALL_ENGINE_CASES` (default 3) and `CALL_ENGINE_STEPS` (default 40) for longer local runs.
//!
//! Promises checked (see DESIGN.md, "Who ends a call"):
//! 1. a customer's call ends only by the customer hanging up, an agent's API hang-up, or the
//!    outside number that owns the call hanging up;
//! 2. no agent has two live (in-progress) legs at once;
//! 3. no leg rings for a call whose customer is gone;
//! 4. every call reaches a final state in the app once its Twilio calls are over, and a call the
//!    app has closed has no customer left in Twilio;
//! 5. an agent is `available` only with no live leg;
//! 6. no agent's leg carries `endConferenceOnExit`;
//! 7. no API request answers 5xx (502 only when Twilio itself failed the request).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{CallStatus as SimStatus, Direction, SimSnapshot};

use crate::voice::{Agent, CallCenter};

/// The outside number transfers go to.
const PHONE: &str = "+14155550199";
/// How long an eventually-true promise may take (a lost callback is reconciled after
/// STALE_LEG_SECONDS=2, ring timeouts are about 1 s at the test's time scale).
const EVENTUALLY: Duration = Duration::from_secs(10);
const AGENTS: usize = 3;
const MAX_LIVE_CUSTOMERS: usize = 3;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy)]
enum Target {
    /// The `k`th (modulo) available colleague when the step runs; none: agent `k`.
    AvailableAgent(usize),
    /// Agent `i`, whatever their state (often refused).
    Agent(usize),
    Phone,
}

/// Which agent acts: mostly one the action fits (ringing, or on a call, chosen by `k` among
/// them when the step runs), sometimes any agent (so invalid requests are tried too).
#[derive(Debug, Clone, Copy)]
enum Who {
    Fitting(usize),
    Any(usize),
}

#[derive(Debug, Clone, Copy)]
enum Action {
    DialIn,
    /// The `n`th live customer (modulo) hangs up.
    CustomerHangsUp(usize),
    /// Whatever rings at the agent's browser is accepted / rejected / left to ring out.
    Accept(Who),
    Reject(Who),
    RingOut(Who),
    PhoneAnswers,
    PhoneRejects,
    PhoneHangsUp,
    /// The agent's browser drops their live leg (tab closed, crash).
    BrowserCrash(Who),
    Hold(Who, bool),
    Mute(Who, bool),
    Transfer {
        by: Who,
        cold: bool,
        to: Target,
    },
    CompleteTransfer(Who),
    CancelTransfer(Who),
    Leave(Who),
    HangUp(Who),
    /// Mostly an agent who is away (`Fitting`), else any.
    SetStatus(Who, &'static str),
    DuplicateCallbacks(u32),
    ReorderCallbacks(u32),
    LoseJoin,
    LoseCompleted,
    FailRest,
    Wait(u64),
}

fn generate(rng: &mut StdRng) -> Action {
    let agent = rng.gen_range(0..AGENTS);
    let who = if rng.gen_bool(0.85) {
        Who::Fitting(rng.gen_range(0..AGENTS))
    } else {
        Who::Any(agent)
    };
    match rng.gen_range(0..100) {
        0..=8 => Action::DialIn,
        9..=11 => Action::CustomerHangsUp(rng.gen_range(0..MAX_LIVE_CUSTOMERS)),
        12..=23 => Action::Accept(who),
        24..=25 => Action::Reject(who),
        26 => Action::RingOut(who),
        27..=32 => Action::PhoneAnswers,
        33 => Action::PhoneRejects,
        34..=35 => Action::PhoneHangsUp,
        36..=38 => Action::BrowserCrash(who),
        39..=42 => Action::Hold(who, rng.gen_bool(0.5)),
        43..=44 => Action::Mute(who, rng.gen_bool(0.5)),
        45..=54 => Action::Transfer {
            by: who,
            cold: rng.gen_bool(0.4),
            to: match rng.gen_range(0..10) {
                0..=5 => Target::AvailableAgent(rng.gen_range(0..AGENTS)),
                6..=7 => Target::Agent(rng.gen_range(0..AGENTS)),
                _ => Target::Phone,
            },
        },
        55..=62 => Action::CompleteTransfer(who),
        63..=64 => Action::CancelTransfer(who),
        65..=67 => Action::Leave(who),
        68..=69 => Action::HangUp(who),
        70..=77 => Action::SetStatus(
            who,
            if rng.gen_bool(0.85) {
                "available"
            } else {
                "away"
            },
        ),
        78..=80 => Action::DuplicateCallbacks(rng.gen_range(1..=4)),
        81..=83 => Action::ReorderCallbacks(rng.gen_range(2..=3)),
        84..=85 => Action::LoseJoin,
        86..=87 => Action::LoseCompleted,
        88..=89 => Action::FailRest,
        _ => Action::Wait(rng.gen_range(100..=1_500)),
    }
}

/// One generated case: the call center, its agents and what the test did so far.
struct Case {
    seed: u64,
    cc: CallCenter,
    admin: String,
    agents: Vec<Agent>,
    customers_dialed: usize,
    /// Customer call SIDs an API hang-up (or the owning outside number hanging up) may end.
    may_end: HashSet<String>,
    /// Call ids seen, for actions of an agent with no call of their own (expect a clean 4xx).
    known_calls: Vec<String>,
    /// (call id, agent, that agent's legs then): agents who left a call while alone with the
    /// customer, who must not be offered that call again (a transfer to them is fine).
    left_alone: Vec<(String, usize, HashSet<String>)>,
}

/// Prints the seed and the steps if the case panics (an invariant, or a helper's assertion).
struct ReportOnPanic {
    seed: u64,
    trace: Vec<String>,
}

impl Drop for ReportOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "\ncall-engine property failed: replay with CALL_ENGINE_SEED={}\nsteps:\n{}",
                self.seed,
                self.trace.join("\n")
            );
        }
    }
}

impl Case {
    async fn start(seed: u64) -> Self {
        let cc = CallCenter::start_with(1, |env| {
            env.insert("STALE_LEG_SECONDS".into(), "2".into());
            // 60 s of ringing is 3 s at the simulator's time scale: long enough for a step to
            // answer, short enough to see ring-outs.
            env.insert("RING_TIMEOUT_SECONDS".into(), "60".into());
        })
        .await;
        let admin = cc.admin().await;
        let mut agents = Vec::new();
        for i in 0..AGENTS {
            agents.push(cc.agent(&format!("agent{i}"), true).await);
        }
        Case {
            seed,
            cc,
            admin,
            agents,
            customers_dialed: 0,
            may_end: HashSet::new(),
            known_calls: Vec::new(),
            left_alone: Vec::new(),
        }
    }

    fn fail(&self, what: &str, snapshot: &SimSnapshot) -> ! {
        let calls: Vec<String> = snapshot
            .calls
            .iter()
            .map(|c| {
                format!(
                    "  {} {:?} to={} from={} status={:?} ended_by={:?} conf={:?}",
                    c.sid, c.direction, c.to, c.from, c.status, c.ended_by, c.conference_sid
                )
            })
            .collect();
        panic!(
            "invariant violated (CALL_ENGINE_SEED={}): {what}\nsimulator calls:\n{}",
            self.seed,
            calls.join("\n")
        );
    }

    fn live_customers(&self) -> Vec<String> {
        self.cc
            .sim
            .snapshot()
            .calls
            .iter()
            .filter(|c| c.direction == Direction::Inbound && !c.status.is_final())
            .map(|c| c.sid.clone())
            .collect()
    }

    /// The agent's current call (through the API), if any.
    async fn my_call(&self, agent: usize) -> Option<Value> {
        let res = self
            .cc
            .app()
            .get("/api/me/call", Some(&self.agents[agent].token))
            .await;
        assert!(
            res.status().is_success(),
            "GET /api/me/call: {}",
            res.status()
        );
        let body: Value = res.json().await.unwrap();
        let call = body["call"].clone();
        (!call.is_null()).then_some(call)
    }

    /// The id to act on: the agent's call, else some other call (or none) for a clean 4xx.
    async fn call_for(&mut self, agent: usize) -> (String, Option<Value>) {
        match self.my_call(agent).await {
            Some(call) => {
                let id = call["id"].as_str().unwrap().to_owned();
                if !self.known_calls.contains(&id) {
                    self.known_calls.push(id.clone());
                }
                (id, Some(call))
            }
            None => (
                self.known_calls
                    .last()
                    .cloned()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                None,
            ),
        }
    }

    /// Sends an agent's request; a 5xx is a failure unless Twilio failed a request meanwhile
    /// (then the app may say 502).
    async fn send(&self, agent: usize, method: Method, path: &str, body: Value) -> (u16, Value) {
        let rest_before = self.cc.sim.rest_log().len();
        let res = self
            .cc
            .app()
            .send_json(method.clone(), path, Some(&self.agents[agent].token), &body)
            .await;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status >= 500 {
            let twilio_failed = self
                .cc
                .sim
                .rest_log()
                .iter()
                .skip(rest_before)
                .any(|r| r.status >= 500);
            if !(status == 502 && twilio_failed) {
                panic!(
                    "invariant violated (CALL_ENGINE_SEED={}): {method} {path} answered {status}: {text}",
                    self.seed
                );
            }
        } else if !(200..300).contains(&status) {
            assert!(
                (400..500).contains(&status) && body["code"].is_string(),
                "{method} {path}: an unclean refusal {status}: {text}"
            );
        }
        (status, body)
    }

    /// The agent `who` names: `Fitting(k)` picks the `k`th (modulo) of the agents whose browser
    /// rings (`ringing`) or who have a live leg (otherwise); none fits: agent `k`.
    fn resolve(&self, who: Who, ringing: bool) -> usize {
        let k = match who {
            Who::Any(i) => return i,
            Who::Fitting(k) => k,
        };
        let snapshot = self.cc.sim.snapshot();
        let fitting: Vec<usize> = (0..AGENTS)
            .filter(|&i| {
                let client = self.agents[i].client();
                snapshot.calls.iter().any(|c| {
                    c.to == client
                        && if ringing {
                            c.status == SimStatus::Ringing
                        } else {
                            c.status == SimStatus::InProgress
                        }
                })
            })
            .collect();
        if fitting.is_empty() {
            k % AGENTS
        } else {
            fitting[k % fitting.len()]
        }
    }

    /// The `k`th (modulo) agent whose call has a transfer under way that they did not receive;
    /// none has: an agent with a live leg.
    async fn resolve_transferring(&self, k: usize) -> usize {
        let mut transferring = Vec::new();
        for i in 0..AGENTS {
            let Some(call) = self.my_call(i).await else {
                continue;
            };
            let me = self.agents[i].id.as_str();
            let active = call["transfers"].as_array().is_some_and(|ts| {
                ts.iter().any(|t| {
                    matches!(t["status"].as_str(), Some("dialing" | "consulting"))
                        && t["to_agent_id"] != me
                })
            });
            if active {
                transferring.push(i);
            }
        }
        if transferring.is_empty() {
            self.resolve(Who::Fitting(k), false)
        } else {
            transferring[k % transferring.len()]
        }
    }

    /// The `k`th (modulo) agent who is away; none is: agent `k`.
    async fn resolve_away(&self, k: usize) -> usize {
        let away: Vec<usize> = self
            .agent_statuses()
            .await
            .iter()
            .enumerate()
            .filter(|(_, s)| *s == "away")
            .map(|(i, _)| i)
            .collect();
        if away.is_empty() {
            k % AGENTS
        } else {
            away[k % away.len()]
        }
    }

    fn ringing_at(&self, to: &str) -> Option<String> {
        self.cc
            .sim
            .ringing_for(to)
            .first()
            .map(|r| r.call_sid.clone())
    }

    /// Carries out one action; returns what happened, for the trace.
    async fn apply(&mut self, action: Action) -> String {
        let sim = self.cc.sim.clone();
        let (who, ringing) = match action {
            Action::Accept(w) | Action::Reject(w) | Action::RingOut(w) => (Some(w), true),
            Action::BrowserCrash(w)
            | Action::Hold(w, _)
            | Action::Mute(w, _)
            | Action::Transfer { by: w, .. }
            | Action::CompleteTransfer(w)
            | Action::CancelTransfer(w)
            | Action::Leave(w)
            | Action::HangUp(w)
            | Action::SetStatus(w, _) => (Some(w), false),
            _ => (None, false),
        };
        let agent = match (action, who) {
            (Action::SetStatus(Who::Fitting(k), _), _) => self.resolve_away(k).await,
            (
                Action::CompleteTransfer(Who::Fitting(k)) | Action::CancelTransfer(Who::Fitting(k)),
                _,
            ) => self.resolve_transferring(k).await,
            (_, Some(w)) => self.resolve(w, ringing),
            _ => 0,
        };
        let outcome = self.apply_as(action, agent, &sim).await;
        match who {
            Some(_) => format!("[agent{agent}] {outcome}"),
            None => outcome,
        }
    }

    async fn apply_as(&mut self, action: Action, i: usize, sim: &twilio_sim::Simulator) -> String {
        match action {
            Action::DialIn => {
                if self.live_customers().len() >= MAX_LIVE_CUSTOMERS {
                    return "enough customers already".into();
                }
                self.customers_dialed += 1;
                let from = format!("+1415555{:04}", 1000 + self.customers_dialed);
                sim.dial_in(&from)
            }
            Action::CustomerHangsUp(n) => {
                let live = self.live_customers();
                if live.is_empty() {
                    return "no customer".into();
                }
                let sid = &live[n % live.len()];
                format!("{sid}: {:?}", sim.hang_up(sid))
            }
            Action::Accept(_) | Action::Reject(_) | Action::RingOut(_) => {
                let Some(sid) = self.ringing_at(&self.agents[i].client()) else {
                    return "nothing rings".into();
                };
                let result = match action {
                    Action::Accept(_) => sim.accept(&sid),
                    Action::Reject(_) => sim.reject(&sid),
                    _ => sim.time_out(&sid),
                };
                format!("{sid}: {result:?}")
            }
            Action::PhoneAnswers | Action::PhoneRejects => {
                let Some(sid) = self.ringing_at(PHONE) else {
                    return "nothing rings".into();
                };
                let result = match action {
                    Action::PhoneAnswers => sim.accept(&sid),
                    _ => sim.reject(&sid),
                };
                format!("{sid}: {result:?}")
            }
            Action::PhoneHangsUp => {
                let snapshot = sim.snapshot();
                let Some(leg) = snapshot
                    .calls
                    .iter()
                    .find(|c| c.to == PHONE && c.status == SimStatus::InProgress)
                else {
                    return "no phone on a call".into();
                };
                // An outside number that owns the call (endConferenceOnExit) ends it: that is
                // the owner hanging up.
                if let Some(conference) = snapshot.conference_of(&leg.sid) {
                    if conference
                        .participant(&leg.sid)
                        .is_some_and(|p| p.end_conference_on_exit)
                    {
                        for p in &conference.participants {
                            self.may_end.insert(p.call_sid.clone());
                        }
                    }
                }
                format!("{}: {:?}", leg.sid, sim.hang_up(&leg.sid))
            }
            Action::BrowserCrash(_) => {
                let client = self.agents[i].client();
                let Some(leg) = sim
                    .snapshot()
                    .calls
                    .iter()
                    .find(|c| c.to == client && c.status == SimStatus::InProgress)
                    .map(|c| c.sid.clone())
                else {
                    return "no live leg".into();
                };
                format!("{leg}: {:?}", sim.hang_up(&leg))
            }
            Action::Hold(_, hold) => {
                let (id, call) = self.call_for(i).await;
                let pid = call
                    .as_ref()
                    .and_then(|c| {
                        c["participants"]
                            .as_array()?
                            .iter()
                            .find(|p| p["kind"] == "customer")
                    })
                    .and_then(|p| p["id"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let path = format!("/api/calls/{id}/participants/{pid}/hold");
                let (status, _) = self
                    .send(i, Method::POST, &path, json!({ "hold": hold }))
                    .await;
                format!("{status}")
            }
            Action::Mute(_, muted) => {
                let (id, call) = self.call_for(i).await;
                let me = self.agents[i].id.clone();
                let pid = call
                    .as_ref()
                    .and_then(|c| {
                        c["participants"]
                            .as_array()?
                            .iter()
                            .rev()
                            .find(|p| p["agent_id"] == me.as_str())
                    })
                    .and_then(|p| p["id"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let path = format!("/api/calls/{id}/participants/{pid}/mute");
                let (status, _) = self
                    .send(i, Method::POST, &path, json!({ "muted": muted }))
                    .await;
                format!("{status}")
            }
            Action::Transfer { cold, to, .. } => {
                let by = i;
                let (id, _) = self.call_for(by).await;
                let to = match to {
                    Target::AvailableAgent(k) => {
                        let available: Vec<usize> = self
                            .agent_statuses()
                            .await
                            .iter()
                            .enumerate()
                            .filter(|&(j, s)| j != by && s == "available")
                            .map(|(j, _)| j)
                            .collect();
                        Target::Agent(if available.is_empty() {
                            k % AGENTS
                        } else {
                            available[k % available.len()]
                        })
                    }
                    other => other,
                };
                let target = match to {
                    Target::Agent(j) | Target::AvailableAgent(j) => {
                        json!({ "agent_id": self.agents[j].id })
                    }
                    Target::Phone => json!({ "phone_number": PHONE }),
                };
                let mode = if cold { "cold" } else { "warm" };
                let (status, _) = self
                    .send(
                        by,
                        Method::POST,
                        &format!("/api/calls/{id}/transfers"),
                        json!({ "mode": mode, "target": target }),
                    )
                    .await;
                format!("to {to:?}: {status}")
            }
            Action::CompleteTransfer(_) | Action::CancelTransfer(_) => {
                let (id, call) = self.call_for(i).await;
                let transfer = call
                    .as_ref()
                    .and_then(|c| {
                        c["transfers"].as_array()?.iter().rev().find(|t| {
                            matches!(t["status"].as_str(), Some("dialing" | "consulting"))
                        })
                    })
                    .and_then(|t| t["id"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let verb = if matches!(action, Action::CompleteTransfer(_)) {
                    "complete"
                } else {
                    "cancel"
                };
                let path = format!("/api/calls/{id}/transfers/{transfer}/{verb}");
                let (status, _) = self.send(i, Method::POST, &path, json!({})).await;
                format!("{status}")
            }
            Action::Leave(_) => {
                let (id, call) = self.call_for(i).await;
                let me = self.agents[i].id.clone();
                let alone = call.as_ref().map(|c| {
                    let others = c["participants"].as_array().is_some_and(|ps| {
                        ps.iter().any(|p| {
                            p["kind"] != "customer"
                                && p["agent_id"] != me.as_str()
                                && matches!(
                                    p["status"].as_str(),
                                    Some("dialing" | "ringing" | "connected")
                                )
                        })
                    });
                    let transfer = c["transfers"].as_array().is_some_and(|ts| {
                        ts.iter()
                            .any(|t| matches!(t["status"].as_str(), Some("dialing" | "consulting")))
                    });
                    let legs: HashSet<String> = c["participants"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .filter(|p| p["agent_id"] == me.as_str())
                                .filter_map(|p| p["call_sid"].as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    (!others && !transfer, legs)
                });
                let (status, _) = self
                    .send(
                        i,
                        Method::POST,
                        &format!("/api/calls/{id}/leave"),
                        json!({}),
                    )
                    .await;
                if status == 204 {
                    if let Some((true, legs)) = alone {
                        self.left_alone.push((id, i, legs));
                    }
                }
                format!("{status}")
            }
            Action::HangUp(_) => {
                let (id, call) = self.call_for(i).await;
                let (status, _) = self
                    .send(
                        i,
                        Method::POST,
                        &format!("/api/calls/{id}/hangup"),
                        json!({}),
                    )
                    .await;
                if status < 300 || status == 502 {
                    let detail = match call {
                        Some(call) => call,
                        None => self.call_detail(&id).await,
                    };
                    if let Some(sid) = detail["customer_call_sid"].as_str() {
                        self.may_end.insert(sid.to_owned());
                    }
                }
                format!("{status}")
            }
            Action::SetStatus(_, status) => {
                let (code, _) = self
                    .send(
                        i,
                        Method::PUT,
                        "/api/me/status",
                        json!({ "status": status }),
                    )
                    .await;
                format!("{code}")
            }
            Action::DuplicateCallbacks(n) => {
                sim.duplicate_next_callbacks(n);
                String::new()
            }
            Action::ReorderCallbacks(n) => {
                sim.reorder_next_callbacks(n);
                String::new()
            }
            Action::LoseJoin => {
                sim.lose_next_callbacks("participant-join", None, 1);
                String::new()
            }
            Action::LoseCompleted => {
                sim.lose_next_callbacks("completed", None, 1);
                String::new()
            }
            Action::FailRest => {
                sim.fail_next_rest(1, 500);
                String::new()
            }
            Action::Wait(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                String::new()
            }
        }
    }

    async fn call_detail(&self, id: &str) -> Value {
        self.cc
            .app()
            .get(&format!("/api/calls/{id}"), Some(&self.admin))
            .await
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    /// Every call the app knows, in detail.
    async fn app_calls(&self) -> Vec<Value> {
        let page: Value = self
            .cc
            .app()
            .get("/api/calls?limit=200", Some(&self.admin))
            .await
            .json()
            .await
            .unwrap();
        let mut calls = Vec::new();
        for item in page["items"].as_array().unwrap() {
            calls.push(self.call_detail(item["id"].as_str().unwrap()).await);
        }
        calls
    }

    async fn agent_statuses(&self) -> Vec<String> {
        let mut statuses = Vec::new();
        for agent in &self.agents {
            statuses.push(self.cc.agent_status(agent).await);
        }
        statuses
    }

    /// Waits until the simulator has no callbacks in flight and its state stops changing.
    async fn quiesce(&self) {
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            let _ = self.cc.sim.settle(Duration::from_secs(4)).await;
            let before = self.cc.sim.snapshot().version;
            tokio::time::sleep(Duration::from_millis(150)).await;
            if self.cc.sim.pending_callbacks() == 0 && self.cc.sim.snapshot().version == before
                || Instant::now() > deadline
            {
                return;
            }
        }
    }

    /// Promises that must hold at every quiet moment (the simulator's state alone).
    fn check_always(&self, snapshot: &SimSnapshot) {
        // 1: a customer's call ends only by their own or an allowed hang-up.
        for call in snapshot
            .calls
            .iter()
            .filter(|c| c.direction == Direction::Inbound && c.status.is_final())
        {
            let by_customer = call
                .ended_by
                .as_deref()
                .is_some_and(|why| why.starts_with("caller hung up"));
            if !by_customer && !self.may_end.contains(&call.sid) {
                self.fail(
                    &format!(
                        "customer call {} ended ({:?}) though nobody hung up",
                        call.sid, call.ended_by
                    ),
                    snapshot,
                );
            }
        }
        for agent in &self.agents {
            let client = agent.client();
            // 2: one live leg per agent.
            let live = snapshot
                .calls
                .iter()
                .filter(|c| c.to == client && c.status == SimStatus::InProgress)
                .count();
            if live > 1 {
                self.fail(
                    &format!("{} has {live} live legs at once", agent.email),
                    snapshot,
                );
            }
        }
        // 6: no agent leg ends the conference.
        for conference in &snapshot.conferences {
            for p in &conference.participants {
                let is_agent = snapshot
                    .call(&p.call_sid)
                    .is_some_and(|c| c.to.starts_with("client:"));
                if is_agent && p.end_conference_on_exit {
                    self.fail(
                        &format!(
                            "agent leg {} carries endConferenceOnExit in {}",
                            p.call_sid, conference.sid
                        ),
                        snapshot,
                    );
                }
            }
        }
    }

    /// Promises the app must reach once things are quiet: `None` when they hold, else what is
    /// wrong.
    async fn eventual_violation(&self) -> Option<String> {
        let snapshot = self.cc.sim.snapshot();
        let calls = self.app_calls().await;
        let status_of = |sid: &str| snapshot.call(sid).map(|c| c.status);
        let mut problems = String::new();
        for call in &calls {
            let id = call["id"].as_str().unwrap_or_default();
            let customer_sid = call["customer_call_sid"].as_str().unwrap_or_default();
            let customer_over = status_of(customer_sid).is_none_or(SimStatus::is_final);
            let app_final = matches!(
                call["status"].as_str(),
                Some("completed" | "abandoned" | "failed")
            );
            let legs: Vec<&str> = call["participants"]
                .as_array()
                .map(|ps| ps.iter().filter_map(|p| p["call_sid"].as_str()).collect())
                .unwrap_or_default();
            // 3: no leg rings for a call that is over.
            if customer_over || app_final {
                for leg in &legs {
                    if status_of(leg) == Some(SimStatus::Ringing) {
                        let _ = writeln!(
                            problems,
                            "leg {leg} rings for call {id}, which is over (customer {customer_sid} {:?}, app {})",
                            status_of(customer_sid),
                            call["status"]
                        );
                    }
                }
            }
            // 4: the app closes a call whose Twilio calls are over, and never one that is not.
            let any_live = legs
                .iter()
                .any(|leg| status_of(leg).is_some_and(|s| !s.is_final()));
            if customer_over && !any_live && !app_final {
                let _ = writeln!(
                    problems,
                    "call {id} is {} in the app though all its Twilio calls are over",
                    call["status"]
                );
            }
            if app_final && !customer_over {
                let _ = writeln!(
                    problems,
                    "call {id} is {} in the app but its customer {customer_sid} is still on the line",
                    call["status"]
                );
            }
        }
        // 5: available only with no live leg.
        for (agent, status) in self.agents.iter().zip(self.agent_statuses().await) {
            if status != "available" {
                continue;
            }
            let client = agent.client();
            if let Some(leg) = snapshot
                .calls
                .iter()
                .find(|c| c.to == client && !c.status.is_final())
            {
                let _ = writeln!(
                    problems,
                    "{} is available with a live leg {} ({:?})",
                    agent.email, leg.sid, leg.status
                );
            }
        }
        (!problems.is_empty()).then_some(problems)
    }

    /// An agent who left a call alone is not offered it again (only a transfer brings them back).
    async fn check_not_offered_again(&self) {
        for (call_id, agent, legs) in &self.left_alone {
            let call = self.call_detail(call_id).await;
            let targets: HashSet<&str> = call["transfers"]
                .as_array()
                .map(|ts| {
                    ts.iter()
                        .filter_map(|t| t["target_participant_id"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let me = self.agents[*agent].id.as_str();
            let offered = call["participants"].as_array().and_then(|ps| {
                ps.iter().find(|p| {
                    p["agent_id"] == me
                        && !targets.contains(p["id"].as_str().unwrap_or_default())
                        && !p["call_sid"].as_str().is_some_and(|sid| legs.contains(sid))
                })
            });
            if let Some(p) = offered {
                self.fail(
                    &format!(
                        "agent{agent} left call {call_id} alone and was offered it again: {p}"
                    ),
                    &self.cc.sim.snapshot(),
                );
            }
        }
    }

    async fn check(&self) {
        self.quiesce().await;
        self.check_always(&self.cc.sim.snapshot());
        let deadline = Instant::now() + EVENTUALLY;
        loop {
            match self.eventual_violation().await {
                None => break,
                Some(problems) if Instant::now() > deadline => {
                    self.fail(
                        &format!("not settled within {EVENTUALLY:?}:\n{problems}"),
                        &self.cc.sim.snapshot(),
                    );
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        self.check_not_offered_again().await;
        // Still true once the app caught up.
        self.check_always(&self.cc.sim.snapshot());
    }
}

/// Runs one case from `seed` with `steps` random actions, checking after each.
async fn run_case(seed: u64, steps: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let actions: Vec<Action> = (0..steps)
        .map(|i| {
            if i == 0 {
                Action::DialIn
            } else {
                generate(&mut rng)
            }
        })
        .collect();
    run_actions(seed, &actions).await;
}

async fn run_actions(seed: u64, actions: &[Action]) {
    eprintln!("call-engine case: CALL_ENGINE_SEED={seed}");
    let mut report = ReportOnPanic {
        seed,
        trace: Vec::new(),
    };
    let mut case = Case::start(seed).await;
    let started = Instant::now();
    for (step, action) in actions.iter().enumerate() {
        report.trace.push(format!(
            "  {step:>3} {:>6.1}s {action:?} ...",
            started.elapsed().as_secs_f64()
        ));
        let outcome = case.apply(*action).await;
        if let Some(line) = report.trace.last_mut() {
            line.truncate(line.len() - 3);
            line.push_str(&format!("-> {outcome}"));
        }
        case.check().await;
    }
    eprintln!(
        "call-engine case {seed}: {} steps in {:.1}s\n{}",
        actions.len(),
        started.elapsed().as_secs_f64(),
        report.trace.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_interleavings_keep_every_promise() {
    if let Ok(seed) = std::env::var("CALL_ENGINE_SEED") {
        let seed = seed.trim().parse().expect("CALL_ENGINE_SEED is a u64");
        let steps = env_number("CALL_ENGINE_STEPS", 40) as usize;
        run_case(seed, steps).await;
        return;
    }
    let cases = env_number("CALL_ENGINE_CASES", 3);
    let steps = env_number("CALL_ENGINE_STEPS", 40) as usize;
    let base: u64 = rand::random();
    for case in 0..cases {
        run_case(base.wrapping_add(case), steps).await;
    }
}
