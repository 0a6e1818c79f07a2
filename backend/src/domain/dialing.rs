//! The dialing policy: which outside numbers a transfer may dial, who may dial them, and how
//! often. A guard against toll fraud: a stolen agent session must not be able to pump calls to
//! premium or satellite ranges, or abroad, at our expense.
//!
//! [`check`] is the whole decision, free of storage and HTTP; the caller supplies the policy,
//! the home country and the recent dial counts read from the database.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use phonenumber::metadata::DATABASE;
use phonenumber::Type;

use super::agent::Role;
use super::phone::PhoneNumber;
use super::ValidationError;

/// Ranges whose calls cost far more than a normal call, refused unless a policy allows them
/// explicitly: ITU international premium rate (+979) and shared cost (+808), satellite and
/// global networks (+870 Inmarsat, +881 GMSS, +882/+883 international networks), and North
/// American premium rate (+1 900, +1 976).
pub const PREMIUM_PREFIXES: &[&str] = &[
    "+808", "+870", "+881", "+882", "+883", "+979", "+1900", "+1976",
];

/// Dials counted against the per-agent limit: those of the past hour.
pub const AGENT_WINDOW: Duration = Duration::hours(1);

const MAX_PREFIXES: usize = 200;
const MAX_COUNTRY_CODES: usize = 300;
pub const MAX_DIALS_PER_AGENT_PER_HOUR: u32 = 1000;
pub const MAX_DIALS_PER_CALL: u32 = 100;
pub const DEFAULT_DIALS_PER_AGENT_PER_HOUR: u32 = 10;
pub const DEFAULT_DIALS_PER_CALL: u32 = 3;

/// A country calling code (`1` for North America, `44` for the UK, `882` for international
/// networks), one that the numbering plan assigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallingCode(u16);

impl CallingCode {
    pub fn new(code: u32) -> Result<Self, ValidationError> {
        let known = u16::try_from(code)
            .ok()
            .filter(|c| DATABASE.by_code(c).is_some());
        known.map(Self).ok_or_else(|| {
            ValidationError::new(
                "allowed_country_codes",
                format!("{code} is not a country calling code"),
            )
        })
    }

    /// The calling code of an E.164 number, or `None` when no country has its leading digits.
    pub fn of(number: &PhoneNumber) -> Option<Self> {
        phonenumber::parse(None, number.as_str())
            .ok()
            .map(|n| Self(n.code().value()))
    }

    pub fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Display for CallingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

/// The start of E.164 numbers: `+` and 1 to 14 digits, not starting with 0 (`+44`, `+1415`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NumberPrefix(String);

impl NumberPrefix {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let digits = raw.trim().strip_prefix('+').unwrap_or("");
        if (1..=14).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
        {
            Ok(Self(format!("+{digits}")))
        } else {
            Err(ValidationError::new(
                field,
                format!("{raw:?} is not a number prefix such as +44 or +1415"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, number: &PhoneNumber) -> bool {
        number.as_str().starts_with(&self.0)
    }
}

/// How many outside dials may be placed; 0 turns outside dials off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialLimit(u32);

impl DialLimit {
    pub fn new(field: &'static str, value: i64, max: u32) -> Result<Self, ValidationError> {
        u32::try_from(value)
            .ok()
            .filter(|v| *v <= max)
            .map(Self)
            .ok_or_else(|| ValidationError::new(field, format!("must be between 0 and {max}")))
    }

    pub fn value(self) -> u32 {
        self.0
    }
}

/// What an admin configures. Every number is also screened against [`PREMIUM_PREFIXES`] and
/// libphonenumber's premium-rate and shared-cost ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialingPolicy {
    /// Countries whose numbers may be dialed.
    pub allowed_country_codes: BTreeSet<CallingCode>,
    /// Further ranges that may be dialed although their country is not allowed (`+4420`).
    pub allowed_prefixes: BTreeSet<NumberPrefix>,
    /// Premium, shared-cost or satellite ranges allowed after all; the destination must still
    /// be allowed by country or prefix.
    pub allowed_premium_prefixes: BTreeSet<NumberPrefix>,
    /// Whether agents (not only admins) may dial numbers outside the home country.
    pub international_for_agents: bool,
    pub max_dials_per_agent_per_hour: DialLimit,
    pub max_dials_per_call: DialLimit,
}

impl DialingPolicy {
    /// The policy in force until an admin saves one: the home country only, no premium
    /// ranges, agents limited to a few dials.
    pub fn default_for(home: CallingCode) -> Self {
        Self {
            allowed_country_codes: BTreeSet::from([home]),
            allowed_prefixes: BTreeSet::new(),
            allowed_premium_prefixes: BTreeSet::new(),
            international_for_agents: false,
            max_dials_per_agent_per_hour: DialLimit(DEFAULT_DIALS_PER_AGENT_PER_HOUR),
            max_dials_per_call: DialLimit(DEFAULT_DIALS_PER_CALL),
        }
    }

    /// Builds a policy from raw input, naming the first field at fault.
    pub fn parse(input: PolicyInput<'_>) -> Result<Self, ValidationError> {
        if input.allowed_country_codes.len() > MAX_COUNTRY_CODES {
            return Err(ValidationError::new(
                "allowed_country_codes",
                format!("at most {MAX_COUNTRY_CODES} entries"),
            ));
        }
        let allowed_country_codes = input
            .allowed_country_codes
            .iter()
            .map(|&c| CallingCode::new(c))
            .collect::<Result<_, _>>()?;
        let prefixes = |field: &'static str, raw: &[String]| {
            if raw.len() > MAX_PREFIXES {
                return Err(ValidationError::new(
                    field,
                    format!("at most {MAX_PREFIXES} entries"),
                ));
            }
            raw.iter()
                .map(|p| NumberPrefix::parse(field, p))
                .collect::<Result<BTreeSet<_>, _>>()
        };
        Ok(Self {
            allowed_country_codes,
            allowed_prefixes: prefixes("allowed_prefixes", input.allowed_prefixes)?,
            allowed_premium_prefixes: prefixes(
                "allowed_premium_prefixes",
                input.allowed_premium_prefixes,
            )?,
            international_for_agents: input.international_for_agents,
            max_dials_per_agent_per_hour: DialLimit::new(
                "max_dials_per_agent_per_hour",
                input.max_dials_per_agent_per_hour,
                MAX_DIALS_PER_AGENT_PER_HOUR,
            )?,
            max_dials_per_call: DialLimit::new(
                "max_dials_per_call",
                input.max_dials_per_call,
                MAX_DIALS_PER_CALL,
            )?,
        })
    }
}

/// A policy as typed by an admin (or read back from storage), before validation.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput<'a> {
    pub allowed_country_codes: &'a [u32],
    pub allowed_prefixes: &'a [String],
    pub allowed_premium_prefixes: &'a [String],
    pub international_for_agents: bool,
    pub max_dials_per_agent_per_hour: i64,
    pub max_dials_per_call: i64,
}

/// The outside dials already placed (allowed ones only) that the limits count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DialCounts {
    /// By the agent asking, within [`AGENT_WINDOW`] before now.
    pub by_agent_in_window: u32,
    /// When the oldest of those was placed: the window frees a slot an hour after it.
    pub oldest_by_agent_in_window: Option<DateTime<Utc>>,
    /// On this call, ever.
    pub on_call: u32,
}

/// Who asks, and for which number.
#[derive(Debug, Clone, Copy)]
pub struct DialRequest<'a> {
    pub number: &'a PhoneNumber,
    pub role: Role,
    /// The country of our own Twilio number; any other is international.
    pub home: CallingCode,
}

/// Why a number may not be dialed. The messages are for the agent who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialRefusal {
    #[error("{prefix}… is a premium or satellite range, not allowed by the dialing policy")]
    PremiumRange { prefix: &'static str },
    #[error("{number} is a {kind} number, not allowed by the dialing policy")]
    PremiumNumber { number: String, kind: &'static str },
    #[error("{code}… numbers are not an allowed destination of the dialing policy; an admin can allow that country or prefix")]
    DestinationNotAllowed { code: String },
    #[error(
        "{code}… is an international destination; the dialing policy lets only admins dial it"
    )]
    InternationalAdminOnly { code: CallingCode },
    #[error("the dialing policy allows no outside dials")]
    DialingDisabled,
    #[error("you have placed {limit} outside dials in the past hour, the dialing policy's limit per agent; the next one is possible in {} minute(s)", retry_after_secs.div_ceil(60))]
    AgentLimit { limit: u32, retry_after_secs: u64 },
    #[error("this call has had {limit} outside dials, the dialing policy's limit per call")]
    CallLimit { limit: u32 },
}

impl DialRefusal {
    /// Stable name for the timeline and for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            DialRefusal::PremiumRange { .. } | DialRefusal::PremiumNumber { .. } => "premium",
            DialRefusal::DestinationNotAllowed { .. } => "destination_not_allowed",
            DialRefusal::InternationalAdminOnly { .. } => "international_admin_only",
            DialRefusal::DialingDisabled => "dialing_disabled",
            DialRefusal::AgentLimit { .. } => "agent_limit",
            DialRefusal::CallLimit { .. } => "call_limit",
        }
    }

    /// A refusal that frees up by waiting (or on another call), rather than one no retry fixes.
    pub fn is_rate_limit(&self) -> bool {
        matches!(
            self,
            DialRefusal::AgentLimit { .. } | DialRefusal::CallLimit { .. }
        )
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            DialRefusal::AgentLimit {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

/// The premium-rate, shared-cost or satellite range a number falls in, if any.
fn premium_range(number: &PhoneNumber) -> Option<DialRefusal> {
    if let Some(prefix) = PREMIUM_PREFIXES
        .iter()
        .find(|p| number.as_str().starts_with(*p))
    {
        return Some(DialRefusal::PremiumRange { prefix });
    }
    let parsed = phonenumber::parse(None, number.as_str()).ok()?;
    let kind = match parsed.number_type(&DATABASE) {
        Type::PremiumRate => "premium-rate",
        Type::SharedCost => "shared-cost",
        _ => return None,
    };
    Some(DialRefusal::PremiumNumber {
        number: number.to_string(),
        kind,
    })
}

/// Decides whether `request` may be dialed now. Rules, in order: premium ranges (unless
/// allowed explicitly), the allowed destinations, international dials by agents, then the
/// limits per call and per agent.
pub fn check(
    request: DialRequest<'_>,
    policy: &DialingPolicy,
    recent: &DialCounts,
    now: DateTime<Utc>,
) -> Result<(), DialRefusal> {
    let number = request.number;
    if let Some(refusal) = premium_range(number) {
        if !policy
            .allowed_premium_prefixes
            .iter()
            .any(|p| p.matches(number))
        {
            return Err(refusal);
        }
    }
    let code = CallingCode::of(number);
    let by_country = code.is_some_and(|c| policy.allowed_country_codes.contains(&c));
    let by_prefix = policy.allowed_prefixes.iter().any(|p| p.matches(number));
    if !by_country && !by_prefix {
        return Err(DialRefusal::DestinationNotAllowed {
            code: code.map_or_else(
                || number.as_str().chars().take(4).collect(),
                |c| c.to_string(),
            ),
        });
    }
    if request.role != Role::Admin && !policy.international_for_agents {
        // A number no country claims counts as international: it is certainly not home.
        match code {
            Some(c) if c == request.home => {}
            Some(c) => return Err(DialRefusal::InternationalAdminOnly { code: c }),
            None => {
                return Err(DialRefusal::DestinationNotAllowed {
                    code: number.as_str().chars().take(4).collect(),
                })
            }
        }
    }
    let per_call = policy.max_dials_per_call.value();
    let per_agent = policy.max_dials_per_agent_per_hour.value();
    if per_call == 0 || per_agent == 0 {
        return Err(DialRefusal::DialingDisabled);
    }
    if recent.on_call >= per_call {
        return Err(DialRefusal::CallLimit { limit: per_call });
    }
    if recent.by_agent_in_window >= per_agent {
        let frees_at = recent.oldest_by_agent_in_window.unwrap_or(now) + AGENT_WINDOW;
        let secs = (frees_at - now).num_seconds().max(1);
        return Err(DialRefusal::AgentLimit {
            limit: per_agent,
            retry_after_secs: u64::try_from(secs).unwrap_or(1),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const US: CallingCode = CallingCode(1);
    const UK: CallingCode = CallingCode(44);

    fn num(s: &str) -> PhoneNumber {
        PhoneNumber::parse(s).unwrap()
    }

    fn prefixes(list: &[&str]) -> BTreeSet<NumberPrefix> {
        list.iter()
            .map(|p| NumberPrefix::parse("test", p).unwrap())
            .collect()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn ask(
        number: &str,
        role: Role,
        policy: &DialingPolicy,
        recent: DialCounts,
    ) -> Result<(), DialRefusal> {
        let number = num(number);
        check(
            DialRequest {
                number: &number,
                role,
                home: US,
            },
            policy,
            &recent,
            now(),
        )
    }

    fn us_policy() -> DialingPolicy {
        DialingPolicy::default_for(US)
    }

    #[test]
    fn the_home_country_is_dialable_by_default() {
        let policy = us_policy();
        for n in ["+14155550199", "+15005550006", "+12125550123"] {
            assert_eq!(ask(n, Role::Agent, &policy, DialCounts::default()), Ok(()));
        }
    }

    #[test]
    fn calling_codes_come_from_the_number() {
        assert_eq!(CallingCode::of(&num("+15005550006")), Some(US));
        assert_eq!(CallingCode::of(&num("+442071838750")), Some(UK));
        assert_eq!(
            CallingCode::of(&num("+882345678901")).map(CallingCode::value),
            Some(882)
        );
        assert!(CallingCode::new(44).is_ok());
        assert!(CallingCode::new(999).is_err());
        assert!(CallingCode::new(0).is_err());
        assert!(CallingCode::new(70_000).is_err());
    }

    #[test]
    fn other_countries_are_refused_by_default_even_for_admins() {
        let err = ask(
            "+442071838750",
            Role::Admin,
            &us_policy(),
            DialCounts::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "destination_not_allowed");
        assert!(err.to_string().contains("+44…"), "{err}");
    }

    #[test]
    fn built_in_premium_and_satellite_ranges_are_refused_and_say_why() {
        let mut policy = us_policy();
        policy
            .allowed_country_codes
            .extend([808, 870, 881, 882, 883, 979].map(|c| CallingCode::new(c).unwrap()));
        for (n, prefix) in [
            ("+882345678901", "+882"),
            ("+88160000000", "+881"),
            ("+979123456789", "+979"),
            ("+80812345678", "+808"),
            ("+870776123456", "+870"),
            ("+19005551234", "+1900"),
            ("+19765551234", "+1976"),
        ] {
            let err = ask(n, Role::Admin, &policy, DialCounts::default()).unwrap_err();
            assert_eq!(err, DialRefusal::PremiumRange { prefix }, "{n}");
            assert_eq!(
                err.to_string(),
                format!(
                    "{prefix}… is a premium or satellite range, not allowed by the dialing policy"
                )
            );
        }
    }

    #[test]
    fn premium_numbers_known_to_libphonenumber_are_refused() {
        let mut policy = us_policy();
        policy.allowed_country_codes.insert(UK);
        policy
            .allowed_country_codes
            .insert(CallingCode::new(33).unwrap());
        // Example numbers of libphonenumber's metadata: UK 09 premium rate, French 0884
        // shared cost.
        for (n, kind) in [
            ("+449012345678", "premium-rate"),
            ("+33884012345", "shared-cost"),
        ] {
            let err = ask(n, Role::Admin, &policy, DialCounts::default()).unwrap_err();
            assert_eq!(
                err,
                DialRefusal::PremiumNumber {
                    number: n.into(),
                    kind
                }
            );
            assert_eq!(
                err.to_string(),
                format!("{n} is a {kind} number, not allowed by the dialing policy")
            );
        }
        // A landline of the same country goes through.
        assert_eq!(
            ask("+442071838750", Role::Admin, &policy, DialCounts::default()),
            Ok(())
        );
    }

    #[test]
    fn a_premium_range_is_dialable_only_once_allowed_explicitly() {
        let mut policy = us_policy();
        policy.allowed_premium_prefixes = prefixes(&["+1900"]);
        assert_eq!(
            ask("+19005551234", Role::Agent, &policy, DialCounts::default()),
            Ok(())
        );
        // The allowance is for that range only.
        assert!(ask("+19765551234", Role::Agent, &policy, DialCounts::default()).is_err());
    }

    #[test]
    fn an_allowed_premium_range_still_needs_an_allowed_destination() {
        let mut policy = us_policy();
        policy.allowed_premium_prefixes = prefixes(&["+882"]);
        let err = ask("+882345678901", Role::Admin, &policy, DialCounts::default()).unwrap_err();
        assert_eq!(err.code(), "destination_not_allowed");
    }

    #[test]
    fn international_is_for_admins_unless_the_policy_opens_it_to_agents() {
        let mut policy = us_policy();
        policy.allowed_country_codes.insert(UK);
        let err = ask("+442071838750", Role::Agent, &policy, DialCounts::default()).unwrap_err();
        assert_eq!(err, DialRefusal::InternationalAdminOnly { code: UK });
        assert!(err.to_string().contains("only admins"), "{err}");
        assert_eq!(
            ask("+442071838750", Role::Admin, &policy, DialCounts::default()),
            Ok(())
        );
        policy.international_for_agents = true;
        assert_eq!(
            ask("+442071838750", Role::Agent, &policy, DialCounts::default()),
            Ok(())
        );
    }

    #[test]
    fn an_allowed_prefix_opens_part_of_a_country() {
        let mut policy = us_policy();
        policy.allowed_prefixes = prefixes(&["+4420"]);
        assert_eq!(
            ask("+442071838750", Role::Admin, &policy, DialCounts::default()),
            Ok(())
        );
        assert!(ask("+441612345678", Role::Admin, &policy, DialCounts::default()).is_err());
        // Still international: agents need the policy's permission.
        assert_eq!(
            ask("+442071838750", Role::Agent, &policy, DialCounts::default())
                .unwrap_err()
                .code(),
            "international_admin_only"
        );
    }

    #[test]
    fn the_per_call_limit_counts_every_dial_on_the_call() {
        let policy = us_policy();
        let at_limit = DialCounts {
            on_call: DEFAULT_DIALS_PER_CALL,
            ..DialCounts::default()
        };
        let err = ask("+14155550199", Role::Admin, &policy, at_limit).unwrap_err();
        assert_eq!(
            err,
            DialRefusal::CallLimit {
                limit: DEFAULT_DIALS_PER_CALL
            }
        );
        assert!(err.is_rate_limit());
        assert_eq!(err.retry_after_secs(), None);
        let below = DialCounts {
            on_call: DEFAULT_DIALS_PER_CALL - 1,
            ..DialCounts::default()
        };
        assert_eq!(ask("+14155550199", Role::Admin, &policy, below), Ok(()));
    }

    #[test]
    fn the_per_agent_limit_frees_up_an_hour_after_the_oldest_dial() {
        let policy = us_policy();
        let recent = DialCounts {
            by_agent_in_window: DEFAULT_DIALS_PER_AGENT_PER_HOUR,
            oldest_by_agent_in_window: Some(now() - Duration::minutes(45)),
            on_call: 0,
        };
        let err = ask("+14155550199", Role::Agent, &policy, recent).unwrap_err();
        assert_eq!(
            err,
            DialRefusal::AgentLimit {
                limit: DEFAULT_DIALS_PER_AGENT_PER_HOUR,
                retry_after_secs: 15 * 60
            }
        );
        assert!(err.to_string().contains("in 15 minute(s)"), "{err}");
        let below = DialCounts {
            by_agent_in_window: DEFAULT_DIALS_PER_AGENT_PER_HOUR - 1,
            ..recent
        };
        assert_eq!(ask("+14155550199", Role::Agent, &policy, below), Ok(()));
    }

    #[test]
    fn a_zero_limit_turns_outside_dials_off() {
        let mut policy = us_policy();
        policy.max_dials_per_call = DialLimit(0);
        assert_eq!(
            ask("+14155550199", Role::Admin, &policy, DialCounts::default()),
            Err(DialRefusal::DialingDisabled)
        );
    }

    #[test]
    fn policy_input_is_validated_field_by_field() {
        let good = PolicyInput {
            allowed_country_codes: &[1, 44, 1],
            allowed_prefixes: &[" +4420".into()],
            allowed_premium_prefixes: &[],
            international_for_agents: false,
            max_dials_per_agent_per_hour: 20,
            max_dials_per_call: 5,
        };
        let policy = DialingPolicy::parse(good).unwrap();
        assert_eq!(policy.allowed_country_codes, BTreeSet::from([US, UK]));
        assert_eq!(policy.allowed_prefixes, prefixes(&["+4420"]));

        let field = |input: PolicyInput<'_>| DialingPolicy::parse(input).unwrap_err().field;
        assert_eq!(
            field(PolicyInput {
                allowed_country_codes: &[999],
                ..good
            }),
            "allowed_country_codes"
        );
        for bad in ["44", "+", "+0", "+12a", "+123456789012345"] {
            let list = [bad.to_owned()];
            assert_eq!(
                field(PolicyInput {
                    allowed_prefixes: &list,
                    ..good
                }),
                "allowed_prefixes",
                "{bad}"
            );
            assert_eq!(
                field(PolicyInput {
                    allowed_premium_prefixes: &list,
                    ..good
                }),
                "allowed_premium_prefixes",
                "{bad}"
            );
        }
        assert_eq!(
            field(PolicyInput {
                max_dials_per_agent_per_hour: -1,
                ..good
            }),
            "max_dials_per_agent_per_hour"
        );
        assert_eq!(
            field(PolicyInput {
                max_dials_per_call: i64::from(MAX_DIALS_PER_CALL) + 1,
                ..good
            }),
            "max_dials_per_call"
        );
    }

    fn any_policy() -> impl Strategy<Value = DialingPolicy> {
        let codes = prop::collection::btree_set(
            prop::sample::select(vec![
                1u32, 7, 33, 44, 49, 61, 81, 91, 808, 870, 881, 882, 883, 979,
            ]),
            0..6,
        );
        let prefix = "\\+[1-9][0-9]{0,4}";
        (
            codes,
            prop::collection::vec(prefix, 0..4),
            prop::collection::vec(prefix, 0..4),
            any::<bool>(),
            0i64..20,
            0i64..5,
        )
            .prop_map(|(codes, allowed, premium, intl, per_agent, per_call)| {
                let codes: Vec<u32> = codes.into_iter().collect();
                DialingPolicy::parse(PolicyInput {
                    allowed_country_codes: &codes,
                    allowed_prefixes: &allowed,
                    allowed_premium_prefixes: &premium,
                    international_for_agents: intl,
                    max_dials_per_agent_per_hour: per_agent,
                    max_dials_per_call: per_call,
                })
                .unwrap()
            })
    }

    fn any_counts() -> impl Strategy<Value = DialCounts> {
        (0u32..25, 0i64..3600, 0u32..6).prop_map(|(by_agent, age, on_call)| DialCounts {
            by_agent_in_window: by_agent,
            oldest_by_agent_in_window: (by_agent > 0).then(|| now() - Duration::seconds(age)),
            on_call,
        })
    }

    fn any_number() -> impl Strategy<Value = PhoneNumber> {
        let premium = prop::sample::select(PREMIUM_PREFIXES.to_vec());
        prop_oneof![
            (premium, "[0-9]{7,9}").prop_map(|(p, rest)| num(&format!("{p}{rest}"))),
            "\\+[1-9][0-9]{7,13}".prop_map(|n| num(&n)),
        ]
    }

    proptest! {
        #[test]
        fn a_premium_number_is_never_allowed_unless_its_range_is(
            number in any_number(),
            policy in any_policy(),
            recent in any_counts(),
            admin in any::<bool>(),
        ) {
            let role = if admin { Role::Admin } else { Role::Agent };
            let decision = check(DialRequest { number: &number, role, home: US }, &policy, &recent, now());
            if decision.is_ok() && premium_range(&number).is_some() {
                prop_assert!(policy.allowed_premium_prefixes.iter().any(|p| p.matches(&number)));
            }
        }

        #[test]
        fn an_allowed_dial_respects_destinations_roles_and_limits(
            number in any_number(),
            policy in any_policy(),
            recent in any_counts(),
            admin in any::<bool>(),
        ) {
            let role = if admin { Role::Admin } else { Role::Agent };
            let code = CallingCode::of(&number);
            if check(DialRequest { number: &number, role, home: US }, &policy, &recent, now()).is_ok() {
                prop_assert!(
                    code.is_some_and(|c| policy.allowed_country_codes.contains(&c))
                        || policy.allowed_prefixes.iter().any(|p| p.matches(&number))
                );
                prop_assert!(admin || policy.international_for_agents || code == Some(US));
                prop_assert!(recent.on_call < policy.max_dials_per_call.value());
                prop_assert!(recent.by_agent_in_window < policy.max_dials_per_agent_per_hour.value());
            }
        }

        #[test]
        fn agent_limit_refusals_free_up_within_the_window(
            policy in any_policy(),
            recent in any_counts(),
        ) {
            let number = num("+14155550199");
            if let Err(DialRefusal::AgentLimit { retry_after_secs, .. }) =
                check(DialRequest { number: &number, role: Role::Admin, home: US }, &policy, &recent, now())
            {
                prop_assert!((1..=3600).contains(&retry_after_secs));
            }
        }
    }
}
