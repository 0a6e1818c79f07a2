//! Arriving calls stored together. Under a burst, the voice webhooks waiting on the database
//! are gathered and stored by one statement (one round trip and one commit for all of them)
//! instead of one each; when calls arrive one at a time, each is stored at once, alone.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot, Mutex};
use uuid::Uuid;

use super::inbound::InboundCall;
use super::VoiceEngine;
use crate::db::calls::ArrivingCall;
use crate::db::{self, DbError};
use crate::domain::call::conference_name;
use crate::services::ServiceError;

/// Calls stored by one statement at most.
const MOST_AT_ONCE: usize = 128;
/// Statements storing arrivals at the same time (each holds a database connection).
const STORERS: usize = 2;
/// Webhooks waiting for a storer; beyond this a webhook waits for room (and answers from its
/// own timeout, keeping the call for later, if none comes).
const WAITING: usize = 4096;

/// What one webhook learns: the call's id if this arrival stored it, `None` if it was stored
/// before (a retried webhook).
type Outcome = Result<Option<Uuid>, ServiceError>;

struct Arrival {
    call: InboundCall,
    outcome: oneshot::Sender<Outcome>,
}

pub(super) struct Arrivals {
    sender: mpsc::Sender<Arrival>,
    receiver: Mutex<mpsc::Receiver<Arrival>>,
}

impl Default for Arrivals {
    fn default() -> Self {
        let (sender, receiver) = mpsc::channel(WAITING);
        Self {
            sender,
            receiver: Mutex::new(receiver),
        }
    }
}

impl VoiceEngine {
    /// Stores an arriving call together with whatever other arrivals are waiting; returns its
    /// id when this stored it. Needs [`VoiceEngine::run_arrivals`] running.
    pub(super) async fn store_arrival(&self, call: &InboundCall) -> Outcome {
        let (outcome, stored) = oneshot::channel();
        let arrival = Arrival {
            call: call.clone(),
            outcome,
        };
        if self.inner.arrivals.sender.send(arrival).await.is_err() {
            return Err(ServiceError::Internal(
                "arriving calls are no longer stored".into(),
            ));
        }
        stored
            .await
            .unwrap_or_else(|_| Err(ServiceError::Internal("an arrival was dropped".into())))
    }

    /// Stores arriving calls until the server stops: each storer takes every arrival waiting
    /// (up to `MOST_AT_ONCE`) and stores them with one statement.
    pub async fn run_arrivals(self) {
        let storers = (0..STORERS).map(|_| {
            let engine = self.clone();
            async move { while engine.store_waiting().await {} }
        });
        futures_util::future::join_all(storers).await;
    }

    /// One round: waits for an arrival, takes the others already waiting, stores them all.
    /// Returns false once the server stopped and no arrival is left.
    async fn store_waiting(&self) -> bool {
        let mut batch = Vec::new();
        {
            let mut receiver = self.inner.arrivals.receiver.lock().await;
            tokio::select! {
                biased;
                received = receiver.recv_many(&mut batch, MOST_AT_ONCE) => {
                    if received == 0 {
                        return false;
                    }
                }
                _ = self.shutdown().stopping() => {
                    // In-flight requests are over; store what they left, then stop.
                    receiver.close();
                    if receiver.recv_many(&mut batch, MOST_AT_ONCE).await == 0 {
                        return false;
                    }
                }
            }
        }
        let mut stored = self.store_batch(&batch).await;
        for arrival in batch {
            let outcome = match &mut stored {
                // A call SID twice in one batch is stored once: its first arrival is told so.
                Ok(ids) => Ok(ids.remove(arrival.call.call_sid.as_str())),
                Err(e) => Err(ServiceError::Unavailable(DbError::Shared(e.to_string()))),
            };
            // The webhook may have stopped waiting (it answered and kept the call for later).
            let _ = arrival.outcome.send(outcome);
        }
        true
    }

    async fn store_batch(&self, batch: &[Arrival]) -> Result<HashMap<String, Uuid>, DbError> {
        let names: Vec<String> = batch
            .iter()
            .map(|a| conference_name(&a.call.call_sid))
            .collect();
        let arriving: Vec<ArrivingCall<'_>> = batch
            .iter()
            .zip(&names)
            .map(|(a, name)| ArrivingCall {
                customer_call_sid: a.call.call_sid.as_str(),
                from: &a.call.from,
                to: &a.call.to,
                conference_name: name,
                adopted_from_conference: None,
                adopted_from_twilio: None,
            })
            .collect();
        let mut conn = self.pool().get().await?;
        let stored = db::calls::store_inbound_calls(&mut conn, &arriving).await?;
        Ok(stored.into_iter().collect())
    }
}
