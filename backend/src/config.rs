//! Configuration: every setting comes from the environment into one typed struct, validated once
//! at start. Each error names the variable at fault so an operator can fix it without reading code.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::client_addr::TrustedProxies;
use crate::domain::login::BackoffPolicy;
use crate::domain::phone::PhoneNumber;
use twilio::sid::{AccountSid, ApiKeySid, TwimlAppSid};

/// Names of the variables, in one place so messages, docs and tests agree.
pub mod vars {
    pub const APP_ENV: &str = "APP_ENV";
    pub const APP_HOST: &str = "APP_HOST";
    pub const APP_PORT: &str = "APP_PORT";
    pub const DATABASE_URL: &str = "DATABASE_URL";
    pub const DATABASE_POOL_SIZE: &str = "DATABASE_POOL_SIZE";
    pub const SESSION_SECRET: &str = "SESSION_SECRET";
    pub const SESSION_TTL_SECONDS: &str = "SESSION_TTL_SECONDS";
    pub const DATA_DIR: &str = "DATA_DIR";
    pub const STATIC_DIR: &str = "STATIC_DIR";
    pub const CORS_ALLOWED_ORIGINS: &str = "CORS_ALLOWED_ORIGINS";
    pub const LOG_FORMAT: &str = "LOG_FORMAT";
    /// Read by the log filter (tracing-subscriber's EnvFilter).
    pub const RUST_LOG: &str = "RUST_LOG";
    pub const LOGIN_MAX_FAILURES: &str = "LOGIN_MAX_FAILURES";
    pub const LOGIN_WINDOW_SECONDS: &str = "LOGIN_WINDOW_SECONDS";
    pub const RING_TIMEOUT_SECONDS: &str = "RING_TIMEOUT_SECONDS";
    pub const STALE_LEG_SECONDS: &str = "STALE_LEG_SECONDS";
    pub const LIVE_LEG_CHECK_SECONDS: &str = "LIVE_LEG_CHECK_SECONDS";
    pub const DEMO_ADMIN_EMAIL: &str = "DEMO_ADMIN_EMAIL";
    pub const DEMO_ADMIN_PASSWORD: &str = "DEMO_ADMIN_PASSWORD";
    pub const DEMO_AGENT_PASSWORD: &str = "DEMO_AGENT_PASSWORD";
    pub const PUBLIC_BASE_URL: &str = "PUBLIC_BASE_URL";
    pub const TWILIO_ACCOUNT_SID: &str = "TWILIO_ACCOUNT_SID";
    pub const TWILIO_AUTH_TOKEN: &str = "TWILIO_AUTH_TOKEN";
    pub const TWILIO_API_KEY_SID: &str = "TWILIO_API_KEY_SID";
    pub const TWILIO_API_KEY_SECRET: &str = "TWILIO_API_KEY_SECRET";
    pub const TWILIO_TWIML_APP_SID: &str = "TWILIO_TWIML_APP_SID";
    pub const TWILIO_PHONE_NUMBER: &str = "TWILIO_PHONE_NUMBER";
    pub const TWILIO_API_BASE_URL: &str = "TWILIO_API_BASE_URL";
    pub const CUSTOMER_JOIN_TIMEOUT_SECONDS: &str = "CUSTOMER_JOIN_TIMEOUT_SECONDS";
    pub const DEMO_MODE: &str = "DEMO_MODE";
    pub const METRICS_TOKEN: &str = "METRICS_TOKEN";
    pub const LOGIN_BACKOFF_MAX_SECONDS: &str = "LOGIN_BACKOFF_MAX_SECONDS";
    pub const TRUSTED_PROXIES: &str = "TRUSTED_PROXIES";
    pub const EVENT_STREAMS_PER_SESSION: &str = "EVENT_STREAMS_PER_SESSION";
    pub const EVENT_STREAMS_MAX: &str = "EVENT_STREAMS_MAX";
    pub const SHUTDOWN_GRACE_SECONDS: &str = "SHUTDOWN_GRACE_SECONDS";
    pub const SHUTDOWN_DELAY_SECONDS: &str = "SHUTDOWN_DELAY_SECONDS";

    /// Every variable the backend reads (docs and the compose file are checked against it).
    pub const ALL: [&str; 37] = [
        RUST_LOG,
        APP_ENV,
        APP_HOST,
        APP_PORT,
        DATABASE_URL,
        DATABASE_POOL_SIZE,
        SESSION_SECRET,
        SESSION_TTL_SECONDS,
        DATA_DIR,
        STATIC_DIR,
        CORS_ALLOWED_ORIGINS,
        LOG_FORMAT,
        LOGIN_MAX_FAILURES,
        LOGIN_WINDOW_SECONDS,
        LOGIN_BACKOFF_MAX_SECONDS,
        TRUSTED_PROXIES,
        EVENT_STREAMS_PER_SESSION,
        EVENT_STREAMS_MAX,
        SHUTDOWN_GRACE_SECONDS,
        SHUTDOWN_DELAY_SECONDS,
        RING_TIMEOUT_SECONDS,
        STALE_LEG_SECONDS,
        LIVE_LEG_CHECK_SECONDS,
        DEMO_ADMIN_EMAIL,
        DEMO_ADMIN_PASSWORD,
        DEMO_AGENT_PASSWORD,
        PUBLIC_BASE_URL,
        TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN,
        TWILIO_API_KEY_SID,
        TWILIO_API_KEY_SECRET,
        TWILIO_TWIML_APP_SID,
        TWILIO_PHONE_NUMBER,
        TWILIO_API_BASE_URL,
        CUSTOMER_JOIN_TIMEOUT_SECONDS,
        DEMO_MODE,
        METRICS_TOKEN,
    ];

    /// The variables that together switch live mode on.
    pub const TWILIO_LIVE: [&str; 7] = [
        TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN,
        TWILIO_API_KEY_SID,
        TWILIO_API_KEY_SECRET,
        TWILIO_TWIML_APP_SID,
        TWILIO_PHONE_NUMBER,
        PUBLIC_BASE_URL,
    ];
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
    #[error(
        "APP_ENV=production but no Twilio settings, so this would run the built-in simulator with \
         seeded demo accounts: set {live} for live mode, or DEMO_MODE=allow to run the demo on \
         purpose",
        live = vars::TWILIO_LIVE.join(", ")
    )]
    DemoInProduction,
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        reason: reason.into(),
    }
}

/// A secret string: it never prints, so it can't reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: Secret,
    pub pool_size: usize,
}

#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Failed attempts per email and client address before the next one must wait; each one
    /// past it doubles the wait, up to `backoff.max` (see [`BackoffPolicy`]).
    pub backoff: BackoffPolicy,
    /// How long a failure counts.
    pub window: Duration,
}

/// Live-event streams (`GET /api/events`) one session, and one instance, may hold open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub per_session: usize,
    pub total: usize,
}

/// Credentials and addresses for talking to the real Twilio.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub account_sid: AccountSid,
    pub auth_token: Secret,
    pub api_key_sid: ApiKeySid,
    pub api_key_secret: Secret,
    pub twiml_app_sid: TwimlAppSid,
    pub phone_number: PhoneNumber,
    /// The public address Twilio reaches us at; webhook signatures are checked against it.
    pub public_base_url: Url,
    pub api_base_url: Url,
}

/// Live mode talks to Twilio; demo mode runs the built-in simulator in its place.
#[derive(Debug, Clone)]
pub enum VoiceMode {
    Demo,
    Live(Box<TwilioConfig>),
}

#[derive(Debug, Clone)]
pub struct DemoAdmin {
    pub email: String,
    pub password: Secret,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: AppEnv,
    pub host: String,
    pub port: u16,
    pub database: DatabaseConfig,
    /// `None` in development means "generate one and keep it in `data_dir`".
    pub session_secret: Option<Secret>,
    pub session_ttl: Duration,
    pub data_dir: PathBuf,
    pub static_dir: Option<PathBuf>,
    pub cors_allowed_origins: Vec<String>,
    pub log_format: LogFormat,
    pub login_limits: LoginLimits,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` name the client (sign-in limits key on it).
    pub trusted_proxies: TrustedProxies,
    pub stream_limits: StreamLimits,
    pub call_timing: CallTiming,
    pub demo_admin: Option<DemoAdmin>,
    /// Password for the two demo agents seeded in demo mode (generated when unset).
    pub demo_agent_password: Option<Secret>,
    pub voice: VoiceMode,
    /// `DEMO_MODE=allow`: production may run demo mode (see [`Config::check_serving_mode`]).
    pub demo_allowed: bool,
    /// How long a caller may take to reach their conference after the voice webhook answered
    /// before the call counts as abandoned (they hung up before the `<Dial>` ran).
    pub customer_join_timeout: Duration,
    /// `METRICS_TOKEN`: when set, `/metrics` answers only requests bearing it.
    pub metrics_token: Option<Secret>,
    /// How long a SIGTERM'd instance may take to drain (requests in flight, live-event streams,
    /// background work) before it exits regardless.
    pub shutdown_grace: Duration,
    /// How long a SIGTERM'd instance answers `/readyz` with 503 but still serves before it
    /// closes its listener, so health checks take it out first.
    pub shutdown_delay: Duration,
}

/// How long the call engine waits on Twilio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTiming {
    /// How long an agent's browser (or a transfer target) rings before it counts as no answer.
    pub ring_timeout: Duration,
    /// How long a leg may go unconfirmed (still dialing or ringing for us, its answer or join
    /// never reported) before the engine asks Twilio what became of it.
    pub stale_leg_after: Duration,
    /// How often a leg we believe in the conference is checked with Twilio, in case its leave
    /// and its end were both lost.
    pub live_leg_check_every: Duration,
}

/// Secrets that appear in samples and tutorials; a production run refuses them.
const WELL_KNOWN_SECRETS: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "change_me",
    "password",
    "development",
    "dev",
    "test",
    "your-secret",
    "supersecret",
    "session-secret",
    "please-change-me",
];

pub const MIN_SECRET_LEN: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass a map instead of mutating the process.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let env = match get(vars::APP_ENV).as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(invalid(
                    vars::APP_ENV,
                    format!("expected development or production, got {other:?}"),
                ))
            }
        };

        let host = get(vars::APP_HOST).unwrap_or_else(|| "127.0.0.1".into());
        let port = parse_or(&get, vars::APP_PORT, 8080u16)?;

        let database_url =
            get(vars::DATABASE_URL).ok_or(ConfigError::Missing(vars::DATABASE_URL))?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(invalid(vars::DATABASE_URL, "expected a postgres:// URL"));
        }
        crate::db::tls::plan(&database_url).map_err(|e| invalid(vars::DATABASE_URL, e))?;
        let pool_size = parse_or(&get, vars::DATABASE_POOL_SIZE, 16usize)?;
        if pool_size == 0 {
            return Err(invalid(vars::DATABASE_POOL_SIZE, "must be at least 1"));
        }

        let session_secret = get(vars::SESSION_SECRET).map(Secret::new);
        match (&session_secret, env) {
            (None, AppEnv::Production) => return Err(ConfigError::Missing(vars::SESSION_SECRET)),
            (Some(secret), _) => check_secret_strength(vars::SESSION_SECRET, secret.expose())?,
            (None, AppEnv::Development) => {}
        }
        let ttl_secs = parse_or(&get, vars::SESSION_TTL_SECONDS, 8 * 3600u64)?;
        if !(60..=24 * 3600).contains(&ttl_secs) {
            return Err(invalid(
                vars::SESSION_TTL_SECONDS,
                "must be between 60 and 86400 seconds",
            ));
        }

        let data_dir = PathBuf::from(get(vars::DATA_DIR).unwrap_or_else(|| ".data".into()));
        let static_dir = get(vars::STATIC_DIR).map(PathBuf::from);

        let cors_allowed_origins = match get(vars::CORS_ALLOWED_ORIGINS) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|origin| {
                    let parsed = Url::parse(origin)
                        .map_err(|e| invalid(vars::CORS_ALLOWED_ORIGINS, format!("{origin:?}: {e}")))?;
                    if parsed.path() != "/" || origin.ends_with('/') {
                        return Err(invalid(
                            vars::CORS_ALLOWED_ORIGINS,
                            format!("{origin:?} must be an origin like https://app.example.com, without a path"),
                        ));
                    }
                    Ok(origin.to_owned())
                })
                .collect::<Result<_, _>>()?,
        };

        let log_format = match get(vars::LOG_FORMAT).as_deref() {
            None | Some("pretty") | Some("human") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    vars::LOG_FORMAT,
                    format!("expected pretty or json, got {other:?}"),
                ))
            }
        };

        let max_failures = parse_or(&get, vars::LOGIN_MAX_FAILURES, 5u32)?;
        if max_failures == 0 {
            return Err(invalid(vars::LOGIN_MAX_FAILURES, "must be at least 1"));
        }
        let backoff_max = parse_or(&get, vars::LOGIN_BACKOFF_MAX_SECONDS, 15 * 60u64)?;
        if !(1..=86_400).contains(&backoff_max) {
            return Err(invalid(
                vars::LOGIN_BACKOFF_MAX_SECONDS,
                "must be between 1 and 86400",
            ));
        }
        let login_limits = LoginLimits {
            backoff: BackoffPolicy {
                free_failures: max_failures,
                base: Duration::from_secs(1),
                max: Duration::from_secs(backoff_max),
            },
            window: Duration::from_secs(parse_or(&get, vars::LOGIN_WINDOW_SECONDS, 60 * 60u64)?),
        };
        let trusted_proxies =
            TrustedProxies::parse(&get(vars::TRUSTED_PROXIES).unwrap_or_default())
                .map_err(|reason| invalid(vars::TRUSTED_PROXIES, reason))?;
        let stream_limits = StreamLimits {
            per_session: parse_or(&get, vars::EVENT_STREAMS_PER_SESSION, 6usize)?,
            total: parse_or(&get, vars::EVENT_STREAMS_MAX, 2_000usize)?,
        };
        if stream_limits.per_session == 0 {
            return Err(invalid(
                vars::EVENT_STREAMS_PER_SESSION,
                "must be at least 1",
            ));
        }
        if stream_limits.total == 0 {
            return Err(invalid(vars::EVENT_STREAMS_MAX, "must be at least 1"));
        }

        // Twilio accepts a ring timeout of 5 to 600 seconds.
        let ring_timeout = parse_or(&get, vars::RING_TIMEOUT_SECONDS, 20u64)?;
        if !(5..=600).contains(&ring_timeout) {
            return Err(invalid(
                vars::RING_TIMEOUT_SECONDS,
                "must be between 5 and 600",
            ));
        }
        let stale_leg_after = parse_or(&get, vars::STALE_LEG_SECONDS, ring_timeout + 60)?;
        if !(1..=3_600).contains(&stale_leg_after) {
            return Err(invalid(
                vars::STALE_LEG_SECONDS,
                "must be between 1 and 3600",
            ));
        }
        let live_leg_check_every = parse_or(&get, vars::LIVE_LEG_CHECK_SECONDS, 300u64)?;
        if !(1..=86_400).contains(&live_leg_check_every) {
            return Err(invalid(
                vars::LIVE_LEG_CHECK_SECONDS,
                "must be between 1 and 86400",
            ));
        }
        let call_timing = CallTiming {
            ring_timeout: Duration::from_secs(ring_timeout),
            stale_leg_after: Duration::from_secs(stale_leg_after),
            live_leg_check_every: Duration::from_secs(live_leg_check_every),
        };

        let demo_admin = match (get(vars::DEMO_ADMIN_EMAIL), get(vars::DEMO_ADMIN_PASSWORD)) {
            (Some(email), Some(password)) => Some(DemoAdmin {
                email,
                password: Secret::new(password),
            }),
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::Missing(vars::DEMO_ADMIN_PASSWORD)),
            (None, Some(_)) => return Err(ConfigError::Missing(vars::DEMO_ADMIN_EMAIL)),
        };

        let demo_agent_password = get(vars::DEMO_AGENT_PASSWORD).map(Secret::new);
        let voice = voice_mode(&get)?;
        let demo_allowed = match get(vars::DEMO_MODE).as_deref() {
            None => false,
            Some("allow") => true,
            Some(other) => {
                return Err(invalid(
                    vars::DEMO_MODE,
                    format!("expected allow (or unset), got {other:?}"),
                ))
            }
        };
        let join_timeout_secs = parse_or(&get, vars::CUSTOMER_JOIN_TIMEOUT_SECONDS, 20u64)?;
        if !(1..=600).contains(&join_timeout_secs) {
            return Err(invalid(
                vars::CUSTOMER_JOIN_TIMEOUT_SECONDS,
                "must be between 1 and 600 seconds",
            ));
        }

        let shutdown_grace = parse_or(&get, vars::SHUTDOWN_GRACE_SECONDS, 25u64)?;
        if !(1..=3_600).contains(&shutdown_grace) {
            return Err(invalid(
                vars::SHUTDOWN_GRACE_SECONDS,
                "must be between 1 and 3600 seconds",
            ));
        }
        let default_delay = match env {
            AppEnv::Production => 3u64,
            AppEnv::Development => 0,
        };
        let shutdown_delay = parse_or(&get, vars::SHUTDOWN_DELAY_SECONDS, default_delay)?;
        if shutdown_delay >= shutdown_grace {
            return Err(invalid(
                vars::SHUTDOWN_DELAY_SECONDS,
                format!("must be less than SHUTDOWN_GRACE_SECONDS ({shutdown_grace})"),
            ));
        }

        let metrics_token = get(vars::METRICS_TOKEN).map(Secret::new);
        if let Some(token) = &metrics_token {
            check_secret_strength(vars::METRICS_TOKEN, token.expose())?;
        }
        // Sessions and webhook signatures cross the network in the clear over plain http.
        if let (AppEnv::Production, VoiceMode::Live(t)) = (env, &voice) {
            if t.public_base_url.scheme() != "https" {
                return Err(invalid(
                    vars::PUBLIC_BASE_URL,
                    "must be an https:// URL when APP_ENV=production (put a TLS-terminating proxy in front)",
                ));
            }
        }

        Ok(Config {
            env,
            host,
            port,
            database: DatabaseConfig {
                url: Secret::new(database_url),
                pool_size,
            },
            session_secret,
            session_ttl: Duration::from_secs(ttl_secs),
            data_dir,
            static_dir,
            cors_allowed_origins,
            log_format,
            login_limits,
            trusted_proxies,
            stream_limits,
            call_timing,
            demo_admin,
            demo_agent_password,
            voice,
            demo_allowed,
            customer_join_timeout: Duration::from_secs(join_timeout_secs),
            metrics_token,
            shutdown_grace: Duration::from_secs(shutdown_grace),
            shutdown_delay: Duration::from_secs(shutdown_delay),
        })
    }

    /// Whether browsers reach this app over https (live mode with an https `PUBLIC_BASE_URL`),
    /// so responses may pin https with `Strict-Transport-Security`.
    pub fn served_over_https(&self) -> bool {
        matches!(&self.voice, VoiceMode::Live(t) if t.public_base_url.scheme() == "https")
    }

    pub fn is_demo(&self) -> bool {
        matches!(self.voice, VoiceMode::Demo)
    }

    /// Whether this configuration may serve. Production without Twilio settings is far more
    /// likely a missed setting than a wish for the simulator, its REST API and demo agents with
    /// printed passwords, so it needs `DEMO_MODE=allow`. Other commands (`migrate`, `agents`)
    /// don't need Twilio and aren't held to this.
    pub fn check_serving_mode(&self) -> Result<(), ConfigError> {
        if self.env == AppEnv::Production && self.is_demo() && !self.demo_allowed {
            return Err(ConfigError::DemoInProduction);
        }
        Ok(())
    }
}

fn parse_or<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match get(var) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|e| invalid(var, format!("{raw:?}: {e}"))),
    }
}

fn check_secret_strength(var: &'static str, secret: &str) -> Result<(), ConfigError> {
    if WELL_KNOWN_SECRETS.contains(&secret.to_ascii_lowercase().as_str()) {
        return Err(invalid(
            var,
            "is a well-known placeholder; generate a random value (e.g. `openssl rand -base64 48`)",
        ));
    }
    if secret.len() < MIN_SECRET_LEN {
        return Err(invalid(
            var,
            format!("must be at least {MIN_SECRET_LEN} characters"),
        ));
    }
    Ok(())
}

fn parse_sid<T: std::str::FromStr<Err = twilio::sid::InvalidSid>>(
    var: &'static str,
    value: &str,
) -> Result<T, ConfigError> {
    value
        .parse()
        .map_err(|e: twilio::sid::InvalidSid| invalid(var, e.to_string()))
}

fn voice_mode(get: &impl Fn(&str) -> Option<String>) -> Result<VoiceMode, ConfigError> {
    let present: Vec<&str> = vars::TWILIO_LIVE
        .iter()
        .copied()
        .filter(|v| get(v).is_some())
        .collect();
    if present.is_empty() {
        return Ok(VoiceMode::Demo);
    }
    if let Some(missing) = vars::TWILIO_LIVE.iter().copied().find(|v| get(v).is_none()) {
        return Err(invalid(
            missing,
            format!(
                "live mode needs all of {}; {} set but {missing} is not",
                vars::TWILIO_LIVE.join(", "),
                present.join(", ")
            ),
        ));
    }
    let need = |var: &'static str| get(var).ok_or(ConfigError::Missing(var));

    let account_sid = parse_sid(vars::TWILIO_ACCOUNT_SID, &need(vars::TWILIO_ACCOUNT_SID)?)?;
    let api_key_sid = parse_sid(vars::TWILIO_API_KEY_SID, &need(vars::TWILIO_API_KEY_SID)?)?;
    let twiml_app_sid = parse_sid(
        vars::TWILIO_TWIML_APP_SID,
        &need(vars::TWILIO_TWIML_APP_SID)?,
    )?;

    let auth_token = need(vars::TWILIO_AUTH_TOKEN)?;
    if auth_token.len() < 32 || WELL_KNOWN_SECRETS.contains(&auth_token.as_str()) {
        return Err(invalid(
            vars::TWILIO_AUTH_TOKEN,
            "expected the 32-character auth token from the Twilio console",
        ));
    }
    let api_key_secret = need(vars::TWILIO_API_KEY_SECRET)?;
    check_secret_strength(vars::TWILIO_API_KEY_SECRET, &api_key_secret)?;

    let phone_number = PhoneNumber::parse(&need(vars::TWILIO_PHONE_NUMBER)?)
        .map_err(|e| invalid(vars::TWILIO_PHONE_NUMBER, e.to_string()))?;

    let public_base_url = parse_base_url(vars::PUBLIC_BASE_URL, &need(vars::PUBLIC_BASE_URL)?)?;
    let api_base_url = parse_base_url(
        vars::TWILIO_API_BASE_URL,
        &get(vars::TWILIO_API_BASE_URL).unwrap_or_else(|| "https://api.twilio.com".into()),
    )?;

    Ok(VoiceMode::Live(Box::new(TwilioConfig {
        account_sid,
        auth_token: Secret::new(auth_token),
        api_key_sid,
        api_key_secret: Secret::new(api_key_secret),
        twiml_app_sid,
        phone_number,
        public_base_url,
        api_base_url,
    })))
}

/// A base URL without a trailing slash, so paths can be appended with `format!("{base}/x")`.
pub fn parse_base_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url =
        Url::parse(raw.trim_end_matches('/')).map_err(|e| invalid(var, format!("{raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(var, "expected an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(var, "must not have a query or fragment"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    const DB: (&str, &str) = ("DATABASE_URL", "postgres://u:p@127.0.0.1:5432/db");
    const STRONG: &str = "k3Jd9s0QmZp2Lr8xVt4Wc6Yb1Na7Ue5Ho0Gf3Di";

    fn live() -> Vec<(&'static str, &'static str)> {
        vec![
            DB,
            ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
            ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef"),
            ("TWILIO_API_KEY_SID", "SK0123456789abcdef0123456789abcdef"),
            ("TWILIO_API_KEY_SECRET", STRONG),
            ("TWILIO_TWIML_APP_SID", "AP0123456789abcdef0123456789abcdef"),
            ("TWILIO_PHONE_NUMBER", "+14155550100"),
            ("PUBLIC_BASE_URL", "https://support.example.com/"),
        ]
    }

    #[test]
    fn development_defaults_need_only_the_database() {
        let c = config(&[DB]).unwrap();
        assert_eq!(c.env, AppEnv::Development);
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8080));
        assert!(c.session_secret.is_none());
        assert!(c.is_demo());
        assert_eq!(c.log_format, LogFormat::Pretty);
        assert_eq!(c.login_limits.backoff.free_failures, 5);
        assert_eq!(c.login_limits.backoff.max, Duration::from_secs(900));
        assert_eq!(c.trusted_proxies, TrustedProxies::none());
        assert_eq!(
            c.stream_limits,
            StreamLimits {
                per_session: 6,
                total: 2_000
            }
        );
        assert_eq!(c.shutdown_grace, Duration::from_secs(25));
        assert_eq!(c.shutdown_delay, Duration::ZERO);
    }

    #[test]
    fn missing_database_url_is_named() {
        let err = config(&[]).unwrap_err();
        assert_eq!(err, ConfigError::Missing("DATABASE_URL"));
        assert!(err.to_string().contains("DATABASE_URL"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (pairs, var) in [
            (vec![DB, ("APP_PORT", "eighty")], "APP_PORT"),
            (vec![DB, ("APP_ENV", "staging")], "APP_ENV"),
            (vec![("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (vec![DB, ("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (
                vec![DB, ("TRUSTED_PROXIES", "10.0.0.0/8, proxy")],
                "TRUSTED_PROXIES",
            ),
            (
                vec![DB, ("LOGIN_BACKOFF_MAX_SECONDS", "0")],
                "LOGIN_BACKOFF_MAX_SECONDS",
            ),
            (
                vec![DB, ("EVENT_STREAMS_PER_SESSION", "0")],
                "EVENT_STREAMS_PER_SESSION",
            ),
            (vec![DB, ("EVENT_STREAMS_MAX", "lots")], "EVENT_STREAMS_MAX"),
            (
                vec![DB, ("SHUTDOWN_GRACE_SECONDS", "0")],
                "SHUTDOWN_GRACE_SECONDS",
            ),
            (
                vec![DB, ("SHUTDOWN_GRACE_SECONDS", "3601")],
                "SHUTDOWN_GRACE_SECONDS",
            ),
            (
                vec![
                    DB,
                    ("SHUTDOWN_GRACE_SECONDS", "5"),
                    ("SHUTDOWN_DELAY_SECONDS", "5"),
                ],
                "SHUTDOWN_DELAY_SECONDS",
            ),
            (vec![DB, ("DATABASE_POOL_SIZE", "0")], "DATABASE_POOL_SIZE"),
            (
                vec![DB, ("SESSION_TTL_SECONDS", "5")],
                "SESSION_TTL_SECONDS",
            ),
            (
                vec![
                    DB,
                    ("CORS_ALLOWED_ORIGINS", "https://ok.example.com, not a url"),
                ],
                "CORS_ALLOWED_ORIGINS",
            ),
            (
                vec![DB, ("CORS_ALLOWED_ORIGINS", "https://app.example.com/path")],
                "CORS_ALLOWED_ORIGINS",
            ),
            (vec![DB, ("SESSION_SECRET", "short")], "SESSION_SECRET"),
            (
                vec![("DATABASE_URL", "postgres://u@db/app?sslmode=always")],
                "DATABASE_URL",
            ),
        ] {
            let err = config(&pairs).unwrap_err();
            assert!(err.to_string().starts_with(var), "{var}: {err}");
        }
    }

    #[test]
    fn production_requires_a_strong_session_secret() {
        let prod = ("APP_ENV", "production");
        assert_eq!(
            config(&[DB, prod]).unwrap_err(),
            ConfigError::Missing("SESSION_SECRET")
        );
        assert!(config(&[DB, prod, ("SESSION_SECRET", "changeme")])
            .unwrap_err()
            .to_string()
            .contains("well-known"));
        assert!(config(&[DB, prod, ("SESSION_SECRET", "")]).is_err());
        let ok = config(&[DB, prod, ("SESSION_SECRET", STRONG)]).unwrap();
        assert_eq!(ok.session_secret.unwrap().expose(), STRONG);
    }

    #[test]
    fn production_runs_demo_mode_only_when_allowed() {
        let prod = [DB, ("APP_ENV", "production"), ("SESSION_SECRET", STRONG)];
        let err = config(&prod).unwrap().check_serving_mode().unwrap_err();
        assert_eq!(err, ConfigError::DemoInProduction);
        let message = err.to_string();
        for var in vars::TWILIO_LIVE.iter().chain([&vars::DEMO_MODE]) {
            assert!(message.contains(var), "{message}");
        }
        let mut allowed = prod.to_vec();
        allowed.push(("DEMO_MODE", "allow"));
        let allowed = config(&allowed).unwrap();
        assert!(allowed.is_demo());
        assert_eq!(allowed.check_serving_mode(), Ok(()));
        let mut typo = prod.to_vec();
        typo.push(("DEMO_MODE", "yes"));
        assert!(config(&typo)
            .unwrap_err()
            .to_string()
            .starts_with("DEMO_MODE"));
        // Live mode and development are unaffected.
        let mut live = live();
        live.extend(prod);
        assert_eq!(config(&live).unwrap().check_serving_mode(), Ok(()));
        assert_eq!(config(&[DB]).unwrap().check_serving_mode(), Ok(()));
    }

    #[test]
    fn production_refuses_a_plain_http_public_base_url() {
        let prod = [("APP_ENV", "production"), ("SESSION_SECRET", STRONG)];
        let mut pairs = live();
        pairs.retain(|(k, _)| *k != "PUBLIC_BASE_URL");
        pairs.push(("PUBLIC_BASE_URL", "http://support.example.com"));
        // Development may use a plain http tunnel.
        assert!(!config(&pairs).unwrap().served_over_https());
        pairs.extend(prod);
        let err = config(&pairs).unwrap_err().to_string();
        assert!(err.starts_with("PUBLIC_BASE_URL"), "{err}");
        assert!(err.contains("https"), "{err}");
        let mut ok = live();
        ok.extend(prod);
        assert!(config(&ok).unwrap().served_over_https());
    }

    #[test]
    fn metrics_token_is_optional_but_strong() {
        assert!(config(&[DB]).unwrap().metrics_token.is_none());
        let c = config(&[DB, ("METRICS_TOKEN", STRONG)]).unwrap();
        assert_eq!(c.metrics_token.unwrap().expose(), STRONG);
        let err = config(&[DB, ("METRICS_TOKEN", "short")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("METRICS_TOKEN"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let c = config(&[DB, ("SESSION_SECRET", STRONG)]).unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains(STRONG));
        assert!(!printed.contains("u:p@"));
    }

    #[test]
    fn customer_join_timeout_defaults_and_is_bounded() {
        let c = config(&[DB]).unwrap();
        assert_eq!(c.customer_join_timeout, Duration::from_secs(20));
        let c = config(&[DB, ("CUSTOMER_JOIN_TIMEOUT_SECONDS", "2")]).unwrap();
        assert_eq!(c.customer_join_timeout, Duration::from_secs(2));
        for bad in ["0", "601", "soon"] {
            let err = config(&[DB, ("CUSTOMER_JOIN_TIMEOUT_SECONDS", bad)])
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("CUSTOMER_JOIN_TIMEOUT_SECONDS"), "{err}");
        }
    }

    #[test]
    fn connected_legs_are_checked_every_five_minutes_unless_told_otherwise() {
        let c = config(&[DB]).unwrap();
        assert_eq!(c.call_timing.live_leg_check_every, Duration::from_secs(300));
        let c = config(&[DB, ("LIVE_LEG_CHECK_SECONDS", "2")]).unwrap();
        assert_eq!(c.call_timing.live_leg_check_every, Duration::from_secs(2));
        for bad in ["0", "86401", "often"] {
            let err = config(&[DB, ("LIVE_LEG_CHECK_SECONDS", bad)])
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("LIVE_LEG_CHECK_SECONDS"), "{err}");
        }
    }

    #[test]
    fn all_twilio_variables_switch_on_live_mode() {
        let c = config(&live()).unwrap();
        let VoiceMode::Live(t) = c.voice else {
            panic!("expected live mode")
        };
        assert_eq!(t.public_base_url.as_str(), "https://support.example.com/");
        assert_eq!(t.api_base_url.as_str(), "https://api.twilio.com/");
        assert_eq!(t.phone_number.as_str(), "+14155550100");
    }

    #[test]
    fn a_partial_twilio_set_names_what_is_missing() {
        let mut pairs = live();
        pairs.retain(|(k, _)| *k != "TWILIO_TWIML_APP_SID");
        let err = config(&pairs).unwrap_err().to_string();
        assert!(err.starts_with("TWILIO_TWIML_APP_SID"), "{err}");
    }

    #[test]
    fn malformed_twilio_values_are_refused() {
        for (var, value) in [
            ("TWILIO_ACCOUNT_SID", "SK0123456789abcdef0123456789abcdef"),
            ("TWILIO_API_KEY_SECRET", "secret"),
            ("TWILIO_AUTH_TOKEN", ""),
            ("TWILIO_PHONE_NUMBER", "555-0100"),
            ("PUBLIC_BASE_URL", "support.example.com"),
        ] {
            let mut pairs = live();
            pairs.retain(|(k, _)| *k != var);
            pairs.push((var, value));
            let err = config(&pairs).unwrap_err().to_string();
            assert!(err.starts_with(var), "{var}: {err}");
        }
    }
}
