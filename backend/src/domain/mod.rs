//! The product's rules and vocabulary, free of HTTP and SQL.

pub mod agent;
pub mod audience;
pub mod board;
pub mod call;
pub mod dialing;
pub mod engine;
pub mod inbox;
pub mod login;
pub mod phone;
pub mod presence;

/// A value that failed to parse at the edge; the message is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<twilio::sid::InvalidSid> for ValidationError {
    fn from(e: twilio::sid::InvalidSid) -> Self {
        ValidationError::new(e.kind, e.to_string())
    }
}
