//! Twilio Voice access tokens: what the browser's Voice SDK `Device` registers with.
//!
//! The format is Twilio's "FPA" JWT: HS256, signed with an API key secret (never the auth token),
//! header `cty: twilio-fpa;v=1`, `iss` = API key SID, `sub` = account SID,
//! `jti` = `<API key SID>-<issued-at>`, `nbf` = issued-at, `exp` = issued-at + TTL, and a `grants`
//! object holding the client identity and the Voice grant. The test vectors in
//! `shared/twilio/vectors.json` come from Twilio's own helper library; the decoded header and
//! claims are the contract, not the byte order of the JSON.
//!
//! `issued_at` is a parameter rather than read from the clock so tokens are reproducible in tests
//! and the caller owns the notion of "now".

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// JWT content type Twilio requires on access tokens.
pub const TWILIO_TOKEN_CONTENT_TYPE: &str = "twilio-fpa;v=1";

/// Twilio rejects access tokens that live longer than 24 hours.
pub const MAX_TTL_SECS: u64 = 24 * 60 * 60;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("access token TTL of {requested_secs} s exceeds Twilio's maximum of {max_secs} s")]
    TtlTooLong { requested_secs: u64, max_secs: u64 },
    #[error("access token TTL must be at least one second")]
    ZeroTtl,
    #[error("access token identity must not be empty")]
    EmptyIdentity,
    #[error("access token issued-at {issued_at} plus TTL overflows a timestamp")]
    TimestampOverflow { issued_at: i64 },
    #[error("access token content type is {found:?}, expected {TWILIO_TOKEN_CONTENT_TYPE:?}")]
    WrongContentType { found: Option<String> },
    #[error("access token is not valid before {not_before} (now {now})")]
    NotYetValid { not_before: i64, now: i64 },
    #[error("access token expired at {expires_at} (now {now})")]
    Expired { expires_at: i64, now: i64 },
    #[error("access token could not be encoded or verified: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

/// What a Voice access token lets its holder do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceGrant {
    /// The client identity: calls to `client:<identity>` ring this token's `Device`.
    pub identity: String,
    /// TwiML app whose voice URL handles calls the browser places; `None` forbids outgoing calls.
    pub outgoing_application_sid: Option<String>,
    /// Whether the `Device` may receive calls; agents need this to be rung by the router.
    pub incoming_allow: bool,
}

/// The decoded claims of a Twilio access token (the JSON payload of the JWT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub jti: String,
    pub iss: String,
    pub sub: String,
    pub nbf: i64,
    pub exp: i64,
    pub grants: Grants,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    pub identity: String,
    pub voice: VoiceGrantClaims,
}

/// The `grants.voice` object. Absent members are omitted rather than serialised as `null`, the
/// way Twilio's helper libraries emit them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceGrantClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoming: Option<IncomingGrant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outgoing: Option<OutgoingGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingGrant {
    pub allow: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingGrant {
    pub application_sid: String,
}

/// The token an agent's browser needs: incoming calls allowed, outgoing calls through the TwiML app.
pub fn voice_access_token(
    account_sid: &str,
    api_key_sid: &str,
    api_key_secret: &str,
    identity: &str,
    twiml_app_sid: &str,
    issued_at: i64,
    ttl_secs: u64,
) -> Result<String, TokenError> {
    let grant = VoiceGrant {
        identity: identity.to_owned(),
        outgoing_application_sid: Some(twiml_app_sid.to_owned()),
        incoming_allow: true,
    };
    encode_access_token(
        account_sid,
        api_key_sid,
        api_key_secret,
        &grant,
        issued_at,
        ttl_secs,
    )
}

/// Builds and signs an access token for an arbitrary [`VoiceGrant`].
///
/// Errors rather than clamps when `ttl_secs` exceeds [`MAX_TTL_SECS`]: a silently shortened token
/// would expire before the caller expects, which is harder to debug than a configuration error.
pub fn encode_access_token(
    account_sid: &str,
    api_key_sid: &str,
    api_key_secret: &str,
    grant: &VoiceGrant,
    issued_at: i64,
    ttl_secs: u64,
) -> Result<String, TokenError> {
    if ttl_secs == 0 {
        return Err(TokenError::ZeroTtl);
    }
    if ttl_secs > MAX_TTL_SECS {
        return Err(TokenError::TtlTooLong {
            requested_secs: ttl_secs,
            max_secs: MAX_TTL_SECS,
        });
    }
    if grant.identity.is_empty() {
        return Err(TokenError::EmptyIdentity);
    }
    let expires_at = i64::try_from(ttl_secs)
        .ok()
        .and_then(|ttl| issued_at.checked_add(ttl))
        .ok_or(TokenError::TimestampOverflow { issued_at })?;

    let claims = AccessTokenClaims {
        jti: format!("{api_key_sid}-{issued_at}"),
        iss: api_key_sid.to_owned(),
        sub: account_sid.to_owned(),
        nbf: issued_at,
        exp: expires_at,
        grants: Grants {
            identity: grant.identity.clone(),
            voice: VoiceGrantClaims {
                incoming: grant
                    .incoming_allow
                    .then_some(IncomingGrant { allow: true }),
                outgoing: grant
                    .outgoing_application_sid
                    .as_ref()
                    .map(|sid| OutgoingGrant {
                        application_sid: sid.clone(),
                    }),
            },
        },
    };
    let header = Header {
        cty: Some(TWILIO_TOKEN_CONTENT_TYPE.to_owned()),
        ..Header::new(Algorithm::HS256)
    };
    Ok(jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(api_key_secret.as_bytes()),
    )?)
}

/// Verifies a token's signature, content type and validity window at `now` (unix seconds), and
/// returns its claims. This is what Twilio does on `Device` registration; the simulator uses it so
/// demo mode rejects the same tokens Twilio would.
///
/// No clock leeway: the caller passes `now` and can add its own skew allowance.
pub fn verify_access_token(
    token: &str,
    api_key_secret: &str,
    now: i64,
) -> Result<AccessTokenClaims, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // Time checks are done below against the caller's `now`, not the system clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();

    let decoded = jsonwebtoken::decode::<AccessTokenClaims>(
        token,
        &DecodingKey::from_secret(api_key_secret.as_bytes()),
        &validation,
    )?;
    if decoded.header.cty.as_deref() != Some(TWILIO_TOKEN_CONTENT_TYPE) {
        return Err(TokenError::WrongContentType {
            found: decoded.header.cty,
        });
    }
    let claims = decoded.claims;
    if now < claims.nbf {
        return Err(TokenError::NotYetValid {
            not_before: claims.nbf,
            now,
        });
    }
    if now >= claims.exp {
        return Err(TokenError::Expired {
            expires_at: claims.exp,
            now,
        });
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::{json, Value};

    const VECTORS_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/twilio/vectors.json"
    );

    struct TokenVector {
        name: String,
        account_sid: String,
        api_key_sid: String,
        api_key_secret: String,
        identity: String,
        twiml_app_sid: String,
        issued_at: i64,
        ttl: u64,
        jwt: String,
        header: Value,
        claims: Value,
    }

    fn token_vectors() -> Vec<TokenVector> {
        let text = std::fs::read_to_string(VECTORS_PATH)
            .unwrap_or_else(|error| panic!("cannot read {VECTORS_PATH}: {error}"));
        let vectors: Value = serde_json::from_str(&text).expect("vectors.json is valid JSON");
        let entries = vectors["access_tokens"]
            .as_array()
            .expect("vectors.json has an access_tokens array");
        assert!(
            !entries.is_empty(),
            "vectors.json has no access token vectors"
        );
        entries
            .iter()
            .map(|entry| {
                let text = |field: &str| {
                    entry[field]
                        .as_str()
                        .unwrap_or_else(|| panic!("vector lacks {field}"))
                        .to_owned()
                };
                TokenVector {
                    name: text("name"),
                    account_sid: text("account_sid"),
                    api_key_sid: text("api_key_sid"),
                    api_key_secret: text("api_key_secret"),
                    identity: text("identity"),
                    twiml_app_sid: text("twiml_app_sid"),
                    issued_at: entry["issued_at"]
                        .as_i64()
                        .expect("issued_at is an integer"),
                    ttl: entry["ttl"].as_u64().expect("ttl is an integer"),
                    jwt: text("jwt"),
                    header: entry["header"].clone(),
                    claims: entry["claims"].clone(),
                }
            })
            .collect()
    }

    /// Decodes a JWT's header and payload as raw JSON, without trusting any library's model of
    /// them, so the comparison covers every member (including ones a typed header would drop).
    fn raw_header_and_claims(jwt: &str) -> (Value, Value) {
        let mut segments = jwt.split('.');
        let mut decode_segment = |what: &str| -> Value {
            let segment = segments
                .next()
                .unwrap_or_else(|| panic!("JWT lacks its {what}"));
            let bytes = URL_SAFE_NO_PAD
                .decode(segment)
                .unwrap_or_else(|error| panic!("JWT {what} is not base64url: {error}"));
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|error| panic!("JWT {what} is not JSON: {error}"))
        };
        let header = decode_segment("header");
        let claims = decode_segment("payload");
        assert!(segments.next().is_some(), "JWT lacks its signature");
        assert!(
            segments.next().is_none(),
            "JWT has more than three segments"
        );
        (header, claims)
    }

    fn token_for(vector: &TokenVector) -> String {
        voice_access_token(
            &vector.account_sid,
            &vector.api_key_sid,
            &vector.api_key_secret,
            &vector.identity,
            &vector.twiml_app_sid,
            vector.issued_at,
            vector.ttl,
        )
        .unwrap_or_else(|error| panic!("vector {:?}: {error}", vector.name))
    }

    #[test]
    fn our_tokens_decode_to_the_official_header_and_claims() {
        for vector in token_vectors() {
            let (header, claims) = raw_header_and_claims(&token_for(&vector));
            assert_eq!(header, vector.header, "vector {:?}: header", vector.name);
            assert_eq!(claims, vector.claims, "vector {:?}: claims", vector.name);
        }
    }

    #[test]
    fn official_tokens_decode_to_the_vectors_header_and_claims() {
        // Guards the comparison above: the vector's own JWT must decode to its stated contract.
        for vector in token_vectors() {
            let (header, claims) = raw_header_and_claims(&vector.jwt);
            assert_eq!(header, vector.header, "vector {:?}: header", vector.name);
            assert_eq!(claims, vector.claims, "vector {:?}: claims", vector.name);
        }
    }

    #[test]
    fn our_tokens_verify_with_the_api_key_secret() {
        for vector in token_vectors() {
            let token = token_for(&vector);
            let claims = verify_access_token(&token, &vector.api_key_secret, vector.issued_at)
                .unwrap_or_else(|error| panic!("vector {:?}: {error}", vector.name));
            assert_eq!(claims.grants.identity, vector.identity);
            assert_eq!(claims.exp - claims.nbf, i64::try_from(vector.ttl).unwrap());

            let wrong_secret = format!("{}x", vector.api_key_secret);
            assert!(
                matches!(
                    verify_access_token(&token, &wrong_secret, vector.issued_at),
                    Err(TokenError::Jwt(_))
                ),
                "vector {:?}: a wrong secret must fail",
                vector.name
            );
        }
    }

    #[test]
    fn official_tokens_verify_with_our_decoder() {
        for vector in token_vectors() {
            let claims = verify_access_token(&vector.jwt, &vector.api_key_secret, vector.issued_at)
                .unwrap_or_else(|error| panic!("vector {:?}: {error}", vector.name));
            let as_json = serde_json::to_value(&claims).expect("claims serialise");
            assert_eq!(as_json, vector.claims, "vector {:?}", vector.name);
        }
    }

    #[test]
    fn verification_enforces_the_validity_window() {
        let vector = token_vectors().remove(0);
        let token = token_for(&vector);
        let expires_at = vector.issued_at + i64::try_from(vector.ttl).unwrap();
        assert!(matches!(
            verify_access_token(&token, &vector.api_key_secret, vector.issued_at - 1),
            Err(TokenError::NotYetValid { .. })
        ));
        assert!(verify_access_token(&token, &vector.api_key_secret, expires_at - 1).is_ok());
        assert!(matches!(
            verify_access_token(&token, &vector.api_key_secret, expires_at),
            Err(TokenError::Expired { .. })
        ));
    }

    #[test]
    fn verification_rejects_a_tampered_payload() {
        let vector = token_vectors().remove(0);
        let token = token_for(&vector);
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut claims = raw_header_and_claims(&token).1;
        claims["grants"]["identity"] = json!("someone-else");
        let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        parts[1] = &forged_payload;
        let forged = parts.join(".");
        assert!(matches!(
            verify_access_token(&forged, &vector.api_key_secret, vector.issued_at),
            Err(TokenError::Jwt(_))
        ));
    }

    #[test]
    fn verification_rejects_a_token_without_the_twilio_content_type() {
        let claims = json!({
            "jti": "SK1-1", "iss": "SK1", "sub": "AC1", "nbf": 100, "exp": 200,
            "grants": {"identity": "a", "voice": {}}
        });
        let plain_jwt = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(matches!(
            verify_access_token(&plain_jwt, "secret", 150),
            Err(TokenError::WrongContentType { found: None })
        ));
    }

    #[test]
    fn ttl_is_capped_at_24_hours() {
        let issue = |ttl| voice_access_token("AC1", "SK1", "secret", "agent", "AP1", 1_000, ttl);
        assert!(issue(MAX_TTL_SECS).is_ok());
        assert!(matches!(
            issue(MAX_TTL_SECS + 1),
            Err(TokenError::TtlTooLong {
                requested_secs: 86_401,
                max_secs: 86_400
            })
        ));
        assert!(matches!(issue(0), Err(TokenError::ZeroTtl)));
    }

    #[test]
    fn empty_identity_is_rejected() {
        assert!(matches!(
            voice_access_token("AC1", "SK1", "secret", "", "AP1", 1_000, 60),
            Err(TokenError::EmptyIdentity)
        ));
    }

    #[test]
    fn timestamp_overflow_is_an_error_not_a_panic() {
        assert!(matches!(
            voice_access_token("AC1", "SK1", "secret", "agent", "AP1", i64::MAX - 5, 60),
            Err(TokenError::TimestampOverflow { .. })
        ));
    }

    #[test]
    fn grant_members_are_omitted_when_not_granted() {
        let grant = VoiceGrant {
            identity: "listener".to_owned(),
            outgoing_application_sid: None,
            incoming_allow: false,
        };
        let token = encode_access_token("AC1", "SK1", "secret", &grant, 1_000, 60).unwrap();
        let (_, claims) = raw_header_and_claims(&token);
        assert_eq!(
            claims["grants"],
            json!({"identity": "listener", "voice": {}})
        );

        let incoming_only = VoiceGrant {
            incoming_allow: true,
            ..grant
        };
        let token = encode_access_token("AC1", "SK1", "secret", &incoming_only, 1_000, 60).unwrap();
        let (_, claims) = raw_header_and_claims(&token);
        assert_eq!(
            claims["grants"]["voice"],
            json!({"incoming": {"allow": true}})
        );
    }
}
