//! What agents do to a live call: transfer, hold, mute, remove, leave, hang up.
//! Only an agent on the call (or an admin) may act; a request that no longer fits the call's
//! state is refused with a conflict and changes nothing.

use serde_json::json;
use uuid::Uuid;

use super::callbacks::transaction_outcome;
use super::effects::Effect;
use super::flow;
use super::VoiceEngine;
use crate::db::calls::{CallChanges, NewParticipant, NewTransfer, ParticipantChanges};
use crate::db::{self, DbError, PgConn};
use crate::domain::agent::{Agent, AgentStatus};
use crate::domain::call::{
    Call, CallSid, CallStatus, ConferenceSid, Participant, ParticipantKind, ParticipantStatus,
    Transfer, TransferMode, TransferStatus,
};
use crate::domain::phone::PhoneNumber;
use crate::services::{dialing, ServiceError, ServiceResult};

#[derive(Debug, Clone)]
pub enum TransferTarget {
    Agent(Uuid),
    /// Unparsed, so a bad number gets a validation error naming it.
    Phone(String),
}

#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub target: TransferTarget,
    pub mode: TransferMode,
    /// Warm only: hold the customer (with music) while consulting. Cold always holds.
    pub hold_customer: bool,
}

fn conflict(message: impl Into<String>) -> ServiceError {
    ServiceError::Conflict(message.into())
}

/// Loads and checks the call for an action by `actor`: it must be live and the actor on it.
async fn authorize(
    conn: &mut PgConn,
    actor: &Agent,
    call_id: Uuid,
) -> ServiceResult<(Call, Vec<Participant>)> {
    let call = db::calls::lock_call(conn, call_id)
        .await?
        .ok_or(ServiceError::NotFound("call"))?;
    let participants = db::calls::participants_of(conn, call.id).await?;
    let was_on_call = participants.iter().any(|p| p.agent_id == Some(actor.id));
    let is_on_call = participants
        .iter()
        .any(|p| p.agent_id == Some(actor.id) && p.status == ParticipantStatus::Connected);
    if !was_on_call && !actor.is_admin() {
        return Err(ServiceError::Forbidden(
            "only an agent on this call (or an admin) can do that".into(),
        ));
    }
    if call.status.is_final() {
        return Err(conflict(format!(
            "the call has already ended ({})",
            call.status
        )));
    }
    if !is_on_call && !actor.is_admin() {
        return Err(conflict("you are no longer on this call"));
    }
    Ok((call, participants))
}

fn customer(participants: &[Participant]) -> ServiceResult<&Participant> {
    participants
        .iter()
        .find(|p| p.kind == ParticipantKind::Customer && p.status == ParticipantStatus::Connected)
        .ok_or_else(|| conflict("the customer is not in the conference"))
}

fn conference_sid(call: &Call) -> ServiceResult<ConferenceSid> {
    call.conference_sid
        .clone()
        .ok_or_else(|| conflict("the conference has not started yet"))
}

impl VoiceEngine {
    pub async fn start_transfer(
        &self,
        actor: &Agent,
        call_id: Uuid,
        request: TransferRequest,
    ) -> ServiceResult<Transfer> {
        let (transfer, outcome) = transaction_outcome!(self, |conn, out| {
            let (call, participants) = authorize(conn, actor, call_id).await?;
            if call.status != CallStatus::InProgress {
                return Err(conflict(format!(
                    "only a call in progress can be transferred; this one is {}",
                    call.status
                )));
            }
            if db::calls::active_transfer(conn, call.id).await?.is_some() {
                return Err(conflict("a transfer is already in progress on this call"));
            }
            let customer = customer(&participants)?.clone();
            conference_sid(&call)?;
            let from_agent = call.owner_agent_id.or(Some(actor.id));

            let (kind, agent_id, phone, dial_to) = match &request.target {
                TransferTarget::Agent(id) => {
                    // Locked (call first, then agent, as the router does) so the router can't
                    // book this agent between the check and the booking.
                    let target = db::agents::lock(conn, *id)
                        .await?
                        .ok_or(ServiceError::NotFound("agent"))?;
                    if target.id == actor.id || Some(target.id) == call.owner_agent_id {
                        return Err(conflict("that agent is already on this call"));
                    }
                    if !target.active || target.status != AgentStatus::Available {
                        return Err(conflict(format!(
                            "{} is not available (status: {})",
                            target.display_name.as_str(),
                            target.status
                        )));
                    }
                    flow::set_agent_status(conn, target.id, AgentStatus::Reserved, out).await?;
                    (
                        ParticipantKind::Agent,
                        Some(target.id),
                        None,
                        target.client_identity.dial_address(),
                    )
                }
                TransferTarget::Phone(raw) => {
                    let number = PhoneNumber::parse(raw)?;
                    let own_number = &self.settings().phone_number;
                    if let Err(refusal) =
                        dialing::screen_outside_dial(conn, own_number, actor, call.id, &number)
                            .await?
                    {
                        // Committed without a dial, so the refusal stays in the timeline.
                        out.changed_call(&call);
                        return Ok(Err(refusal));
                    }
                    (
                        ParticipantKind::External,
                        None,
                        Some(number.as_str().to_owned()),
                        number.as_str().to_owned(),
                    )
                }
            };
            let leg = db::calls::insert_participant(
                conn,
                NewParticipant {
                    call_id: call.id,
                    kind,
                    agent_id,
                    phone: phone.as_deref(),
                    call_sid: None,
                    status: ParticipantStatus::Dialing,
                    end_conference_on_exit: false,
                },
            )
            .await?;
            let transfer = db::calls::insert_transfer(
                conn,
                NewTransfer {
                    call_id: call.id,
                    from_agent_id: from_agent,
                    to_agent_id: agent_id,
                    to_number: phone.as_deref(),
                    mode: request.mode,
                    target_participant_id: leg.id,
                },
            )
            .await?;
            if request.mode == TransferMode::Cold || request.hold_customer {
                flow::set_hold(conn, &call, &customer, true, out).await?;
            }
            let own = participants
                .iter()
                .find(|p| p.agent_id == from_agent && p.status == ParticipantStatus::Connected);
            // While a transfer is under way the transferring agent must be able to drop off
            // without ending the call for the customer.
            if let Some(own) = own.filter(|own| own.end_conference_on_exit) {
                flow::set_ends_conference(conn, &call, own, false, out).await?;
            }
            out.effects.push(Effect::Dial {
                call_id: call.id,
                participant_id: leg.id,
                to: dial_to,
                conference: call.conference_name.clone(),
            });
            if request.mode == TransferMode::Cold {
                // The transferring agent leaves at once; the customer keeps hearing hold music.
                if let Some(own) = own {
                    let own = db::calls::find_participant(conn, own.id)
                        .await?
                        .ok_or(ServiceError::NotFound("participant"))?;
                    flow::remove_leg(conn, &call, &own, out).await?;
                }
            }
            db::calls::record_event(
                conn,
                call.id,
                "transfer_started",
                json!({
                    "transfer_id": transfer.id, "mode": request.mode, "by": actor.id,
                    "to_agent_id": agent_id, "to_number": phone,
                }),
                None,
            )
            .await?;
            out.changed_call(&call);
            Ok(Ok(transfer))
        });
        self.after_commit_now(outcome).await?;
        Ok(transfer?)
    }

    /// Warm transfer, step two: the agent leaves and the target owns the call.
    pub async fn complete_transfer(
        &self,
        actor: &Agent,
        call_id: Uuid,
        transfer_id: Uuid,
    ) -> ServiceResult<Transfer> {
        let ((), outcome) = transaction_outcome!(self, |conn, out| {
            let (call, participants) = authorize(conn, actor, call_id).await?;
            let transfer = active_transfer(conn, &call, transfer_id).await?;
            if transfer.status != TransferStatus::Consulting {
                return Err(conflict(
                    "the transfer target has not answered yet; cancel the transfer or wait",
                ));
            }
            let target = participants
                .iter()
                .find(|p| {
                    Some(p.id) == transfer.target_participant_id
                        && p.status == ParticipantStatus::Connected
                })
                .ok_or_else(|| conflict("the transfer target is no longer on the call"))?;
            flow::hand_over(conn, &call, &transfer, target, out).await?;
            Ok(())
        });
        self.after_commit_now(outcome).await?;
        self.transfer(transfer_id).await
    }

    /// Calls the transfer off: the target's leg ends and the customer comes off hold.
    pub async fn cancel_transfer(
        &self,
        actor: &Agent,
        call_id: Uuid,
        transfer_id: Uuid,
    ) -> ServiceResult<Transfer> {
        let ((), outcome) = transaction_outcome!(self, |conn, out| {
            let (call, participants) = authorize(conn, actor, call_id).await?;
            let transfer = active_transfer(conn, &call, transfer_id).await?;
            if let Some(target) = participants
                .iter()
                .find(|p| Some(p.id) == transfer.target_participant_id)
            {
                if target.status.is_pending() {
                    flow::call_off_pending_leg(conn, &call, target, out).await?;
                } else if target.status == ParticipantStatus::Connected {
                    flow::remove_leg(conn, &call, target, out).await?;
                }
            }
            if let Ok(c) = customer(&participants) {
                flow::set_hold(conn, &call, c, false, out).await?;
            }
            db::calls::set_transfer_status(conn, transfer.id, TransferStatus::Canceled).await?;
            db::calls::record_event(
                conn,
                call.id,
                "transfer_canceled",
                json!({ "transfer_id": transfer.id, "by": actor.id }),
                None,
            )
            .await?;
            out.changed_call(&call);
            Ok(())
        });
        self.after_commit_now(outcome).await?;
        self.transfer(transfer_id).await
    }

    pub async fn set_hold(
        &self,
        actor: &Agent,
        call_id: Uuid,
        participant_id: Uuid,
        hold: bool,
    ) -> ServiceResult<Participant> {
        self.participant_action(actor, call_id, participant_id, Switch::Hold(hold))
            .await
    }

    pub async fn set_muted(
        &self,
        actor: &Agent,
        call_id: Uuid,
        participant_id: Uuid,
        muted: bool,
    ) -> ServiceResult<Participant> {
        self.participant_action(actor, call_id, participant_id, Switch::Mute(muted))
            .await
    }

    /// Removes a participant other than the customer (hang up on the customer with `hang_up`).
    pub async fn remove_participant(
        &self,
        actor: &Agent,
        call_id: Uuid,
        participant_id: Uuid,
    ) -> ServiceResult<()> {
        let ((), outcome) = transaction_outcome!(self, |conn, out| {
            let (call, participants) = authorize(conn, actor, call_id).await?;
            let p = participants
                .iter()
                .find(|p| p.id == participant_id)
                .ok_or(ServiceError::NotFound("participant"))?;
            if p.kind == ParticipantKind::Customer {
                return Err(conflict("to drop the customer, hang up the call"));
            }
            if p.status.is_pending() {
                flow::call_off_pending_leg(conn, &call, p, out).await?;
            } else if p.status == ParticipantStatus::Connected {
                conference_sid(&call)?;
                sid(p)?;
                // A participant that would end the conference on exit gives that up first.
                flow::remove_leg(conn, &call, p, out).await?;
            } else {
                return Err(conflict("that participant has already left"));
            }
            db::calls::record_event(
                conn,
                call.id,
                "participant_removed",
                json!({ "participant_id": p.id, "by": actor.id }),
                None,
            )
            .await?;
            Ok(())
        });
        self.after_commit_now(outcome).await
    }

    /// The acting agent leaves; the customer stays (with another agent, a transfer target, or
    /// back in the queue).
    pub async fn leave(&self, actor: &Agent, call_id: Uuid) -> ServiceResult<()> {
        let ((), outcome) = transaction_outcome!(self, |conn, out| {
            let (call, participants) = authorize(conn, actor, call_id).await?;
            let own = participants
                .iter()
                .find(|p| p.agent_id == Some(actor.id) && p.status == ParticipantStatus::Connected)
                .ok_or_else(|| conflict("you are not in this call's conference"))?;
            conference_sid(&call)?;
            sid(own)?;
            flow::remove_leg(conn, &call, own, out).await?;
            // Left on purpose: if the customer goes back to the queue, the call goes to
            // someone else.
            db::calls::update_call(
                conn,
                call.id,
                CallChanges {
                    avoid_agent_id: Some(Some(actor.id)),
                    ..Default::default()
                },
            )
            .await?;
            db::calls::record_event(
                conn,
                call.id,
                "agent_leaving",
                json!({ "agent_id": actor.id }),
                None,
            )
            .await?;
            Ok(())
        });
        self.after_commit_now(outcome).await
    }

    /// Takes an agent off the call they are on or being rung for, without ending it for the
    /// customer: a ringing leg is called off, a joined one leaves the conference, and the call
    /// goes to another agent (never back to this one). For signing out and deactivation; the
    /// agent's status is the caller's to set.
    pub async fn hand_back(&self, agent_id: Uuid, reason: &'static str) -> ServiceResult<()> {
        let current = {
            let mut conn = self.pool().get().await.map_err(DbError::from)?;
            db::calls::current_call_for_agent(&mut conn, agent_id).await?
        };
        let Some(current) = current else {
            return Ok(());
        };
        let ((), outcome) = transaction_outcome!(self, |conn, out| {
            let Some(call) = db::calls::lock_call(conn, current.id).await? else {
                return Ok(());
            };
            if call.status.is_final() {
                return Ok(());
            }
            let participants = db::calls::participants_of(conn, call.id).await?;
            for p in participants.iter().filter(|p| p.agent_id == Some(agent_id)) {
                if p.status.is_pending() {
                    flow::call_off_pending_leg(conn, &call, p, out).await?;
                } else if p.status == ParticipantStatus::Connected {
                    flow::remove_leg(conn, &call, p, out).await?;
                }
            }
            db::calls::update_call(
                conn,
                call.id,
                CallChanges {
                    avoid_agent_id: Some(Some(agent_id)),
                    ..Default::default()
                },
            )
            .await?;
            db::calls::record_event(
                conn,
                call.id,
                "agent_handed_back",
                json!({ "agent_id": agent_id, "reason": reason }),
                None,
            )
            .await?;
            out.changed_call(&call);
            Ok(())
        });
        self.after_commit_now(outcome).await
    }

    /// Ends the call for everyone.
    pub async fn hang_up(&self, actor: &Agent, call_id: Uuid) -> ServiceResult<()> {
        let ((), outcome) = transaction_outcome!(self, |conn, out| {
            let (call, participants) = authorize(conn, actor, call_id).await?;
            // Ending the customer's leg ends the conference (endConferenceOnExit), which ends
            // every other leg; pending legs are called off explicitly.
            out.effects.push(Effect::HangUp {
                call_id: call.id,
                call_sid: call.customer_call_sid.clone(),
            });
            for p in participants.iter().filter(|p| p.status.is_pending()) {
                flow::call_off_pending_leg(conn, &call, p, out).await?;
            }
            db::calls::record_event(
                conn,
                call.id,
                "hangup_requested",
                json!({ "by": actor.id }),
                None,
            )
            .await?;
            out.changed_call(&call);
            Ok(())
        });
        self.after_commit_now(outcome).await
    }

    /// Holds or mutes (or undoes either for) a participant in the conference; asking for the
    /// state it is already in changes nothing.
    async fn participant_action(
        &self,
        actor: &Agent,
        call_id: Uuid,
        participant_id: Uuid,
        switch: Switch,
    ) -> ServiceResult<Participant> {
        let what = switch.name();
        let (decided, outcome) = transaction_outcome!(self, |conn, out| {
            let (call, participants) = authorize(conn, actor, call_id).await?;
            let p = participants
                .iter()
                .find(|p| p.id == participant_id)
                .ok_or(ServiceError::NotFound("participant"))?;
            if p.status != ParticipantStatus::Connected {
                return Err(conflict(format!(
                    "can't {what} a participant who is {}",
                    p.status
                )));
            }
            let (effect, changes) = match switch {
                Switch::Hold(hold) if p.on_hold != hold => (
                    Effect::Hold {
                        call_id: call.id,
                        conference_sid: conference_sid(&call)?,
                        call_sid: sid(p)?,
                        hold,
                    },
                    ParticipantChanges {
                        on_hold: Some(hold),
                        ..Default::default()
                    },
                ),
                Switch::Mute(muted) if p.muted != muted => (
                    Effect::Mute {
                        call_id: call.id,
                        conference_sid: conference_sid(&call)?,
                        call_sid: sid(p)?,
                        muted,
                    },
                    ParticipantChanges {
                        muted: Some(muted),
                        ..Default::default()
                    },
                ),
                _ => return Ok(p.clone()),
            };
            out.effects.push(effect);
            let decided = db::calls::update_participant(conn, p.id, changes).await?;
            db::calls::record_event(
                conn,
                call.id,
                what,
                json!({ "participant_id": p.id, "by": actor.id }),
                None,
            )
            .await?;
            out.changed_call(&call);
            Ok(decided)
        });
        self.after_commit_now(outcome).await?;
        Ok(decided)
    }

    async fn transfer(&self, transfer_id: Uuid) -> ServiceResult<Transfer> {
        let mut conn = self.pool().get().await.map_err(DbError::from)?;
        find_transfer(&mut conn, transfer_id).await
    }
}

/// A participant flag an agent can switch.
#[derive(Debug, Clone, Copy)]
enum Switch {
    Hold(bool),
    Mute(bool),
}

impl Switch {
    /// Also the timeline entry's kind.
    fn name(self) -> &'static str {
        match self {
            Switch::Hold(_) => "hold",
            Switch::Mute(_) => "mute",
        }
    }
}

fn sid(p: &Participant) -> ServiceResult<CallSid> {
    p.call_sid
        .clone()
        .ok_or_else(|| conflict("that leg has not been placed yet"))
}

async fn active_transfer(
    conn: &mut PgConn,
    call: &Call,
    transfer_id: Uuid,
) -> ServiceResult<Transfer> {
    let transfer = find_transfer(conn, transfer_id).await?;
    if transfer.call_id != call.id {
        return Err(ServiceError::NotFound("transfer"));
    }
    if !transfer.status.is_active() {
        return Err(conflict(format!(
            "the transfer is already {}",
            transfer.status
        )));
    }
    Ok(transfer)
}

async fn find_transfer(conn: &mut PgConn, transfer_id: Uuid) -> ServiceResult<Transfer> {
    let call_transfers = crate::db::calls::find_transfer(conn, transfer_id).await?;
    call_transfers.ok_or(ServiceError::NotFound("transfer"))
}
