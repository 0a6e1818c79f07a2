//! Graceful shutdown. On SIGTERM (or Ctrl-C) an instance drains: `/readyz` answers 503 at once
//! so a proxy or Kubernetes stops sending it work, and every response carries
//! `Connection: close`. `SHUTDOWN_DELAY_SECONDS` later (time for the health checks to notice)
//! the listener closes: new connections are refused (a proxy retries them on another
//! instance), requests in flight finish, live-event streams end cleanly (the SPA reconnects, to
//! another instance, and refetches what it shows) and the router stops between passes. Once
//! the HTTP server is done the callback inbox stores what it kept in memory and stops, and the
//! Twilio requests already decided are carried out. All of it within `SHUTDOWN_GRACE_SECONDS`;
//! then the process exits 0.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Shared by everything that must act when the instance drains.
#[derive(Clone, Default)]
pub struct Shutdown {
    /// Cancelled when draining starts (SIGTERM).
    draining: CancellationToken,
    /// Cancelled when the listener closes, `SHUTDOWN_DELAY_SECONDS` later.
    closing: CancellationToken,
    /// Cancelled once the HTTP server has answered its last request.
    stopping: CancellationToken,
    /// Work started by a request or a callback that must finish before the process exits
    /// (Twilio requests decided in a committed transaction).
    tasks: TaskTracker,
    /// When draining started.
    began_at: Arc<OnceLock<Instant>>,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts draining. Idempotent.
    pub fn begin(&self) {
        self.began_at.get_or_init(Instant::now);
        self.draining.cancel();
    }

    /// What is left of `grace` since draining started (all of it before), but at least
    /// `floor`: the last steps get a moment even when the HTTP drain used the whole grace.
    pub fn time_left(&self, grace: Duration, floor: Duration) -> Duration {
        let spent = self.began_at.get().map_or(Duration::ZERO, Instant::elapsed);
        grace.saturating_sub(spent).max(floor)
    }

    pub fn is_draining(&self) -> bool {
        self.draining.is_cancelled()
    }

    /// Resolves when draining starts.
    pub async fn draining(&self) {
        self.draining.cancelled().await
    }

    /// The listener closes: live-event streams end, the router stops.
    pub(crate) fn close(&self) {
        self.begin();
        self.closing.cancel();
    }

    pub fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// Resolves when the listener closes.
    pub async fn closing(&self) {
        self.closing.cancelled().await
    }

    /// The HTTP server is done: the loops that served it may stop.
    pub(crate) fn server_stopped(&self) {
        self.close();
        self.stopping.cancel();
    }

    /// Whether the HTTP server is done.
    pub fn stopping_now(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Resolves once the HTTP server is done (after draining).
    pub async fn stopping(&self) {
        self.stopping.cancelled().await
    }

    /// Runs `work` in the background; the process waits for it before exiting.
    pub fn spawn<F>(&self, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(work);
    }

    /// Waits (at most `limit`) for the background work started through [`Shutdown::spawn`];
    /// returns whether all of it finished.
    pub async fn finish_tasks(&self, limit: Duration) -> bool {
        self.tasks.close();
        tokio::time::timeout(limit, self.tasks.wait()).await.is_ok()
    }
}

/// Resolves at the first SIGTERM or SIGINT, naming it.
#[cfg(unix)]
pub async fn termination_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT; the server stops only when killed");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(not(unix))]
pub async fn termination_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn draining_starts_once_and_wakes_every_waiter() {
        let shutdown = Shutdown::new();
        assert!(!shutdown.is_draining());
        let waiter = tokio::spawn({
            let s = shutdown.clone();
            async move { s.draining().await }
        });
        shutdown.begin();
        shutdown.begin();
        assert!(shutdown.is_draining());
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("the waiter wakes")
            .unwrap();
    }

    #[tokio::test]
    async fn background_work_is_waited_for_within_the_limit_only() {
        let shutdown = Shutdown::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        shutdown.spawn(async move {
            let _ = rx.await;
        });
        assert!(!shutdown.finish_tasks(Duration::from_millis(50)).await);
        tx.send(()).unwrap();
        assert!(shutdown.finish_tasks(Duration::from_secs(1)).await);
    }

    #[test]
    fn the_time_left_counts_from_the_start_of_draining_down_to_a_floor() {
        let shutdown = Shutdown::new();
        let grace = Duration::from_secs(20);
        let floor = Duration::from_secs(1);
        assert_eq!(shutdown.time_left(grace, floor), grace);
        shutdown.begin();
        let left = shutdown.time_left(grace, floor);
        assert!(left <= grace && left > Duration::from_secs(19), "{left:?}");
        assert_eq!(shutdown.time_left(Duration::ZERO, floor), floor);
    }

    #[tokio::test]
    async fn a_stopped_server_also_means_draining_and_closing() {
        let shutdown = Shutdown::new();
        shutdown.begin();
        assert!(!shutdown.is_closing());
        shutdown.server_stopped();
        assert!(shutdown.is_draining() && shutdown.is_closing());
        tokio::time::timeout(Duration::from_secs(1), shutdown.stopping())
            .await
            .expect("stopping resolves");
    }
}
