//! The benchmark's routing run at small scale: two instances on one database, more callers than
//! agents, and agents' browsers that pick up a moment after they start ringing, as a person
//! waiting for the call does. An agent leg rings out only when its ring is shorter than the
//! browser's pick-up time; each ring-out sets the agent away and offers the call a second time.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use twilio_sim::{CallStatus, ConferenceStatus, Direction, Endpoint};

use crate::voice::{Agent, CallCenter};

/// A person waiting for a call picks up within a second.
const PICK_UP: Duration = Duration::from_millis(600);

struct RunFigures {
    served: usize,
    /// Agent legs that ended `no-answer`.
    ring_outs: usize,
    /// Conferences (calls) that more than one agent leg was dialed for.
    offered_twice: usize,
    /// Agent legs dialed in all.
    legs: usize,
}

/// The agent's browser picks up `after` it starts ringing.
fn picks_up(cc: &CallCenter, agent: &Agent, after: Duration) {
    cc.sim.set_endpoint(
        &agent.client(),
        Endpoint::Answer {
            after_ms: after.as_millis() as u64,
        },
    );
}

/// Dials `callers` customers in at once; each hangs up as soon as an agent joined them.
async fn routing_run(cc: &CallCenter, agents: &[&Agent], callers: usize) -> RunFigures {
    let clients: HashSet<String> = agents.iter().map(|a| a.client()).collect();
    let rung_out = |snap: &twilio_sim::SimSnapshot| {
        snap.calls
            .iter()
            .filter(|c| {
                c.direction == Direction::OutboundApi
                    && clients.contains(&c.to)
                    && c.status == CallStatus::NoAnswer
            })
            .count()
    };
    let rung_out_before = rung_out(&cc.sim.snapshot());
    let mut waiting: HashSet<String> = (0..callers)
        .map(|i| cc.sim.dial_in(&format!("+1202555{i:04}")))
        .collect();
    let mut served = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !waiting.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} callers still waiting after 60 s",
            waiting.len()
        );
        let snap = cc.sim.snapshot();
        let agent_legs: HashSet<&str> = snap
            .calls
            .iter()
            .filter(|c| c.direction == Direction::OutboundApi && clients.contains(&c.to))
            .map(|c| c.sid.as_str())
            .collect();
        for conference in &snap.conferences {
            if conference.status == ConferenceStatus::Completed
                || !conference
                    .participants
                    .iter()
                    .any(|p| agent_legs.contains(p.call_sid.as_str()))
            {
                continue;
            }
            for p in &conference.participants {
                if waiting.remove(&p.call_sid) {
                    served += 1;
                    cc.sim.hang_up(&p.call_sid).unwrap();
                }
            }
        }
        for sid in waiting.clone() {
            assert!(
                !snap.call(&sid).is_some_and(|c| c.status.is_final()),
                "caller {sid} was dropped"
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Legs end a moment after their ring runs out: let the last ones report.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ring_outs = rung_out(&cc.sim.snapshot()) - rung_out_before;
    let mut legs_per_conference: HashMap<String, usize> = HashMap::new();
    for record in cc.sim.rest_log() {
        if record.operation.as_deref() != Some("CreateCall")
            || !record.param("To").is_some_and(|to| clients.contains(to))
        {
            continue;
        }
        let url = url::Url::parse(record.param("Url").unwrap()).unwrap();
        let (_, conference) = url
            .query_pairs()
            .find(|(k, _)| k == "conference")
            .expect("an agent leg's URL names its conference");
        *legs_per_conference
            .entry(conference.into_owned())
            .or_default() += 1;
    }
    RunFigures {
        served,
        ring_outs,
        offered_twice: legs_per_conference.values().filter(|&&n| n > 1).count(),
        legs: legs_per_conference.values().sum(),
    }
}

/// What the benchmark used to do: its simulator ran a hundred times fast, ring timeouts
/// included, so the servers' 20 s ring lasted 0.2 s, shorter than a person takes to pick up.
/// Agents then ring out although they answer at once by any human measure, each ring-out sets
/// the agent away, and their call is offered again. Rung for the real ring timeout, the same
/// browsers take every call at the first offer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_that_pick_up_within_a_second_ring_out_only_on_a_ring_shorter_than_that() {
    let cc = CallCenter::start_with(2, |_| {}).await;
    let (ana, ben) = (cc.agent("ana", true).await, cc.agent("ben", true).await);

    // The cause: a 20 s ring scaled down to 0.2 s. Ana (idle longest, so rung first) picks up
    // like a person; Ben's browser picks up the instant it rings.
    cc.sim.set_time_scale(0.01);
    picks_up(&cc, &ana, PICK_UP);
    picks_up(&cc, &ben, Duration::ZERO);
    let squeezed = routing_run(&cc, &[&ana, &ben], 1).await;
    assert_eq!(squeezed.served, 1);
    assert_eq!(
        (squeezed.ring_outs, squeezed.offered_twice, squeezed.legs),
        (1, 1, 2),
        "Ana's ring ran out before she picked up; the call went to Ben"
    );
    cc.status_until(&ana, "away").await;
    cc.status_until(&ben, "available").await;
    cc.set_status(&ana, "available").await;
    cc.sim.clear_logs();

    // The ring as Twilio rings it: 20 s, three rounds of callers onto two agents.
    cc.sim.set_time_scale(1.0);
    picks_up(&cc, &ben, PICK_UP);
    let run = routing_run(&cc, &[&ana, &ben], 6).await;
    assert_eq!(run.served, 6);
    assert_eq!(run.ring_outs, 0, "no agent leg rings out");
    assert_eq!(
        run.offered_twice, 0,
        "no call is offered twice ({} agent legs for 6 calls)",
        run.legs
    );
}
