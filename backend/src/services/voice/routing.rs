//! The router: offers the longest-waiting call to the longest-idle available agent.
//!
//! Both rows are taken with `FOR UPDATE SKIP LOCKED`, so any number of backend instances can run
//! the router against one database and no agent is ever booked twice.

use std::time::Duration;

use super::callbacks::in_transaction;
use super::decide::{self, decide};
use super::VoiceEngine;
use crate::db::{self, DbError};
use crate::domain::agent::AgentStatus;
use crate::domain::engine::Input;
use crate::services::{ServiceError, ServiceResult};

/// How often the router looks at the queue without being woken (covers agents freed by
/// another instance).
const TICK: Duration = Duration::from_millis(500);

/// How often the router looks for connected legs due for a check with Twilio (each leg is
/// checked at most once per `live_leg_check_every`).
const LIVE_CHECK_PASS: Duration = Duration::from_secs(10);

/// Offers made at once at most (a quarter of the connection pool, at least one).
const ROUTERS_AT_ONCE: usize = 4;

/// How long the router lets wake-ups gather before a pass.
const COALESCE: Duration = Duration::from_millis(20);

/// How long an agent may sit in wrap-up or reserved with no leg in progress before the router
/// assumes a callback was lost and frees them.
const STUCK_AFTER_SECS: i64 = 30;

impl VoiceEngine {
    /// Runs until the draining instance closes its listener; a pass in progress finishes first (its transactions
    /// commit, and the Twilio requests they decided are carried out before the process exits).
    pub async fn run_router(self) {
        // Changes made by other instances (an agent freed, a call queued) arrive as events.
        let mut changes = self.events().subscribe();
        // Looked for at start (a restart may have lost callbacks), then every stale-leg period.
        let mut last_adoption: Option<std::time::Instant> = None;
        let mut last_live_check: Option<std::time::Instant> = None;
        let mut last_upkeep: Option<std::time::Instant> = None;
        while !self.shutdown().is_closing() {
            self.route_queue().await;
            // The safety nets look for what went wrong a while ago: once per tick is enough,
            // and under a burst of wake-ups running them on every pass only takes the database
            // from the webhooks and the routing itself.
            if last_upkeep.is_none_or(|at| at.elapsed() >= TICK) {
                last_upkeep = Some(std::time::Instant::now());
                self.upkeep(&mut last_adoption, &mut last_live_check).await;
            }
            tokio::select! {
                _ = self.inner.router_wakeup.notified() => {}
                _ = changes.recv() => {}
                _ = tokio::time::sleep(TICK) => {}
                _ = self.shutdown().closing() => break,
            }
            // Under a burst every call and change wakes the router; one pass per short interval
            // routes them all, instead of a pass (and its queries) per wake-up.
            tokio::time::sleep(COALESCE).await;
            while changes.try_recv().is_ok() {}
        }
    }

    /// The router's safety nets: stuck agents, stale legs, conferences we do not know, legs
    /// whose end was lost, callers who never arrived.
    async fn upkeep(
        &self,
        last_adoption: &mut Option<std::time::Instant>,
        last_live_check: &mut Option<std::time::Instant>,
    ) {
        if let Err(e) = self.release_stuck_agents().await {
            tracing::warn!(error = %e, "could not release stuck agents");
        }
        if let Err(e) = self.release_finished_wrap_ups().await {
            tracing::warn!(error = %e, "could not end wrap-ups whose time is over");
        }
        if let Err(e) = self.reconcile_stale_legs().await {
            tracing::warn!(error = %e, "could not reconcile stale legs");
        }
        if last_adoption.is_none_or(|at| at.elapsed() >= self.settings().stale_leg_after) {
            *last_adoption = Some(std::time::Instant::now());
            if let Err(e) = self.adopt_unknown_conferences().await {
                tracing::warn!(error = %e, "could not look for live conferences we do not know");
            }
        }
        let live_check_pass = self.settings().live_leg_check_every.min(LIVE_CHECK_PASS);
        if last_live_check.is_none_or(|at| at.elapsed() >= live_check_pass) {
            *last_live_check = Some(std::time::Instant::now());
            if let Err(e) = self.verify_connected_legs().await {
                tracing::warn!(error = %e, "could not check connected legs");
            }
        }
        if let Err(e) = self.abandon_calls_without_their_caller().await {
            tracing::warn!(error = %e, "could not close calls whose caller never arrived");
        }
    }

    /// Offers queued calls until none is left or no agent is free. Several offers are made at
    /// once (each locks its own call and agent, skipping those another holds), so a burst of
    /// freed agents is not served one database round trip after another.
    async fn route_queue(&self) {
        let routers = (self.pool().status().max_size / 4).clamp(1, ROUTERS_AT_ONCE);
        futures_util::future::join_all((0..routers).map(|_| async {
            loop {
                match self.route_next().await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "routing failed; retrying shortly");
                        break;
                    }
                }
            }
        }))
        .await;
    }

    /// Safety net for lost callbacks: an agent held in wrap-up or reserved with no leg in
    /// progress for a while goes back to available.
    async fn release_stuck_agents(&self) -> ServiceResult<()> {
        in_transaction!(self, |conn, out| {
            for agent in
                db::routing::stuck_agents(conn, chrono::Duration::seconds(STUCK_AFTER_SECS)).await?
            {
                tracing::warn!(%agent, "releasing an agent whose last leg never reported its end");
                decide::set_agent_status(conn, agent, AgentStatus::Available, out).await?;
            }
            Ok::<_, ServiceError>(())
        });
        Ok(())
    }

    /// The wrap-up clock: agents whose wrap-up time is over go back to available (see
    /// [`crate::services::presence::release_due_wrap_ups`]). Driven by this loop's tick and
    /// the database's `wrap_up_until`, so it survives restarts and runs on every instance.
    async fn release_finished_wrap_ups(&self) -> ServiceResult<()> {
        let freed = crate::services::presence::release_due_wrap_ups(self.pool()).await?;
        for agent in &freed {
            tracing::info!(%agent, "wrap-up over");
            self.events().publish(crate::events::Topic::Agent(*agent));
        }
        if !freed.is_empty() {
            self.wake_router();
        }
        Ok(())
    }

    /// A caller who hangs up between the voice webhook and their `<Dial>` never reaches the
    /// conference, and nothing reports it; but a caller whose join callback was lost looks the
    /// same to us. So once a caller is late past the join timeout, Twilio is asked: a call it
    /// says is over is abandoned (a late join reopens it), a caller it has in the conference is
    /// recorded as joined, and anything else waits.
    async fn abandon_calls_without_their_caller(&self) -> ServiceResult<()> {
        let grace =
            chrono::Duration::from_std(self.settings().customer_join_timeout).unwrap_or_default();
        let customers = {
            let mut conn = self.pool().get().await.map_err(DbError::from)?;
            db::routing::callers_not_in_their_conference(&mut conn, grace).await?
        };
        for customer in customers {
            self.reconcile_if_due(&customer).await;
        }
        Ok(())
    }

    /// Books one agent for one queued call and dials them. Returns whether it did.
    pub async fn route_next(&self) -> ServiceResult<bool> {
        let routed = in_transaction!(self, |conn, out| {
            if !db::routing::any_agent_available(conn).await? {
                return Ok::<_, ServiceError>(false);
            }
            let Some(call) = db::routing::lock_next_queued_call(conn).await? else {
                return Ok(false);
            };
            let Some(agent_id) = db::routing::lock_agent_for(conn, &call).await? else {
                return Ok(false);
            };
            let agent = db::agents::find(conn, agent_id)
                .await?
                .ok_or(DbError::Corrupt("agent vanished".into()))?;
            let offer = Input::Offer {
                agent_id,
                leg_id: uuid::Uuid::new_v4(),
                dial_to: agent.client_identity.dial_address(),
            };
            decide(conn, call, &[agent_id], offer, out).await?;
            Ok(true)
        });
        Ok(routed)
    }
}
