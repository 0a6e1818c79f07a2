//! After-call work and presence reasons: wrap-up settings and the rules that end or extend a
//! wrap-up, disposition codes and notes, and why an agent is away. Pure: the time is an input.
//!
//! A wrap-up that runs out while a required disposition is missing does not end: the agent stays
//! in wrap-up (and is told) until they file one, as Twilio Flex and Amazon Connect keep an agent
//! in after-call work until it is complete. Wrap-up seconds 0 turns wrap-up off altogether (the
//! agent is available as soon as their call is over), and with it the disposition requirement.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::agent::AgentStatus;
use super::ValidationError;

/// The longest wrap-up (and extension) an admin may set: 30 minutes.
pub const MAX_WRAP_UP_SECONDS: u32 = 1800;
/// The longest call notes, in characters.
pub const MAX_NOTES_CHARS: usize = 2000;

/// How wrap-up works, as an admin set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrapUpSettings {
    /// How long an agent stays in wrap-up after a call; 0 turns wrap-up off.
    pub seconds: u32,
    /// How much longer an agent may ask for, once per wrap-up; 0: no extension.
    pub extension_seconds: u32,
    /// Whether an agent must file a disposition before being available again.
    pub require_disposition: bool,
}

impl Default for WrapUpSettings {
    fn default() -> Self {
        Self {
            seconds: 0,
            extension_seconds: 60,
            require_disposition: false,
        }
    }
}

impl WrapUpSettings {
    pub fn parse(
        seconds: i64,
        extension_seconds: i64,
        require_disposition: bool,
    ) -> Result<Self, ValidationError> {
        let bounded = |field: &'static str, v: i64| {
            u32::try_from(v)
                .ok()
                .filter(|v| *v <= MAX_WRAP_UP_SECONDS)
                .ok_or_else(|| {
                    ValidationError::new(
                        field,
                        format!("must be between 0 and {MAX_WRAP_UP_SECONDS} seconds"),
                    )
                })
        };
        Ok(Self {
            seconds: bounded("wrap_up_seconds", seconds)?,
            extension_seconds: bounded("extension_seconds", extension_seconds)?,
            require_disposition,
        })
    }

    pub fn enabled(&self) -> bool {
        self.seconds > 0
    }
}

/// A code in an admin-managed list (dispositions, away reasons): 1-40 lower-case letters,
/// digits or underscores.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code(String);

impl Code {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let ok = !raw.is_empty()
            && raw.len() <= 40
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new(
                field,
                "must be 1-40 lower-case letters, digits or underscores",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The label shown for a code: 1-100 characters, no control characters.
pub fn parse_label(raw: &str) -> Result<String, ValidationError> {
    let label = raw.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(ValidationError::new("label", "must be 1-100 characters"));
    }
    if label.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "label",
            "must not contain control characters",
        ));
    }
    Ok(label.to_owned())
}

/// Free-text notes on a call: at most [`MAX_NOTES_CHARS`] characters; line breaks and tabs are
/// fine, other control characters are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notes(String);

impl Notes {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.chars().count() > MAX_NOTES_CHARS {
            return Err(ValidationError::new(
                "notes",
                format!("must be at most {MAX_NOTES_CHARS} characters"),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ValidationError::new(
                "notes",
                "must not contain control characters (other than line breaks and tabs)",
            ));
        }
        Ok(Self(raw.trim_end().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why the system (not the agent) set an agent away. Not in the admin-managed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemAwayReason {
    /// A call rang out (no answer) or could not reach the agent's browser.
    MissedCall,
    /// The agent declined (rejected) a call.
    DeclinedCall,
}

impl SystemAwayReason {
    pub const ALL: [SystemAwayReason; 2] = [Self::MissedCall, Self::DeclinedCall];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissedCall => "missed_call",
            Self::DeclinedCall => "declined_call",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::MissedCall => "Missed a call",
            Self::DeclinedCall => "Declined a call",
        }
    }

    pub fn is_system(code: &str) -> bool {
        Self::ALL.iter().any(|r| r.as_str() == code)
    }
}

impl fmt::Display for SystemAwayReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent's wrap-up as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrapUp {
    /// When it ends; `None` for a wrap-up with no time set (wrap-up was off when it began: it
    /// lasts only until the agent's line is clear).
    pub until: Option<DateTime<Utc>>,
    pub extended: bool,
    /// Whether the call wrapped up has a disposition (or there is no call to file).
    pub disposed: bool,
    /// Whether a leg of the agent's may still be live in Twilio.
    pub live_leg: bool,
}

/// What is asked of a wrap-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapUpRequest {
    /// The agent is done early.
    Finish,
    /// The agent needs more time (once).
    Extend,
    /// Time passes (the background tick).
    Tick,
}

/// What becomes of a wrap-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapUpMove {
    /// Over: the agent is available.
    Available,
    /// Goes on until this time; the one extension is used.
    ExtendTo(DateTime<Utc>),
    /// Goes on as it is.
    Stay,
    /// The time is over but a required disposition is missing: the agent stays in wrap-up
    /// until they file one.
    AwaitingDisposition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WrapUpRefusal {
    #[error("you are not in wrap-up")]
    NotInWrapUp,
    #[error("choose a disposition for the call before finishing wrap-up")]
    DispositionRequired,
    #[error("your call is still ending; try again in a moment")]
    StillOnCall,
    #[error("wrap-up can be extended only once")]
    AlreadyExtended,
    #[error("wrap-up extensions are turned off")]
    NoExtension,
}

/// Decides what a request means for an agent's wrap-up at `now`.
pub fn decide_wrap_up(
    status: AgentStatus,
    wrap_up: WrapUp,
    settings: &WrapUpSettings,
    request: WrapUpRequest,
    now: DateTime<Utc>,
) -> Result<WrapUpMove, WrapUpRefusal> {
    let in_wrap_up = status == AgentStatus::WrapUp;
    let disposition_missing = settings.require_disposition && !wrap_up.disposed;
    match request {
        WrapUpRequest::Tick => Ok(match wrap_up.until {
            _ if !in_wrap_up => WrapUpMove::Stay,
            // Untimed wrap-ups end when the line is clear (the call engine and the stuck-agent
            // safety net see to it).
            None => WrapUpMove::Stay,
            Some(until) if until > now || wrap_up.live_leg => WrapUpMove::Stay,
            Some(_) if disposition_missing => WrapUpMove::AwaitingDisposition,
            Some(_) => WrapUpMove::Available,
        }),
        WrapUpRequest::Finish => {
            if !in_wrap_up {
                Err(WrapUpRefusal::NotInWrapUp)
            } else if disposition_missing {
                Err(WrapUpRefusal::DispositionRequired)
            } else if wrap_up.live_leg {
                Err(WrapUpRefusal::StillOnCall)
            } else {
                Ok(WrapUpMove::Available)
            }
        }
        WrapUpRequest::Extend => {
            let until = match wrap_up.until {
                Some(until) if in_wrap_up => until,
                _ => return Err(WrapUpRefusal::NotInWrapUp),
            };
            if wrap_up.extended {
                Err(WrapUpRefusal::AlreadyExtended)
            } else if settings.extension_seconds == 0 {
                Err(WrapUpRefusal::NoExtension)
            } else {
                Ok(WrapUpMove::ExtendTo(
                    until.max(now) + Duration::seconds(settings.extension_seconds.into()),
                ))
            }
        }
    }
}

/// Who asks to file a call's disposition, and how they stand to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispositionActor {
    Admin,
    /// An agent whose leg joined the call.
    Handler {
        /// Their leg is still in the call (or the call is still live for them).
        on_the_call: bool,
        /// They are in wrap-up for this very call.
        wrapping_it_up: bool,
    },
    /// An agent who never handled the call.
    Stranger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DispositionRefusal {
    #[error("only an agent who handled the call, or a supervisor, may file its disposition")]
    NotYourCall,
    #[error("the wrap-up for this call is over; only an admin may change its disposition now")]
    WindowClosed,
}

/// Whether `actor` may file (or change) the call's disposition. Agents who handled the call may
/// during the call and their wrap-up, and file one the call still lacks afterwards; changing
/// one after that is for admins.
pub fn may_file_disposition(
    actor: DispositionActor,
    already_filed: bool,
) -> Result<(), DispositionRefusal> {
    match actor {
        DispositionActor::Admin => Ok(()),
        DispositionActor::Stranger => Err(DispositionRefusal::NotYourCall),
        DispositionActor::Handler {
            on_the_call,
            wrapping_it_up,
        } => {
            if on_the_call || wrapping_it_up || !already_filed {
                Ok(())
            } else {
                Err(DispositionRefusal::WindowClosed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn settings(require: bool) -> WrapUpSettings {
        WrapUpSettings {
            seconds: 30,
            extension_seconds: 60,
            require_disposition: require,
        }
    }

    fn wrap(until: i64) -> WrapUp {
        WrapUp {
            until: Some(t(until)),
            extended: false,
            disposed: false,
            live_leg: false,
        }
    }

    const W: AgentStatus = AgentStatus::WrapUp;

    #[test]
    fn settings_are_bounded() {
        assert!(WrapUpSettings::parse(0, 0, false).is_ok());
        assert!(WrapUpSettings::parse(1800, 1800, true).is_ok());
        for (s, e) in [(-1, 0), (1801, 0), (0, -5), (0, 1801)] {
            assert!(WrapUpSettings::parse(s, e, false).is_err(), "{s} {e}");
        }
        assert_eq!(
            WrapUpSettings::parse(1801, 0, false).unwrap_err().field,
            "wrap_up_seconds"
        );
        assert!(!WrapUpSettings::default().enabled());
    }

    #[test]
    fn finishing_needs_a_required_disposition_and_a_clear_line() {
        let s = settings(true);
        let w = wrap(30);
        assert_eq!(
            decide_wrap_up(W, w, &s, WrapUpRequest::Finish, t(1)),
            Err(WrapUpRefusal::DispositionRequired)
        );
        let disposed = WrapUp {
            disposed: true,
            ..w
        };
        assert_eq!(
            decide_wrap_up(W, disposed, &s, WrapUpRequest::Finish, t(1)),
            Ok(WrapUpMove::Available)
        );
        let live = WrapUp {
            live_leg: true,
            ..disposed
        };
        assert_eq!(
            decide_wrap_up(W, live, &s, WrapUpRequest::Finish, t(1)),
            Err(WrapUpRefusal::StillOnCall)
        );
        assert_eq!(
            decide_wrap_up(AgentStatus::Available, w, &s, WrapUpRequest::Finish, t(1)),
            Err(WrapUpRefusal::NotInWrapUp)
        );
        // Not required: finishing at once is fine.
        assert_eq!(
            decide_wrap_up(W, w, &settings(false), WrapUpRequest::Finish, t(1)),
            Ok(WrapUpMove::Available)
        );
    }

    #[test]
    fn extending_works_once_and_from_the_later_of_now_and_the_end() {
        let s = settings(false);
        assert_eq!(
            decide_wrap_up(W, wrap(30), &s, WrapUpRequest::Extend, t(10)),
            Ok(WrapUpMove::ExtendTo(t(90)))
        );
        assert_eq!(
            decide_wrap_up(W, wrap(30), &s, WrapUpRequest::Extend, t(50)),
            Ok(WrapUpMove::ExtendTo(t(110)))
        );
        let extended = WrapUp {
            extended: true,
            ..wrap(90)
        };
        assert_eq!(
            decide_wrap_up(W, extended, &s, WrapUpRequest::Extend, t(10)),
            Err(WrapUpRefusal::AlreadyExtended)
        );
        let none = WrapUpSettings {
            extension_seconds: 0,
            ..s
        };
        assert_eq!(
            decide_wrap_up(W, wrap(30), &none, WrapUpRequest::Extend, t(10)),
            Err(WrapUpRefusal::NoExtension)
        );
        let untimed = WrapUp {
            until: None,
            ..wrap(0)
        };
        assert_eq!(
            decide_wrap_up(W, untimed, &s, WrapUpRequest::Extend, t(10)),
            Err(WrapUpRefusal::NotInWrapUp)
        );
        assert_eq!(
            decide_wrap_up(
                AgentStatus::Busy,
                wrap(30),
                &s,
                WrapUpRequest::Extend,
                t(10)
            ),
            Err(WrapUpRefusal::NotInWrapUp)
        );
    }

    #[test]
    fn time_running_out_frees_the_agent_unless_a_disposition_is_missing_or_the_line_is_live() {
        let s = settings(false);
        let tick = |w, s: &WrapUpSettings, now| decide_wrap_up(W, w, s, WrapUpRequest::Tick, now);
        assert_eq!(tick(wrap(30), &s, t(29)), Ok(WrapUpMove::Stay));
        assert_eq!(tick(wrap(30), &s, t(30)), Ok(WrapUpMove::Available));
        let live = WrapUp {
            live_leg: true,
            ..wrap(30)
        };
        assert_eq!(tick(live, &s, t(99)), Ok(WrapUpMove::Stay));
        assert_eq!(
            tick(wrap(30), &settings(true), t(31)),
            Ok(WrapUpMove::AwaitingDisposition)
        );
        let disposed = WrapUp {
            disposed: true,
            ..wrap(30)
        };
        assert_eq!(
            tick(disposed, &settings(true), t(31)),
            Ok(WrapUpMove::Available)
        );
        let untimed = WrapUp {
            until: None,
            ..wrap(0)
        };
        assert_eq!(tick(untimed, &s, t(99)), Ok(WrapUpMove::Stay));
        assert_eq!(
            decide_wrap_up(AgentStatus::Away, wrap(0), &s, WrapUpRequest::Tick, t(99)),
            Ok(WrapUpMove::Stay)
        );
    }

    #[test]
    fn dispositions_are_filed_by_handlers_in_their_window_and_by_admins() {
        use DispositionActor::*;
        assert_eq!(
            may_file_disposition(Stranger, false),
            Err(DispositionRefusal::NotYourCall)
        );
        assert!(may_file_disposition(Admin, true).is_ok());
        let after = Handler {
            on_the_call: false,
            wrapping_it_up: false,
        };
        assert!(may_file_disposition(after, false).is_ok());
        assert_eq!(
            may_file_disposition(after, true),
            Err(DispositionRefusal::WindowClosed)
        );
        for (on_the_call, wrapping_it_up) in [(true, false), (false, true)] {
            assert!(may_file_disposition(
                Handler {
                    on_the_call,
                    wrapping_it_up
                },
                true
            )
            .is_ok());
        }
    }

    #[test]
    fn codes_labels_and_notes_are_checked() {
        assert!(Code::parse("code", "follow_up2").is_ok());
        for bad in ["", "Follow", "a b", "a-b", &"x".repeat(41)] {
            assert!(Code::parse("code", bad).is_err(), "{bad}");
        }
        assert_eq!(parse_label("  Lunch ").unwrap(), "Lunch");
        assert!(parse_label(" ").is_err());
        assert!(parse_label("a\u{7}b").is_err());
        assert!(Notes::parse("line one\nline two\tok").is_ok());
        assert!(Notes::parse(&"é".repeat(MAX_NOTES_CHARS)).is_ok());
        assert_eq!(
            Notes::parse(&"x".repeat(MAX_NOTES_CHARS + 1))
                .unwrap_err()
                .message,
            "must be at most 2000 characters"
        );
        assert!(Notes::parse("bell\u{7}").is_err());
        assert!(Notes::parse("nul\0").is_err());
        assert!(SystemAwayReason::is_system("missed_call"));
        assert!(!SystemAwayReason::is_system("lunch"));
    }
}
