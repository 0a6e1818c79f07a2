//! What every `/api` handler can reach. Webhooks take only what they need (the voice engine
//! and the signature check), each as its own app data.

use std::sync::Arc;

use crate::auth::session::SessionKeys;
use crate::config::{Config, Secret};
use crate::db::DbPool;
use crate::events::EventBus;
use crate::services::voice::VoiceEngine;

/// What signing Voice access tokens needs.
#[derive(Clone, Debug)]
pub struct VoiceCredentials {
    pub account_sid: String,
    pub api_key_sid: String,
    pub api_key_secret: Secret,
    pub twiml_app_sid: String,
}

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub session_keys: SessionKeys,
    pub config: Arc<Config>,
    pub voice: VoiceEngine,
    pub voice_credentials: VoiceCredentials,
    pub events: EventBus,
}
