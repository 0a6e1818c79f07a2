//! The rules: how each input changes a call. Every rule reads and changes the snapshot only,
//! recording each change, effect and timeline entry as it goes, so a later rule in the same
//! decision sees what an earlier one decided.

use uuid::Uuid;

use super::{
    Action, Actor, AgentView, CallSnapshot, CallUpdate, Change, ConferenceInput, Decision, Effect,
    Input, LegUpdate, NewLeg, NewTransfer, Refusal, TimelineEvent, TransferEnd, TransferTo,
};
use crate::domain::agent::AgentStatus;
use crate::domain::call::{
    leg_status, Call, CallSid, CallStatus, ConferenceEvent, ConferenceSid, HandoverNote,
    MonitorMode, Participant, ParticipantKind, ParticipantStatus, Transfer, TransferEndReason,
    TransferMode, TransferStatus,
};
use crate::domain::presence::SystemAwayReason;
use twilio::rest::CallStatus as TwilioCallStatus;

fn conflict(message: impl Into<String>) -> Refusal {
    Refusal::Conflict(message.into())
}

pub(super) struct Engine {
    s: CallSnapshot,
    changes: Vec<Change>,
    effects: Vec<Effect>,
    timeline: Vec<TimelineEvent>,
    wake_router: bool,
    call_changed: bool,
}

impl Engine {
    pub fn new(s: CallSnapshot) -> Self {
        Self {
            s,
            changes: Vec::new(),
            effects: Vec::new(),
            timeline: Vec::new(),
            wake_router: false,
            call_changed: false,
        }
    }

    pub fn finish(self) -> Decision {
        Decision {
            state: self.s,
            changes: self.changes,
            effects: self.effects,
            timeline: self.timeline,
            wake_router: self.wake_router,
            call_changed: self.call_changed,
        }
    }

    pub fn handle(&mut self, input: Input) -> Result<(), Refusal> {
        match input {
            Input::LegProgress {
                participant_id,
                status,
            } => self.leg_progress(participant_id, status),
            Input::DialFailed { participant_id } => self.dial_failed(participant_id),
            Input::Conference(cb) => self.conference_event(cb),
            Input::CustomerGone => {
                if self.s.customer().is_some_and(|c| c.status.is_pending()) {
                    // They hung up before ever reaching the conference.
                    self.caller_never_arrived();
                } else {
                    self.finish_call("the customer's call ended");
                }
            }
            Input::EndCall { reason } => self.finish_call(reason),
            Input::Offer {
                agent_id,
                leg_id,
                dial_to,
            } => self.offer(agent_id, leg_id, dial_to),
            Input::Action { actor, action } => return self.action(actor, action),
            Input::HandBack { agent_id, reason } => self.hand_back(agent_id, reason),
            Input::QueueTransferRefused { agent_id } => self.queue_transfer_refused(agent_id),
            Input::MonitorModeRefused { agent_id, mode } => {
                self.monitor_mode_refused(agent_id, mode);
            }
            Input::TakeOverHeard { actor } => return self.take_over_heard(actor),
            Input::TakeOverRefused { agent_id } => self.take_over_refused(agent_id),
        }
        Ok(())
    }

    // ---- reading the snapshot ----

    fn call(&self) -> &Call {
        &self.s.call
    }

    fn leg(&self, id: Uuid) -> Option<Participant> {
        self.s.participant(id).cloned()
    }

    fn connected_customer(&self) -> Option<Participant> {
        self.s
            .customer()
            .filter(|c| c.status == ParticipantStatus::Connected)
            .cloned()
    }

    fn active_transfer(&self) -> Option<Transfer> {
        self.s.active_transfer().cloned()
    }

    /// Effects on a conference participant need both SIDs; before the conference exists there
    /// is nothing to act on.
    fn in_conference(&self, p: &Participant) -> Option<(ConferenceSid, CallSid)> {
        Some((self.call().conference_sid.clone()?, p.call_sid.clone()?))
    }

    // ---- recording decisions ----

    fn update_call(&mut self, update: CallUpdate) {
        if update == CallUpdate::default() {
            return;
        }
        self.s.call.apply(&update);
        self.changes.push(Change::Call(update));
    }

    fn update_leg(&mut self, id: Uuid, update: LegUpdate) {
        if update == LegUpdate::default() {
            return;
        }
        if let Some(p) = self.s.participants.iter_mut().find(|p| p.id == id) {
            p.apply(&update);
        }
        self.changes.push(Change::Leg { id, update });
    }

    fn set_transfer_status(&mut self, id: Uuid, status: TransferStatus, end: Option<TransferEnd>) {
        let now = self.s.now;
        if let Some(t) = self.s.transfers.iter_mut().find(|t| t.id == id) {
            t.status = status;
            if status == TransferStatus::Consulting {
                t.answered_at.get_or_insert(now);
            }
            t.ended_at = (!status.is_active()).then_some(now);
            if let Some(end) = end {
                t.end_reason = Some(end.reason);
                t.ended_by = end.by;
                t.requeued = end.requeued;
            }
        }
        self.changes.push(Change::Transfer { id, status, end });
    }

    fn set_agent_status(&mut self, id: Uuid, status: AgentStatus) {
        let Some(a) = self.s.agents.iter_mut().find(|a| a.id == id) else {
            return; // no such agent any more
        };
        let from = a.status;
        if from == status {
            return;
        }
        a.status = status;
        self.changes.push(Change::Agent {
            id,
            from,
            to: status,
        });
        if status == AgentStatus::Available {
            self.wake_router = true;
        }
    }

    fn record(&mut self, event: TimelineEvent) {
        self.timeline.push(event);
    }

    fn changed_call(&mut self) {
        self.call_changed = true;
    }

    fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    fn hang_up_leg(&mut self, call_sid: CallSid) {
        let call_id = self.call().id;
        self.effect(Effect::HangUp { call_id, call_sid });
    }

    // ---- agents ----

    fn agent(&self, id: Uuid) -> Option<AgentView> {
        self.s.agent(id).cloned()
    }

    /// An agent's leg `p` in the call is over: an agent who was on the call goes to wrap-up and
    /// is freed once Twilio reports all their legs over. A supervisor's leg ending never puts
    /// anyone in wrap-up, whatever other legs they had on the call (one who handled it earlier
    /// as its agent had their wrap-up then). An agent who signed out, went away or was
    /// deactivated meanwhile keeps that status: a call ending never makes them available.
    fn agent_leg_over(&mut self, p: &Participant) {
        let Some(agent) = p.agent_id.and_then(|id| self.agent(id)) else {
            return;
        };
        let supervising = p.kind == ParticipantKind::Supervisor;
        if agent.status.is_engaged() && !supervising {
            self.start_wrap_up(agent.id);
        }
        self.release_agent(agent.id, supervising);
    }

    /// Moves an agent whose call is over to wrap-up, timed when wrap-up is on.
    fn start_wrap_up(&mut self, agent_id: Uuid) {
        self.set_agent_status(agent_id, AgentStatus::WrapUp);
        if self.s.wrap_up_seconds > 0 {
            let until = self.s.now + chrono::Duration::seconds(self.s.wrap_up_seconds.into());
            let call_id = self.call().id;
            self.changes.push(Change::WrapUpStarted {
                agent_id,
                call_id,
                until,
            });
            self.record(TimelineEvent::WrapUpStarted { agent_id, until });
        }
    }

    /// Frees an agent once none of their legs can still be live in Twilio. Leaving the
    /// conference is not enough: until Twilio reports the leg's call over, their browser is
    /// still on it and would drop the next call. `supervising`: the leg that ended was a
    /// supervisor's (listening, coaching or barging), which frees them without wrap-up.
    fn release_agent(&mut self, agent_id: Uuid, supervising: bool) {
        let Some(agent) = self.agent(agent_id) else {
            return;
        };
        let holding = matches!(
            agent.status,
            AgentStatus::Reserved | AgentStatus::Busy | AgentStatus::WrapUp
        );
        if !holding || self.s.agent_has_live_leg(agent_id) {
            return;
        }
        if supervising {
            if agent.status != AgentStatus::WrapUp {
                self.set_agent_status(agent_id, AgentStatus::Available);
            }
            return;
        }
        let timed_wrap_up = self.s.wrap_up_seconds > 0;
        match agent.status {
            // A timed wrap-up ends by the clock (or the agent finishing it), not here.
            AgentStatus::WrapUp if timed_wrap_up => {}
            AgentStatus::Busy if timed_wrap_up => self.start_wrap_up(agent_id),
            _ => self.set_agent_status(agent_id, AgentStatus::Available),
        }
    }

    // ---- legs ----

    /// Holds or unholds a participant, recording the decision at once so later decisions see it
    /// even before Twilio's confirming callback arrives. Sent even when the stored flag already
    /// matches: a repeated hold or unhold is harmless, a missed unhold is not.
    fn set_hold(&mut self, id: Uuid, hold: bool) {
        let Some(p) = self.leg(id) else { return };
        let Some((conference_sid, call_sid)) = self.in_conference(&p) else {
            return;
        };
        let call_id = self.call().id;
        self.effect(Effect::Hold {
            call_id,
            conference_sid,
            call_sid,
            hold,
        });
        self.update_leg(
            id,
            LegUpdate {
                on_hold: Some(hold),
                ..Default::default()
            },
        );
    }

    /// Gives a participant (or takes away) the power to end the conference by leaving. Twilio
    /// ignores this change for a held participant without an error, so a held one is unheld
    /// first.
    fn set_ends_conference(&mut self, id: Uuid, value: bool) {
        let Some(p) = self.leg(id) else { return };
        let Some((conference_sid, call_sid)) = self.in_conference(&p) else {
            return;
        };
        if p.on_hold {
            self.set_hold(id, false);
        }
        let call_id = self.call().id;
        self.effect(Effect::EndConferenceOnExit {
            call_id,
            conference_sid,
            call_sid,
            value,
        });
        self.update_leg(
            id,
            LegUpdate {
                end_conference_on_exit: Some(value),
                ..Default::default()
            },
        );
    }

    /// Takes a participant out of the conference without ending it for everyone: a leg that
    /// owns the conference (`endConferenceOnExit`) gives that up first.
    fn remove_leg(&mut self, id: Uuid) {
        let Some(p) = self.leg(id) else { return };
        let Some((conference_sid, call_sid)) = self.in_conference(&p) else {
            return;
        };
        if p.end_conference_on_exit && p.kind != ParticipantKind::Customer {
            self.set_ends_conference(id, false);
        }
        let call_id = self.call().id;
        self.effect(Effect::Remove {
            call_id,
            conference_sid,
            call_sid,
        });
    }

    /// Stops a leg that has not joined; without a SID yet, the dialer stops it when the SID
    /// arrives.
    fn call_off_pending_leg(&mut self, id: Uuid) {
        let Some(p) = self.leg(id) else { return };
        let now = self.s.now;
        self.update_leg(
            id,
            LegUpdate {
                status: Some(ParticipantStatus::Canceled),
                left_at: Some(now),
                ..Default::default()
            },
        );
        if let Some(sid) = p.call_sid {
            self.hang_up_leg(sid);
        }
        if let Some(agent) = p.agent_id {
            self.release_agent(agent, p.kind == ParticipantKind::Supervisor);
        }
    }

    fn new_leg(&mut self, leg: NewLeg) {
        self.s.participants.push(leg.to_participant(self.s.now));
        self.changes.push(Change::NewLeg(leg));
    }

    fn new_transfer(&mut self, t: NewTransfer) {
        self.s.transfers.push(t.to_transfer(self.s.now));
        self.changes.push(Change::NewTransfer(t));
    }

    // ---- the call as a whole ----

    /// The call is over: close every leg, free every agent, and stamp the end.
    fn finish_call(&mut self, reason: &'static str) {
        if self.call().status.is_final() {
            return;
        }
        let now = self.s.now;
        let status = if self.call().answered_at.is_some() {
            CallStatus::Completed
        } else {
            CallStatus::Abandoned
        };
        for p in self.s.participants.clone() {
            if p.kind == ParticipantKind::Customer && p.status.is_pending() {
                // A caller between conferences whose call we close is on their way out by
                // their own TwiML (an apology, then a hang-up): never cut that short.
                self.update_leg(
                    p.id,
                    LegUpdate {
                        status: Some(ParticipantStatus::Left),
                        left_at: Some(now),
                        ..Default::default()
                    },
                );
            } else if p.status.is_pending() {
                self.call_off_pending_leg(p.id);
            } else if p.status == ParticipantStatus::Connected {
                self.update_leg(
                    p.id,
                    LegUpdate {
                        status: Some(ParticipantStatus::Left),
                        left_at: Some(now),
                        on_hold: Some(false),
                        ..Default::default()
                    },
                );
                if p.kind != ParticipantKind::Customer {
                    if let Some(sid) = p.call_sid.clone() {
                        self.hang_up_leg(sid);
                    }
                }
                self.agent_leg_over(&p);
            }
        }
        if let Some(t) = self.active_transfer() {
            self.set_transfer_status(
                t.id,
                TransferStatus::Canceled,
                Some(TransferEnd::because(TransferEndReason::CallEnded)),
            );
        }
        self.update_call(CallUpdate {
            status: Some(status),
            ended_at: Some(Some(now)),
            ..Default::default()
        });
        self.record(TimelineEvent::CallEnded {
            status,
            reason: reason.into(),
        });
        self.changed_call();
    }

    /// Whether the caller is on the line but in no conference: dropped from one that could not
    /// hold them and on their way back (or not arrived yet). A conference ending then is no
    /// hang-up.
    fn customer_between_conferences(&self) -> bool {
        !self.call().status.is_final() && self.s.customer().is_some_and(|c| c.status.is_pending())
    }

    /// The caller left the conference but their call goes on (its `<Dial action>` runs, which
    /// puts them back in): they count as on their way in again, as before their first join.
    fn customer_out_of_conference(&mut self, id: Uuid, reason: Option<String>) {
        let now = self.s.now;
        self.update_leg(
            id,
            LegUpdate {
                status: Some(ParticipantStatus::Ringing),
                left_at: Some(now),
                on_hold: Some(false),
                ..Default::default()
            },
        );
        self.record(TimelineEvent::CustomerOutOfConference {
            participant_id: id,
            reason,
        });
        self.changed_call();
    }

    /// The conference ended while the caller stays on the line: forget it, so the one they
    /// rejoin becomes the call's conference.
    fn conference_lost(&mut self) {
        let conference_sid = self.call().conference_sid.clone();
        self.update_call(CallUpdate {
            conference_sid: Some(None),
            ..Default::default()
        });
        self.record(TimelineEvent::ConferenceLost { conference_sid });
        self.changed_call();
    }

    /// The caller did not reach their conference in time: they hung up before their `<Dial>`
    /// ran. The call ends abandoned and any leg ringing for it is called off. The caller's leg
    /// stays "on its way", so a join that still arrives (a very slow Twilio) reopens the call.
    fn caller_never_arrived(&mut self) {
        if self.call().status.is_final() {
            return;
        }
        if !self.s.customer().is_some_and(|c| c.status.is_pending()) {
            return; // arrived meanwhile
        }
        let pending: Vec<Uuid> = self
            .s
            .participants
            .iter()
            .filter(|p| p.kind != ParticipantKind::Customer && p.status.is_pending())
            .map(|p| p.id)
            .collect();
        for id in pending {
            self.call_off_pending_leg(id);
        }
        if let Some(t) = self.active_transfer() {
            self.set_transfer_status(
                t.id,
                TransferStatus::Canceled,
                Some(TransferEnd::because(TransferEndReason::CallEnded)),
            );
        }
        let now = self.s.now;
        self.update_call(CallUpdate {
            status: Some(CallStatus::Abandoned),
            ended_at: Some(Some(now)),
            ..Default::default()
        });
        self.record(TimelineEvent::CustomerNeverJoined {
            status: CallStatus::Abandoned,
        });
        self.changed_call();
    }

    /// A caller given up on as never arrived joined after all: the call is open again and
    /// queued.
    fn reopen_for_late_caller(&mut self) {
        self.update_call(CallUpdate {
            status: Some(CallStatus::Queued),
            ended_at: Some(None),
            ..Default::default()
        });
        self.record(TimelineEvent::CustomerJoinedLate {});
        self.changed_call();
        self.wake_router = true;
    }

    /// Back to the queue: the customer hears hold music until the next agent joins.
    fn requeue(&mut self, reason: &'static str) {
        if self.call().status.is_final() {
            return;
        }
        self.update_call(CallUpdate {
            status: Some(CallStatus::Queued),
            owner_agent_id: Some(None),
            ..Default::default()
        });
        self.end_supervisor_legs();
        if let Some(c) = self.connected_customer() {
            self.set_hold(c.id, true);
        }
        self.record(TimelineEvent::Requeued {
            reason: reason.into(),
        });
        self.changed_call();
        self.wake_router = true;
    }

    /// The transfer target takes the call over: the customer is taken off hold and the
    /// transferring agent (if still there) leaves. An agent's leg never ends the conference
    /// (their lost browser must not hang up the customer); an outside number that takes the
    /// call over does, since the call is theirs to finish.
    fn hand_over(&mut self, transfer: &Transfer, target_id: Uuid) {
        let Some(target) = self.leg(target_id) else {
            return;
        };
        if target.kind == ParticipantKind::External {
            self.set_ends_conference(target.id, true);
        }
        if let Some(c) = self.connected_customer() {
            self.set_hold(c.id, false);
        }
        if let Some(from) = transfer.from_agent_id {
            let from_leg = self.s.participants.iter().find(|p| {
                p.agent_id == Some(from)
                    && p.status == ParticipantStatus::Connected
                    && p.id != target.id
            });
            if let Some(leg) = from_leg.map(|p| p.id) {
                self.remove_leg(leg);
            }
        }
        self.set_transfer_status(transfer.id, TransferStatus::Completed, None);
        self.update_call(CallUpdate {
            owner_agent_id: Some(target.agent_id),
            ..Default::default()
        });
        self.coach_the_owner();
        self.record(TimelineEvent::TransferCompleted {
            transfer_id: transfer.id,
            mode: transfer.mode,
            to_agent_id: transfer.to_agent_id,
            to_number: transfer.to_number.clone(),
        });
        self.changed_call();
    }

    // ---- legs joining, leaving, missing ----

    /// A leg joined the conference.
    fn leg_joined(&mut self, p: &Participant) {
        let call = self.call().clone();
        if p.kind == ParticipantKind::Customer {
            if call.status == CallStatus::Abandoned {
                // Still "on their way" in a closed call: only a caller given up on as never
                // arrived (a caller who left is `left`), who made it after all.
                self.reopen_for_late_caller();
            } else if call.status == CallStatus::Queued {
                // In the conference now, so routable.
                self.changed_call();
                self.wake_router = true;
            }
            return;
        }
        if call.status.is_final() {
            // The customer is gone; nobody should sit in an empty conference.
            if let Some(sid) = p.call_sid.clone() {
                self.hang_up_leg(sid);
            }
            return;
        }
        if p.kind == ParticipantKind::Supervisor {
            return self.supervisor_joined(p);
        }
        if let Some(agent) = p.agent_id {
            self.set_agent_status(agent, AgentStatus::Busy);
        }
        let transfer = self
            .active_transfer()
            .filter(|t| t.target_participant_id == Some(p.id));
        match transfer {
            Some(t) => {
                let from_still_here = t.from_agent_id.is_some_and(|from| {
                    self.s.participants.iter().any(|x| {
                        x.agent_id == Some(from) && x.status == ParticipantStatus::Connected
                    })
                });
                if t.mode == TransferMode::Cold || !from_still_here {
                    self.hand_over(&t, p.id);
                } else {
                    self.set_transfer_status(t.id, TransferStatus::Consulting, None);
                    self.record(TimelineEvent::TransferTargetJoined {
                        transfer_id: t.id,
                        participant_id: p.id,
                    });
                }
            }
            None => {
                // A routed agent answered: the call is theirs, and the customer hears them.
                let now = self.s.now;
                self.update_call(CallUpdate {
                    status: Some(CallStatus::InProgress),
                    owner_agent_id: call.owner_agent_id.is_none().then_some(p.agent_id),
                    answered_at: call.answered_at.is_none().then_some(now),
                    prefer_agent_id: Some(None),
                    avoid_agent_id: Some(None),
                    ..Default::default()
                });
                // A call coming back from the queue (someone had already joined it) had the
                // customer on hold. Not `answered_at`: the answering leg's own `in-progress`
                // callback sets it before this join, and a first answer must not send Twilio a
                // needless unhold.
                let back_from_queue = self.s.participants.iter().any(|x| {
                    x.id != p.id && x.kind != ParticipantKind::Customer && x.joined_at.is_some()
                });
                if let Some(c) = self
                    .connected_customer()
                    .filter(|c| c.on_hold || back_from_queue)
                {
                    self.set_hold(c.id, false);
                }
            }
        }
        self.record(TimelineEvent::ParticipantJoined {
            participant_id: p.id,
            agent_id: p.agent_id,
            kind: p.kind,
        });
        self.changed_call();
    }

    /// A leg that had joined left the conference.
    fn leg_left(&mut self, p: &Participant) {
        self.record(TimelineEvent::ParticipantLeft {
            participant_id: p.id,
            agent_id: p.agent_id,
            kind: p.kind,
        });
        self.changed_call();
        if p.kind == ParticipantKind::Customer {
            return self.finish_call("customer hung up");
        }
        self.agent_leg_over(p);
        if self.call().status.is_final() || p.kind == ParticipantKind::Supervisor {
            return;
        }
        let transfer = self.active_transfer();

        // The transfer target left during the consultation: the transfer is off.
        if let Some(t) = transfer
            .as_ref()
            .filter(|t| t.target_participant_id == Some(p.id))
        {
            self.set_transfer_status(
                t.id,
                TransferStatus::Canceled,
                Some(TransferEnd::because(TransferEndReason::TargetHungUp)),
            );
            self.record(TimelineEvent::TransferCanceled {
                transfer_id: t.id,
                reason: Some("target left".into()),
                by: None,
            });
            if let Some(c) = self.connected_customer() {
                self.set_hold(c.id, false);
            }
        }

        // Who had the call: its owning agent, or an outside number that took it over (no owning
        // agent while the call is in progress).
        let call = self.call().clone();
        let had_the_call = match p.kind {
            ParticipantKind::Agent => p.agent_id.is_some() && call.owner_agent_id == p.agent_id,
            ParticipantKind::External => call.owner_agent_id.is_none(),
            ParticipantKind::Customer | ParticipantKind::Supervisor => false,
        };
        if !had_the_call {
            return;
        }
        let mut others: Vec<Participant> = self
            .s
            .participants
            .iter()
            .filter(|x| {
                !matches!(
                    x.kind,
                    ParticipantKind::Customer | ParticipantKind::Supervisor
                ) && x.id != p.id
                    && x.status == ParticipantStatus::Connected
            })
            .cloned()
            .collect();
        // Colleagues take over before outside numbers.
        others.sort_by_key(|x| x.kind != ParticipantKind::Agent);
        if let Some(t) = transfer.filter(|t| t.target_participant_id != Some(p.id)) {
            // The owner walked away mid-transfer: the target takes over as in a cold transfer.
            let target = t
                .target_participant_id
                .and_then(|id| self.leg(id))
                .filter(|target| target.status == ParticipantStatus::Connected);
            match target {
                Some(target) => self.hand_over(&t, target.id),
                None => {
                    // Music while the target still rings; a customer the transfer already put
                    // on hold (cold, or warm with hold) is not asked for again.
                    if let Some(c) = self.connected_customer().filter(|c| !c.on_hold) {
                        self.set_hold(c.id, true);
                    }
                    self.update_call(CallUpdate {
                        owner_agent_id: Some(None),
                        ..Default::default()
                    });
                }
            }
        } else if let Some(next) = others.first() {
            if next.kind == ParticipantKind::External {
                self.set_ends_conference(next.id, true);
            }
            self.update_call(CallUpdate {
                owner_agent_id: Some(next.agent_id),
                ..Default::default()
            });
            self.coach_the_owner();
        } else {
            // Nobody else is here. An agent who left on purpose is not offered the call again;
            // one whose browser or line dropped it is offered it first, once back.
            let prefer = p.agent_id.filter(|a| call.avoid_agent_id != Some(*a));
            self.update_call(CallUpdate {
                prefer_agent_id: Some(prefer),
                ..Default::default()
            });
            let reason = match (p.kind, prefer) {
                (ParticipantKind::External, _) => "the outside party left",
                (_, Some(_)) => "the agent's line dropped",
                (_, None) => "the agent left",
            };
            self.requeue(reason);
        }
    }

    /// A leg ended without us seeing it join: no answer, busy, declined, failed, called off, or
    /// (`Left`) answered but gone before its join was reported. `agent_at_fault` says whether
    /// the agent let it ring out (they are set away) or it was no doing of theirs (they are
    /// freed).
    fn leg_missed(&mut self, p: &Participant, status: ParticipantStatus, agent_at_fault: bool) {
        if p.kind == ParticipantKind::Supervisor {
            // A supervisor who declines or misses their own listening leg is not away, and the
            // call is not theirs: nothing else changes.
            if let Some(agent) = p.agent_id {
                self.release_agent(agent, true);
            }
            self.record(TimelineEvent::MonitorMissed {
                participant_id: p.id,
                agent_id: p.agent_id,
                status,
            });
            self.changed_call();
            return;
        }
        if let Some(agent) = p.agent_id {
            if agent_at_fault {
                // An agent who lets a call ring out (or declines it) is probably not at their
                // desk: stop offering them calls, and tell them why.
                let was_away = self.agent(agent).map(|a| a.status) == Some(AgentStatus::Away);
                self.set_agent_status(agent, AgentStatus::Away);
                if !was_away && self.agent(agent).is_some() {
                    let call = self.call();
                    let (call_id, from_number) = (call.id, call.from_number.clone());
                    self.changes.push(Change::AwayBecause {
                        agent_id: agent,
                        reason: if status == ParticipantStatus::Busy {
                            SystemAwayReason::DeclinedCall
                        } else {
                            SystemAwayReason::MissedCall
                        },
                        call_id,
                        from_number,
                    });
                }
            } else {
                self.release_agent(agent, false);
            }
        }
        let (participant_id, agent_id, phone) = (p.id, p.agent_id, p.phone.clone());
        self.record(if agent_id.is_some() && status == ParticipantStatus::Busy {
            // Declined in the agent's browser: a different event from letting it ring out.
            TimelineEvent::AgentDeclined {
                participant_id,
                agent_id,
            }
        } else if agent_id.is_some() {
            TimelineEvent::AgentMissed {
                participant_id,
                agent_id,
                phone,
                status,
            }
        } else {
            TimelineEvent::TargetMissed {
                participant_id,
                agent_id,
                phone,
                status,
            }
        });
        self.changed_call();
        if self.call().status.is_final() {
            return;
        }
        let transfer = self
            .active_transfer()
            .filter(|t| t.target_participant_id == Some(p.id));
        match transfer {
            Some(t) => {
                let reason = TransferEndReason::of_missed_leg(status, agent_id.is_some());
                self.transfer_failed(&t, status, reason);
            }
            None if self.call().status == CallStatus::Ringing => {
                let still_ringing = self.s.participants.iter().any(|x| {
                    x.id != p.id && x.kind == ParticipantKind::Agent && x.status.is_pending()
                });
                if still_ringing {
                    return;
                }
                if status == ParticipantStatus::Left {
                    // Answered, so the conference may have started and the wait music stopped:
                    // hold the customer so they hear music, not silence.
                    self.requeue("the agent hung up on answering");
                } else {
                    self.update_call(CallUpdate {
                        status: Some(CallStatus::Queued),
                        ..Default::default()
                    });
                    self.wake_router = true;
                }
            }
            None => {}
        }
    }

    /// The transfer's target will not take the call: the transfer failed. The customer goes
    /// back to the queue when nobody who had the call is still with them (a cold transfer, or
    /// the owner left meanwhile); otherwise they are back with the owner, off hold.
    fn transfer_failed(
        &mut self,
        t: &Transfer,
        status: ParticipantStatus,
        reason: TransferEndReason,
    ) {
        let owner = self.call().owner_agent_id;
        let owner_here = self.s.participants.iter().any(|x| {
            x.agent_id.is_some() && x.agent_id == owner && x.status == ParticipantStatus::Connected
        });
        let requeued = t.mode == TransferMode::Cold || !owner_here;
        self.set_transfer_status(
            t.id,
            TransferStatus::Failed,
            Some(TransferEnd {
                reason,
                by: None,
                requeued,
            }),
        );
        self.record(TimelineEvent::TransferFailed {
            transfer_id: t.id,
            status,
        });
        if requeued {
            self.requeue("the transfer target did not answer");
        } else if let Some(c) = self.connected_customer() {
            self.set_hold(c.id, false);
        }
    }

    /// A leg ended before we saw it join.
    fn mark_unanswered(&mut self, id: Uuid, status: ParticipantStatus) {
        let now = self.s.now;
        self.update_leg(
            id,
            LegUpdate {
                status: Some(status),
                left_at: Some(now),
                ..Default::default()
            },
        );
    }

    // ---- Twilio's callbacks ----

    fn leg_progress(&mut self, id: Uuid, status: TwilioCallStatus) {
        let Some(p) = self.leg(id) else { return };
        let now = self.s.now;
        if status.is_final() {
            self.update_leg(
                id,
                LegUpdate {
                    call_ended_at: Some(now),
                    ..Default::default()
                },
            );
        }
        let next = leg_status(status);
        if p.status.is_pending() {
            if status.is_final() {
                // Ended before we saw it join. `completed` means it was answered (the join
                // callback may still be on its way, or the caller left first): not a miss.
                self.mark_unanswered(id, next);
                let at_fault = matches!(
                    next,
                    ParticipantStatus::NoAnswer
                        | ParticipantStatus::Busy
                        | ParticipantStatus::Failed
                );
                self.leg_missed(&p, next, at_fault);
            } else if status == TwilioCallStatus::InProgress {
                // Answered; the conference reports the join. A routed call counts as answered
                // now, even if the caller leaves before the join is reported.
                if self.call().answered_at.is_none() && self.active_transfer().is_none() {
                    self.update_call(CallUpdate {
                        answered_at: Some(now),
                        ..Default::default()
                    });
                }
                if p.status == ParticipantStatus::Dialing {
                    self.update_leg(
                        id,
                        LegUpdate {
                            status: Some(ParticipantStatus::Ringing),
                            ..Default::default()
                        },
                    );
                }
                self.changed_call();
            } else if next == ParticipantStatus::Ringing && p.status == ParticipantStatus::Dialing {
                self.update_leg(
                    id,
                    LegUpdate {
                        status: Some(next),
                        ..Default::default()
                    },
                );
                self.changed_call();
            }
        } else if p.status == ParticipantStatus::Connected && status.is_final() {
            // Over in Twilio (stamped above). What its departure means for the call is decided
            // by the conference's participant-leave, which knows why it left: acting here too
            // would race it (e.g. requeue a call whose customer just hung up).
        } else if let (Some(agent), true) = (p.agent_id, status.is_final()) {
            // The leg had already left or been called off; now that it is over in Twilio too,
            // the agent can take the next call.
            self.release_agent(agent, p.kind == ParticipantKind::Supervisor);
        }
    }

    /// Twilio never placed the leg: it can't be live, and it failed through no fault of the
    /// agent.
    fn dial_failed(&mut self, id: Uuid) {
        let Some(p) = self.leg(id) else { return };
        let now = self.s.now;
        self.update_leg(
            id,
            LegUpdate {
                call_ended_at: Some(now),
                ..Default::default()
            },
        );
        if p.status.is_pending() {
            self.mark_unanswered(id, ParticipantStatus::Failed);
            self.leg_missed(&p, ParticipantStatus::Failed, false);
        } else if let Some(agent) = p.agent_id {
            self.release_agent(agent, p.kind == ParticipantKind::Supervisor);
        }
    }

    /// Hold, mute and ownership flags from a callback, applied only if it is newer than the last
    /// one applied (callbacks carry a per-conference `SequenceNumber` and arrive out of order).
    fn flag_changes(p: &Participant, cb: &ConferenceInput) -> LegUpdate {
        let newer = cb
            .sequence
            .is_none_or(|seq| seq > i64::from(p.flags_sequence));
        if !newer {
            return LegUpdate::default();
        }
        LegUpdate {
            on_hold: cb.hold,
            muted: cb.muted,
            end_conference_on_exit: cb.end_conference_on_exit,
            flags_sequence: cb.sequence.and_then(|s| i32::try_from(s).ok()),
            ..Default::default()
        }
    }

    fn conference_event(&mut self, cb: ConferenceInput) {
        // The caller's conference is the one they joined last (a rejoined caller is in a new
        // conference of the same name); events of an earlier one change nothing about the
        // caller.
        let customer_joins = cb.event == ConferenceEvent::ParticipantJoin
            && cb.call_sid.as_ref() == Some(&self.call().customer_call_sid);
        let current = self.call().conference_sid.clone();
        if current.is_none() || (customer_joins && current.as_ref() != Some(&cb.conference_sid)) {
            self.update_call(CallUpdate {
                conference_sid: Some(Some(cb.conference_sid.clone())),
                ..Default::default()
            });
        }
        let earlier_conference = self.call().conference_sid.as_ref() != Some(&cb.conference_sid);
        let participant = cb.participant_id.and_then(|id| self.leg(id));
        match cb.event {
            ConferenceEvent::ConferenceStart | ConferenceEvent::Other => {}
            ConferenceEvent::ConferenceEnd if earlier_conference => {}
            ConferenceEvent::ConferenceEnd => {
                if self.customer_between_conferences() {
                    // The caller is still on the line and will be put back in: only forget the
                    // conference that ended.
                    self.conference_lost();
                } else {
                    self.finish_call("conference ended");
                }
            }
            ConferenceEvent::ParticipantJoin => {
                let Some(p) = participant else { return };
                // A join that arrives after the leave (reordered delivery) changes nothing. A
                // leg we called off that joined anyway (answered as we canceled it) must not
                // stay in the room unseen: hang it up.
                if p.status.is_final() {
                    if p.kind != ParticipantKind::Customer && p.status != ParticipantStatus::Left {
                        if let Some(sid) = cb.call_sid.clone().or(p.call_sid.clone()) {
                            self.hang_up_leg(sid);
                        }
                    }
                    return;
                }
                let now = self.s.now;
                self.update_leg(
                    p.id,
                    LegUpdate {
                        status: Some(ParticipantStatus::Connected),
                        joined_at: Some(p.joined_at.unwrap_or(now)),
                        ..Self::flag_changes(&p, &cb)
                    },
                );
                if let Some(joined) = self.leg(p.id) {
                    self.leg_joined(&joined);
                }
            }
            ConferenceEvent::ParticipantLeave => {
                let Some(p) = participant else { return };
                if p.status.is_final() {
                    return;
                }
                if p.kind == ParticipantKind::Customer {
                    if earlier_conference {
                        return;
                    }
                    // Out of a conference that could not hold them (a failed waitUrl) but still
                    // on the line: the Dial action puts them back in.
                    if cb.call_goes_on && !cb.conference_ended_around {
                        self.customer_out_of_conference(p.id, cb.reason);
                        return;
                    }
                }
                // Dropped because the conference is ending (an owner left): the call is over,
                // unless the caller is between conferences (they will be back).
                if cb.conference_ended_around && !self.customer_between_conferences() {
                    self.finish_call("conference ended");
                    return;
                }
                let was_pending = p.status.is_pending();
                let now = self.s.now;
                self.update_leg(
                    p.id,
                    LegUpdate {
                        status: Some(ParticipantStatus::Left),
                        left_at: Some(now),
                        on_hold: Some(false),
                        ..Default::default()
                    },
                );
                if was_pending && p.kind != ParticipantKind::Customer {
                    // Its join is still on its way (callbacks arrive out of order).
                    self.leg_missed(&p, ParticipantStatus::Left, false);
                } else {
                    self.leg_left(&p);
                }
            }
            ConferenceEvent::ParticipantHold
            | ConferenceEvent::ParticipantUnhold
            | ConferenceEvent::ParticipantMute
            | ConferenceEvent::ParticipantUnmute
            | ConferenceEvent::ParticipantModify => {
                let Some(p) = participant else { return };
                let mut changes = Self::flag_changes(&p, &cb);
                // The event itself says what changed, even where the flag parameters are absent.
                let in_order = cb.sequence.is_none_or(|s| s > i64::from(p.flags_sequence));
                if in_order {
                    match cb.event {
                        ConferenceEvent::ParticipantHold => changes.on_hold = Some(true),
                        ConferenceEvent::ParticipantUnhold => changes.on_hold = Some(false),
                        ConferenceEvent::ParticipantMute => changes.muted = Some(true),
                        ConferenceEvent::ParticipantUnmute => changes.muted = Some(false),
                        _ => {}
                    }
                }
                self.update_leg(p.id, changes);
                self.changed_call();
            }
        }
    }

    // ---- the router ----

    fn offer(&mut self, agent_id: Uuid, leg_id: Uuid, dial_to: String) {
        let call_id = self.call().id;
        self.set_agent_status(agent_id, AgentStatus::Reserved);
        self.update_call(CallUpdate {
            status: Some(CallStatus::Ringing),
            // Offered once: if the preferred agent misses it, the next one is rung.
            prefer_agent_id: Some(None),
            ..Default::default()
        });
        self.new_leg(NewLeg {
            id: leg_id,
            call_id,
            kind: ParticipantKind::Agent,
            agent_id: Some(agent_id),
            phone: None,
            monitor_mode: None,
        });
        self.record(TimelineEvent::AgentRinging {
            agent_id,
            participant_id: leg_id,
        });
        let conference = self.call().conference_name.clone();
        self.effect(Effect::Dial {
            call_id,
            participant_id: leg_id,
            to: dial_to,
            conference,
            supervisor: false,
        });
        self.changed_call();
    }

    /// Takes an agent off the call they are on or being rung for, without ending it for the
    /// customer: a ringing leg is called off, a joined one leaves the conference, and the call
    /// goes to another agent (never back to this one).
    fn hand_back(&mut self, agent_id: Uuid, reason: &'static str) {
        if self.call().status.is_final() {
            return;
        }
        let legs: Vec<Participant> = self
            .s
            .participants
            .iter()
            .filter(|p| p.agent_id == Some(agent_id))
            .cloned()
            .collect();
        for p in legs {
            if p.status.is_pending() {
                self.call_off_pending_leg(p.id);
                // A transfer ringing this agent can no longer reach them.
                if let Some(t) = self
                    .active_transfer()
                    .filter(|t| t.target_participant_id == Some(p.id))
                {
                    self.transfer_failed(
                        &t,
                        ParticipantStatus::Canceled,
                        TransferEndReason::TargetSignedOut,
                    );
                }
            } else if p.status == ParticipantStatus::Connected {
                self.remove_leg(p.id);
            }
        }
        self.update_call(CallUpdate {
            avoid_agent_id: Some(Some(agent_id)),
            ..Default::default()
        });
        self.record(TimelineEvent::AgentHandedBack {
            agent_id,
            reason: reason.into(),
        });
        self.changed_call();
    }

    // ---- agents' actions ----

    /// Only an agent on the call (or a supervisor or admin) may act, and only on a live call.
    /// A supervisor's leg grants no agent rights: someone no longer a supervisor who still has
    /// their listening leg is not on the call as its agent.
    pub(super) fn authorize(&self, actor: Actor) -> Result<(), Refusal> {
        let mine = || {
            self.s.participants.iter().filter(move |p| {
                p.agent_id == Some(actor.id) && p.kind != ParticipantKind::Supervisor
            })
        };
        let was_on_call = mine().next().is_some();
        let is_on_call = mine().any(|p| p.status == ParticipantStatus::Connected);
        if !was_on_call && !actor.supervises {
            return Err(Refusal::Forbidden(
                "only an agent on this call (or a supervisor) can do that".into(),
            ));
        }
        if self.call().status.is_final() {
            return Err(conflict(format!(
                "the call has already ended ({})",
                self.call().status
            )));
        }
        if !is_on_call && !actor.supervises {
            return Err(conflict("you are no longer on this call"));
        }
        Ok(())
    }

    fn conference_sid(&self) -> Result<ConferenceSid, Refusal> {
        self.call()
            .conference_sid
            .clone()
            .ok_or_else(|| conflict("the conference has not started yet"))
    }

    fn placed(p: &Participant) -> Result<CallSid, Refusal> {
        p.call_sid
            .clone()
            .ok_or_else(|| conflict("that leg has not been placed yet"))
    }

    fn participant_for_action(&self, id: Uuid) -> Result<Participant, Refusal> {
        self.leg(id).ok_or(Refusal::NotFound("participant"))
    }

    fn transfer_for_action(&self, id: Uuid) -> Result<Transfer, Refusal> {
        let t = self
            .s
            .transfers
            .iter()
            .find(|t| t.id == id)
            .ok_or(Refusal::NotFound("transfer"))?;
        if !t.status.is_active() {
            return Err(conflict(format!("the transfer is already {}", t.status)));
        }
        Ok(t.clone())
    }

    fn action(&mut self, actor: Actor, action: Action) -> Result<(), Refusal> {
        // Ending one's own listening leg needs no rights on the call (see `stop_monitor`).
        if !matches!(action, Action::StopMonitor) {
            self.authorize(actor)?;
        }
        match action {
            Action::StartTransfer {
                leg_id,
                transfer_id,
                target,
                mode,
                hold_customer,
                note,
            } => self.start_transfer(
                actor,
                leg_id,
                transfer_id,
                target,
                (mode, hold_customer),
                note,
            ),
            Action::TransferToQueue { note } => self.transfer_to_queue(actor, note),
            Action::CompleteTransfer { transfer_id } => {
                let transfer = self.transfer_for_action(transfer_id)?;
                if transfer.status != TransferStatus::Consulting {
                    return Err(conflict(
                        "the transfer target has not answered yet; cancel the transfer or wait",
                    ));
                }
                let target = transfer
                    .target_participant_id
                    .and_then(|id| self.leg(id))
                    .filter(|p| p.status == ParticipantStatus::Connected)
                    .ok_or_else(|| conflict("the transfer target is no longer on the call"))?;
                self.hand_over(&transfer, target.id);
                Ok(())
            }
            Action::CancelTransfer { transfer_id } => {
                let transfer = self.transfer_for_action(transfer_id)?;
                if let Some(target) = transfer.target_participant_id.and_then(|id| self.leg(id)) {
                    if target.status.is_pending() {
                        self.call_off_pending_leg(target.id);
                    } else if target.status == ParticipantStatus::Connected {
                        self.remove_leg(target.id);
                    }
                }
                if let Some(c) = self.connected_customer() {
                    self.set_hold(c.id, false);
                }
                self.set_transfer_status(
                    transfer.id,
                    TransferStatus::Canceled,
                    Some(TransferEnd {
                        reason: TransferEndReason::Canceled,
                        by: Some(actor.id),
                        requeued: false,
                    }),
                );
                self.record(TimelineEvent::TransferCanceled {
                    transfer_id: transfer.id,
                    reason: None,
                    by: Some(actor.id),
                });
                self.changed_call();
                Ok(())
            }
            Action::Hold {
                participant_id,
                hold,
            } => self.switch(actor, participant_id, Switch::Hold(hold)),
            Action::Mute {
                participant_id,
                muted,
            } => self.switch(actor, participant_id, Switch::Mute(muted)),
            Action::Remove { participant_id } => {
                let p = self.participant_for_action(participant_id)?;
                if p.kind == ParticipantKind::Customer {
                    return Err(conflict("to drop the customer, hang up the call"));
                }
                if p.kind == ParticipantKind::Supervisor && !actor.supervises {
                    return Err(Refusal::Forbidden(
                        "only a supervisor can take a supervisor off the call".into(),
                    ));
                }
                if p.status.is_pending() {
                    self.call_off_pending_leg(p.id);
                } else if p.status == ParticipantStatus::Connected {
                    self.conference_sid()?;
                    Self::placed(&p)?;
                    // A participant that would end the conference on exit gives that up first.
                    self.remove_leg(p.id);
                } else {
                    return Err(conflict("that participant has already left"));
                }
                self.record(TimelineEvent::ParticipantRemoved {
                    participant_id: p.id,
                    by: actor.id,
                });
                self.changed_call();
                Ok(())
            }
            Action::Leave => {
                let own = self
                    .s
                    .participants
                    .iter()
                    .find(|p| {
                        p.agent_id == Some(actor.id) && p.status == ParticipantStatus::Connected
                    })
                    .cloned()
                    .ok_or_else(|| conflict("you are not in this call's conference"))?;
                self.conference_sid()?;
                Self::placed(&own)?;
                self.remove_leg(own.id);
                // Left on purpose: if the customer goes back to the queue, the call goes to
                // someone else. A supervisor leaving their listening leg was never offered the
                // call: the mark an agent who left set stays.
                if own.kind != ParticipantKind::Supervisor {
                    self.update_call(CallUpdate {
                        avoid_agent_id: Some(Some(actor.id)),
                        ..Default::default()
                    });
                }
                self.record(TimelineEvent::AgentLeaving { agent_id: actor.id });
                Ok(())
            }
            Action::HangUp => {
                // Ending the customer's leg ends the conference (endConferenceOnExit), which
                // ends every other leg; pending legs are called off explicitly.
                let customer_sid = self.call().customer_call_sid.clone();
                self.hang_up_leg(customer_sid);
                let pending: Vec<Uuid> = self
                    .s
                    .participants
                    .iter()
                    .filter(|p| p.status.is_pending())
                    .map(|p| p.id)
                    .collect();
                for id in pending {
                    self.call_off_pending_leg(id);
                }
                self.record(TimelineEvent::HangupRequested { by: actor.id });
                self.changed_call();
                Ok(())
            }
            Action::Monitor {
                mode,
                leg_id,
                dial_to,
            } => self.monitor(actor, mode, leg_id, dial_to),
            Action::StopMonitor => self.stop_monitor(actor),
            Action::TakeOver => self.take_over(actor),
        }
    }

    /// What the call must be for a transfer to start, whatever its target.
    pub(super) fn transfer_preconditions(&self) -> Result<(), Refusal> {
        let call = self.call();
        if call.status != CallStatus::InProgress {
            return Err(conflict(format!(
                "only a call in progress can be transferred; this one is {}",
                call.status
            )));
        }
        if self.active_transfer().is_some() {
            return Err(conflict("a transfer is already in progress on this call"));
        }
        if self.connected_customer().is_none() {
            return Err(conflict("the customer is not in the conference"));
        }
        self.conference_sid()?;
        Ok(())
    }

    /// The agent sends the customer back to the queue and leaves: once their leg is out of the
    /// conference (Twilio's participant-leave), the call is requeued with the customer on hold,
    /// in its first place in the line, and the agent goes to wrap-up. Refused while anyone else
    /// is with the customer (they would keep the call: leave instead). If Twilio refuses the
    /// removal, nothing has changed: the customer is still with the agent.
    fn transfer_to_queue(
        &mut self,
        actor: Actor,
        note: Option<HandoverNote>,
    ) -> Result<(), Refusal> {
        self.transfer_preconditions()?;
        let own = self
            .s
            .participants
            .iter()
            .find(|p| p.agent_id == Some(actor.id) && p.status == ParticipantStatus::Connected)
            .cloned()
            .ok_or_else(|| conflict("you are not in this call's conference"))?;
        Self::placed(&own)?;
        let others = self.s.participants.iter().any(|p| {
            !matches!(
                p.kind,
                ParticipantKind::Customer | ParticipantKind::Supervisor
            ) && p.id != own.id
                && (p.status == ParticipantStatus::Connected || p.status.is_pending())
        });
        if others {
            return Err(conflict(
                "someone else is on this call with the customer; leave the call instead",
            ));
        }
        self.remove_leg(own.id);
        // Not offered back to the agent who sent it away.
        self.update_call(CallUpdate {
            avoid_agent_id: Some(Some(actor.id)),
            ..Default::default()
        });
        self.record(TimelineEvent::TransferredToQueue {
            by: actor.id,
            note: note.map(|n| n.as_str().to_owned()),
        });
        self.changed_call();
        Ok(())
    }

    /// The removal for a transfer to the queue failed and the agent is still in the conference:
    /// the call may be offered to them again, and the timeline says the transfer did not happen.
    fn queue_transfer_refused(&mut self, agent_id: Uuid) {
        let still_here = self
            .s
            .participants
            .iter()
            .any(|p| p.agent_id == Some(agent_id) && p.status == ParticipantStatus::Connected);
        if self.call().status.is_final() || !still_here {
            return;
        }
        if self.call().avoid_agent_id == Some(agent_id) {
            self.update_call(CallUpdate {
                avoid_agent_id: Some(None),
                ..Default::default()
            });
        }
        self.record(TimelineEvent::TransferToQueueFailed { by: agent_id });
        self.changed_call();
    }

    fn start_transfer(
        &mut self,
        actor: Actor,
        leg_id: Uuid,
        transfer_id: Uuid,
        target: TransferTo,
        (mode, hold_customer): (TransferMode, bool),
        note: Option<HandoverNote>,
    ) -> Result<(), Refusal> {
        self.transfer_preconditions()?;
        let call = self.call().clone();
        let customer = self
            .connected_customer()
            .ok_or_else(|| conflict("the customer is not in the conference"))?;
        let from_agent = call.owner_agent_id.or(Some(actor.id));

        let (kind, agent_id, phone, dial_to) = match target {
            TransferTo::Agent { id, name, dial_to } => {
                let target = self.agent(id).ok_or(Refusal::NotFound("agent"))?;
                if id == actor.id || Some(id) == call.owner_agent_id {
                    return Err(conflict("that agent is already on this call"));
                }
                if !target.active || target.status != AgentStatus::Available {
                    return Err(conflict(format!(
                        "{name} is not available (status: {})",
                        target.status
                    )));
                }
                self.set_agent_status(id, AgentStatus::Reserved);
                (ParticipantKind::Agent, Some(id), None, dial_to)
            }
            TransferTo::Number(number) => (
                ParticipantKind::External,
                None,
                Some(number.as_str().to_owned()),
                number.as_str().to_owned(),
            ),
        };
        self.new_leg(NewLeg {
            id: leg_id,
            call_id: call.id,
            kind,
            agent_id,
            phone: phone.clone(),
            monitor_mode: None,
        });
        self.new_transfer(NewTransfer {
            id: transfer_id,
            call_id: call.id,
            from_agent_id: from_agent,
            to_agent_id: agent_id,
            to_number: phone.clone(),
            mode,
            target_participant_id: leg_id,
            note: note.clone(),
        });
        if mode == TransferMode::Cold || hold_customer {
            self.set_hold(customer.id, true);
        }
        let own = self
            .s
            .participants
            .iter()
            .find(|p| p.agent_id == from_agent && p.status == ParticipantStatus::Connected)
            .cloned();
        // While a transfer is under way the transferring agent must be able to drop off without
        // ending the call for the customer.
        if let Some(own) = own.as_ref().filter(|own| own.end_conference_on_exit) {
            self.set_ends_conference(own.id, false);
        }
        self.effect(Effect::Dial {
            call_id: call.id,
            participant_id: leg_id,
            to: dial_to,
            conference: call.conference_name.clone(),
            supervisor: false,
        });
        if mode == TransferMode::Cold {
            // The transferring agent leaves at once; the customer keeps hearing hold music.
            if let Some(own) = own {
                self.remove_leg(own.id);
            }
        }
        self.record(TimelineEvent::TransferStarted {
            transfer_id,
            mode,
            by: actor.id,
            to_agent_id: agent_id,
            to_number: phone,
        });
        if let Some(note) = note {
            self.record(TimelineEvent::HandoverNote {
                transfer_id,
                by: actor.id,
                note: note.as_str().to_owned(),
            });
        }
        self.changed_call();
        Ok(())
    }

    /// Holds or mutes (or undoes either for) a participant in the conference. A request for
    /// the state the stored flag already shows is carried out all the same: the flag can lag
    /// Twilio (a callback about an earlier change, with that moment's flags, may be processed
    /// after a newer request), and Twilio's update is idempotent. Skipping it would leave a
    /// customer muted or on hold after the agent asked otherwise.
    fn switch(&mut self, actor: Actor, id: Uuid, switch: Switch) -> Result<(), Refusal> {
        let p = self.participant_for_action(id)?;
        let what = match switch {
            Switch::Hold(_) => "hold",
            Switch::Mute(_) => "mute",
        };
        if p.kind == ParticipantKind::Supervisor {
            // Muted and coaching are how a supervisor listens, whispers or barges: only the
            // monitor mode changes them.
            return Err(conflict(format!(
                "can't {what} a supervisor; they change how they are on the call themselves"
            )));
        }
        if p.status != ParticipantStatus::Connected {
            return Err(conflict(format!(
                "can't {what} a participant who is {}",
                p.status
            )));
        }
        let call_id = self.call().id;
        match switch {
            Switch::Hold(hold) => {
                self.conference_sid()?;
                Self::placed(&p)?;
                self.set_hold(id, hold);
                self.record(TimelineEvent::Hold {
                    participant_id: id,
                    hold,
                    by: actor.id,
                });
            }
            Switch::Mute(muted) => {
                let (conference_sid, call_sid) = (self.conference_sid()?, Self::placed(&p)?);
                self.effect(Effect::Mute {
                    call_id,
                    conference_sid,
                    call_sid,
                    muted,
                });
                self.update_leg(
                    id,
                    LegUpdate {
                        muted: Some(muted),
                        ..Default::default()
                    },
                );
                self.record(TimelineEvent::Mute {
                    participant_id: id,
                    muted,
                    by: actor.id,
                });
            }
        }
        self.changed_call();
        Ok(())
    }
}

// ---- supervisors on a call ----

impl Engine {
    /// The actor's supervisor leg in this call that is still live (ringing or joined).
    fn supervisor_leg(&self, agent_id: Uuid) -> Option<Participant> {
        self.s
            .participants
            .iter()
            .find(|p| {
                p.kind == ParticipantKind::Supervisor
                    && p.agent_id == Some(agent_id)
                    && (p.status.is_pending() || p.status == ParticipantStatus::Connected)
            })
            .cloned()
    }

    /// The owning agent's leg in the conference: the one a whispering supervisor coaches.
    fn coachee(&self) -> Option<Participant> {
        let owner = self.call().owner_agent_id?;
        self.s
            .participants
            .iter()
            .find(|p| {
                p.kind == ParticipantKind::Agent
                    && p.agent_id == Some(owner)
                    && p.status == ParticipantStatus::Connected
                    && p.call_sid.is_some()
            })
            .cloned()
    }

    /// The call changed hands: a whispering supervisor coaches its new agent, or goes back to
    /// listening when no agent has it (an outside number took it over), instead of whispering
    /// to a leg that left.
    fn coach_the_owner(&mut self) {
        let whisperers: Vec<Participant> = self
            .s
            .participants
            .iter()
            .filter(|p| {
                p.kind == ParticipantKind::Supervisor
                    && p.status == ParticipantStatus::Connected
                    && p.monitor_mode == Some(MonitorMode::Whisper)
            })
            .cloned()
            .collect();
        for p in whisperers {
            if self.apply_monitor_mode(&p, MonitorMode::Whisper).is_ok() {
                continue;
            }
            if self.apply_monitor_mode(&p, MonitorMode::Listen).is_ok() {
                if let Some(by) = p.agent_id {
                    self.record(TimelineEvent::MonitorModeChanged {
                        participant_id: p.id,
                        by,
                        mode: MonitorMode::Listen,
                    });
                }
            }
        }
    }

    fn no_coachee() -> Refusal {
        conflict("there is no agent on the call to coach (whisper needs the call's agent in the conference)")
    }

    /// Asks Twilio to make a joined supervisor's leg heard as `mode` says, and records it.
    fn apply_monitor_mode(&mut self, p: &Participant, mode: MonitorMode) -> Result<(), Refusal> {
        let (conference_sid, call_sid) = (self.conference_sid()?, Self::placed(p)?);
        let coach = match mode {
            MonitorMode::Whisper => Some(
                self.coachee()
                    .and_then(|c| c.call_sid)
                    .ok_or_else(Self::no_coachee)?,
            ),
            MonitorMode::Listen | MonitorMode::Barge => None,
        };
        let muted = mode == MonitorMode::Listen;
        self.effect(Effect::Monitor {
            call_id: self.call().id,
            conference_sid,
            call_sid,
            muted,
            coach,
        });
        self.update_leg(
            p.id,
            LegUpdate {
                muted: Some(muted),
                monitor_mode: Some(Some(mode)),
                ..Default::default()
            },
        );
        Ok(())
    }

    fn supervisor_only(actor: Actor) -> Result<(), Refusal> {
        if actor.supervises {
            Ok(())
        } else {
            Err(Refusal::Forbidden(
                "only a supervisor or admin can listen to, coach or take over a call".into(),
            ))
        }
    }

    /// Starts a supervisor's leg into the call (it joins muted: listening) or switches how the
    /// one they have is heard. A leg still ringing takes the new mode when it joins.
    fn monitor(
        &mut self,
        actor: Actor,
        mode: MonitorMode,
        leg_id: Uuid,
        dial_to: String,
    ) -> Result<(), Refusal> {
        Self::supervisor_only(actor)?;
        let call = self.call().clone();
        if call.status != CallStatus::InProgress {
            return Err(conflict(format!(
                "only a call in progress can be listened to; this one is {}",
                call.status
            )));
        }
        let own_agent_leg = self.s.participants.iter().any(|p| {
            p.kind == ParticipantKind::Agent
                && p.agent_id == Some(actor.id)
                && (p.status.is_pending() || p.status == ParticipantStatus::Connected)
        });
        if own_agent_leg || call.owner_agent_id == Some(actor.id) {
            return Err(conflict("you are this call's agent"));
        }
        if mode == MonitorMode::Whisper && self.coachee().is_none() {
            return Err(Self::no_coachee());
        }
        if let Some(leg) = self.supervisor_leg(actor.id) {
            if leg.status == ParticipantStatus::Connected {
                self.apply_monitor_mode(&leg, mode)?;
            } else {
                self.update_leg(
                    leg.id,
                    LegUpdate {
                        monitor_mode: Some(Some(mode)),
                        ..Default::default()
                    },
                );
            }
            self.record(TimelineEvent::MonitorModeChanged {
                participant_id: leg.id,
                by: actor.id,
                mode,
            });
            self.changed_call();
            return Ok(());
        }
        let me = self.agent(actor.id).ok_or(Refusal::NotFound("agent"))?;
        if me.live_elsewhere || matches!(me.status, AgentStatus::Reserved | AgentStatus::Busy) {
            return Err(conflict(
                "you are already on another call; finish or leave it first",
            ));
        }
        if !me.active {
            return Err(conflict("your account is deactivated"));
        }
        // Not offered calls while on this one; a supervisor who is away stays away.
        if me.status == AgentStatus::Available {
            self.set_agent_status(actor.id, AgentStatus::Reserved);
        }
        self.new_leg(NewLeg {
            id: leg_id,
            call_id: call.id,
            kind: ParticipantKind::Supervisor,
            agent_id: Some(actor.id),
            phone: None,
            monitor_mode: Some(mode),
        });
        self.effect(Effect::Dial {
            call_id: call.id,
            participant_id: leg_id,
            to: dial_to,
            conference: call.conference_name.clone(),
            supervisor: true,
        });
        self.record(TimelineEvent::MonitorStarted {
            participant_id: leg_id,
            by: actor.id,
            mode,
        });
        self.changed_call();
        Ok(())
    }

    /// A supervisor's leg joined (muted, as its TwiML has it): it takes the mode asked for.
    fn supervisor_joined(&mut self, p: &Participant) {
        let Some(agent) = p.agent_id else { return };
        if self.call().status != CallStatus::InProgress {
            // Nobody to listen to any more (the call went back to the queue meanwhile).
            if let Some(sid) = p.call_sid.clone() {
                self.hang_up_leg(sid);
            }
            return;
        }
        if self.agent(agent).map(|a| a.status) == Some(AgentStatus::Reserved) {
            self.set_agent_status(agent, AgentStatus::Busy);
        }
        let mode = p.monitor_mode.unwrap_or(MonitorMode::Listen);
        if mode != MonitorMode::Listen && self.apply_monitor_mode(p, mode).is_err() {
            // Whisper with nobody to coach: stay listening.
            self.update_leg(
                p.id,
                LegUpdate {
                    monitor_mode: Some(Some(MonitorMode::Listen)),
                    ..Default::default()
                },
            );
        }
        self.record(TimelineEvent::ParticipantJoined {
            participant_id: p.id,
            agent_id: p.agent_id,
            kind: p.kind,
        });
        self.changed_call();
    }

    /// Ends every supervisor leg: they never keep a customer company.
    fn end_supervisor_legs(&mut self) {
        let legs: Vec<Participant> = self
            .s
            .participants
            .iter()
            .filter(|p| p.kind == ParticipantKind::Supervisor)
            .cloned()
            .collect();
        for p in legs {
            if p.status.is_pending() {
                self.call_off_pending_leg(p.id);
            } else if p.status == ParticipantStatus::Connected {
                if let Some(sid) = p.call_sid {
                    self.hang_up_leg(sid);
                }
            }
        }
    }

    fn stop_monitor(&mut self, actor: Actor) -> Result<(), Refusal> {
        // Anyone may end their own listening leg: someone no longer a supervisor included, who
        // may do nothing else on the call.
        let leg = match self.supervisor_leg(actor.id) {
            Some(leg) => leg,
            None => {
                Self::supervisor_only(actor)?;
                return Err(conflict("you are not listening to this call"));
            }
        };
        if self.call().status.is_final() {
            return Err(conflict(format!(
                "the call has already ended ({})",
                self.call().status
            )));
        }
        if leg.status.is_pending() {
            self.call_off_pending_leg(leg.id);
        } else {
            let sid = Self::placed(&leg)?;
            self.hang_up_leg(sid);
        }
        self.record(TimelineEvent::MonitorStopped {
            participant_id: leg.id,
            by: actor.id,
        });
        self.changed_call();
        Ok(())
    }

    /// What must hold for a supervisor to take the call over; returns their leg. The caller is
    /// never left without someone: their leg must be in the conference.
    fn take_over_check(&self, actor: Actor) -> Result<Participant, Refusal> {
        Self::supervisor_only(actor)?;
        let call = self.call();
        if call.status != CallStatus::InProgress {
            return Err(conflict(format!(
                "only a call in progress can be taken over; this one is {}",
                call.status
            )));
        }
        let leg = self
            .supervisor_leg(actor.id)
            .filter(|p| p.status == ParticipantStatus::Connected && p.call_sid.is_some())
            .ok_or_else(|| {
                conflict("your line is not in the call; listen to it first, then take it over")
            })?;
        if self.active_transfer().is_some() {
            return Err(conflict(
                "a transfer is in progress on this call; wait for it to finish",
            ));
        }
        if self.connected_customer().is_none() {
            return Err(conflict("the customer is not in the conference"));
        }
        if call.owner_agent_id.is_none() {
            // An outside number has the call, and its leg ends the conference when it hangs up.
            return Err(conflict(
                "no agent has this call (an outside number does); barge in instead",
            ));
        }
        self.conference_sid()?;
        Ok(leg)
    }

    /// A take over's first step: only the supervisor's leg is made heard by everyone (unmuted,
    /// coaching nobody). The call changes hands once Twilio has done that
    /// ([`Input::TakeOverHeard`]): were the agent removed in the same breath and the unmute
    /// refused, the customer would be left with a supervisor they cannot hear. Nothing is
    /// stored yet; refused, changing nothing, unless the call can be taken over.
    fn take_over(&mut self, actor: Actor) -> Result<(), Refusal> {
        let leg = self.take_over_check(actor)?;
        let (conference_sid, call_sid) = (self.conference_sid()?, Self::placed(&leg)?);
        self.effect(Effect::Monitor {
            call_id: self.call().id,
            conference_sid,
            call_sid,
            muted: false,
            coach: None,
        });
        Ok(())
    }

    /// The supervisor is heard by everyone: their leg becomes the owning agent leg and the
    /// call's agent leaves, to wrap-up. Refused, changing nothing, if the call can no longer be
    /// taken over (it changed after the first step); the caller then puts the supervisor back
    /// as they were ([`Input::TakeOverRefused`]).
    fn take_over_heard(&mut self, actor: Actor) -> Result<(), Refusal> {
        let leg = self.take_over_check(actor)?;
        let call = self.call().clone();
        // The new owner talks to the customer at once: not through hold music their agent left.
        if let Some(customer) = self.connected_customer().filter(|c| c.on_hold) {
            self.set_hold(customer.id, false);
        }
        self.update_leg(
            leg.id,
            LegUpdate {
                kind: Some(ParticipantKind::Agent),
                monitor_mode: Some(None),
                muted: Some(false),
                ..Default::default()
            },
        );
        self.update_call(CallUpdate {
            owner_agent_id: Some(Some(actor.id)),
            ..Default::default()
        });
        if let Some(me) = self.agent(actor.id) {
            if me.status != AgentStatus::Busy {
                self.set_agent_status(actor.id, AgentStatus::Busy);
            }
        }
        let from = call.owner_agent_id.filter(|id| *id != actor.id);
        let leaving: Vec<Uuid> = self
            .s
            .participants
            .iter()
            .filter(|p| {
                p.kind == ParticipantKind::Agent
                    && p.agent_id.is_some()
                    && p.agent_id == from
                    && p.status == ParticipantStatus::Connected
            })
            .map(|p| p.id)
            .collect();
        for id in leaving {
            self.remove_leg(id);
        }
        // Another supervisor whispering to the agent who left now coaches the new owner.
        self.coach_the_owner();
        self.record(TimelineEvent::TakenOver {
            by: actor.id,
            from_agent_id: from,
        });
        self.changed_call();
        Ok(())
    }

    /// A take over stopped after its first step. The supervisor's leg is heard as its stored
    /// mode says, asked of Twilio again: a refused request changed nothing, but one that timed
    /// out, or a first step the call no longer fitted, may have left them heard by everyone.
    fn take_over_refused(&mut self, agent_id: Uuid) {
        if self.call().status.is_final() {
            return;
        }
        let Some(leg) = self
            .supervisor_leg(agent_id)
            .filter(|p| p.status == ParticipantStatus::Connected)
        else {
            return;
        };
        self.heard_as(&leg, leg.monitor_mode.unwrap_or(MonitorMode::Listen));
        self.record(TimelineEvent::TakeOverFailed { by: agent_id });
        self.changed_call();
    }

    /// Twilio refused a mode switch: the supervisor's leg is recorded (and asked of Twilio
    /// again, in case the refused request took effect after all) as heard as before.
    fn monitor_mode_refused(&mut self, agent_id: Uuid, mode: MonitorMode) {
        if self.call().status.is_final() {
            return;
        }
        let Some(leg) = self
            .supervisor_leg(agent_id)
            .filter(|p| p.status == ParticipantStatus::Connected)
        else {
            return;
        };
        let asked = leg.monitor_mode.unwrap_or(MonitorMode::Listen);
        self.heard_as(&leg, mode);
        self.record(TimelineEvent::MonitorModeChangeFailed {
            participant_id: leg.id,
            by: agent_id,
            mode: asked,
        });
        self.changed_call();
    }

    /// Makes a joined supervisor's leg heard as `mode`, or listening when that is whisper and
    /// there is nobody to coach any more.
    fn heard_as(&mut self, leg: &Participant, mode: MonitorMode) {
        if self.apply_monitor_mode(leg, mode).is_err() {
            let _ = self.apply_monitor_mode(leg, MonitorMode::Listen);
        }
    }
}

/// A participant flag an agent can switch.
#[derive(Debug, Clone, Copy)]
enum Switch {
    Hold(bool),
    Mute(bool),
}
