//! Voice access tokens for the agents' browsers.

use actix_web::{post, web};
use chrono::Utc;

use super::dto::VoiceTokenView;
use super::error::{ApiResult, ErrorBody};
use super::extract::CurrentAgent;
use crate::services::ServiceError;
use crate::state::AppState;
use twilio::token as access_token;

/// Tokens are short-lived; the SDK asks for a new one before expiry (`tokenWillExpire`).
const TOKEN_TTL_SECS: u64 = 3600;

/// A Twilio Voice access token for the signed-in agent: identity is their client identity,
/// incoming calls allowed, outgoing through the configured TwiML app.
#[utoipa::path(
    operation_id = "createVoiceToken",
    tag = "voice",
    responses((status = 200, body = VoiceTokenView), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
#[post("/voice/token")]
pub async fn token(
    state: web::Data<AppState>,
    current: CurrentAgent,
) -> ApiResult<web::Json<VoiceTokenView>> {
    let creds = &state.voice_credentials;
    let identity = current.agent.client_identity.as_str().to_owned();
    let now = Utc::now();
    let jwt = access_token::voice_access_token(
        creds.account_sid.as_str(),
        creds.api_key_sid.as_str(),
        creds.api_key_secret.expose(),
        &identity,
        creds.twiml_app_sid.as_str(),
        now.timestamp(),
        TOKEN_TTL_SECS,
    )
    .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(web::Json(VoiceTokenView {
        token: jwt,
        identity,
        expires_at: now + chrono::Duration::seconds(TOKEN_TTL_SECS as i64),
        ttl_seconds: TOKEN_TTL_SECS,
    }))
}
