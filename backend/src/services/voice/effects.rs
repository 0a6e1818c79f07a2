//! Twilio REST requests decided inside a transaction and carried out after it commits.

use uuid::Uuid;

use super::VoiceEngine;
use crate::db::{self, calls::ParticipantChanges};
use crate::domain::call::CallSid;
use crate::domain::engine::{Effect, TimelineEvent};
use twilio::rest::{
    CallProgressEvent, CallUpdateStatus, CreateCall, TwilioError, UpdateCall, UpdateParticipant,
};

impl VoiceEngine {
    /// Carries out effects in order. Each failure is logged and put on the call's timeline; the
    /// first one is returned so an API caller can say what went wrong.
    pub(crate) async fn apply(&self, effects: Vec<Effect>) -> Result<(), TwilioError> {
        let mut first_error = None;
        for effect in effects {
            if let Err(e) = self.apply_one(&effect).await {
                tracing::warn!(?effect, error = %e, "Twilio request failed");
                let call_id = effect.call_id();
                if let Ok(mut conn) = self.pool().get().await {
                    let failed = TimelineEvent::TwilioError {
                        request: format!("{effect:?}"),
                        error: e.to_string(),
                    };
                    let _ = db::calls::record_event(&mut conn, call_id, &failed, None).await;
                }
                if let Effect::Dial {
                    call_id,
                    participant_id,
                    ..
                } = effect
                {
                    self.dial_failed(call_id, participant_id).await;
                }
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Runs effects in the background, for webhook handlers that must answer Twilio at once.
    pub(crate) fn apply_later(&self, effects: Vec<Effect>) {
        if effects.is_empty() {
            return;
        }
        let engine = self.clone();
        // Decided in a committed transaction: a draining instance finishes them before it exits.
        self.shutdown().spawn(async move {
            let _ = engine.apply(effects).await;
        });
    }

    async fn apply_one(&self, effect: &Effect) -> Result<(), TwilioError> {
        let twilio = self.twilio();
        match effect {
            Effect::Dial {
                call_id,
                participant_id,
                to,
                conference,
                supervisor,
            } => {
                let request = CreateCall {
                    to: to.clone(),
                    from: self.settings().phone_number.as_str().to_owned(),
                    url: Some(
                        self.urls()
                            .leg_answered(*participant_id, conference, *supervisor),
                    ),
                    fallback_url: Some(self.urls().leg_fallback(
                        *participant_id,
                        conference,
                        *supervisor,
                    )),
                    status_callback: Some(self.urls().leg_status(*participant_id)),
                    status_callback_events: CallProgressEvent::ALL.to_vec(),
                    timeout_secs: Some(self.settings().ring_timeout.as_secs().clamp(5, 600) as u32),
                    ..Default::default()
                };
                let created = twilio.create_call(&request).await?;
                let sid = CallSid::parse(&created.sid)?;
                self.leg_created(*call_id, *participant_id, &sid).await;
                Ok(())
            }
            // `canceled` only stops queued or ringing calls and succeeds silently on an answered
            // one; `completed` ends the leg whatever its state.
            Effect::HangUp { call_sid, .. } => {
                let update = UpdateCall {
                    status: Some(CallUpdateStatus::Completed),
                    ..Default::default()
                };
                ignore_gone(
                    twilio
                        .update_call(call_sid.as_str(), &update)
                        .await
                        .map(drop),
                )
            }
            Effect::Hold {
                conference_sid,
                call_sid,
                hold,
                ..
            } => {
                let update = UpdateParticipant {
                    hold: Some(*hold),
                    hold_url: hold.then(|| self.urls().hold()),
                    ..Default::default()
                };
                twilio
                    .update_participant(conference_sid.as_str(), call_sid.as_str(), &update)
                    .await
                    .map(drop)
            }
            Effect::Mute {
                conference_sid,
                call_sid,
                muted,
                ..
            } => {
                let update = UpdateParticipant {
                    muted: Some(*muted),
                    ..Default::default()
                };
                twilio
                    .update_participant(conference_sid.as_str(), call_sid.as_str(), &update)
                    .await
                    .map(drop)
            }
            Effect::EndConferenceOnExit {
                conference_sid,
                call_sid,
                value,
                ..
            } => {
                let update = UpdateParticipant {
                    end_conference_on_exit: Some(*value),
                    ..Default::default()
                };
                twilio
                    .update_participant(conference_sid.as_str(), call_sid.as_str(), &update)
                    .await
                    .map(drop)
            }
            Effect::Monitor {
                conference_sid,
                call_sid,
                muted,
                coach,
                ..
            } => {
                let update = UpdateParticipant {
                    muted: Some(*muted),
                    coaching: Some(coach.is_some()),
                    call_sid_to_coach: coach.as_ref().map(|sid| sid.as_str().to_owned()),
                    ..Default::default()
                };
                twilio
                    .update_participant(conference_sid.as_str(), call_sid.as_str(), &update)
                    .await
                    .map(drop)
            }
            Effect::Remove {
                conference_sid,
                call_sid,
                ..
            } => ignore_gone(
                twilio
                    .remove_participant(conference_sid.as_str(), call_sid.as_str())
                    .await,
            ),
        }
    }

    /// Twilio created the leg: keep its SID from now on. If the leg was called off while the
    /// request was in flight (customer hung up, transfer canceled), stop it at once.
    async fn leg_created(&self, call_id: Uuid, participant_id: Uuid, call_sid: &CallSid) {
        let outcome = async {
            let mut conn = self.pool().get().await?;
            let participant = db::calls::find_participant(&mut conn, participant_id).await?;
            let Some(participant) = participant else {
                return Ok::<_, db::DbError>(None);
            };
            if participant.call_sid.is_none() {
                db::calls::update_participant(
                    &mut conn,
                    participant_id,
                    ParticipantChanges {
                        call_sid: Some(call_sid.to_string()),
                        ..Default::default()
                    },
                )
                .await?;
            }
            let stray = participant
                .call_sid
                .as_ref()
                .is_some_and(|known| known != call_sid);
            Ok(Some(stray || participant.status.is_final()))
        }
        .await;
        match outcome {
            Ok(Some(true)) => self.apply_later(vec![Effect::HangUp {
                call_id,
                call_sid: call_sid.clone(),
            }]),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, %participant_id, "could not store the new leg's call SID")
            }
        }
    }

    /// Twilio refused to place a leg: it failed, through no fault of the agent.
    async fn dial_failed(&self, call_id: Uuid, participant_id: Uuid) {
        if let Err(e) = self.leg_never_placed(call_id, participant_id).await {
            tracing::error!(error = %e, %participant_id, "could not record a failed dial");
        }
    }
}

/// A leg that is already gone is the outcome we wanted.
fn ignore_gone(result: Result<(), TwilioError>) -> Result<(), TwilioError> {
    match result {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}
