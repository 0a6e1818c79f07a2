//! E.164 phone numbers, parsed once at the edge.

use std::fmt;

use super::ValidationError;

/// A phone number in E.164 form: `+`, a country code not starting with 0, at most 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts E.164, tolerating the spaces, dots, dashes and parentheses people type.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let err = || {
            ValidationError::new(
                "phone_number",
                format!("{raw:?} is not an E.164 number such as +14155550100"),
            )
        };
        let trimmed = raw.trim();
        let rest = trimmed.strip_prefix('+').ok_or_else(err)?;
        let digits: String = rest
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        if !(8..=15).contains(&digits.len())
            || !digits.chars().all(|c| c.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(err());
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Reads a number back, checking it as [`PhoneNumber::parse`] does.
impl<'de> serde::Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164_and_normalises_punctuation() {
        assert_eq!(
            PhoneNumber::parse("+14155550100").unwrap().as_str(),
            "+14155550100"
        );
        assert_eq!(
            PhoneNumber::parse(" +1 (415) 555-0100 ").unwrap().as_str(),
            "+14155550100"
        );
        assert_eq!(
            PhoneNumber::parse("+442071838750").unwrap().as_str(),
            "+442071838750"
        );
    }

    #[test]
    fn rejects_what_twilio_would_not_dial() {
        for bad in [
            "",
            "14155550100",
            "+",
            "+0123456789",
            "+1415555010012345",
            "+1415abc0100",
            "client:alice",
            "+1234",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }
}
