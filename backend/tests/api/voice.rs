//! Harness for call-flow tests: the Twilio simulator on its own port plays Twilio, the customer
//! and the agents' browsers; the app runs in live mode pointed at it, so every request crosses
//! real HTTP with real signatures.

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{SimConfig, SimOptions, Simulator};
use warm_transfer::domain::agent::Role;

use crate::helpers::{base_env, create_database, TestApp};

pub const CUSTOMER: &str = "+14155550100";
pub const NUMBER: &str = "+15005550006";
pub const WAIT: Duration = Duration::from_secs(10);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Agent {
    pub id: String,
    pub token: String,
    pub identity: String,
    pub email: String,
}

impl Agent {
    pub fn client(&self) -> String {
        format!("client:{}", self.identity)
    }
}

pub struct CallCenter {
    pub sim: Simulator,
    /// The first instance receives the voice webhook; others share the database and the sim.
    pub apps: Vec<TestApp>,
}

impl CallCenter {
    pub async fn start() -> Self {
        Self::start_with(1, |_| {}).await
    }

    pub async fn start_with(
        instances: usize,
        customise: impl Fn(&mut HashMap<String, String>),
    ) -> Self {
        let database_url = create_database().await;
        let ports: Vec<u16> = (0..instances).map(|_| free_port()).collect();
        let voice_url =
            url::Url::parse(&format!("http://127.0.0.1:{}/twilio/voice", ports[0])).unwrap();
        let mut config = SimConfig::random(NUMBER, voice_url);
        config.voice_fallback_url = Some(
            url::Url::parse(&format!(
                "http://127.0.0.1:{}/twilio/voice/fallback",
                ports[0]
            ))
            .unwrap(),
        );
        let sim = Simulator::with_options(
            config.clone(),
            SimOptions {
                time_scale: 0.05,
                ..SimOptions::default()
            },
        );
        let sim_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sim_url = format!(
            "http://127.0.0.1:{}",
            sim_listener.local_addr().unwrap().port()
        );
        tokio::spawn(sim.serve(sim_listener).unwrap());

        let mut apps = Vec::new();
        for port in ports {
            let mut env = base_env(&database_url);
            for (k, v) in [
                ("APP_PORT", port.to_string()),
                ("PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}")),
                ("TWILIO_API_BASE_URL", sim_url.clone()),
                ("TWILIO_ACCOUNT_SID", config.account_sid.clone()),
                ("TWILIO_AUTH_TOKEN", config.auth_token.clone()),
                ("TWILIO_API_KEY_SID", config.api_key_sid.clone()),
                ("TWILIO_API_KEY_SECRET", config.api_key_secret.clone()),
                ("TWILIO_TWIML_APP_SID", format!("AP{:032x}", 7u128)),
                ("TWILIO_PHONE_NUMBER", NUMBER.to_owned()),
                ("DATABASE_POOL_SIZE", "8".to_owned()),
            ] {
                env.insert(k.to_owned(), v);
            }
            customise(&mut env);
            apps.push(TestApp::spawn_on(env).await);
        }
        CallCenter { sim, apps }
    }

    /// A call center whose database connections go through a relay the test can cut, standing
    /// in for a database outage.
    pub async fn start_with_cuttable_database() -> (
        Self,
        std::sync::Arc<tokio::sync::Mutex<Option<crate::helpers::Relay>>>,
    ) {
        let relay = std::sync::Arc::new(tokio::sync::Mutex::new(None::<crate::helpers::Relay>));
        let relay_for_env = relay.clone();
        let cc = Self::start_with(1, move |env| {
            let real = url::Url::parse(&env["DATABASE_URL"]).unwrap();
            let target: std::net::SocketAddr =
                format!("{}:{}", real.host_str().unwrap(), real.port().unwrap())
                    .parse()
                    .unwrap();
            let relay = futures_util::FutureExt::now_or_never(crate::helpers::Relay::start(target))
                .expect("relay binds at once");
            let mut via = real.clone();
            via.set_port(Some(relay.addr.port())).unwrap();
            env.insert("DATABASE_URL".into(), via.to_string());
            *futures_util::FutureExt::now_or_never(relay_for_env.lock()).unwrap() = Some(relay);
        })
        .await;
        (cc, relay)
    }

    pub fn app(&self) -> &TestApp {
        &self.apps[0]
    }

    /// Creates an agent, signs them in and (optionally) makes them available.
    pub async fn agent(&self, name: &str, available: bool) -> Agent {
        let email = format!("{name}@example.com");
        let app = self.app();
        let id = app.create_agent(&email, Role::Agent).await.to_string();
        let token = app.token(&email).await;
        let me: Value = app.get("/api/me", Some(&token)).await.json().await.unwrap();
        let agent = Agent {
            id,
            token,
            identity: me["client_identity"].as_str().unwrap().to_owned(),
            email,
        };
        if available {
            self.set_status(&agent, "available").await;
        }
        agent
    }

    pub async fn admin(&self) -> String {
        self.app()
            .create_agent("supervisor@example.com", Role::Admin)
            .await;
        self.app().token("supervisor@example.com").await
    }

    pub async fn set_status(&self, agent: &Agent, status: &str) {
        let res = self
            .app()
            .send_json(
                Method::PUT,
                "/api/me/status",
                Some(&agent.token),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }

    pub async fn agent_status(&self, agent: &Agent) -> String {
        let me: Value = self
            .app()
            .get("/api/me", Some(&agent.token))
            .await
            .json()
            .await
            .unwrap();
        me["status"].as_str().unwrap().to_owned()
    }

    /// The customer dials in; returns their call SID once the app has stored the call.
    pub async fn customer_calls(&self) -> String {
        self.sim.dial_in(CUSTOMER)
    }

    /// Waits for the agent's browser to ring and answers.
    pub async fn answer(&self, agent: &Agent) -> String {
        let ringing = self
            .sim
            .wait_for_ringing(&agent.client(), WAIT)
            .await
            .expect("the agent's browser rings");
        self.sim.accept(&ringing.call_sid).unwrap();
        ringing.call_sid
    }

    pub async fn ringing(&self, agent: &Agent) -> String {
        self.sim
            .wait_for_ringing(&agent.client(), WAIT)
            .await
            .expect("the agent's browser rings")
            .call_sid
    }

    /// The call a given agent is on (through the API), waiting until it satisfies `check`.
    pub async fn my_call_until(
        &self,
        agent: &Agent,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        self.app()
            .poll("/api/me/call", Some(&agent.token), what, |body| {
                check(&body["call"])
            })
            .await["call"]
            .clone()
    }

    /// A call's detail (as an admin or participant token), waiting until it satisfies `check`.
    pub async fn call_until(
        &self,
        token: &str,
        call_id: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        self.app()
            .poll(&format!("/api/calls/{call_id}"), Some(token), what, check)
            .await
    }

    pub async fn status_until(&self, agent: &Agent, expected: &str) {
        for _ in 0..200 {
            if self.agent_status(agent).await == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{} never became {expected} (is {})",
            agent.email,
            self.agent_status(agent).await
        );
    }

    pub async fn post(&self, agent: &Agent, path: &str, body: Value) -> reqwest::Response {
        self.app()
            .send_json(Method::POST, path, Some(&agent.token), &body)
            .await
    }
}

pub fn participant(call: &Value, pred: impl Fn(&Value) -> bool) -> &Value {
    call["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| pred(p))
        .unwrap_or_else(|| panic!("no such participant in {call:#}"))
}

pub fn customer(call: &Value) -> &Value {
    participant(call, |p| p["kind"] == "customer")
}

pub fn agent_leg<'a>(call: &'a Value, agent: &Agent) -> &'a Value {
    participant(call, |p| {
        p["agent_id"] == agent.id.as_str() && p["status"] != "no_answer" && p["status"] != "busy"
    })
}

pub fn timeline_kinds(call: &Value) -> Vec<String> {
    call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

pub fn connected(p: &Value) -> bool {
    p["status"] == "connected"
}

/// A call answered by `agent`; returns (call id, customer's call SID).
pub async fn answered_call(cc: &CallCenter, agent: &Agent) -> (String, String) {
    let customer_sid = cc.customer_calls().await;
    cc.answer(agent).await;
    let call = cc
        .my_call_until(agent, "connected", |c| {
            c["status"] == "in_progress" && connected(agent_leg(c, agent)) && connected(customer(c))
        })
        .await;
    (call["id"].as_str().unwrap().to_owned(), customer_sid)
}

/// `by` starts a transfer; it must be accepted (201). Returns the transfer.
pub async fn start_transfer(cc: &CallCenter, by: &Agent, call_id: &str, body: Value) -> Value {
    let res = cc
        .post(by, &format!("/api/calls/{call_id}/transfers"), body)
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// Completes or cancels (`action`) a transfer as `by`.
pub async fn finish_transfer(
    cc: &CallCenter,
    by: &Agent,
    call_id: &str,
    transfer: &Value,
    action: &str,
) -> reqwest::Response {
    let path = format!(
        "/api/calls/{call_id}/transfers/{}/{action}",
        transfer["id"].as_str().unwrap()
    );
    cc.post(by, &path, json!({})).await
}
