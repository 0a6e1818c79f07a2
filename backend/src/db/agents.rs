//! The `agents` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::agents;
use super::{DbError, PgConn};
use crate::domain::agent::{
    Agent, AgentStatus, ClientIdentity, DisplayName, Email, PresenceDetails, Role,
};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = agents)]
pub(super) struct AgentRow {
    id: Uuid,
    email: String,
    display_name: String,
    password_hash: String,
    role: Role,
    client_identity: String,
    status: AgentStatus,
    status_changed_at: DateTime<Utc>,
    active: bool,
    created_at: DateTime<Utc>,
    #[allow(dead_code)]
    updated_at: DateTime<Utc>,
    away_reason: Option<String>,
    missed_call_from: Option<String>,
    wrap_up_call_id: Option<Uuid>,
    wrap_up_until: Option<DateTime<Utc>>,
    wrap_up_extended: bool,
}

impl TryFrom<AgentRow> for Agent {
    type Error = DbError;

    fn try_from(row: AgentRow) -> Result<Self, DbError> {
        let corrupt =
            |e: crate::domain::ValidationError| DbError::Corrupt(format!("agent {}: {e}", row.id));
        Ok(Agent {
            id: row.id,
            email: Email::parse(&row.email).map_err(corrupt)?,
            display_name: DisplayName::parse(&row.display_name).map_err(corrupt)?,
            role: row.role,
            client_identity: ClientIdentity::parse(&row.client_identity).map_err(corrupt)?,
            status: row.status,
            status_changed_at: row.status_changed_at,
            active: row.active,
            created_at: row.created_at,
            presence: PresenceDetails {
                away_reason: row.away_reason,
                missed_call_from: row.missed_call_from,
                wrap_up_call_id: row.wrap_up_call_id,
                wrap_up_until: row.wrap_up_until,
                wrap_up_extended: row.wrap_up_extended,
            },
        })
    }
}

pub struct NewAgent<'a> {
    pub email: &'a Email,
    pub display_name: &'a DisplayName,
    pub password_hash: &'a str,
    pub role: Role,
    pub client_identity: &'a ClientIdentity,
}

pub async fn insert(conn: &mut PgConn, new: NewAgent<'_>) -> Result<Agent, DbError> {
    let row: AgentRow = diesel::insert_into(agents::table)
        .values((
            agents::id.eq(Uuid::new_v4()),
            agents::email.eq(new.email.as_str()),
            agents::display_name.eq(new.display_name.as_str()),
            agents::password_hash.eq(new.password_hash),
            agents::role.eq(new.role),
            agents::client_identity.eq(new.client_identity.as_str()),
        ))
        .returning(AgentRow::as_returning())
        .get_result(conn)
        .await?;
    row.try_into()
}

pub async fn count(conn: &mut PgConn) -> Result<i64, DbError> {
    Ok(agents::table.count().get_result(conn).await?)
}

pub async fn find(conn: &mut PgConn, id: Uuid) -> Result<Option<Agent>, DbError> {
    let row = agents::table
        .find(id)
        .select(AgentRow::as_select())
        .first(conn)
        .await
        .optional()?;
    row.map(Agent::try_from).transpose()
}

/// The agents among `ids` that exist, in one query (in no particular order).
pub async fn find_many(conn: &mut PgConn, ids: &[Uuid]) -> Result<Vec<Agent>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    agents::table
        .filter(agents::id.eq_any(ids))
        .select(AgentRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Agent::try_from)
        .collect()
}

/// Display names of the agents among `ids` that exist, in one query.
pub async fn names(
    conn: &mut PgConn,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, DbError> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(agents::table
        .filter(agents::id.eq_any(ids))
        .select((agents::id, agents::display_name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect())
}

/// The agent, its row locked for the rest of the transaction.
pub async fn lock(conn: &mut PgConn, id: Uuid) -> Result<Option<Agent>, DbError> {
    let row = agents::table
        .find(id)
        .select(AgentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    row.map(Agent::try_from).transpose()
}

/// The ids of the active admins, their rows locked for the rest of the transaction (in id order,
/// so two transactions taking them can't deadlock).
pub async fn lock_active_admins(conn: &mut PgConn) -> Result<Vec<Uuid>, DbError> {
    Ok(agents::table
        .filter(agents::role.eq(Role::Admin))
        .filter(agents::active.eq(true))
        .order(agents::id.asc())
        .select(agents::id)
        .for_update()
        .load(conn)
        .await?)
}

/// The agent and its password hash, for sign-in.
pub async fn find_credentials(
    conn: &mut PgConn,
    email: &Email,
) -> Result<Option<(Agent, String)>, DbError> {
    let row = agents::table
        .filter(agents::email.eq(email.as_str()))
        .select(AgentRow::as_select())
        .first(conn)
        .await
        .optional()?;
    row.map(|r| {
        let hash = r.password_hash.clone();
        Agent::try_from(r).map(|a| (a, hash))
    })
    .transpose()
}

pub async fn list(conn: &mut PgConn, include_inactive: bool) -> Result<Vec<Agent>, DbError> {
    let mut query = agents::table
        .select(AgentRow::as_select())
        .order(agents::display_name.asc())
        .into_boxed();
    if !include_inactive {
        query = query.filter(agents::active.eq(true));
    }
    query
        .load(conn)
        .await?
        .into_iter()
        .map(Agent::try_from)
        .collect()
}

/// Fields an admin may change; `None` leaves a field as it is.
#[derive(Default, AsChangeset)]
#[diesel(table_name = agents)]
pub struct AgentChanges<'a> {
    pub display_name: Option<&'a str>,
    pub role: Option<Role>,
    pub password_hash: Option<&'a str>,
    pub active: Option<bool>,
    pub status: Option<AgentStatus>,
    pub status_changed_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub async fn update(
    conn: &mut PgConn,
    id: Uuid,
    mut changes: AgentChanges<'_>,
) -> Result<Option<Agent>, DbError> {
    changes.updated_at = Some(Utc::now());
    let row = diesel::update(agents::table.find(id))
        .set(changes)
        .returning(AgentRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    row.map(Agent::try_from).transpose()
}

/// What goes with a status (wrap-up time, away reason) belongs to that status only: every status
/// change clears it, and whoever moved the agent records the new details after the move.
#[allow(clippy::type_complexity)]
fn clear_details() -> (
    diesel::dsl::Eq<agents::away_reason, Option<String>>,
    diesel::dsl::Eq<agents::missed_call_from, Option<String>>,
    diesel::dsl::Eq<agents::wrap_up_call_id, Option<Uuid>>,
    diesel::dsl::Eq<agents::wrap_up_until, Option<DateTime<Utc>>>,
    diesel::dsl::Eq<agents::wrap_up_extended, bool>,
) {
    (
        agents::away_reason.eq(None::<String>),
        agents::missed_call_from.eq(None::<String>),
        agents::wrap_up_call_id.eq(None::<Uuid>),
        agents::wrap_up_until.eq(None::<DateTime<Utc>>),
        agents::wrap_up_extended.eq(false),
    )
}

/// Sets an agent's presence; a no-op change keeps `status_changed_at`, so idle time stays honest.
/// Moves an agent's status from `from` to `to` if it is still `from`; returns whether it did.
pub async fn move_status(
    conn: &mut PgConn,
    id: Uuid,
    from: AgentStatus,
    to: AgentStatus,
) -> Result<bool, DbError> {
    let now = Utc::now();
    let moved = diesel::update(agents::table.find(id).filter(agents::status.eq(from)))
        .set((
            agents::status.eq(to),
            agents::status_changed_at.eq(now),
            agents::updated_at.eq(now),
            clear_details(),
        ))
        .execute(conn)
        .await?;
    Ok(moved == 1)
}

pub async fn set_status(
    conn: &mut PgConn,
    id: Uuid,
    status: AgentStatus,
) -> Result<Option<Agent>, DbError> {
    let now = Utc::now();
    let row = diesel::update(agents::table.find(id).filter(agents::status.ne(status)))
        .set((
            agents::status.eq(status),
            agents::status_changed_at.eq(now),
            agents::updated_at.eq(now),
            clear_details(),
        ))
        .returning(AgentRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match row {
        Some(row) => Agent::try_from(row).map(Some),
        None => find(conn, id).await,
    }
}
