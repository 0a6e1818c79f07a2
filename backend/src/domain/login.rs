//! Failed sign-ins: how long the next attempt must wait.
//!
//! Failures count per (email, client address), so a stranger guessing at an account slows down
//! only their own attempts, never the owner's from elsewhere. Each failure past the free ones
//! doubles the wait, up to a cap: guessing stays slow without a hard lock anyone can trigger.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Failures allowed before any wait.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; each further one doubles it.
    pub base: Duration,
    /// The longest wait, however many failures.
    pub max: Duration,
}

impl BackoffPolicy {
    /// The wait after the latest of `failures` recent failures before another attempt is judged.
    pub fn delay_after(&self, failures: u32) -> Duration {
        let Some(past_free) = failures.checked_sub(self.free_failures) else {
            return Duration::ZERO;
        };
        // 2^31 times any base already exceeds every sensible cap; stop doubling there.
        let factor = 1u32 << past_free.min(31);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The policy for one address's failures across every email: four times the free
    /// failures (a shared office address mistypes too), the same doubling and cap.
    pub fn for_address(&self) -> BackoffPolicy {
        BackoffPolicy {
            free_failures: self.free_failures.saturating_mul(4),
            ..*self
        }
    }

    /// How long from now an attempt must still wait, given the recent failures and how long ago
    /// the latest of them was; zero when it may go ahead.
    pub fn wait(&self, failures: u32, since_latest: Duration) -> Duration {
        self.delay_after(failures).saturating_sub(since_latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            free_failures: 3,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_free_failures_cost_nothing() {
        for failures in 0..3 {
            assert_eq!(policy().delay_after(failures), Duration::ZERO, "{failures}");
        }
    }

    #[test]
    fn each_failure_past_the_free_ones_doubles_the_wait() {
        let delays: Vec<u64> = (3..=8).map(|n| policy().delay_after(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32]);
    }

    #[test]
    fn the_wait_is_capped_however_many_failures() {
        assert_eq!(policy().delay_after(9), Duration::from_secs(60));
        assert_eq!(policy().delay_after(40), Duration::from_secs(60));
        assert_eq!(policy().delay_after(u32::MAX), Duration::from_secs(60));
        let huge = BackoffPolicy {
            base: Duration::from_secs(u64::MAX / 2),
            max: Duration::MAX,
            ..policy()
        };
        assert_eq!(huge.delay_after(u32::MAX), Duration::MAX, "no overflow");
    }

    #[test]
    fn an_address_gets_four_times_the_free_failures() {
        let address = policy().for_address();
        assert_eq!(address.delay_after(11), Duration::ZERO);
        assert_eq!(address.delay_after(12), Duration::from_secs(1));
        assert_eq!(address.max, policy().max);
    }

    #[test]
    fn time_since_the_latest_failure_counts_towards_the_wait() {
        let p = policy();
        assert_eq!(p.wait(5, Duration::from_secs(1)), Duration::from_secs(3));
        assert_eq!(p.wait(5, Duration::from_secs(4)), Duration::ZERO);
        assert_eq!(p.wait(5, Duration::from_secs(400)), Duration::ZERO);
        assert_eq!(p.wait(2, Duration::ZERO), Duration::ZERO);
    }
}
