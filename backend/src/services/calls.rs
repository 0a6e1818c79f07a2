//! Reading calls: history, one call's detail with its timeline, the queue, an agent's current call.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::db::calls::{CallAgent, CallEvent, CallFilter, TransferBrief};
use crate::db::{self, DbError, DbPool, PgConn};
use crate::domain::audience::{call_audience, Audience};
use crate::domain::board::{assign_to, front_of_queue, live_state, LiveCallState};
use crate::domain::call::{Call, CallStatus, MonitorMode, Participant, Transfer};
use crate::domain::engine::TimelineEvent;
use crate::events::EventBus;

pub struct CallDetail {
    pub call: Call,
    pub owner_name: Option<String>,
    pub participants: Vec<(Participant, String)>,
    pub transfers: Vec<Transfer>,
    pub timeline: Vec<CallEvent>,
    pub disposition: Option<db::presence::StoredDisposition>,
    pub disposition_code: Option<String>,
    /// Names of the agents the call mentions (owner, legs, transfer targets).
    pub agent_names: HashMap<Uuid, String>,
}

pub struct CallSummary {
    pub call: Call,
    pub owner_name: Option<String>,
    /// The disposition code the call was filed under.
    pub disposition: Option<String>,
    /// Every agent with a leg on the call, in the order they joined.
    pub handled_by: Vec<CallAgent>,
    pub transfers: Vec<TransferBrief>,
    /// What the call is doing now, when read with its legs (a call's detail, its live event,
    /// the live board); history pages leave it out.
    pub live_state: Option<LiveCallState>,
    /// The supervisors on the call now, when read with its legs.
    pub monitors: Vec<MonitorBrief>,
}

/// A supervisor on a live call, and how.
pub struct MonitorBrief {
    pub agent_id: Uuid,
    pub name: String,
    pub mode: MonitorMode,
    pub joined: bool,
}

pub struct CallPage {
    pub items: Vec<CallSummary>,
    pub next_cursor: Option<String>,
}

pub struct HistoryQuery {
    pub status: Option<CallStatus>,
    pub agent_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// Names of agents by id, in one query.
async fn agent_names(
    conn: &mut PgConn,
    mut ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, DbError> {
    ids.sort_unstable();
    ids.dedup();
    db::agents::names(conn, &ids).await
}

/// Each leg with the name it shows: its agent's, or its phone number.
fn named_legs(
    participants: Vec<Participant>,
    names: &HashMap<Uuid, String>,
) -> Vec<(Participant, String)> {
    participants
        .into_iter()
        .map(|p| {
            let name = match (p.agent_id, &p.phone) {
                (Some(id), _) => names.get(&id).cloned().unwrap_or_else(|| "agent".into()),
                (None, Some(phone)) => phone.clone(),
                (None, None) => "unknown".into(),
            };
            (p, name)
        })
        .collect()
}

/// The agents a call mentions: its owner, its agents' legs and its transfers' targets.
fn mentioned_agents(
    call: &Call,
    participants: &[Participant],
    transfers: &[Transfer],
) -> Vec<Uuid> {
    participants
        .iter()
        .filter_map(|p| p.agent_id)
        .chain(call.owner_agent_id)
        .chain(transfers.iter().filter_map(|t| t.to_agent_id))
        .collect()
}

async fn detail_of(conn: &mut PgConn, call: Call) -> Result<CallDetail, DbError> {
    let participants = db::calls::participants_of(conn, call.id).await?;
    let transfers = db::calls::transfers_of(conn, call.id).await?;
    let timeline = db::calls::events_of(conn, call.id).await?;
    let ids = mentioned_agents(&call, &participants, &transfers);
    let names = agent_names(conn, ids).await?;
    let participants = named_legs(participants, &names);
    let owner_name = call.owner_agent_id.and_then(|id| names.get(&id).cloned());
    let disposition = db::presence::disposition_of(conn, call.id).await?;
    Ok(CallDetail {
        call,
        owner_name,
        participants,
        transfers,
        timeline,
        disposition_code: disposition.as_ref().and_then(|d| d.code.clone()),
        disposition,
        agent_names: names,
    })
}

// A call's detail is read in several queries; one read-only snapshot keeps them consistent
// (a callback committing in between would otherwise show, say, a transfer consulting with its
// target's leg still ringing).

pub async fn call_detail(pool: &DbPool, id: Uuid) -> ServiceResult<CallDetail> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run::<_, ServiceError, _>(async |conn| {
            let call = db::calls::find_call(conn, id)
                .await?
                .ok_or(ServiceError::NotFound("call"))?;
            Ok(detail_of(conn, call).await?)
        })
        .await
}

/// Several calls as their live events show them (summary and who may see it), read together:
/// one query per table for however many calls, in one read-only snapshot (as `call_detail`
/// reads one call). Calls that do not exist are left out.
pub async fn call_summaries(pool: &DbPool, ids: &[Uuid]) -> ServiceResult<Vec<CallDetail>> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    let (calls, legs, transfers, names, mut codes) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run::<_, DbError, _>(async |conn| {
            let calls = db::calls::find_calls(conn, ids).await?;
            let found: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
            let legs = db::calls::participants_of_calls(conn, &found).await?;
            let transfers = db::calls::transfers_of_calls(conn, &found).await?;
            let mentioned: Vec<Uuid> = calls
                .iter()
                .filter_map(|c| c.owner_agent_id)
                .chain(legs.iter().filter_map(|p| p.agent_id))
                .chain(transfers.iter().filter_map(|t| t.to_agent_id))
                .collect();
            let names = agent_names(conn, mentioned).await?;
            let codes = db::presence::disposition_codes(conn, &found).await?;
            Ok((calls, legs, transfers, names, codes))
        })
        .await?;
    let mut legs = by_call(legs, |p| p.call_id);
    let mut transfers = by_call(transfers, |t| t.call_id);
    Ok(calls
        .into_iter()
        .map(|call| {
            let legs = legs.remove(&call.id).unwrap_or_default();
            let transfers = transfers.remove(&call.id).unwrap_or_default();
            let names: HashMap<Uuid, String> = mentioned_agents(&call, &legs, &transfers)
                .into_iter()
                .filter_map(|id| names.get(&id).map(|n| (id, n.clone())))
                .collect();
            CallDetail {
                owner_name: call.owner_agent_id.and_then(|id| names.get(&id).cloned()),
                disposition_code: codes.remove(&call.id),
                participants: named_legs(legs, &names),
                transfers,
                // A summary shows neither the timeline nor the disposition's notes.
                timeline: Vec::new(),
                disposition: None,
                agent_names: names,
                call,
            }
        })
        .collect())
}

pub async fn current_call(pool: &DbPool, agent_id: Uuid) -> ServiceResult<Option<CallDetail>> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run::<_, ServiceError, _>(async |conn| {
            match db::calls::current_call_for_agent(conn, agent_id).await? {
                Some(call) => Ok(Some(detail_of(conn, call).await?)),
                None => Ok(None),
            }
        })
        .await
}

/// The live board's calls: every call not yet over, oldest first, each read with its legs so
/// it says what it is doing now. Bounded: a board shows at most this many.
pub const LIVE_CALLS_MAX: i64 = 500;

pub async fn live_calls(pool: &DbPool) -> ServiceResult<Vec<CallSummary>> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run::<_, ServiceError, _>(async |conn| {
            let mut out = Vec::new();
            for call in db::calls::live_calls(conn, LIVE_CALLS_MAX).await? {
                out.push(detail_of(conn, call).await?.summary());
            }
            Ok(out)
        })
        .await
}

/// Moves a queued call to the front of the queue (a supervisor's decision): the router takes
/// the queue in this order. Refused (409) for a call not queued or already first.
pub async fn move_to_front(pool: &DbPool, id: Uuid, by: Uuid) -> ServiceResult<Call> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    conn.transaction::<_, ServiceError, _>(async |conn| {
        let mut call = db::calls::lock_call(conn, id)
            .await?
            .ok_or(ServiceError::NotFound("call"))?;
        let first = db::calls::first_waiting_except(conn, id).await?;
        let at = front_of_queue(&call, first).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        db::calls::set_queued_at(conn, id, at).await?;
        db::calls::record_event(conn, id, &TimelineEvent::MovedToFront { by }, None).await?;
        call.queued_at = at;
        Ok(call)
    })
    .await
}

/// Gives a queued call to an agent (a supervisor's decision): first in line, offered to that
/// agent as soon as they are free (see [`assign_to`]).
pub async fn assign(pool: &DbPool, id: Uuid, agent_id: Uuid, by: Uuid) -> ServiceResult<Call> {
    let mut conn = pool.get().await.map_err(DbError::from)?;
    conn.transaction::<_, ServiceError, _>(async |conn| {
        let call = db::calls::lock_call(conn, id)
            .await?
            .ok_or(ServiceError::NotFound("call"))?;
        let agent = db::agents::find(conn, agent_id)
            .await?
            .ok_or(ServiceError::NotFound("agent"))?;
        let first = db::calls::first_waiting_except(conn, id).await?;
        let at = assign_to(&call, agent.status, agent.active, first)
            .map_err(|e| ServiceError::Conflict(e.to_string()))?;
        if let Some(at) = at {
            db::calls::set_queued_at(conn, id, at).await?;
        }
        let call = db::calls::update_call(
            conn,
            id,
            db::calls::CallChanges {
                prefer_agent_id: Some(Some(agent_id)),
                ..Default::default()
            },
        )
        .await?;
        let event = TimelineEvent::AssignedTo { agent_id, by };
        db::calls::record_event(conn, id, &event, None).await?;
        Ok(call)
    })
    .await
}

/// One page of the queue, longest-waiting first.
pub struct QueuePage {
    pub items: Vec<Call>,
    /// Calls waiting in all: on the first page only (later pages skip the count). With more
    /// than one page waiting, it may be a moment behind the page (see [`WaitingTotal`]).
    pub total: Option<i64>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// One page of the queue, keyset-paged on the router's order `(queued_at, id)`: a caller who
/// waits throughout is on exactly one page of a walk, however many join or leave meanwhile.
/// The first page carries the total: the page itself when it holds every waiting call, else
/// [`WaitingTotal`]'s count.
pub async fn queue(
    pool: &DbPool,
    waiting: &WaitingTotal,
    page: QueuePageRequest,
) -> ServiceResult<QueuePage> {
    if !(1..=QueuePageRequest::MAX_LIMIT).contains(&page.limit) {
        return Err(
            crate::domain::ValidationError::new("limit", "must be between 1 and 200").into(),
        );
    }
    // A cursor is only ever one this API handed out: anything else is a malformed request.
    let after = page
        .cursor
        .as_deref()
        .map(decode_cursor)
        .transpose()
        .map_err(ServiceError::BadInput)?;
    let mut conn = pool.get().await.map_err(DbError::from)?;
    // One more than asked: whether it comes says whether there is a next page.
    let mut items = match after {
        None => db::calls::first_waiting_calls(&mut conn, page.limit + 1).await?,
        Some(after) => db::calls::waiting_calls_after(&mut conn, after, page.limit + 1).await?,
    };
    let more = items.len() > page.limit as usize;
    let total = match (after, more) {
        (Some(_), _) => None,
        (None, false) => Some(items.len() as i64),
        // Never fewer than the page showed, whatever a count from a moment ago says.
        (None, true) => Some(waiting.get(&mut conn).await?.max(items.len() as i64)),
    };
    let next_cursor = if more {
        items.truncate(page.limit as usize);
        items.last().map(|c| encode_cursor(c.queued_at, c.id))
    } else {
        None
    };
    Ok(QueuePage {
        items,
        total,
        next_cursor,
    })
}

/// How many calls wait in all, for the queue's first page. Counting is a walk over every
/// waiting call, so with thousands waiting a count per request would cost more than the page:
/// a count is kept until the queue changes (as the [`EventBus`] hears of it, from this
/// instance or another) and at most [`WaitingTotal::RECOUNT_AFTER`]. Nothing is held while
/// counting: requests that find no current count each count (as they did before there was
/// one), so a slow database never makes them queue up holding connections.
#[derive(Clone)]
pub struct WaitingTotal {
    events: EventBus,
    counted: std::sync::Arc<std::sync::Mutex<Option<Counted>>>,
}

#[derive(Clone, Copy)]
struct Counted {
    queue_version: u64,
    at: std::time::Instant,
    total: i64,
}

impl WaitingTotal {
    /// A count is not trusted longer than this even when no change was heard (a change on
    /// another instance is heard through the database, which may be out of reach).
    pub const RECOUNT_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

    pub fn new(events: EventBus) -> Self {
        Self {
            events,
            counted: Default::default(),
        }
    }

    async fn get(&self, conn: &mut PgConn) -> Result<i64, DbError> {
        // Read before counting: a change that lands during the count makes the next request
        // count again.
        let version = self.events.queue_version();
        if let Some(c) = *self.lock() {
            if c.queue_version == version && c.at.elapsed() < Self::RECOUNT_AFTER {
                return Ok(c.total);
            }
        }
        let total = db::calls::count_waiting(conn).await?;
        let mut counted = self.lock();
        // A count that started before another request's keeps the newer one.
        if counted.is_none_or(|c| c.queue_version <= version) {
            *counted = Some(Counted {
                queue_version: version,
                at: std::time::Instant::now(),
                total,
            });
        }
        Ok(total)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Counted>> {
        self.counted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Which page of the queue to read: `limit` 1–200, from the start or after `cursor` (a
/// `next_cursor` this API returned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePageRequest {
    pub limit: i64,
    pub cursor: Option<String>,
}

impl QueuePageRequest {
    pub const DEFAULT_LIMIT: i64 = 50;
    pub const MAX_LIMIT: i64 = 200;

    pub fn first() -> Self {
        Self {
            limit: Self::DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

/// A page's end as a cursor: its last call's sort key, `(created_at, id)` for history and
/// `(queued_at, id)` for the queue.
fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", at.timestamp_micros(), id.simple())
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), crate::domain::ValidationError> {
    let bad = || crate::domain::ValidationError::new("cursor", "is not a cursor this API returned");
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((at, id))
}

pub async fn history(pool: &DbPool, query: HistoryQuery) -> ServiceResult<CallPage> {
    if !(1..=200).contains(&query.limit) {
        return Err(
            crate::domain::ValidationError::new("limit", "must be between 1 and 200").into(),
        );
    }
    // As for the queue: a cursor this API never returned is a malformed request.
    let before = query
        .cursor
        .as_deref()
        .map(decode_cursor)
        .transpose()
        .map_err(ServiceError::BadInput)?;
    let filter = CallFilter {
        status: query.status,
        agent_id: query.agent_id,
        since: query.since,
        until: query.until,
        before,
        limit: i64::from(query.limit) + 1,
    };
    let mut conn = pool.get().await.map_err(DbError::from)?;
    // The page and what it shows of each call come from one snapshot, so they agree.
    let (calls, handled_by, transfers, names, mut dispositions) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run::<_, DbError, _>(async |conn| {
            let calls = db::calls::list_calls(conn, &filter).await?;
            let ids: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
            let handled_by = db::calls::agents_on_calls(conn, &ids).await?;
            let transfers = db::calls::transfers_on_calls(conn, &ids).await?;
            let owners = calls.iter().filter_map(|c| c.owner_agent_id).collect();
            let names = agent_names(conn, owners).await?;
            let dispositions = db::presence::disposition_codes(conn, &ids).await?;
            Ok((calls, handled_by, transfers, names, dispositions))
        })
        .await?;
    let mut calls = calls;
    let next_cursor = if calls.len() > query.limit as usize {
        calls.truncate(query.limit as usize);
        calls.last().map(|c| encode_cursor(c.created_at, c.id))
    } else {
        None
    };
    let mut handled_by = by_call(handled_by, |a| a.call_id);
    let mut transfers = by_call(transfers, |t| t.call_id);
    let items = calls
        .into_iter()
        .map(|call| CallSummary {
            owner_name: call.owner_agent_id.and_then(|id| names.get(&id).cloned()),
            disposition: dispositions.remove(&call.id),
            handled_by: handled_by.remove(&call.id).unwrap_or_default(),
            transfers: transfers.remove(&call.id).unwrap_or_default(),
            live_state: None,
            monitors: Vec::new(),
            call,
        })
        .collect();
    Ok(CallPage { items, next_cursor })
}

/// Groups rows by their call, keeping each call's rows in order.
fn by_call<T>(rows: Vec<T>, call_of: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(call_of(&row)).or_default().push(row);
    }
    grouped
}

impl CallDetail {
    /// The call as the history list shows it, from what the detail holds: the same agents,
    /// in the same order, and the same transfers as `history` reads for a page.
    pub fn summary(&self) -> CallSummary {
        // Each agent once, ordered by their first join (or, for one who only rang, their first
        // ring): the same rule as `db::calls::agents_on_calls`.
        let mut first: Vec<(Uuid, Option<DateTime<Utc>>, DateTime<Utc>)> = Vec::new();
        for (leg, _) in &self.participants {
            let Some(agent_id) = leg.agent_id else {
                continue;
            };
            match first.iter_mut().find(|(id, _, _)| *id == agent_id) {
                Some((_, joined, rung)) => {
                    *joined = match (*joined, leg.joined_at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    *rung = (*rung).min(leg.created_at);
                }
                None => first.push((agent_id, leg.joined_at, leg.created_at)),
            }
        }
        first.sort_by_key(|(id, joined, rung)| (joined.unwrap_or(*rung), *id));
        let handled_by: Vec<CallAgent> = first
            .into_iter()
            .map(|(agent_id, joined, _)| CallAgent {
                call_id: self.call.id,
                agent_id,
                name: self
                    .agent_names
                    .get(&agent_id)
                    .cloned()
                    .unwrap_or_else(|| "agent".into()),
                joined: joined.is_some(),
            })
            .collect();
        let transfers = self
            .transfers
            .iter()
            .map(|t| TransferBrief {
                call_id: t.call_id,
                mode: t.mode,
                status: t.status,
                from_agent_id: t.from_agent_id,
                to_agent_id: t.to_agent_id,
                to_name: t
                    .to_agent_id
                    .and_then(|id| self.agent_names.get(&id).cloned()),
                to_number: t.to_number.clone(),
            })
            .collect();
        let legs: Vec<Participant> = self.participants.iter().map(|(p, _)| p.clone()).collect();
        let monitors = self
            .participants
            .iter()
            .filter(|(p, _)| {
                p.status.is_pending()
                    || p.status == crate::domain::call::ParticipantStatus::Connected
            })
            .filter_map(|(p, name)| {
                Some(MonitorBrief {
                    agent_id: p.agent_id?,
                    name: name.clone(),
                    mode: p.monitor_mode?,
                    joined: p.status == crate::domain::call::ParticipantStatus::Connected,
                })
            })
            .collect();
        CallSummary {
            monitors,
            live_state: live_state(&self.call, &legs, &self.transfers),
            call: self.call.clone(),
            owner_name: self.owner_name.clone(),
            disposition: self.disposition_code.clone(),
            handled_by,
            transfers,
        }
    }

    /// Who may see this call: admins, and the agents it concerns (see [`call_audience`]).
    pub fn audience(&self) -> Audience {
        let participants: Vec<Participant> =
            self.participants.iter().map(|(p, _)| p.clone()).collect();
        call_audience(&self.call, &participants, &self.transfers)
    }
}
