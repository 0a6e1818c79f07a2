//! Prometheus metrics at `/metrics`: HTTP requests by route and status (with latency), plus
//! the contact center's own gauges, sampled from the database.

use std::time::Duration;

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use prometheus::{IntGauge, IntGaugeVec, Opts};

use crate::db::schema::{agents, calls};
use crate::db::DbPool;
use crate::domain::agent::AgentStatus;

const SAMPLE_EVERY: Duration = Duration::from_secs(5);

pub struct Metrics {
    pub http: PrometheusMetrics,
    agents_by_status: IntGaugeVec,
    calls_waiting: IntGauge,
    calls_live: IntGauge,
    inbox_backlog: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let http = PrometheusMetricsBuilder::new("warm_transfer")
            .endpoint("/metrics")
            // Unknown paths are one label value, not one per URL anybody tries.
            .mask_unmatched_patterns("UNMATCHED")
            .build()?;
        let agents_by_status = IntGaugeVec::new(
            Opts::new("warm_transfer_agents", "Active agents by presence status"),
            &["status"],
        )?;
        let calls_waiting = IntGauge::new(
            "warm_transfer_calls_waiting",
            "Calls queued or ringing an agent",
        )?;
        let calls_live = IntGauge::new(
            "warm_transfer_calls_in_progress",
            "Calls connected to an agent",
        )?;
        http.registry.register(Box::new(agents_by_status.clone()))?;
        http.registry.register(Box::new(calls_waiting.clone()))?;
        let inbox_backlog = IntGauge::new(
            "warm_transfer_callback_inbox_backlog",
            "Twilio callbacks stored and not yet processed",
        )?;
        http.registry.register(Box::new(calls_live.clone()))?;
        http.registry.register(Box::new(inbox_backlog.clone()))?;
        Ok(Self {
            http,
            agents_by_status,
            calls_waiting,
            calls_live,
            inbox_backlog,
        })
    }

    /// Refreshes the gauges in the background for as long as the process runs.
    pub fn spawn_sampler(&self, pool: DbPool) {
        let gauges = Gauges {
            agents_by_status: self.agents_by_status.clone(),
            waiting: self.calls_waiting.clone(),
            live: self.calls_live.clone(),
            inbox_backlog: self.inbox_backlog.clone(),
        };
        tokio::spawn(async move {
            loop {
                if let Err(e) = sample(&pool, &gauges).await {
                    tracing::debug!(error = %e, "metrics sample failed");
                }
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
        });
    }
}

struct Gauges {
    agents_by_status: IntGaugeVec,
    waiting: IntGauge,
    live: IntGauge,
    inbox_backlog: IntGauge,
}

async fn sample(pool: &DbPool, g: &Gauges) -> Result<(), crate::db::DbError> {
    let mut conn = pool.get().await?;
    let counts: Vec<(String, i64)> = agents::table
        .filter(agents::active.eq(true))
        .group_by(agents::status)
        .select((agents::status, diesel::dsl::count_star()))
        .load(&mut conn)
        .await?;
    for status in AgentStatus::ALL {
        let n = counts
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        g.agents_by_status
            .with_label_values(&[status.as_str()])
            .set(n);
    }
    let count_in = async |conn: &mut crate::db::DbConn,
                          statuses: &[&str]|
           -> Result<i64, crate::db::DbError> {
        Ok(calls::table
            .filter(calls::status.eq_any(statuses))
            .count()
            .get_result(conn)
            .await?)
    };
    g.waiting
        .set(count_in(&mut conn, &["queued", "ringing"]).await?);
    g.live.set(count_in(&mut conn, &["in_progress"]).await?);
    g.inbox_backlog
        .set(crate::db::inbox::backlog(&mut conn).await?);
    Ok(())
}
