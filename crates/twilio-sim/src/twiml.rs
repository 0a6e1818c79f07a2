//! Parsing TwiML the way Twilio's voice engine reads it, into verbs the simulator executes.
//!
//! Twilio answers a malformed document (not well-formed XML, a root other than `<Response>`, an
//! element that is no TwiML verb) with error 12100 and sends the call to the fallback URL, so the
//! parser is strict about those. Attributes it does not model are ignored, as Twilio only warns
//! about them. Verbs that exist in TwiML but are outside what the call flow uses (`<Gather>`,
//! `<Record>`, …) parse as [`Verb::Unsupported`] so a test sees them in what the caller heard
//! instead of the whole call failing.
//!
//! URLs stay as written; [`Document::resolve`] makes them absolute against the document's own
//! URL, because TwiML URLs may be relative (and an empty `<Redirect/>` means "this document
//! again", which is how wait music loops).

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use url::Url;

use super::state::HttpMethod;

/// Why a document cannot be executed (Twilio error 12100, "Document parse failure").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid TwiML: {0}")]
pub struct TwimlError(pub String);

/// A parsed TwiML document and the URL it came from (absent for inline `Twiml`).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub base: Option<Url>,
    pub verbs: Vec<Verb>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    Say {
        text: String,
        loops: u32,
    },
    Play {
        url: String,
        loops: u32,
    },
    Pause {
        seconds: u32,
    },
    /// An empty URL means the current document.
    Redirect {
        url: String,
        method: HttpMethod,
    },
    Hangup,
    Reject {
        busy: bool,
    },
    Dial(Dial),
    /// A real TwiML verb the simulator does not act on (it is recorded and skipped).
    Unsupported {
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    /// Requested when the dialed leg ends; its TwiML replaces whatever follows `<Dial>`.
    pub action: Option<String>,
    pub method: HttpMethod,
    pub target: DialTarget,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DialTarget {
    Conference(ConferenceNoun),
    /// `<Number>`, `<Client>`, `<Sip>`, `<Queue>` or a bare number: not simulated.
    Other {
        noun: String,
        value: String,
    },
}

/// What the waiting participant hears before the conference starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitUrl {
    /// No `waitUrl`: Twilio's default classical playlist.
    Default,
    /// `waitUrl=""`: silence.
    Silent,
    Url(String),
}

/// `<Dial><Conference …>name</Conference></Dial>` with Twilio's documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ConferenceNoun {
    pub name: String,
    /// Default `true`.
    pub start_conference_on_enter: bool,
    /// Default `false`.
    pub end_conference_on_exit: bool,
    pub muted: bool,
    /// `true`, `false`, `onEnter` or `onExit` (default `true`).
    pub beep: String,
    pub wait_url: WaitUrl,
    /// Default `POST`.
    pub wait_method: HttpMethod,
    pub status_callback: Option<String>,
    /// Default `POST`.
    pub status_callback_method: HttpMethod,
    /// Short subscription names (`start end join leave mute hold modify speaker announcement`).
    pub status_callback_events: Vec<String>,
    pub participant_label: Option<String>,
}

/// Verbs that exist in TwiML for voice but that the simulator only records.
const KNOWN_UNSIMULATED_VERBS: &[&str] = &[
    "Gather", "Record", "Enqueue", "Leave", "Connect", "Start", "Stop", "Refer", "Pay", "Prompt",
    "Sms", "Echo", "Queue",
];

impl Document {
    /// Makes a TwiML URL absolute. An empty URL is the document itself (Twilio's loop idiom).
    pub fn resolve(&self, raw: &str) -> Result<Url, TwimlError> {
        let raw = raw.trim();
        match (&self.base, raw.is_empty()) {
            (Some(base), true) => Ok(base.clone()),
            (Some(base), false) => base
                .join(raw)
                .map_err(|error| TwimlError(format!("bad URL {raw:?}: {error}"))),
            (None, _) => Url::parse(raw)
                .map_err(|error| TwimlError(format!("bad absolute URL {raw:?}: {error}"))),
        }
    }
}

/// Parses a TwiML document fetched from `base` (or inline when `base` is `None`).
pub fn parse(xml: &str, base: Option<Url>) -> Result<Document, TwimlError> {
    let root = parse_tree(xml)?;
    if root.name != "Response" {
        return Err(TwimlError(format!(
            "root element is <{}>, not <Response>",
            root.name
        )));
    }
    let verbs = root
        .children
        .iter()
        .map(verb_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Document { base, verbs })
}

/// A minimal element tree: enough for TwiML, which has no mixed content that matters.
#[derive(Debug, Clone, Default)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn bool_attr(&self, name: &str, default: bool) -> bool {
        match self
            .attr(name)
            .map(|value| value.trim().to_ascii_lowercase())
        {
            Some(value) if value == "true" => true,
            Some(value) if value == "false" => false,
            _ => default,
        }
    }

    fn u32_attr(&self, name: &str, default: u32) -> u32 {
        self.attr(name)
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(default)
    }

    fn method_attr(&self, name: &str) -> HttpMethod {
        self.attr(name)
            .and_then(HttpMethod::parse)
            .unwrap_or(HttpMethod::Post)
    }

    fn trimmed_text(&self) -> String {
        self.text.trim().to_owned()
    }
}

fn element_from(start: &BytesStart<'_>) -> Result<Element, TwimlError> {
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| TwimlError(format!("bad attribute: {error}")))?;
        let key: &str = attribute.key.as_ref();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Explicit1_0)
            .map_err(|error| TwimlError(format!("bad attribute value: {error}")))?;
        attributes.push((key.to_owned(), value.into_owned()));
    }
    let name = start.name();
    let name: &str = name.as_ref();
    Ok(Element {
        name: name.to_owned(),
        attributes,
        ..Element::default()
    })
}

fn parse_tree(xml: &str) -> Result<Element, TwimlError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| TwimlError(format!("not well-formed XML: {error}")))?;
        match event {
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Start(start) => {
                if root.is_some() {
                    return Err(TwimlError("content after the root element".into()));
                }
                stack.push(element_from(&start)?);
            }
            Event::Empty(start) => {
                let element = element_from(&start)?;
                attach(&mut stack, &mut root, element)?;
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| TwimlError("unbalanced end tag".into()))?;
                attach(&mut stack, &mut root, element)?;
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(TwimlError("text outside the root element".into())),
                }
            }
            Event::CData(data) => {
                let current = stack
                    .last_mut()
                    .ok_or_else(|| TwimlError("CDATA outside the root element".into()))?;
                current.text.push_str(&data.xml10_content());
            }
            Event::GeneralRef(reference) => {
                let current = stack
                    .last_mut()
                    .ok_or_else(|| TwimlError("entity outside the root element".into()))?;
                let resolved = match reference
                    .resolve_char_ref()
                    .map_err(|error| TwimlError(format!("bad character reference: {error}")))?
                {
                    Some(c) => c,
                    None => match reference.into_inner().as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(TwimlError(format!("unknown entity &{other};"))),
                    },
                };
                current.text.push(resolved);
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(TwimlError("unclosed elements".into()));
    }
    root.ok_or_else(|| TwimlError("empty document".into()))
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), TwimlError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => return Err(TwimlError("more than one root element".into())),
    }
    Ok(())
}

fn verb_from(element: &Element) -> Result<Verb, TwimlError> {
    Ok(match element.name.as_str() {
        "Say" => Verb::Say {
            text: element.trimmed_text(),
            loops: element.u32_attr("loop", 1),
        },
        "Play" => Verb::Play {
            url: element.trimmed_text(),
            loops: element.u32_attr("loop", 1),
        },
        "Pause" => Verb::Pause {
            seconds: element.u32_attr("length", 1),
        },
        "Redirect" => Verb::Redirect {
            url: element.trimmed_text(),
            method: element.method_attr("method"),
        },
        "Hangup" => Verb::Hangup,
        "Reject" => Verb::Reject {
            // Twilio: reason "busy" ends the call busy, the default "rejected" ends it no-answer.
            busy: element.attr("reason").map(str::trim) == Some("busy"),
        },
        "Dial" => Verb::Dial(dial_from(element)?),
        name if KNOWN_UNSIMULATED_VERBS.contains(&name) => Verb::Unsupported {
            name: name.to_owned(),
        },
        other => return Err(TwimlError(format!("<{other}> is not a TwiML verb"))),
    })
}

fn dial_from(element: &Element) -> Result<Dial, TwimlError> {
    let target = match element.children.as_slice() {
        [] => DialTarget::Other {
            noun: "Number".into(),
            value: element.trimmed_text(),
        },
        [noun] if noun.name == "Conference" => DialTarget::Conference(conference_from(noun)?),
        [noun, ..] => DialTarget::Other {
            noun: noun.name.clone(),
            value: noun.trimmed_text(),
        },
    };
    Ok(Dial {
        action: element
            .attr("action")
            .map(str::trim)
            .filter(|action| !action.is_empty())
            .map(str::to_owned),
        method: element.method_attr("method"),
        target,
    })
}

fn conference_from(element: &Element) -> Result<ConferenceNoun, TwimlError> {
    let name = element.trimmed_text();
    if name.is_empty() {
        return Err(TwimlError("<Conference> without a name".into()));
    }
    let wait_url = match element.attr("waitUrl") {
        None => WaitUrl::Default,
        Some(url) if url.trim().is_empty() => WaitUrl::Silent,
        Some(url) => WaitUrl::Url(url.trim().to_owned()),
    };
    Ok(ConferenceNoun {
        name,
        start_conference_on_enter: element.bool_attr("startConferenceOnEnter", true),
        end_conference_on_exit: element.bool_attr("endConferenceOnExit", false),
        muted: element.bool_attr("muted", false),
        beep: element.attr("beep").unwrap_or("true").trim().to_owned(),
        wait_url,
        wait_method: element.method_attr("waitMethod"),
        status_callback: element
            .attr("statusCallback")
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned),
        status_callback_method: element.method_attr("statusCallbackMethod"),
        status_callback_events: element
            .attr("statusCallbackEvent")
            .map(|events| events.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        participant_label: element
            .attr("participantLabel")
            .map(str::trim)
            .filter(|label| !label.is_empty())
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use twilio::twiml as ours;

    fn base() -> Url {
        Url::parse("https://app.test/twilio/voice?x=1").unwrap()
    }

    #[test]
    fn parses_our_customer_conference_twiml_with_its_attributes() {
        let xml = ours::conference(&ours::ConferenceTwiml::customer(
            "call-42 & co",
            "https://app.test/twilio/wait?a=1&b=2",
            "https://app.test/twilio/conference-status",
        ));
        let doc = parse(&xml, Some(base())).unwrap();
        let [Verb::Dial(dial)] = doc.verbs.as_slice() else {
            panic!("expected one Dial, got {:?}", doc.verbs);
        };
        let DialTarget::Conference(conf) = &dial.target else {
            panic!("expected a conference");
        };
        assert_eq!(conf.name, "call-42 & co");
        assert!(!conf.start_conference_on_enter);
        assert!(conf.end_conference_on_exit);
        assert_eq!(
            conf.wait_url,
            WaitUrl::Url("https://app.test/twilio/wait?a=1&b=2".into())
        );
        assert_eq!(conf.wait_method, HttpMethod::Post);
        assert_eq!(
            conf.status_callback.as_deref(),
            Some("https://app.test/twilio/conference-status")
        );
        assert_eq!(
            conf.status_callback_events,
            ["start", "end", "join", "leave", "mute", "hold", "modify"]
        );
    }

    #[test]
    fn conference_defaults_follow_twilio_docs() {
        let doc = parse(
            "<Response><Dial><Conference>room</Conference></Dial></Response>",
            None,
        )
        .unwrap();
        let Verb::Dial(Dial {
            target: DialTarget::Conference(conf),
            action: None,
            ..
        }) = &doc.verbs[0]
        else {
            panic!("{doc:?}");
        };
        assert!(
            conf.start_conference_on_enter,
            "startConferenceOnEnter defaults to true"
        );
        assert!(!conf.end_conference_on_exit);
        assert!(!conf.muted);
        assert_eq!(conf.beep, "true");
        assert_eq!(conf.wait_url, WaitUrl::Default);
        assert!(conf.status_callback.is_none());
        assert!(conf.status_callback_events.is_empty());
    }

    #[test]
    fn empty_wait_url_means_silence() {
        let doc = parse(
            r#"<Response><Dial><Conference waitUrl="">r</Conference></Dial></Response>"#,
            None,
        )
        .unwrap();
        let Verb::Dial(Dial {
            target: DialTarget::Conference(conf),
            ..
        }) = &doc.verbs[0]
        else {
            panic!();
        };
        assert_eq!(conf.wait_url, WaitUrl::Silent);
    }

    #[test]
    fn parses_wait_music_and_resolves_relative_and_empty_redirects() {
        let xml = ours::wait_music(
            Some("Please hold"),
            "https://cdn.test/m.mp3",
            "/twilio/wait-loop",
        );
        let doc = parse(&xml, Some(base())).unwrap();
        assert_eq!(
            doc.verbs,
            vec![
                Verb::Say {
                    text: "Please hold".into(),
                    loops: 1
                },
                Verb::Play {
                    url: "https://cdn.test/m.mp3".into(),
                    loops: 1
                },
                Verb::Redirect {
                    url: "/twilio/wait-loop".into(),
                    method: HttpMethod::Post
                },
            ]
        );
        assert_eq!(
            doc.resolve("/twilio/wait-loop").unwrap().as_str(),
            "https://app.test/twilio/wait-loop"
        );
        assert_eq!(
            doc.resolve("").unwrap(),
            base(),
            "empty Redirect loops the document"
        );
        let inline = Document {
            base: None,
            verbs: vec![],
        };
        assert!(inline.resolve("/relative").is_err());
    }

    #[test]
    fn parses_simple_verbs_and_entities() {
        let doc = parse(
            r#"<?xml version="1.0"?><Response><Say loop="2">Tom &amp; Jerry &#65;</Say><Pause length="3"/><Hangup/></Response>"#,
            None,
        )
        .unwrap();
        assert_eq!(
            doc.verbs,
            vec![
                Verb::Say {
                    text: "Tom & Jerry A".into(),
                    loops: 2
                },
                Verb::Pause { seconds: 3 },
                Verb::Hangup
            ]
        );
    }

    #[test]
    fn reject_reason_maps_to_busy_or_not() {
        let busy = parse(&ours::reject(ours::RejectReason::Busy), None).unwrap();
        assert_eq!(busy.verbs, vec![Verb::Reject { busy: true }]);
        let rejected = parse(&ours::reject(ours::RejectReason::Rejected), None).unwrap();
        assert_eq!(rejected.verbs, vec![Verb::Reject { busy: false }]);
    }

    #[test]
    fn empty_response_is_valid_and_empty() {
        assert!(parse(&ours::empty(), None).unwrap().verbs.is_empty());
    }

    #[test]
    fn unsimulated_verbs_are_recorded_not_fatal() {
        let doc = parse("<Response><Gather/><Say>x</Say></Response>", None).unwrap();
        assert_eq!(
            doc.verbs[0],
            Verb::Unsupported {
                name: "Gather".into()
            }
        );
    }

    #[test]
    fn rejects_what_twilio_cannot_execute() {
        for bad in [
            "",
            "not xml at all",
            "<Response><Say>unclosed</Response>",
            "<Reply><Say>x</Say></Reply>",
            "<Response><Dance/></Response>",
            "<Response/><Response/>",
            "<Response><Dial><Conference></Conference></Dial></Response>",
        ] {
            assert!(parse(bad, None).is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn dial_action_and_other_nouns() {
        let doc = parse(
            r#"<Response><Dial action="/after" method="GET"><Number>+15551234567</Number></Dial></Response>"#,
            None,
        )
        .unwrap();
        assert_eq!(
            doc.verbs[0],
            Verb::Dial(Dial {
                action: Some("/after".into()),
                method: HttpMethod::Get,
                target: DialTarget::Other {
                    noun: "Number".into(),
                    value: "+15551234567".into()
                }
            })
        );
    }
}
