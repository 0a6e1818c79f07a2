//! Periodic clean-up of rows that can no longer matter: expired sessions and failed sign-ins
//! older than the lockout window. Without it both tables only grow (a password-guessing flood
//! leaves a row per guess).

use std::time::Duration;

use chrono::Utc;

use crate::db::{self, DbError, DbPool};
use crate::services::ServiceResult;
use crate::shutdown::Shutdown;

/// How often the clean-up runs.
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// What one run deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: usize,
    pub login_failures: usize,
}

/// Deletes expired sessions and failed sign-ins older than `login_window`.
pub async fn prune(pool: &DbPool, login_window: Duration) -> ServiceResult<Pruned> {
    let now = Utc::now();
    let window = chrono::Duration::from_std(login_window).unwrap_or(chrono::Duration::MAX);
    let failures_before = now.checked_sub_signed(window).unwrap_or(now);
    let mut conn = pool.get().await.map_err(DbError::from)?;
    let (sessions, login_failures) = db::sessions::prune(&mut conn, now, failures_before).await?;
    Ok(Pruned {
        sessions,
        login_failures,
    })
}

/// Runs `prune` every `PRUNE_EVERY` until the instance drains. Several instances may run it at
/// once: deletes of the same old rows are harmless.
pub async fn run(pool: DbPool, login_window: Duration, shutdown: Shutdown) {
    while !shutdown.is_closing() {
        match prune(&pool, login_window).await {
            Ok(p) if p.sessions + p.login_failures > 0 => {
                tracing::info!(
                    sessions = p.sessions,
                    login_failures = p.login_failures,
                    "pruned expired sessions and old failed sign-ins"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning sessions failed; retrying later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.closing() => {}
        }
    }
}
