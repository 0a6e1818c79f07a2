//! The engine's edge: loads a call's snapshot under its row lock, asks the pure core
//! ([`crate::domain::engine`]) what an input means, and stores the decision. What is to happen
//! after commit (Twilio requests, live events, a router wake-up) is collected in an [`Outcome`].

use chrono::Utc;
use uuid::Uuid;

use crate::db::{self, DbError, PgConn};
use crate::domain::agent::AgentStatus;
use crate::domain::call::Call;
use crate::domain::engine::{
    self, AgentView, CallSnapshot, Change, Decision, Effect, Input, Refusal,
};
use crate::events::Topic;
use crate::services::{ServiceError, ServiceResult};

/// What a transaction decided should happen once it commits.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub effects: Vec<Effect>,
    pub topics: Vec<Topic>,
    pub wake_router: bool,
    /// Calls adopted from a conference callback, which names neither party: their caller's
    /// and dialed numbers are asked of Twilio once the adoption is committed.
    pub adopted: Vec<(Uuid, crate::domain::call::CallSid)>,
}

impl Outcome {
    pub fn changed_call(&mut self, call_id: Uuid) {
        self.topics.push(Topic::Call(call_id));
        self.topics.push(Topic::Queue);
    }

    fn take(&mut self, call_id: Uuid, decision: &mut Decision) {
        self.effects.append(&mut decision.effects);
        for change in &decision.changes {
            match change {
                Change::Agent { id, .. }
                | Change::WrapUpStarted { agent_id: id, .. }
                | Change::AwayBecause { agent_id: id, .. } => self.topics.push(Topic::Agent(*id)),
                _ => {}
            }
        }
        if decision.call_changed {
            self.changed_call(call_id);
        }
        self.wake_router |= decision.wake_router;
    }
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Forbidden(message) => ServiceError::Forbidden(message),
            Refusal::NotFound(what) => ServiceError::NotFound(what),
            Refusal::Conflict(message) => ServiceError::Conflict(message),
        }
    }
}

/// Everything a decision about `call` may look at, read in the caller's transaction (which
/// holds the call's row lock). `more_agents` are agents the input names besides those on the
/// call (a transfer target, an agent being offered the call).
pub(crate) async fn load_snapshot(
    conn: &mut PgConn,
    call: Call,
    more_agents: &[Uuid],
) -> Result<CallSnapshot, DbError> {
    let participants = db::calls::participants_of(conn, call.id).await?;
    let transfers = db::calls::transfers_of(conn, call.id).await?;
    let on_call: Vec<Uuid> = participants.iter().filter_map(|p| p.agent_id).collect();
    let wrap_up = db::presence::load_settings(conn).await?.settings;
    let mut snapshot = CallSnapshot {
        call,
        participants,
        transfers,
        agents: Vec::new(),
        now: Utc::now(),
        wrap_up_seconds: wrap_up.seconds,
    };
    add_agents(conn, &mut snapshot, &on_call).await?;
    add_agents(conn, &mut snapshot, more_agents).await?;
    Ok(snapshot)
}

/// Adds these agents (those not in it yet) to a call's snapshot.
pub(crate) async fn add_agents(
    conn: &mut PgConn,
    snapshot: &mut CallSnapshot,
    ids: &[Uuid],
) -> Result<(), DbError> {
    let mut ids: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| snapshot.agent(*id).is_none())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let live_elsewhere =
        db::routing::agents_with_live_legs(conn, &ids, Some(snapshot.call.id)).await?;
    for id in ids {
        if let Some(agent) = db::agents::find(conn, id).await? {
            snapshot.agents.push(AgentView {
                id,
                status: agent.status,
                active: agent.active,
                live_elsewhere: live_elsewhere.contains(&id),
            });
        }
    }
    Ok(())
}

/// Stores a decision's changes and timeline in the order decided, and adds what is to happen
/// after commit to `out`. Returns the state after the decision.
pub(crate) async fn store(
    conn: &mut PgConn,
    mut decision: Decision,
    out: &mut Outcome,
) -> Result<CallSnapshot, DbError> {
    let call_id = decision.state.call.id;
    for change in &decision.changes {
        match change {
            Change::Call(update) => {
                db::calls::update_call(conn, call_id, update.into()).await?;
            }
            Change::Leg { id, update } => {
                db::calls::update_participant(conn, *id, update.into()).await?;
            }
            Change::NewLeg(leg) => db::calls::insert_leg(conn, leg).await?,
            Change::NewTransfer(transfer) => db::calls::insert_transfer(conn, transfer).await?,
            Change::Transfer { id, status, end } => {
                db::calls::set_transfer_status(conn, *id, *status, *end).await?;
            }
            Change::Agent { id, from, to } => {
                if !db::agents::move_status(conn, *id, *from, *to).await? {
                    tracing::info!(agent = %id, %from, %to, "an agent's status changed meanwhile; kept");
                }
            }
            Change::WrapUpStarted {
                agent_id,
                call_id,
                until,
            } => {
                db::presence::start_wrap_up(conn, *agent_id, *call_id, *until).await?;
            }
            Change::AwayBecause {
                agent_id,
                reason,
                from_number,
                ..
            } => {
                db::presence::set_away_because(conn, *agent_id, *reason, from_number).await?;
            }
        }
    }
    for event in &decision.timeline {
        db::calls::record_event(conn, call_id, event, None).await?;
    }
    out.take(call_id, &mut decision);
    Ok(decision.state)
}

/// Loads the locked call's snapshot, decides what `input` means and stores it: the one way a
/// call changes.
pub(crate) async fn decide(
    conn: &mut PgConn,
    call: Call,
    more_agents: &[Uuid],
    input: Input,
    out: &mut Outcome,
) -> ServiceResult<CallSnapshot> {
    let snapshot = load_snapshot(conn, call, more_agents).await?;
    let decision = engine::decide(snapshot, input)?;
    Ok(store(conn, decision, out).await?)
}

/// Sets an agent's status outside any call's decision (the stuck-agent safety net).
pub(crate) async fn set_agent_status(
    conn: &mut PgConn,
    agent_id: Uuid,
    status: AgentStatus,
    out: &mut Outcome,
) -> Result<(), DbError> {
    db::agents::set_status(conn, agent_id, status).await?;
    out.topics.push(Topic::Agent(agent_id));
    if status == AgentStatus::Available {
        out.wake_router = true;
    }
    Ok(())
}
