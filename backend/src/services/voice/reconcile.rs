//! Reconciliation: what we store about a leg is a belief, Twilio's state is the truth. A leg we
//! still believe dialing or ringing long after it was placed lost a request or a callback. We
//! never end a leg on that stale belief: we ask Twilio (fetch the call, and the participant in
//! the conference) and feed its answer through the same paths its callbacks take. A customer is
//! never hung up on this evidence.

use std::time::Instant;

use uuid::Uuid;

use super::callbacks::{in_transaction, ConferenceCallback, LegStatusCallback};
use super::decide::decide;
use super::VoiceEngine;
use crate::db::{self, DbError};
use crate::domain::call::{
    customer_sid_from_conference, Call, ConferenceEvent, ConferenceSid, Participant,
    ParticipantKind, ParticipantStatus,
};
use crate::domain::engine::Input;
use crate::services::{ServiceError, ServiceResult};
use twilio::rest::{CallStatus as TwilioCallStatus, TwilioError};

/// How many connected legs one pass checks with Twilio (the longest-standing first); the rest
/// wait for the next pass.
const CONNECTED_LEGS_PER_PASS: i64 = 200;

/// However long the stale limit, a leg Twilio said to wait on is asked about again this soon.
const RECHECK_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// What Twilio says became of a leg we lost track of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LegTruth {
    /// Twilio has no such call, or we never learnt its SID: it never rang.
    NeverPlaced,
    /// Still being placed or ringing: Twilio reports it, or rings it out, by itself.
    StillRinging,
    /// Answered and in the conference: its join callback was lost.
    InConference {
        conference_sid: ConferenceSid,
        hold: bool,
        muted: bool,
        end_conference_on_exit: bool,
    },
    /// Answered but not (or not yet) in the conference.
    AnsweredElsewhere,
    /// Over, with this final status: its end was never reported.
    Ended(TwilioCallStatus),
}

/// What to do about a stale leg, given Twilio's answer. A pure rule: no I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settle {
    /// Nothing to do (yet).
    Wait,
    /// Report the leg's end as its status callback would have.
    LegEnded(TwilioCallStatus),
    /// The leg was never placed: it missed, through nobody's fault.
    NeverPlaced,
    /// Report the join as its conference callback would have.
    Joined,
    /// The customer's call is over: the call ends.
    CustomerGone,
    /// A leg we believe in the conference is gone: report its leave (then its end) as their
    /// callbacks would have.
    Left,
}

/// `connected` says whether we believe the leg is in the conference (its join was reported)
/// rather than still on its way.
pub(crate) fn settle(kind: ParticipantKind, connected: bool, truth: &LegTruth) -> Settle {
    if connected {
        return match (kind, truth) {
            // Where we believe it is, or somewhere Twilio will report on by itself.
            (_, LegTruth::InConference { .. })
            | (_, LegTruth::StillRinging | LegTruth::AnsweredElsewhere) => Settle::Wait,
            (ParticipantKind::Customer, LegTruth::NeverPlaced) => Settle::Wait,
            (ParticipantKind::Customer, LegTruth::Ended(_)) => Settle::CustomerGone,
            (_, LegTruth::NeverPlaced | LegTruth::Ended(_)) => Settle::Left,
        };
    }
    match (kind, truth) {
        (_, LegTruth::StillRinging | LegTruth::AnsweredElsewhere) => Settle::Wait,
        (_, LegTruth::InConference { .. }) => Settle::Joined,
        // Our record of the customer is only ever settled by what Twilio says of their call;
        // a customer Twilio does not know (yet) is left alone.
        (ParticipantKind::Customer, LegTruth::NeverPlaced) => Settle::Wait,
        (ParticipantKind::Customer, LegTruth::Ended(_)) => Settle::CustomerGone,
        (_, LegTruth::NeverPlaced) => Settle::NeverPlaced,
        (_, LegTruth::Ended(status)) => Settle::LegEnded(*status),
    }
}

impl VoiceEngine {
    /// Asks Twilio about every leg that has gone unconfirmed for too long, and settles to its
    /// answer. Each leg is asked about at most once per `stale_leg_after`.
    pub(crate) async fn reconcile_stale_legs(&self) -> ServiceResult<()> {
        let older_than =
            chrono::Duration::from_std(self.settings().stale_leg_after).unwrap_or_default();
        let legs = {
            let mut conn = self.pool().get().await.map_err(DbError::from)?;
            db::routing::stale_pending_legs(&mut conn, older_than).await?
        };
        for leg in legs {
            self.reconcile_if_due(&leg).await;
        }
        Ok(())
    }

    /// Checks the legs we believe in a conference with Twilio, each at most once per
    /// `live_leg_check_every`: one whose leave and end were both lost would otherwise hold its
    /// agent busy, and leave the customer alone with nobody, for good.
    pub(crate) async fn verify_connected_legs(&self) -> ServiceResult<()> {
        let every = self.settings().live_leg_check_every;
        let legs = {
            let mut conn = self.pool().get().await.map_err(DbError::from)?;
            let joined_before = chrono::Duration::from_std(every).unwrap_or_default();
            db::routing::connected_legs(&mut conn, joined_before, CONNECTED_LEGS_PER_PASS).await?
        };
        for leg in legs {
            if !due(&self.inner.connected_checked, leg.id, every) {
                continue;
            }
            if let Err(e) = self.reconcile_leg(&leg).await {
                tracing::warn!(participant_id = %leg.id, error = %e, "could not check a connected leg; will ask again");
            }
        }
        Ok(())
    }

    /// Conferences Twilio holds for our callers that we do not know (the voice webhook could not
    /// store the call and its callbacks were lost, or the process restarted while keeping them)
    /// are adopted, and each adopted caller is asked about at once so they are routed.
    pub(crate) async fn adopt_unknown_conferences(&self) -> ServiceResult<()> {
        let mut live = Vec::new();
        for status in [
            twilio::rest::ConferenceStatus::Init,
            twilio::rest::ConferenceStatus::InProgress,
        ] {
            live.extend(
                self.twilio()
                    .list_conferences(None, Some(status))
                    .await
                    .map_err(upstream)?,
            );
        }
        for conference in live {
            let Some(name) = conference.friendly_name.as_deref() else {
                continue;
            };
            let Some(customer_sid) = customer_sid_from_conference(name) else {
                continue; // not one of ours
            };
            let known = {
                let mut conn = self.pool().get().await.map_err(DbError::from)?;
                db::calls::find_call_by_conference(&mut conn, name)
                    .await?
                    .is_some()
            };
            if known {
                continue;
            }
            // The conference names neither party; the caller's call does.
            let (from, to) = self.caller_numbers(&customer_sid).await;
            let adopted = {
                let mut conn = self.pool().get().await.map_err(DbError::from)?;
                db::calls::store_inbound_call(
                    &mut conn,
                    db::calls::ArrivingCall {
                        customer_call_sid: customer_sid.as_str(),
                        from: from.as_deref().unwrap_or(db::calls::UNKNOWN_NUMBER),
                        to: to.as_deref().unwrap_or(db::calls::UNKNOWN_NUMBER),
                        conference_name: name,
                        adopted_from_conference: None,
                        adopted_from_twilio: Some(conference.sid.as_str()),
                    },
                )
                .await?
            };
            let Some(call_id) = adopted else {
                continue;
            };
            tracing::warn!(call_sid = %customer_sid, conference = %conference.sid, "adopted a live conference we did not know");
            let customer = {
                let mut conn = self.pool().get().await.map_err(DbError::from)?;
                db::calls::participants_of(&mut conn, call_id).await?
            };
            if let Some(customer) = customer
                .iter()
                .find(|p| p.kind == ParticipantKind::Customer)
            {
                if let Err(e) = self.reconcile_leg(customer).await {
                    tracing::warn!(error = %e, "could not settle an adopted caller; will ask again");
                }
            }
            self.events().publish(crate::events::Topic::Queue);
            self.wake_router();
        }
        Ok(())
    }

    /// Reconciles one leg unless it was asked about recently.
    pub(crate) async fn reconcile_if_due(&self, leg: &Participant) {
        if !self.due_for_check(leg.id) {
            return;
        }
        if let Err(e) = self.reconcile_leg(leg).await {
            tracing::warn!(participant_id = %leg.id, error = %e, "could not reconcile a leg; will ask again");
        }
    }

    /// Whether this leg was not asked about recently (within `stale_leg_after`, and at most
    /// 10 s); marks it asked.
    fn due_for_check(&self, participant_id: Uuid) -> bool {
        let every = self.settings().stale_leg_after.min(RECHECK_AT_MOST_EVERY);
        due(&self.inner.legs_checked, participant_id, every)
    }

    async fn reconcile_leg(&self, leg: &Participant) -> ServiceResult<()> {
        let call = {
            let mut conn = self.pool().get().await.map_err(DbError::from)?;
            db::calls::find_call(&mut conn, leg.call_id).await?
        };
        let Some(call) = call else {
            return Ok(());
        };
        let truth = self.ask_twilio(&call, leg).await?;
        let decision = settle(leg.kind, leg.status == ParticipantStatus::Connected, &truth);
        tracing::warn!(participant_id = %leg.id, kind = %leg.kind, ?truth, ?decision, "reconciled a leg whose callbacks never came");
        match (decision, &truth) {
            (Settle::Wait, _) => Ok(()),
            (Settle::NeverPlaced, _) => self.leg_never_placed(call.id, leg.id).await,
            (Settle::LegEnded(status), _) => {
                let Some(call_sid) = leg.call_sid.clone() else {
                    return Ok(());
                };
                self.leg_status(LegStatusCallback {
                    participant_id: leg.id,
                    call_sid,
                    status,
                    raw_status: status.as_str().to_owned(),
                    sequence: None,
                })
                .await
            }
            (
                Settle::Joined,
                LegTruth::InConference {
                    conference_sid,
                    hold,
                    muted,
                    end_conference_on_exit,
                },
            ) => {
                self.conference_event(ConferenceCallback {
                    event: ConferenceEvent::ParticipantJoin,
                    raw_event: "participant-join".to_owned(),
                    conference_sid: conference_sid.clone(),
                    friendly_name: call.conference_name.clone(),
                    call_sid: leg.call_sid.clone(),
                    participant_label: None,
                    sequence: None,
                    hold: Some(*hold),
                    muted: Some(*muted),
                    end_conference_on_exit: Some(*end_conference_on_exit),
                    participant_call_status: None,
                    reason: None,
                })
                .await
            }
            (Settle::Joined, _) => Ok(()),
            (Settle::Left, _) => {
                let (Some(call_sid), Some(conference_sid)) =
                    (leg.call_sid.clone(), call.conference_sid.clone())
                else {
                    return Ok(());
                };
                self.conference_event(ConferenceCallback {
                    event: ConferenceEvent::ParticipantLeave,
                    raw_event: "participant-leave".to_owned(),
                    conference_sid,
                    friendly_name: call.conference_name.clone(),
                    call_sid: Some(call_sid.clone()),
                    participant_label: None,
                    sequence: None,
                    hold: None,
                    muted: None,
                    end_conference_on_exit: None,
                    participant_call_status: Some("completed".to_owned()),
                    reason: Some("the leg's call ended (found by asking Twilio)".to_owned()),
                })
                .await?;
                let status = match truth {
                    LegTruth::Ended(status) => status,
                    _ => TwilioCallStatus::Completed,
                };
                self.leg_status(LegStatusCallback {
                    participant_id: leg.id,
                    call_sid,
                    status,
                    raw_status: status.as_str().to_owned(),
                    sequence: None,
                })
                .await
            }
            (Settle::CustomerGone, _) => {
                in_transaction!(self, |conn, out| {
                    if let Some(call) = db::calls::lock_call(conn, call.id).await? {
                        decide(conn, call, &[], Input::CustomerGone, out).await?;
                    }
                    Ok::<_, ServiceError>(())
                });
                Ok(())
            }
        }
    }

    /// Twilio's view of one leg. Errors other than "no such call" mean Twilio could not be
    /// asked: nothing is decided, and the leg is asked about again later.
    async fn ask_twilio(&self, call: &Call, leg: &Participant) -> ServiceResult<LegTruth> {
        let Some(call_sid) = &leg.call_sid else {
            return Ok(LegTruth::NeverPlaced);
        };
        let fetched = match self.twilio().fetch_call(call_sid).await {
            Ok(fetched) => fetched,
            Err(e) if e.is_not_found() => return Ok(LegTruth::NeverPlaced),
            Err(e) => return Err(upstream(e)),
        };
        let status = fetched.status.unwrap_or(TwilioCallStatus::Unknown);
        if status.is_final() {
            return Ok(LegTruth::Ended(status));
        }
        if status != TwilioCallStatus::InProgress {
            return Ok(LegTruth::StillRinging);
        }
        let Some(conference_sid) = self.conference_of(call).await? else {
            return Ok(LegTruth::AnsweredElsewhere);
        };
        match self
            .twilio()
            .fetch_participant(conference_sid.as_str(), call_sid.as_str())
            .await
        {
            Ok(p) => Ok(LegTruth::InConference {
                conference_sid,
                hold: p.hold.unwrap_or(false),
                muted: p.muted.unwrap_or(false),
                end_conference_on_exit: p.end_conference_on_exit.unwrap_or(false),
            }),
            Err(e) if e.is_not_found() => Ok(LegTruth::AnsweredElsewhere),
            Err(e) => Err(upstream(e)),
        }
    }

    /// The call's conference SID: stored from its callbacks, or (when those were lost) looked
    /// up by its name among Twilio's live conferences.
    async fn conference_of(&self, call: &Call) -> ServiceResult<Option<ConferenceSid>> {
        if let Some(sid) = &call.conference_sid {
            return Ok(Some(sid.clone()));
        }
        // A conference with only the customer waiting in it is still `init`: take any that
        // has not ended.
        let named = self
            .twilio()
            .list_conferences_by_name(&call.conference_name, None)
            .await
            .map_err(upstream)?;
        Ok(named
            .into_iter()
            .filter(|c| c.status != Some(twilio::rest::ConferenceStatus::Completed))
            .find_map(|c| ConferenceSid::parse(&c.sid).ok()))
    }
}

/// Whether `id` was not asked about within `every` according to `checked`; marks it asked.
fn due(
    checked: &std::sync::Mutex<std::collections::HashMap<Uuid, Instant>>,
    id: Uuid,
    every: std::time::Duration,
) -> bool {
    let now = Instant::now();
    let mut checked = checked
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    checked.retain(|_, at| now.duration_since(*at) < every * 4);
    match checked.get(&id) {
        Some(at) if now.duration_since(*at) < every => false,
        _ => {
            checked.insert(id, now);
            true
        }
    }
}

fn upstream(e: TwilioError) -> ServiceError {
    ServiceError::Upstream(format!("Twilio could not be asked: {e}"))
}

impl VoiceEngine {
    /// The caller's and the dialed number of a customer's call, from Twilio's call resource
    /// (`None` each when Twilio cannot be asked or does not say).
    async fn caller_numbers(
        &self,
        customer_sid: &crate::domain::call::CallSid,
    ) -> (Option<String>, Option<String>) {
        match self.twilio().fetch_call(customer_sid.as_str()).await {
            Ok(call) => (
                call.from.filter(|f| !f.is_empty()),
                call.to.filter(|t| !t.is_empty()),
            ),
            Err(e) => {
                tracing::warn!(error = %e, call_sid = %customer_sid, "could not ask Twilio who an adopted call is from");
                (None, None)
            }
        }
    }

    /// A call adopted from a conference callback was stored with its numbers unknown: fill
    /// them in from Twilio (best effort; the call is routed meanwhile either way).
    pub(crate) async fn fill_in_adopted_caller(
        &self,
        call_id: Uuid,
        customer_sid: &crate::domain::call::CallSid,
    ) {
        let (Some(from), to) = self.caller_numbers(customer_sid).await else {
            return;
        };
        let filled = async {
            let mut conn = self.pool().get().await.map_err(DbError::from)?;
            db::calls::fill_in_unknown_numbers(&mut conn, call_id, &from, to.as_deref()).await
        }
        .await;
        match filled {
            Ok(true) => {
                self.events().publish(crate::events::Topic::Call(call_id));
                self.events().publish(crate::events::Topic::Queue);
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, %call_id, "could not store an adopted call's numbers")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_conference() -> LegTruth {
        LegTruth::InConference {
            conference_sid: ConferenceSid::parse("CF0123456789abcdef0123456789abcdef").unwrap(),
            hold: false,
            muted: false,
            end_conference_on_exit: false,
        }
    }

    #[test]
    fn a_customer_is_never_hung_up_on_a_stale_belief() {
        use ParticipantKind::Customer;
        // Ringing, answered elsewhere, or unknown to Twilio: wait, never end.
        assert_eq!(
            settle(Customer, false, &LegTruth::StillRinging),
            Settle::Wait
        );
        assert_eq!(
            settle(Customer, false, &LegTruth::AnsweredElsewhere),
            Settle::Wait
        );
        assert_eq!(
            settle(Customer, false, &LegTruth::NeverPlaced),
            Settle::Wait
        );
        // In the conference: their join was lost; it is reported now.
        assert_eq!(settle(Customer, false, &in_conference()), Settle::Joined);
        // Only Twilio saying their call is over ends the call.
        assert_eq!(
            settle(
                Customer,
                false,
                &LegTruth::Ended(TwilioCallStatus::Completed)
            ),
            Settle::CustomerGone
        );
    }

    #[test]
    fn a_leg_believed_in_the_conference_is_left_there_unless_twilio_says_it_is_gone() {
        for kind in [ParticipantKind::Agent, ParticipantKind::External] {
            assert_eq!(settle(kind, true, &in_conference()), Settle::Wait);
            assert_eq!(
                settle(kind, true, &LegTruth::AnsweredElsewhere),
                Settle::Wait
            );
            assert_eq!(settle(kind, true, &LegTruth::NeverPlaced), Settle::Left);
            assert_eq!(
                settle(kind, true, &LegTruth::Ended(TwilioCallStatus::Completed)),
                Settle::Left
            );
        }
        use ParticipantKind::Customer;
        assert_eq!(settle(Customer, true, &LegTruth::NeverPlaced), Settle::Wait);
        assert_eq!(settle(Customer, true, &in_conference()), Settle::Wait);
        assert_eq!(
            settle(
                Customer,
                true,
                &LegTruth::Ended(TwilioCallStatus::Completed)
            ),
            Settle::CustomerGone
        );
    }

    #[test]
    fn an_agent_leg_is_settled_to_what_twilio_says() {
        for kind in [ParticipantKind::Agent, ParticipantKind::External] {
            assert_eq!(settle(kind, false, &LegTruth::StillRinging), Settle::Wait);
            assert_eq!(
                settle(kind, false, &LegTruth::AnsweredElsewhere),
                Settle::Wait
            );
            // Talking to the customer: never ended, its join is reported.
            assert_eq!(settle(kind, false, &in_conference()), Settle::Joined);
            assert_eq!(
                settle(kind, false, &LegTruth::NeverPlaced),
                Settle::NeverPlaced
            );
            for status in [
                TwilioCallStatus::Completed,
                TwilioCallStatus::NoAnswer,
                TwilioCallStatus::Busy,
                TwilioCallStatus::Failed,
                TwilioCallStatus::Canceled,
            ] {
                assert_eq!(
                    settle(kind, false, &LegTruth::Ended(status)),
                    Settle::LegEnded(status)
                );
            }
        }
    }
}
