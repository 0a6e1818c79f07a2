//! The Twilio simulator end to end: a tiny fake app (an actix server answering the voice webhook
//! with conference TwiML and recording every signed callback) plus the production REST client
//! pointed at the simulator's own HTTP server.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use url::Url;

use twilio::rest::{
    CallProgressEvent, CallUpdateStatus, ConferenceStatus as RestConferenceStatus, CreateCall,
    RetryPolicy, TwilioClient, TwilioError, UpdateCall, UpdateParticipant,
};
use twilio::signature::{RequestValidator, SIGNATURE_HEADER};
use twilio::twiml;
use twilio_sim::{
    CallStatus, ConferenceStatus, Endpoint, Heard, HeardSource, SimConfig, SimOptions, Simulator,
    WebhookKind, WebhookRecord, APPLICATION_ERROR_MESSAGE,
};

const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
const NUMBER: &str = "+15005550006";
const CUSTOMER: &str = "+15551230001";
const WAIT: Duration = Duration::from_secs(5);

// ------------------------------------------------------------------------------ the fake app

#[derive(Debug, Clone)]
struct AppRecord {
    method: String,
    path: String,
    params: Vec<(String, String)>,
    signature_valid: bool,
    idempotency_token: Option<String>,
}

impl AppRecord {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

struct AppData {
    base: String,
    records: Arc<Mutex<Vec<AppRecord>>>,
}

/// What our backend's webhooks would answer, built with the production TwiML builders.
async fn app_handler(
    request: HttpRequest,
    body: web::Bytes,
    data: web::Data<AppData>,
) -> HttpResponse {
    let params: Vec<(String, String)> = if request.method() == actix_web::http::Method::POST {
        url::form_urlencoded::parse(&body).into_owned().collect()
    } else {
        Vec::new()
    };
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or(request.path().to_owned(), |pq| pq.as_str().to_owned());
    let url = format!("{}{}", data.base, path_and_query);
    let signature = request
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let signature_valid = RequestValidator::new(AUTH_TOKEN).validate(&url, &params, signature);
    let record = AppRecord {
        method: request.method().to_string(),
        path: request.path().to_owned(),
        params: params.clone(),
        signature_valid,
        idempotency_token: request
            .headers()
            .get("I-Twilio-Idempotency-Token")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    };
    data.records.lock().unwrap().push(record);
    if !signature_valid {
        return HttpResponse::Forbidden().finish();
    }
    let base = &data.base;
    let xml = |body: String| HttpResponse::Ok().content_type("text/xml").body(body);
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    match request.path() {
        "/twilio/voice" | "/twilio/fallback-conference" => {
            xml(twiml::conference(&twiml::ConferenceTwiml::customer(
                format!("call-{}", param("CallSid")),
                format!("{base}/twilio/wait"),
                format!("{base}/twilio/conference-status"),
            )))
        }
        "/twilio/wait" => xml(twiml::wait_music(
            Some("Thanks for calling, an agent will be with you shortly"),
            "https://cdn.test/wait.mp3",
            &format!("{base}/twilio/wait"),
        )),
        "/twilio/agent" => {
            let query: HashMap<String, String> =
                url::form_urlencoded::parse(request.query_string().as_bytes())
                    .into_owned()
                    .collect();
            let name = query.get("conference").cloned().unwrap_or_default();
            xml(twiml::conference(&twiml::ConferenceTwiml::agent(name)))
        }
        "/twilio/hold" => xml(twiml::hold_music(
            "https://cdn.test/hold.mp3",
            &format!("{base}/twilio/hold"),
        )),
        "/twilio/goodbye" => xml(twiml::say_and_hangup("Goodbye from the transfer desk")),
        "/twilio/fallback" => xml(twiml::say_and_hangup("Sorry, please call again later")),
        "/twilio/reject" => xml(twiml::reject(twiml::RejectReason::Busy)),
        "/twilio/broken" => HttpResponse::InternalServerError().finish(),
        "/twilio/not-twiml" => HttpResponse::Ok()
            .content_type("text/xml")
            .body("<html>oops</html>"),
        "/twilio/call-status" | "/twilio/conference-status" => HttpResponse::NoContent().finish(),
        "/twilio/flaky-status" => HttpResponse::ServiceUnavailable().finish(),
        _ => HttpResponse::NotFound().finish(),
    }
}

struct FakeApp {
    base: String,
    records: Arc<Mutex<Vec<AppRecord>>>,
}

impl FakeApp {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let records = Arc::new(Mutex::new(Vec::new()));
        let data = web::Data::new(AppData {
            base: base.clone(),
            records: Arc::clone(&records),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(app_handler))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { base, records }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn records(&self) -> Vec<AppRecord> {
        self.records.lock().unwrap().clone()
    }

    fn conference_events(&self) -> Vec<AppRecord> {
        self.records()
            .into_iter()
            .filter(|record| record.path == "/twilio/conference-status")
            .collect()
    }
}

// ------------------------------------------------------------------------------ harness

struct Harness {
    app: FakeApp,
    sim: Simulator,
    sim_base: String,
    client: TwilioClient,
}

fn config(app: &FakeApp, voice_path: &str, fallback_path: Option<&str>) -> SimConfig {
    SimConfig {
        account_sid: format!("AC{}", "a1".repeat(16)),
        auth_token: AUTH_TOKEN.to_owned(),
        api_key_sid: format!("SK{}", "b2".repeat(16)),
        api_key_secret: "key-secret".to_owned(),
        phone_number: NUMBER.to_owned(),
        voice_url: Url::parse(&app.url(voice_path)).unwrap(),
        voice_fallback_url: fallback_path.map(|path| Url::parse(&app.url(path)).unwrap()),
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        jitter: false,
    }
}

impl Harness {
    fn start() -> Self {
        Self::start_with("/twilio/voice", None, SimOptions::default())
    }

    fn start_with(voice_path: &str, fallback_path: Option<&str>, options: SimOptions) -> Self {
        let app = FakeApp::start();
        let config = config(&app, voice_path, fallback_path);
        let sim = Simulator::with_options(config.clone(), options);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sim_base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(sim.serve(listener).unwrap());
        let client = TwilioClient::new(
            Url::parse(&sim_base).unwrap(),
            &config.account_sid,
            &config.api_key_sid,
            &config.api_key_secret,
            Duration::from_secs(5),
        )
        .unwrap()
        .with_retry_policy(fast_retries());
        Self {
            app,
            sim,
            sim_base,
            client,
        }
    }

    fn account_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}",
            self.sim_base,
            self.sim.config().account_sid
        )
    }

    fn agent_call(&self, to: &str, conference: &str) -> CreateCall {
        CreateCall {
            to: to.to_owned(),
            from: NUMBER.to_owned(),
            url: Some(
                self.app
                    .url(&format!("/twilio/agent?conference={conference}")),
            ),
            status_callback: Some(self.app.url("/twilio/call-status")),
            status_callback_events: CallProgressEvent::ALL.to_vec(),
            timeout_secs: Some(30),
            ..CreateCall::default()
        }
    }

    /// A customer waiting in their conference; returns (customer call SID, conference name,
    /// conference SID).
    async fn customer_waiting(&self) -> (String, String, String) {
        let customer = self.sim.dial_in(CUSTOMER);
        let name = format!("call-{customer}");
        let snapshot = self
            .sim
            .wait_for(
                |s| {
                    s.conference_named(&name)
                        .is_some_and(|c| c.participant(&customer).is_some())
                },
                WAIT,
            )
            .await
            .unwrap();
        let conference = snapshot.conference_named(&name).unwrap().sid.clone();
        (customer, name, conference)
    }

    /// Customer and agent bridged: returns (customer, agent, conference SID).
    async fn bridged(&self) -> (String, String, String) {
        let (customer, name, conference) = self.customer_waiting().await;
        let agent = self
            .client
            .create_call(&self.agent_call("client:alice", &name))
            .await
            .unwrap();
        self.sim
            .wait_for_ringing("client:alice", WAIT)
            .await
            .unwrap();
        self.sim.accept(&agent.sid).unwrap();
        let conference_sid = conference.clone();
        self.sim
            .wait_for(
                |s| {
                    s.conference(&conference_sid).is_some_and(|c| {
                        c.status == ConferenceStatus::InProgress && c.participants.len() == 2
                    })
                },
                WAIT,
            )
            .await
            .unwrap();
        (customer, agent.sid, conference)
    }

    async fn conference_webhook(&self, event: &str, call_sid: Option<&str>) -> WebhookRecord {
        let log = self
            .sim
            .wait_for_webhooks(
                |log| log.iter().any(|r| is_conference_event(r, event, call_sid)),
                WAIT,
            )
            .await
            .unwrap_or_else(|error| panic!("no {event} for {call_sid:?}: {:#?}", error.last));
        log.into_iter()
            .find(|r| is_conference_event(r, event, call_sid))
            .unwrap()
    }

    async fn call_webhook(&self, call_sid: &str, event: &str) -> WebhookRecord {
        let matches = |r: &WebhookRecord| {
            r.kind == WebhookKind::CallStatus
                && r.call_sid.as_deref() == Some(call_sid)
                && r.event.as_deref() == Some(event)
        };
        let log = self
            .sim
            .wait_for_webhooks(|log| log.iter().any(matches), WAIT)
            .await
            .unwrap_or_else(|_| panic!("no {event} callback for {call_sid}"));
        log.into_iter().find(|r| matches(r)).unwrap()
    }
}

fn is_conference_event(record: &WebhookRecord, event: &str, call_sid: Option<&str>) -> bool {
    record.kind == WebhookKind::ConferenceStatus
        && record.event.as_deref() == Some(event)
        && (call_sid.is_none() || record.param("CallSid") == call_sid)
        && record.response_status.is_some()
}

// ------------------------------------------------------------------------------ tests

#[tokio::test]
async fn warm_transfer_flow_with_signed_webhooks_and_twilios_rules() {
    let h = Harness::start();

    // A customer calls: the voice webhook is signed and carries Twilio's parameters.
    let customer = h.sim.dial_in(CUSTOMER);
    let voice = h
        .sim
        .wait_for_webhooks(
            |log| {
                log.iter()
                    .any(|r| r.kind == WebhookKind::Voice && r.response_status == Some(200))
            },
            WAIT,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.kind == WebhookKind::Voice)
        .unwrap();
    assert_eq!(voice.param("CallSid"), Some(customer.as_str()));
    assert_eq!(voice.param("CallStatus"), Some("ringing"));
    assert_eq!(voice.param("Direction"), Some("inbound"));
    assert_eq!(voice.param("From"), Some(CUSTOMER));
    assert_eq!(voice.param("Caller"), Some(CUSTOMER));
    assert_eq!(voice.param("To"), Some(NUMBER));
    assert_eq!(voice.param("Called"), Some(NUMBER));
    assert_eq!(voice.param("ApiVersion"), Some("2010-04-01"));
    assert_eq!(
        voice.param("AccountSid"),
        Some(h.sim.config().account_sid.as_str())
    );
    let app_voice = h
        .app
        .records()
        .into_iter()
        .find(|r| r.path == "/twilio/voice")
        .unwrap();
    assert!(
        app_voice.signature_valid,
        "voice webhook signature must validate"
    );

    // The customer waits in the conference and hears the wait URL.
    let name = format!("call-{customer}");
    let wait_music = Heard::Play {
        source: HeardSource::WaitUrl,
        url: "https://cdn.test/wait.mp3".into(),
    };
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&customer)
                    .is_some_and(|c| c.heard.contains(&wait_music))
            },
            WAIT,
        )
        .await
        .unwrap();
    let conference = snapshot.conference_named(&name).unwrap().clone();
    assert_eq!(conference.status, ConferenceStatus::Init);
    let caller = snapshot.call(&customer).unwrap();
    assert_eq!(caller.status, CallStatus::InProgress);
    assert!(caller.heard.contains(&Heard::Fetched {
        source: HeardSource::WaitUrl,
        url: h.app.url("/twilio/wait"),
    }));
    assert!(caller
        .said()
        .contains(&"Thanks for calling, an agent will be with you shortly"));
    let join = h
        .conference_webhook("participant-join", Some(&customer))
        .await;
    assert_eq!(join.param("FriendlyName"), Some(name.as_str()));
    assert_eq!(join.param("EndConferenceOnExit"), Some("true"));
    assert_eq!(join.param("StartConferenceOnEnter"), Some("false"));
    let found = h
        .client
        .list_conferences_by_name(&name, Some(RestConferenceStatus::Init))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].sid, conference.sid);

    // The router rings client:alice.
    let agent = h
        .client
        .create_call(&h.agent_call("client:alice", &name))
        .await
        .unwrap();
    assert_eq!(agent.status, Some(twilio::rest::CallStatus::Queued));
    assert_eq!(agent.direction.as_deref(), Some("outbound-api"));
    let ringing = h.sim.wait_for_ringing("alice", WAIT).await.unwrap();
    assert_eq!(ringing.call_sid, agent.sid);
    assert_eq!(
        h.call_webhook(&agent.sid, "initiated")
            .await
            .param("SequenceNumber"),
        Some("0")
    );
    let ringing_cb = h.call_webhook(&agent.sid, "ringing").await;
    assert_eq!(ringing_cb.param("CallStatus"), Some("ringing"));
    assert_eq!(ringing_cb.param("SequenceNumber"), Some("1"));
    assert_eq!(
        ringing_cb.param("CallbackSource"),
        Some("call-progress-events")
    );

    // Alice accepts: answered callback, agent-leg TwiML, conference starts.
    h.sim.accept(&agent.sid).unwrap();
    let answered = h.call_webhook(&agent.sid, "answered").await;
    assert_eq!(answered.param("CallStatus"), Some("in-progress"));
    assert_eq!(answered.param("SequenceNumber"), Some("2"));
    let agent_join = h
        .conference_webhook("participant-join", Some(&agent.sid))
        .await;
    assert_eq!(agent_join.param("StartConferenceOnEnter"), Some("true"));
    h.conference_webhook("conference-start", None).await;
    let agent_leg = h
        .app
        .records()
        .into_iter()
        .find(|r| r.path == "/twilio/agent")
        .expect("agent-leg TwiML fetched");
    assert_eq!(agent_leg.param("CallStatus"), Some("in-progress"));
    assert_eq!(agent_leg.param("Direction"), Some("outbound-api"));
    assert_eq!(agent_leg.param("To"), Some("client:alice"));

    // Hold the customer with hold music.
    let held = h
        .client
        .update_participant(
            &conference.sid,
            &customer,
            &UpdateParticipant {
                hold: Some(true),
                hold_url: Some(h.app.url("/twilio/hold")),
                ..UpdateParticipant::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(held.hold, Some(true));
    h.conference_webhook("participant-hold", Some(&customer))
        .await;
    h.sim
        .wait_for(
            |s| {
                s.call(&customer).is_some_and(|c| {
                    c.heard.contains(&Heard::Play {
                        source: HeardSource::HoldUrl,
                        url: "https://cdn.test/hold.mp3".into(),
                    })
                })
            },
            WAIT,
        )
        .await
        .expect("the held customer hears the hold URL");

    // The trap: EndConferenceOnExit is ignored while held (no error, no change, no modify).
    let unchanged = h
        .client
        .update_participant(
            &conference.sid,
            &customer,
            &UpdateParticipant {
                end_conference_on_exit: Some(false),
                ..UpdateParticipant::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(unchanged.end_conference_on_exit, Some(true));
    // Barrier: conference callbacks are delivered in order, so once this mute arrives any
    // modify from the earlier request would have arrived too.
    h.client
        .update_participant(
            &conference.sid,
            &agent.sid,
            &UpdateParticipant {
                muted: Some(true),
                ..UpdateParticipant::default()
            },
        )
        .await
        .unwrap();
    h.conference_webhook("participant-mute", Some(&agent.sid))
        .await;
    assert!(
        !h.sim
            .webhook_log()
            .iter()
            .any(|r| r.event.as_deref() == Some("participant-modify")),
        "no participant-modify while held"
    );
    let snapshot = h.sim.snapshot();
    let customer_participant = snapshot
        .conference(&conference.sid)
        .unwrap()
        .participant(&customer)
        .unwrap();
    assert!(customer_participant.hold);
    assert!(customer_participant.end_conference_on_exit);
    assert_eq!(
        snapshot.notes.len(),
        1,
        "the ignored change is noted: {:?}",
        snapshot.notes
    );

    // Unhold, then the change applies and is reported.
    h.client
        .update_participant(
            &conference.sid,
            &customer,
            &UpdateParticipant {
                hold: Some(false),
                ..UpdateParticipant::default()
            },
        )
        .await
        .unwrap();
    h.conference_webhook("participant-unhold", Some(&customer))
        .await;
    let updated = h
        .client
        .update_participant(
            &conference.sid,
            &customer,
            &UpdateParticipant {
                end_conference_on_exit: Some(false),
                ..UpdateParticipant::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.end_conference_on_exit, Some(false));
    let modify = h
        .conference_webhook("participant-modify", Some(&customer))
        .await;
    assert_eq!(modify.param("EndConferenceOnExit"), Some("false"));
    // Give it back so the customer's hang-up ends the conference.
    h.client
        .update_participant(
            &conference.sid,
            &customer,
            &UpdateParticipant {
                end_conference_on_exit: Some(true),
                ..UpdateParticipant::default()
            },
        )
        .await
        .unwrap();
    h.sim
        .wait_for_webhooks(
            |log| {
                log.iter().any(|r| {
                    r.event.as_deref() == Some("participant-modify")
                        && r.param("EndConferenceOnExit") == Some("true")
                })
            },
            WAIT,
        )
        .await
        .unwrap();

    // The customer hangs up: the conference ends and the agent leg completes.
    h.sim.hang_up(&customer).unwrap();
    let end = h.conference_webhook("conference-end", None).await;
    assert_eq!(
        end.param("ReasonConferenceEnded"),
        Some("participant-with-end-conference-on-exit-left")
    );
    assert_eq!(
        end.param("CallSidEndingConference"),
        Some(customer.as_str())
    );
    let customer_leave = h
        .conference_webhook("participant-leave", Some(&customer))
        .await;
    assert_eq!(
        customer_leave.param("ReasonParticipantLeft"),
        Some("participant_hung_up")
    );
    assert_eq!(
        customer_leave.param("ParticipantCallStatus"),
        Some("completed")
    );
    let agent_leave = h
        .conference_webhook("participant-leave", Some(&agent.sid))
        .await;
    assert_eq!(
        agent_leave.param("ReasonParticipantLeft"),
        Some("moderator_ended_conference")
    );
    let completed = h.call_webhook(&agent.sid, "completed").await;
    assert_eq!(completed.param("CallStatus"), Some("completed"));
    assert_eq!(completed.param("SequenceNumber"), Some("3"));
    assert!(completed.param("CallDuration").is_some());
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&customer)
                    .is_some_and(|c| c.status == CallStatus::Completed)
                    && s.call(&agent.sid)
                        .is_some_and(|c| c.status == CallStatus::Completed)
            },
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        snapshot.conference(&conference.sid).unwrap().status,
        ConferenceStatus::Completed
    );
    let fetched = h.client.fetch_conference(&conference.sid).await.unwrap();
    assert_eq!(
        fetched.reason_conference_ended.as_deref(),
        Some("participant-with-end-conference-on-exit-left")
    );
    assert!(h
        .client
        .fetch_participant(&conference.sid, &customer)
        .await
        .unwrap_err()
        .is_not_found());

    // Conference callbacks arrived in order, every webhook was signed correctly.
    let sequence: Vec<u32> = h
        .app
        .conference_events()
        .iter()
        .map(|r| r.param("SequenceNumber").unwrap().parse().unwrap())
        .collect();
    assert!(sequence.windows(2).all(|w| w[0] < w[1]), "{sequence:?}");
    assert_eq!(sequence.first(), Some(&1));
    let records = h.app.records();
    assert!(records.len() > 15);
    assert!(records.iter().all(|r| r.signature_valid), "{records:#?}");
}

async fn raw(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    form: &[(&str, &str)],
    auth: Option<(&str, &str)>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("{}{path}", h.account_url()));
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    if !form.is_empty() {
        request = request.form(form);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn rest_rejects_what_twilio_rejects() {
    let h = Harness::start();
    let config = h.sim.config().clone();
    let key = Some((config.api_key_sid.as_str(), config.api_key_secret.as_str()));
    let post = reqwest::Method::POST;
    let agent_url = h.app.url("/twilio/agent");
    let good = [
        ("To", "client:alice"),
        ("From", NUMBER),
        ("Url", agent_url.as_str()),
    ];

    let (status, body) = raw(&h, post.clone(), "/Calls.json", &good, None).await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(20003)));
    let (status, _) = raw(
        &h,
        post.clone(),
        "/Calls.json",
        &good,
        Some((&config.api_key_sid, "wrong")),
    )
    .await;
    assert_eq!(status, 401);

    let cases: Vec<(Vec<(&str, &str)>, i64)> = vec![
        (vec![("From", NUMBER), ("Url", agent_url.as_str())], 21201),
        (vec![("To", "client:alice"), ("From", NUMBER)], 21205),
        (
            vec![("To", "client:alice"), ("Url", agent_url.as_str())],
            21213,
        ),
        (
            vec![
                ("To", "client:alice"),
                ("From", NUMBER),
                ("Url", "not a url"),
            ],
            21205,
        ),
        (
            vec![
                ("To", "alice"),
                ("From", NUMBER),
                ("Url", agent_url.as_str()),
            ],
            21211,
        ),
        (
            vec![
                ("To", "client:alice"),
                ("From", "+15559999999"),
                ("Url", agent_url.as_str()),
            ],
            21210,
        ),
        (
            vec![
                ("To", "client:alice"),
                ("From", NUMBER),
                ("Url", agent_url.as_str()),
                ("Foo", "1"),
            ],
            20001,
        ),
        (
            vec![
                ("To", "client:alice"),
                ("From", NUMBER),
                ("Url", agent_url.as_str()),
                ("StatusCallbackEvent", "picked-up"),
            ],
            20001,
        ),
        (
            vec![
                ("To", "client:alice"),
                ("From", NUMBER),
                ("Url", agent_url.as_str()),
                ("Timeout", "soon"),
            ],
            20001,
        ),
    ];
    for (form, code) in cases {
        let (status, body) = raw(&h, post.clone(), "/Calls.json", &form, key).await;
        assert_eq!(status, 400, "{form:?}: {body}");
        assert_eq!(body["code"].as_i64(), Some(code), "{form:?}: {body}");
        assert_eq!(body["status"].as_i64(), Some(400));
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(
            body["more_info"].as_str(),
            Some(format!("https://www.twilio.com/docs/errors/{code}").as_str())
        );
    }

    // A good request works and returns a realistic Call resource.
    let (status, call) = raw(&h, post.clone(), "/Calls.json", &good, key).await;
    assert_eq!(status, 201, "{call}");
    let sid = call["sid"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("CA") && sid.len() == 34);
    assert_eq!(call["status"], "queued");
    assert_eq!(call["account_sid"], config.account_sid.as_str());
    assert_eq!(
        call["uri"],
        format!(
            "/2010-04-01/Accounts/{}/Calls/{sid}.json",
            config.account_sid
        )
    );
    assert!(call["date_created"].as_str().unwrap().ends_with("+0000"));

    // Bad enum on update, bad SIDs, unknown resources, unsupported methods.
    let (status, body) = raw(
        &h,
        post.clone(),
        &format!("/Calls/{sid}.json"),
        &[("Status", "busy")],
        key,
    )
    .await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(20001)));
    let (status, _) = raw(&h, reqwest::Method::GET, "/Calls/not-a-sid.json", &[], key).await;
    assert_eq!(status, 400);
    let unknown = format!("CA{}", "0".repeat(32));
    let (status, body) = raw(
        &h,
        reqwest::Method::GET,
        &format!("/Calls/{unknown}.json"),
        &[],
        key,
    )
    .await;
    assert_eq!((status, body["code"].as_i64()), (404, Some(20404)));
    assert!(h
        .client
        .fetch_call(&unknown)
        .await
        .unwrap_err()
        .is_not_found());
    let (status, _) = raw(
        &h,
        reqwest::Method::DELETE,
        &format!("/Calls/{sid}.json"),
        &[],
        key,
    )
    .await;
    assert_eq!(status, 405);
    let (status, _) = raw(&h, reqwest::Method::GET, "/Queues.json", &[], key).await;
    assert_eq!(status, 404);
    let (status, _) = raw(
        &h,
        reqwest::Method::GET,
        "/Conferences.json?Status=bogus",
        &[],
        key,
    )
    .await;
    assert_eq!(status, 400);
    let other_account = format!("/2010-04-01/Accounts/AC{}/Calls.json", "f".repeat(32));
    let response = reqwest::Client::new()
        .get(format!("{}{other_account}", h.sim_base))
        .basic_auth(&config.api_key_sid, Some(&config.api_key_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    // Account SID + auth token also authenticate.
    let (status, _) = raw(
        &h,
        reqwest::Method::GET,
        &format!("/Calls/{sid}.json"),
        &[],
        Some((&config.account_sid, &config.auth_token)),
    )
    .await;
    assert_eq!(status, 200);

    // Status=canceled hangs up the ringing call; the log saw every request.
    h.client
        .update_call(
            &sid,
            &UpdateCall {
                status: Some(CallUpdateStatus::Canceled),
                ..UpdateCall::default()
            },
        )
        .await
        .unwrap();
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&sid)
                    .is_some_and(|c| c.status == CallStatus::Canceled)
            },
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        snapshot.call(&sid).unwrap().ended_by.as_deref(),
        Some("canceled via REST")
    );
    // Redirecting a finished call is 21220.
    let error = h
        .client
        .update_call(
            &sid,
            &UpdateCall {
                url: Some(agent_url.clone()),
                ..UpdateCall::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.twilio_code(), Some(21220));
    let log = h.sim.rest_log();
    assert!(log.iter().any(|r| r.status == 401));
    assert!(log
        .iter()
        .any(|r| r.status == 201 && r.operation.as_deref() == Some("CreateCall")));
    assert!(log
        .iter()
        .any(|r| r.operation.as_deref() == Some("UpdateCall")
            && r.param("Status") == Some("canceled")));
}

#[tokio::test]
async fn server_errors_are_injected_and_the_client_retry_succeeds() {
    let h = Harness::start();
    let (customer, _, _) = h.customer_waiting().await;
    for status in [500, 503, 429] {
        h.sim.fail_next_rest(1, status);
        let call = h.client.fetch_call(&customer).await.unwrap();
        assert_eq!(call.sid, customer);
        let log = h.sim.rest_log();
        let last_two: Vec<(u16, Option<&str>)> = log[log.len() - 2..]
            .iter()
            .map(|r| (r.status, r.fault.as_deref()))
            .collect();
        assert_eq!(last_two, [(status, Some("fail")), (200, None)]);
    }
    // Retries exhausted: the client reports Twilio unavailable.
    h.sim.fail_next_rest(10, 500);
    assert!(matches!(
        h.client.fetch_call(&customer).await,
        Err(TwilioError::Unavailable { attempts: 4, .. })
    ));
    h.sim.clear_faults();
    h.client.fetch_call(&customer).await.unwrap();
}

#[tokio::test]
async fn a_timed_out_request_still_takes_effect() {
    let h = Harness::start();
    let config = h.sim.config().clone();
    let impatient = TwilioClient::new(
        Url::parse(&h.sim_base).unwrap(),
        &config.account_sid,
        &config.api_key_sid,
        &config.api_key_secret,
        Duration::from_millis(200),
    )
    .unwrap()
    .with_retry_policy(RetryPolicy {
        max_retries: 0,
        ..fast_retries()
    });
    h.sim.timeout_next_rest(1, Duration::from_millis(600));
    let result = impatient
        .create_call(&h.agent_call("client:bob", "room"))
        .await;
    assert!(result.is_err(), "the client gave up");
    h.sim
        .wait_for_ringing("client:bob", WAIT)
        .await
        .expect("but the call was placed");
}

#[tokio::test]
async fn callbacks_can_be_duplicated_and_reordered() {
    let h = Harness::start();
    let (customer, _agent, conference) = h.bridged().await;
    h.sim.settle(WAIT).await.unwrap();
    let mute = |muted: bool| UpdateParticipant {
        muted: Some(muted),
        ..UpdateParticipant::default()
    };

    h.sim.duplicate_next_callbacks(1);
    h.client
        .update_participant(&conference, &customer, &mute(true))
        .await
        .unwrap();
    let log = h
        .sim
        .wait_for_webhooks(
            |log| {
                log.iter()
                    .filter(|r| r.event.as_deref() == Some("participant-mute"))
                    .count()
                    == 2
            },
            WAIT,
        )
        .await
        .unwrap();
    let copies: Vec<&WebhookRecord> = log
        .iter()
        .filter(|r| r.event.as_deref() == Some("participant-mute"))
        .collect();
    assert_eq!(
        copies[0].params, copies[1].params,
        "same SequenceNumber and parameters"
    );
    assert_eq!(copies[0].idempotency_token, copies[1].idempotency_token);
    assert!(!copies[0].duplicate && copies[1].duplicate);
    let received: Vec<AppRecord> = h
        .app
        .conference_events()
        .into_iter()
        .filter(|r| r.param("StatusCallbackEvent") == Some("participant-mute"))
        .collect();
    assert_eq!(received.len(), 2, "the app received the callback twice");
    assert_eq!(received[0].idempotency_token, received[1].idempotency_token);

    // Reordered: unmute then hold, delivered hold first.
    h.sim.reorder_next_callbacks(2);
    h.client
        .update_participant(&conference, &customer, &mute(false))
        .await
        .unwrap();
    h.client
        .update_participant(
            &conference,
            &customer,
            &UpdateParticipant {
                hold: Some(true),
                ..UpdateParticipant::default()
            },
        )
        .await
        .unwrap();
    h.conference_webhook("participant-unmute", Some(&customer))
        .await;
    let events: Vec<(String, u32)> = h
        .app
        .conference_events()
        .iter()
        .map(|r| {
            (
                r.param("StatusCallbackEvent").unwrap().to_owned(),
                r.param("SequenceNumber").unwrap().parse().unwrap(),
            )
        })
        .collect();
    let tail = &events[events.len() - 2..];
    assert_eq!(tail[0].0, "participant-hold", "{events:?}");
    assert_eq!(tail[1].0, "participant-unmute", "{events:?}");
    assert!(
        tail[0].1 > tail[1].1,
        "sequence numbers reveal the reordering: {events:?}"
    );
    // No hold URL given: Twilio's default music.
    assert!(h
        .sim
        .snapshot()
        .call(&customer)
        .unwrap()
        .heard_from(HeardSource::Twilio));
}

#[tokio::test]
async fn ring_timeout_is_no_answer_and_reject_is_busy() {
    let h = Harness::start_with(
        "/twilio/voice",
        None,
        SimOptions {
            time_scale: 0.01,
            ..SimOptions::default()
        },
    );
    let (_, name, _) = h.customer_waiting().await;
    let unanswered = h
        .client
        .create_call(&h.agent_call("client:alice", &name))
        .await
        .unwrap();
    let completed = h.call_webhook(&unanswered.sid, "completed").await;
    assert_eq!(completed.param("CallStatus"), Some("no-answer"));
    assert_eq!(completed.param("CallDuration"), Some("0"));

    let rejected = h
        .client
        .create_call(&h.agent_call("client:bob", &name))
        .await
        .unwrap();
    h.sim.wait_for_ringing("client:bob", WAIT).await.unwrap();
    h.sim.reject(&rejected.sid).unwrap();
    let completed = h.call_webhook(&rejected.sid, "completed").await;
    assert_eq!(completed.param("CallStatus"), Some("busy"));
    let fetched = h.client.fetch_call(&rejected.sid).await.unwrap();
    assert_eq!(fetched.status, Some(twilio::rest::CallStatus::Busy));

    // A phone that answers by itself joins without any manual accept.
    h.sim
        .set_endpoint("+15557654321", Endpoint::Answer { after_ms: 10 });
    let external = h
        .client
        .create_call(&h.agent_call("+15557654321", &name))
        .await
        .unwrap();
    h.conference_webhook("participant-join", Some(&external.sid))
        .await;
}

#[tokio::test]
async fn removing_and_redirecting_participants() {
    let h = Harness::start();
    let (customer, agent, conference) = h.bridged().await;

    // DELETE the agent: it leaves (updated via API), its leg hangs up, the customer stays.
    h.client
        .remove_participant(&conference, &agent)
        .await
        .unwrap();
    let leave = h
        .conference_webhook("participant-leave", Some(&agent))
        .await;
    assert_eq!(
        leave.param("ReasonParticipantLeft"),
        Some("participant_updated_via_api")
    );
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&agent)
                    .is_some_and(|c| c.status == CallStatus::Completed)
            },
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        snapshot.conference(&conference).unwrap().status,
        ConferenceStatus::InProgress
    );
    assert!(h
        .client
        .remove_participant(&conference, &agent)
        .await
        .unwrap_err()
        .is_not_found());

    // Redirect the customer's leg: it leaves the conference and runs the new TwiML.
    h.client
        .update_call(
            &customer,
            &UpdateCall {
                url: Some(h.app.url("/twilio/goodbye")),
                ..UpdateCall::default()
            },
        )
        .await
        .unwrap();
    let leave = h
        .conference_webhook("participant-leave", Some(&customer))
        .await;
    assert_eq!(
        leave.param("ReasonParticipantLeft"),
        Some("participant_updated_via_api")
    );
    assert_eq!(leave.param("ParticipantCallStatus"), Some("in-progress"));
    let end = h.conference_webhook("conference-end", None).await;
    assert_eq!(
        end.param("ReasonConferenceEnded"),
        Some("participant-with-end-conference-on-exit-left")
    );
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&customer)
                    .is_some_and(|c| c.status == CallStatus::Completed)
            },
            WAIT,
        )
        .await
        .unwrap();
    let call = snapshot.call(&customer).unwrap();
    assert_eq!(call.said().last(), Some(&"Goodbye from the transfer desk"));
    assert_eq!(call.ended_by.as_deref(), Some("TwiML <Hangup>"));
}

#[tokio::test]
async fn ending_a_conference_via_the_api_drops_everyone() {
    let h = Harness::start();
    let (customer, agent, conference) = h.bridged().await;
    let ended = h.client.end_conference(&conference).await.unwrap();
    assert_eq!(ended.status, Some(RestConferenceStatus::Completed));
    let end = h.conference_webhook("conference-end", None).await;
    assert_eq!(
        end.param("ReasonConferenceEnded"),
        Some("conference-ended-via-api")
    );
    for sid in [&customer, &agent] {
        let leave = h.conference_webhook("participant-leave", Some(sid)).await;
        assert_eq!(
            leave.param("ReasonParticipantLeft"),
            Some("conference_ended_via_api")
        );
    }
    h.sim
        .wait_for(
            |s| {
                [&customer, &agent].iter().all(|sid| {
                    s.call(sid)
                        .is_some_and(|c| c.status == CallStatus::Completed)
                })
            },
            WAIT,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn failing_voice_url_falls_back_like_twilio() {
    let h = Harness::start_with(
        "/twilio/broken",
        Some("/twilio/fallback"),
        SimOptions::default(),
    );
    let customer = h.sim.dial_in(CUSTOMER);
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&customer)
                    .is_some_and(|c| c.status == CallStatus::Completed)
            },
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        snapshot.call(&customer).unwrap().said(),
        ["Sorry, please call again later"]
    );
    let fallback = h
        .app
        .records()
        .into_iter()
        .find(|r| r.path == "/twilio/fallback")
        .unwrap();
    assert_eq!(fallback.param("ErrorCode"), Some("11200"));
    assert_eq!(
        fallback.param("ErrorUrl"),
        Some(h.app.url("/twilio/broken").as_str())
    );
    assert!(fallback.signature_valid);

    // Invalid TwiML and no fallback: Twilio's application-error message, then hang-up.
    let h = Harness::start_with("/twilio/not-twiml", None, SimOptions::default());
    let customer = h.sim.dial_in(CUSTOMER);
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&customer)
                    .is_some_and(|c| c.status == CallStatus::Completed)
            },
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        snapshot.call(&customer).unwrap().said(),
        [APPLICATION_ERROR_MESSAGE]
    );
}

#[tokio::test]
async fn status_callback_errors_are_logged_not_retried() {
    let h = Harness::start();
    let (_, name, _) = h.customer_waiting().await;
    let call = h
        .client
        .create_call(&CreateCall {
            status_callback: Some(h.app.url("/twilio/flaky-status")),
            ..h.agent_call("client:alice", &name)
        })
        .await
        .unwrap();
    h.sim.wait_for_ringing("client:alice", WAIT).await.unwrap();
    let log = h
        .sim
        .wait_for_webhooks(
            |log| {
                log.iter()
                    .filter(|r| {
                        r.call_sid.as_deref() == Some(call.sid.as_str())
                            && r.kind == WebhookKind::CallStatus
                    })
                    .count()
                    >= 2
            },
            WAIT,
        )
        .await
        .unwrap();
    let attempts: Vec<&WebhookRecord> = log
        .iter()
        .filter(|r| {
            r.kind == WebhookKind::CallStatus && r.call_sid.as_deref() == Some(call.sid.as_str())
        })
        .collect();
    assert!(attempts.iter().all(|r| r.response_status == Some(503)));
    let events: Vec<&str> = attempts.iter().filter_map(|r| r.event.as_deref()).collect();
    assert_eq!(
        events,
        ["initiated", "ringing"],
        "each event once: no retries"
    );
}

#[tokio::test]
async fn control_routes_drive_the_simulator_over_http() {
    let h = Harness::start();
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/sim/calls", h.sim_base))
        .json(&serde_json::json!({ "from": CUSTOMER }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customer = created["call_sid"].as_str().unwrap().to_owned();
    let name = format!("call-{customer}");
    h.sim
        .wait_for(|s| s.conference_named(&name).is_some(), WAIT)
        .await
        .unwrap();
    let agent = h
        .client
        .create_call(&h.agent_call("client:alice", &name))
        .await
        .unwrap();
    h.sim.wait_for_ringing("client:alice", WAIT).await.unwrap();
    let ringing: Value = http
        .get(format!("{}/sim/ringing?to=client:alice", h.sim_base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ringing[0]["call_sid"], agent.sid.as_str());
    let accepted = http
        .post(format!("{}/sim/calls/{}/accept", h.sim_base, agent.sid))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 200);
    let again = http
        .post(format!("{}/sim/calls/{}/accept", h.sim_base, agent.sid))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 409, "already answered");

    let state: Value = http
        .get(format!("{}/sim/state", h.sim_base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let version = state["version"].as_u64().unwrap();
    assert!(state["calls"].as_array().unwrap().len() >= 2);
    // Long-poll: returns once something changes.
    let sim_base = h.sim_base.clone();
    let poll = tokio::spawn(async move {
        reqwest::Client::new()
            .get(format!("{sim_base}/sim/state?after={version}&wait_ms=5000"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    let hung_up = http
        .post(format!("{}/sim/calls/{customer}/hangup", h.sim_base))
        .send()
        .await
        .unwrap();
    assert_eq!(hung_up.status().as_u16(), 200);
    let newer = poll.await.unwrap();
    assert!(newer["version"].as_u64().unwrap() > version);

    let faults: Value = http
        .put(format!("{}/sim/faults", h.sim_base))
        .json(&serde_json::json!({ "webhook_latency_ms": 5 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["webhook_latency_ms"], 5);
    assert_eq!(faults["fail_status"], 500);
    assert_eq!(h.sim.faults().webhook_latency_ms, 5);
    let rest_log: Value = http
        .get(format!("{}/sim/log/rest", h.sim_base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(rest_log
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["operation"] == "CreateCall"));
    let missing = http
        .post(format!(
            "{}/sim/calls/CA{}/hangup",
            h.sim_base,
            "0".repeat(32)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test]
async fn inline_twiml_redirect_pause_and_dial_action_run_like_twilio() {
    let h = Harness::start_with(
        "/twilio/voice",
        None,
        SimOptions {
            time_scale: 0.01,
            ..SimOptions::default()
        },
    );
    let goodbye = h.app.url("/twilio/goodbye");
    // Say, Pause, then Redirect to a URL whose TwiML says goodbye and hangs up.
    let scripted = h
        .client
        .create_call(&CreateCall {
            url: None,
            twiml: Some(format!(
                "<Response><Say>Hello agent</Say><Pause length=\"2\"/><Redirect>{goodbye}</Redirect><Say>unreachable</Say></Response>"
            )),
            ..h.agent_call("client:carol", "unused")
        })
        .await
        .unwrap();
    h.sim.wait_for_ringing("client:carol", WAIT).await.unwrap();
    h.sim.accept(&scripted.sid).unwrap();
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&scripted.sid)
                    .is_some_and(|c| c.status == CallStatus::Completed)
            },
            WAIT,
        )
        .await
        .unwrap();
    let call = snapshot.call(&scripted.sid).unwrap();
    assert_eq!(
        call.said(),
        ["Hello agent", "Goodbye from the transfer desk"]
    );
    assert!(call.heard.contains(&Heard::Pause {
        source: HeardSource::Call,
        seconds: 2
    }));
    assert_eq!(call.ended_by.as_deref(), Some("TwiML <Hangup>"));

    // <Dial action>: when the conference ends the call continues with the action's TwiML, so
    // the conference reports it as still in progress when it drops out.
    let (customer, name, conference) = h.customer_waiting().await;
    let with_action = h
        .client
        .create_call(&CreateCall {
            url: None,
            twiml: Some(format!(
                "<Response><Dial action=\"{goodbye}\"><Conference>{name}</Conference></Dial></Response>"
            )),
            ..h.agent_call("client:dave", "unused")
        })
        .await
        .unwrap();
    h.sim.wait_for_ringing("client:dave", WAIT).await.unwrap();
    h.sim.accept(&with_action.sid).unwrap();
    h.conference_webhook("conference-start", None).await;
    h.sim.hang_up(&customer).unwrap();
    let leave = h
        .conference_webhook("participant-leave", Some(&with_action.sid))
        .await;
    assert_eq!(leave.param("ParticipantCallStatus"), Some("in-progress"));
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&with_action.sid)
                    .is_some_and(|c| c.status == CallStatus::Completed)
            },
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        snapshot.call(&with_action.sid).unwrap().said(),
        ["Goodbye from the transfer desk"]
    );
    let action = h
        .sim
        .webhook_log()
        .into_iter()
        .find(|r| r.kind == WebhookKind::DialAction)
        .expect("the Dial action was requested");
    assert_eq!(action.param("DialCallStatus"), Some("completed"));
    assert_eq!(
        h.sim.snapshot().conference(&conference).unwrap().status,
        ConferenceStatus::Completed
    );
}

#[tokio::test]
async fn failing_wait_url_drops_the_participant_and_the_call_follows_its_dial() {
    let h = Harness::start_with(
        "/twilio/voice",
        None,
        SimOptions {
            time_scale: 0.01,
            ..SimOptions::default()
        },
    );
    let wait = h.app.url("/twilio/wait");
    let goodbye = h.app.url("/twilio/goodbye");
    let status = h.app.url("/twilio/conference-status");
    let waiting_twiml = |action: &str| {
        format!(
            "<Response><Dial{action}><Conference startConferenceOnEnter=\"false\" endConferenceOnExit=\"true\" waitUrl=\"{wait}\" statusCallback=\"{status}\" statusCallbackEvent=\"join leave end\">room-1</Conference></Dial></Response>"
        )
    };

    // With an action: Twilio requests it with the Dial's outcome and runs what it returns.
    h.sim.fail_next_wait_urls(1);
    let with_action = h
        .client
        .create_call(&CreateCall {
            url: None,
            twiml: Some(waiting_twiml(&format!(" action=\"{goodbye}\""))),
            ..h.agent_call("client:erin", "unused")
        })
        .await
        .unwrap();
    h.sim.wait_for_ringing("client:erin", WAIT).await.unwrap();
    h.sim.accept(&with_action.sid).unwrap();
    let snapshot = h
        .sim
        .wait_for(
            |s| {
                s.call(&with_action.sid)
                    .is_some_and(|c| c.status == CallStatus::Completed)
            },
            WAIT,
        )
        .await
        .unwrap();
    let call = snapshot.call(&with_action.sid).unwrap();
    assert_eq!(call.said(), ["Goodbye from the transfer desk"]);
    assert!(call.heard.iter().any(|heard| matches!(
        heard,
        Heard::FetchFailed {
            source: HeardSource::WaitUrl,
            ..
        }
    )));
    let leave = h
        .conference_webhook("participant-leave", Some(&with_action.sid))
        .await;
    assert_eq!(
        leave.param("ReasonParticipantLeft"),
        Some("participant_add_failed")
    );
    assert_eq!(leave.param("ParticipantCallStatus"), Some("in-progress"));
    let action = h
        .sim
        .webhook_log()
        .into_iter()
        .find(|r| r.kind == WebhookKind::DialAction)
        .expect("the Dial action was requested");
    assert_eq!(action.param("DialCallStatus"), Some("failed"));
    assert_eq!(action.param("DialBridged"), Some("false"));
    assert_eq!(
        action.param("DialCallSid"),
        None,
        "not sent for a conference"
    );
    assert_eq!(action.param("CallStatus"), Some("in-progress"));

    // Without one, and nothing after the Dial: the call ends.
    h.sim.fail_next_wait_urls(1);
    let without = h
        .client
        .create_call(&CreateCall {
            url: None,
            twiml: Some(waiting_twiml("")),
            ..h.agent_call("client:frank", "unused")
        })
        .await
        .unwrap();
    h.sim.wait_for_ringing("client:frank", WAIT).await.unwrap();
    h.sim.accept(&without.sid).unwrap();
    let snapshot = h
        .sim
        .wait_for(
            |s| s.call(&without.sid).is_some_and(|c| c.status.is_final()),
            WAIT,
        )
        .await
        .unwrap();
    let call = snapshot.call(&without.sid).unwrap();
    assert_eq!(call.status, CallStatus::Completed);
    assert_eq!(call.ended_by.as_deref(), Some("TwiML finished"));
    assert_eq!(h.sim.faults().fail_next_wait_urls, 0);
}

#[tokio::test]
async fn a_caller_can_hang_up_between_the_voice_webhook_and_the_dial() {
    let h = Harness::start();
    let customer = h.sim.dial_in_and_hang_up_before_twiml(CUSTOMER);
    let snapshot = h
        .sim
        .wait_for(
            |s| s.call(&customer).is_some_and(|c| c.status.is_final()),
            WAIT,
        )
        .await
        .unwrap();
    let call = snapshot.call(&customer).unwrap();
    assert_eq!(call.status, CallStatus::Canceled);
    assert!(snapshot.conferences.is_empty(), "the Dial never ran");
    assert!(h.app.records().iter().any(|r| r.path == "/twilio/voice"));
    assert!(h.app.conference_events().is_empty());
}

#[tokio::test]
async fn first_verb_reject_ends_an_inbound_call_busy_unanswered() {
    let h = Harness::start_with("/twilio/reject", None, SimOptions::default());
    let customer = h.sim.dial_in(CUSTOMER);
    let snapshot = h
        .sim
        .wait_for(
            |s| s.call(&customer).is_some_and(|c| c.status.is_final()),
            WAIT,
        )
        .await
        .unwrap();
    let call = snapshot.call(&customer).unwrap();
    assert_eq!(call.status, CallStatus::Busy);
    assert!(
        call.answered_at.is_none(),
        "<Reject> as first verb never answers"
    );
}

#[tokio::test]
async fn hold_url_defaults_to_get_with_signed_query_parameters() {
    let h = Harness::start();
    let (customer, _agent, conference) = h.bridged().await;
    let config = h.sim.config().clone();
    let hold_url = h.app.url("/twilio/hold");
    // No HoldMethod: Twilio's default for HoldUrl is GET.
    let (status, body) = raw(
        &h,
        reqwest::Method::POST,
        &format!("/Conferences/{conference}/Participants/{customer}.json"),
        &[("Hold", "true"), ("HoldUrl", hold_url.as_str())],
        Some((&config.api_key_sid, &config.api_key_secret)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hold"], true);
    let log = h
        .sim
        .wait_for_webhooks(
            |log| log.iter().any(|r| r.kind == WebhookKind::HoldUrl),
            WAIT,
        )
        .await
        .unwrap();
    let fetch = log.iter().find(|r| r.kind == WebhookKind::HoldUrl).unwrap();
    assert_eq!(fetch.method.as_str(), "GET");
    assert!(
        fetch.url.contains(&format!("CallSid={customer}")),
        "{}",
        fetch.url
    );
    let received = h
        .app
        .records()
        .into_iter()
        .find(|r| r.path == "/twilio/hold")
        .unwrap();
    assert_eq!(received.method, "GET");
    assert!(
        received.signature_valid,
        "GET webhooks are signed over the full URL"
    );
}
