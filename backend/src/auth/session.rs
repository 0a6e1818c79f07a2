//! Session tokens: short-lived HS256 JWTs naming a server-side session row, so sign-out and
//! deactivation take effect at once.

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ISSUER: &str = "warm-transfer";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The agent.
    sub: Uuid,
    /// The session row.
    sid: Uuid,
    iss: String,
    iat: i64,
    exp: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaims {
    pub agent_id: Uuid,
    pub session_id: Uuid,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("session token is invalid or expired")]
    Invalid,
    #[error("cannot sign session token: {0}")]
    Signing(String),
}

#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SessionKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue(
        &self,
        agent_id: Uuid,
        session_id: Uuid,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            sub: agent_id,
            sid: session_id,
            iss: ISSUER.into(),
            iat: issued_at.timestamp(),
            exp: expires_at.timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| TokenError::Signing(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Result<SessionClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        Ok(SessionClaims {
            agent_id: data.claims.sub,
            session_id: data.claims.sid,
            expires_at: data.claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn issued_tokens_verify_and_tampering_fails() {
        let keys = SessionKeys::new(b"0123456789abcdef0123456789abcdef");
        let (agent, session) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now();
        let token = keys
            .issue(agent, session, now, now + Duration::hours(1))
            .unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.agent_id, claims.session_id), (agent, session));

        let other = SessionKeys::new(b"another key another key another k");
        assert!(other.verify(&token).is_err());
        let mut tampered = token.clone();
        tampered.pop();
        assert!(keys.verify(&tampered).is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let keys = SessionKeys::new(b"0123456789abcdef0123456789abcdef");
        let past = Utc::now() - Duration::hours(2);
        let token = keys
            .issue(
                Uuid::new_v4(),
                Uuid::new_v4(),
                past,
                past + Duration::hours(1),
            )
            .unwrap();
        assert!(keys.verify(&token).is_err());
    }
}
