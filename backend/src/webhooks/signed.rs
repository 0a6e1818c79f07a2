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
}

impl ResponseError for WebhookRejection {
    fn error_response(&self) -> HttpResponse {
        match self {
            WebhookRejection::BadSignature => HttpResponse::Forbidden().body(self.to_string()),
            WebhookRejection::BadForm => HttpResponse::BadRequest().body(self.to_string()),
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
            Ok(SignedForm(params))
        })
    }
}
