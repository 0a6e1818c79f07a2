//! Durable callbacks. Twilio retries a status callback only when it cannot connect, never on an
//! error answer, so a callback we fail to process is an event lost for good. Every signed
//! callback is therefore stored as it came (one insert) and answered 2xx, then processed from
//! the inbox: in order per call, at least once (the handlers are idempotent), retried with
//! backoff when processing fails. While the database is down, callbacks (and incoming calls)
//! wait in a bounded buffer in memory and are stored as soon as it is back.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use serde_json::{json, Value};
use uuid::Uuid;

use super::callbacks::{self, BadCallback, ConferenceCallback, Form, LegStatusCallback};
use super::inbound::InboundCall;
use super::VoiceEngine;
use crate::db::{self, inbox::NewCallback, DbError};
use crate::domain::call::{conference_name, CallSid};
use crate::domain::inbox::{retry_after, CallbackKind};
use crate::services::{ServiceError, ServiceResult};

/// How long a webhook may wait on the database before the callback goes to the buffer.
const STORE_WITHIN: Duration = Duration::from_millis(1_500);
/// How many callbacks the buffer keeps while the database is down.
const BUFFER_CAPACITY: usize = 10_000;
/// Callbacks claimed per round.
const BATCH: i64 = 256;
/// At most how many calls' callbacks are processed at once; each holds a database connection,
/// so no more than a third of the pool is taken (the API and the router need the rest).
const CALLS_AT_ONCE: usize = 8;
/// How long a claimed callback is reserved for its processor.
const LEASE_SECS: i64 = 30;
/// How often the processor looks for work it was not told about (callbacks other instances
/// stored, retries that came due).
const POLL: Duration = Duration::from_millis(200);
/// Processed callbacks are kept this long (for troubleshooting), then pruned.
const KEEP_PROCESSED_HOURS: i64 = 24;

/// A callback as Twilio posted it, with what we need to process it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawCallback {
    IncomingCall {
        form: Vec<(String, String)>,
    },
    LegStatus {
        participant_id: Uuid,
        form: Vec<(String, String)>,
    },
    Conference {
        form: Vec<(String, String)>,
    },
}

/// A stored callback, parsed.
#[derive(Debug)]
enum Parsed {
    IncomingCall(InboundCall),
    LegStatus(LegStatusCallback),
    Conference(ConferenceCallback),
}

impl RawCallback {
    fn kind(&self) -> CallbackKind {
        match self {
            RawCallback::IncomingCall { .. } => CallbackKind::IncomingCall,
            RawCallback::LegStatus { .. } => CallbackKind::LegStatus,
            RawCallback::Conference { .. } => CallbackKind::Conference,
        }
    }

    fn form(&self) -> &Form {
        match self {
            RawCallback::IncomingCall { form }
            | RawCallback::LegStatus { form, .. }
            | RawCallback::Conference { form } => form,
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        callbacks::param(self.form(), name)
    }

    /// Callbacks with one key are processed in order: a conference's events, one leg's progress.
    fn call_key(&self) -> String {
        match self {
            RawCallback::IncomingCall { .. } => {
                format!("call:{}", self.param("CallSid").unwrap_or_default())
            }
            RawCallback::LegStatus { participant_id, .. } => format!("leg:{participant_id}"),
            // Sequence numbers count within one conference; a caller put back in gets a new
            // conference of the same name.
            RawCallback::Conference { .. } => {
                format!(
                    "conference:{}",
                    self.param("ConferenceSid").unwrap_or_default()
                )
            }
        }
    }

    /// The leg a status callback is about.
    fn leg(&self) -> Option<Uuid> {
        match self {
            RawCallback::LegStatus { participant_id, .. } => Some(*participant_id),
            _ => None,
        }
    }

    /// The conference name of the call this callback is about, which names the call: conference
    /// callbacks carry it, an incoming call's comes from its `CallSid`, and a leg's status
    /// callback takes its call's from `leg_calls` (looked up by participant).
    fn conference_name(
        &self,
        leg_calls: &std::collections::HashMap<Uuid, String>,
    ) -> Option<String> {
        match self {
            RawCallback::Conference { .. } => self.param("FriendlyName").map(str::to_owned),
            RawCallback::IncomingCall { .. } => self
                .param("CallSid")
                .and_then(|sid| CallSid::parse(sid).ok())
                .map(|sid| conference_name(&sid)),
            RawCallback::LegStatus { participant_id, .. } => leg_calls.get(participant_id).cloned(),
        }
    }

    fn sequence(&self) -> Option<i64> {
        self.param("SequenceNumber").and_then(|s| s.parse().ok())
    }

    fn payload(&self) -> Value {
        let participant = match self {
            RawCallback::LegStatus { participant_id, .. } => Some(participant_id),
            _ => None,
        };
        json!({ "form": self.form(), "participant_id": participant })
    }

    fn from_stored(kind: CallbackKind, payload: &Value) -> Result<Self, BadCallback> {
        let form: Vec<(String, String)> = serde_json::from_value(payload["form"].clone())
            .map_err(|_| BadCallback("stored callback has no form"))?;
        Ok(match kind {
            CallbackKind::IncomingCall => RawCallback::IncomingCall { form },
            CallbackKind::Conference => RawCallback::Conference { form },
            CallbackKind::LegStatus => RawCallback::LegStatus {
                participant_id: serde_json::from_value(payload["participant_id"].clone())
                    .map_err(|_| BadCallback("stored leg callback names no leg"))?,
                form,
            },
        })
    }

    /// Checks the callback can be processed at all (so input that never can is a 400 now, not
    /// a failure later).
    pub fn parse(&self) -> Result<(), BadCallback> {
        self.parsed().map(drop)
    }

    fn parsed(&self) -> Result<Parsed, BadCallback> {
        Ok(match self {
            RawCallback::IncomingCall { .. } => {
                let sid = CallSid::parse(self.param("CallSid").unwrap_or_default())
                    .map_err(|_| BadCallback("CallSid is not a call SID"))?;
                Parsed::IncomingCall(InboundCall {
                    call_sid: sid,
                    from: self.param("From").unwrap_or("unknown").to_owned(),
                    to: self.param("To").unwrap_or("unknown").to_owned(),
                })
            }
            RawCallback::LegStatus {
                participant_id,
                form,
            } => Parsed::LegStatus(LegStatusCallback::from_form(*participant_id, form)?),
            RawCallback::Conference { form } => {
                Parsed::Conference(ConferenceCallback::from_form(form)?)
            }
        })
    }
}

/// A claimed callback and what it parses to.
type Stored = (db::inbox::ClaimedCallback, Result<RawCallback, BadCallback>);

/// Splits an ordered batch into one group per call, each keeping the batch's order (see
/// [`RawCallback::conference_name`]). A callback of no known call forms a group of its own.
fn by_call(
    batch: Vec<Stored>,
    leg_calls: &std::collections::HashMap<Uuid, String>,
) -> Vec<Vec<Stored>> {
    let mut groups: Vec<Vec<Stored>> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (cb, raw) in batch {
        let call = raw
            .as_ref()
            .ok()
            .and_then(|raw| raw.conference_name(leg_calls))
            .unwrap_or_else(|| format!("callback:{}", cb.id));
        match index.get(&call) {
            Some(&i) => groups[i].push((cb, raw)),
            None => {
                index.insert(call, groups.len());
                groups.push(vec![(cb, raw)]);
            }
        }
    }
    groups
}

/// Orders a claimed batch: in arrival order, except that each call's callbacks (one key) take
/// their places among themselves by Twilio's sequence number where it gave one.
fn in_processing_order(batch: &mut Vec<db::inbox::ClaimedCallback>) {
    batch.sort_by_key(|cb| cb.id);
    let mut slots: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
    for (index, cb) in batch.iter().enumerate() {
        slots.entry(cb.call_key.clone()).or_default().push(index);
    }
    let mut items: Vec<Option<db::inbox::ClaimedCallback>> =
        std::mem::take(batch).into_iter().map(Some).collect();
    let mut ordered: Vec<Option<db::inbox::ClaimedCallback>> =
        (0..items.len()).map(|_| None).collect();
    for positions in slots.values() {
        let mut mine: Vec<db::inbox::ClaimedCallback> = positions
            .iter()
            .filter_map(|&index| items[index].take())
            .collect();
        mine.sort_by_key(|cb| (cb.sequence.unwrap_or(i64::MAX), cb.id));
        for (&index, cb) in positions.iter().zip(mine) {
            ordered[index] = Some(cb);
        }
    }
    *batch = ordered.into_iter().flatten().collect();
}

/// Callbacks received while the database was unreachable, oldest first.
#[derive(Default)]
pub(crate) struct Buffer(Mutex<VecDeque<RawCallback>>);

impl Buffer {
    fn push(&self, cb: RawCallback) {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= BUFFER_CAPACITY {
            // Bounded: the oldest goes. Reconciliation with Twilio covers what it said.
            let dropped = queue.pop_front();
            tracing::error!(
                ?dropped,
                "callback buffer full; dropping the oldest callback"
            );
        }
        queue.push_back(cb);
    }

    fn front(&self) -> Option<RawCallback> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .front()
            .cloned()
    }

    fn pop_front(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl VoiceEngine {
    /// A webhook's callback: refused when it can never be processed, otherwise kept, in the
    /// database or (while that is unreachable) in the buffer. Never fails for our own reasons.
    pub async fn accept_callback(&self, cb: RawCallback) -> Result<(), BadCallback> {
        cb.parse()?;
        match tokio::time::timeout(STORE_WITHIN, self.store_callback(&cb)).await {
            Ok(Ok(())) => self.inner.inbox_wakeup.notify_one(),
            Ok(Err(e)) => {
                tracing::error!(error = %e, kind = %cb.kind(), "could not store a callback; keeping it until the database is back");
                self.inner.buffer.push(cb);
            }
            Err(_) => {
                tracing::error!(kind = %cb.kind(), "storing a callback timed out; keeping it until the database is back");
                self.inner.buffer.push(cb);
            }
        }
        Ok(())
    }

    /// An incoming call the voice webhook could not store: kept until the database is back.
    pub(crate) fn keep_incoming_call(&self, form: Vec<(String, String)>) {
        self.inner.buffer.push(RawCallback::IncomingCall { form });
    }

    async fn store_callback(&self, cb: &RawCallback) -> ServiceResult<()> {
        let mut conn = self.pool().get().await.map_err(DbError::from)?;
        let payload = cb.payload();
        db::inbox::store(
            &mut conn,
            NewCallback {
                kind: cb.kind(),
                call_key: &cb.call_key(),
                sequence: cb.sequence(),
                payload: &payload,
            },
        )
        .await?;
        Ok(())
    }

    /// Stores what the buffer kept and processes the inbox, until the HTTP server has answered
    /// its last webhook (a draining instance keeps processing); then stores what the buffer
    /// still holds one last time and returns.
    pub async fn run_inbox(self) {
        let mut last_prune = std::time::Instant::now();
        loop {
            self.flush_buffer().await;
            if self.shutdown().stopping_now() {
                let left = self.inner.buffer.len();
                if left > 0 {
                    tracing::error!(left, "stopping with callbacks the database could not take");
                }
                return;
            }
            loop {
                match self.process_batch().await {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "processing the callback inbox failed; retrying shortly");
                        break;
                    }
                }
            }
            if last_prune.elapsed() > Duration::from_secs(600) {
                last_prune = std::time::Instant::now();
                self.prune_inbox().await;
            }
            tokio::select! {
                _ = self.inner.inbox_wakeup.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = self.shutdown().stopping() => {}
            }
        }
    }

    /// Stores buffered callbacks in arrival order; stops at the first failure (the database is
    /// still down) and tries again next round.
    async fn flush_buffer(&self) {
        let mut flushed = 0;
        while let Some(cb) = self.inner.buffer.front() {
            match tokio::time::timeout(STORE_WITHIN, self.store_callback(&cb)).await {
                Ok(Ok(())) => {
                    self.inner.buffer.pop_front();
                    flushed += 1;
                }
                _ => break,
            }
        }
        if flushed > 0 {
            tracing::info!(flushed, "stored callbacks kept while the database was down");
        }
    }

    /// Claims and processes one batch, in a transaction that holds the inbox's processing lock
    /// (so one processor works at a time across instances, in arrival order); returns how many
    /// callbacks it claimed. Processing is at least once: if this stops half way, the claims and
    /// marks roll back and the batch is processed again (the handlers are idempotent).
    async fn process_batch(&self) -> ServiceResult<usize> {
        let mut conn = self.pool().get().await.map_err(DbError::from)?;
        diesel_async::AsyncConnection::transaction::<_, ServiceError, _>(
            &mut *conn,
            async |conn| {
                if !db::inbox::try_lock_processing(conn).await? {
                    return Ok(0);
                }
                let mut batch =
                    db::inbox::claim(conn, BATCH, chrono::Duration::seconds(LEASE_SECS)).await?;
                let claimed = batch.len();
                in_processing_order(&mut batch);
                let batch: Vec<Stored> = batch
                    .into_iter()
                    .map(|cb| {
                        let raw = RawCallback::from_stored(cb.kind, &cb.payload);
                        (cb, raw)
                    })
                    .collect();
                let legs: Vec<Uuid> = batch
                    .iter()
                    .filter_map(|(_, raw)| raw.as_ref().ok()?.leg())
                    .collect();
                let calls_of_legs = db::inbox::conferences_of_legs(conn, &legs).await?;
                let groups = by_call(batch, &calls_of_legs);
                let at_once = (self.pool().status().max_size / 3).clamp(1, CALLS_AT_ONCE);
                // Calls are independent: each call's callbacks run in order, several calls at
                // once (every change still takes its call's row lock).
                let outcomes: Vec<Vec<(db::inbox::ClaimedCallback, ServiceResult<()>)>> =
                    futures_util::stream::iter(groups)
                        .map(|group| async move {
                            let mut done = Vec::with_capacity(group.len());
                            for (cb, raw) in group {
                                let outcome = match raw {
                                    Ok(raw) => self.process(raw).await,
                                    Err(bad) => Err(ServiceError::Internal(bad.to_string())),
                                };
                                let unavailable =
                                    matches!(outcome, Err(ServiceError::Unavailable(_)));
                                done.push((cb, outcome));
                                if unavailable {
                                    break;
                                }
                            }
                            done
                        })
                        .buffer_unordered(at_once)
                        .collect()
                        .await;
                let mut processed = Vec::with_capacity(claimed);
                for (cb, outcome) in outcomes.into_iter().flatten() {
                    match outcome {
                        Ok(()) => processed.push(cb.id),
                        // The database, not the callback, failed: no attempt is spent. The batch
                        // rolls back and is taken again on the next round.
                        Err(e @ ServiceError::Unavailable(_)) => return Err(e),
                        Err(e) => {
                            let retry_at = retry_after(cb.attempts).map(|after| {
                                Utc::now() + chrono::Duration::from_std(after).unwrap_or_default()
                            });
                            tracing::warn!(id = cb.id, kind = %cb.kind, attempts = cb.attempts, error = %e, gives_up = retry_at.is_none(), "processing a callback failed");
                            db::inbox::mark_failed_attempt(conn, cb.id, &e.to_string(), retry_at)
                                .await?;
                        }
                    }
                }
                db::inbox::mark_processed(conn, &processed).await?;
                Ok(claimed)
            },
        )
        .await
    }

    async fn process(&self, raw: RawCallback) -> ServiceResult<()> {
        match raw
            .parsed()
            .map_err(|bad| ServiceError::Internal(bad.to_string()))?
        {
            Parsed::IncomingCall(call) => self.incoming_call(&call).await,
            Parsed::LegStatus(cb) => self.leg_status(cb).await,
            Parsed::Conference(cb) => self.conference_event(cb).await,
        }
    }

    async fn prune_inbox(&self) {
        let before = Utc::now() - chrono::Duration::hours(KEEP_PROCESSED_HOURS);
        let pruned = async {
            let mut conn = self.pool().get().await.map_err(DbError::from)?;
            db::inbox::prune(&mut conn, before).await
        }
        .await;
        match pruned {
            Ok(n) if n > 0 => tracing::info!(pruned = n, "pruned processed callbacks"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not prune the callback inbox"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const CALL: &str = "CA0123456789abcdef0123456789abcdef";
    const CONF: &str = "CF0123456789abcdef0123456789abcdef";

    #[test]
    fn a_stored_callback_reads_back_as_it_came() {
        let participant_id = Uuid::new_v4();
        for raw in [
            RawCallback::LegStatus {
                participant_id,
                form: form(&[("CallSid", CALL), ("CallStatus", "ringing")]),
            },
            RawCallback::Conference {
                form: form(&[
                    ("StatusCallbackEvent", "participant-join"),
                    ("ConferenceSid", CONF),
                    ("FriendlyName", "wt_x"),
                    ("SequenceNumber", "3"),
                ]),
            },
            RawCallback::IncomingCall {
                form: form(&[("CallSid", CALL), ("From", "+15551230001")]),
            },
        ] {
            assert_eq!(
                RawCallback::from_stored(raw.kind(), &raw.payload()).unwrap(),
                raw
            );
            assert!(raw.parse().is_ok());
        }
    }

    #[test]
    fn keys_and_sequences_order_one_calls_callbacks() {
        let conference = RawCallback::Conference {
            form: form(&[
                ("StatusCallbackEvent", "participant-leave"),
                ("ConferenceSid", CONF),
                ("FriendlyName", "wt_abc"),
                ("SequenceNumber", "7"),
            ]),
        };
        assert_eq!(conference.call_key(), format!("conference:{CONF}"));
        assert_eq!(conference.sequence(), Some(7));
        let id = Uuid::nil();
        let leg = RawCallback::LegStatus {
            participant_id: id,
            form: form(&[("CallSid", CALL), ("CallStatus", "completed")]),
        };
        assert_eq!(leg.call_key(), format!("leg:{id}"));
        assert_eq!(leg.sequence(), None);
    }

    #[test]
    fn input_that_can_never_be_processed_is_refused_up_front() {
        let bad = [
            RawCallback::LegStatus {
                participant_id: Uuid::nil(),
                form: form(&[("CallSid", CALL), ("CallStatus", "exploded")]),
            },
            RawCallback::LegStatus {
                participant_id: Uuid::nil(),
                form: form(&[("CallStatus", "ringing")]),
            },
            RawCallback::Conference {
                form: form(&[
                    ("StatusCallbackEvent", "participant-join"),
                    ("ConferenceSid", "CF123"),
                    ("FriendlyName", "wt_x"),
                ]),
            },
            RawCallback::IncomingCall {
                form: form(&[("CallSid", "nope")]),
            },
        ];
        for raw in bad {
            assert!(raw.parse().is_err(), "{raw:?}");
        }
    }

    fn claimed(id: i64, key: &str, sequence: Option<i64>) -> db::inbox::ClaimedCallback {
        db::inbox::ClaimedCallback {
            id,
            kind: CallbackKind::Conference,
            call_key: key.to_owned(),
            sequence,
            payload: Value::Null,
            attempts: 1,
        }
    }

    fn stored(id: i64, kind: CallbackKind, form: &[(&str, &str)], leg: Option<Uuid>) -> Stored {
        let cb = db::inbox::ClaimedCallback {
            id,
            kind,
            call_key: String::new(),
            sequence: None,
            payload: json!({ "form": form, "participant_id": leg }),
            attempts: 1,
        };
        let raw = RawCallback::from_stored(cb.kind, &cb.payload);
        (cb, raw)
    }

    #[test]
    fn a_batch_is_split_by_call_keeping_each_calls_order() {
        let leg = Uuid::new_v4();
        let stray = Uuid::new_v4();
        let batch = vec![
            stored(1, CallbackKind::IncomingCall, &[("CallSid", CALL)], None),
            stored(
                2,
                CallbackKind::Conference,
                &[("FriendlyName", "wt_other")],
                None,
            ),
            stored(
                3,
                CallbackKind::LegStatus,
                &[("CallStatus", "ringing")],
                Some(leg),
            ),
            stored(
                4,
                CallbackKind::Conference,
                &[("FriendlyName", &format!("wt_{CALL}"))],
                None,
            ),
            stored(
                5,
                CallbackKind::LegStatus,
                &[("CallStatus", "ringing")],
                Some(stray),
            ),
            stored(
                6,
                CallbackKind::Conference,
                &[("FriendlyName", "wt_other")],
                None,
            ),
        ];
        let legs = [(leg, format!("wt_{CALL}"))].into_iter().collect();
        let groups: Vec<Vec<i64>> = by_call(batch, &legs)
            .into_iter()
            .map(|g| g.into_iter().map(|(cb, _)| cb.id).collect())
            .collect();
        // The incoming call, its leg and its conference's event together and in order; the
        // other call apart; a leg of no known call alone.
        assert_eq!(groups, vec![vec![1, 3, 4], vec![2, 6], vec![5]]);
    }

    #[test]
    fn a_batch_runs_in_arrival_order_with_each_keys_callbacks_in_sequence() {
        // Conference A's events came out of order; B's and a leg's interleave with them.
        let mut batch = vec![
            claimed(1, "conference:A", Some(2)),
            claimed(2, "conference:B", Some(1)),
            claimed(3, "conference:A", Some(1)),
            claimed(4, "leg:x", None),
            claimed(5, "conference:A", Some(3)),
            claimed(6, "conference:B", Some(2)),
        ];
        in_processing_order(&mut batch);
        let order: Vec<i64> = batch.iter().map(|cb| cb.id).collect();
        // A's three callbacks keep A's places (1st, 3rd, 5th) in sequence order; the rest
        // keep their arrival places.
        assert_eq!(order, [3, 2, 1, 4, 5, 6]);
    }

    #[test]
    fn the_buffer_is_bounded_and_keeps_the_newest() {
        let buffer = Buffer::default();
        for i in 0..BUFFER_CAPACITY + 5 {
            buffer.push(RawCallback::IncomingCall {
                form: form(&[("n", &i.to_string())]),
            });
        }
        assert_eq!(buffer.len(), BUFFER_CAPACITY);
        assert_eq!(
            buffer.front(),
            Some(RawCallback::IncomingCall {
                form: form(&[("n", "5")])
            })
        );
    }
}
