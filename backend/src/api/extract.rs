//! Request extractors for the signed-in agent.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use uuid::Uuid;

use super::error::ApiError;
use crate::client_addr::{client_address, TrustedProxies};
use crate::domain::agent::Agent;
use crate::services::{accounts, ServiceError};
use crate::state::AppState;

/// The agent behind the request's bearer token, with a live session.
pub struct CurrentAgent {
    pub agent: Agent,
    pub session_id: Uuid,
}

/// A signed-in admin; anyone else gets 403 (or 401 without a session).
pub struct AdminAgent(pub CurrentAgent);

/// A signed-in supervisor or admin; a plain agent gets 403 (or 401 without a session).
pub struct SupervisorAgent(pub CurrentAgent);

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

impl FromRequest for CurrentAgent {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state
                .ok_or_else(|| ApiError::Service(ServiceError::Internal("state missing".into())))?;
            let token = token.ok_or(ServiceError::Unauthenticated)?;
            let (agent, session_id) =
                accounts::authenticate(&state.pool, &state.session_keys, &token).await?;
            Ok(CurrentAgent { agent, session_id })
        })
    }
}

impl FromRequest for AdminAgent {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let current = CurrentAgent::from_request(req, payload);
        Box::pin(async move {
            let current = current.await?;
            if !current.agent.is_admin() {
                return Err(ServiceError::Forbidden("this needs the admin role".into()).into());
            }
            Ok(AdminAgent(current))
        })
    }
}

impl FromRequest for SupervisorAgent {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let current = CurrentAgent::from_request(req, payload);
        Box::pin(async move {
            let current = current.await?;
            if !current.agent.may_supervise() {
                return Err(ServiceError::Forbidden(
                    "this needs the supervisor or admin role".into(),
                )
                .into());
            }
            Ok(SupervisorAgent(current))
        })
    }
}

/// A JSON body that may be left out: a request without one (no `Content-Length`, or 0, and no
/// chunked body), or a body of `null`, gives `None`. A body present is read as `web::Json` reads
/// it, so a malformed one is a 400, never silently taken for no body.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let chunked = headers.contains_key(header::TRANSFER_ENCODING);
        let length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if !chunked && length.unwrap_or(0) == 0 {
            return Box::pin(std::future::ready(Ok(OptionalJson(None))));
        }
        // `null` is no body too (the schema is `T` or `null`).
        let body = web::Json::<Option<T>>::from_request(req, payload);
        Box::pin(async move { Ok(OptionalJson(body.await?.into_inner())) })
    }
}

/// The client's address for rate limiting: the peer's, or what a trusted proxy says it is
/// (see [`crate::client_addr`]); `Forwarded` and `X-Forwarded-For` from anyone else are ignored.
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let values = |name: header::HeaderName| -> Vec<&str> {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    let forwarded = values(header::FORWARDED);
    let x_forwarded_for = values(header::HeaderName::from_static("x-forwarded-for"));
    client_address(peer, &forwarded, &x_forwarded_for, trusted).to_string()
}
