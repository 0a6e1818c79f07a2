//! Sign-in sessions and failed sign-in attempts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::agents::AgentRow;
use super::prepared::KeepPrepared;
use super::schema::{agents, login_failures, sessions};
use super::{DbError, PgConn};
use crate::domain::agent::Agent;

pub async fn create(
    conn: &mut PgConn,
    agent_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<Uuid, DbError> {
    let id = Uuid::new_v4();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::agent_id.eq(agent_id),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

/// The agent behind a live session: not revoked, not expired, agent still active.
pub async fn find_active_agent(
    conn: &mut PgConn,
    session_id: Uuid,
) -> Result<Option<Agent>, DbError> {
    let row = sessions::table
        .inner_join(agents::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(Utc::now()))
        .filter(agents::active.eq(true))
        .select(AgentRow::as_select())
        .first(conn)
        .await
        .optional()?;
    row.map(Agent::try_from).transpose()
}

/// Of these sessions, those still live (see [`find_active_agent`]), each with its agent: one
/// query for every open live-event stream.
pub async fn find_active_agents(
    conn: &mut PgConn,
    session_ids: &[Uuid],
) -> Result<Vec<(Uuid, Agent)>, DbError> {
    let rows: Vec<(Uuid, AgentRow)> = sessions::table
        .inner_join(agents::table)
        .filter(sessions::id.eq_any(session_ids))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(Utc::now()))
        .filter(agents::active.eq(true))
        .select((sessions::id, AgentRow::as_select()))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(id, row)| Ok((id, Agent::try_from(row)?)))
        .collect()
}

pub async fn revoke(conn: &mut PgConn, session_id: Uuid) -> Result<(), DbError> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends every session of an agent, e.g. when an admin deactivates them or resets their password.
/// Returns how many were still live.
pub async fn revoke_all_for_agent(conn: &mut PgConn, agent_id: Uuid) -> Result<usize, DbError> {
    let ended = diesel::update(
        sessions::table
            .filter(sessions::agent_id.eq(agent_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await?;
    Ok(ended)
}

/// Serialises sign-in attempts for this email from this address, and for this address, until
/// the transaction ends, so counting the recent failures and recording this attempt happen as
/// one step. The pair's lock is always taken first, so two attempts can't wait on each other.
pub async fn lock_login_attempts(
    conn: &mut PgConn,
    email: &str,
    client_ip: &str,
) -> Result<(), DbError> {
    for key in [
        format!("login-pair:{email}\n{client_ip}"),
        format!("login-ip:{client_ip}"),
    ] {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .keep_prepared()
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub async fn record_login_failure(
    conn: &mut PgConn,
    email: &str,
    client_ip: &str,
) -> Result<(), DbError> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::email.eq(email),
            login_failures::client_ip.eq(client_ip),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// How many failures a key has since some time, and when the latest was.
#[derive(Debug, Clone, Copy, Default)]
pub struct FailureCount {
    pub count: i64,
    pub latest: Option<DateTime<Utc>>,
}

/// Failures since `since` for this email from this address, and for this address whatever the
/// email.
pub struct RecentFailures {
    pub pair: FailureCount,
    pub address: FailureCount,
}

pub async fn recent_login_failures(
    conn: &mut PgConn,
    email: &str,
    client_ip: &str,
    since: DateTime<Utc>,
) -> Result<RecentFailures, DbError> {
    let (count, latest): (i64, Option<DateTime<Utc>>) = login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::client_ip.eq(client_ip))
        .filter(login_failures::at.gt(since))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(login_failures::at),
        ))
        .first(conn)
        .await?;
    let pair = FailureCount { count, latest };
    let (count, latest): (i64, Option<DateTime<Utc>>) = login_failures::table
        .filter(login_failures::client_ip.eq(client_ip))
        .filter(login_failures::at.gt(since))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(login_failures::at),
        ))
        .first(conn)
        .await?;
    Ok(RecentFailures {
        pair,
        address: FailureCount { count, latest },
    })
}

/// Forgets this email's failures from this address (it just signed in from there).
pub async fn clear_login_failures(
    conn: &mut PgConn,
    email: &str,
    client_ip: &str,
) -> Result<(), DbError> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::email.eq(email))
            .filter(login_failures::client_ip.eq(client_ip)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes sessions that expired before `now` (revoked or not: neither can sign anyone in) and
/// failed sign-ins older than `failures_before` (outside every lockout window). Returns how many
/// of each went.
pub async fn prune(
    conn: &mut PgConn,
    now: DateTime<Utc>,
    failures_before: DateTime<Utc>,
) -> Result<(usize, usize), DbError> {
    let sessions = diesel::delete(sessions::table.filter(sessions::expires_at.lt(now)))
        .execute(conn)
        .await?;
    let failures =
        diesel::delete(login_failures::table.filter(login_failures::at.lt(failures_before)))
            .execute(conn)
            .await?;
    Ok((sessions, failures))
}

/// Forgets every failure for this email, from every address (an admin unlocked the account).
pub async fn clear_all_login_failures(conn: &mut PgConn, email: &str) -> Result<u64, DbError> {
    let removed = diesel::delete(login_failures::table.filter(login_failures::email.eq(email)))
        .execute(conn)
        .await?;
    Ok(removed as u64)
}
