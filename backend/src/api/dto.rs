//! Request and response bodies of the JSON API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::agent::{Agent, AgentStatus, Role, SelectableStatus};

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: Uuid,
    #[schema(example = "ana.lopez@example.com")]
    pub email: String,
    #[schema(example = "Ana Lopez")]
    pub display_name: String,
    pub role: Role,
    /// The Twilio Client identity the agent's browser registers under.
    #[schema(example = "ana_lopez_3f9a1c")]
    pub client_identity: String,
    pub status: AgentStatus,
    pub status_changed_at: DateTime<Utc>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Agent> for AgentView {
    fn from(a: Agent) -> Self {
        Self {
            id: a.id,
            email: a.email.as_str().to_owned(),
            display_name: a.display_name.as_str().to_owned(),
            role: a.role,
            client_identity: a.client_identity.as_str().to_owned(),
            status: a.status,
            status_changed_at: a.status_changed_at,
            active: a.active,
            created_at: a.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "admin@example.com")]
    pub email: String,
    #[schema(example = "correct-horse-battery")]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub agent: AgentView,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub status: SelectableStatus,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    pub email: String,
    pub display_name: String,
    /// At least 10 characters.
    pub password: String,
    #[serde(default = "default_role")]
    pub role: Role,
    /// Letters, digits and underscore; derived from the email when left out.
    pub client_identity: Option<String>,
}

fn default_role() -> Role {
    Role::Agent
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// Setting a password signs the agent out everywhere.
    pub password: Option<String>,
    /// `false` deactivates: the agent is signed out and stops receiving calls.
    pub active: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListAgentsQuery {
    /// Include deactivated agents.
    #[serde(default)]
    pub include_inactive: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoiceModeView {
    /// The built-in Twilio simulator plays Twilio; no real calls.
    Demo,
    /// Real Twilio.
    Live,
}

#[derive(Serialize, ToSchema)]
pub struct ClientConfig {
    pub mode: VoiceModeView,
    pub version: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}
