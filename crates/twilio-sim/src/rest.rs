//! Twilio's REST API (the subset the backend uses) at Twilio's real paths, so the production
//! client works against the simulator with only its base URL changed.
//!
//! Requests are checked like Twilio checks them: HTTP Basic auth with an API key (SID + secret)
//! or the account SID + auth token (401, code 20003 otherwise); parameters against the embedded
//! spec tables ([`super::spec_tables`]): unknown names, bad enum values, non-integers,
//! non-booleans, malformed URLs and SIDs are rejected with 400. Errors use Twilio's JSON shape
//! `{code, message, more_info, status}` and, where Twilio documents one, its code: 21201 (no
//! `To`), 21205 (no `Url`, or an invalid URL), 21213 (no `From`), 21211 (invalid `To`), 21210
//! (unverified `From`), 21220 (redirecting a call that is over), 20404 (unknown resource).
//!
//! One deliberate difference: Twilio silently ignores parameters it does not know, while the
//! simulator rejects them (code 20001), so a misspelt parameter in our client fails a test
//! instead of being dropped in production.
//!
//! Every request is recorded ([`RestRecord`]) with its parameters and response status.

use std::time::Duration;

use actix_web::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

use super::engine;
use super::faults::RestFault;
use super::spec_tables::{self as tables, Kind, Location, Operation};
use super::state::{
    is_sid, CallEvent, CallRecord, CallStatus, ConferenceRecord, ConferenceStatus, Direction,
    HttpMethod, HttpTarget, LeaveCause, OutboundSpec, Params, ParticipantChanges,
    ParticipantRecord, Program, WaitSetting, API_VERSION,
};
use super::{Inner, Simulator};

/// One REST request the simulator received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestRecord {
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub query: Params,
    /// Form body parameters.
    pub params: Params,
    /// The spec's operationId when the path and method matched one (e.g. `UpdateParticipant`).
    pub operation: Option<String>,
    pub status: u16,
    /// `fail` or `timeout` when a fault shaped the response.
    pub fault: Option<String>,
}

impl RestRecord {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .chain(self.query.iter())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

pub(crate) fn configure(sim: Simulator, cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/2010-04-01/Accounts/{account_sid}/{tail:.*}").route(web::route().to(
            move |request: HttpRequest, body: web::Bytes| {
                let sim = sim.clone();
                async move { handle(sim, request, body).await }
            },
        )),
    );
}

/// A Twilio error response.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiError {
    status: StatusCode,
    code: u32,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    fn response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        match self.status {
            StatusCode::UNAUTHORIZED => {
                builder.insert_header((WWW_AUTHENTICATE, r#"Basic realm="Twilio API""#));
            }
            StatusCode::TOO_MANY_REQUESTS => {
                builder.insert_header((RETRY_AFTER, "1"));
            }
            _ => {}
        }
        builder.json(json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        }))
    }
}

type Outcome = Result<HttpResponse, ApiError>;

async fn handle(sim: Simulator, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let inner = &sim.inner;
    let method = request.method().as_str().to_owned();
    let path = request.path().to_owned();
    let query: Params = url::form_urlencoded::parse(request.query_string().as_bytes())
        .into_owned()
        .collect();
    let form: Params = url::form_urlencoded::parse(&body).into_owned().collect();

    let (latency, fault) = {
        let mut faults = inner.faults();
        (faults.rest_latency_ms, faults.take_rest_fault())
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let (operation, response, fault_label) = match fault {
        RestFault::Fail(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (code, message) = match status.as_u16() {
                429 => (20429, "Too Many Requests"),
                503 => (20503, "Service Unavailable"),
                _ => (20500, "Internal Server Error"),
            };
            (
                None,
                ApiError::new(status, code, message).response(),
                Some("fail"),
            )
        }
        RestFault::Timeout(delay_ms) => {
            let (operation, response) = process(&sim, &request, &method, &path, &query, &form);
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            (operation, response, Some("timeout"))
        }
        RestFault::None => {
            let (operation, response) = process(&sim, &request, &method, &path, &query, &form);
            (operation, response, None)
        }
    };
    let record = RestRecord {
        at: Utc::now(),
        method,
        path,
        query,
        params: form,
        operation: operation.map(str::to_owned),
        status: response.status().as_u16(),
        fault: fault_label.map(str::to_owned),
    };
    {
        let mut state = inner.lock();
        inner.append_log(&mut state.rest_log, record);
    }
    inner.bump();
    response
}

fn authorized(inner: &Inner, request: &HttpRequest) -> bool {
    let Some(header) = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, encoded)) = header.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Some(text) = BASE64
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return false;
    };
    let Some((user, password)) = text.split_once(':') else {
        return false;
    };
    let config = &inner.config;
    (user == config.api_key_sid && password == config.api_key_secret)
        || (user == config.account_sid && password == config.auth_token)
}

/// Matches a concrete path against a spec path template (`/…/Calls/{Sid}.json`), returning the
/// path parameters by name.
fn match_path<'a>(template: &'static str, path: &'a str) -> Option<Vec<(&'static str, &'a str)>> {
    let template_segments: Vec<&'static str> = template.split('/').collect();
    let path_segments: Vec<&'a str> = path.split('/').collect();
    if template_segments.len() != path_segments.len() {
        return None;
    }
    let mut values = Vec::new();
    for (expected, actual) in template_segments.into_iter().zip(path_segments) {
        match expected.strip_prefix('{') {
            Some(rest) => {
                let (name, suffix) = rest.split_once('}')?;
                let value = actual.strip_suffix(suffix)?;
                if value.is_empty() {
                    return None;
                }
                values.push((name, value));
            }
            None if expected == actual => {}
            None => return None,
        }
    }
    Some(values)
}

fn process(
    sim: &Simulator,
    request: &HttpRequest,
    method: &str,
    path: &str,
    query: &Params,
    form: &Params,
) -> (Option<&'static str>, HttpResponse) {
    let inner = &sim.inner;
    if !authorized(inner, request) {
        return (
            None,
            ApiError::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate").response(),
        );
    }
    let matches: Vec<(&'static Operation, Vec<(&'static str, &str)>)> = tables::OPERATIONS
        .iter()
        .filter_map(|operation| match_path(operation.path, path).map(|values| (*operation, values)))
        .collect();
    if matches.is_empty() {
        return (None, ApiError::not_found(path).response());
    }
    let Some((operation, values)) = matches
        .into_iter()
        .find(|(operation, _)| operation.method == method)
    else {
        // Also where real Twilio operations the simulator does not serve land (deleting call
        // records, adding participants through the API).
        return (
            None,
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed").response(),
        );
    };
    let value = |name: &str| {
        values
            .iter()
            .find(|(key, _)| *key == name)
            .map_or("", |(_, value)| *value)
    };
    let outcome = check_request(operation, &values, query, form).and_then(|()| {
        if value("AccountSid") != inner.config.account_sid {
            return Err(ApiError::not_found(path));
        }
        let params = match operation.location {
            Location::Query => query,
            _ => form,
        };
        match operation.id {
            "CreateCall" => create_call(sim, params),
            "ListCall" => list_calls(inner, path, params),
            "FetchCall" => fetch_call(inner, path, value("Sid")),
            "UpdateCall" => update_call(sim, path, value("Sid"), params),
            "ListConference" => list_conferences(inner, path, params),
            "FetchConference" => fetch_conference(inner, path, value("Sid")),
            "UpdateConference" => update_conference(sim, path, value("Sid"), params),
            "ListParticipant" => list_participants(inner, path, value("ConferenceSid"), params),
            "FetchParticipant" => {
                fetch_participant(inner, path, value("ConferenceSid"), value("CallSid"))
            }
            "UpdateParticipant" => {
                update_participant(sim, path, value("ConferenceSid"), value("CallSid"), params)
            }
            "DeleteParticipant" => {
                delete_participant(sim, path, value("ConferenceSid"), value("CallSid"))
            }
            _ => Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                20004,
                "Method not allowed",
            )),
        }
    });
    let response = match outcome {
        Ok(response) => response,
        Err(error) => error.response(),
    };
    (Some(operation.id), response)
}

/// Path SIDs, parameter names, types and enum values, as the spec defines them.
fn check_request(
    operation: &Operation,
    path_values: &[(&'static str, &str)],
    query: &Params,
    form: &Params,
) -> Result<(), ApiError> {
    for (name, prefix) in operation.path_params {
        let value = path_values
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| *value);
        if let Some(prefix) = prefix {
            if !is_sid(value, prefix) {
                return Err(ApiError::bad(
                    20001,
                    format!("Invalid {name}: {value:?} is not a valid {prefix} SID"),
                ));
            }
        }
    }
    let (params, other) = match operation.location {
        Location::Query => (query, form),
        Location::Form | Location::None => (form, query),
    };
    if let Some((name, _)) = other.first() {
        return Err(ApiError::bad(20001, format!("Unknown parameter: {name}")));
    }
    validate_params(operation, params)
}

fn validate_params(operation: &Operation, params: &Params) -> Result<(), ApiError> {
    for (name, value) in params {
        let Some(param) = operation.param(name) else {
            return Err(ApiError::bad(20001, format!("Unknown parameter: {name}")));
        };
        let invalid = |detail: String| ApiError::bad(20001, format!("Invalid {name}: {detail}"));
        match param.kind {
            Kind::Text | Kind::List => {}
            Kind::Uri => {
                if !value.is_empty() && parse_http_url(value).is_none() {
                    return Err(ApiError::bad(
                        21205,
                        format!("{name} is not a valid URL: {value}"),
                    ));
                }
            }
            Kind::HttpMethod => {
                if HttpMethod::parse(value).is_none() {
                    return Err(invalid(format!("{value:?} must be GET or POST")));
                }
            }
            Kind::Integer => {
                if value.trim().parse::<i64>().is_err() {
                    return Err(invalid(format!("{value:?} is not an integer")));
                }
            }
            Kind::Boolean => {
                if parse_bool(value).is_none() {
                    return Err(invalid(format!("{value:?} must be true or false")));
                }
            }
            Kind::Enum(values) => {
                if !values.contains(&value.as_str()) {
                    return Err(invalid(format!(
                        "{value:?} is not one of {}",
                        values.join(", ")
                    )));
                }
            }
            Kind::Sid(prefix) => {
                if !is_sid(value, prefix) {
                    return Err(invalid(format!("{value:?} is not a valid {prefix} SID")));
                }
            }
            Kind::Events { values, .. } => {
                // One event per parameter per the spec; space-separated lists are tolerated.
                if let Some(bad) = value
                    .split_whitespace()
                    .find(|event| !values.contains(event))
                {
                    return Err(invalid(format!(
                        "{bad:?} is not one of {}",
                        values.join(", ")
                    )));
                }
            }
        }
    }
    Ok(())
}

fn parse_http_url(value: &str) -> Option<Url> {
    let url = Url::parse(value.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then_some(url)
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The last value of `name` (Twilio takes one value for scalar parameters).
fn get<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Like [`get`], but an empty value counts as absent (Twilio's examples send `Url=''`).
fn get_set<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    get(params, name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// A URL parameter with its method parameter (validated already).
fn target(params: &Params, url: &str, method: &str, default: HttpMethod) -> Option<HttpTarget> {
    let url = parse_http_url(get_set(params, url)?)?;
    let method = get(params, method)
        .and_then(HttpMethod::parse)
        .unwrap_or(default);
    Some(HttpTarget { url, method })
}

fn bool_param(params: &Params, name: &str) -> Option<bool> {
    get(params, name).and_then(parse_bool)
}

fn created(value: Value) -> HttpResponse {
    HttpResponse::Created().json(value)
}

fn ok(value: Value) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

// ---------------------------------------------------------------------- calls

fn valid_to(to: &str) -> bool {
    if let Some(digits) = to.strip_prefix('+') {
        return (2..=15).contains(&digits.len())
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && !digits.starts_with('0');
    }
    if let Some(identity) = to.strip_prefix("client:") {
        return !identity.is_empty() && !identity.chars().any(char::is_whitespace);
    }
    to.starts_with("sip:") && to.len() > 4
}

fn create_call(sim: &Simulator, params: &Params) -> Outcome {
    let inner = &sim.inner;
    // Twilio checks To (21201), then one of Url/Twiml/ApplicationSid (21205), then From (21213).
    debug_assert_eq!(tables::CREATE_CALL.required, ["To", "From"]);
    let Some(to) = get_set(params, "To") else {
        return Err(ApiError::bad(21201, "No 'To' number is specified"));
    };
    let url = get_set(params, "Url");
    let twiml = get_set(params, "Twiml");
    let application = get_set(params, "ApplicationSid");
    if url.is_none() && twiml.is_none() && application.is_none() {
        return Err(ApiError::bad(21205, "Url parameter is required."));
    }
    let Some(from) = get_set(params, "From") else {
        return Err(ApiError::bad(21213, "From phone number is required."));
    };
    if application.is_some() {
        // The simulated account has no TwiML applications.
        return Err(ApiError::bad(21218, "Invalid ApplicationSid"));
    }
    if !valid_to(to) {
        return Err(ApiError::bad(
            21211,
            format!("Invalid 'To' Phone Number: {to}"),
        ));
    }
    if from != inner.config.phone_number && !from.starts_with("client:") {
        return Err(ApiError::bad(
            21210,
            format!(
                "The source phone number provided, {from}, is not yet verified for your account. \
                 You may only make calls from phone numbers that you've verified or purchased from Twilio."
            ),
        ));
    }
    // Twilio: when both are given, Twiml is ignored.
    let program = match target(params, "Url", "Method", HttpMethod::Post) {
        Some(target) => Program::Url(target),
        None => Program::Twiml(twiml.unwrap_or_default().to_owned()),
    };
    let status_events: Vec<CallEvent> = params
        .iter()
        .filter(|(name, _)| name == "StatusCallbackEvent")
        .flat_map(|(_, value)| value.split_whitespace())
        .filter_map(CallEvent::parse)
        .collect();
    let timeout_secs = get(params, "Timeout")
        .and_then(|value| value.trim().parse::<i64>().ok())
        .map_or(60, |value| value.clamp(1, 600))
        .try_into()
        .unwrap_or(60);
    let spec = OutboundSpec {
        to: to.to_owned(),
        from: from.to_owned(),
        program,
        fallback: target(params, "FallbackUrl", "FallbackMethod", HttpMethod::Post),
        status_callback: target(
            params,
            "StatusCallback",
            "StatusCallbackMethod",
            HttpMethod::Post,
        ),
        status_events,
        timeout_secs,
    };
    let (sid, body) = inner.mutate(|state, now, _| {
        let sid = state.create_outbound(spec, now);
        let body = state
            .call(&sid)
            .map(|call| call_json(&state.account_sid, call))
            .unwrap_or(Value::Null);
        (sid, body)
    });
    engine::start_dialing(inner, sid);
    Ok(created(body))
}

fn fetch_call(inner: &Inner, path: &str, sid: &str) -> Outcome {
    let state = inner.lock();
    let call = state.call(sid).ok_or_else(|| ApiError::not_found(path))?;
    Ok(ok(call_json(&state.account_sid, call)))
}

fn update_call(sim: &Simulator, path: &str, sid: &str, params: &Params) -> Outcome {
    let inner = &sim.inner;
    let status = get(params, "Status");
    let program = match target(params, "Url", "Method", HttpMethod::Post) {
        Some(target) => Some(Program::Url(target)),
        None => get_set(params, "Twiml").map(|twiml| Program::Twiml(twiml.to_owned())),
    };
    let fallback = target(params, "FallbackUrl", "FallbackMethod", HttpMethod::Post);
    let status_callback = target(
        params,
        "StatusCallback",
        "StatusCallbackMethod",
        HttpMethod::Post,
    );
    inner.mutate(|state, now, fx| {
        let current = state
            .call(sid)
            .map(|call| call.status)
            .ok_or_else(|| ApiError::not_found(path))?;
        if let Some(call) = state.calls.get_mut(sid) {
            if fallback.is_some() {
                call.fallback = fallback;
            }
            if status_callback.is_some() {
                call.status_callback = status_callback;
            }
        }
        match status {
            // `canceled` only applies to calls not yet answered; otherwise it changes nothing.
            Some("canceled") if current.is_unanswered() => {
                state.end_call(sid, CallStatus::Canceled, "canceled via REST", now, fx);
            }
            // `completed` hangs up any call; one that never connected ends canceled.
            Some("completed") if current == CallStatus::InProgress => {
                state.end_call(sid, CallStatus::Completed, "completed via REST", now, fx);
            }
            Some("completed") if current.is_unanswered() => {
                state.end_call(
                    sid,
                    CallStatus::Canceled,
                    "completed via REST before answer",
                    now,
                    fx,
                );
            }
            _ => {}
        }
        let ended_now = state.call(sid).is_some_and(|call| call.status.is_final());
        if let Some(program) = program {
            if ended_now && status.is_none() {
                return Err(ApiError::bad(
                    21220,
                    "Call is not in-progress. Cannot redirect.",
                ));
            }
            if !ended_now {
                state.redirect(sid, program, now, fx).map_err(|_| {
                    ApiError::bad(21220, "Call is not in-progress. Cannot redirect.")
                })?;
            }
        }
        let call = state.call(sid).ok_or_else(|| ApiError::not_found(path))?;
        Ok(ok(call_json(&state.account_sid, call)))
    })
}

/// `YYYY-MM-DD` filters (`StartTime`, `StartTime<`, `StartTime>`…) on a date.
fn date_filters(params: &Params, base: &str, date: Option<DateTime<Utc>>) -> bool {
    let day = date.map(|date| date.date_naive());
    let parse = |name: &str| {
        get(params, name).and_then(|value| NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok())
    };
    type Keep = fn(NaiveDate, NaiveDate) -> bool;
    let checks: [(Option<NaiveDate>, Keep); 3] = [
        (parse(base), |d, f| d == f),
        (parse(&format!("{base}<")), |d, f| d <= f),
        (parse(&format!("{base}>")), |d, f| d >= f),
    ];
    checks.iter().all(|(filter, keep)| match (filter, day) {
        (None, _) => true,
        (Some(filter), Some(day)) => keep(day, *filter),
        (Some(_), None) => false,
    })
}

fn list_calls(inner: &Inner, path: &str, params: &Params) -> Outcome {
    let state = inner.lock();
    let mut calls: Vec<&CallRecord> = state
        .call_order
        .iter()
        .filter_map(|sid| state.call(sid))
        .filter(|call| get(params, "To").is_none_or(|to| call.to == to))
        .filter(|call| get(params, "From").is_none_or(|from| call.from == from))
        .filter(|call| {
            get(params, "Status").is_none_or(|status| call.status.resource_str() == status)
        })
        // Calls created here have no parent.
        .filter(|_| get(params, "ParentCallSid").is_none())
        .filter(|call| date_filters(params, "StartTime", call.started_at))
        .filter(|call| date_filters(params, "EndTime", call.ended_at))
        .collect();
    calls.reverse();
    let items = calls
        .into_iter()
        .map(|call| call_json(&state.account_sid, call))
        .collect();
    Ok(ok(page("calls", items, path, params)))
}

fn call_json(account_sid: &str, call: &CallRecord) -> Value {
    let base = format!("/2010-04-01/Accounts/{account_sid}/Calls/{}", call.sid);
    let duration = match (call.answered_at, call.ended_at) {
        (Some(answered), Some(ended)) => {
            Some(((ended - answered).num_seconds().max(0)).to_string())
        }
        (None, Some(_)) => Some("0".to_owned()),
        _ => None,
    };
    let phone_number_sid = match call.direction {
        Direction::Inbound => Some(format!("PN{}", &account_sid.get(2..).unwrap_or_default())),
        Direction::OutboundApi => None,
    };
    let subresources = [
        "notifications",
        "recordings",
        "payments",
        "events",
        "siprec",
        "streams",
        "transcriptions",
        "user_defined_message_subscriptions",
        "user_defined_messages",
    ];
    let subresource_uris: serde_json::Map<String, Value> = subresources
        .iter()
        .map(|name| {
            let segment = match *name {
                "user_defined_message_subscriptions" => {
                    "UserDefinedMessageSubscriptions".to_owned()
                }
                "user_defined_messages" => "UserDefinedMessages".to_owned(),
                other => {
                    let mut chars = other.chars();
                    chars
                        .next()
                        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                }
            };
            (
                (*name).to_owned(),
                Value::String(format!("{base}/{segment}.json")),
            )
        })
        .collect();
    json!({
        "account_sid": account_sid,
        "answered_by": null,
        "api_version": API_VERSION,
        "caller_name": null,
        "date_created": call.created_at.to_rfc2822(),
        "date_updated": call.updated_at.to_rfc2822(),
        "direction": call.direction.as_str(),
        "duration": duration,
        "end_time": call.ended_at.map(|at| at.to_rfc2822()),
        "forwarded_from": null,
        "from": call.from,
        "from_formatted": call.from,
        "group_sid": null,
        "parent_call_sid": null,
        "phone_number_sid": phone_number_sid,
        "price": null,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": call.sid,
        "start_time": call.started_at.map(|at| at.to_rfc2822()),
        "status": call.status.resource_str(),
        "subresource_uris": subresource_uris,
        "to": call.to,
        "to_formatted": call.to,
        "trunk_sid": null,
        "uri": format!("{base}.json"),
    })
}

// ---------------------------------------------------------------------- conferences

fn conference_json(account_sid: &str, conference: &ConferenceRecord) -> Value {
    let base = format!(
        "/2010-04-01/Accounts/{account_sid}/Conferences/{}",
        conference.sid
    );
    json!({
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "call_sid_ending_conference": conference.call_sid_ending,
        "date_created": conference.created_at.to_rfc2822(),
        "date_updated": conference.updated_at.to_rfc2822(),
        "friendly_name": conference.friendly_name,
        "reason_conference_ended": conference.reason_ended,
        "region": "us1",
        "sid": conference.sid,
        "status": conference.status.as_str(),
        "subresource_uris": {
            "participants": format!("{base}/Participants.json"),
            "recordings": format!("{base}/Recordings.json"),
        },
        "uri": format!("{base}.json"),
    })
}

fn list_conferences(inner: &Inner, path: &str, params: &Params) -> Outcome {
    let state = inner.lock();
    let mut conferences: Vec<&ConferenceRecord> = state
        .conference_order
        .iter()
        .filter_map(|sid| state.conferences.get(sid))
        .filter(|c| get(params, "FriendlyName").is_none_or(|name| c.friendly_name == name))
        .filter(|c| get(params, "Status").is_none_or(|status| c.status.as_str() == status))
        .filter(|c| date_filters(params, "DateCreated", Some(c.created_at)))
        .filter(|c| date_filters(params, "DateUpdated", Some(c.updated_at)))
        .collect();
    // Newest first.
    conferences.reverse();
    let items = conferences
        .into_iter()
        .map(|conference| conference_json(&state.account_sid, conference))
        .collect();
    Ok(ok(page("conferences", items, path, params)))
}

fn fetch_conference(inner: &Inner, path: &str, sid: &str) -> Outcome {
    let state = inner.lock();
    let conference = state
        .conferences
        .get(sid)
        .ok_or_else(|| ApiError::not_found(path))?;
    Ok(ok(conference_json(&state.account_sid, conference)))
}

fn update_conference(sim: &Simulator, path: &str, sid: &str, params: &Params) -> Outcome {
    let announce = target(params, "AnnounceUrl", "AnnounceMethod", HttpMethod::Post);
    let end = get(params, "Status") == Some("completed");
    sim.inner.mutate(|state, now, fx| {
        let status = state
            .conferences
            .get(sid)
            .map(|conference| conference.status)
            .ok_or_else(|| ApiError::not_found(path))?;
        if let Some(target) = announce {
            if status != ConferenceStatus::Completed {
                fx.push(super::state::Effect::Announce {
                    conference_sid: sid.to_owned(),
                    call_sid: None,
                    target,
                });
            }
        }
        if end {
            state
                .end_conference_via_api(sid, now, fx)
                .map_err(|_| ApiError::not_found(path))?;
        }
        let conference = state
            .conferences
            .get(sid)
            .ok_or_else(|| ApiError::not_found(path))?;
        Ok(ok(conference_json(&state.account_sid, conference)))
    })
}

// ---------------------------------------------------------------------- participants

fn participant_json(
    account_sid: &str,
    conference_sid: &str,
    participant: &ParticipantRecord,
) -> Value {
    json!({
        "account_sid": account_sid,
        "call_sid": participant.call_sid,
        "call_sid_to_coach": participant.call_sid_to_coach,
        "coaching": participant.coaching,
        "conference_sid": conference_sid,
        "date_created": participant.joined_at.to_rfc2822(),
        "date_updated": participant.updated_at.to_rfc2822(),
        "end_conference_on_exit": participant.end_conference_on_exit,
        "hold": participant.hold,
        "label": participant.label,
        "muted": participant.muted,
        "queue_time": null,
        "start_conference_on_enter": participant.start_conference_on_enter,
        "status": "connected",
        "uri": format!(
            "/2010-04-01/Accounts/{account_sid}/Conferences/{conference_sid}/Participants/{}.json",
            participant.call_sid
        ),
    })
}

fn list_participants(inner: &Inner, path: &str, conference_sid: &str, params: &Params) -> Outcome {
    let state = inner.lock();
    let conference = state
        .conferences
        .get(conference_sid)
        .ok_or_else(|| ApiError::not_found(path))?;
    // Participants of a finished conference are not returned (Participant resource docs).
    let participants: Vec<Value> = if conference.status == ConferenceStatus::Completed {
        Vec::new()
    } else {
        conference
            .participants
            .iter()
            .filter(|p| bool_param(params, "Muted").is_none_or(|muted| p.muted == muted))
            .filter(|p| bool_param(params, "Hold").is_none_or(|hold| p.hold == hold))
            .filter(|p| {
                bool_param(params, "Coaching").is_none_or(|coaching| p.coaching == coaching)
            })
            .map(|p| participant_json(&state.account_sid, conference_sid, p))
            .collect()
    };
    Ok(ok(page("participants", participants, path, params)))
}

fn fetch_participant(inner: &Inner, path: &str, conference_sid: &str, call: &str) -> Outcome {
    let state = inner.lock();
    let participant = state
        .find_participant(conference_sid, call)
        .ok_or_else(|| ApiError::not_found(path))?;
    Ok(ok(participant_json(
        &state.account_sid,
        conference_sid,
        participant,
    )))
}

fn update_participant(
    sim: &Simulator,
    path: &str,
    conference_sid: &str,
    call: &str,
    params: &Params,
) -> Outcome {
    let coaching = bool_param(params, "Coaching");
    let coachee = get_set(params, "CallSidToCoach").map(str::to_owned);
    if coaching == Some(true) && coachee.is_none() {
        return Err(ApiError::bad(
            20001,
            "Invalid CallSidToCoach: required when Coaching is true",
        ));
    }
    let wait = match get(params, "WaitUrl") {
        None => None,
        Some(value) if value.trim().is_empty() => Some(WaitSetting::Silent),
        Some(_) => {
            target(params, "WaitUrl", "WaitMethod", HttpMethod::Post).map(WaitSetting::Target)
        }
    };
    let changes = ParticipantChanges {
        muted: bool_param(params, "Muted"),
        hold: bool_param(params, "Hold"),
        // HoldMethod defaults to GET (UpdateParticipant in the spec).
        hold_target: target(params, "HoldUrl", "HoldMethod", HttpMethod::Get),
        end_conference_on_exit: bool_param(params, "EndConferenceOnExit"),
        beep_on_exit: bool_param(params, "BeepOnExit"),
        coaching,
        call_sid_to_coach: coachee,
        wait,
        announce: target(params, "AnnounceUrl", "AnnounceMethod", HttpMethod::Post),
    };
    sim.inner.mutate(|state, now, fx| {
        let call_sid = state
            .find_participant(conference_sid, call)
            .map(|p| p.call_sid.clone())
            .ok_or_else(|| ApiError::not_found(path))?;
        state
            .update_participant(conference_sid, &call_sid, changes, now, fx)
            .map_err(|_| ApiError::not_found(path))?;
        let participant = state
            .find_participant(conference_sid, &call_sid)
            .ok_or_else(|| ApiError::not_found(path))?;
        Ok(ok(participant_json(
            &state.account_sid,
            conference_sid,
            participant,
        )))
    })
}

fn delete_participant(sim: &Simulator, path: &str, conference_sid: &str, call: &str) -> Outcome {
    sim.inner.mutate(|state, now, fx| {
        let call_sid = state
            .find_participant(conference_sid, call)
            .map(|p| p.call_sid.clone())
            .ok_or_else(|| ApiError::not_found(path))?;
        state.remove_participant(conference_sid, &call_sid, LeaveCause::Kicked, now, fx);
        Ok(HttpResponse::NoContent().finish())
    })
}

// ---------------------------------------------------------------------- paging

/// Twilio's page envelope: `{<key>: [...], page, page_size, start, end, uri, first_page_uri,
/// next_page_uri, previous_page_uri}`.
fn page(key: &str, items: Vec<Value>, path: &str, params: &Params) -> Value {
    let page_size = get(params, "PageSize")
        .and_then(|value| value.trim().parse::<usize>().ok())
        .map_or(50, |size| size.clamp(1, 1000));
    let page = get(params, "Page")
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let start = page.saturating_mul(page_size);
    let total = items.len();
    let slice: Vec<Value> = items.into_iter().skip(start).take(page_size).collect();
    let end = (start + slice.len()).saturating_sub(1).max(start);
    let filters: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "Page" | "PageSize" | "PageToken"))
        .cloned()
        .collect();
    let uri_for = |page: usize| {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        serializer.extend_pairs(filters.iter());
        serializer.append_pair("PageSize", &page_size.to_string());
        serializer.append_pair("Page", &page.to_string());
        format!("{path}?{}", serializer.finish())
    };
    let next = (start + page_size < total).then(|| uri_for(page + 1));
    let previous = (page > 0).then(|| uri_for(page - 1));
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), Value::Array(slice));
    body.insert("end".into(), json!(end));
    body.insert("first_page_uri".into(), json!(uri_for(0)));
    body.insert("next_page_uri".into(), json!(next));
    body.insert("page".into(), json!(page));
    body.insert("page_size".into(), json!(page_size));
    body.insert("previous_page_uri".into(), json!(previous));
    body.insert("start".into(), json!(start));
    body.insert("uri".into(), json!(uri_for(page)));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn code(result: Result<(), ApiError>) -> Option<u32> {
        result.err().map(|error| error.code)
    }

    #[test]
    fn unknown_parameters_and_bad_values_are_rejected() {
        let op = &tables::UPDATE_PARTICIPANT;
        assert_eq!(
            code(validate_params(op, &params(&[("Hold", "true")]))),
            None
        );
        assert_eq!(
            code(validate_params(op, &params(&[("Held", "true")]))),
            Some(20001)
        );
        assert_eq!(
            code(validate_params(op, &params(&[("Hold", "yes")]))),
            Some(20001)
        );
        assert_eq!(
            code(validate_params(op, &params(&[("HoldMethod", "PUT")]))),
            Some(20001)
        );
        assert_eq!(
            code(validate_params(op, &params(&[("HoldUrl", "not a url")]))),
            Some(21205)
        );
        assert_eq!(
            code(validate_params(op, &params(&[("CallSidToCoach", "CA1")]))),
            Some(20001)
        );
        let update = &tables::UPDATE_CALL;
        assert_eq!(
            code(validate_params(update, &params(&[("Status", "completed")]))),
            None
        );
        assert_eq!(
            code(validate_params(update, &params(&[("Status", "busy")]))),
            Some(20001)
        );
        let create = &tables::CREATE_CALL;
        assert_eq!(
            code(validate_params(
                create,
                &params(&[("StatusCallbackEvent", "answered")])
            )),
            None
        );
        assert_eq!(
            code(validate_params(
                create,
                &params(&[("StatusCallbackEvent", "picked-up")])
            )),
            Some(20001)
        );
        assert_eq!(
            code(validate_params(create, &params(&[("Timeout", "ten")]))),
            Some(20001)
        );
        assert_eq!(code(validate_params(create, &params(&[("Url", "")]))), None);
    }

    #[test]
    fn paths_match_spec_templates() {
        let call = tables::FETCH_CALL.path;
        assert_eq!(
            match_path(call, "/2010-04-01/Accounts/AC1/Calls/CA1.json"),
            Some(vec![("AccountSid", "AC1"), ("Sid", "CA1")])
        );
        assert_eq!(
            match_path(call, "/2010-04-01/Accounts/AC1/Calls/CA1"),
            None,
            "only the JSON representation is served"
        );
        assert_eq!(
            match_path(call, "/2010-04-01/Accounts/AC1/Calls/.json"),
            None
        );
        assert_eq!(
            match_path(
                tables::UPDATE_PARTICIPANT.path,
                "/2010-04-01/Accounts/AC1/Conferences/CF1/Participants/customer.json"
            ),
            Some(vec![
                ("AccountSid", "AC1"),
                ("ConferenceSid", "CF1"),
                ("CallSid", "customer")
            ])
        );
        assert!(tables::OPERATIONS.iter().all(|op| match_path(
            op.path,
            "/2010-04-01/Accounts/AC1/Queues.json"
        )
        .is_none()));
    }

    #[test]
    fn to_addresses_are_checked() {
        assert!(valid_to("+15551234567"));
        assert!(valid_to("client:alice_1"));
        assert!(valid_to("sip:agent@example.com"));
        assert!(!valid_to("client:"));
        assert!(!valid_to("client:alice smith"));
        assert!(!valid_to("5551234567"));
        assert!(!valid_to("+0123"));
    }

    #[test]
    fn pages_have_twilios_envelope() {
        let items: Vec<Value> = (0..3).map(|i| json!({ "n": i })).collect();
        let body = page(
            "conferences",
            items,
            "/2010-04-01/Accounts/AC1/Conferences.json",
            &params(&[("FriendlyName", "room 1"), ("PageSize", "2")]),
        );
        assert_eq!(body["conferences"].as_array().unwrap().len(), 2);
        assert_eq!(body["page"], 0);
        assert_eq!(body["page_size"], 2);
        assert_eq!(body["start"], 0);
        assert_eq!(body["end"], 1);
        assert_eq!(
            body["next_page_uri"],
            "/2010-04-01/Accounts/AC1/Conferences.json?FriendlyName=room+1&PageSize=2&Page=1"
        );
        assert!(body["previous_page_uri"].is_null());
    }

    #[test]
    fn error_bodies_have_twilios_shape() {
        let response = ApiError::bad(21201, "No 'To' number is specified").response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let unauthorized =
            ApiError::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate").response();
        assert!(unauthorized.headers().contains_key(WWW_AUTHENTICATE));
        let throttled =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests").response();
        assert_eq!(throttled.headers().get(RETRY_AFTER).unwrap(), "1");
    }
}
