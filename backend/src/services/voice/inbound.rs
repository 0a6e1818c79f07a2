//! The customer's call arriving, and the TwiML each leg is given.

use uuid::Uuid;

use super::callbacks::in_transaction;
use super::decide::decide;
use super::VoiceEngine;
use crate::db::{self, DbError};
use crate::domain::call::{
    after_customer_dial, conference_name, AfterCustomerDial, Call, CallSid, ParticipantKind,
};
use crate::domain::engine::{Input, TimelineEvent};
use crate::events::Topic;
use crate::services::{ServiceError, ServiceResult};
use twilio::twiml::{self, ConferenceTwiml};

/// How long the Dial action may spend reading the call before it answers regardless.
const LOOKUP_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

/// Twilio's `<Dial action>` request for a customer's conference Dial.
#[derive(Debug, Clone)]
pub struct CustomerDialEnded {
    pub call_sid: CallSid,
    /// `DialCallStatus`.
    pub dial_status: String,
    /// `CallStatus` says the caller already hung up.
    pub caller_gone: bool,
    /// Times the caller was put back already (from the action URL).
    pub rejoins: u32,
}

#[derive(Debug, Clone)]
pub struct InboundCall {
    pub call_sid: CallSid,
    pub from: String,
    pub to: String,
}

impl VoiceEngine {
    /// The customer's TwiML: a conference named after their call, waiting with music, ending
    /// when they hang up, reporting its events to us. Needs no database, so the fallback route
    /// serves the same room. When the Dial ends, Twilio asks `dial-done` what next (so a
    /// conference that fails under the caller does not hang them up); `rejoins` counts the
    /// times they were put back already.
    pub fn customer_twiml(&self, call_sid: &CallSid, rejoins: u32) -> String {
        twiml::conference(&ConferenceTwiml {
            action: Some(self.urls().dial_done(rejoins)),
            ..ConferenceTwiml::customer(
                conference_name(call_sid),
                self.urls().wait(),
                self.urls().conference_status(),
            )
        })
    }

    /// The customer's `<Dial>` ended (Twilio's `<Dial action>`): put a caller still on the line
    /// back into their conference, a bounded number of times; hang up a call that is over.
    pub async fn customer_dial_ended(&self, dial: &CustomerDialEnded) -> String {
        let call = match tokio::time::timeout(
            LOOKUP_WITHIN,
            self.find_customer_call(&dial.call_sid),
        )
        .await
        {
            Ok(Ok(call)) => call,
            Ok(Err(e)) => {
                tracing::error!(error = %e, call_sid = %dial.call_sid, "dial action: could not read the call");
                None
            }
            Err(_) => {
                tracing::error!(call_sid = %dial.call_sid, "dial action: reading the call timed out");
                None
            }
        };
        let decision = after_customer_dial(
            &dial.dial_status,
            dial.caller_gone,
            call.as_ref().map(|c| !c.status.is_final()),
            dial.rejoins,
        );
        tracing::info!(call_sid = %dial.call_sid, dial_status = %dial.dial_status, rejoins = dial.rejoins, ?decision, "customer's Dial ended");
        match decision {
            AfterCustomerDial::HangUp => twiml::hang_up(),
            AfterCustomerDial::Rejoin => {
                if let Some(call) = &call {
                    let rejoined = TimelineEvent::CustomerRejoined {
                        dial_status: dial.dial_status.clone(),
                        rejoins: dial.rejoins + 1,
                    };
                    if let Err(e) = self.record(call.id, &rejoined).await {
                        tracing::warn!(error = %e, "could not put the rejoin on the timeline");
                    }
                }
                self.customer_twiml(&dial.call_sid, dial.rejoins + 1)
            }
            AfterCustomerDial::GiveUp => {
                if let Some(call) = &call {
                    if let Err(e) = self
                        .give_up_on_caller(call.id, "the conference kept failing")
                        .await
                    {
                        tracing::error!(error = %e, call_id = %call.id, "could not close a call given up on");
                    }
                }
                twiml::say_and_hangup(
                    "Sorry, we are having technical difficulties and cannot connect your call. Please call again later.",
                )
            }
        }
    }

    async fn find_customer_call(&self, call_sid: &CallSid) -> ServiceResult<Option<Call>> {
        let mut conn = self.pool().get().await.map_err(DbError::from)?;
        Ok(db::calls::find_call_by_sid(&mut conn, call_sid.as_str()).await?)
    }

    async fn record(&self, call_id: Uuid, event: &TimelineEvent) -> ServiceResult<()> {
        let mut conn = self.pool().get().await.map_err(DbError::from)?;
        db::calls::record_event(&mut conn, call_id, event, None).await?;
        self.events().publish(Topic::Call(call_id));
        Ok(())
    }

    /// Closes a call whose caller we could not keep (or who never reached the conference).
    pub(crate) async fn give_up_on_caller(
        &self,
        call_id: Uuid,
        reason: &'static str,
    ) -> ServiceResult<()> {
        in_transaction!(self, |conn, out| {
            let Some(call) = db::calls::lock_call(conn, call_id).await? else {
                return Ok::<_, ServiceError>(());
            };
            decide(conn, call, &[], Input::EndCall { reason }, out).await?;
            Ok(())
        });
        Ok(())
    }

    /// Stores the call (idempotently: Twilio may retry the webhook) and lets the router know.
    /// No Twilio request happens here, so the webhook answers at once. Calls arriving together
    /// are stored together (see `arrivals`).
    pub async fn incoming_call(&self, call: &InboundCall) -> ServiceResult<()> {
        if let Some(call_id) = self.store_arrival(call).await? {
            tracing::info!(call_sid = %call.call_sid, "incoming call queued");
            self.events().publish(Topic::Call(call_id));
            self.events().publish(Topic::Queue);
            self.wake_router();
        }
        Ok(())
    }

    /// What the customer hears while waiting: the greeting once, then music, looping through
    /// `<Redirect>` (a waitUrl goes silent when its TwiML runs out).
    pub fn wait_twiml(&self, first: bool) -> String {
        let settings = self.settings();
        let again = format!("{}?again=1", self.urls().wait());
        twiml::wait_music(
            first.then_some(settings.greeting.as_str()),
            &settings.hold_music_url,
            &again,
        )
    }

    pub fn hold_twiml(&self) -> String {
        twiml::hold_music(&self.settings().hold_music_url, &self.urls().hold())
    }

    /// The agent leg's TwiML when the database can't be asked: join the named conference.
    pub fn agent_leg_twiml(&self, conference: &str, participant_id: Uuid) -> String {
        twiml::conference(&self.agent_conference(conference, participant_id))
    }

    /// A supervisor's leg when the database can't be asked: muted, unannounced, neither starting
    /// nor ending the conference, as from the database.
    pub fn supervisor_leg_twiml(&self, conference: &str, participant_id: Uuid) -> String {
        twiml::conference(&self.supervisor_conference(conference, participant_id))
    }

    fn supervisor_conference(
        &self,
        conference: impl Into<String>,
        participant_id: Uuid,
    ) -> ConferenceTwiml {
        ConferenceTwiml {
            muted: true,
            beep: false,
            start_conference_on_enter: false,
            end_conference_on_exit: false,
            ..self.agent_conference(conference, participant_id)
        }
    }

    /// An agent's (or transfer target's) room. It carries the conference callbacks too: only the
    /// first participant's count, and if the caller is gone the agent is first, alone in an
    /// empty room that nobody would otherwise report. The leg is labelled with its participant
    /// id, which Twilio's conference callbacks carry, so its join is recognised even before we
    /// learn its call SID.
    fn agent_conference(
        &self,
        conference: impl Into<String>,
        participant_id: Uuid,
    ) -> ConferenceTwiml {
        ConferenceTwiml {
            status_callback: Some(self.urls().conference_status()),
            status_callback_events: Some(twiml::CONFERENCE_STATUS_EVENTS.to_owned()),
            participant_label: Some(participant_id.to_string()),
            ..ConferenceTwiml::agent(conference)
        }
    }

    /// TwiML for a leg we dialed, fetched by Twilio when it answers: join the call's conference,
    /// starting it (so the customer hears them). If the call ended meanwhile, say so and hang up.
    pub async fn answered_leg_twiml(
        &self,
        participant_id: Uuid,
        call_sid: Option<&str>,
    ) -> ServiceResult<String> {
        let mut conn = self.pool().get().await.map_err(DbError::from)?;
        let participant = db::calls::find_participant(&mut conn, participant_id).await?;
        let call = match &participant {
            Some(p) => db::calls::find_call(&mut conn, p.call_id).await?,
            None => None,
        };
        Ok(match (participant, call) {
            // A second leg for the same participant (a retried create) must not join too.
            (Some(p), _)
                if p.call_sid
                    .as_deref()
                    .zip(call_sid)
                    .is_some_and(|(known, this)| known != this) =>
            {
                twiml::say_and_hangup("Sorry, this call was already answered elsewhere.")
            }
            // A supervisor joins muted, unannounced, without starting or ending the conference;
            // how they are heard changes later through the Participants API.
            (Some(p), Some(call))
                if p.kind == ParticipantKind::Supervisor
                    && !call.status.is_final()
                    && !p.status.is_final() =>
            {
                twiml::conference(&self.supervisor_conference(call.conference_name.clone(), p.id))
            }
            (Some(p), Some(call)) if !call.status.is_final() && !p.status.is_final() => {
                let whisper = self.transfer_whisper(&mut conn, &call, p.id).await?;
                twiml::conference(&ConferenceTwiml {
                    greeting: whisper,
                    ..self.agent_conference(call.conference_name.clone(), p.id)
                })
            }
            _ => twiml::say_and_hangup("Sorry, the caller has already hung up."),
        })
    }

    /// What a transfer target hears before joining (none for a routed agent).
    async fn transfer_whisper(
        &self,
        conn: &mut crate::db::PgConn,
        call: &crate::domain::call::Call,
        participant_id: Uuid,
    ) -> ServiceResult<Option<String>> {
        let transfers = db::calls::transfers_of(conn, call.id).await?;
        let Some(t) = transfers
            .into_iter()
            .find(|t| t.target_participant_id == Some(participant_id))
        else {
            return Ok(None);
        };
        let from = match t.from_agent_id {
            Some(id) => db::agents::find(conn, id).await?,
            None => None,
        };
        Ok(Some(crate::domain::call::transfer_whisper(
            t.mode,
            from.as_ref().map(|a| a.display_name.as_str()),
            t.note.as_deref(),
        )))
    }
}
