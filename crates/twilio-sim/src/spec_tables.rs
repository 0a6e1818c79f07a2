//! The REST operations the simulator serves, with every parameter Twilio's official OpenAPI
//! description (`shared/twilio/twilio_api_v2010.yaml`) allows for them.
//!
//! The tables are embedded so demo mode runs without the spec file. A test parses the spec and
//! checks both directions for every operation here (each table entry exists in the spec with the
//! same type, enum values and SID pattern, and each spec parameter is in the table), so the
//! simulator can neither accept what Twilio rejects nor reject what Twilio accepts without a
//! test failing.

/// How a parameter's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any string.
    Text,
    /// An absolute http(s) URL (the spec's `format: uri`); empty means "not set".
    Uri,
    /// `GET` or `POST` (the spec's `format: http-method`).
    HttpMethod,
    Integer,
    /// `true` or `false`.
    Boolean,
    /// One of these values (a `$ref` to an enum schema, or an inline enum).
    Enum(&'static [&'static str]),
    /// A SID with this two-letter prefix and 32 hex digits.
    Sid(&'static str),
    /// A repeatable parameter whose values must be among these; the spec names the schema that
    /// lists them when the array items carry no enum themselves.
    Events {
        values: &'static [&'static str],
        schema: &'static str,
    },
    /// A repeatable parameter of free strings.
    List,
}

#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
}

/// Where an operation's parameters travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Form,
    Query,
    None,
}

#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub id: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    /// Path parameters and the SID prefix their pattern requires (if any).
    pub path_params: &'static [(&'static str, Option<&'static str>)],
    pub location: Location,
    pub params: &'static [Param],
    pub required: &'static [&'static str],
}

impl Operation {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|param| param.name == name)
    }
}

const fn p(name: &'static str, kind: Kind) -> Param {
    Param { name, kind }
}

use Kind::{Boolean, HttpMethod, Integer, List, Text, Uri};

pub const CALL_EVENTS: &[&str] = &["initiated", "ringing", "answered", "completed"];
pub const CALL_STATUSES: &[&str] = &[
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
];
pub const CALL_UPDATE_STATUSES: &[&str] = &["canceled", "completed"];
pub const CONFERENCE_STATUSES: &[&str] = &["init", "in-progress", "completed"];
pub const CONFERENCE_UPDATE_STATUSES: &[&str] = &["completed"];

const ACCOUNT: (&str, Option<&str>) = ("AccountSid", Some("AC"));

const PAGING: [Param; 3] = [
    p("PageSize", Integer),
    p("Page", Integer),
    p("PageToken", Text),
];

pub const CREATE_CALL: Operation = Operation {
    id: "CreateCall",
    method: "POST",
    path: "/2010-04-01/Accounts/{AccountSid}/Calls.json",
    path_params: &[ACCOUNT],
    location: Location::Form,
    params: &[
        p("To", Text),
        p("From", Text),
        p("Method", HttpMethod),
        p("FallbackUrl", Uri),
        p("FallbackMethod", HttpMethod),
        p("StatusCallback", Uri),
        p(
            "StatusCallbackEvent",
            Kind::Events {
                values: CALL_EVENTS,
                schema: "call_enum_event",
            },
        ),
        p("StatusCallbackMethod", HttpMethod),
        p("SendDigits", Text),
        p("Timeout", Integer),
        p("Record", Boolean),
        p("RecordingChannels", Text),
        p("RecordingStatusCallback", Text),
        p("RecordingStatusCallbackMethod", HttpMethod),
        p("SipAuthUsername", Text),
        p("SipAuthPassword", Text),
        p("MachineDetection", Text),
        p("MachineDetectionTimeout", Integer),
        p("RecordingStatusCallbackEvent", List),
        p("Trim", Text),
        p("CallerId", Text),
        p("MachineDetectionSpeechThreshold", Integer),
        p("MachineDetectionSpeechEndThreshold", Integer),
        p("MachineDetectionSilenceTimeout", Integer),
        p("AsyncAmd", Text),
        p("AsyncAmdStatusCallback", Uri),
        p("AsyncAmdStatusCallbackMethod", HttpMethod),
        p("Byoc", Kind::Sid("BY")),
        p("CallReason", Text),
        p("CallToken", Text),
        p("RecordingTrack", Text),
        p("TimeLimit", Integer),
        p("ClientNotificationUrl", Uri),
        p("Url", Uri),
        p("Twiml", Text),
        p("ApplicationSid", Kind::Sid("AP")),
    ],
    required: &["To", "From"],
};

pub const LIST_CALLS: Operation = Operation {
    id: "ListCall",
    method: "GET",
    path: "/2010-04-01/Accounts/{AccountSid}/Calls.json",
    path_params: &[ACCOUNT],
    location: Location::Query,
    params: &[
        p("To", Text),
        p("From", Text),
        p("ParentCallSid", Kind::Sid("CA")),
        p("Status", Kind::Enum(CALL_STATUSES)),
        p("StartTime", Text),
        p("StartTime<", Text),
        p("StartTime>", Text),
        p("EndTime", Text),
        p("EndTime<", Text),
        p("EndTime>", Text),
        PAGING[0],
        PAGING[1],
        PAGING[2],
    ],
    required: &[],
};

pub const FETCH_CALL: Operation = Operation {
    id: "FetchCall",
    method: "GET",
    path: "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json",
    path_params: &[ACCOUNT, ("Sid", Some("CA"))],
    location: Location::None,
    params: &[],
    required: &[],
};

pub const UPDATE_CALL: Operation = Operation {
    id: "UpdateCall",
    method: "POST",
    path: "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json",
    path_params: &[ACCOUNT, ("Sid", Some("CA"))],
    location: Location::Form,
    params: &[
        p("Url", Uri),
        p("Method", HttpMethod),
        p("Status", Kind::Enum(CALL_UPDATE_STATUSES)),
        p("FallbackUrl", Uri),
        p("FallbackMethod", HttpMethod),
        p("StatusCallback", Uri),
        p("StatusCallbackMethod", HttpMethod),
        p("Twiml", Text),
        p("TimeLimit", Integer),
    ],
    required: &[],
};

pub const LIST_CONFERENCES: Operation = Operation {
    id: "ListConference",
    method: "GET",
    path: "/2010-04-01/Accounts/{AccountSid}/Conferences.json",
    path_params: &[ACCOUNT],
    location: Location::Query,
    params: &[
        p("DateCreated", Text),
        p("DateCreated<", Text),
        p("DateCreated>", Text),
        p("DateUpdated", Text),
        p("DateUpdated<", Text),
        p("DateUpdated>", Text),
        p("FriendlyName", Text),
        p("Status", Kind::Enum(CONFERENCE_STATUSES)),
        PAGING[0],
        PAGING[1],
        PAGING[2],
    ],
    required: &[],
};

pub const FETCH_CONFERENCE: Operation = Operation {
    id: "FetchConference",
    method: "GET",
    path: "/2010-04-01/Accounts/{AccountSid}/Conferences/{Sid}.json",
    path_params: &[ACCOUNT, ("Sid", Some("CF"))],
    location: Location::None,
    params: &[],
    required: &[],
};

pub const UPDATE_CONFERENCE: Operation = Operation {
    id: "UpdateConference",
    method: "POST",
    path: "/2010-04-01/Accounts/{AccountSid}/Conferences/{Sid}.json",
    // The spec gives this path parameter no pattern (unlike FetchConference).
    path_params: &[ACCOUNT, ("Sid", None)],
    location: Location::Form,
    params: &[
        p("Status", Kind::Enum(CONFERENCE_UPDATE_STATUSES)),
        p("AnnounceUrl", Uri),
        p("AnnounceMethod", HttpMethod),
    ],
    required: &[],
};

pub const LIST_PARTICIPANTS: Operation = Operation {
    id: "ListParticipant",
    method: "GET",
    path: "/2010-04-01/Accounts/{AccountSid}/Conferences/{ConferenceSid}/Participants.json",
    path_params: &[ACCOUNT, ("ConferenceSid", Some("CF"))],
    location: Location::Query,
    params: &[
        p("Muted", Boolean),
        p("Hold", Boolean),
        p("Coaching", Boolean),
        PAGING[0],
        PAGING[1],
        PAGING[2],
    ],
    required: &[],
};

pub const FETCH_PARTICIPANT: Operation = Operation {
    id: "FetchParticipant",
    method: "GET",
    path:
        "/2010-04-01/Accounts/{AccountSid}/Conferences/{ConferenceSid}/Participants/{CallSid}.json",
    // CallSid may also be a participant label, so the spec gives it no pattern.
    path_params: &[ACCOUNT, ("ConferenceSid", Some("CF")), ("CallSid", None)],
    location: Location::None,
    params: &[],
    required: &[],
};

pub const UPDATE_PARTICIPANT: Operation = Operation {
    id: "UpdateParticipant",
    method: "POST",
    path:
        "/2010-04-01/Accounts/{AccountSid}/Conferences/{ConferenceSid}/Participants/{CallSid}.json",
    path_params: &[ACCOUNT, ("ConferenceSid", Some("CF")), ("CallSid", None)],
    location: Location::Form,
    params: &[
        p("Muted", Boolean),
        p("Hold", Boolean),
        p("HoldUrl", Uri),
        p("HoldMethod", HttpMethod),
        p("AnnounceUrl", Uri),
        p("AnnounceMethod", HttpMethod),
        p("WaitUrl", Uri),
        p("WaitMethod", HttpMethod),
        p("BeepOnExit", Boolean),
        p("EndConferenceOnExit", Boolean),
        p("Coaching", Boolean),
        p("CallSidToCoach", Kind::Sid("CA")),
    ],
    required: &[],
};

pub const DELETE_PARTICIPANT: Operation = Operation {
    id: "DeleteParticipant",
    method: "DELETE",
    path:
        "/2010-04-01/Accounts/{AccountSid}/Conferences/{ConferenceSid}/Participants/{CallSid}.json",
    path_params: &[ACCOUNT, ("ConferenceSid", Some("CF")), ("CallSid", None)],
    location: Location::None,
    params: &[],
    required: &[],
};

/// Every operation the simulator serves.
pub const OPERATIONS: &[&Operation] = &[
    &CREATE_CALL,
    &LIST_CALLS,
    &FETCH_CALL,
    &UPDATE_CALL,
    &LIST_CONFERENCES,
    &FETCH_CONFERENCE,
    &UPDATE_CONFERENCE,
    &LIST_PARTICIPANTS,
    &FETCH_PARTICIPANT,
    &UPDATE_PARTICIPANT,
    &DELETE_PARTICIPANT,
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Value;

    /// Read at test time so a missing shared folder fails this test only.
    const SPEC_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/twilio/twilio_api_v2010.yaml"
    );

    fn load_spec() -> Value {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|error| panic!("cannot read {SPEC_PATH}: {error}"));
        serde_yaml::from_str(&text).expect("the spec is YAML")
    }

    fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference
                    .strip_prefix("#/components/schemas/")
                    .expect("local schema reference");
                &spec["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    fn strings(value: &Value) -> Vec<String> {
        value
            .as_sequence()
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn sorted(values: &[&str]) -> Vec<String> {
        let mut values: Vec<String> = values.iter().map(|value| (*value).to_owned()).collect();
        values.sort();
        values
    }

    fn sid_pattern(prefix: &str) -> String {
        format!("^{prefix}[0-9a-fA-F]{{32}}$")
    }

    /// Checks that `kind` describes `schema` (already resolved) exactly.
    fn check_kind(spec: &Value, context: &str, kind: Kind, schema: &Value) {
        let schema = resolve(spec, schema);
        let ty = schema["type"].as_str();
        let format = schema["format"].as_str();
        let pattern = schema["pattern"].as_str();
        let enum_values = strings(&schema["enum"]);
        match kind {
            Kind::Text => {
                assert_eq!(ty, Some("string"), "{context}");
                assert!(
                    enum_values.is_empty(),
                    "{context}: spec has an enum {enum_values:?}"
                );
                assert!(
                    pattern.is_none(),
                    "{context}: spec has a pattern {pattern:?}"
                );
                assert!(
                    !matches!(format, Some("uri") | Some("http-method")),
                    "{context}: spec format is {format:?}"
                );
            }
            Kind::Uri => {
                assert_eq!(ty, Some("string"), "{context}");
                assert_eq!(format, Some("uri"), "{context}");
            }
            Kind::HttpMethod => {
                assert_eq!(format, Some("http-method"), "{context}");
                let mut values = enum_values.clone();
                values.sort();
                assert_eq!(values, sorted(&["GET", "POST"]), "{context}");
            }
            Kind::Integer => assert_eq!(ty, Some("integer"), "{context}"),
            Kind::Boolean => assert_eq!(ty, Some("boolean"), "{context}"),
            Kind::Enum(values) => {
                let mut spec_values = enum_values.clone();
                spec_values.sort();
                assert_eq!(spec_values, sorted(values), "{context}");
            }
            Kind::Sid(prefix) => {
                assert_eq!(pattern, Some(sid_pattern(prefix).as_str()), "{context}");
            }
            Kind::Events {
                values,
                schema: named,
            } => {
                assert_eq!(ty, Some("array"), "{context}");
                let items = resolve(spec, &schema["items"]);
                let mut item_values = strings(&items["enum"]);
                if item_values.is_empty() {
                    item_values = strings(&spec["components"]["schemas"][named]["enum"]);
                }
                assert!(!item_values.is_empty(), "{context}: no values for {named}");
                item_values.sort();
                assert_eq!(item_values, sorted(values), "{context}");
            }
            Kind::List => {
                assert_eq!(ty, Some("array"), "{context}");
                let items = resolve(spec, &schema["items"]);
                assert!(
                    strings(&items["enum"]).is_empty(),
                    "{context}: items have an enum"
                );
            }
        }
    }

    #[test]
    fn every_embedded_operation_matches_the_official_spec() {
        let spec = load_spec();
        for operation in OPERATIONS {
            let context = format!("{} {} ({})", operation.method, operation.path, operation.id);
            let item = &spec["paths"][operation.path];
            assert!(!item.is_null(), "{context}: path not in the spec");
            let spec_op = &item[operation.method.to_ascii_lowercase().as_str()];
            assert!(!spec_op.is_null(), "{context}: method not in the spec");
            assert_eq!(
                spec_op["operationId"].as_str(),
                Some(operation.id),
                "{context}"
            );

            let parameters = spec_op["parameters"]
                .as_sequence()
                .cloned()
                .unwrap_or_default();
            // Path parameters: same names, same SID patterns.
            let spec_path: Vec<&Value> = parameters
                .iter()
                .filter(|parameter| parameter["in"].as_str() == Some("path"))
                .collect();
            assert_eq!(
                spec_path.len(),
                operation.path_params.len(),
                "{context}: path params"
            );
            for (name, prefix) in operation.path_params {
                let parameter = spec_path
                    .iter()
                    .find(|parameter| parameter["name"].as_str() == Some(name))
                    .unwrap_or_else(|| panic!("{context}: no path parameter {name}"));
                let pattern = resolve(&spec, &parameter["schema"])["pattern"].as_str();
                assert_eq!(
                    pattern.map(str::to_owned),
                    prefix.map(sid_pattern),
                    "{context}: pattern of {name}"
                );
            }

            // Query or form parameters, both directions.
            let spec_params: Vec<(String, Value)> = match operation.location {
                Location::Query => parameters
                    .iter()
                    .filter(|parameter| parameter["in"].as_str() == Some("query"))
                    .map(|parameter| {
                        (
                            parameter["name"].as_str().unwrap_or_default().to_owned(),
                            parameter["schema"].clone(),
                        )
                    })
                    .collect(),
                Location::Form => {
                    let schema = &spec_op["requestBody"]["content"]
                        ["application/x-www-form-urlencoded"]["schema"];
                    let required = strings(&schema["required"]);
                    let mut ours: Vec<String> = operation
                        .required
                        .iter()
                        .map(|name| (*name).to_owned())
                        .collect();
                    ours.sort();
                    let mut theirs = required.clone();
                    theirs.sort();
                    assert_eq!(ours, theirs, "{context}: required parameters");
                    schema["properties"]
                        .as_mapping()
                        .map(|properties| {
                            properties
                                .iter()
                                .map(|(name, schema)| {
                                    (name.as_str().unwrap_or_default().to_owned(), schema.clone())
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                }
                Location::None => {
                    assert!(
                        spec_op["requestBody"].is_null(),
                        "{context}: the spec takes a body"
                    );
                    assert!(
                        parameters
                            .iter()
                            .all(|parameter| parameter["in"].as_str() == Some("path")),
                        "{context}: the spec takes query parameters"
                    );
                    Vec::new()
                }
            };
            for param in operation.params {
                let (_, schema) = spec_params
                    .iter()
                    .find(|(name, _)| name == param.name)
                    .unwrap_or_else(|| panic!("{context}: {} is not in the spec", param.name));
                check_kind(
                    &spec,
                    &format!("{context} {}", param.name),
                    param.kind,
                    schema,
                );
            }
            for (name, _) in &spec_params {
                assert!(
                    operation.param(name).is_some(),
                    "{context}: the spec allows {name}, the table does not"
                );
            }
        }
    }

    #[test]
    fn create_call_needs_one_of_url_twiml_application_sid() {
        // The spec says so in x-twilio.conditional; the REST handler enforces it.
        let spec = load_spec();
        let conditional = &spec["paths"][CREATE_CALL.path]["post"]["x-twilio"]["conditional"];
        let groups: Vec<Vec<String>> = conditional
            .as_sequence()
            .expect("CreateCall has conditional parameters")
            .iter()
            .map(strings)
            .collect();
        assert!(groups.contains(&vec![
            "url".to_owned(),
            "twiml".to_owned(),
            "application_sid".to_owned()
        ]));
    }
}
