//! What agents do to a live call: transfer, hold, mute, remove, leave, hang up.
//! Only an agent on the call (or a supervisor or admin) may act; a request that no longer fits the call's
//! state is refused with a conflict and changes nothing. The rules are the engine core's
//! ([`crate::domain::engine`]); this layer locks, loads and stores.

use uuid::Uuid;

use super::callbacks::transaction_outcome;
use super::decide::{add_agents, decide, load_snapshot, store};
use super::VoiceEngine;
use crate::db::{self, DbError, PgConn};
use crate::domain::agent::Agent;
use crate::domain::call::{
    Call, HandoverNote, MonitorMode, Participant, ParticipantKind, ParticipantStatus, Transfer,
    TransferMode,
};
use crate::domain::engine::{self, Action, Actor, Input, TransferTo};
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
    /// Unchecked, so a bad note gets a 400 naming it.
    pub note: Option<String>,
}

fn actor_of(agent: &Agent) -> Actor {
    Actor {
        id: agent.id,
        supervises: agent.may_supervise(),
    }
}

async fn lock_call(conn: &mut PgConn, call_id: Uuid) -> ServiceResult<Call> {
    db::calls::lock_call(conn, call_id)
        .await?
        .ok_or(ServiceError::NotFound("call"))
}

impl VoiceEngine {
    pub async fn start_transfer(
        &self,
        actor: &Agent,
        call_id: Uuid,
        request: TransferRequest,
    ) -> ServiceResult<Transfer> {
        let transfer_id = Uuid::new_v4();
        // Checked before anything is looked up: a bad note is the request's fault alone.
        let note = match request.note.as_deref() {
            Some(raw) => HandoverNote::parse(raw).map_err(ServiceError::BadInput)?,
            None => None,
        };
        let (screened, outcome) = transaction_outcome!(self, |conn, out| {
            let call = lock_call(conn, call_id).await?;
            let mut snapshot = load_snapshot(conn, call, &[]).await?;
            // Who may transfer, and whether the call can be, before anything about the target
            // is looked up (or its row locked).
            engine::may_start_transfer(&snapshot, actor_of(actor))?;
            let (target, outside) = match &request.target {
                TransferTarget::Agent(id) => {
                    // Locked (call first, then agent, as the router does) so the router can't
                    // book this agent between the check and the booking.
                    let target = db::agents::lock(conn, *id)
                        .await?
                        .ok_or(ServiceError::NotFound("agent"))?;
                    add_agents(conn, &mut snapshot, &[target.id]).await?;
                    (
                        TransferTo::Agent {
                            id: target.id,
                            name: target.display_name.as_str().to_owned(),
                            dial_to: target.client_identity.dial_address(),
                        },
                        None,
                    )
                }
                TransferTarget::Phone(raw) => {
                    let number = PhoneNumber::parse(raw)?;
                    (TransferTo::Number(number.clone()), Some(number))
                }
            };
            let input = Input::Action {
                actor: actor_of(actor),
                action: Action::StartTransfer {
                    leg_id: Uuid::new_v4(),
                    transfer_id,
                    target,
                    mode: request.mode,
                    hold_customer: request.hold_customer,
                    note: note.clone(),
                },
            };
            // The request must fit the call before the dialing policy counts it as a dial.
            let decision = engine::decide(snapshot, input)?;
            if let Some(number) = outside {
                let own_number = &self.settings().phone_number;
                if let Err(refusal) =
                    dialing::screen_outside_dial(conn, own_number, actor, call_id, &number).await?
                {
                    // Committed without a dial, so the refusal stays in the timeline.
                    out.changed_call(call_id);
                    return Ok(Err(refusal));
                }
            }
            store(conn, decision, out).await?;
            Ok(Ok(()))
        });
        self.after_commit_now(outcome).await?;
        screened?;
        self.transfer(transfer_id).await
    }

    /// Sends the customer back to the queue (ahead of later callers) and takes the agent off the
    /// call, with an optional note for the next agent. Twilio's removal is made before answering:
    /// if it fails, the customer is still with the agent and the agent is told.
    pub async fn transfer_to_queue(
        &self,
        actor: &Agent,
        call_id: Uuid,
        note: Option<&str>,
    ) -> ServiceResult<()> {
        // Checked before anything is looked up: a bad note is the request's fault alone.
        let note = match note {
            Some(raw) => HandoverNote::parse(raw).map_err(ServiceError::BadInput)?,
            None => None,
        };
        let result = self
            .act_on(actor, call_id, Action::TransferToQueue { note })
            .await;
        if let Err(ServiceError::Upstream(_)) = &result {
            // The agent is still with the customer: undo what the request decided.
            let agent_id = actor.id;
            let ((), outcome) = transaction_outcome!(self, |conn, out| {
                let call = lock_call(conn, call_id).await?;
                decide(
                    conn,
                    call,
                    &[],
                    Input::QueueTransferRefused { agent_id },
                    out,
                )
                .await?;
                Ok(())
            });
            self.after_commit_now(outcome).await?;
        }
        result
    }

    /// Warm transfer, step two: the agent leaves and the target owns the call.
    pub async fn complete_transfer(
        &self,
        actor: &Agent,
        call_id: Uuid,
        transfer_id: Uuid,
    ) -> ServiceResult<Transfer> {
        self.act_on(actor, call_id, Action::CompleteTransfer { transfer_id })
            .await?;
        self.transfer(transfer_id).await
    }

    /// Calls the transfer off: the target's leg ends and the customer comes off hold.
    pub async fn cancel_transfer(
        &self,
        actor: &Agent,
        call_id: Uuid,
        transfer_id: Uuid,
    ) -> ServiceResult<Transfer> {
        self.act_on(actor, call_id, Action::CancelTransfer { transfer_id })
            .await?;
        self.transfer(transfer_id).await
    }

    pub async fn set_hold(
        &self,
        actor: &Agent,
        call_id: Uuid,
        participant_id: Uuid,
        hold: bool,
    ) -> ServiceResult<Participant> {
        self.act_on_leg(
            actor,
            call_id,
            Action::Hold {
                participant_id,
                hold,
            },
            participant_id,
        )
        .await
    }

    pub async fn set_muted(
        &self,
        actor: &Agent,
        call_id: Uuid,
        participant_id: Uuid,
        muted: bool,
    ) -> ServiceResult<Participant> {
        self.act_on_leg(
            actor,
            call_id,
            Action::Mute {
                participant_id,
                muted,
            },
            participant_id,
        )
        .await
    }

    /// Removes a participant other than the customer (hang up on the customer with `hang_up`).
    pub async fn remove_participant(
        &self,
        actor: &Agent,
        call_id: Uuid,
        participant_id: Uuid,
    ) -> ServiceResult<()> {
        self.act_on(actor, call_id, Action::Remove { participant_id })
            .await
    }

    /// The acting agent leaves; the customer stays (with another agent, a transfer target, or
    /// back in the queue).
    pub async fn leave(&self, actor: &Agent, call_id: Uuid) -> ServiceResult<()> {
        self.act_on(actor, call_id, Action::Leave).await
    }

    /// Ends the call for everyone.
    pub async fn hang_up(&self, actor: &Agent, call_id: Uuid) -> ServiceResult<()> {
        self.act_on(actor, call_id, Action::HangUp).await
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
            decide(conn, call, &[], Input::HandBack { agent_id, reason }, out).await?;
            Ok(())
        });
        self.after_commit_now(outcome).await
    }

    /// A supervisor listens to (`listen`), whispers to the agent of (`whisper`) or joins
    /// (`barge`) a call: their browser is rung into the conference, muted, on the first request;
    /// a later one switches how they are heard. Returns their leg (its call SID lets their
    /// browser accept it without ringing).
    pub async fn monitor(
        &self,
        actor: &Agent,
        call_id: Uuid,
        mode: MonitorMode,
    ) -> ServiceResult<Participant> {
        let action = Action::Monitor {
            mode,
            leg_id: Uuid::new_v4(),
            dial_to: actor.client_identity.dial_address(),
        };
        let ((before, state), outcome) = transaction_outcome!(self, |conn, out| {
            let call = lock_call(conn, call_id).await?;
            let snapshot = super::decide::load_snapshot(conn, call, &[actor.id]).await?;
            // How Twilio hears the supervisor's joined leg now: what it stays if Twilio refuses
            // the switch.
            let before = snapshot
                .participants
                .iter()
                .find(|p| {
                    p.kind == ParticipantKind::Supervisor
                        && p.agent_id == Some(actor.id)
                        && p.status == ParticipantStatus::Connected
                })
                .and_then(|p| p.monitor_mode);
            let input = Input::Action {
                actor: actor_of(actor),
                action: action.clone(),
            };
            let decision = crate::domain::engine::decide(snapshot, input)?;
            let state = super::decide::store(conn, decision, out).await?;
            Ok((before, state))
        });
        let result = self.after_commit_now(outcome).await;
        if let (Err(ServiceError::Upstream(detail)), Some(mode)) = (&result, before) {
            // The leg is still heard as before: the stored mode (and the board) must say so.
            let input = Input::MonitorModeRefused {
                agent_id: actor.id,
                mode,
            };
            self.undo_after_refusal(call_id, input).await;
            return Err(ServiceError::UpstreamRefused {
                outcome: "Twilio refused to change how you are heard; you are heard as before",
                detail: detail.clone(),
            });
        }
        result?;
        // Their leg as this request left it (not re-read: a callback may have moved it on).
        state
            .participants
            .into_iter()
            .rev()
            .find(|p| p.kind == ParticipantKind::Supervisor && p.agent_id == Some(actor.id))
            .ok_or(ServiceError::NotFound("participant"))
    }

    /// The supervisor stops listening: only their leg ends.
    pub async fn stop_monitor(&self, actor: &Agent, call_id: Uuid) -> ServiceResult<()> {
        self.act_on(actor, call_id, Action::StopMonitor).await
    }

    /// The supervisor on the call becomes its agent; the agent who had it goes to wrap-up.
    /// Their line is made heard by everyone first, and only once Twilio has done that does the
    /// call change hands and its agent leave: if Twilio refuses, nothing changes for the
    /// customer or the agent, and the supervisor stays on the call as they were.
    pub async fn take_over(&self, actor: &Agent, call_id: Uuid) -> ServiceResult<()> {
        // A refusal here (the call can't be taken over) sent nothing: nothing to undo.
        let heard = self.act_on(actor, call_id, Action::TakeOver).await;
        let result = match heard {
            Ok(()) => {
                let input = Input::TakeOverHeard {
                    actor: actor_of(actor),
                };
                match self.decide_now(call_id, input).await {
                    // Taken over; a failure in carrying it out (Twilio refusing to remove the
                    // agent's leg, say) comes after the commit and is reported as it is.
                    done @ (Ok(())
                    | Err(ServiceError::Upstream(_))
                    | Err(ServiceError::UpstreamRefused { .. })) => return done,
                    // Nothing was stored: the call changed between the two steps, or the
                    // database failed. The supervisor, heard by everyone since step one while
                    // the agent still has the call, is put back as they were.
                    Err(e) => Err(e),
                }
            }
            Err(ServiceError::Upstream(detail)) => Err(ServiceError::UpstreamRefused {
                outcome: "Twilio refused to make your line heard by the customer, so the call \
                          was not taken over: its agent still has it and you are on it as before",
                detail,
            }),
            Err(refused) => return Err(refused),
        };
        let agent_id = actor.id;
        self.undo_after_refusal(call_id, Input::TakeOverRefused { agent_id })
            .await;
        result
    }

    /// Feeds Twilio's refusal of a request back to the engine, which puts the call as it was.
    /// Its own requests (asking Twilio again for what was) are carried out before answering;
    /// their failure is on the call's timeline and changes nothing about the refusal.
    async fn undo_after_refusal(&self, call_id: Uuid, input: Input) {
        if let Err(e) = self.decide_now(call_id, input).await {
            tracing::warn!(error = %e, %call_id, "could not undo a request Twilio refused");
        }
    }

    /// Locks the call, applies one action, and carries out its Twilio requests before
    /// answering, so the agent hears about a failure.
    async fn act_on(&self, actor: &Agent, call_id: Uuid, action: Action) -> ServiceResult<()> {
        let input = Input::Action {
            actor: actor_of(actor),
            action,
        };
        self.decide_now(call_id, input).await
    }

    /// Locks the call, applies one input, and carries out its Twilio requests before answering.
    async fn decide_now(&self, call_id: Uuid, input: Input) -> ServiceResult<()> {
        self.decide_now_returning(call_id, input).await.map(drop)
    }

    /// Like `act_on`, answering with the leg as this action left it: a callback processed
    /// meanwhile (say, Twilio confirming the previous hold) must not make the answer to
    /// "unhold" say the customer is held.
    async fn act_on_leg(
        &self,
        actor: &Agent,
        call_id: Uuid,
        action: Action,
        participant_id: Uuid,
    ) -> ServiceResult<Participant> {
        let input = Input::Action {
            actor: actor_of(actor),
            action,
        };
        let state = self.decide_now_returning(call_id, input).await?;
        state
            .participants
            .into_iter()
            .find(|p| p.id == participant_id)
            .ok_or(ServiceError::NotFound("participant"))
    }

    async fn decide_now_returning(
        &self,
        call_id: Uuid,
        input: Input,
    ) -> ServiceResult<crate::domain::engine::CallSnapshot> {
        let (state, outcome) = transaction_outcome!(self, |conn, out| {
            let call = lock_call(conn, call_id).await?;
            decide(conn, call, &[], input, out).await
        });
        self.after_commit_now(outcome).await?;
        Ok(state)
    }

    async fn transfer(&self, transfer_id: Uuid) -> ServiceResult<Transfer> {
        let mut conn = self.pool().get().await.map_err(DbError::from)?;
        find_transfer(&mut conn, transfer_id).await
    }
}

async fn find_transfer(conn: &mut PgConn, transfer_id: Uuid) -> ServiceResult<Transfer> {
    let call_transfers = crate::db::calls::find_transfer(conn, transfer_id).await?;
    call_transfers.ok_or(ServiceError::NotFound("transfer"))
}
