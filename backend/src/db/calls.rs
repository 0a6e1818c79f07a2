//! Calls, participants, transfers and the call timeline.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;
use uuid::Uuid;

use super::prepared::KeepPrepared;
use super::schema::{call_events, calls, participants, transfers};
use super::{DbError, PgConn};
use crate::domain::call::{
    Call, CallStatus, MonitorMode, Participant, ParticipantKind, ParticipantStatus, Transfer,
    TransferEndReason, TransferMode, TransferStatus,
};
use crate::domain::engine::{
    CallUpdate, LegUpdate, NewLeg, NewTransfer, TimelineEvent, TransferEnd,
};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = calls)]
pub(super) struct CallRow {
    id: Uuid,
    customer_call_sid: String,
    from_number: String,
    to_number: String,
    conference_name: String,
    conference_sid: Option<String>,
    status: CallStatus,
    owner_agent_id: Option<Uuid>,
    queued_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    prefer_agent_id: Option<Uuid>,
    avoid_agent_id: Option<Uuid>,
}

/// A SID column read back: a value that is no SID of its kind is a corrupt row.
fn stored_sid<T: std::str::FromStr<Err = twilio::sid::InvalidSid>>(
    id: Uuid,
    raw: &str,
) -> Result<T, DbError> {
    raw.parse()
        .map_err(|e| DbError::Corrupt(format!("{id}: {raw:?}: {e}")))
}

fn stored_optional_sid<T: std::str::FromStr<Err = twilio::sid::InvalidSid>>(
    id: Uuid,
    raw: Option<String>,
) -> Result<Option<T>, DbError> {
    raw.map(|raw| stored_sid(id, &raw)).transpose()
}

impl TryFrom<CallRow> for Call {
    type Error = DbError;
    fn try_from(r: CallRow) -> Result<Self, DbError> {
        Ok(Call {
            status: r.status,
            id: r.id,
            customer_call_sid: stored_sid(r.id, &r.customer_call_sid)?,
            from_number: r.from_number,
            to_number: r.to_number,
            conference_name: r.conference_name,
            conference_sid: stored_optional_sid(r.id, r.conference_sid)?,
            owner_agent_id: r.owner_agent_id,
            queued_at: r.queued_at,
            created_at: r.created_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            prefer_agent_id: r.prefer_agent_id,
            avoid_agent_id: r.avoid_agent_id,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = participants)]
pub(super) struct ParticipantRow {
    id: Uuid,
    call_id: Uuid,
    kind: ParticipantKind,
    agent_id: Option<Uuid>,
    phone: Option<String>,
    call_sid: Option<String>,
    status: ParticipantStatus,
    on_hold: bool,
    muted: bool,
    end_conference_on_exit: bool,
    flags_sequence: i32,
    created_at: DateTime<Utc>,
    joined_at: Option<DateTime<Utc>>,
    left_at: Option<DateTime<Utc>>,
    call_ended_at: Option<DateTime<Utc>>,
    monitor_mode: Option<MonitorMode>,
}

impl TryFrom<ParticipantRow> for Participant {
    type Error = DbError;
    fn try_from(r: ParticipantRow) -> Result<Self, DbError> {
        Ok(Participant {
            kind: r.kind,
            status: r.status,
            id: r.id,
            call_id: r.call_id,
            agent_id: r.agent_id,
            phone: r.phone,
            call_sid: stored_optional_sid(r.id, r.call_sid)?,
            on_hold: r.on_hold,
            muted: r.muted,
            end_conference_on_exit: r.end_conference_on_exit,
            flags_sequence: r.flags_sequence,
            created_at: r.created_at,
            joined_at: r.joined_at,
            left_at: r.left_at,
            call_ended_at: r.call_ended_at,
            monitor_mode: r.monitor_mode,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = transfers)]
struct TransferRow {
    id: Uuid,
    call_id: Uuid,
    from_agent_id: Option<Uuid>,
    to_agent_id: Option<Uuid>,
    to_number: Option<String>,
    mode: TransferMode,
    status: TransferStatus,
    target_participant_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    note: Option<String>,
    end_reason: Option<TransferEndReason>,
    ended_by: Option<Uuid>,
    requeued: bool,
}

impl From<TransferRow> for Transfer {
    fn from(r: TransferRow) -> Self {
        Transfer {
            mode: r.mode,
            status: r.status,
            id: r.id,
            call_id: r.call_id,
            from_agent_id: r.from_agent_id,
            to_agent_id: r.to_agent_id,
            to_number: r.to_number,
            target_participant_id: r.target_participant_id,
            created_at: r.created_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            note: r.note,
            end_reason: r.end_reason,
            ended_by: r.ended_by,
            requeued: r.requeued,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = call_events)]
pub struct CallEvent {
    pub id: i64,
    pub call_id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub data: Value,
}

// ---- calls ----

/// Stores one inbound call as [`store_inbound_calls`] does: the call, its customer leg and its
/// `call_received` entry, in one statement. Returns the new call's id, or `None` when the call
/// already exists (Twilio retried the webhook, or the call was adopted meanwhile).
pub async fn store_inbound_call(
    conn: &mut PgConn,
    arriving: ArrivingCall<'_>,
) -> Result<Option<Uuid>, DbError> {
    Ok(store_inbound_calls(conn, &[arriving])
        .await?
        .into_iter()
        .next()
        .map(|(_, id)| id))
}

/// A customer's call to store: as the voice webhook reports it, or adopted from a conference
/// the webhook could not store (which of the two is kept in its `call_received` entry).
#[derive(Debug, Clone, Copy)]
pub struct ArrivingCall<'a> {
    pub customer_call_sid: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub conference_name: &'a str,
    /// Adopted from a conference callback naming this conference.
    pub adopted_from_conference: Option<&'a str>,
    /// Adopted from Twilio's list of live conferences (this conference SID).
    pub adopted_from_twilio: Option<&'a str>,
}

#[derive(QueryableByName)]
struct StoredArrival {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    customer_call_sid: String,
}

/// Stores several arriving calls in one statement, as [`store_inbound_call`] stores one: each
/// call, its customer leg and its `call_received` entry, skipping a call already stored (a
/// retried webhook, or the same call twice in `arrivals`). Returns the calls stored now, by
/// their call SID. Their queue order is their order in `arrivals`.
pub async fn store_inbound_calls(
    conn: &mut PgConn,
    arrivals: &[ArrivingCall<'_>],
) -> Result<Vec<(String, Uuid)>, DbError> {
    use diesel::sql_types::{Array, Jsonb, Text, Uuid as SqlUuid};
    if arrivals.is_empty() {
        return Ok(Vec::new());
    }
    let mut kind = String::new();
    let data: Vec<Value> = arrivals
        .iter()
        .map(|a| {
            let (k, data) = TimelineEvent::CallReceived {
                from: a.from.to_owned(),
                to: a.to.to_owned(),
                adopted_from_conference: a.adopted_from_conference.map(str::to_owned),
                adopted_from_twilio: a.adopted_from_twilio.map(str::to_owned),
            }
            .to_entry();
            kind = k;
            data
        })
        .collect();
    let stored: Vec<StoredArrival> = diesel::sql_query(
        "WITH arriving AS (
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                                  $6::uuid[], $7::jsonb[]) WITH ORDINALITY
                 AS a(call_id, call_sid, from_number, to_number, conference_name, customer_id,
                      received, position)
         ), call AS (
             INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                                status, queued_at)
             SELECT call_id, call_sid, from_number, to_number, conference_name, $8,
                    clock_timestamp()
               FROM arriving ORDER BY position
             ON CONFLICT DO NOTHING
             RETURNING id, customer_call_sid
         ), customer AS (
             INSERT INTO participants (id, call_id, kind, phone, call_sid, status,
                                       end_conference_on_exit)
             SELECT a.customer_id, call.id, $9, a.from_number, call.customer_call_sid, $10, true
               FROM call JOIN arriving a ON a.call_id = call.id
         ), received AS (
             INSERT INTO call_events (call_id, kind, data)
             SELECT call.id, $11, a.received FROM call JOIN arriving a ON a.call_id = call.id
         )
         SELECT id, customer_call_sid FROM call",
    )
    .bind::<Array<SqlUuid>, _>(arrivals.iter().map(|_| Uuid::new_v4()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        arrivals
            .iter()
            .map(|a| a.customer_call_sid)
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Text>, _>(arrivals.iter().map(|a| a.from).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(arrivals.iter().map(|a| a.to).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        arrivals
            .iter()
            .map(|a| a.conference_name)
            .collect::<Vec<_>>(),
    )
    .bind::<Array<SqlUuid>, _>(arrivals.iter().map(|_| Uuid::new_v4()).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(&data)
    .bind::<Text, _>(CallStatus::Queued)
    .bind::<Text, _>(ParticipantKind::Customer)
    .bind::<Text, _>(ParticipantStatus::Ringing)
    .bind::<Text, _>(&kind)
    .keep_prepared()
    .load(conn)
    .await?;
    Ok(stored
        .into_iter()
        .map(|s| (s.customer_call_sid, s.id))
        .collect())
}

pub async fn find_call(conn: &mut PgConn, id: Uuid) -> Result<Option<Call>, DbError> {
    calls::table
        .find(id)
        .select(CallRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Call::try_from)
        .transpose()
}

/// The calls among `ids` that exist, in one query (in no particular order).
pub async fn find_calls(conn: &mut PgConn, ids: &[Uuid]) -> Result<Vec<Call>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    calls::table
        .filter(calls::id.eq_any(ids))
        .select(CallRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Call::try_from)
        .collect()
}

/// Locks the call row for the rest of the transaction, serialising every change to one call
/// across handlers and backend instances.
pub async fn lock_call(conn: &mut PgConn, id: Uuid) -> Result<Option<Call>, DbError> {
    calls::table
        .find(id)
        .select(CallRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .map(Call::try_from)
        .transpose()
}

pub async fn find_call_by_sid(conn: &mut PgConn, sid: &str) -> Result<Option<Call>, DbError> {
    first_call(
        conn,
        calls::table
            .filter(calls::customer_call_sid.eq(sid))
            .into_boxed(),
    )
    .await
}

pub async fn find_call_by_conference(
    conn: &mut PgConn,
    name: &str,
) -> Result<Option<Call>, DbError> {
    first_call(
        conn,
        calls::table
            .filter(calls::conference_name.eq(name))
            .into_boxed(),
    )
    .await
}

async fn first_call(
    conn: &mut PgConn,
    query: calls::BoxedQuery<'_, diesel::pg::Pg>,
) -> Result<Option<Call>, DbError> {
    query
        .select(CallRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Call::try_from)
        .transpose()
}

#[derive(Default, AsChangeset)]
#[diesel(table_name = calls)]
pub struct CallChanges {
    pub status: Option<CallStatus>,
    pub owner_agent_id: Option<Option<Uuid>>,
    /// `Some(None)` forgets a conference that ended while the caller stayed on the line.
    pub conference_sid: Option<Option<String>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// `Some(None)` reopens a call closed too early.
    pub ended_at: Option<Option<DateTime<Utc>>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub prefer_agent_id: Option<Option<Uuid>>,
    pub avoid_agent_id: Option<Option<Uuid>>,
}

impl From<&CallUpdate> for CallChanges {
    fn from(u: &CallUpdate) -> Self {
        Self {
            status: u.status,
            owner_agent_id: u.owner_agent_id,
            conference_sid: u
                .conference_sid
                .as_ref()
                .map(|sid| sid.as_ref().map(|s| s.to_string())),
            answered_at: u.answered_at,
            ended_at: u.ended_at,
            updated_at: None,
            prefer_agent_id: u.prefer_agent_id,
            avoid_agent_id: u.avoid_agent_id,
        }
    }
}

pub async fn update_call(
    conn: &mut PgConn,
    id: Uuid,
    mut changes: CallChanges,
) -> Result<Call, DbError> {
    changes.updated_at = Some(Utc::now());
    diesel::update(calls::table.find(id))
        .set(changes)
        .returning(CallRow::as_returning())
        .get_result(conn)
        .await?
        .try_into()
}

pub struct CallFilter {
    pub status: Option<CallStatus>,
    /// Calls this agent handled: owned, or had any leg on (answered, rung, transfer target).
    pub agent_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Keyset pagination: calls created strictly before this (created_at, id).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// One page of history, newest first: `(created_at, id)` descending.
///
/// Without an agent the page is a range of `calls_created_id_idx` (or, with a status,
/// `calls_status_created_id_idx`), the cursor an index condition; with one it is a range of
/// `call_agents`' primary key (agent, call_created_at, call_id), which the database keeps for
/// every owner and leg, so an agent with half a million calls and one with three cost the same.
pub async fn list_calls(conn: &mut PgConn, filter: &CallFilter) -> Result<Vec<Call>, DbError> {
    use diesel::sql_types::{BigInt, Text, Timestamptz, Uuid as SqlUuid};
    // The columns that order and bound the page: the call's own, or their copies in call_agents.
    let (at, id) = if filter.agent_id.is_some() {
        ("a.call_created_at", "a.call_id")
    } else {
        ("c.created_at", "c.id")
    };
    let mut query = diesel::sql_query(if filter.agent_id.is_some() {
        "SELECT c.* FROM call_agents a JOIN calls c ON c.id = a.call_id WHERE true"
    } else {
        "SELECT c.* FROM calls c WHERE true"
    })
    .into_boxed::<diesel::pg::Pg>();
    // Bound values are sent in order; the text names each one's place, `$1`, `$2`, …
    let mut binds = 0;
    let mut next = || {
        binds += 1;
        format!("${binds}")
    };
    if let Some(agent) = filter.agent_id {
        query = query
            .sql(format!(" AND a.agent_id = {}", next()))
            .bind::<SqlUuid, _>(agent);
    }
    if let Some(status) = filter.status {
        query = query
            .sql(format!(" AND c.status = {}", next()))
            .bind::<Text, _>(status);
    }
    if let Some(since) = filter.since {
        query = query
            .sql(format!(" AND {at} >= {}", next()))
            .bind::<Timestamptz, _>(since);
    }
    if let Some(until) = filter.until {
        query = query
            .sql(format!(" AND {at} < {}", next()))
            .bind::<Timestamptz, _>(until);
    }
    if let Some((before_at, before_id)) = filter.before {
        let (p_at, p_id) = (next(), next());
        query = query
            .sql(format!(" AND ({at}, {id}) < ({p_at}, {p_id})"))
            .bind::<Timestamptz, _>(before_at)
            .bind::<SqlUuid, _>(before_id);
    }
    // The text depends only on which filters are set (a few dozen variants), so each variant
    // is kept prepared like a fixed statement.
    query
        .sql(format!(" ORDER BY {at} DESC, {id} DESC LIMIT {}", next()))
        .bind::<BigInt, _>(filter.limit)
        .keep_prepared()
        .load::<CallRow>(conn)
        .await?
        .into_iter()
        .map(Call::try_from)
        .collect()
}

/// An agent who had a leg on a call: answered, rung, or dialed as a transfer's target.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CallAgent {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub call_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub agent_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub name: String,
    /// Whether any of their legs joined the conference (not only rang).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub joined: bool,
}

/// The agents on each of `call_ids`, one entry per agent and call, each call's in the order
/// they joined (or, never joined, were dialed); one query for a whole page.
pub async fn agents_on_calls(
    conn: &mut PgConn,
    call_ids: &[Uuid],
) -> Result<Vec<CallAgent>, DbError> {
    use diesel::sql_types::{Array, Uuid as SqlUuid};
    if call_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(diesel::sql_query(
        "SELECT p.call_id, p.agent_id, a.display_name AS name,
                bool_or(p.joined_at IS NOT NULL) AS joined
         FROM participants p JOIN agents a ON a.id = p.agent_id
         WHERE p.call_id = ANY($1)
         GROUP BY p.call_id, p.agent_id, a.display_name
         ORDER BY p.call_id, coalesce(min(p.joined_at), min(p.created_at)), p.agent_id",
    )
    .bind::<Array<SqlUuid>, _>(call_ids)
    .keep_prepared()
    .load(conn)
    .await?)
}

/// A transfer as the history list shows it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct TransferBrief {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub call_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub mode: TransferMode,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: TransferStatus,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    pub from_agent_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    pub to_agent_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub to_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub to_number: Option<String>,
}

/// The transfers of each of `call_ids`, each call's oldest first; one query for a whole page.
pub async fn transfers_on_calls(
    conn: &mut PgConn,
    call_ids: &[Uuid],
) -> Result<Vec<TransferBrief>, DbError> {
    use diesel::sql_types::{Array, Uuid as SqlUuid};
    if call_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(diesel::sql_query(
        "SELECT t.call_id, t.mode, t.status, t.from_agent_id, t.to_agent_id,
                a.display_name AS to_name, t.to_number
         FROM transfers t LEFT JOIN agents a ON a.id = t.to_agent_id
         WHERE t.call_id = ANY($1)
         ORDER BY t.call_id, t.created_at, t.id",
    )
    .bind::<Array<SqlUuid>, _>(call_ids)
    .keep_prepared()
    .load(conn)
    .await?)
}

/// The queue's predicate, written out so the planner matches it to `calls_waiting_idx`
/// (a bound array would hide which statuses it holds).
const WAITING: &str = "calls.status IN ('queued', 'ringing')";

/// A page of the waiting calls (queued or ringing) in the router's order, `(queued_at, id)`,
/// after `after`: a range of `calls_waiting_idx`, so a deep page costs what the first does.
pub async fn waiting_calls_after(
    conn: &mut PgConn,
    after: (DateTime<Utc>, Uuid),
    limit: i64,
) -> Result<Vec<Call>, DbError> {
    use diesel::sql_types::{BigInt, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "SELECT c.* FROM calls c WHERE c.status IN ('queued', 'ringing') \
         AND (c.queued_at, c.id) > ($1, $2) ORDER BY c.queued_at, c.id LIMIT $3",
    )
    .bind::<Timestamptz, _>(after.0)
    .bind::<SqlUuid, _>(after.1)
    .bind::<BigInt, _>(limit)
    .keep_prepared()
    .load::<CallRow>(conn)
    .await?
    .into_iter()
    .map(Call::try_from)
    .collect()
}

/// The first page of the waiting calls (queued or ringing), in the router's order.
pub async fn first_waiting_calls(conn: &mut PgConn, limit: i64) -> Result<Vec<Call>, DbError> {
    diesel::sql_query(
        "SELECT c.* FROM calls c WHERE c.status IN ('queued', 'ringing') \
         ORDER BY c.queued_at, c.id LIMIT $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .keep_prepared()
    .load::<CallRow>(conn)
    .await?
    .into_iter()
    .map(Call::try_from)
    .collect()
}

/// How many calls wait (queued or ringing): an index-only scan of the partial
/// `calls_waiting_idx`, so it costs as much as the queue is long.
pub async fn count_waiting(conn: &mut PgConn) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        waiting: i64,
    }
    let row: Waiting = diesel::sql_query(
        "SELECT count(*) AS waiting FROM calls WHERE calls.status IN ('queued', 'ringing')",
    )
    .keep_prepared()
    .get_result(conn)
    .await?;
    Ok(row.waiting)
}

/// Calls not yet over (queued, ringing or in progress), oldest first, at most `limit`.
pub async fn live_calls(conn: &mut PgConn, limit: i64) -> Result<Vec<Call>, DbError> {
    calls::table
        .filter(calls::status.eq_any([
            CallStatus::Queued,
            CallStatus::Ringing,
            CallStatus::InProgress,
        ]))
        .order((calls::created_at.asc(), calls::id.asc()))
        .limit(limit)
        .select(CallRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Call::try_from)
        .collect()
}

/// The first of the calls waiting (queued or ringing) other than `except`, in the router's order.
pub async fn first_waiting_except(
    conn: &mut PgConn,
    except: Uuid,
) -> Result<Option<(DateTime<Utc>, Uuid)>, DbError> {
    Ok(calls::table
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(WAITING))
        .filter(calls::id.ne(except))
        .order((calls::queued_at.asc(), calls::id.asc()))
        .select((calls::queued_at, calls::id))
        .first(conn)
        .await
        .optional()?)
}

/// Gives a call adopted without its numbers the caller's (and the dialed) number; a call whose
/// numbers are known already is left alone. Returns whether it changed.
pub async fn fill_in_unknown_numbers(
    conn: &mut PgConn,
    id: Uuid,
    from: &str,
    to: Option<&str>,
) -> Result<bool, DbError> {
    let call = calls::table
        .find(id)
        .filter(calls::from_number.eq(UNKNOWN_NUMBER));
    let now = Utc::now();
    let changed = match to {
        Some(to) => {
            diesel::update(call)
                .set((
                    calls::from_number.eq(from),
                    calls::to_number.eq(to),
                    calls::updated_at.eq(now),
                ))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(call)
                .set((calls::from_number.eq(from), calls::updated_at.eq(now)))
                .execute(conn)
                .await?
        }
    };
    Ok(changed > 0)
}

/// What a call adopted without its numbers stores for them.
pub const UNKNOWN_NUMBER: &str = "unknown";

/// Sets a call's place in the queue.
pub async fn set_queued_at(conn: &mut PgConn, id: Uuid, at: DateTime<Utc>) -> Result<(), DbError> {
    diesel::update(calls::table.find(id))
        .set(calls::queued_at.eq(at))
        .execute(conn)
        .await?;
    Ok(())
}

/// The live call an agent is on or ringing for, if any.
pub async fn current_call_for_agent(
    conn: &mut PgConn,
    agent_id: Uuid,
) -> Result<Option<Call>, DbError> {
    let live_legs = participants::table
        .filter(participants::agent_id.eq(agent_id))
        .filter(participants::status.eq_any(ParticipantStatus::LIVE))
        .select(participants::call_id);
    calls::table
        .filter(calls::id.eq_any(live_legs))
        .filter(calls::status.eq_any([
            CallStatus::Queued,
            CallStatus::Ringing,
            CallStatus::InProgress,
        ]))
        .order(calls::created_at.desc())
        .select(CallRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Call::try_from)
        .transpose()
}

// ---- participants ----

/// Stores a leg the engine decided to place.
pub async fn insert_leg(conn: &mut PgConn, leg: &NewLeg) -> Result<(), DbError> {
    diesel::insert_into(participants::table)
        .values((
            participants::id.eq(leg.id),
            participants::call_id.eq(leg.call_id),
            participants::kind.eq(leg.kind),
            participants::agent_id.eq(leg.agent_id),
            participants::phone.eq(leg.phone.as_deref()),
            participants::status.eq(ParticipantStatus::Dialing),
            participants::end_conference_on_exit.eq(false),
            participants::monitor_mode.eq(leg.monitor_mode),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_participant(conn: &mut PgConn, id: Uuid) -> Result<Option<Participant>, DbError> {
    participants::table
        .find(id)
        .select(ParticipantRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Participant::try_from)
        .transpose()
}

pub async fn find_participant_by_sid(
    conn: &mut PgConn,
    call_sid: &str,
) -> Result<Option<Participant>, DbError> {
    participants::table
        .filter(participants::call_sid.eq(call_sid))
        .select(ParticipantRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Participant::try_from)
        .transpose()
}

pub async fn participants_of(
    conn: &mut PgConn,
    call_id: Uuid,
) -> Result<Vec<Participant>, DbError> {
    participants::table
        .filter(participants::call_id.eq(call_id))
        .order((participants::created_at.asc(), participants::id.asc()))
        .select(ParticipantRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Participant::try_from)
        .collect()
}

/// The legs of these calls in one query, each call's in the order of `participants_of`.
pub async fn participants_of_calls(
    conn: &mut PgConn,
    call_ids: &[Uuid],
) -> Result<Vec<Participant>, DbError> {
    if call_ids.is_empty() {
        return Ok(Vec::new());
    }
    participants::table
        .filter(participants::call_id.eq_any(call_ids))
        .order((
            participants::call_id.asc(),
            participants::created_at.asc(),
            participants::id.asc(),
        ))
        .select(ParticipantRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Participant::try_from)
        .collect()
}

#[derive(Default, AsChangeset)]
#[diesel(table_name = participants)]
pub struct ParticipantChanges {
    pub call_sid: Option<String>,
    pub status: Option<ParticipantStatus>,
    pub on_hold: Option<bool>,
    pub muted: Option<bool>,
    pub end_conference_on_exit: Option<bool>,
    pub flags_sequence: Option<i32>,
    pub joined_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    pub call_ended_at: Option<DateTime<Utc>>,
    pub kind: Option<ParticipantKind>,
    pub monitor_mode: Option<Option<MonitorMode>>,
}

impl From<&LegUpdate> for ParticipantChanges {
    fn from(u: &LegUpdate) -> Self {
        Self {
            call_sid: None,
            status: u.status,
            on_hold: u.on_hold,
            muted: u.muted,
            end_conference_on_exit: u.end_conference_on_exit,
            flags_sequence: u.flags_sequence,
            joined_at: u.joined_at,
            left_at: u.left_at,
            call_ended_at: u.call_ended_at,
            kind: u.kind,
            monitor_mode: u.monitor_mode,
        }
    }
}

pub async fn update_participant(
    conn: &mut PgConn,
    id: Uuid,
    changes: ParticipantChanges,
) -> Result<Participant, DbError> {
    diesel::update(participants::table.find(id))
        .set(changes)
        .returning(ParticipantRow::as_returning())
        .get_result(conn)
        .await?
        .try_into()
}

/// The placed outside-number legs of transfers `agent_id` started whose calls Twilio has not
/// reported over: `(call id, leg call SID)`, newest first.
pub async fn outside_legs_transferred_by(
    conn: &mut PgConn,
    agent_id: Uuid,
) -> Result<Vec<(Uuid, String)>, DbError> {
    Ok(participants::table
        .inner_join(
            transfers::table.on(transfers::target_participant_id.eq(participants::id.nullable())),
        )
        .filter(transfers::from_agent_id.eq(agent_id))
        .filter(participants::kind.eq(ParticipantKind::External))
        .filter(participants::call_ended_at.is_null())
        .filter(participants::call_sid.is_not_null())
        .order(participants::created_at.desc())
        .limit(20)
        .select((
            participants::call_id,
            participants::call_sid.assume_not_null(),
        ))
        .load(conn)
        .await?)
}

// ---- transfers ----

/// Stores a transfer the engine decided to start.
pub async fn insert_transfer(conn: &mut PgConn, t: &NewTransfer) -> Result<(), DbError> {
    diesel::insert_into(transfers::table)
        .values((
            transfers::id.eq(t.id),
            transfers::call_id.eq(t.call_id),
            transfers::from_agent_id.eq(t.from_agent_id),
            transfers::to_agent_id.eq(t.to_agent_id),
            transfers::to_number.eq(t.to_number.as_deref()),
            transfers::mode.eq(t.mode),
            transfers::status.eq(TransferStatus::Dialing),
            transfers::target_participant_id.eq(t.target_participant_id),
            transfers::note.eq(t.note.as_ref().map(|n| n.as_str())),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A call's transfers, oldest first.
pub async fn transfers_of(conn: &mut PgConn, call_id: Uuid) -> Result<Vec<Transfer>, DbError> {
    transfers_of_calls(conn, &[call_id]).await
}

/// The transfers of these calls in one query, grouped by call, each call's oldest first.
pub async fn transfers_of_calls(
    conn: &mut PgConn,
    call_ids: &[Uuid],
) -> Result<Vec<Transfer>, DbError> {
    if call_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(transfers::table
        .filter(transfers::call_id.eq_any(call_ids))
        .order((transfers::call_id.asc(), transfers::created_at.asc()))
        .select(TransferRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Transfer::from)
        .collect())
}

pub async fn active_transfer(
    conn: &mut PgConn,
    call_id: Uuid,
) -> Result<Option<Transfer>, DbError> {
    Ok(transfers::table
        .filter(transfers::call_id.eq(call_id))
        .filter(transfers::status.eq_any([TransferStatus::Dialing, TransferStatus::Consulting]))
        .select(TransferRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Transfer::from))
}

pub async fn set_transfer_status(
    conn: &mut PgConn,
    id: Uuid,
    status: TransferStatus,
    end: Option<TransferEnd>,
) -> Result<Transfer, DbError> {
    if let Some(end) = end {
        diesel::update(transfers::table.find(id))
            .set((
                transfers::end_reason.eq(Some(end.reason)),
                transfers::ended_by.eq(end.by),
                transfers::requeued.eq(end.requeued),
            ))
            .execute(conn)
            .await?;
    }
    let now = Utc::now();
    let answered = (status == TransferStatus::Consulting).then_some(now);
    let ended = (!status.is_active()).then_some(now);
    Ok(diesel::update(transfers::table.find(id))
        .set((
            transfers::status.eq(status),
            transfers::answered_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("COALESCE(answered_at, ")
            .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(answered)
            .sql(")")),
            transfers::ended_at.eq(ended),
        ))
        .returning(TransferRow::as_returning())
        .get_result(conn)
        .await?
        .into())
}

// ---- timeline ----

/// Appends to the timeline. With a `dedupe_key`, a second event with the same key is dropped and
/// `false` comes back, so a retried or duplicated callback is applied once.
pub async fn record_event(
    conn: &mut PgConn,
    call_id: Uuid,
    event: &TimelineEvent,
    dedupe_key: Option<&str>,
) -> Result<bool, DbError> {
    let (kind, data) = event.to_entry();
    let inserted = diesel::insert_into(call_events::table)
        .values((
            call_events::call_id.eq(call_id),
            call_events::kind.eq(kind),
            call_events::data.eq(data),
            call_events::dedupe_key.eq(dedupe_key),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

pub async fn events_of(conn: &mut PgConn, call_id: Uuid) -> Result<Vec<CallEvent>, DbError> {
    Ok(call_events::table
        .filter(call_events::call_id.eq(call_id))
        .order(call_events::id.asc())
        .select(CallEvent::as_select())
        .load(conn)
        .await?)
}

pub async fn find_transfer(conn: &mut PgConn, id: Uuid) -> Result<Option<Transfer>, DbError> {
    Ok(transfers::table
        .find(id)
        .select(TransferRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Transfer::from))
}
