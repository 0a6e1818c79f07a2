//! The one place where failures become HTTP responses: JSON with a stable `code` and a message.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::services::ServiceError;

/// Every error the API returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable: `bad_request`, `validation_failed`, `invalid_credentials`,
    /// `unauthorized`, `forbidden`, `not_found`, `conflict`, `too_many_attempts`,
    /// `dial_not_allowed` (403: the dialing policy refuses that number for you),
    /// `dial_limit_reached` (429: a dialing-policy rate limit, per agent with `Retry-After`, or
    /// per call), `payload_too_large`, `unsupported_media_type`, `method_not_allowed`,
    /// `upstream_failed` (Twilio refused or timed out), `unavailable`, `internal`.
    #[schema(example = "validation_failed")]
    pub code: &'static str,
    /// For people; may change between versions.
    #[schema(example = "email: is not a valid email address")]
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// When a client turned away from a full instance should try again (streams end all the time).
const STREAMS_FULL_RETRY_SECS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("no route for this method and path")]
    RouteNotFound,
    #[error("this path takes only {}", .0.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "))]
    MethodNotAllowed(Vec<actix_web::http::Method>),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        use ServiceError as S;
        match self {
            ApiError::Service(e) => match e {
                S::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                S::Malformed(_) | S::BadInput(_) => (StatusCode::BAD_REQUEST, "bad_request"),
                S::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
                S::TooManyAttempts { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
                S::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthorized"),
                S::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                S::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                S::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                S::DialRefused(r) if r.is_rate_limit() => {
                    (StatusCode::TOO_MANY_REQUESTS, "dial_limit_reached")
                }
                S::DialRefused(_) => (StatusCode::FORBIDDEN, "dial_not_allowed"),
                S::TooManyStreams { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_streams"),
                S::StreamsFull { .. } => (StatusCode::SERVICE_UNAVAILABLE, "streams_full"),
                S::Unavailable(_) | S::Busy { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
                }
                S::Upstream(_) | S::UpstreamRefused { .. } => {
                    (StatusCode::BAD_GATEWAY, "upstream_failed")
                }
                S::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::RouteNotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.parts();
        // Internal details go to the log, never to the caller.
        let message = match self {
            ApiError::Service(ServiceError::Internal(detail)) => {
                tracing::error!(%detail, "internal error");
                "something went wrong on our side; it has been logged".to_owned()
            }
            // Twilio's error text can carry our account SID (in URLs) and details of the
            // account; agents get a reference to the logged detail instead.
            ApiError::Service(ServiceError::Upstream(detail)) => {
                let reference = upstream_reference();
                tracing::error!(%detail, reference, "Twilio refused or failed a request");
                format!("Twilio refused the request; see the server log (ref {reference})")
            }
            ApiError::Service(ServiceError::UpstreamRefused { outcome, detail }) => {
                let reference = upstream_reference();
                tracing::error!(%detail, reference, "Twilio refused a request; undone");
                format!("{outcome} (see the server log, ref {reference})")
            }
            ApiError::Service(ServiceError::Unavailable(source)) => {
                tracing::warn!(error = %source, "database unavailable");
                self.to_string()
            }
            _ => self.to_string(),
        };
        let field = match self {
            ApiError::Service(ServiceError::Validation(v) | ServiceError::BadInput(v)) => {
                Some(v.field.to_owned())
            }
            _ => None,
        };
        let mut response = HttpResponse::build(status);
        match self {
            ApiError::Service(
                ServiceError::TooManyAttempts { retry_after_secs }
                | ServiceError::Busy { retry_after_secs },
            ) => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Service(ServiceError::DialRefused(refusal)) => {
                if let Some(secs) = refusal.retry_after_secs() {
                    response.insert_header((header::RETRY_AFTER, secs.to_string()));
                }
            }
            ApiError::Service(ServiceError::StreamsFull { .. }) => {
                response.insert_header((header::RETRY_AFTER, STREAMS_FULL_RETRY_SECS.to_string()));
            }
            ApiError::Service(ServiceError::Unauthenticated) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed(methods) => {
                let allow: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            _ => {}
        }
        response.json(ErrorBody {
            code,
            message,
            field,
        })
    }
}

/// A short random reference that ties an answer to its log line.
fn upstream_reference() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// JSON bodies that fail to parse (syntax, unknown or missing fields, wrong types, size) become
/// our JSON errors instead of actix's plain-text ones.
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::ContentType => {
            ApiError::UnsupportedMediaType("send the body as application/json".into())
        }
        J::Overflow { .. } | J::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge("the request body is too large".into())
        }
        J::Deserialize(e) => ApiError::BadRequest(format!("invalid JSON body: {e}")),
        other => ApiError::BadRequest(format!("invalid request body: {other}")),
    };
    api.into()
}

pub fn path_error_handler(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path parameter: {err}")).into()
}

pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid query string: {err}")).into()
}

/// Requests no route took: 405 (with `Allow`) on a documented path with another method,
/// 404 otherwise.
pub async fn unmatched(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    let allowed = req
        .app_data::<actix_web::web::Data<super::doc::KnownPaths>>()
        .and_then(|known| known.allowed(req.path()));
    Err(match allowed {
        Some(methods) => ApiError::MethodNotAllowed(methods),
        None => ApiError::RouteNotFound,
    })
}

pub type ApiResult<T> = Result<T, ApiError>;
