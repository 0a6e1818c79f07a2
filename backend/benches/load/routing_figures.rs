//! The routing run's figures next to their targets: dial-to-agent against the theoretical
//! queueing bound, and the counts whose target is zero.

use std::time::Duration;

/// How close dial-to-agent must come to the theoretical bound (issue 12).
pub const BOUND_SLACK: Duration = Duration::from_millis(50);

/// The least time each caller can wait for an agent when `calls` callers dial in at once onto
/// `agents` agents who each talk `talk` per call: the first `agents` callers reach one at once,
/// the next `agents` after one talk time, and so on (talk time × rounds waited). Sorted.
pub fn queueing_bounds(calls: usize, agents: usize, talk: Duration) -> Vec<Duration> {
    let agents = agents.max(1);
    (0..calls)
        .map(|i| talk * u32::try_from(i / agents).unwrap_or(u32::MAX))
        .collect()
}

/// Rounds of calls the agents work through (the last caller waits `rounds - 1` talk times).
pub fn rounds(calls: usize, agents: usize) -> usize {
    calls.div_ceil(agents.max(1))
}

/// One dial-to-agent percentile against the bound at the same percentile.
pub fn against_bound(label: &str, measured: Duration, bound: Duration) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let over = ms(measured) - ms(bound);
    let ratio = if bound.is_zero() {
        "—".to_owned()
    } else {
        format!("{:.3}×", ms(measured) / ms(bound))
    };
    format!(
        "  dial to agent {label:<5} {:>8.0} ms   bound {:>6.0} ms, target ≤ bound + {} ms   \
         {:+.0} ms over the bound, {ratio} the bound ({})",
        ms(measured),
        ms(bound),
        BOUND_SLACK.as_millis(),
        over,
        super::verdict(measured <= bound + BOUND_SLACK),
    )
}

/// A count whose target is zero, with its share of `of`.
pub fn zero_target(label: &str, count: usize, of: usize, what: &str) -> String {
    format!(
        "  {label:<19} {count:>8}   target 0 ({}); {:.3} per {what}",
        super::verdict(count == 0),
        count as f64 / of.max(1) as f64,
    )
}
