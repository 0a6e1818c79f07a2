//! Wrap-up settings, the disposition and away-reason lists, agents' wrap-up and away details,
//! and calls' dispositions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::schema::{agents, away_reasons, call_dispositions, dispositions, wrap_up_settings};
use super::{DbError, PgConn};
use crate::domain::agent::AgentStatus;
use crate::domain::presence::{SystemAwayReason, WrapUpSettings};

/// The saved wrap-up settings and who saved them last.
#[derive(Debug, Clone)]
pub struct StoredSettings {
    pub settings: WrapUpSettings,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = wrap_up_settings)]
struct SettingsRow {
    wrap_up_seconds: i32,
    extension_seconds: i32,
    require_disposition: bool,
    updated_at: DateTime<Utc>,
    updated_by: Option<Uuid>,
}

impl TryFrom<SettingsRow> for StoredSettings {
    type Error = DbError;

    fn try_from(r: SettingsRow) -> Result<Self, DbError> {
        let settings = WrapUpSettings::parse(
            r.wrap_up_seconds.into(),
            r.extension_seconds.into(),
            r.require_disposition,
        )
        .map_err(|e| DbError::Corrupt(format!("wrap_up_settings: {e}")))?;
        Ok(Self {
            settings,
            updated_at: Some(r.updated_at),
            updated_by: r.updated_by,
        })
    }
}

/// The settings in force (the defaults if the row is missing).
pub async fn load_settings(conn: &mut PgConn) -> Result<StoredSettings, DbError> {
    let row = wrap_up_settings::table
        .select(SettingsRow::as_select())
        .first(conn)
        .await
        .optional()?;
    match row {
        Some(row) => row.try_into(),
        None => Ok(StoredSettings {
            settings: WrapUpSettings::default(),
            updated_at: None,
            updated_by: None,
        }),
    }
}

pub async fn save_settings(
    conn: &mut PgConn,
    s: &WrapUpSettings,
    by: Uuid,
) -> Result<StoredSettings, DbError> {
    // Bounded to 1800 by the domain.
    let secs = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    let row = diesel::insert_into(wrap_up_settings::table)
        .values((
            wrap_up_settings::id.eq(true),
            wrap_up_settings::wrap_up_seconds.eq(secs(s.seconds)),
            wrap_up_settings::extension_seconds.eq(secs(s.extension_seconds)),
            wrap_up_settings::require_disposition.eq(s.require_disposition),
            wrap_up_settings::updated_at.eq(Utc::now()),
            wrap_up_settings::updated_by.eq(Some(by)),
        ))
        .on_conflict(wrap_up_settings::id)
        .do_update()
        .set((
            wrap_up_settings::wrap_up_seconds.eq(excluded(wrap_up_settings::wrap_up_seconds)),
            wrap_up_settings::extension_seconds.eq(excluded(wrap_up_settings::extension_seconds)),
            wrap_up_settings::require_disposition
                .eq(excluded(wrap_up_settings::require_disposition)),
            wrap_up_settings::updated_at.eq(excluded(wrap_up_settings::updated_at)),
            wrap_up_settings::updated_by.eq(excluded(wrap_up_settings::updated_by)),
        ))
        .returning(SettingsRow::as_returning())
        .get_result(conn)
        .await?;
    row.try_into()
}

/// One entry of an admin-managed list (a disposition or an away reason).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ListEntry {
    pub code: String,
    pub label: String,
    pub active: bool,
}

/// Which admin-managed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Dispositions,
    AwayReasons,
}

pub async fn list_entries(
    conn: &mut PgConn,
    list: List,
    only_active: bool,
) -> Result<Vec<ListEntry>, DbError> {
    Ok(match list {
        List::Dispositions => {
            let mut q = dispositions::table
                .select((
                    dispositions::code,
                    dispositions::label,
                    dispositions::active,
                ))
                .order(dispositions::created_at.asc())
                .then_order_by(dispositions::code.asc())
                .into_boxed();
            if only_active {
                q = q.filter(dispositions::active.eq(true));
            }
            q.load(conn).await?
        }
        List::AwayReasons => {
            let mut q = away_reasons::table
                .select((
                    away_reasons::code,
                    away_reasons::label,
                    away_reasons::active,
                ))
                .order(away_reasons::created_at.asc())
                .then_order_by(away_reasons::code.asc())
                .into_boxed();
            if only_active {
                q = q.filter(away_reasons::active.eq(true));
            }
            q.load(conn).await?
        }
    })
}

pub async fn find_entry(
    conn: &mut PgConn,
    list: List,
    code: &str,
) -> Result<Option<ListEntry>, DbError> {
    let all = list_entries(conn, list, false).await?;
    Ok(all.into_iter().find(|e| e.code == code))
}

/// Adds an entry; `Ok(false)` when the code is taken.
pub async fn insert_entry(
    conn: &mut PgConn,
    list: List,
    code: &str,
    label: &str,
) -> Result<bool, DbError> {
    let inserted = match list {
        List::Dispositions => {
            diesel::insert_into(dispositions::table)
                .values((dispositions::code.eq(code), dispositions::label.eq(label)))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?
        }
        List::AwayReasons => {
            diesel::insert_into(away_reasons::table)
                .values((away_reasons::code.eq(code), away_reasons::label.eq(label)))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?
        }
    };
    Ok(inserted == 1)
}

/// Changes an entry's label and/or active flag; `None` when there is no such code.
pub async fn update_entry(
    conn: &mut PgConn,
    list: List,
    code: &str,
    label: Option<&str>,
    active: Option<bool>,
) -> Result<Option<ListEntry>, DbError> {
    let now = Utc::now();
    let row = match list {
        List::Dispositions => diesel::update(dispositions::table.find(code))
            .set((
                label.map(|l| dispositions::label.eq(l)),
                active.map(|a| dispositions::active.eq(a)),
                dispositions::updated_at.eq(now),
            ))
            .returning((
                dispositions::code,
                dispositions::label,
                dispositions::active,
            ))
            .get_result(conn)
            .await
            .optional()?,
        List::AwayReasons => diesel::update(away_reasons::table.find(code))
            .set((
                label.map(|l| away_reasons::label.eq(l)),
                active.map(|a| away_reasons::active.eq(a)),
                away_reasons::updated_at.eq(now),
            ))
            .returning((
                away_reasons::code,
                away_reasons::label,
                away_reasons::active,
            ))
            .get_result(conn)
            .await
            .optional()?,
    };
    Ok(row)
}

/// An agent's wrap-up and away details, as stored next to their status.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = agents)]
pub struct PresenceRow {
    pub status: AgentStatus,
    pub away_reason: Option<String>,
    pub missed_call_from: Option<String>,
    pub wrap_up_call_id: Option<Uuid>,
    pub wrap_up_until: Option<DateTime<Utc>>,
    pub wrap_up_extended: bool,
}

pub async fn presence_of(
    conn: &mut PgConn,
    agent_id: Uuid,
) -> Result<Option<PresenceRow>, DbError> {
    Ok(agents::table
        .find(agent_id)
        .select(PresenceRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The agent's presence details, their row locked for the rest of the transaction.
pub async fn lock_presence(
    conn: &mut PgConn,
    agent_id: Uuid,
) -> Result<Option<PresenceRow>, DbError> {
    Ok(agents::table
        .find(agent_id)
        .select(PresenceRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

/// Records the call an agent in wrap-up wraps up, and until when (only while in wrap-up).
pub async fn start_wrap_up(
    conn: &mut PgConn,
    agent_id: Uuid,
    call_id: Uuid,
    until: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(
        agents::table
            .find(agent_id)
            .filter(agents::status.eq(AgentStatus::WrapUp)),
    )
    .set((
        agents::wrap_up_call_id.eq(Some(call_id)),
        agents::wrap_up_until.eq(Some(until)),
        agents::wrap_up_extended.eq(false),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn extend_wrap_up(
    conn: &mut PgConn,
    agent_id: Uuid,
    until: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(
        agents::table
            .find(agent_id)
            .filter(agents::status.eq(AgentStatus::WrapUp)),
    )
    .set((
        agents::wrap_up_until.eq(Some(until)),
        agents::wrap_up_extended.eq(true),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records why the system set an agent away (only while away).
pub async fn set_away_because(
    conn: &mut PgConn,
    agent_id: Uuid,
    reason: SystemAwayReason,
    from_number: &str,
) -> Result<(), DbError> {
    diesel::update(
        agents::table
            .find(agent_id)
            .filter(agents::status.eq(AgentStatus::Away)),
    )
    .set((
        agents::away_reason.eq(Some(reason.as_str().to_owned())),
        agents::missed_call_from.eq(Some(from_number.to_owned())),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the reason an agent chose for being away.
pub async fn set_away_reason(
    conn: &mut PgConn,
    agent_id: Uuid,
    reason: Option<&str>,
) -> Result<(), DbError> {
    diesel::update(agents::table.find(agent_id))
        .set((
            agents::away_reason.eq(reason.map(str::to_owned)),
            agents::missed_call_from.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Agents in timed wrap-up whose time is over, locked (skipping any another instance holds).
pub async fn lock_wrap_ups_due(
    conn: &mut PgConn,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, PresenceRow)>, DbError> {
    Ok(agents::table
        .filter(agents::status.eq(AgentStatus::WrapUp))
        .filter(agents::wrap_up_until.le(now))
        .order(agents::wrap_up_until.asc())
        .limit(limit)
        .select((agents::id, PresenceRow::as_select()))
        .for_update()
        .skip_locked()
        .load(conn)
        .await?)
}

/// A call's disposition.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct StoredDisposition {
    pub code: Option<String>,
    pub label: Option<String>,
    pub notes: Option<String>,
    pub by: Option<Uuid>,
    pub at: Option<DateTime<Utc>>,
}

pub async fn disposition_of(
    conn: &mut PgConn,
    call_id: Uuid,
) -> Result<Option<StoredDisposition>, DbError> {
    type Row = (Option<String>, Option<String>, Option<Uuid>, DateTime<Utc>);
    let row: Option<Row> = call_dispositions::table
        .find(call_id)
        .select((
            call_dispositions::code,
            call_dispositions::notes,
            call_dispositions::by_agent_id,
            call_dispositions::at,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((code, notes, by, at)) = row else {
        return Ok(None);
    };
    let label = match &code {
        Some(code) => find_entry(conn, List::Dispositions, code)
            .await?
            .map(|e| e.label),
        None => None,
    };
    Ok(Some(StoredDisposition {
        code,
        label,
        notes,
        by,
        at: Some(at),
    }))
}

/// Whether the call has a disposition code.
pub async fn has_disposition(conn: &mut PgConn, call_id: Uuid) -> Result<bool, DbError> {
    let code: Option<Option<String>> = call_dispositions::table
        .find(call_id)
        .select(call_dispositions::code)
        .first(conn)
        .await
        .optional()?;
    Ok(code.flatten().is_some())
}

pub async fn set_disposition(
    conn: &mut PgConn,
    call_id: Uuid,
    code: Option<&str>,
    notes: Option<&str>,
    by: Uuid,
) -> Result<(), DbError> {
    let now = Utc::now();
    diesel::insert_into(call_dispositions::table)
        .values((
            call_dispositions::call_id.eq(call_id),
            call_dispositions::code.eq(code),
            call_dispositions::notes.eq(notes),
            call_dispositions::by_agent_id.eq(Some(by)),
            call_dispositions::at.eq(now),
        ))
        .on_conflict(call_dispositions::call_id)
        .do_update()
        .set((
            call_dispositions::code.eq(excluded(call_dispositions::code)),
            call_dispositions::notes.eq(excluded(call_dispositions::notes)),
            call_dispositions::by_agent_id.eq(excluded(call_dispositions::by_agent_id)),
            call_dispositions::at.eq(excluded(call_dispositions::at)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The disposition codes of these calls, by primary key (the history list query itself is left
/// as it is).
pub async fn disposition_codes(
    conn: &mut PgConn,
    call_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, DbError> {
    if call_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(Uuid, Option<String>)> = call_dispositions::table
        .filter(call_dispositions::call_id.eq_any(call_ids))
        .filter(call_dispositions::code.is_not_null())
        .select((call_dispositions::call_id, call_dispositions::code))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, code)| code.map(|c| (id, c)))
        .collect())
}
