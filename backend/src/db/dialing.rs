//! The dialing policy row and the log of outside dials its limits count.

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::prepared::KeepPrepared;
use super::schema::{dialing_policy, outside_dials};
use super::{DbError, PgConn};
use crate::domain::dialing::{DialCounts, DialingPolicy, PolicyInput};

/// The saved policy and who saved it last.
#[derive(Debug, Clone)]
pub struct StoredPolicy {
    pub policy: DialingPolicy,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = dialing_policy)]
struct PolicyRow {
    allowed_country_codes: Vec<i32>,
    allowed_prefixes: Vec<String>,
    allowed_premium_prefixes: Vec<String>,
    international_for_agents: bool,
    max_dials_per_agent_per_hour: i32,
    max_dials_per_call: i32,
    updated_at: DateTime<Utc>,
    updated_by: Option<Uuid>,
}

impl TryFrom<PolicyRow> for StoredPolicy {
    type Error = DbError;

    fn try_from(row: PolicyRow) -> Result<Self, DbError> {
        let codes = row
            .allowed_country_codes
            .iter()
            .map(|&c| u32::try_from(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DbError::Corrupt(format!("dialing_policy country code: {e}")))?;
        let policy = DialingPolicy::parse(PolicyInput {
            allowed_country_codes: &codes,
            allowed_prefixes: &row.allowed_prefixes,
            allowed_premium_prefixes: &row.allowed_premium_prefixes,
            international_for_agents: row.international_for_agents,
            max_dials_per_agent_per_hour: row.max_dials_per_agent_per_hour.into(),
            max_dials_per_call: row.max_dials_per_call.into(),
        })
        .map_err(|e| DbError::Corrupt(format!("dialing_policy: {e}")))?;
        Ok(Self {
            policy,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
        })
    }
}

/// The saved policy, or `None` while the built-in default applies.
pub async fn load_policy(conn: &mut PgConn) -> Result<Option<StoredPolicy>, DbError> {
    let row = dialing_policy::table
        .select(PolicyRow::as_select())
        .first(conn)
        .await
        .optional()?;
    row.map(StoredPolicy::try_from).transpose()
}

pub async fn save_policy(
    conn: &mut PgConn,
    policy: &DialingPolicy,
    by: Uuid,
) -> Result<StoredPolicy, DbError> {
    let codes: Vec<i32> = policy
        .allowed_country_codes
        .iter()
        .map(|c| i32::from(c.value()))
        .collect();
    let strings = |set: &std::collections::BTreeSet<crate::domain::dialing::NumberPrefix>| {
        set.iter()
            .map(|p| p.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    // The limits are bounded far below i32::MAX by the domain.
    let limit = |l: crate::domain::dialing::DialLimit| i32::try_from(l.value()).unwrap_or(i32::MAX);
    let row = diesel::insert_into(dialing_policy::table)
        .values((
            dialing_policy::id.eq(true),
            dialing_policy::allowed_country_codes.eq(codes),
            dialing_policy::allowed_prefixes.eq(strings(&policy.allowed_prefixes)),
            dialing_policy::allowed_premium_prefixes.eq(strings(&policy.allowed_premium_prefixes)),
            dialing_policy::international_for_agents.eq(policy.international_for_agents),
            dialing_policy::max_dials_per_agent_per_hour
                .eq(limit(policy.max_dials_per_agent_per_hour)),
            dialing_policy::max_dials_per_call.eq(limit(policy.max_dials_per_call)),
            dialing_policy::updated_at.eq(Utc::now()),
            dialing_policy::updated_by.eq(Some(by)),
        ))
        .on_conflict(dialing_policy::id)
        .do_update()
        .set((
            dialing_policy::allowed_country_codes
                .eq(excluded(dialing_policy::allowed_country_codes)),
            dialing_policy::allowed_prefixes.eq(excluded(dialing_policy::allowed_prefixes)),
            dialing_policy::allowed_premium_prefixes
                .eq(excluded(dialing_policy::allowed_premium_prefixes)),
            dialing_policy::international_for_agents
                .eq(excluded(dialing_policy::international_for_agents)),
            dialing_policy::max_dials_per_agent_per_hour
                .eq(excluded(dialing_policy::max_dials_per_agent_per_hour)),
            dialing_policy::max_dials_per_call.eq(excluded(dialing_policy::max_dials_per_call)),
            dialing_policy::updated_at.eq(excluded(dialing_policy::updated_at)),
            dialing_policy::updated_by.eq(excluded(dialing_policy::updated_by)),
        ))
        .returning(PolicyRow::as_returning())
        .get_result(conn)
        .await?;
    StoredPolicy::try_from(row)
}

/// Serialises outside dials by one agent until the transaction ends, so counting their recent
/// dials and recording this one are one step even across backend instances. (Dials on one call
/// are already serialised by the call's row lock.)
pub async fn lock_agent_dials(conn: &mut PgConn, agent_id: Uuid) -> Result<(), DbError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(format!("outside-dials:{agent_id}"))
        .keep_prepared()
        .execute(conn)
        .await?;
    Ok(())
}

/// The allowed outside dials the limits count: by this agent since `since`, and on this call.
pub async fn recent_counts(
    conn: &mut PgConn,
    agent_id: Uuid,
    call_id: Uuid,
    since: DateTime<Utc>,
) -> Result<DialCounts, DbError> {
    let (by_agent, oldest): (i64, Option<DateTime<Utc>>) = outside_dials::table
        .filter(outside_dials::agent_id.eq(agent_id))
        .filter(outside_dials::allowed)
        .filter(outside_dials::at.gt(since))
        .select((count_star(), min(outside_dials::at)))
        .get_result(conn)
        .await?;
    let on_call: i64 = outside_dials::table
        .filter(outside_dials::call_id.eq(call_id))
        .filter(outside_dials::allowed)
        .count()
        .get_result(conn)
        .await?;
    let clamp = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(DialCounts {
        by_agent_in_window: clamp(by_agent),
        oldest_by_agent_in_window: oldest,
        on_call: clamp(on_call),
    })
}

/// Logs one outside dial asked for; `refusal` is the reason's code when it was refused.
pub async fn record_dial(
    conn: &mut PgConn,
    call_id: Uuid,
    agent_id: Uuid,
    number: &str,
    refusal: Option<&str>,
) -> Result<(), DbError> {
    diesel::insert_into(outside_dials::table)
        .values((
            outside_dials::call_id.eq(call_id),
            outside_dials::agent_id.eq(agent_id),
            outside_dials::number.eq(number),
            outside_dials::allowed.eq(refusal.is_none()),
            outside_dials::refusal.eq(refusal),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
