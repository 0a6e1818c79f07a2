//! Wiring: the database, the HTTP server and its routes, the SPA.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, App, HttpResponse, HttpServer};
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa::OpenApi;
use utoipa_actix_web::{scope, AppExt, UtoipaApp};
use utoipa_swagger_ui::SwaggerUi;

use crate::api::live::LiveFeed;
use crate::api::{self, error::ApiError};
use crate::auth::session::SessionKeys;
use crate::config::{AppEnv, Config, Secret, VoiceMode};
use crate::db;
use crate::domain::phone::PhoneNumber;
use crate::events::EventBus;
#[cfg(feature = "demo")]
use crate::services::voice::DEMO_NUMBER;
use crate::services::voice::{VoiceEngine, VoiceSettings, WebhookUrls};
use crate::shutdown::Shutdown;
use crate::state::{AppState, VoiceCredentials};
use crate::webhooks::{self, WebhookAuth};
use twilio::rest::TwilioClient;
#[cfg(feature = "demo")]
use twilio::sid::{AccountSid, ApiKeySid, TwimlAppSid};
#[cfg(feature = "demo")]
use twilio_sim::{SimConfig, Simulator};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("session secret in {path}: {source}")]
    SessionSecret {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "STATIC_DIR {0} has no index.html; build the SPA first (npm --prefix frontend run build)"
    )]
    StaticDir(PathBuf),
    #[error(
        "no Twilio settings, and this build has no demo mode (built without the `demo` feature): \
         set PUBLIC_BASE_URL and every TWILIO_* variable"
    )]
    DemoNotBuilt,
    #[error("demo mode cannot address itself at {url}: {source}")]
    DemoUrl {
        url: String,
        source: url::ParseError,
    },
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("Twilio client: {0}")]
    Twilio(#[from] twilio::rest::TwilioError),
}

/// Twilio as this process sees it: the real one, or (demo mode) the built-in simulator served
/// from this same server with credentials made up at start.
struct VoiceSetup {
    client: TwilioClient,
    urls: WebhookUrls,
    webhook_auth: WebhookAuth,
    credentials: VoiceCredentials,
    phone_number: PhoneNumber,
    #[cfg(feature = "demo")]
    sim: Option<Simulator>,
}

/// A made-up SID of the given kind, for the simulator's demo account.
#[cfg(feature = "demo")]
fn random_sid<T: std::str::FromStr<Err = twilio::sid::InvalidSid>>(prefix: &str) -> T {
    format!("{prefix}{}", random_hex(16))
        .parse()
        .expect("a prefix and 32 hex digits")
}

#[cfg(feature = "demo")]
fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn voice_setup(config: &Config, port: u16) -> Result<VoiceSetup, StartupError> {
    let timeout = std::time::Duration::from_secs(10);
    match &config.voice {
        VoiceMode::Live(t) => Ok(VoiceSetup {
            client: TwilioClient::new(
                t.api_base_url.clone(),
                t.account_sid.as_str(),
                t.api_key_sid.as_str(),
                t.api_key_secret.expose(),
                timeout,
            )?,
            urls: WebhookUrls::new(&t.public_base_url),
            webhook_auth: WebhookAuth::new(t.auth_token.expose(), &t.public_base_url),
            credentials: VoiceCredentials {
                account_sid: t.account_sid.clone(),
                api_key_sid: t.api_key_sid.clone(),
                api_key_secret: t.api_key_secret.clone(),
                twiml_app_sid: t.twiml_app_sid.clone(),
            },
            phone_number: t.phone_number.clone(),
            #[cfg(feature = "demo")]
            sim: None,
        }),
        VoiceMode::Demo => demo_setup(config, port, timeout),
    }
}

#[cfg(not(feature = "demo"))]
fn demo_setup(
    _config: &Config,
    _port: u16,
    _timeout: std::time::Duration,
) -> Result<VoiceSetup, StartupError> {
    Err(StartupError::DemoNotBuilt)
}

/// Demo mode: the simulator plays Twilio, served from this same server with credentials made
/// up at start.
#[cfg(feature = "demo")]
fn demo_setup(
    config: &Config,
    port: u16,
    timeout: std::time::Duration,
) -> Result<VoiceSetup, StartupError> {
    {
        let host = match config.host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
            other => other,
        };
        let parse = |u: String| {
            url::Url::parse(&u).map_err(|source| StartupError::DemoUrl { url: u, source })
        };
        let base = parse(format!("http://{host}:{port}"))?;
        let credentials = VoiceCredentials {
            account_sid: random_sid(AccountSid::PREFIX),
            api_key_sid: random_sid(ApiKeySid::PREFIX),
            api_key_secret: Secret::new(random_hex(24)),
            twiml_app_sid: random_sid(TwimlAppSid::PREFIX),
        };
        let auth_token = random_hex(16);
        let urls = WebhookUrls::new(&base);
        let phone_number = PhoneNumber::parse(DEMO_NUMBER).expect("the demo number is E.164");
        let sim = Simulator::new(SimConfig {
            account_sid: credentials.account_sid.to_string(),
            auth_token: auth_token.clone(),
            api_key_sid: credentials.api_key_sid.to_string(),
            api_key_secret: credentials.api_key_secret.expose().to_owned(),
            phone_number: phone_number.as_str().to_owned(),
            voice_url: parse(urls.voice())?,
            voice_fallback_url: Some(parse(urls.voice_fallback())?),
        });
        Ok(VoiceSetup {
            client: TwilioClient::new(
                base.clone(),
                credentials.account_sid.as_str(),
                credentials.api_key_sid.as_str(),
                credentials.api_key_secret.expose(),
                timeout,
            )?,
            webhook_auth: WebhookAuth::new(&auth_token, &base),
            urls,
            credentials,
            phone_number,
            sim: Some(sim),
        })
    }
}

/// A built server, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    /// The router, the callback inbox and the housekeeping loop, waited for on shutdown.
    loops: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Migrates the database, binds the listener and assembles the app.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        config.check_serving_mode()?;
        let applied = db::run_migrations(config.database.url.expose()).await?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "database migrated");
        }
        let pool = db::pool(config.database.url.expose(), config.database.pool_size)?;
        let secret = resolve_session_secret(&config)?;
        if let Some(dir) = &config.static_dir {
            if !dir.join("index.html").is_file() {
                return Err(StartupError::StaticDir(dir.clone()));
            }
        }
        let addr = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartupError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?
            .port();

        let setup = voice_setup(&config, port)?;
        let events = EventBus::shared(config.database.url.expose());
        let shutdown = Shutdown::new();
        let voice = VoiceEngine::new(
            pool.clone(),
            setup.client,
            setup.urls,
            VoiceSettings {
                phone_number: setup.phone_number,
                ring_timeout: config.call_timing.ring_timeout,
                stale_leg_after: config.call_timing.stale_leg_after,
                live_leg_check_every: config.call_timing.live_leg_check_every,
                customer_join_timeout: config.customer_join_timeout,
                ..VoiceSettings::default()
            },
            events.clone(),
            shutdown.clone(),
        );
        let loops = vec![
            tokio::spawn(voice.clone().run_router()),
            tokio::spawn(voice.clone().run_inbox()),
            tokio::spawn(voice.clone().run_arrivals()),
            tokio::spawn(crate::services::housekeeping::run(
                pool.clone(),
                config.login_limits.window,
                shutdown.clone(),
            )),
        ];
        let waiting_total = crate::services::calls::WaitingTotal::new(events.clone());
        let live = LiveFeed::start(
            pool.clone(),
            &events,
            waiting_total.clone(),
            config.stream_limits,
            shutdown.clone(),
        );
        let state = AppState {
            pool,
            session_keys: SessionKeys::new(secret.expose().as_bytes()),
            config: Arc::new(config),
            voice,
            voice_credentials: setup.credentials,
            events,
            live,
            waiting_total,
            shutdown,
        };
        let server = serve(
            listener,
            state.clone(),
            Twilio {
                webhook_auth: setup.webhook_auth,
                #[cfg(feature = "demo")]
                sim: setup.sim,
            },
        )?;
        Ok(Self {
            port,
            server,
            state,
            loops,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until [`Shutdown::begin`] (the binary calls it on SIGTERM or SIGINT), then drains
    /// (see [`crate::shutdown`]) within `SHUTDOWN_GRACE_SECONDS` and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server,
            state,
            loops,
            ..
        } = self;
        let shutdown = state.shutdown.clone();
        let grace = state.config.shutdown_grace;
        let delay = state.config.shutdown_delay;
        let handle = server.handle();
        let stopper = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                shutdown.draining().await;
                // Not ready, still serving: health checks take the instance out meanwhile.
                tokio::time::sleep(delay).await;
                shutdown.close();
                // Closes the listener; requests in flight finish, up to the grace time.
                handle.stop(true).await;
            }
        });
        let served = server.await;
        stopper.abort();
        shutdown.server_stopped();
        // At least a moment for the last steps, even when the requests used the whole grace.
        let floor = std::time::Duration::from_secs(1);
        let left = shutdown.time_left(grace, floor);
        if tokio::time::timeout(left, futures_util::future::join_all(loops))
            .await
            .is_err()
        {
            tracing::warn!("background loops still busy at the end of the grace time");
        }
        let left = shutdown.time_left(grace, floor);
        if !shutdown.finish_tasks(left).await {
            tracing::warn!("Twilio requests still running at the end of the grace time");
        }
        tracing::info!("stopped");
        served
    }
}

/// In development the session key is generated once and kept in the data folder, so sessions
/// survive restarts without anyone choosing a secret.
fn resolve_session_secret(config: &Config) -> Result<Secret, StartupError> {
    if let Some(secret) = &config.session_secret {
        return Ok(secret.clone());
    }
    debug_assert_eq!(
        config.env,
        AppEnv::Development,
        "production config always carries a secret"
    );
    let path = config.data_dir.join("session_secret");
    let io = |source| StartupError::SessionSecret {
        path: path.clone(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= crate::config::MIN_SECRET_LEN {
            return Ok(Secret::new(existing));
        }
    }
    std::fs::create_dir_all(&config.data_dir).map_err(io)?;
    let secret = random_secret();
    write_private(&path, &secret).map_err(io)?;
    tracing::info!(path = %path.display(), "generated a development session key");
    Ok(Secret::new(secret))
}

fn random_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Registers the documented routes; used by the server and by `openapi` so both see the same set.
fn documented_routes<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(
        scope("/api")
            .configure(api::configure_api)
            .default_service(web::to(api::error::unmatched)),
    )
    .service(api::meta::healthz)
    .service(api::meta::readyz)
}

/// The OpenAPI document the code describes; `openapi.yaml` is this, serialised.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) =
        documented_routes(App::new().into_utoipa_app().openapi(api::ApiDoc::openapi()))
            .split_for_parts();
    api::doc::complete_responses(&mut doc);
    api::doc::name_timeline_kinds(&mut doc);
    doc
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// What the `/twilio` routes (and, in demo mode, the simulator's REST API) are served with.
struct Twilio {
    webhook_auth: WebhookAuth,
    #[cfg(feature = "demo")]
    sim: Option<Simulator>,
}

fn serve(listener: TcpListener, state: AppState, twilio: Twilio) -> Result<Server, StartupError> {
    let doc = openapi_document();
    let known_paths = web::Data::new(api::doc::KnownPaths::from_document(&doc));
    let metrics =
        crate::metrics::Metrics::new().map_err(|e| StartupError::Metrics(e.to_string()))?;
    metrics.spawn_sampler(state.pool.clone());
    let prometheus = metrics.http.clone();
    let static_dir = state.config.static_dir.clone();
    let webhook_auth = web::Data::new(twilio.webhook_auth);
    let voice = web::Data::new(state.voice.clone());
    #[cfg(feature = "demo")]
    let sim = twilio.sim;
    #[cfg(feature = "demo")]
    let demo_callers = web::Data::new(api::demo::DemoCallers::default());
    let origins = state.config.cors_allowed_origins.clone();
    let https = state.config.served_over_https();
    let guard = Arc::new(Gatekeeper {
        metrics_token: state.config.metrics_token.clone(),
        hide_source_maps: state.config.env == AppEnv::Production,
    });
    let shutdown = state.shutdown.clone();
    let drain_secs = state
        .config
        .shutdown_grace
        .saturating_sub(state.config.shutdown_delay)
        .as_secs();
    let data = web::Data::new(state);

    let server = HttpServer::new(move || {
        let gate = guard.clone();
        let shutdown = shutdown.clone();
        let app = App::new()
            .wrap(prometheus.clone())
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                use futures_util::future::{ready, Either, FutureExt};
                match gate.refuse(&req) {
                    Some(refusal) => {
                        Either::Left(ready(Ok(req.into_response(refusal).map_into_right_body())))
                    }
                    None => Either::Right(
                        srv.call(req)
                            .map(|res| res.map(|res| res.map_into_left_body())),
                    ),
                }
            })
            .wrap(crate::http_security::default_headers(https))
            .wrap(cors(&origins))
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                use actix_web::HttpMessage;
                let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
                let fut = srv.call(req);
                let shutdown = shutdown.clone();
                async move {
                    let mut res = fut.await?;
                    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                        res.headers_mut()
                            .insert(header::HeaderName::from_static("x-request-id"), id);
                    }
                    // Draining: the client (or proxy) takes its next request elsewhere.
                    if shutdown.is_draining() {
                        res.response_mut()
                            .head_mut()
                            .set_connection_type(actix_web::http::ConnectionType::Close);
                    }
                    Ok(res)
                }
            })
            .wrap(TracingLogger::default())
            .app_data(data.clone())
            .app_data(known_paths.clone())
            .configure(api::extractor_configs);
        let (app, _) = documented_routes(app.into_utoipa_app()).split_for_parts();
        // Demo mode: the simulator's Twilio REST API, at Twilio's paths, on this same server,
        // and the simulator itself for the `/api/demo` routes.
        #[cfg(feature = "demo")]
        let app = match &sim {
            Some(sim) => {
                let rest = sim.clone();
                app.app_data(web::Data::new(sim.clone()))
                    .app_data(demo_callers.clone())
                    .configure(move |cfg| rest.configure_rest(cfg))
            }
            None => app,
        };
        let app = app
            .service(
                web::scope("/twilio")
                    .app_data(webhook_auth.clone())
                    .app_data(voice.clone())
                    .configure(webhooks::configure),
            )
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header((header::LOCATION, "/docs/"))
                        .finish()
                }),
            );
        match &static_dir {
            Some(dir) => app.service(spa_files(dir)),
            None => app.default_service(web::to(api::error::unmatched)),
        }
    })
    // A client that closes its side has gone (browsers never half-close): the connection ends
    // at once, so a live-event stream frees its place without waiting for its next write.
    .h1_allow_half_closed(false)
    .listen(listener)
    .map_err(|source| StartupError::Bind {
        addr: "listener".into(),
        source,
    })?
    // SIGTERM is handled by the binary, which drains first (see `crate::shutdown`); the last
    // second of the grace time is left for the background work.
    .disable_signals()
    .shutdown_timeout(drain_secs.saturating_sub(1).max(1))
    .run();
    Ok(server)
}

/// Requests answered before routing: `/metrics` without its token, and (production) source maps.
struct Gatekeeper {
    metrics_token: Option<Secret>,
    hide_source_maps: bool,
}

impl Gatekeeper {
    fn refuse(&self, req: &ServiceRequest) -> Option<HttpResponse> {
        use crate::http_security::{is_source_map, metrics_authorized};
        let path = req.path();
        if path == "/metrics"
            && !metrics_authorized(
                self.metrics_token.as_ref().map(Secret::expose),
                req.headers().get(header::AUTHORIZATION),
            )
        {
            return Some(
                HttpResponse::Unauthorized()
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                    .json(api::error::ErrorBody {
                        code: "unauthorized",
                        message: "metrics need the METRICS_TOKEN bearer token".into(),
                        field: None,
                    }),
            );
        }
        if self.hide_source_maps && is_source_map(path) {
            return Some(actix_web::ResponseError::error_response(
                &ApiError::RouteNotFound,
            ));
        }
        None
    }
}

/// The built SPA; unknown paths get `index.html` so client-side routes survive a reload.
fn spa_files(dir: &Path) -> actix_files::Files {
    let index = dir.join("index.html");
    actix_files::Files::new("/", dir)
        .index_file("index.html")
        .prefer_utf8(true)
        .default_handler(actix_web::dev::fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let file = actix_files::NamedFile::open_async(&index).await?;
                let res = file.into_response(&req);
                Ok(actix_web::dev::ServiceResponse::new(req, res))
            }
        }))
}
