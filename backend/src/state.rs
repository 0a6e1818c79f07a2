//! What every `/api` handler can reach. Webhooks take only what they need (the voice engine
//! and the signature check), each as its own app data.

use std::sync::Arc;

use crate::api::live::LiveFeed;
use crate::auth::session::SessionKeys;
use crate::config::{Config, Secret};
use crate::db::DbPool;
use crate::events::EventBus;
use crate::services::voice::VoiceEngine;
use crate::shutdown::Shutdown;
use twilio::sid::{AccountSid, ApiKeySid, TwimlAppSid};

/// What signing Voice access tokens needs.
#[derive(Clone, Debug)]
pub struct VoiceCredentials {
    pub account_sid: AccountSid,
    pub api_key_sid: ApiKeySid,
    pub api_key_secret: Secret,
    pub twiml_app_sid: TwimlAppSid,
}

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub session_keys: SessionKeys,
    pub config: Arc<Config>,
    pub voice: VoiceEngine,
    pub voice_credentials: VoiceCredentials,
    pub events: EventBus,
    /// Live events built once per instance for every `GET /api/events` stream.
    pub live: LiveFeed,
    /// The queue's total, counted once per change of the queue.
    pub waiting_total: crate::services::calls::WaitingTotal,
    /// Draining on SIGTERM: readiness, live-event streams and background loops watch it.
    pub shutdown: Shutdown,
}
