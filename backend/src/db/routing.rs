//! The routing policy's reads: which queued call goes next, which agent gets it, and which
//! agents and legs look stuck. Every pick is locked with `SKIP LOCKED`, so backend instances
//! sharing the database never book one agent or route one call twice.

use std::collections::HashSet;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::calls::{CallRow, ParticipantRow};
use super::prepared::KeepPrepared;
use super::schema::{agents, calls, participants};
use super::{DbError, PgConn};
use crate::domain::agent::AgentStatus;
use crate::domain::call::{Call, CallStatus, Participant, ParticipantKind, ParticipantStatus};
use crate::domain::engine;

/// Whether any agent is free to take a call. Cheap (agents are few), so the router asks it
/// before looking for the next waiting caller, which costs a walk over every caller waiting in
/// a conference: while every agent is busy, that walk would run on every wake-up for nothing.
pub async fn any_agent_available(conn: &mut PgConn) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        agents::table
            .filter(agents::status.eq(AgentStatus::Available))
            .filter(agents::active.eq(true)),
    ))
    .get_result(conn)
    .await?)
}

/// How many queued calls one step of [`lock_next_queued_call`]'s walk reads.
const WALK_STEP: i64 = 64;

/// The oldest queued call whose caller is in the conference (so an agent who answers finds
/// them there) and that no other instance is routing right now, locked.
///
/// The walk goes down the queue from its head a step at a time: the step's calls in the
/// router's order, which of them have their caller in a conference, and the first of those it
/// can lock. Each of the three is a plain index lookup whatever PostgreSQL believes of the
/// tables, so the cost stays a few dozen rows per attempt. (As one statement, a join of the
/// queue to the callers in a conference, the planner chose a nested loop that read every
/// connected caller for every queued call whenever its statistics were older than a burst of
/// calls: 20–130 ms per attempt with a thousand callers, and the routers' attempts took most of
/// the database.)
pub async fn lock_next_queued_call(conn: &mut PgConn) -> Result<Option<Call>, DbError> {
    use diesel::sql_types::{BigInt, Timestamptz, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Queued {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = Timestamptz)]
        queued_at: chrono::DateTime<Utc>,
    }
    // The status is written out (not bound) so the planner matches `calls_queue_idx`, and the
    // step after a place is a row comparison, which is a range of that index: each step reads
    // its own rows, however deep in the queue it is.
    static FIRST_STEP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT id, queued_at FROM calls WHERE status = '{queued}'
              ORDER BY queued_at, id LIMIT $1",
            queued = CallStatus::Queued.as_str()
        )
    });
    static NEXT_STEP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT id, queued_at FROM calls WHERE status = '{queued}'
                AND (queued_at, id) > ($2, $3)
              ORDER BY queued_at, id LIMIT $1",
            queued = CallStatus::Queued.as_str()
        )
    });
    let mut after: Option<(chrono::DateTime<Utc>, Uuid)> = None;
    loop {
        let head: Vec<Queued> = match after {
            None => {
                diesel::sql_query(FIRST_STEP.as_str())
                    .bind::<BigInt, _>(WALK_STEP)
                    .keep_prepared()
                    .load(conn)
                    .await?
            }
            Some((queued_at, id)) => {
                diesel::sql_query(NEXT_STEP.as_str())
                    .bind::<BigInt, _>(WALK_STEP)
                    .bind::<Timestamptz, _>(queued_at)
                    .bind::<SqlUuid, _>(id)
                    .keep_prepared()
                    .load(conn)
                    .await?
            }
        };
        let Some(last) = head.last() else {
            return Ok(None);
        };
        let (last_id, last_queued_at) = (last.id, last.queued_at);
        let ids: Vec<Uuid> = head.iter().map(|q| q.id).collect();
        let in_conference: Vec<Uuid> = participants::table
            .filter(participants::call_id.eq_any(&ids))
            .filter(participants::kind.eq(ParticipantKind::Customer))
            .filter(participants::status.eq(ParticipantStatus::Connected))
            .select(participants::call_id)
            .load(conn)
            .await?;
        if !in_conference.is_empty() {
            let locked = calls::table
                .filter(calls::id.eq_any(&in_conference))
                .filter(calls::status.eq(CallStatus::Queued))
                .order((calls::queued_at.asc(), calls::id.asc()))
                .limit(1)
                .select(CallRow::as_select())
                .for_update()
                .skip_locked()
                .first(conn)
                .await
                .optional()?;
            if let Some(row) = locked {
                return Call::try_from(row).map(Some);
            }
        }
        if head.len() < WALK_STEP as usize {
            return Ok(None);
        }
        after = Some((last_queued_at, last_id));
    }
}

/// The agent to offer `call` to, locked so no other instance books them meanwhile: the agent
/// the call prefers (their browser dropped it) when they are available, else the longest-idle
/// available agent other than one who left the call on purpose. Idle time runs from the
/// agent's last presence change (to `available`); an agent who lets a call ring out is set
/// away, so the next offer goes down the line.
pub async fn lock_agent_for(conn: &mut PgConn, call: &Call) -> Result<Option<Uuid>, DbError> {
    let available = || {
        agents::table
            .filter(agents::status.eq(AgentStatus::Available))
            .filter(agents::active.eq(true))
            .select(agents::id)
            .for_update()
            .skip_locked()
    };
    if let Some(preferred) = call.prefer_agent_id {
        let found = available()
            .filter(agents::id.eq(preferred))
            .first(conn)
            .await
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let avoid: Vec<Uuid> = call.avoid_agent_id.into_iter().collect();
    // An agent another waiting call prefers (given to them by a supervisor, or whose browser
    // dropped it) is kept for that call: routers working in parallel must not hand them this
    // one first.
    let preferred_elsewhere = calls::table
        .filter(calls::status.eq(CallStatus::Queued))
        .filter(calls::id.ne(call.id))
        .filter(calls::prefer_agent_id.is_not_null())
        .select(calls::prefer_agent_id.assume_not_null());
    Ok(available()
        .filter(agents::id.ne_all(avoid))
        .filter(agents::id.ne_all(preferred_elsewhere))
        .order((agents::status_changed_at.asc(), agents::id.asc()))
        .first(conn)
        .await
        .optional()?)
}

/// Which of these agents have a leg that may still be live in Twilio, not counting the legs of
/// `except_call` (the call a decision is about holds its own legs in its snapshot). Every agent
/// leg is one we dialed, and it counts as live until Twilio reports its call over (or refuses to
/// place it), even if we called it off before its SID came back. The rule is
/// [`engine::leg_may_be_live`], in SQL.
pub async fn agents_with_live_legs(
    conn: &mut PgConn,
    agent_ids: &[Uuid],
    except_call: Option<Uuid>,
) -> Result<HashSet<Uuid>, DbError> {
    if agent_ids.is_empty() {
        return Ok(HashSet::new());
    }
    // A leg whose end was never reported stops counting a while after it left, so one lost
    // callback can't hold an agent forever.
    let recently = Utc::now() - engine::LIVE_AFTER_LEAVING;
    let mut query = participants::table
        .filter(participants::agent_id.eq_any(agent_ids))
        .filter(participants::call_ended_at.is_null())
        .filter(
            participants::status
                .eq_any(ParticipantStatus::LIVE)
                .or(participants::left_at.gt(recently)),
        )
        .select(participants::agent_id)
        .distinct()
        .into_boxed();
    if let Some(call_id) = except_call {
        query = query.filter(participants::call_id.ne(call_id));
    }
    let live: Vec<Option<Uuid>> = query.load(conn).await?;
    Ok(live.into_iter().flatten().collect())
}

/// Agents left in `wrap_up`, `reserved` or `busy` for longer than `grace` with no live leg
/// (a lost callback), so nobody stays unroutable forever.
pub async fn stuck_agents(
    conn: &mut PgConn,
    grace: chrono::Duration,
) -> Result<Vec<Uuid>, DbError> {
    let cutoff = Utc::now() - grace;
    let candidates: Vec<Uuid> = agents::table
        .filter(agents::status.eq_any([
            AgentStatus::WrapUp,
            AgentStatus::Reserved,
            AgentStatus::Busy,
        ]))
        .filter(agents::status_changed_at.lt(cutoff))
        // A timed wrap-up ends by its clock (the wrap-up tick), not here.
        .filter(agents::wrap_up_until.is_null())
        .select(agents::id)
        .load(conn)
        .await?;
    let live = agents_with_live_legs(conn, &candidates, None).await?;
    Ok(candidates
        .into_iter()
        .filter(|id| !live.contains(id))
        .collect())
}

/// Legs still dialing or ringing long after their ring timeout: the request or its callbacks
/// were lost (e.g. the instance that placed them restarted).
pub async fn stale_pending_legs(
    conn: &mut PgConn,
    older_than: chrono::Duration,
) -> Result<Vec<Participant>, DbError> {
    participants::table
        .filter(
            participants::status.eq_any([ParticipantStatus::Dialing, ParticipantStatus::Ringing]),
        )
        .filter(participants::created_at.lt(Utc::now() - older_than))
        .select(ParticipantRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Participant::try_from)
        .collect()
}

/// Legs of live calls we believe in the conference since before `joined_before`, longest first
/// (at most `limit`): checked now and then with Twilio, in case their leave and end were lost.
pub async fn connected_legs(
    conn: &mut PgConn,
    joined_before: chrono::Duration,
    limit: i64,
) -> Result<Vec<Participant>, DbError> {
    participants::table
        .inner_join(calls::table)
        .filter(calls::ended_at.is_null())
        .filter(participants::status.eq(ParticipantStatus::Connected))
        .filter(participants::joined_at.lt(Utc::now() - joined_before))
        .order(participants::joined_at.asc())
        .limit(limit)
        .select(ParticipantRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Participant::try_from)
        .collect()
}

/// Customers of live queued or ringing calls who have not joined their conference (or left
/// it with their call going on) for longer than `grace`.
pub async fn callers_not_in_their_conference(
    conn: &mut PgConn,
    grace: chrono::Duration,
) -> Result<Vec<Participant>, DbError> {
    let cutoff = Utc::now() - grace;
    participants::table
        .inner_join(calls::table)
        .filter(calls::status.eq_any([CallStatus::Queued, CallStatus::Ringing]))
        .filter(participants::kind.eq(ParticipantKind::Customer))
        .filter(
            participants::status.eq_any([ParticipantStatus::Dialing, ParticipantStatus::Ringing]),
        )
        .filter(
            participants::left_at.lt(cutoff).or(participants::left_at
                .is_null()
                .and(participants::created_at.lt(cutoff))),
        )
        // Implied by the above (a leg leaves after it was placed), and what the index on legs
        // still on their way is ordered by: the pass reads only the late ones.
        .filter(participants::created_at.lt(cutoff))
        .select(ParticipantRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Participant::try_from)
        .collect()
}
