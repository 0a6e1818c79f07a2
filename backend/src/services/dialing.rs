//! The dialing policy: reading and saving it (admins), and screening each outside dial.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::{self, DbPool, PgConn};
use crate::domain::agent::Agent;
use crate::domain::dialing::{
    self, CallingCode, DialRefusal, DialRequest, DialingPolicy, PolicyInput,
};
use crate::domain::engine::{DialDecision, TimelineEvent};
use crate::domain::phone::PhoneNumber;
use crate::services::{ServiceError, ServiceResult};

/// The policy in force, and whether an admin has saved one.
#[derive(Debug, Clone)]
pub struct PolicyInForce {
    pub policy: DialingPolicy,
    /// The country of our Twilio number; dials elsewhere are international.
    pub home: CallingCode,
    /// No policy saved yet: the built-in default (the home country only) applies.
    pub is_default: bool,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

/// The country calling code of our own Twilio number.
pub fn home_country(own_number: &PhoneNumber) -> ServiceResult<CallingCode> {
    CallingCode::of(own_number).ok_or_else(|| {
        ServiceError::Internal(format!(
            "the Twilio number {own_number} has no known country calling code"
        ))
    })
}

async fn in_force(conn: &mut PgConn, own_number: &PhoneNumber) -> ServiceResult<PolicyInForce> {
    let home = home_country(own_number)?;
    Ok(match db::dialing::load_policy(conn).await? {
        Some(stored) => PolicyInForce {
            policy: stored.policy,
            home,
            is_default: false,
            updated_at: Some(stored.updated_at),
            updated_by: stored.updated_by,
        },
        None => PolicyInForce {
            policy: DialingPolicy::default_for(home),
            home,
            is_default: true,
            updated_at: None,
            updated_by: None,
        },
    })
}

pub async fn get_policy(pool: &DbPool, own_number: &PhoneNumber) -> ServiceResult<PolicyInForce> {
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    in_force(&mut conn, own_number).await
}

/// Replaces the policy. Only admins get here (the handler checks the role).
pub async fn save_policy(
    pool: &DbPool,
    own_number: &PhoneNumber,
    admin: &Agent,
    input: PolicyInput<'_>,
) -> ServiceResult<PolicyInForce> {
    if !admin.is_admin() {
        return Err(ServiceError::Forbidden(
            "changing the dialing policy needs the admin role".into(),
        ));
    }
    let policy = DialingPolicy::parse(input)?;
    let home = home_country(own_number)?;
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    let stored = db::dialing::save_policy(&mut conn, &policy, admin.id).await?;
    tracing::info!(admin = %admin.id, "dialing policy changed");
    Ok(PolicyInForce {
        policy: stored.policy,
        home,
        is_default: false,
        updated_at: Some(stored.updated_at),
        updated_by: stored.updated_by,
    })
}

/// Decides whether `actor` may dial `number` on `call_id` now, inside the caller's transaction
/// (which holds the call's row lock), and records the decision in the dial log and the call's
/// timeline. A refusal is returned as a value so the caller can commit its record and then
/// refuse the request.
pub async fn screen_outside_dial(
    conn: &mut PgConn,
    own_number: &PhoneNumber,
    actor: &Agent,
    call_id: Uuid,
    number: &PhoneNumber,
) -> ServiceResult<Result<(), DialRefusal>> {
    let force = in_force(conn, own_number).await?;
    db::dialing::lock_agent_dials(conn, actor.id).await?;
    let now = Utc::now();
    let recent =
        db::dialing::recent_counts(conn, actor.id, call_id, now - dialing::AGENT_WINDOW).await?;
    let decision = dialing::check(
        DialRequest {
            number,
            role: actor.role,
            home: force.home,
        },
        &force.policy,
        &recent,
        now,
    );
    let refusal = decision.as_ref().err();
    db::dialing::record_dial(
        conn,
        call_id,
        actor.id,
        number.as_str(),
        refusal.map(DialRefusal::code),
    )
    .await?;
    let attempt = TimelineEvent::OutsideDial {
        by: actor.id,
        by_role: actor.role,
        number: number.clone(),
        decision: if refusal.is_some() {
            DialDecision::Refused
        } else {
            DialDecision::Allowed
        },
        reason: refusal.map(|r| r.code().into()),
        message: refusal.map(ToString::to_string),
    };
    db::calls::record_event(conn, call_id, &attempt, None).await?;
    if let Some(refusal) = refusal {
        tracing::warn!(agent = %actor.id, %call_id, %number, reason = refusal.code(), "outside dial refused");
    }
    Ok(decision)
}
