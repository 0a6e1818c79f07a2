//! Use cases: each function is one thing a user or Twilio asks of the system, composed from the
//! domain rules and the storage layer. Handlers call these and only translate HTTP.

pub mod accounts;
pub mod calls;
pub mod dialing;
pub mod housekeeping;
pub mod presence;
pub mod voice;

use crate::db::DbError;
use crate::domain::dialing::DialRefusal;
use crate::domain::ValidationError;

/// What can go wrong in a use case. Mapped to HTTP (and TwiML) in one place each.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A field of the request that is not acceptable as sent (a 400 naming the field: notes too
    /// long or with control characters, a reason or code not in its list).
    #[error("{0}")]
    BadInput(crate::domain::ValidationError),
    /// Input no request could carry in good faith (e.g. a 3 KB email); refused before any work.
    #[error("{0}")]
    Malformed(String),
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts; try again in {}", in_seconds(*.retry_after_secs))]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("sign in first")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// The dialing policy refuses an outside number (or its rate limits are reached).
    #[error(transparent)]
    DialRefused(#[from] DialRefusal),
    #[error("the database is unavailable")]
    Unavailable(#[source] DbError),
    /// Too much work queued (e.g. password checks during a flood of sign-ins); retry later.
    #[error("the server is busy; try again in {}", in_seconds(*.retry_after_secs))]
    Busy { retry_after_secs: u64 },
    /// This session already holds as many live-event streams as it may.
    #[error(
        "this session already has {max} live-event streams open, the most it may: close one \
         (e.g. another tab) first"
    )]
    TooManyStreams { max: usize },
    /// This instance serves as many live-event streams as it may.
    #[error("this server is serving its limit of {max} live-event streams; try again shortly")]
    StreamsFull { max: usize },
    /// Twilio refused or did not answer a request we had to make.
    #[error("{0}")]
    Upstream(String),
    /// Twilio refused a request and what it was for was undone: `outcome` says so to people
    /// (it carries none of Twilio's text), `detail` is for the log.
    #[error("{outcome}: {detail}")]
    UpstreamRefused {
        outcome: &'static str,
        detail: String,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// "1 second", "5 seconds".
fn in_seconds(secs: u64) -> String {
    if secs == 1 {
        "1 second".to_owned()
    } else {
        format!("{secs} seconds")
    }
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::UniqueViolation(what) => {
                ServiceError::Conflict(format!("an agent with this {what} already exists"))
            }
            DbError::Pool(_) => ServiceError::Unavailable(e),
            // The connection died under the query (the database restarted or went away).
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                _,
            )) => ServiceError::Unavailable(e),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::from(e).into()
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    #[test]
    fn waits_are_told_in_words() {
        let one = ServiceError::TooManyAttempts {
            retry_after_secs: 1,
        };
        assert_eq!(
            one.to_string(),
            "too many failed sign-in attempts; try again in 1 second"
        );
        let busy = ServiceError::Busy {
            retry_after_secs: 5,
        };
        assert_eq!(
            busy.to_string(),
            "the server is busy; try again in 5 seconds"
        );
    }

    #[test]
    fn a_connection_that_died_under_a_query_means_the_database_is_unavailable() {
        let closed = Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        );
        assert!(matches!(
            ServiceError::from(closed),
            ServiceError::Unavailable(_)
        ));
        let other = Error::DatabaseError(
            DatabaseErrorKind::CheckViolation,
            Box::new("check".to_owned()),
        );
        assert!(matches!(
            ServiceError::from(other),
            ServiceError::Internal(_)
        ));
    }
}
