//! Test harness: each test gets its own PostgreSQL database on the project's server and a real
//! HTTP server on a free port, like production but isolated.

use std::collections::HashMap;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{json, Value};
use url::Url;
use warm_transfer::config::Config;
use warm_transfer::domain::agent::Role;
use warm_transfer::services::accounts::{self, NewAgentInput};
use warm_transfer::startup::Application;

pub const PASSWORD: &str = "correct-horse-battery";

/// The server URL from `DATABASE_URL` (set by `make test`), pointed at another database.
pub fn database_url(name: &str) -> String {
    let base = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at the test PostgreSQL server (make test sets it)");
    let mut url = Url::parse(&base).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// The start of every test database's name: `TEST_DATABASE_PREFIX` when set (`make test` sets
/// one per run, `test_<run id>_`, and drops the run's databases by it at the end), else `test_`.
fn test_database_prefix() -> String {
    let prefix = std::env::var("TEST_DATABASE_PREFIX").unwrap_or_default();
    if prefix.is_empty() {
        return "test_".to_owned();
    }
    // The name goes into SQL unquoted: lower-case letters, digits and `_`, starting with a letter;
    // with the 32-character UUID it must fit PostgreSQL's 63-byte names.
    assert!(
        prefix.len() <= 31
            && prefix.starts_with(|c: char| c.is_ascii_lowercase())
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "TEST_DATABASE_PREFIX={prefix:?}: use up to 31 lower-case letters, digits and _, starting with a letter"
    );
    prefix
}

/// Creates an empty database and returns its URL.
pub async fn create_database() -> String {
    let name = format!(
        "{}{}",
        test_database_prefix(),
        uuid::Uuid::new_v4().simple()
    );
    let mut admin = AsyncPgConnection::establish(&database_url("postgres"))
        .await
        .expect("connect to the test server");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    database_url(&name)
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: warm_transfer::state::AppState,
}

pub fn base_env(database_url: &str) -> HashMap<String, String> {
    [
        ("DATABASE_URL", database_url),
        ("APP_PORT", "0"),
        (
            "SESSION_SECRET",
            "test-session-secret-0123456789abcdefghijkl",
        ),
        ("DATABASE_POOL_SIZE", "4"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with extra or changed settings.
    pub async fn spawn_with(customise: impl FnOnce(&mut HashMap<String, String>)) -> Self {
        let database_url = create_database().await;
        let mut env = base_env(&database_url);
        customise(&mut env);
        Self::spawn_on(env).await
    }

    pub async fn spawn_on(env: HashMap<String, String>) -> Self {
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("valid test config");
        let app = Application::build(config).await.expect("app builds");
        let port = app.port();
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Creates an agent straight through the service layer and returns its id.
    pub async fn create_agent(&self, email: &str, role: Role) -> uuid::Uuid {
        accounts::create_agent(
            &self.state.pool,
            NewAgentInput {
                email: email.into(),
                display_name: email.split('@').next().unwrap().into(),
                password: PASSWORD.into(),
                role,
                client_identity: None,
            },
        )
        .await
        .expect("agent created")
        .id
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the bearer token.
    pub async fn token(&self, email: &str) -> String {
        let res = self.login(email, PASSWORD).await;
        assert_eq!(res.status(), 200, "login for {email}");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An admin and an agent, signed in: (admin token, agent token, agent id).
    pub async fn admin_and_agent(&self) -> (String, String, uuid::Uuid) {
        self.create_agent("boss@example.com", Role::Admin).await;
        let agent_id = self.create_agent("ana@example.com", Role::Agent).await;
        (
            self.token("boss@example.com").await,
            self.token("ana@example.com").await,
            agent_id,
        )
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// GETs `path` until its JSON body satisfies `check` (about 10 s), then returns the body.
    pub async fn poll(
        &self,
        path: &str,
        token: Option<&str>,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        self.poll_within(path, token, what, std::time::Duration::from_secs(10), check)
            .await
    }

    /// Like `poll`, for up to `limit`.
    pub async fn poll_within(
        &self,
        path: &str,
        token: Option<&str>,
        what: &str,
        limit: std::time::Duration,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        let mut last = Value::Null;
        while tokio::time::Instant::now() < deadline {
            last = self
                .get(path, token)
                .await
                .json()
                .await
                .unwrap_or(Value::Null);
            if check(&last) {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}; last {path}: {last:#}");
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}

/// Asserts the status and the JSON error code of a response, and returns the body.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// A TCP relay to PostgreSQL that a test can cut and restore, standing in for a database outage.
pub struct Relay {
    pub addr: SocketAddr,
    target: SocketAddr,
    tasks: JoinSet<()>,
}

impl Relay {
    pub async fn start(target: SocketAddr) -> Self {
        let mut relay = Relay {
            addr: "127.0.0.1:0".parse().unwrap(),
            target,
            tasks: JoinSet::new(),
        };
        relay.open().await;
        relay
    }

    pub async fn open(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener: TcpListener = socket.listen(64).unwrap();
        self.addr = listener.local_addr().unwrap();
        let target = self.target;
        self.tasks.spawn(async move {
            let mut pipes = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                pipes.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
    }

    /// Drops the listener and every open connection.
    pub async fn cut(&mut self) {
        self.tasks.shutdown().await;
    }
}
