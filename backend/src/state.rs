//! What every handler can reach.

use std::sync::Arc;

use crate::auth::session::SessionKeys;
use crate::config::{Config, Secret};
use crate::db::DbPool;
use crate::events::EventBus;
use crate::services::voice::VoiceEngine;
use crate::sim::Simulator;
use crate::webhooks::WebhookAuth;

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
    pub webhook_auth: WebhookAuth,
    pub voice_credentials: VoiceCredentials,
    pub events: EventBus,
    /// Demo mode: the in-process Twilio simulator playing Twilio.
    pub sim: Option<Simulator>,
}
