//! The signed-form extractor: every `/twilio/*` request must carry a valid `X-Twilio-Signature`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse, ResponseError};

use twilio::signature::{RequestValidator, SIGNATURE_HEADER};

/// How we check Twilio's signatures: its auth token, and the public address Twilio signed
/// (we sit behind proxies and tunnels, so the URL is rebuilt from configuration, not the request).
#[derive(Clone)]
pub struct WebhookAuth {
    validator: Arc<RequestValidator>,
    public_base_url: String,
}

impl WebhookAuth {
    pub fn new(auth_token: &str, public_base_url: &url::Url) -> Self {
        Self {
            validator: Arc::new(RequestValidator::new(auth_token)),
            public_base_url: public_base_url.as_str().trim_end_matches('/').to_owned(),
        }
    }
}

/// The POST parameters of a request whose signature checked out.
pub struct SignedForm(Vec<(String, String)>);

impl SignedForm {
    pub fn into_params(self) -> Vec<(String, String)> {
        self.0
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookRejection {
    #[error("missing or invalid X-Twilio-Signature")]
    BadSignature,
    #[error("malformed form body")]
    BadForm,
    /// Signed, but holding what Twilio never sends and we could never store or use: answering
    /// anything but 400 would only invite retries of input that can't succeed.
    #[error("unacceptable parameter: {0}")]
    Unacceptable(String),
}

/// The longest phone address we take (`From`, `To`, `Caller`, `Called`): E.164 is at most 16
/// characters and a browser leg's `client:` plus a 64-character identity is 71.
pub const MAX_ADDRESS_LEN: usize = 100;
/// Twilio caps a conference's friendly name at 128 characters (ours are 37).
pub const MAX_FRIENDLY_NAME_LEN: usize = 128;
/// Any other value: far above anything Twilio sends (its longest, `CallToken`, is a few KB).
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// Refuses parameters no genuine webhook carries: a NUL byte anywhere (PostgreSQL can store no
/// NUL in text or JSON, so the callback could never be kept) and values longer than their
/// field can be.
pub fn check_params(params: &[(String, String)]) -> Result<(), String> {
    for (name, value) in params {
        if name.contains('\0') || value.contains('\0') {
            return Err(format!("{name:?} contains a NUL byte"));
        }
        let limit = match name.as_str() {
            "From" | "To" | "Caller" | "Called" => MAX_ADDRESS_LEN,
            "FriendlyName" => MAX_FRIENDLY_NAME_LEN,
            _ => MAX_VALUE_BYTES,
        };
        if value.len() > limit {
            return Err(format!("{name} is longer than {limit} bytes"));
        }
    }
    Ok(())
}

impl ResponseError for WebhookRejection {
    fn error_response(&self) -> HttpResponse {
        match self {
            WebhookRejection::BadSignature => HttpResponse::Forbidden().body(self.to_string()),
            WebhookRejection::BadForm | WebhookRejection::Unacceptable(_) => {
                HttpResponse::BadRequest().body(self.to_string())
            }
        }
    }
}

impl FromRequest for SignedForm {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            let auth = req
                .app_data::<web::Data<WebhookAuth>>()
                .ok_or(WebhookRejection::BadSignature)?;
            let path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let url = format!("{}{}", auth.public_base_url, path);
            let params: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).map_err(|_| WebhookRejection::BadForm)?;
            let signature = req
                .headers()
                .get(SIGNATURE_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if signature.is_empty() || !auth.validator.validate(&url, &params, signature) {
                tracing::warn!(%url, peer = ?req.peer_addr(), "rejected a webhook with a missing or invalid signature");
                return Err(WebhookRejection::BadSignature.into());
            }
            if let Err(reason) = check_params(&params) {
                tracing::warn!(%url, %reason, "refused a signed webhook with unacceptable parameters");
                return Err(WebhookRejection::Unacceptable(reason).into());
            }
            Ok(SignedForm(params))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn genuine_parameters_pass() {
        let identity = format!("client:{}", "a".repeat(64));
        let token = "t".repeat(4_000);
        assert_eq!(
            check_params(&params(&[
                ("From", "+14155550100"),
                ("To", &identity),
                ("FriendlyName", "wt_CA0123456789abcdef0123456789abcdef"),
                ("CallToken", &token),
            ])),
            Ok(())
        );
    }

    #[test]
    fn nul_bytes_and_overlong_values_are_refused() {
        let long_number = "5".repeat(MAX_ADDRESS_LEN + 1);
        let long_name = "n".repeat(MAX_FRIENDLY_NAME_LEN + 1);
        let huge = "x".repeat(MAX_VALUE_BYTES + 1);
        for bad in [
            params(&[("From", "+1415\0")]),
            params(&[("Na\0me", "v")]),
            params(&[("To", &long_number)]),
            params(&[("Caller", &long_number)]),
            params(&[("FriendlyName", &long_name)]),
            params(&[("Anything", &huge)]),
        ] {
            assert!(check_params(&bad).is_err(), "{bad:?}");
        }
    }
}
