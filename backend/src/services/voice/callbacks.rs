//! Twilio's status callbacks: call progress of the legs we dial, and conference events.
//! Both arrive in any order and may repeat, so every step is idempotent and only moves forward.

use uuid::Uuid;

use super::decide::{decide, Outcome};
use super::VoiceEngine;
use crate::db::calls::ParticipantChanges;
use crate::db::{self, DbError};
use crate::domain::call::{customer_sid_from_conference, CallSid, ConferenceEvent, ConferenceSid};
use crate::domain::engine::{ConferenceInput, Effect, Input, TimelineEvent};
use crate::services::{ServiceError, ServiceResult};
use twilio::rest::CallStatus as TwilioCallStatus;

/// A call-progress callback for a leg we placed (`/twilio/leg-status?participant=…`).
#[derive(Debug, Clone)]
pub struct LegStatusCallback {
    pub participant_id: Uuid,
    pub call_sid: CallSid,
    pub status: TwilioCallStatus,
    pub raw_status: String,
    pub sequence: Option<i64>,
}

/// A conference status callback.
#[derive(Debug, Clone)]
pub struct ConferenceCallback {
    pub event: ConferenceEvent,
    pub raw_event: String,
    pub conference_sid: ConferenceSid,
    pub friendly_name: String,
    pub call_sid: Option<CallSid>,
    /// The label we gave the participant: an agent or outside leg's participant id.
    pub participant_label: Option<String>,
    pub sequence: Option<i64>,
    pub hold: Option<bool>,
    pub muted: Option<bool>,
    pub end_conference_on_exit: Option<bool>,
    /// `ParticipantCallStatus` of a `participant-leave`: `in-progress` when the leg's call goes
    /// on after leaving (its `<Dial action>` or the next verb runs).
    pub participant_call_status: Option<String>,
    pub reason: Option<String>,
}

/// A callback's parameters as Twilio posted them.
pub type Form = [(String, String)];

pub(crate) fn param<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn flag(form: &Form, name: &str) -> Option<bool> {
    param(form, name).map(|v| v.eq_ignore_ascii_case("true"))
}

/// A callback that can never be processed, whatever we retry: answered 400 and logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadCallback(pub &'static str);

impl LegStatusCallback {
    /// Parses a call progress callback for the leg `participant_id`.
    pub fn from_form(participant_id: Uuid, form: &Form) -> Result<Self, BadCallback> {
        let (Some(call_sid), Some(raw_status)) =
            (param(form, "CallSid"), param(form, "CallStatus"))
        else {
            return Err(BadCallback("CallSid and CallStatus are required"));
        };
        let status = raw_status
            .parse::<TwilioCallStatus>()
            .map_err(|_| BadCallback("unknown CallStatus"))?;
        let call_sid =
            CallSid::parse(call_sid).map_err(|_| BadCallback("CallSid is not a call SID"))?;
        Ok(LegStatusCallback {
            participant_id,
            call_sid,
            status,
            raw_status: raw_status.to_owned(),
            sequence: param(form, "SequenceNumber").and_then(|s| s.parse().ok()),
        })
    }
}

impl ConferenceCallback {
    /// Parses a conference status callback.
    pub fn from_form(form: &Form) -> Result<Self, BadCallback> {
        let (Some(event), Some(conference_sid), Some(name)) = (
            param(form, "StatusCallbackEvent"),
            param(form, "ConferenceSid"),
            param(form, "FriendlyName"),
        ) else {
            return Err(BadCallback(
                "StatusCallbackEvent, ConferenceSid and FriendlyName are required",
            ));
        };
        let (Ok(conference_sid), Ok(call_sid)) = (
            ConferenceSid::parse(conference_sid),
            param(form, "CallSid").map(CallSid::parse).transpose(),
        ) else {
            return Err(BadCallback(
                "ConferenceSid or CallSid is not a SID of its kind",
            ));
        };
        Ok(ConferenceCallback {
            event: ConferenceEvent::parse(event),
            raw_event: event.to_owned(),
            conference_sid,
            friendly_name: name.to_owned(),
            call_sid,
            participant_label: param(form, "ParticipantLabel").map(str::to_owned),
            sequence: param(form, "SequenceNumber").and_then(|s| s.parse().ok()),
            hold: flag(form, "Hold"),
            muted: flag(form, "Muted"),
            end_conference_on_exit: flag(form, "EndConferenceOnExit"),
            participant_call_status: param(form, "ParticipantCallStatus").map(str::to_owned),
            reason: param(form, "ReasonParticipantLeft")
                .or(param(form, "Reason"))
                .map(str::to_owned),
        })
    }
}

impl ConferenceCallback {
    /// The leave was the conference ending around the participant.
    fn conference_ended_around(&self) -> bool {
        self.reason
            .as_deref()
            .is_some_and(|r| r.contains("ended_conference"))
    }

    /// The participant's call goes on after leaving the conference.
    fn call_goes_on(&self) -> bool {
        self.participant_call_status.as_deref() == Some("in-progress")
    }
}

/// Runs the body in a transaction and returns its value with the [`Outcome`] it collected.
macro_rules! transaction_outcome {
    ($engine:expr, |$conn:ident, $out:ident| $body:expr) => {{
        let mut conn = $engine
            .pool()
            .get()
            .await
            .map_err($crate::db::DbError::from)?;
        let mut outcome = $crate::services::voice::decide::Outcome::default();
        let value = {
            let $out = &mut outcome;
            diesel_async::AsyncConnection::transaction::<_, $crate::services::ServiceError, _>(
                &mut *conn,
                async |$conn| $body,
            )
            .await?
        };
        (value, outcome)
    }};
}
pub(crate) use transaction_outcome;

/// Runs the body in a transaction, then carries out its outcome in the background.
macro_rules! in_transaction {
    ($engine:expr, |$conn:ident, $out:ident| $body:expr) => {{
        let (value, outcome) =
            $crate::services::voice::callbacks::transaction_outcome!($engine, |$conn, $out| $body);
        $engine.after_commit(outcome).await;
        value
    }};
}
pub(crate) use in_transaction;

impl VoiceEngine {
    /// Publishes changes, wakes the router and runs the Twilio requests a transaction decided on.
    pub(crate) async fn after_commit(&self, outcome: Outcome) {
        for topic in outcome.topics {
            self.events().publish(topic);
        }
        if outcome.wake_router {
            self.wake_router();
        }
        for (call_id, customer_sid) in outcome.adopted {
            let engine = self.clone();
            self.shutdown().spawn(async move {
                engine.fill_in_adopted_caller(call_id, &customer_sid).await;
            });
        }
        self.apply_later(outcome.effects);
    }

    /// Like `after_commit`, but the effects run now so an API caller hears about failures.
    pub(crate) async fn after_commit_now(&self, mut outcome: Outcome) -> ServiceResult<()> {
        let effects = std::mem::take(&mut outcome.effects);
        self.after_commit(outcome).await;
        self.apply(effects)
            .await
            .map_err(|e| ServiceError::Upstream(format!("Twilio refused the request: {e}")))
    }

    pub async fn leg_status(&self, cb: LegStatusCallback) -> ServiceResult<()> {
        in_transaction!(self, |conn, out| {
            let Some(p) = db::calls::find_participant(conn, cb.participant_id).await? else {
                tracing::warn!(participant_id = %cb.participant_id, "status callback for an unknown leg");
                return Ok(());
            };
            let Some(call) = db::calls::lock_call(conn, p.call_id).await? else {
                return Ok(());
            };
            // Re-read under the call's lock.
            let Some(p) = db::calls::find_participant(conn, p.id).await? else {
                return Ok(());
            };

            match p.call_sid.as_deref() {
                None => {
                    db::calls::update_participant(
                        conn,
                        p.id,
                        ParticipantChanges {
                            call_sid: Some(cb.call_sid.to_string()),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
                Some(known) if known != cb.call_sid.as_str() => {
                    // A second leg for one participant (a retried create): stop the stray one.
                    if !cb.status.is_final() {
                        out.effects.push(Effect::HangUp {
                            call_id: call.id,
                            call_sid: cb.call_sid.clone(),
                        });
                    }
                    return Ok(());
                }
                Some(_) => {}
            }
            let key = format!("leg:{}:{}", cb.call_sid, cb.raw_status);
            let received = TimelineEvent::LegStatus {
                participant_id: p.id,
                call_sid: cb.call_sid.clone(),
                status: cb.raw_status.clone(),
            };
            if !db::calls::record_event(conn, call.id, &received, Some(&key)).await? {
                return Ok(()); // a duplicate
            }
            decide(
                conn,
                call,
                &[],
                Input::LegProgress {
                    participant_id: p.id,
                    status: cb.status,
                },
                out,
            )
            .await?;
            Ok(())
        });
        Ok(())
    }

    /// Twilio refused to place a leg (or, asked later, never placed it).
    pub(crate) async fn leg_never_placed(
        &self,
        call_id: Uuid,
        participant_id: Uuid,
    ) -> ServiceResult<()> {
        in_transaction!(self, |conn, out| {
            let Some(call) = db::calls::lock_call(conn, call_id).await? else {
                return Ok(());
            };
            decide(conn, call, &[], Input::DialFailed { participant_id }, out).await?;
            Ok(())
        });
        Ok(())
    }

    pub async fn conference_event(&self, cb: ConferenceCallback) -> ServiceResult<()> {
        in_transaction!(self, |conn, out| {
            let call = match db::calls::find_call_by_conference(conn, &cb.friendly_name).await? {
                Some(call) => call,
                // The voice webhook could not store this call (it answered from the fallback
                // path): adopt it now so the caller is routed all the same.
                None => match customer_sid_from_conference(&cb.friendly_name) {
                    Some(sid)
                        if !matches!(
                            cb.event,
                            ConferenceEvent::ConferenceEnd | ConferenceEvent::ParticipantLeave
                        ) =>
                    {
                        let adopted = db::calls::store_inbound_call(
                            conn,
                            db::calls::ArrivingCall {
                                customer_call_sid: sid.as_str(),
                                from: db::calls::UNKNOWN_NUMBER,
                                to: db::calls::UNKNOWN_NUMBER,
                                conference_name: &cb.friendly_name,
                                adopted_from_conference: Some(&cb.friendly_name),
                                adopted_from_twilio: None,
                            },
                        )
                        .await?;
                        if let Some(call_id) = adopted {
                            tracing::warn!(call_sid = %sid, "adopted a call the voice webhook did not store");
                            out.adopted.push((call_id, sid.clone()));
                            out.topics.push(crate::events::Topic::Queue);
                            out.wake_router = true;
                        }
                        match db::calls::find_call_by_conference(conn, &cb.friendly_name).await? {
                            Some(call) => call,
                            None => return Ok(()),
                        }
                    }
                    _ => {
                        tracing::warn!(conference = %cb.friendly_name, event = %cb.raw_event, "event for an unknown conference");
                        return Ok(());
                    }
                },
            };
            let Some(call) = db::calls::lock_call(conn, call.id).await? else {
                return Ok(());
            };
            let key = cb
                .sequence
                .map(|seq| format!("conf:{}:{}:{}", cb.conference_sid, seq, cb.raw_event));
            let received = TimelineEvent::ConferenceEvent {
                event: cb.raw_event.clone(),
                call_sid: cb.call_sid.clone(),
                sequence: cb.sequence,
                hold: cb.hold,
                muted: cb.muted,
                reason: cb.reason.clone(),
            };
            if !db::calls::record_event(conn, call.id, &received, key.as_deref()).await? {
                return Ok(()); // a duplicate
            }
            // Which of the call's legs the event is about. A join may come before we learnt
            // the leg's SID (the create request's answer or its first status callback is still
            // on its way): its label says which leg it is.
            let mut participant_id = None;
            if let Some(sid) = &cb.call_sid {
                participant_id = db::calls::find_participant_by_sid(conn, sid)
                    .await?
                    .map(|p| p.id);
                if participant_id.is_none() && cb.event == ConferenceEvent::ParticipantJoin {
                    participant_id = labelled_leg(conn, &call, &cb).await?.map(|p| p.id);
                    if participant_id.is_none() {
                        tracing::warn!(call_sid = %sid, "join by a leg we do not know");
                    }
                }
            }
            let input = Input::Conference(ConferenceInput {
                event: cb.event,
                call_goes_on: cb.call_goes_on(),
                conference_ended_around: cb.conference_ended_around(),
                conference_sid: cb.conference_sid,
                call_sid: cb.call_sid,
                participant_id,
                sequence: cb.sequence,
                hold: cb.hold,
                muted: cb.muted,
                end_conference_on_exit: cb.end_conference_on_exit,
                reason: cb.reason,
            });
            decide(conn, call, &[], input, out).await?;
            Ok(())
        });
        Ok(())
    }
}

/// The leg a conference callback's `ParticipantLabel` names, when it is one of this call's legs
/// whose call SID we have not learnt yet; learns it.
async fn labelled_leg(
    conn: &mut crate::db::PgConn,
    call: &crate::domain::call::Call,
    cb: &ConferenceCallback,
) -> Result<Option<crate::domain::call::Participant>, DbError> {
    let (Some(label), Some(sid)) = (&cb.participant_label, &cb.call_sid) else {
        return Ok(None);
    };
    let Ok(participant_id) = label.parse::<Uuid>() else {
        return Ok(None);
    };
    let Some(p) = db::calls::find_participant(conn, participant_id).await? else {
        return Ok(None);
    };
    if p.call_id != call.id || p.call_sid.is_some() {
        return Ok(None);
    }
    Ok(Some(
        db::calls::update_participant(
            conn,
            p.id,
            ParticipantChanges {
                call_sid: Some(sid.to_string()),
                ..Default::default()
            },
        )
        .await?,
    ))
}
