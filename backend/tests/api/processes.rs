//! Backend instances as real processes (the built binary), for tests of what only a process
//! has: signals, exit codes, several instances behind a proxy. Each is killed when dropped.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use twilio_sim::{SimConfig, SimOptions, Simulator};

use crate::helpers::PASSWORD;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const NUMBER: &str = "+15005550006";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "warm-transfer-{what}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Kept after a failure: the processes' logs are in it.
        if std::thread::panicking() {
            eprintln!("logs kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The simulator playing Twilio on its own port; its number's voice URL is `public_base`.
pub fn start_simulator(public_base: &str) -> (Simulator, String) {
    let mut config = SimConfig::random(
        NUMBER,
        url::Url::parse(&format!("{public_base}/twilio/voice")).unwrap(),
    );
    config.voice_fallback_url =
        Some(url::Url::parse(&format!("{public_base}/twilio/voice/fallback")).unwrap());
    let sim = Simulator::with_options(config, SimOptions::default());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let sim_url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(sim.serve(listener).unwrap());
    (sim, sim_url)
}

/// The settings of a live-mode instance on `port` against the simulator, addressed by Twilio
/// at `public_base`, with a known admin.
pub fn live_env(
    database_url: &str,
    port: u16,
    public_base: &str,
    sim: &Simulator,
    sim_url: &str,
    data_dir: &Path,
) -> HashMap<String, String> {
    let config = sim.config();
    [
        ("DATABASE_URL", database_url.to_owned()),
        ("DATABASE_POOL_SIZE", "6".to_owned()),
        ("APP_HOST", "127.0.0.1".to_owned()),
        ("APP_PORT", port.to_string()),
        (
            "SESSION_SECRET",
            "test-session-secret-0123456789abcdefghijkl".to_owned(),
        ),
        (
            "DATA_DIR",
            data_dir.join(port.to_string()).display().to_string(),
        ),
        ("LOG_FORMAT", "json".to_owned()),
        ("RUST_LOG", "info".to_owned()),
        ("DEMO_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("DEMO_ADMIN_PASSWORD", PASSWORD.to_owned()),
        ("PUBLIC_BASE_URL", public_base.to_owned()),
        ("TWILIO_API_BASE_URL", sim_url.to_owned()),
        ("TWILIO_ACCOUNT_SID", config.account_sid.clone()),
        ("TWILIO_AUTH_TOKEN", config.auth_token.clone()),
        ("TWILIO_API_KEY_SID", config.api_key_sid.clone()),
        ("TWILIO_API_KEY_SECRET", config.api_key_secret.clone()),
        ("TWILIO_TWIML_APP_SID", format!("AP{:032x}", 7u128)),
        ("TWILIO_PHONE_NUMBER", NUMBER.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A running process, its output in a log file; killed when dropped.
pub struct Process {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Process {
    /// Starts `program` with exactly `env` (nothing inherited but PATH).
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &HashMap<String, String>,
        log_dir: &Path,
    ) -> Self {
        let log = log_dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        Self {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// A backend instance: `warm-transfer serve`.
    pub fn backend(name: &str, env: &HashMap<String, String>, log_dir: &Path) -> Self {
        Self::spawn(
            name,
            Path::new(env!("CARGO_BIN_EXE_warm-transfer")),
            &["serve"],
            env,
            log_dir,
        )
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Waits until `url` answers 200 (the process must stay up meanwhile).
    pub async fn wait_ready(&mut self, url: &str) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} exited during start-up ({status}); log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if let Ok(res) = http.get(url).send().await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{} not ready at {url} within 60 s; log:\n{}",
            self.name,
            self.log_tail()
        );
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill {} {signal}", self.name);
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signs in (through whatever `base` is) and returns the bearer token.
pub async fn login(http: &reqwest::Client, base: &str, email: &str) -> String {
    let res = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "login {email}");
    res.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}
