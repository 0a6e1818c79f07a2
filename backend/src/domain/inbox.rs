//! The kinds of Twilio callback the inbox holds.

use std::fmt;
use std::str::FromStr;

use super::agent::string_enum;
use super::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackKind {
    /// The number's voice webhook, kept while the database was down.
    IncomingCall,
    /// Call progress of a leg we placed.
    LegStatus,
    /// A conference event.
    Conference,
}

string_enum!(CallbackKind {
    IncomingCall => "incoming_call",
    LegStatus => "leg_status",
    Conference => "conference",
});

/// How many times a callback is tried before it is set aside as failed.
pub const MAX_ATTEMPTS: i32 = 8;

/// When to try a callback again after its `attempts`th failure: 1 s, 2 s, 4 s … capped at a
/// minute; `None` once it has failed `MAX_ATTEMPTS` times.
pub fn retry_after(attempts: i32) -> Option<std::time::Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let secs = 1u64 << attempts.clamp(0, 6) as u32;
    Some(std::time::Duration::from_secs(secs.min(60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop() {
        assert_eq!(retry_after(0), Some(std::time::Duration::from_secs(1)));
        assert_eq!(retry_after(1), Some(std::time::Duration::from_secs(2)));
        assert_eq!(retry_after(6), Some(std::time::Duration::from_secs(60)));
        assert_eq!(retry_after(7), Some(std::time::Duration::from_secs(60)));
        assert_eq!(retry_after(MAX_ATTEMPTS), None);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in CallbackKind::ALL {
            assert_eq!(kind.as_str().parse::<CallbackKind>(), Ok(*kind));
        }
    }
}
