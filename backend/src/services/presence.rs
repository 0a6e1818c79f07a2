//! After-call work and presence reasons: wrap-up settings (admins), the disposition and
//! away-reason lists (admins manage them), an agent finishing or extending their wrap-up, the
//! wrap-up clock, and filing a call's disposition and notes.

use chrono::Utc;
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::db::presence::{List, ListEntry, PresenceRow, StoredDisposition, StoredSettings};
use crate::db::{self, DbError, DbPool, PgConn};
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::call::ParticipantKind;
use crate::domain::engine::{leg_may_be_live, TimelineEvent};
use crate::domain::presence::{
    decide_wrap_up, may_file_disposition, parse_label, Code, DispositionActor, Notes,
    SystemAwayReason, WrapUp, WrapUpMove, WrapUpRequest, WrapUpSettings,
};
use crate::services::{ServiceError, ServiceResult};

async fn conn(pool: &DbPool) -> ServiceResult<db::DbConn> {
    Ok(pool.get().await.map_err(DbError::from)?)
}

fn admin_only(agent: &Agent, what: &str) -> ServiceResult<()> {
    if agent.is_admin() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "{what} needs the admin role"
        )))
    }
}

pub async fn settings(pool: &DbPool) -> ServiceResult<StoredSettings> {
    Ok(db::presence::load_settings(&mut *conn(pool).await?).await?)
}

/// Replaces the wrap-up settings (admin). They apply to the next wrap-up that starts; the
/// disposition requirement applies at once.
pub async fn save_settings(
    pool: &DbPool,
    admin: &Agent,
    wrap_up_seconds: i64,
    extension_seconds: i64,
    require_disposition: bool,
) -> ServiceResult<StoredSettings> {
    admin_only(admin, "changing the wrap-up settings")?;
    let settings = WrapUpSettings::parse(wrap_up_seconds, extension_seconds, require_disposition)?;
    let stored = db::presence::save_settings(&mut *conn(pool).await?, &settings, admin.id).await?;
    tracing::info!(admin = %admin.id, ?settings, "wrap-up settings changed");
    Ok(stored)
}

fn list_name(list: List) -> &'static str {
    match list {
        List::Dispositions => "disposition",
        List::AwayReasons => "away reason",
    }
}

/// The list's entries: the active ones, or all of them for an admin who asks.
pub async fn entries(
    pool: &DbPool,
    list: List,
    include_inactive: bool,
) -> ServiceResult<Vec<ListEntry>> {
    Ok(db::presence::list_entries(&mut *conn(pool).await?, list, !include_inactive).await?)
}

/// Adds an entry to a list (admin). Codes are unique; the system's away reasons are reserved.
pub async fn add_entry(
    pool: &DbPool,
    admin: &Agent,
    list: List,
    code: &str,
    label: &str,
) -> ServiceResult<ListEntry> {
    admin_only(admin, "changing the lists")?;
    let code = Code::parse("code", code)?;
    let label = parse_label(label)?;
    if list == List::AwayReasons && SystemAwayReason::is_system(code.as_str()) {
        return Err(crate::domain::ValidationError::new(
            "code",
            format!("{} is the system's own reason", code.as_str()),
        )
        .into());
    }
    let mut conn = conn(pool).await?;
    if !db::presence::insert_entry(&mut conn, list, code.as_str(), &label).await? {
        return Err(ServiceError::Conflict(format!(
            "a {} with the code {} already exists",
            list_name(list),
            code.as_str()
        )));
    }
    Ok(ListEntry {
        code: code.as_str().to_owned(),
        label,
        active: true,
    })
}

/// Relabels, deactivates or reactivates an entry (admin). Entries are never deleted, so calls
/// filed under a deactivated code keep their label.
pub async fn update_entry(
    pool: &DbPool,
    admin: &Agent,
    list: List,
    code: &str,
    label: Option<&str>,
    active: Option<bool>,
) -> ServiceResult<ListEntry> {
    admin_only(admin, "changing the lists")?;
    let label = label.map(parse_label).transpose()?;
    db::presence::update_entry(
        &mut *conn(pool).await?,
        list,
        code,
        label.as_deref(),
        active,
    )
    .await?
    .ok_or(ServiceError::NotFound(match list {
        List::Dispositions => "disposition",
        List::AwayReasons => "away reason",
    }))
}

/// The agent's wrap-up as the rules see it, read in the caller's transaction.
async fn wrap_up_of(
    conn: &mut PgConn,
    agent_id: Uuid,
    row: &PresenceRow,
) -> Result<WrapUp, DbError> {
    let disposed = match row.wrap_up_call_id {
        Some(call_id) => db::presence::has_disposition(conn, call_id).await?,
        None => true,
    };
    let live = db::routing::agents_with_live_legs(conn, &[agent_id], None).await?;
    Ok(WrapUp {
        until: row.wrap_up_until,
        extended: row.wrap_up_extended,
        disposed,
        live_leg: live.contains(&agent_id),
    })
}

/// What became of a wrap-up request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapUpResult {
    /// The agent is available again.
    Available,
    /// The agent's wrap-up goes on until this time.
    Extended(chrono::DateTime<Utc>),
}

/// The agent finishes their wrap-up early (or extends it once), by the rules in
/// [`decide_wrap_up`].
pub async fn request_wrap_up(
    pool: &DbPool,
    agent_id: Uuid,
    request: WrapUpRequest,
) -> ServiceResult<WrapUpResult> {
    let mut conn = conn(pool).await?;
    conn.transaction::<_, ServiceError, _>(async |conn| {
        let row = db::presence::lock_presence(conn, agent_id)
            .await?
            .ok_or(ServiceError::NotFound("agent"))?;
        let settings = db::presence::load_settings(conn).await?.settings;
        let wrap_up = wrap_up_of(conn, agent_id, &row).await?;
        let now = Utc::now();
        match decide_wrap_up(row.status, wrap_up, &settings, request, now)
            .map_err(|r| ServiceError::Conflict(r.to_string()))?
        {
            WrapUpMove::Available => {
                db::agents::move_status(
                    conn,
                    agent_id,
                    AgentStatus::WrapUp,
                    AgentStatus::Available,
                )
                .await?;
                Ok(WrapUpResult::Available)
            }
            WrapUpMove::ExtendTo(until) => {
                db::presence::extend_wrap_up(conn, agent_id, until).await?;
                Ok(WrapUpResult::Extended(until))
            }
            WrapUpMove::Stay | WrapUpMove::AwaitingDisposition => {
                Err(ServiceError::Conflict("your wrap-up goes on".into()))
            }
        }
    })
    .await
}

/// The wrap-up clock: frees agents whose wrap-up time is over (and whose line is clear and
/// disposition filed, when one is required). Any instance may run it; each agent is taken with
/// `SKIP LOCKED` and moved compare-and-set, so none is freed twice. Returns who was freed.
pub async fn release_due_wrap_ups(pool: &DbPool) -> ServiceResult<Vec<Uuid>> {
    let mut conn = conn(pool).await?;
    conn.transaction::<_, ServiceError, _>(async |conn| {
        let now = Utc::now();
        let due = db::presence::lock_wrap_ups_due(conn, now, 100).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let settings = db::presence::load_settings(conn).await?.settings;
        let mut freed = Vec::new();
        for (agent_id, row) in due {
            let wrap_up = wrap_up_of(conn, agent_id, &row).await?;
            let decided = decide_wrap_up(row.status, wrap_up, &settings, WrapUpRequest::Tick, now);
            if decided == Ok(WrapUpMove::Available)
                && db::agents::move_status(
                    conn,
                    agent_id,
                    AgentStatus::WrapUp,
                    AgentStatus::Available,
                )
                .await?
            {
                freed.push(agent_id);
            }
        }
        Ok(freed)
    })
    .await
}

/// Files a call's disposition and notes. `code: None` files notes only (a required disposition
/// is still missing then).
pub async fn file_disposition(
    pool: &DbPool,
    actor: &Agent,
    call_id: Uuid,
    code: Option<&str>,
    notes: Option<&str>,
) -> ServiceResult<StoredDisposition> {
    let notes = notes
        .map(Notes::parse)
        .transpose()
        .map_err(ServiceError::BadInput)?
        .filter(|n| !n.as_str().is_empty());
    let code = code
        .map(|c| Code::parse("code", c))
        .transpose()
        .map_err(ServiceError::BadInput)?;
    let mut conn = conn(pool).await?;
    conn.transaction::<_, ServiceError, _>(async |conn| {
        let call = db::calls::lock_call(conn, call_id)
            .await?
            .ok_or(ServiceError::NotFound("call"))?;
        if let Some(code) = &code {
            let entry = db::presence::find_entry(conn, List::Dispositions, code.as_str()).await?;
            if !entry.is_some_and(|e| e.active) {
                return Err(ServiceError::BadInput(crate::domain::ValidationError::new(
                    "code",
                    format!("{} is not an active disposition", code.as_str()),
                )));
            }
        }
        let who = if actor.may_supervise() {
            DispositionActor::Admin
        } else {
            let legs = db::calls::participants_of(conn, call.id).await?;
            let mine: Vec<_> = legs
                .iter()
                .filter(|p| p.kind == ParticipantKind::Agent && p.agent_id == Some(actor.id))
                .collect();
            if !mine.iter().any(|p| p.joined_at.is_some()) {
                DispositionActor::Stranger
            } else {
                let now = Utc::now();
                let presence = db::presence::presence_of(conn, actor.id).await?;
                DispositionActor::Handler {
                    on_the_call: call.ended_at.is_none()
                        && mine.iter().any(|p| leg_may_be_live(p, now)),
                    wrapping_it_up: presence.is_some_and(|p| {
                        p.status == AgentStatus::WrapUp && p.wrap_up_call_id == Some(call.id)
                    }),
                }
            }
        };
        let already = db::presence::has_disposition(conn, call.id).await?;
        may_file_disposition(who, already).map_err(|r| ServiceError::Forbidden(r.to_string()))?;
        let code = code.as_ref().map(Code::as_str);
        let notes = notes.as_ref().map(Notes::as_str);
        db::presence::set_disposition(conn, call.id, code, notes, actor.id).await?;
        let event = TimelineEvent::DispositionSet {
            by: actor.id,
            code: code.map(str::to_owned),
            notes_chars: notes.map_or(0, |n| n.chars().count()),
        };
        db::calls::record_event(conn, call.id, &event, None).await?;
        db::presence::disposition_of(conn, call.id)
            .await?
            .ok_or(ServiceError::Internal(
                "the disposition just filed is gone".into(),
            ))
    })
    .await
}

/// The away reason an agent picked, checked against the active list.
pub async fn check_away_reason(conn: &mut PgConn, reason: &str) -> ServiceResult<String> {
    let entry = db::presence::find_entry(conn, List::AwayReasons, reason).await?;
    match entry {
        Some(e) if e.active => Ok(e.code),
        _ => Err(ServiceError::BadInput(crate::domain::ValidationError::new(
            "reason",
            format!("{reason:?} is not an active away reason"),
        ))),
    }
}
