//! What every handler can reach.

use std::sync::Arc;

use crate::auth::session::SessionKeys;
use crate::config::Config;
use crate::db::DbPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub session_keys: SessionKeys,
    pub config: Arc<Config>,
}
