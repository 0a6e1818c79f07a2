//! TwiML documents, built with quick-xml's writer so every name, message and URL is escaped.
//!
//! Never build TwiML with `format!`: conference names, caller-supplied text and URLs with `&` in
//! their query strings would otherwise produce invalid XML, and a live caller hears silence or an
//! application error. Characters XML 1.0 cannot carry at all (most control characters) are dropped
//! rather than escaped, because no escape makes them legal.
//!
//! Every builder returns a complete document (`<?xml …?><Response>…</Response>`). Writing into a
//! `Vec<u8>` cannot fail, so the builders return `String` rather than `Result`.
//!
//! Webhooks for `waitUrl`/`holdUrl` may only use `<Play>`, `<Say>`, `<Pause>` and `<Redirect>`,
//! and go silent once the document runs out; [`wait_music`] and [`hold_music`] therefore end with
//! a `<Redirect>` back to a music URL so the caller never sits in dead air.

use std::borrow::Cow;
use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

/// Conference status events the first participant subscribes to. Twilio's subscription names are
/// these short forms; the callbacks it delivers are named differently (`conference-start`,
/// `participant-join`, …).
pub const CONFERENCE_STATUS_EVENTS: &str = "start end join leave mute hold modify";

/// One participant's `<Dial><Conference>` leg.
///
/// Only the first participant to join sets the conference's `statusCallback` and its events, so
/// the customer's leg must carry them; agent legs may leave them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceTwiml {
    /// Conference friendly name; every leg of one customer call uses the same name.
    pub name: String,
    /// Spoken before joining (outside the conference, to this participant only).
    pub greeting: Option<String>,
    /// Whether this participant's arrival starts the conference (stops the wait music).
    pub start_conference_on_enter: bool,
    /// Whether the conference ends, hanging up everyone, when this participant leaves.
    pub end_conference_on_exit: bool,
    /// TwiML fetched (with POST) while this participant waits for the conference to start.
    pub wait_url: Option<String>,
    /// Conference status callback URL (called with POST).
    pub status_callback: Option<String>,
    /// Space-separated events for `status_callback`, e.g. [`CONFERENCE_STATUS_EVENTS`].
    pub status_callback_events: Option<String>,
    /// Whether this participant joins muted.
    pub muted: bool,
    /// Whether the conference beeps when this participant joins or leaves.
    pub beep: bool,
    /// Whether to record the conference from its start.
    pub record: bool,
    /// Label usable instead of the call SID in the Participants API.
    pub participant_label: Option<String>,
    /// The `<Dial action>` URL (requested with POST when this leg's Dial ends, with its
    /// `DialCallStatus`); its TwiML decides what happens to the call next. Without it the call
    /// goes on after the `<Dial>`, and hangs up when nothing follows.
    pub action: Option<String>,
}

impl ConferenceTwiml {
    /// The customer's leg: waits with music until an agent joins, and ends the conference (so no
    /// agent is left in an empty room) when the customer hangs up. Subscribes to every status
    /// event the call flow needs, because the customer is always the first participant.
    pub fn customer(
        name: impl Into<String>,
        wait_url: impl Into<String>,
        status_callback: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            greeting: None,
            start_conference_on_enter: false,
            end_conference_on_exit: true,
            wait_url: Some(wait_url.into()),
            status_callback: Some(status_callback.into()),
            status_callback_events: Some(CONFERENCE_STATUS_EVENTS.to_owned()),
            muted: false,
            beep: false,
            record: false,
            participant_label: None,
            action: None,
        }
    }

    /// An agent's (or transfer target's) leg: starts the conference so the customer hears them,
    /// and leaves it running on exit so a transfer can hand the customer over. Ownership
    /// (`endConferenceOnExit`) moves later through the Participants API.
    pub fn agent(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            greeting: None,
            start_conference_on_enter: true,
            end_conference_on_exit: false,
            wait_url: None,
            status_callback: None,
            status_callback_events: None,
            muted: false,
            beep: false,
            record: false,
            participant_label: None,
            action: None,
        }
    }
}

/// `<Response>[<Say>greeting</Say>]<Dial><Conference …>name</Conference></Dial></Response>`.
pub fn conference(conf: &ConferenceTwiml) -> String {
    render(|writer| {
        if let Some(greeting) = &conf.greeting {
            say(writer, greeting)?;
        }
        let mut dial = writer.create_element("Dial");
        if let Some(action) = &conf.action {
            dial = dial
                .with_attribute(("action", xml_safe(action)))
                .with_attribute(("method", "POST"));
        }
        dial.write_inner_content(|writer| {
            let mut element = writer
                .create_element("Conference")
                .with_attribute((
                    "startConferenceOnEnter",
                    bool_str(conf.start_conference_on_enter),
                ))
                .with_attribute(("endConferenceOnExit", bool_str(conf.end_conference_on_exit)))
                .with_attribute(("beep", bool_str(conf.beep)))
                .with_attribute(("muted", bool_str(conf.muted)));
            if let Some(wait_url) = &conf.wait_url {
                element = element
                    .with_attribute(("waitUrl", xml_safe(wait_url)))
                    .with_attribute(("waitMethod", "POST"));
            }
            if let Some(status_callback) = &conf.status_callback {
                element = element
                    .with_attribute(("statusCallback", xml_safe(status_callback)))
                    .with_attribute(("statusCallbackMethod", "POST"));
                if let Some(events) = &conf.status_callback_events {
                    element = element.with_attribute(("statusCallbackEvent", xml_safe(events)));
                }
            }
            if conf.record {
                element = element.with_attribute(("record", "record-from-start"));
            }
            if let Some(label) = &conf.participant_label {
                element = element.with_attribute(("participantLabel", xml_safe(label)));
            }
            element.write_text_content(BytesText::new(&xml_safe(&conf.name)))?;
            Ok(())
        })?;
        Ok(())
    })
}

/// The customer's `waitUrl` document: greeting (if any), one pass of the music, then a POST
/// redirect so the music loops. Point `redirect_url` at a URL that does not repeat the greeting
/// (for example [`hold_music`]'s route), or the caller hears it on every loop.
pub fn wait_music(greeting: Option<&str>, music_url: &str, redirect_url: &str) -> String {
    render(|writer| {
        if let Some(greeting) = greeting {
            say(writer, greeting)?;
        }
        play(writer, music_url)?;
        redirect(writer, redirect_url)
    })
}

/// A `holdUrl` (or looping wait) document: music, then a POST redirect so it loops.
pub fn hold_music(music_url: &str, redirect_url: &str) -> String {
    render(|writer| {
        play(writer, music_url)?;
        redirect(writer, redirect_url)
    })
}

/// Speaks `message` and hangs up.
pub fn say_and_hangup(message: &str) -> String {
    render(|writer| {
        say(writer, message)?;
        writer.create_element("Hangup").write_empty()?;
        Ok(())
    })
}

/// Hangs up at once.
pub fn hang_up() -> String {
    render(|writer| {
        writer.create_element("Hangup").write_empty()?;
        Ok(())
    })
}

/// Speaks `message`, then fetches `url` with POST. The fallback for a live caller when the
/// database or Twilio fails: apologise and keep them connected (for example by redirecting to the
/// wait music or back to the voice webhook to retry) instead of answering with an error.
pub fn say_and_redirect(message: &str, url: &str) -> String {
    render(|writer| {
        say(writer, message)?;
        redirect(writer, url)
    })
}

/// An empty document: Twilio continues with nothing to do (for status callbacks this is the
/// expected answer; for a call it hangs up).
pub fn empty() -> String {
    render_document(|writer| {
        writer.create_element("Response").write_empty()?;
        Ok(())
    })
}

/// Why an incoming call is refused without being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// The caller hears a "not in service" message.
    Rejected,
    /// The caller hears a busy signal.
    Busy,
}

impl RejectReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::Busy => "busy",
        }
    }
}

/// Refuses an incoming call without answering it (the caller is not billed).
pub fn reject(reason: RejectReason) -> String {
    render(|writer| {
        writer
            .create_element("Reject")
            .with_attribute(("reason", reason.as_str()))
            .write_empty()?;
        Ok(())
    })
}

type XmlWriter = Writer<Vec<u8>>;

/// Writes the XML declaration and a `<Response>` whose children come from `body`.
fn render(body: impl FnOnce(&mut XmlWriter) -> io::Result<()>) -> String {
    render_document(|writer| {
        writer
            .create_element("Response")
            .write_inner_content(body)?;
        Ok(())
    })
}

fn render_document(document: impl FnOnce(&mut XmlWriter) -> io::Result<()>) -> String {
    let mut writer = Writer::new(Vec::with_capacity(512));
    let written = writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| document(&mut writer));
    // The sink is a Vec<u8>, whose `io::Write` never fails, and every input is a `&str`, so the
    // output is UTF-8; neither expectation can fail at runtime.
    written.expect("writing XML into a Vec<u8> cannot fail");
    String::from_utf8(writer.into_inner()).expect("XML written from &str input is UTF-8")
}

fn say(writer: &mut XmlWriter, message: &str) -> io::Result<()> {
    writer
        .create_element("Say")
        .write_text_content(BytesText::new(&xml_safe(message)))?;
    Ok(())
}

fn play(writer: &mut XmlWriter, url: &str) -> io::Result<()> {
    writer
        .create_element("Play")
        .write_text_content(BytesText::new(&xml_safe(url)))?;
    Ok(())
}

fn redirect(writer: &mut XmlWriter, url: &str) -> io::Result<()> {
    writer
        .create_element("Redirect")
        .with_attribute(("method", "POST"))
        .write_text_content(BytesText::new(&xml_safe(url)))?;
    Ok(())
}

fn bool_str(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

/// Drops characters XML 1.0 forbids even when escaped (C0 controls other than tab, newline and
/// carriage return, and U+FFFE/U+FFFF). Escaping of `<`, `&`, quotes is left to the writer.
fn xml_safe(text: &str) -> Cow<'_, str> {
    fn allowed(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    }
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;

    /// A parsed element: the structure tests assert on, independent of attribute quoting or
    /// escaping choices.
    #[derive(Debug, Clone, PartialEq, Eq)]
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

        fn child_names(&self) -> Vec<&str> {
            self.children
                .iter()
                .map(|child| child.name.as_str())
                .collect()
        }
    }

    fn element_from(start: &quick_xml::events::BytesStart<'_>) -> Element {
        let attributes = start
            .attributes()
            .map(|attribute| {
                let attribute = attribute.expect("well-formed attribute");
                let key: &str = attribute.key.as_ref();
                let key = key.to_owned();
                let value = attribute
                    .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                    .expect("attribute value unescapes")
                    .into_owned();
                (key, value)
            })
            .collect();
        Element {
            name: {
                let name = start.name();
                let name: &str = name.as_ref();
                name.to_owned()
            },
            attributes,
            text: String::new(),
            children: Vec::new(),
        }
    }

    /// Parses a whole document with quick-xml's reader, failing on any well-formedness error,
    /// and returns its root element. Also checks the declaration comes first.
    fn parse(xml: &str) -> Element {
        assert!(
            xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#),
            "missing XML declaration: {xml}"
        );
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Decl(_) => {}
                Event::Start(start) => stack.push(element_from(&start)),
                Event::Empty(start) => {
                    let element = element_from(&start);
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                }
                Event::End(_) => {
                    let element = stack.pop().expect("balanced tags");
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                }
                Event::Text(text) => {
                    let current = stack.last_mut().expect("text inside an element");
                    current.text.push_str(&text.xml10_content());
                }
                Event::GeneralRef(reference) => {
                    let current = stack.last_mut().expect("reference inside an element");
                    let resolved = match reference.resolve_char_ref().expect("valid char ref") {
                        Some(c) => c,
                        None => match reference.into_inner().as_ref() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "quot" => '"',
                            "apos" => '\'',
                            other => panic!("unknown entity &{other};"),
                        },
                    };
                    current.text.push(resolved);
                }
                Event::Eof => break,
                other => panic!("unexpected event {other:?}"),
            }
        }
        assert!(stack.is_empty(), "unclosed elements");
        let root = root.expect("a root element");
        assert_eq!(root.name, "Response");
        root
    }

    fn the_conference(root: &Element) -> &Element {
        let dial = root
            .children
            .iter()
            .find(|child| child.name == "Dial")
            .expect("a Dial verb");
        assert_eq!(dial.child_names(), ["Conference"]);
        &dial.children[0]
    }

    #[test]
    fn customer_conference_waits_ends_on_exit_and_subscribes_to_status_events() {
        let conf = ConferenceTwiml::customer(
            "call-42",
            "https://app.test/twilio/wait",
            "https://app.test/twilio/conference-status",
        );
        let root = parse(&conference(&conf));
        assert_eq!(root.child_names(), ["Dial"]);
        let conference = the_conference(&root);
        assert_eq!(conference.text, "call-42");
        assert_eq!(conference.attr("startConferenceOnEnter"), Some("false"));
        assert_eq!(conference.attr("endConferenceOnExit"), Some("true"));
        assert_eq!(
            conference.attr("waitUrl"),
            Some("https://app.test/twilio/wait")
        );
        assert_eq!(conference.attr("waitMethod"), Some("POST"));
        assert_eq!(conference.attr("beep"), Some("false"));
        assert_eq!(conference.attr("muted"), Some("false"));
        assert_eq!(
            conference.attr("statusCallback"),
            Some("https://app.test/twilio/conference-status")
        );
        assert_eq!(conference.attr("statusCallbackMethod"), Some("POST"));
        assert_eq!(
            conference.attr("statusCallbackEvent"),
            Some("start end join leave mute hold modify")
        );
        assert_eq!(conference.attr("record"), None);
        assert_eq!(conference.attr("participantLabel"), None);
    }

    #[test]
    fn agent_conference_starts_the_room_and_does_not_end_it_or_subscribe() {
        let root = parse(&conference(&ConferenceTwiml::agent("call-42")));
        let conference = the_conference(&root);
        assert_eq!(conference.text, "call-42");
        assert_eq!(conference.attr("startConferenceOnEnter"), Some("true"));
        assert_eq!(conference.attr("endConferenceOnExit"), Some("false"));
        assert_eq!(conference.attr("waitUrl"), None);
        assert_eq!(conference.attr("waitMethod"), None);
        assert_eq!(conference.attr("statusCallback"), None);
        assert_eq!(conference.attr("statusCallbackEvent"), None);
    }

    #[test]
    fn conference_optional_attributes_and_greeting() {
        let conf = ConferenceTwiml {
            greeting: Some("Connecting you to a customer.".to_owned()),
            muted: true,
            beep: true,
            record: true,
            participant_label: Some("agent-7".to_owned()),
            ..ConferenceTwiml::agent("room")
        };
        let root = parse(&conference(&conf));
        assert_eq!(root.child_names(), ["Say", "Dial"]);
        assert_eq!(root.children[0].text, "Connecting you to a customer.");
        let conference = the_conference(&root);
        assert_eq!(conference.attr("muted"), Some("true"));
        assert_eq!(conference.attr("beep"), Some("true"));
        assert_eq!(conference.attr("record"), Some("record-from-start"));
        assert_eq!(conference.attr("participantLabel"), Some("agent-7"));
    }

    #[test]
    fn dial_action_is_posted_and_absent_by_default() {
        let root = parse(&conference(&ConferenceTwiml::agent("room")));
        let dial = &root.children[0];
        assert_eq!(dial.attr("action"), None);
        let conf = ConferenceTwiml {
            action: Some("https://app.test/twilio/dial-done?rejoins=0&x=1".to_owned()),
            ..ConferenceTwiml::customer("room", "https://app.test/w", "https://app.test/s")
        };
        let root = parse(&conference(&conf));
        let dial = &root.children[0];
        assert_eq!(
            dial.attr("action"),
            Some("https://app.test/twilio/dial-done?rejoins=0&x=1")
        );
        assert_eq!(dial.attr("method"), Some("POST"));
        assert_eq!(the_conference(&root).text, "room");
    }

    #[test]
    fn status_callback_without_events_omits_the_event_attribute() {
        let conf = ConferenceTwiml {
            status_callback: Some("https://app.test/cb".to_owned()),
            ..ConferenceTwiml::agent("room")
        };
        let conference = parse(&conference(&conf));
        let conference = the_conference(&conference);
        assert_eq!(
            conference.attr("statusCallback"),
            Some("https://app.test/cb")
        );
        assert_eq!(conference.attr("statusCallbackEvent"), None);
    }

    #[test]
    fn conference_escapes_names_and_urls() {
        let hostile_name = r#"<evil> & "quoted" 'single' </Conference><Hangup/>"#;
        let url = r#"https://app.test/twilio/wait?a=1&b=<2>&c="3"&d='4'"#;
        let conf = ConferenceTwiml {
            greeting: Some("Tom & Jerry <3".to_owned()),
            ..ConferenceTwiml::customer(hostile_name, url, url)
        };
        let xml = conference(&conf);
        assert!(!xml.contains("<evil>"), "{xml}");
        assert!(!xml.contains("<Hangup/>"), "{xml}");
        let root = parse(&xml);
        assert_eq!(root.child_names(), ["Say", "Dial"]);
        assert_eq!(root.children[0].text, "Tom & Jerry <3");
        let conference = the_conference(&root);
        assert_eq!(conference.text, hostile_name);
        assert_eq!(conference.attr("waitUrl"), Some(url));
        assert_eq!(conference.attr("statusCallback"), Some(url));
        assert!(conference.children.is_empty());
    }

    #[test]
    fn characters_xml_cannot_carry_are_dropped() {
        let root = parse(&say_and_hangup("bell\u{7} null\u{0} tab\tok\u{FFFF}"));
        assert_eq!(root.children[0].text, "bell null tab\tok");
    }

    #[test]
    fn wait_music_says_greeting_plays_music_and_loops_by_redirect() {
        let root = parse(&wait_music(
            Some("Thanks for calling. An agent will be with you shortly."),
            "https://cdn.test/music.mp3",
            "https://app.test/twilio/hold-music",
        ));
        assert_eq!(root.child_names(), ["Say", "Play", "Redirect"]);
        assert_eq!(
            root.children[0].text,
            "Thanks for calling. An agent will be with you shortly."
        );
        assert_eq!(root.children[1].text, "https://cdn.test/music.mp3");
        assert_eq!(root.children[2].text, "https://app.test/twilio/hold-music");
        assert_eq!(root.children[2].attr("method"), Some("POST"));
    }

    #[test]
    fn wait_music_without_greeting_has_no_say() {
        let root = parse(&wait_music(
            None,
            "https://cdn.test/m.mp3",
            "https://app.test/w",
        ));
        assert_eq!(root.child_names(), ["Play", "Redirect"]);
    }

    #[test]
    fn wait_and_hold_documents_use_only_verbs_allowed_in_wait_url() {
        let allowed = ["Play", "Say", "Pause", "Redirect"];
        for xml in [
            wait_music(Some("hi"), "https://cdn.test/m.mp3", "https://app.test/w"),
            hold_music("https://cdn.test/m.mp3", "https://app.test/h"),
        ] {
            let root = parse(&xml);
            for name in root.child_names() {
                assert!(
                    allowed.contains(&name),
                    "{name} not allowed in waitUrl TwiML"
                );
            }
            assert_eq!(root.child_names().last(), Some(&"Redirect"), "must loop");
        }
    }

    #[test]
    fn hold_music_plays_then_redirects() {
        let root = parse(&hold_music(
            "https://cdn.test/m.mp3?x=1&y=2",
            "https://app.test/h?call=1&leg=2",
        ));
        assert_eq!(root.child_names(), ["Play", "Redirect"]);
        assert_eq!(root.children[0].text, "https://cdn.test/m.mp3?x=1&y=2");
        assert_eq!(root.children[1].text, "https://app.test/h?call=1&leg=2");
        assert_eq!(root.children[1].attr("method"), Some("POST"));
    }

    #[test]
    fn say_and_hangup_speaks_then_hangs_up() {
        let root = parse(&say_and_hangup("Goodbye & thanks"));
        assert_eq!(root.child_names(), ["Say", "Hangup"]);
        assert_eq!(root.children[0].text, "Goodbye & thanks");
    }

    #[test]
    fn say_and_redirect_apologises_and_keeps_the_caller() {
        let root = parse(&say_and_redirect(
            "Sorry, we're having trouble. Please hold.",
            "https://app.test/twilio/voice?retry=1&n=2",
        ));
        assert_eq!(root.child_names(), ["Say", "Redirect"]);
        assert_eq!(
            root.children[0].text,
            "Sorry, we're having trouble. Please hold."
        );
        assert_eq!(
            root.children[1].text,
            "https://app.test/twilio/voice?retry=1&n=2"
        );
        assert_eq!(root.children[1].attr("method"), Some("POST"));
    }

    #[test]
    fn hang_up_is_just_a_hangup() {
        assert_eq!(
            hang_up(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#
        );
    }

    #[test]
    fn empty_is_a_bare_response() {
        let xml = empty();
        assert_eq!(xml, r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#);
        let root = parse(&xml);
        assert!(root.children.is_empty());
        assert!(root.text.is_empty());
    }

    #[test]
    fn reject_carries_the_reason() {
        for (reason, expected) in [
            (RejectReason::Busy, "busy"),
            (RejectReason::Rejected, "rejected"),
        ] {
            let root = parse(&reject(reason));
            assert_eq!(root.child_names(), ["Reject"]);
            assert_eq!(root.children[0].attr("reason"), Some(expected));
        }
    }

    #[test]
    fn output_is_compact_and_exact_for_a_simple_document() {
        assert_eq!(
            say_and_hangup("Bye"),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Bye</Say><Hangup/></Response>"#
        );
    }
}
