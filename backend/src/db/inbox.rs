//! The callback inbox: Twilio's callbacks stored on arrival, claimed and processed later.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;

use super::prepared::KeepPrepared;
use super::schema::callback_inbox;
use super::{DbError, PgConn};
use crate::domain::inbox::CallbackKind;

pub struct NewCallback<'a> {
    pub kind: CallbackKind,
    pub call_key: &'a str,
    pub sequence: Option<i64>,
    pub payload: &'a Value,
}

/// Stores one callback: the webhook's only database work.
pub async fn store(conn: &mut PgConn, cb: NewCallback<'_>) -> Result<i64, DbError> {
    Ok(diesel::insert_into(callback_inbox::table)
        .values((
            callback_inbox::kind.eq(cb.kind),
            callback_inbox::call_key.eq(cb.call_key),
            callback_inbox::sequence.eq(cb.sequence),
            callback_inbox::payload.eq(cb.payload),
        ))
        .returning(callback_inbox::id)
        .get_result(conn)
        .await?)
}

#[derive(Debug, Clone, Queryable)]
pub struct ClaimedCallback {
    pub id: i64,
    pub kind: CallbackKind,
    pub call_key: String,
    pub sequence: Option<i64>,
    pub payload: Value,
    pub attempts: i32,
}

/// Takes, for the rest of the transaction, the right to process the inbox: one processor at a
/// time across every instance, so callbacks about one call are handled in the order they came.
pub async fn try_lock_processing(conn: &mut PgConn) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    // An arbitrary constant naming the inbox among the database's advisory locks.
    let locked: Locked =
        diesel::sql_query("SELECT pg_try_advisory_xact_lock(7341955021) AS locked")
            .keep_prepared()
            .get_result(conn)
            .await?;
    Ok(locked.locked)
}

/// Claims up to `limit` callbacks nobody is processing, oldest first, for `lease`: another
/// processor (this instance or another) may take them once the lease runs out.
pub async fn claim(
    conn: &mut PgConn,
    limit: i64,
    lease: chrono::Duration,
) -> Result<Vec<ClaimedCallback>, DbError> {
    let now = Utc::now();
    let free = callback_inbox::table
        .filter(callback_inbox::processed_at.is_null())
        .filter(callback_inbox::failed_at.is_null())
        .filter(
            callback_inbox::claimed_until
                .is_null()
                .or(callback_inbox::claimed_until.lt(now)),
        )
        .order(callback_inbox::id.asc())
        .limit(limit)
        .select(callback_inbox::id)
        .for_update()
        .skip_locked();
    let ids: Vec<i64> = free.load(conn).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(
        diesel::update(callback_inbox::table.filter(callback_inbox::id.eq_any(&ids)))
            .set((
                callback_inbox::claimed_until.eq(now + lease),
                callback_inbox::attempts.eq(callback_inbox::attempts + 1),
            ))
            .returning((
                callback_inbox::id,
                callback_inbox::kind,
                callback_inbox::call_key,
                callback_inbox::sequence,
                callback_inbox::payload,
                callback_inbox::attempts,
            ))
            .get_results(conn)
            .await?,
    )
}

/// Marks these callbacks processed, in one statement.
pub async fn mark_processed(conn: &mut PgConn, ids: &[i64]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(callback_inbox::table.filter(callback_inbox::id.eq_any(ids)))
        .set((
            callback_inbox::processed_at.eq(Utc::now()),
            callback_inbox::claimed_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Processing failed; it is tried again after `retry_at` (or never, when `retry_at` is `None`).
pub async fn mark_failed_attempt(
    conn: &mut PgConn,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), DbError> {
    let now = Utc::now();
    diesel::update(callback_inbox::table.find(id))
        .set((
            callback_inbox::last_error.eq(error),
            callback_inbox::claimed_until.eq(retry_at),
            callback_inbox::failed_at.eq(retry_at.is_none().then_some(now)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The conference name of each of these legs' calls, by participant id.
pub async fn conferences_of_legs(
    conn: &mut PgConn,
    legs: &[uuid::Uuid],
) -> Result<std::collections::HashMap<uuid::Uuid, String>, DbError> {
    use super::schema::{calls, participants};
    if legs.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(uuid::Uuid, String)> = participants::table
        .inner_join(calls::table)
        .filter(participants::id.eq_any(legs))
        .select((participants::id, calls::conference_name))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Callbacks not yet processed (for metrics and readiness).
pub async fn backlog(conn: &mut PgConn) -> Result<i64, DbError> {
    Ok(callback_inbox::table
        .filter(callback_inbox::processed_at.is_null())
        .filter(callback_inbox::failed_at.is_null())
        .count()
        .get_result(conn)
        .await?)
}

/// Forgets callbacks processed before `before`; the call timeline keeps what mattered.
pub async fn prune(conn: &mut PgConn, before: DateTime<Utc>) -> Result<usize, DbError> {
    Ok(
        diesel::delete(callback_inbox::table.filter(callback_inbox::processed_at.lt(before)))
            .execute(conn)
            .await?,
    )
}
