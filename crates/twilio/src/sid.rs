//! Twilio resource identifiers: two letters naming the kind of resource, then 32 hex digits.
//! Each kind is its own type, parsed once where it enters (configuration, a webhook, a stored
//! row), so an account SID can never be passed where a call SID belongs.

use std::fmt;
use std::str::FromStr;

/// A string that is not a SID of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {prefix} followed by 32 hex digits")]
pub struct InvalidSid {
    /// The type that was expected, e.g. `CallSid`.
    pub kind: &'static str,
    pub prefix: &'static str,
}

/// The one validator behind every SID type.
fn check(raw: &str, kind: &'static str, prefix: &'static str) -> Result<(), InvalidSid> {
    let ok = raw.len() == 34
        && raw.starts_with(prefix)
        && raw[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(InvalidSid { kind, prefix })
    }
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn parse(raw: &str) -> Result<Self, InvalidSid> {
                check(raw, stringify!($name), $prefix)?;
                Ok(Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidSid;
            fn from_str(s: &str) -> Result<Self, InvalidSid> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        /// Reads a SID back, checking its prefix and form as [`Self::parse`] does.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

sid_type!(
    /// An account (`AC…`).
    AccountSid,
    "AC"
);
sid_type!(
    /// An API key (`SK…`), which signs access tokens and authenticates REST requests.
    ApiKeySid,
    "SK"
);
sid_type!(
    /// A TwiML application (`AP…`), which the Voice SDK's outgoing calls go to.
    TwimlAppSid,
    "AP"
);
sid_type!(
    /// A call (`CA…`): a customer's call, or one leg we placed.
    CallSid,
    "CA"
);
sid_type!(
    /// A conference (`CF…`).
    ConferenceSid,
    "CF"
);

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789ABCDEF";

    #[test]
    fn each_kind_takes_its_own_prefix_and_32_hex_digits() {
        assert!(CallSid::parse(&format!("CA{HEX}")).is_ok());
        assert!(ConferenceSid::parse(&format!("CF{HEX}")).is_ok());
        assert!(AccountSid::parse(&format!("AC{HEX}")).is_ok());
        assert!(ApiKeySid::parse(&format!("SK{HEX}")).is_ok());
        assert!(TwimlAppSid::parse(&format!("AP{HEX}")).is_ok());
        // Another kind's prefix is refused, and the error names what was expected.
        let err = CallSid::parse(&format!("CF{HEX}")).unwrap_err();
        assert_eq!(err.kind, "CallSid");
        assert_eq!(err.to_string(), "expected CA followed by 32 hex digits");
    }

    #[test]
    fn wrong_lengths_and_non_hex_are_refused() {
        for bad in [
            String::new(),
            "CA".to_owned(),
            format!("CA{}", &HEX[1..]),
            format!("CA{HEX}0"),
            format!("CA{}g", &HEX[1..]),
            format!("ca{HEX}"),
            // Multi-byte characters must not panic on the slice.
            format!("CA{}é", &HEX[2..]),
        ] {
            assert!(CallSid::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
