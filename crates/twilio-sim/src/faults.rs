//! Faults a test (or the demo) switches on at runtime, to prove the backend copes with what the
//! real Twilio does on a bad day: slow or failing REST calls, requests that time out after they
//! took effect, slow webhooks, and status callbacks that arrive twice or out of order.
//!
//! Counters ("the next N") are consumed one request or callback at a time, so a test can say
//! exactly which request fails and then watch the client's retry succeed.

use serde::{Deserialize, Serialize};

/// The fault settings. Every field defaults to "no fault"; JSON bodies on `PUT /sim/faults` may
/// give only the fields they change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Added before every REST response.
    pub rest_latency_ms: u64,
    /// The next N REST requests fail with `fail_status` before doing anything.
    pub fail_next_rest: u32,
    /// 500, 503 or 429 (429 comes with `Retry-After: 1`). Other values are used as given.
    pub fail_status: u16,
    /// The next N REST requests take effect, but their response is held back `timeout_ms`
    /// (longer than the client waits): the client cannot tell whether they happened.
    pub timeout_next_rest: u32,
    pub timeout_ms: u64,
    /// Added before every webhook the simulator sends (TwiML fetches and callbacks).
    pub webhook_latency_ms: u64,
    /// The next N status callbacks (call progress or conference) are delivered twice.
    pub duplicate_next_callbacks: u32,
    /// The next N status callbacks are held back and then delivered in reverse order (so, e.g.,
    /// `participant-leave` arrives before `participant-join`). A batch that does not fill up is
    /// released after `reorder_max_hold_ms`.
    pub reorder_next_callbacks: u32,
    pub reorder_max_hold_ms: u64,
    /// The next N `waitUrl` fetches fail as if the app were unreachable (Twilio error 11205),
    /// without reaching it. Twilio then drops the waiting participant ("the Conference will not
    /// be fully established") and the call goes on after its `<Dial>`.
    pub fail_next_wait_urls: u32,
    /// The next N requests for a call's TwiML (the number's voice URL, a call's `Url`) fail as if
    /// the app were unreachable (Twilio error 11205): Twilio then requests the fallback URL.
    pub fail_next_voice_urls: u32,
    /// Status callbacks lost on the way: the app never sees them (a network failure that
    /// Twilio's default retry policy does not cover once the connection was made).
    pub lose_callbacks: Vec<LoseCallbacks>,
}

/// Lose the next `count` status callbacks for `event` (a conference event such as
/// `participant-join`, or a call progress status such as `completed`), only those about
/// `call_sid` when it is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoseCallbacks {
    pub event: String,
    #[serde(default)]
    pub call_sid: Option<String>,
    pub count: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            rest_latency_ms: 0,
            fail_next_rest: 0,
            fail_status: 500,
            timeout_next_rest: 0,
            timeout_ms: 0,
            webhook_latency_ms: 0,
            duplicate_next_callbacks: 0,
            reorder_next_callbacks: 0,
            reorder_max_hold_ms: 2_000,
            lose_callbacks: Vec::new(),
            fail_next_wait_urls: 0,
            fail_next_voice_urls: 0,
        }
    }
}

/// What to do with one REST request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestFault {
    None,
    /// Answer with this status without processing.
    Fail(u16),
    /// Process, then hold the response back this long.
    Timeout(u64),
}

impl Faults {
    /// Consumes the fault (if any) for the next REST request.
    pub fn take_rest_fault(&mut self) -> RestFault {
        if self.fail_next_rest > 0 {
            self.fail_next_rest -= 1;
            return RestFault::Fail(self.fail_status);
        }
        if self.timeout_next_rest > 0 {
            self.timeout_next_rest -= 1;
            return RestFault::Timeout(self.timeout_ms);
        }
        RestFault::None
    }

    /// Whether a status callback for `event` about `call_sid` is lost; consumes the matching rule.
    pub fn take_loss(&mut self, event: Option<&str>, call_sid: Option<&str>) -> bool {
        let Some(event) = event else {
            return false;
        };
        let rule = self.lose_callbacks.iter_mut().find(|rule| {
            rule.count > 0
                && rule.event == event
                && rule
                    .call_sid
                    .as_deref()
                    .is_none_or(|sid| Some(sid) == call_sid)
        });
        match rule {
            Some(rule) => {
                rule.count -= 1;
                self.lose_callbacks.retain(|rule| rule.count > 0);
                true
            }
            None => false,
        }
    }

    /// Consumes one "this voice URL fetch fails" slot.
    pub fn take_voice_url_failure(&mut self) -> bool {
        if self.fail_next_voice_urls > 0 {
            self.fail_next_voice_urls -= 1;
            true
        } else {
            false
        }
    }

    /// Consumes one "this waitUrl fetch fails" slot.
    pub fn take_wait_url_failure(&mut self) -> bool {
        if self.fail_next_wait_urls > 0 {
            self.fail_next_wait_urls -= 1;
            true
        } else {
            false
        }
    }

    /// Consumes one "deliver twice" slot.
    pub fn take_duplicate(&mut self) -> bool {
        if self.duplicate_next_callbacks > 0 {
            self.duplicate_next_callbacks -= 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_faults_are_consumed_in_order() {
        let mut faults = Faults {
            fail_next_rest: 2,
            fail_status: 503,
            timeout_next_rest: 1,
            timeout_ms: 50,
            ..Faults::default()
        };
        assert_eq!(faults.take_rest_fault(), RestFault::Fail(503));
        assert_eq!(faults.take_rest_fault(), RestFault::Fail(503));
        assert_eq!(faults.take_rest_fault(), RestFault::Timeout(50));
        assert_eq!(faults.take_rest_fault(), RestFault::None);
    }

    #[test]
    fn partial_json_keeps_defaults() {
        let faults: Faults = serde_json::from_str(r#"{"fail_next_rest": 1}"#).unwrap();
        assert_eq!(faults.fail_status, 500);
        assert_eq!(faults.fail_next_rest, 1);
        assert_eq!(faults.reorder_max_hold_ms, 2_000);
    }

    #[test]
    fn duplicates_are_counted() {
        let mut faults = Faults {
            duplicate_next_callbacks: 1,
            ..Faults::default()
        };
        assert!(faults.take_duplicate());
        assert!(!faults.take_duplicate());
    }

    #[test]
    fn losses_match_event_and_call_and_are_used_up() {
        let mut faults = Faults {
            lose_callbacks: vec![LoseCallbacks {
                event: "participant-join".into(),
                call_sid: Some("CA1".into()),
                count: 1,
            }],
            ..Faults::default()
        };
        assert!(!faults.take_loss(Some("participant-join"), Some("CA2")));
        assert!(!faults.take_loss(Some("participant-leave"), Some("CA1")));
        assert!(!faults.take_loss(None, Some("CA1")));
        assert!(faults.take_loss(Some("participant-join"), Some("CA1")));
        assert!(!faults.take_loss(Some("participant-join"), Some("CA1")));
        assert!(faults.lose_callbacks.is_empty());
    }

    #[test]
    fn wait_url_failures_are_counted() {
        let mut faults: Faults = serde_json::from_str(r#"{"fail_next_wait_urls": 2}"#).unwrap();
        assert!(faults.take_wait_url_failure());
        assert!(faults.take_wait_url_failure());
        assert!(!faults.take_wait_url_failure());
    }
}
