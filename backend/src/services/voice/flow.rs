//! The call flow's reactions, shared by callbacks, the router and call control. Each runs inside
//! a transaction holding the call's lock and collects what to do afterwards in an [`Outcome`].

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::effects::Effect;
use crate::db::calls::{CallChanges, ParticipantChanges};
use crate::db::{self, DbError, PgConn};
use crate::domain::agent::AgentStatus;
use crate::domain::call::{
    Call, CallSid, CallStatus, ConferenceSid, Participant, ParticipantKind, ParticipantStatus,
    Transfer, TransferMode, TransferStatus,
};
use crate::events::Topic;

/// What a transaction decided should happen once it commits.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub effects: Vec<Effect>,
    pub topics: Vec<Topic>,
    pub wake_router: bool,
}

impl Outcome {
    pub fn changed_call(&mut self, call: &Call) {
        self.topics.push(Topic::Call(call.id));
        self.topics.push(Topic::Queue);
    }
}

pub(crate) async fn set_agent_status(
    conn: &mut PgConn,
    agent_id: Uuid,
    status: AgentStatus,
    out: &mut Outcome,
) -> Result<(), DbError> {
    db::agents::set_status(conn, agent_id, status).await?;
    out.topics.push(Topic::Agent(agent_id));
    if status == AgentStatus::Available {
        out.wake_router = true;
    }
    Ok(())
}

/// An agent's leg in a call is over: an agent who was on the call goes to wrap-up and is freed
/// once Twilio reports all their legs over. An agent who signed out, went away or was
/// deactivated meanwhile keeps that status: a call ending never makes them available.
pub(crate) async fn agent_leg_over(
    conn: &mut PgConn,
    agent_id: Uuid,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let Some(agent) = db::agents::find(conn, agent_id).await? else {
        return Ok(());
    };
    if agent.status.is_engaged() {
        set_agent_status(conn, agent_id, AgentStatus::WrapUp, out).await?;
    }
    release_agent(conn, agent_id, out).await
}

/// Frees an agent once none of their legs can still be live in Twilio. Leaving the conference is
/// not enough: until Twilio reports the leg's call over, their browser is still on it and would
/// drop the next call.
pub(crate) async fn release_agent(
    conn: &mut PgConn,
    agent_id: Uuid,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let Some(agent) = db::agents::find(conn, agent_id).await? else {
        return Ok(());
    };
    let holding = matches!(
        agent.status,
        AgentStatus::Reserved | AgentStatus::Busy | AgentStatus::WrapUp
    );
    if holding && !db::routing::agent_has_live_leg(conn, agent_id).await? {
        set_agent_status(conn, agent_id, AgentStatus::Available, out).await?;
    }
    Ok(())
}

fn customer(participants: &[Participant]) -> Option<&Participant> {
    participants
        .iter()
        .find(|p| p.kind == ParticipantKind::Customer)
}

fn connected_customer(participants: &[Participant]) -> Option<&Participant> {
    customer(participants).filter(|c| c.status == ParticipantStatus::Connected)
}

/// Effects on a conference participant need both SIDs; before the conference exists there is
/// nothing to act on.
fn in_conference(call: &Call, p: &Participant) -> Option<(ConferenceSid, CallSid)> {
    Some((call.conference_sid.clone()?, p.call_sid.clone()?))
}

/// Holds or unholds a participant, recording the decision at once so later decisions in other
/// transactions see it even before Twilio's confirming callback arrives. Sent even when the
/// stored flag already matches: a repeated hold or unhold is harmless, a missed unhold is not.
pub(crate) async fn set_hold(
    conn: &mut PgConn,
    call: &Call,
    p: &Participant,
    hold: bool,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let Some((conference_sid, call_sid)) = in_conference(call, p) else {
        return Ok(());
    };
    out.effects.push(Effect::Hold {
        call_id: call.id,
        conference_sid,
        call_sid,
        hold,
    });
    db::calls::update_participant(
        conn,
        p.id,
        ParticipantChanges {
            on_hold: Some(hold),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// Gives a participant (or takes away) the power to end the conference by leaving. Twilio
/// ignores this change for a held participant without an error, so a held one is unheld first.
pub(crate) async fn set_ends_conference(
    conn: &mut PgConn,
    call: &Call,
    p: &Participant,
    value: bool,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let Some((conference_sid, call_sid)) = in_conference(call, p) else {
        return Ok(());
    };
    if p.on_hold {
        set_hold(conn, call, p, false, out).await?;
    }
    out.effects.push(Effect::EndConferenceOnExit {
        call_id: call.id,
        conference_sid,
        call_sid,
        value,
    });
    db::calls::update_participant(
        conn,
        p.id,
        ParticipantChanges {
            end_conference_on_exit: Some(value),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// Takes a participant out of the conference without ending it for everyone: a leg that owns
/// the conference (`endConferenceOnExit`) gives that up first.
pub(crate) async fn remove_leg(
    conn: &mut PgConn,
    call: &Call,
    p: &Participant,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let Some((conference_sid, call_sid)) = in_conference(call, p) else {
        return Ok(());
    };
    if p.end_conference_on_exit && p.kind != ParticipantKind::Customer {
        set_ends_conference(conn, call, p, false, out).await?;
    }
    out.effects.push(Effect::Remove {
        call_id: call.id,
        conference_sid,
        call_sid,
    });
    Ok(())
}

/// Stops a leg that has not joined; without a SID yet, the dialer stops it when the SID arrives.
pub(crate) async fn call_off_pending_leg(
    conn: &mut PgConn,
    call: &Call,
    p: &Participant,
    out: &mut Outcome,
) -> Result<(), DbError> {
    db::calls::update_participant(
        conn,
        p.id,
        ParticipantChanges {
            status: Some(ParticipantStatus::Canceled),
            left_at: Some(Utc::now()),
            ..Default::default()
        },
    )
    .await?;
    if let Some(sid) = &p.call_sid {
        out.effects.push(Effect::HangUp {
            call_id: call.id,
            call_sid: sid.clone(),
        });
    }
    if let Some(agent) = p.agent_id {
        release_agent(conn, agent, out).await?;
    }
    Ok(())
}

/// The call is over: close every leg, free every agent, and stamp the end.
pub(crate) async fn finish_call(
    conn: &mut PgConn,
    call: &Call,
    reason: &str,
    out: &mut Outcome,
) -> Result<(), DbError> {
    if call.status.is_final() {
        return Ok(());
    }
    let now = Utc::now();
    let status = if call.answered_at.is_some() {
        CallStatus::Completed
    } else {
        CallStatus::Abandoned
    };
    for p in db::calls::participants_of(conn, call.id).await? {
        if p.status.is_pending() {
            call_off_pending_leg(conn, call, &p, out).await?;
        } else if p.status == ParticipantStatus::Connected {
            db::calls::update_participant(
                conn,
                p.id,
                ParticipantChanges {
                    status: Some(ParticipantStatus::Left),
                    left_at: Some(now),
                    on_hold: Some(false),
                    ..Default::default()
                },
            )
            .await?;
            if p.kind != ParticipantKind::Customer {
                if let Some(sid) = &p.call_sid {
                    out.effects.push(Effect::HangUp {
                        call_id: call.id,
                        call_sid: sid.clone(),
                    });
                }
            }
            if let Some(agent) = p.agent_id {
                agent_leg_over(conn, agent, out).await?;
            }
        }
    }
    if let Some(t) = db::calls::active_transfer(conn, call.id).await? {
        db::calls::set_transfer_status(conn, t.id, TransferStatus::Canceled).await?;
    }
    db::calls::update_call(
        conn,
        call.id,
        CallChanges {
            status: Some(status),
            ended_at: Some(Some(now)),
            ..Default::default()
        },
    )
    .await?;
    db::calls::record_event(
        conn,
        call.id,
        "call_ended",
        json!({ "status": status, "reason": reason }),
        None,
    )
    .await?;
    out.changed_call(call);
    Ok(())
}

/// Whether the caller is on the line but in no conference: dropped from one that could not hold
/// them and on their way back (or not arrived yet). A conference ending then is no hang-up.
pub(crate) async fn customer_between_conferences(
    conn: &mut PgConn,
    call: &Call,
) -> Result<bool, DbError> {
    if call.status.is_final() {
        return Ok(false);
    }
    let participants = db::calls::participants_of(conn, call.id).await?;
    Ok(customer(&participants).is_some_and(|c| c.status.is_pending()))
}

/// The caller left the conference but their call goes on (its `<Dial action>` runs, which puts
/// them back in): they count as on their way in again, as before their first join.
pub(crate) async fn customer_out_of_conference(
    conn: &mut PgConn,
    call: &Call,
    p: &Participant,
    reason: &Option<String>,
    out: &mut Outcome,
) -> Result<(), DbError> {
    db::calls::update_participant(
        conn,
        p.id,
        ParticipantChanges {
            status: Some(ParticipantStatus::Ringing),
            left_at: Some(Utc::now()),
            on_hold: Some(false),
            ..Default::default()
        },
    )
    .await?;
    db::calls::record_event(
        conn,
        call.id,
        "customer_out_of_conference",
        json!({ "participant_id": p.id, "reason": reason }),
        None,
    )
    .await?;
    out.changed_call(call);
    Ok(())
}

/// The conference ended while the caller stays on the line: forget it, so the one they rejoin
/// becomes the call's conference.
pub(crate) async fn conference_lost(
    conn: &mut PgConn,
    call: &Call,
    out: &mut Outcome,
) -> Result<(), DbError> {
    db::calls::update_call(
        conn,
        call.id,
        CallChanges {
            conference_sid: Some(None),
            ..Default::default()
        },
    )
    .await?;
    db::calls::record_event(
        conn,
        call.id,
        "conference_lost",
        json!({ "conference_sid": call.conference_sid }),
        None,
    )
    .await?;
    out.changed_call(call);
    Ok(())
}

/// The caller did not reach their conference in time: they hung up before their `<Dial>` ran.
/// The call ends abandoned and any leg ringing for it is called off. The caller's leg stays
/// "on its way", so a join that still arrives (a very slow Twilio) reopens the call.
pub(crate) async fn caller_never_arrived(
    conn: &mut PgConn,
    call: &Call,
    out: &mut Outcome,
) -> Result<(), DbError> {
    if call.status.is_final() {
        return Ok(());
    }
    let participants = db::calls::participants_of(conn, call.id).await?;
    if !customer(&participants).is_some_and(|c| c.status.is_pending()) {
        return Ok(()); // arrived meanwhile
    }
    for p in participants
        .iter()
        .filter(|p| p.kind != ParticipantKind::Customer && p.status.is_pending())
    {
        call_off_pending_leg(conn, call, p, out).await?;
    }
    if let Some(t) = db::calls::active_transfer(conn, call.id).await? {
        db::calls::set_transfer_status(conn, t.id, TransferStatus::Canceled).await?;
    }
    db::calls::update_call(
        conn,
        call.id,
        CallChanges {
            status: Some(CallStatus::Abandoned),
            ended_at: Some(Some(Utc::now())),
            ..Default::default()
        },
    )
    .await?;
    db::calls::record_event(
        conn,
        call.id,
        "customer_never_joined",
        json!({ "status": CallStatus::Abandoned }),
        None,
    )
    .await?;
    out.changed_call(call);
    Ok(())
}

/// A caller given up on as never arrived joined after all: the call is open again and queued.
async fn reopen_for_late_caller(
    conn: &mut PgConn,
    call: &Call,
    out: &mut Outcome,
) -> Result<(), DbError> {
    db::calls::update_call(
        conn,
        call.id,
        CallChanges {
            status: Some(CallStatus::Queued),
            ended_at: Some(None),
            ..Default::default()
        },
    )
    .await?;
    db::calls::record_event(conn, call.id, "customer_joined_late", json!({}), None).await?;
    out.changed_call(call);
    out.wake_router = true;
    Ok(())
}

/// Back to the queue: the customer hears hold music until the next agent joins.
pub(crate) async fn requeue(
    conn: &mut PgConn,
    call: &Call,
    reason: &str,
    out: &mut Outcome,
) -> Result<(), DbError> {
    if call.status.is_final() {
        return Ok(());
    }
    db::calls::update_call(
        conn,
        call.id,
        CallChanges {
            status: Some(CallStatus::Queued),
            owner_agent_id: Some(None),
            ..Default::default()
        },
    )
    .await?;
    let participants = db::calls::participants_of(conn, call.id).await?;
    if let Some(c) = connected_customer(&participants) {
        set_hold(conn, call, c, true, out).await?;
    }
    db::calls::record_event(conn, call.id, "requeued", json!({ "reason": reason }), None).await?;
    out.changed_call(call);
    out.wake_router = true;
    Ok(())
}

/// The transfer target takes the call over: the customer is taken off hold and the transferring
/// agent (if still there) leaves. An agent's leg never ends the conference (their lost browser
/// must not hang up the customer); an outside number that takes the call over does, since the
/// call is theirs to finish.
pub(crate) async fn hand_over(
    conn: &mut PgConn,
    call: &Call,
    transfer: &Transfer,
    target: &Participant,
    out: &mut Outcome,
) -> Result<(), DbError> {
    let participants = db::calls::participants_of(conn, call.id).await?;
    if target.kind == ParticipantKind::External {
        set_ends_conference(conn, call, target, true, out).await?;
    }
    if let Some(c) = connected_customer(&participants) {
        set_hold(conn, call, c, false, out).await?;
    }
    if let Some(from) = transfer.from_agent_id {
        if let Some(leg) = participants.iter().find(|p| {
            p.agent_id == Some(from)
                && p.status == ParticipantStatus::Connected
                && p.id != target.id
        }) {
            remove_leg(conn, call, leg, out).await?;
        }
    }
    db::calls::set_transfer_status(conn, transfer.id, TransferStatus::Completed).await?;
    db::calls::update_call(
        conn,
        call.id,
        CallChanges {
            owner_agent_id: Some(target.agent_id),
            ..Default::default()
        },
    )
    .await?;
    db::calls::record_event(
        conn,
        call.id,
        "transfer_completed",
        json!({ "transfer_id": transfer.id, "mode": transfer.mode, "to_agent_id": transfer.to_agent_id, "to_number": transfer.to_number }),
        None,
    )
    .await?;
    out.changed_call(call);
    Ok(())
}

/// A leg joined the conference.
pub(crate) async fn leg_joined(
    conn: &mut PgConn,
    call: &Call,
    p: &Participant,
    out: &mut Outcome,
) -> Result<(), DbError> {
    if p.kind == ParticipantKind::Customer {
        if call.status == CallStatus::Abandoned {
            // Still "on their way" in a closed call: only a caller given up on as never
            // arrived (a caller who left is `left`), who made it after all.
            reopen_for_late_caller(conn, call, out).await?;
        } else if call.status == CallStatus::Queued {
            // In the conference now, so routable.
            out.changed_call(call);
            out.wake_router = true;
        }
        return Ok(());
    }
    if call.status.is_final() {
        // The customer is gone; nobody should sit in an empty conference.
        if let Some(sid) = &p.call_sid {
            out.effects.push(Effect::HangUp {
                call_id: call.id,
                call_sid: sid.clone(),
            });
        }
        return Ok(());
    }
    if let Some(agent) = p.agent_id {
        set_agent_status(conn, agent, AgentStatus::Busy, out).await?;
    }
    let transfer = db::calls::active_transfer(conn, call.id)
        .await?
        .filter(|t| t.target_participant_id == Some(p.id));
    match transfer {
        Some(t) => {
            let from_still_here = match t.from_agent_id {
                Some(from) => db::calls::participants_of(conn, call.id)
                    .await?
                    .iter()
                    .any(|x| x.agent_id == Some(from) && x.status == ParticipantStatus::Connected),
                None => false,
            };
            if t.mode == TransferMode::Cold || !from_still_here {
                hand_over(conn, call, &t, p, out).await?;
            } else {
                db::calls::set_transfer_status(conn, t.id, TransferStatus::Consulting).await?;
                db::calls::record_event(
                    conn,
                    call.id,
                    "transfer_target_joined",
                    json!({ "transfer_id": t.id, "participant_id": p.id }),
                    None,
                )
                .await?;
            }
        }
        None => {
            // A routed agent answered: the call is theirs, and the customer hears them.
            let participants = db::calls::participants_of(conn, call.id).await?;
            db::calls::update_call(
                conn,
                call.id,
                CallChanges {
                    status: Some(CallStatus::InProgress),
                    owner_agent_id: if call.owner_agent_id.is_none() {
                        Some(p.agent_id)
                    } else {
                        None
                    },
                    answered_at: call.answered_at.is_none().then(Utc::now),
                    prefer_agent_id: Some(None),
                    avoid_agent_id: Some(None),
                    ..Default::default()
                },
            )
            .await?;
            // A call coming back from the queue (someone had already joined it) had the
            // customer on hold. Not `answered_at`: the answering leg's own `in-progress`
            // callback sets it before this join, and a first answer must not send Twilio a
            // needless unhold.
            let back_from_queue = participants.iter().any(|x| {
                x.id != p.id && x.kind != ParticipantKind::Customer && x.joined_at.is_some()
            });
            if let Some(c) =
                connected_customer(&participants).filter(|c| c.on_hold || back_from_queue)
            {
                set_hold(conn, call, c, false, out).await?;
            }
        }
    }
    db::calls::record_event(
        conn,
        call.id,
        "participant_joined",
        json!({ "participant_id": p.id, "agent_id": p.agent_id, "kind": p.kind }),
        None,
    )
    .await?;
    out.changed_call(call);
    Ok(())
}

/// A leg that had joined left the conference.
pub(crate) async fn leg_left(
    conn: &mut PgConn,
    call: &Call,
    p: &Participant,
    out: &mut Outcome,
) -> Result<(), DbError> {
    db::calls::record_event(
        conn,
        call.id,
        "participant_left",
        json!({ "participant_id": p.id, "agent_id": p.agent_id, "kind": p.kind }),
        None,
    )
    .await?;
    out.changed_call(call);
    if p.kind == ParticipantKind::Customer {
        return finish_call(conn, call, "customer hung up", out).await;
    }
    if let Some(agent) = p.agent_id {
        agent_leg_over(conn, agent, out).await?;
    }
    if call.status.is_final() {
        return Ok(());
    }
    let participants = db::calls::participants_of(conn, call.id).await?;
    let transfer = db::calls::active_transfer(conn, call.id).await?;

    // The transfer target left during the consultation: the transfer is off.
    if let Some(t) = transfer
        .as_ref()
        .filter(|t| t.target_participant_id == Some(p.id))
    {
        db::calls::set_transfer_status(conn, t.id, TransferStatus::Canceled).await?;
        db::calls::record_event(
            conn,
            call.id,
            "transfer_canceled",
            json!({ "transfer_id": t.id, "reason": "target left" }),
            None,
        )
        .await?;
        if let Some(c) = connected_customer(&participants) {
            set_hold(conn, call, c, false, out).await?;
        }
    }

    // Who had the call: its owning agent, or an outside number that took it over (no owning
    // agent while the call is in progress).
    let had_the_call = match p.kind {
        ParticipantKind::Agent => p.agent_id.is_some() && call.owner_agent_id == p.agent_id,
        ParticipantKind::External => call.owner_agent_id.is_none(),
        ParticipantKind::Customer => false,
    };
    if had_the_call {
        let mut others: Vec<&Participant> = participants
            .iter()
            .filter(|x| {
                x.kind != ParticipantKind::Customer
                    && x.id != p.id
                    && x.status == ParticipantStatus::Connected
            })
            .collect();
        // Colleagues take over before outside numbers.
        others.sort_by_key(|x| x.kind != ParticipantKind::Agent);
        if let Some(t) = transfer
            .as_ref()
            .filter(|t| t.target_participant_id != Some(p.id))
        {
            // The owner walked away mid-transfer: the target takes over as in a cold transfer.
            match participants
                .iter()
                .find(|x| Some(x.id) == t.target_participant_id)
            {
                Some(target) if target.status == ParticipantStatus::Connected => {
                    hand_over(conn, call, t, target, out).await?
                }
                _ => {
                    // Music while the target still rings; a customer the transfer already put
                    // on hold (cold, or warm with hold) is not asked for again.
                    if let Some(c) = connected_customer(&participants).filter(|c| !c.on_hold) {
                        set_hold(conn, call, c, true, out).await?;
                    }
                    db::calls::update_call(
                        conn,
                        call.id,
                        CallChanges {
                            owner_agent_id: Some(None),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
            }
        } else if let Some(next) = others.first() {
            if next.kind == ParticipantKind::External {
                set_ends_conference(conn, call, next, true, out).await?;
            }
            db::calls::update_call(
                conn,
                call.id,
                CallChanges {
                    owner_agent_id: Some(next.agent_id),
                    ..Default::default()
                },
            )
            .await?;
        } else {
            // Nobody else is here. An agent who left on purpose is not offered the call again;
            // one whose browser or line dropped it is offered it first, once back.
            let prefer = p.agent_id.filter(|a| call.avoid_agent_id != Some(*a));
            db::calls::update_call(
                conn,
                call.id,
                CallChanges {
                    prefer_agent_id: Some(prefer),
                    ..Default::default()
                },
            )
            .await?;
            let reason = match (p.kind, prefer) {
                (ParticipantKind::External, _) => "the outside party left",
                (_, Some(_)) => "the agent's line dropped",
                (_, None) => "the agent left",
            };
            requeue(conn, call, reason, out).await?;
        }
    }
    Ok(())
}

/// A leg ended without us seeing it join: no answer, busy, declined, failed, called off, or
/// (`Left`) answered but gone before its join was reported. `agent_at_fault` says whether the
/// agent let it ring out (they are set away) or it was no doing of theirs (they are freed).
pub(crate) async fn leg_missed(
    conn: &mut PgConn,
    call: &Call,
    p: &Participant,
    status: ParticipantStatus,
    agent_at_fault: bool,
    out: &mut Outcome,
) -> Result<(), DbError> {
    if let Some(agent) = p.agent_id {
        if agent_at_fault {
            // An agent who lets a call ring out is probably not at their desk: stop offering them calls.
            set_agent_status(conn, agent, AgentStatus::Away, out).await?;
        } else {
            release_agent(conn, agent, out).await?;
        }
    }
    db::calls::record_event(
        conn,
        call.id,
        if p.agent_id.is_some() { "agent_missed" } else { "target_missed" },
        json!({ "participant_id": p.id, "agent_id": p.agent_id, "phone": p.phone, "status": status }),
        None,
    )
    .await?;
    out.changed_call(call);
    if call.status.is_final() {
        return Ok(());
    }
    let transfer = db::calls::active_transfer(conn, call.id)
        .await?
        .filter(|t| t.target_participant_id == Some(p.id));
    match transfer {
        Some(t) => {
            db::calls::set_transfer_status(conn, t.id, TransferStatus::Failed).await?;
            db::calls::record_event(
                conn,
                call.id,
                "transfer_failed",
                json!({ "transfer_id": t.id, "status": status }),
                None,
            )
            .await?;
            let participants = db::calls::participants_of(conn, call.id).await?;
            let owner_here = participants.iter().any(|x| {
                x.agent_id.is_some()
                    && x.agent_id == call.owner_agent_id
                    && x.status == ParticipantStatus::Connected
            });
            if t.mode == TransferMode::Cold || !owner_here {
                requeue(conn, call, "the transfer target did not answer", out).await?;
            } else {
                if let Some(c) = connected_customer(&participants) {
                    set_hold(conn, call, c, false, out).await?;
                }
            }
        }
        None if call.status == CallStatus::Ringing => {
            let still_ringing = db::calls::participants_of(conn, call.id)
                .await?
                .iter()
                .any(|x| x.id != p.id && x.kind == ParticipantKind::Agent && x.status.is_pending());
            if !still_ringing {
                if status == ParticipantStatus::Left {
                    // Answered, so the conference may have started and the wait music stopped:
                    // hold the customer so they hear music, not silence.
                    requeue(conn, call, "the agent hung up on answering", out).await?;
                } else {
                    db::calls::update_call(
                        conn,
                        call.id,
                        CallChanges {
                            status: Some(CallStatus::Queued),
                            ..Default::default()
                        },
                    )
                    .await?;
                    out.wake_router = true;
                }
            }
        }
        None => {}
    }
    Ok(())
}
