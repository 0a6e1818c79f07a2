//! The customer's call arriving, and the TwiML each leg is given.

use serde_json::json;
use uuid::Uuid;

use super::VoiceEngine;
use crate::db::{self, DbError};
use crate::domain::call::{conference_name, CallSid};
use crate::events::Topic;
use crate::services::ServiceResult;
use twilio::twiml::{self, ConferenceTwiml};

#[derive(Debug, Clone)]
pub struct InboundCall {
    pub call_sid: CallSid,
    pub from: String,
    pub to: String,
}

impl VoiceEngine {
    /// The customer's TwiML: a conference named after their call, waiting with music, ending
    /// when they hang up, reporting its events to us. Needs no database, so the fallback route
    /// serves the same room.
    pub fn customer_twiml(&self, call_sid: &CallSid) -> String {
        twiml::conference(&ConferenceTwiml::customer(
            conference_name(call_sid),
            self.urls().wait(),
            self.urls().conference_status(),
        ))
    }

    /// Stores the call (idempotently: Twilio may retry the webhook) and lets the router know.
    /// No Twilio request happens here, so the webhook answers at once.
    pub async fn incoming_call(&self, call: &InboundCall) -> ServiceResult<()> {
        let mut conn = self.pool().get().await.map_err(DbError::from)?;
        let received = json!({ "from": call.from, "to": call.to });
        let stored = db::calls::store_inbound_call(
            &mut conn,
            call.call_sid.as_str(),
            &call.from,
            &call.to,
            &conference_name(&call.call_sid),
            &received,
        )
        .await?;
        drop(conn);
        if let Some(call_id) = stored {
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
    pub fn agent_leg_twiml(&self, conference: &str) -> String {
        twiml::conference(&ConferenceTwiml::agent(conference))
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
            (Some(p), Some(call)) if !call.status.is_final() && !p.status.is_final() => {
                twiml::conference(&ConferenceTwiml::agent(call.conference_name))
            }
            _ => twiml::say_and_hangup("Sorry, the caller has already hung up."),
        })
    }
}
