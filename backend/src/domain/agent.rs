//! Agents: who they are, what they may do, and which presence states they move through.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes calls.
    Agent,
    /// Takes calls, and watches and steps into everyone's calls (the live board, monitor,
    /// whisper, barge, call actions); does not manage the team or the settings.
    Supervisor,
    /// Everything a supervisor does, plus managing agents and settings.
    Admin,
}

impl Role {
    /// Sees every live call, the board, and may monitor and act on any call.
    pub fn may_supervise(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }

    /// Manages agents and settings.
    pub fn may_manage(self) -> bool {
        self == Role::Admin
    }
}

/// Presence. Agents choose `available`, `away` or `offline`; the router and the call flow move them
/// through `reserved` (ringing), `busy` (on a call) and `wrap_up`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Offline,
    Available,
    Reserved,
    Busy,
    WrapUp,
    Away,
}

/// The presence states an agent may pick by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelectableStatus {
    Available,
    Away,
    Offline,
}

impl From<SelectableStatus> for AgentStatus {
    fn from(s: SelectableStatus) -> Self {
        match s {
            SelectableStatus::Available => AgentStatus::Available,
            SelectableStatus::Away => AgentStatus::Away,
            SelectableStatus::Offline => AgentStatus::Offline,
        }
    }
}

/// Generates the explicit string mapping used by the database and by logs.
macro_rules! string_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }
        }
        impl FromStr for $ty {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(<$ty>::$variant),)+
                    other => Err(ValidationError::new(stringify!($ty), format!("unknown value {other:?}"))),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use string_enum;

string_enum!(Role { Agent => "agent", Supervisor => "supervisor", Admin => "admin" });
string_enum!(AgentStatus {
    Offline => "offline",
    Available => "available",
    Reserved => "reserved",
    Busy => "busy",
    WrapUp => "wrap_up",
    Away => "away",
});

impl AgentStatus {
    /// Whether an agent in this state is handling a call, so presence changes by hand must wait.
    pub fn is_engaged(self) -> bool {
        matches!(self, AgentStatus::Reserved | AgentStatus::Busy)
    }
}

/// A normalised (lower-case, trimmed) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// The longest address SMTP can carry (RFC 5321), in bytes.
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        let err = |m: &str| ValidationError::new("email", m.to_owned());
        if email.len() > Self::MAX_LEN {
            return Err(err("is longer than 254 characters"));
        }
        let (local, domain) = email.split_once('@').ok_or_else(|| err("must contain @"))?;
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if local.is_empty()
            || local.len() > 64
            || local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@')
            || !domain_ok
        {
            return Err(err("is not a valid email address"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown to colleagues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ValidationError::new("display_name", "must not be empty"));
        }
        if name.chars().count() > 100 {
            return Err(ValidationError::new(
                "display_name",
                "must be at most 100 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "display_name",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Twilio Client identity an agent's browser registers under (`client:<identity>`). Kept to
/// letters, digits and underscore: Twilio allows no spaces or delimiters there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientIdentity(String);

impl ClientIdentity {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new(
                "client_identity",
                format!("must be 1-{} letters, digits or underscores", Self::MAX_LEN),
            ))
        }
    }

    /// Derives an identity from an email: `Ana.Lopez@x.com` → `ana_lopez`, plus a short random
    /// suffix so two agents with the same local part never collide.
    pub fn derive_from_email(email: &Email, suffix: &str) -> Self {
        let local = email.as_str().split('@').next().unwrap_or_default();
        let mut base: String = local
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(40)
            .collect();
        if base.is_empty() {
            base.push_str("agent");
        }
        let suffix: String = suffix
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(8)
            .collect();
        Self(format!("{base}_{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where Twilio rings this agent's browser: the `To` of a call to the Voice SDK.
    pub fn dial_address(&self) -> String {
        format!("client:{}", self.0)
    }
}

/// A password as typed; never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 10;
    /// The longest password a sign-in may send, in bytes. New passwords are at most 256
    /// characters (up to 1024 bytes of UTF-8), so no real password is longer; anything longer
    /// is refused before it is hashed.
    pub const MAX_SIGN_IN_BYTES: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(ValidationError::new(
                "password",
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        if len > 256 {
            return Err(ValidationError::new(
                "password",
                "must be at most 256 characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_text() {
        for s in AgentStatus::ALL {
            assert_eq!(s.as_str().parse::<AgentStatus>().unwrap(), *s);
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
        }
        assert!("ringing".parse::<AgentStatus>().is_err());
    }

    #[test]
    fn supervisors_supervise_and_only_admins_manage() {
        assert!(!Role::Agent.may_supervise() && !Role::Agent.may_manage());
        assert!(Role::Supervisor.may_supervise() && !Role::Supervisor.may_manage());
        assert!(Role::Admin.may_supervise() && Role::Admin.may_manage());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ana.Lopez@Example.COM ").unwrap().as_str(),
            "ana.lopez@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a na@example.com",
            "ana@exa mple.com",
            "a\0na@example.com",
            "a\u{7}na@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_identities_allow_no_delimiters() {
        assert!(ClientIdentity::parse("agent_7f3a").is_ok());
        assert_eq!(
            ClientIdentity::parse("agent_7f3a").unwrap().dial_address(),
            "client:agent_7f3a"
        );
        for bad in [
            "",
            "ana lopez",
            "ana.lopez@example.com",
            "a:b",
            "a-b",
            &"x".repeat(65),
        ] {
            assert!(ClientIdentity::parse(bad).is_err(), "{bad}");
        }
        let email = Email::parse("ana.lopez+support@example.com").unwrap();
        let derived = ClientIdentity::derive_from_email(&email, "a1b2c3");
        assert_eq!(derived.as_str(), "ana_lopez_support_a1b2c3");
        assert!(ClientIdentity::parse(derived.as_str()).is_ok());
    }

    #[test]
    fn passwords_have_a_minimum_length_and_never_print() {
        assert!(Password::parse("short").is_err());
        let p = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ana  ").unwrap().as_str(), "Ana");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
    }
}

/// An agent as the rest of the system sees it: parsed, typed, no password hash.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: uuid::Uuid,
    pub email: Email,
    pub display_name: DisplayName,
    pub role: Role,
    pub client_identity: ClientIdentity,
    pub status: AgentStatus,
    pub status_changed_at: chrono::DateTime<chrono::Utc>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub presence: PresenceDetails,
}

/// What goes with the agent's current status (cleared whenever it changes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceDetails {
    /// Away: the reason's code (one of the admin-managed reasons, or a system reason such as
    /// `missed_call`).
    pub away_reason: Option<String>,
    /// Set away by the system: who called (the call they missed or declined).
    pub missed_call_from: Option<String>,
    /// Wrap-up: the call wrapped up and until when.
    pub wrap_up_call_id: Option<uuid::Uuid>,
    pub wrap_up_until: Option<chrono::DateTime<chrono::Utc>>,
    pub wrap_up_extended: bool,
}

impl Agent {
    /// Manages agents and settings.
    pub fn is_admin(&self) -> bool {
        self.role.may_manage()
    }

    /// Watches and steps into any call (supervisors and admins).
    pub fn may_supervise(&self) -> bool {
        self.role.may_supervise()
    }
}
