//! Agents' accounts: sign-in, sessions, presence, and administration.

use chrono::{Duration, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::auth::password;
use crate::auth::session::SessionKeys;
use crate::config::LoginLimits;
use crate::db::{self, agents::AgentChanges, DbPool};
use crate::domain::agent::{
    Agent, AgentStatus, ClientIdentity, DisplayName, Email, Password, Role, SelectableStatus,
};
use crate::domain::login::BackoffPolicy;

pub struct SignedIn {
    pub token: String,
    pub expires_at: chrono::DateTime<Utc>,
    pub agent: Agent,
}

fn hashing_error(e: password::HashError) -> ServiceError {
    match e {
        password::HashError::Busy => ServiceError::Busy {
            retry_after_secs: 1,
        },
        password::HashError::Failed(detail) => ServiceError::Internal(detail),
    }
}

async fn off_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ServiceResult<T> {
    password::off_thread(f).await.map_err(hashing_error)
}

/// Sign-in input no agent's credentials can take: too long, or an email with control characters
/// (a NUL can't even be stored). Refused before any work.
fn check_login_input(raw_email: &str, password: &str) -> ServiceResult<()> {
    if raw_email.trim().len() > Email::MAX_LEN {
        return Err(ServiceError::Malformed(format!(
            "email: must be at most {} characters",
            Email::MAX_LEN
        )));
    }
    if raw_email.chars().any(char::is_control) {
        return Err(ServiceError::Malformed(
            "email: must not contain control characters".into(),
        ));
    }
    if password.len() > Password::MAX_SIGN_IN_BYTES {
        return Err(ServiceError::Malformed(format!(
            "password: must be at most {} bytes",
            Password::MAX_SIGN_IN_BYTES
        )));
    }
    Ok(())
}

/// Signs an agent in. Failures are counted per (email, client address): past the free ones,
/// each doubles the wait before that address may try that email again (429 with
/// `Retry-After`, whatever the password), up to a cap. A stranger guessing from one address
/// never slows the owner signing in from another. An address failing across many emails waits
/// too, past four times the free failures.
///
/// Every attempt is recorded as a failure, under a lock on its email and address, before the
/// password is checked (and cleared when it turns out right), so simultaneous guesses can't
/// slip past the limit. No database connection is held while the password is checked, and
/// when the password checkers are saturated the caller is told to come back (503) at once.
pub async fn login(
    pool: &DbPool,
    keys: &SessionKeys,
    limits: &LoginLimits,
    session_ttl: std::time::Duration,
    raw_email: &str,
    password: String,
    client_ip: &str,
) -> ServiceResult<SignedIn> {
    check_login_input(raw_email, &password)?;
    let slot = password::Slot::try_take().map_err(hashing_error)?;
    let email = Email::parse(raw_email).ok();
    // An unparseable email can't match an agent; count it under its raw text.
    let email_key = email
        .as_ref()
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|| raw_email.trim().to_lowercase());

    let now = Utc::now();
    let window = Duration::from_std(limits.window).unwrap_or(Duration::hours(1));
    let found = {
        let mut conn = pool.get().await.map_err(db::DbError::from)?;
        let (email_key, email) = (&email_key, &email);
        conn.transaction::<_, ServiceError, _>(async |conn| {
            db::sessions::lock_login_attempts(conn, email_key, client_ip).await?;
            let recent =
                db::sessions::recent_login_failures(conn, email_key, client_ip, now - window)
                    .await?;
            let wait = |failures: db::sessions::FailureCount, policy: BackoffPolicy| {
                let since_latest = failures.latest.map_or(std::time::Duration::MAX, |at| {
                    (now - at).to_std().unwrap_or_default()
                });
                policy.wait(
                    u32::try_from(failures.count).unwrap_or(u32::MAX),
                    since_latest,
                )
            };
            let pair_wait = wait(recent.pair, limits.backoff);
            let address_wait = wait(recent.address, limits.backoff.for_address());
            let must_wait = pair_wait.max(address_wait);
            if !must_wait.is_zero() {
                return Err(ServiceError::TooManyAttempts {
                    retry_after_secs: must_wait.as_secs_f64().ceil().max(1.0) as u64,
                });
            }
            db::sessions::record_login_failure(conn, email_key, client_ip).await?;
            Ok(match email {
                Some(email) => db::agents::find_credentials(conn, email).await?,
                None => None,
            })
        })
        .await?
    };

    let (agent, hash) = match found {
        Some((agent, hash)) if agent.active => (Some(agent), hash),
        _ => (None, password::decoy_hash().to_owned()),
    };
    let matches = password::run(slot, move || password::verify(&password, &hash))
        .await
        .map_err(hashing_error)?;
    let Some(agent) = agent.filter(|_| matches) else {
        return Err(ServiceError::InvalidCredentials);
    };

    let expires_at = now + Duration::from_std(session_ttl).unwrap_or(Duration::hours(8));
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    let session_id = conn
        .transaction::<_, ServiceError, _>(async |conn| {
            db::sessions::clear_login_failures(conn, &email_key, client_ip).await?;
            Ok(db::sessions::create(conn, agent.id, expires_at).await?)
        })
        .await?;
    drop(conn);
    let token = keys
        .issue(agent.id, session_id, now, expires_at)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    tracing::info!(agent_id = %agent.id, "agent signed in");
    Ok(SignedIn {
        token,
        expires_at,
        agent,
    })
}

/// Resolves a bearer token to the agent behind a live session.
pub async fn authenticate(
    pool: &DbPool,
    keys: &SessionKeys,
    token: &str,
) -> ServiceResult<(Agent, Uuid)> {
    let claims = keys
        .verify(token)
        .map_err(|_| ServiceError::Unauthenticated)?;
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    let agent = db::sessions::find_active_agent(&mut conn, claims.session_id)
        .await?
        .filter(|a| a.id == claims.agent_id)
        .ok_or(ServiceError::Unauthenticated)?;
    Ok((agent, claims.session_id))
}

/// Ends the session; the agent goes offline so the router stops offering them calls. An agent
/// on a call (or being rung) is refused unless `handing_back`: then the caller is about to take
/// them off the call, and the call goes to a colleague.
pub async fn logout(
    pool: &DbPool,
    agent: &Agent,
    session_id: Uuid,
    handing_back: bool,
) -> ServiceResult<()> {
    if agent.status.is_engaged() && !handing_back {
        return Err(ServiceError::Conflict(
            "you are on a call: hang up, transfer or leave it first, or sign out with \
             hand_back=true to send the caller back to the queue for a colleague"
                .into(),
        ));
    }
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    db::sessions::revoke(&mut conn, session_id).await?;
    db::agents::set_status(&mut conn, agent.id, AgentStatus::Offline).await?;
    Ok(())
}

/// Signs an agent out for a supervisor: every session of theirs ends and they go offline (the
/// caller then hands back a call they are on, so its customer goes to a colleague). Refused when
/// there is nothing to sign out of: no live session and already offline.
pub async fn sign_out_agent(pool: &DbPool, id: Uuid) -> ServiceResult<Agent> {
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    conn.transaction::<_, ServiceError, _>(async |conn| {
        let agent = db::agents::lock(conn, id)
            .await?
            .ok_or(ServiceError::NotFound("agent"))?;
        let ended = db::sessions::revoke_all_for_agent(conn, id).await?;
        if ended == 0 && agent.status == AgentStatus::Offline {
            return Err(ServiceError::Conflict(format!(
                "{} is already signed out",
                agent.display_name.as_str()
            )));
        }
        db::agents::set_status(conn, id, AgentStatus::Offline)
            .await?
            .ok_or(ServiceError::NotFound("agent"))
    })
    .await
}

pub async fn set_own_status(
    pool: &DbPool,
    agent: &Agent,
    status: SelectableStatus,
    reason: Option<&str>,
) -> ServiceResult<Agent> {
    if agent.status.is_engaged() {
        return Err(ServiceError::Conflict(format!(
            "you are {} on a call; your status changes when the call ends",
            agent.status
        )));
    }
    if reason.is_some() && status != SelectableStatus::Away {
        return Err(ServiceError::BadInput(crate::domain::ValidationError::new(
            "reason",
            "only away takes a reason",
        )));
    }
    // Available from wrap-up is finishing it, by the wrap-up rules (a required disposition).
    if status == SelectableStatus::Available && agent.status == AgentStatus::WrapUp {
        crate::services::presence::request_wrap_up(
            pool,
            agent.id,
            crate::domain::presence::WrapUpRequest::Finish,
        )
        .await?;
        let mut conn = pool.get().await.map_err(db::DbError::from)?;
        return db::agents::find(&mut conn, agent.id)
            .await?
            .ok_or(ServiceError::NotFound("agent"));
    }
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    let reason = match reason {
        Some(r) => Some(crate::services::presence::check_away_reason(&mut conn, r).await?),
        None => None,
    };
    conn.transaction::<_, ServiceError, _>(async |conn| {
        db::agents::set_status(conn, agent.id, status.into())
            .await?
            .ok_or(ServiceError::NotFound("agent"))?;
        if status == SelectableStatus::Away {
            db::presence::set_away_reason(conn, agent.id, reason.as_deref()).await?;
        }
        db::agents::find(conn, agent.id)
            .await?
            .ok_or(ServiceError::NotFound("agent"))
    })
    .await
}

pub struct NewAgentInput {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub client_identity: Option<String>,
}

pub async fn create_agent(pool: &DbPool, input: NewAgentInput) -> ServiceResult<Agent> {
    let email = Email::parse(&input.email)?;
    let display_name = DisplayName::parse(&input.display_name)?;
    let password = Password::parse(&input.password)?;
    let client_identity = match input.client_identity.as_deref() {
        Some(raw) => ClientIdentity::parse(raw)?,
        None => {
            ClientIdentity::derive_from_email(&email, &Uuid::new_v4().simple().to_string()[..6])
        }
    };
    let hash = off_thread(move || password::hash(&password))
        .await?
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    let agent = db::agents::insert(
        &mut conn,
        db::agents::NewAgent {
            email: &email,
            display_name: &display_name,
            password_hash: &hash,
            role: input.role,
            client_identity: &client_identity,
        },
    )
    .await?;
    tracing::info!(agent_id = %agent.id, role = %agent.role, "agent created");
    Ok(agent)
}

#[derive(Default)]
pub struct AgentUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub password: Option<String>,
    pub active: Option<bool>,
}

pub async fn update_agent(
    pool: &DbPool,
    actor: &Agent,
    id: Uuid,
    update: AgentUpdate,
) -> ServiceResult<Agent> {
    let demoting = update.role.is_some_and(|r| !r.may_manage());
    if id == actor.id && (update.active == Some(false) || demoting) {
        return Err(ServiceError::Conflict(
            "you cannot deactivate or demote yourself".into(),
        ));
    }
    let display_name = update
        .display_name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()?;
    let password = update
        .password
        .as_deref()
        .map(Password::parse)
        .transpose()?;
    let hash = match password {
        Some(p) => Some(
            off_thread(move || password::hash(&p))
                .await?
                .map_err(hashing_error)?,
        ),
        None => None,
    };
    let deactivating = update.active == Some(false);
    let removing_an_admin = deactivating || demoting;
    let changes = AgentChanges {
        display_name: display_name.as_ref().map(DisplayName::as_str),
        role: update.role,
        password_hash: hash.as_deref(),
        active: update.active,
        // A deactivated agent leaves routing at once.
        status: deactivating.then_some(AgentStatus::Offline),
        status_changed_at: deactivating.then(Utc::now),
        ..Default::default()
    };
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    let agent = conn
        .transaction::<_, ServiceError, _>(async |conn| {
            if removing_an_admin {
                // The active admins stay locked until the change commits, so two admins removing
                // each other at once are judged one after the other.
                let admins = db::agents::lock_active_admins(conn).await?;
                if admins.contains(&id) && !admins.iter().any(|a| *a != id) {
                    return Err(ServiceError::Conflict(
                        "this is the last active admin; make someone else an admin first".into(),
                    ));
                }
                if !admins.contains(&actor.id) {
                    return Err(ServiceError::Forbidden(
                        "you are no longer an active admin".into(),
                    ));
                }
            }
            let agent = db::agents::update(conn, id, changes)
                .await?
                .ok_or(ServiceError::NotFound("agent"))?;
            if deactivating || hash.is_some() {
                db::sessions::revoke_all_for_agent(conn, id).await?;
            }
            Ok(agent)
        })
        .await?;
    Ok(agent)
}

pub async fn deactivate_agent(pool: &DbPool, actor: &Agent, id: Uuid) -> ServiceResult<Agent> {
    update_agent(
        pool,
        actor,
        id,
        AgentUpdate {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
}

pub async fn list_agents(pool: &DbPool, include_inactive: bool) -> ServiceResult<Vec<Agent>> {
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    Ok(db::agents::list(&mut conn, include_inactive).await?)
}

/// Forgets an agent's failed sign-ins from every address, so they can sign in at once (an
/// admin's decision, e.g. after a guessing attack from the office's own address). Returns how
/// many failures were forgotten.
pub async fn unlock_agent(pool: &DbPool, id: Uuid) -> ServiceResult<u64> {
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    let agent = db::agents::find(&mut conn, id)
        .await?
        .ok_or(ServiceError::NotFound("agent"))?;
    Ok(db::sessions::clear_all_login_failures(&mut conn, agent.email.as_str()).await?)
}

pub async fn get_agent(pool: &DbPool, id: Uuid) -> ServiceResult<Agent> {
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    db::agents::find(&mut conn, id)
        .await?
        .ok_or(ServiceError::NotFound("agent"))
}

/// The agents among `ids` that exist, in one query.
pub async fn get_agents(pool: &DbPool, ids: &[Uuid]) -> ServiceResult<Vec<Agent>> {
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    Ok(db::agents::find_many(&mut conn, ids).await?)
}

/// Who to create in an empty database.
pub struct Seed {
    pub admin_email: String,
    /// Generated when `None`.
    pub admin_password: Option<String>,
    /// Demo mode: two agents to try transfers with, sharing this password (generated when `None`).
    pub demo_agents: Option<Option<String>>,
}

pub struct Seeded {
    pub agent: Agent,
    pub password: String,
}

/// Seeds an empty database (first start); does nothing otherwise. Returns who it created, with
/// their passwords, so the console can show them exactly once.
pub async fn seed_if_empty(pool: &DbPool, seed: Seed) -> ServiceResult<Vec<Seeded>> {
    let mut conn = pool.get().await.map_err(db::DbError::from)?;
    if db::agents::count(&mut conn).await? > 0 {
        return Ok(Vec::new());
    }
    drop(conn);
    let mut plan = vec![(
        seed.admin_email,
        "Administrator".to_owned(),
        seed.admin_password.unwrap_or_else(generate_password),
        Role::Admin,
    )];
    if let Some(password) = seed.demo_agents {
        let password = password.unwrap_or_else(generate_password);
        plan.push((
            "agent1@example.com".into(),
            "Agent One".into(),
            password.clone(),
            Role::Agent,
        ));
        plan.push((
            "agent2@example.com".into(),
            "Agent Two".into(),
            password,
            Role::Agent,
        ));
    }
    let mut created = Vec::new();
    for (email, display_name, password, role) in plan {
        let agent = create_agent(
            pool,
            NewAgentInput {
                email,
                display_name,
                password: password.clone(),
                role,
                client_identity: None,
            },
        )
        .await?;
        created.push(Seeded { agent, password });
    }
    Ok(created)
}

/// A random, readable password (about 120 bits).
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..4)
        .map(|_| {
            (0..5)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}
