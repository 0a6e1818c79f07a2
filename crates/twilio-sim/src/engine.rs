//! The asynchronous half of the simulator: it carries out the [`Effect`]s the state machine
//! produces, dials outbound calls through `queued → initiated → ringing`, and runs each call's
//! TwiML the way Twilio's voice engine does (fetch, fall back, execute verb by verb, sit in a
//! conference until dropped, continue with what follows `<Dial>`, hang up when the document
//! runs out).
//!
//! Waiting and held participants "hear" their `waitUrl`/`holdUrl`: the document is fetched once
//! when waiting or hold starts and its `<Redirect>`s are followed a bounded number of times
//! (`SimOptions::max_media_fetches`), since real audio never plays here. Everything heard is
//! recorded on the call so tests can assert "the caller heard hold music".

use std::sync::Arc;
use std::time::Duration;

use super::state::{
    CallStatus, Effect, Endpoint, Heard, HeardSource, HttpMethod, HttpTarget, JoinSpec, LeaveCause,
    Params, Program, State, WaitSetting, APPLICATION_ERROR_MESSAGE, DEFAULT_WAIT_MUSIC,
};
use super::twiml::{self, ConferenceNoun, DialTarget, Document, Verb, WaitUrl};
use super::webhooks::{self, enqueue_callback, Outgoing, SendError, WebhookKind};
use super::Inner;

/// Twilio stops a call that redirects endlessly; the simulator does too.
const MAX_REDIRECTS: u32 = 100;

/// Carries out the effects of one state change.
pub(crate) fn apply(inner: &Arc<Inner>, effects: Vec<Effect>) {
    for effect in effects {
        match effect {
            Effect::CallCallback {
                call_sid,
                target,
                params,
                event,
            } => {
                let mut out = Outgoing::new(WebhookKind::CallStatus, target, params);
                out.call_sid = Some(call_sid.clone());
                out.event = Some(event);
                enqueue_callback(inner, format!("call:{call_sid}"), out);
            }
            Effect::ConferenceCallback {
                conference_sid,
                target,
                params,
                event,
            } => {
                let mut out = Outgoing::new(WebhookKind::ConferenceStatus, target, params);
                out.call_sid = out
                    .params
                    .iter()
                    .find(|(name, _)| name == "CallSid")
                    .map(|(_, value)| value.clone());
                out.conference_sid = Some(conference_sid.clone());
                out.event = Some(event);
                enqueue_callback(inner, format!("conference:{conference_sid}"), out);
            }
            Effect::RunProgram {
                call_sid,
                generation,
            } => inner.spawn(run_program(Arc::clone(inner), call_sid, generation)),
            Effect::HoldMusic {
                call_sid,
                conference_sid,
                target,
            } => inner.spawn(hold_music(
                Arc::clone(inner),
                call_sid,
                conference_sid,
                target,
            )),
            Effect::Announce {
                conference_sid,
                call_sid,
                target,
            } => inner.spawn(announce(
                Arc::clone(inner),
                conference_sid,
                call_sid,
                target,
            )),
        }
    }
}

/// Dials a REST-created call: `initiated`, `ringing`, then whatever the far end does.
pub(crate) fn start_dialing(inner: &Arc<Inner>, call_sid: String) {
    let inner = Arc::clone(inner);
    let task_inner = Arc::clone(&inner);
    inner.spawn(async move {
        let inner = task_inner;
        // The REST response goes out before the first callback, as at Twilio.
        tokio::time::sleep(inner.options.dial_delay).await;
        if !inner.mutate(|state, now, fx| state.begin_dialing(&call_sid, now, fx)) {
            return;
        }
        tokio::time::sleep(inner.options.dial_delay).await;
        if !inner.mutate(|state, now, fx| state.start_ringing(&call_sid, now, fx)) {
            return;
        }
        let (endpoint, timeout_secs) = {
            let state = inner.lock();
            let Some(call) = state.call(&call_sid) else {
                return;
            };
            (state.endpoint(&call.to), call.timeout_secs)
        };
        let end = |status: CallStatus, why: &'static str| {
            let sid = call_sid.clone();
            inner.mutate(move |state, now, fx| {
                state.end_call(&sid, status, why, now, fx);
            });
        };
        let ring = inner.scaled(Duration::from_secs(u64::from(timeout_secs)));
        let ring_out = || {
            inner.mutate(|state, now, fx| {
                if state.call(&call_sid).map(|call| call.status) == Some(CallStatus::Ringing) {
                    state.end_call(
                        &call_sid,
                        CallStatus::NoAnswer,
                        "no answer (ring timeout)",
                        now,
                        fx,
                    );
                }
            })
        };
        match endpoint {
            Endpoint::Ring => {
                tokio::time::sleep(ring).await;
                ring_out();
            }
            // A callee slower than the call's `Timeout` is never connected: no-answer, as at
            // Twilio.
            Endpoint::Answer { after_ms } if Duration::from_millis(after_ms) >= ring => {
                tokio::time::sleep(ring).await;
                ring_out();
            }
            Endpoint::Answer { after_ms } => {
                tokio::time::sleep(Duration::from_millis(after_ms)).await;
                // Fails only if the call stopped ringing meanwhile, which is fine.
                let _ = inner.mutate(|state, now, fx| state.answer(&call_sid, now, fx));
            }
            Endpoint::Busy => end(CallStatus::Busy, "busy"),
            Endpoint::Fail => end(CallStatus::Failed, "failed"),
            Endpoint::NoAnswer => end(CallStatus::NoAnswer, "no answer"),
        }
    });
}

fn heard(inner: &Arc<Inner>, call_sid: &str, item: Heard) {
    inner.lock().heard(call_sid, item);
    inner.bump();
}

/// Fetches and parses one TwiML document. An `audio/*` answer plays as a file.
async fn fetch_twiml(
    inner: &Arc<Inner>,
    call_sid: &str,
    kind: WebhookKind,
    target: &HttpTarget,
    params: Params,
) -> Result<Document, SendError> {
    let mut out = Outgoing::new(kind, target.clone(), params);
    out.call_sid = Some(call_sid.to_owned());
    let reply = webhooks::send(inner, &out, false).await?;
    if !(200..300).contains(&reply.status) {
        return Err(SendError {
            code: 11200,
            message: format!("HTTP {} from {}", reply.status, target.url),
        });
    }
    if reply.content_type.starts_with("audio/") {
        return Ok(Document {
            base: Some(target.url.clone()),
            verbs: vec![Verb::Play {
                url: target.url.to_string(),
                loops: 1,
            }],
        });
    }
    twiml::parse(&reply.body, Some(target.url.clone())).map_err(|error| SendError {
        code: 12100,
        message: error.to_string(),
    })
}

/// Fetches a call's TwiML; on failure requests the fallback URL with `ErrorCode`/`ErrorUrl`
/// like Twilio. `None` when neither gives usable TwiML.
async fn fetch_call_twiml(
    inner: &Arc<Inner>,
    call_sid: &str,
    kind: WebhookKind,
    target: &HttpTarget,
    fallback: Option<HttpTarget>,
    extra: Params,
) -> Option<Document> {
    let mut params = inner.lock().request_params(call_sid)?;
    params.extend(extra);
    let fetched = if kind == WebhookKind::Voice && inner.faults().take_voice_url_failure() {
        Err(SendError {
            code: 11205,
            message: format!(
                "HTTP connection failure: {} unreachable (fault)",
                target.url
            ),
        })
    } else {
        fetch_twiml(inner, call_sid, kind, target, params.clone()).await
    };
    match fetched {
        Ok(document) => Some(document),
        Err(error) => {
            heard(
                inner,
                call_sid,
                Heard::FetchFailed {
                    source: HeardSource::Call,
                    url: target.url.to_string(),
                    error: format!("{} ({})", error.message, error.code),
                },
            );
            let fallback = fallback?;
            params.push(("ErrorCode".to_owned(), error.code.to_string()));
            params.push(("ErrorUrl".to_owned(), target.url.to_string()));
            match fetch_twiml(
                inner,
                call_sid,
                WebhookKind::VoiceFallback,
                &fallback,
                params,
            )
            .await
            {
                Ok(document) => Some(document),
                Err(error) => {
                    heard(
                        inner,
                        call_sid,
                        Heard::FetchFailed {
                            source: HeardSource::Call,
                            url: fallback.url.to_string(),
                            error: format!("{} ({})", error.message, error.code),
                        },
                    );
                    None
                }
            }
        }
    }
}

/// Twilio could not get TwiML: it says so and hangs up.
fn application_error(inner: &Arc<Inner>, call_sid: &str) {
    inner.mutate(|state, now, fx| {
        state.answer_inbound(call_sid, now);
        state.heard(
            call_sid,
            Heard::Say {
                source: HeardSource::Twilio,
                text: APPLICATION_ERROR_MESSAGE.to_owned(),
            },
        );
        state.end_call(
            call_sid,
            CallStatus::Completed,
            "application error",
            now,
            fx,
        );
    });
}

fn end_call(inner: &Arc<Inner>, call_sid: &str, status: CallStatus, why: &str) {
    inner.mutate(|state, now, fx| {
        state.end_call(call_sid, status, why, now, fx);
    });
}

fn alive(inner: &Arc<Inner>, call_sid: &str, generation: u64) -> bool {
    inner.lock().program_alive(call_sid, generation)
}

/// Runs a call's program from the top: the voice URL for inbound calls, `Url`/`Twiml` otherwise.
pub(crate) async fn run_program(inner: Arc<Inner>, call_sid: String, generation: u64) {
    let (program, fallback) = {
        let state = inner.lock();
        let Some(call) = state.call(&call_sid) else {
            return;
        };
        (call.program.clone(), call.fallback.clone())
    };
    let document = match program {
        Program::VoiceUrl => {
            let primary = HttpTarget {
                url: inner.config.voice_url.clone(),
                method: HttpMethod::Post,
            };
            let fallback = inner
                .config
                .voice_fallback_url
                .clone()
                .map(|url| HttpTarget {
                    url,
                    method: HttpMethod::Post,
                });
            fetch_call_twiml(
                &inner,
                &call_sid,
                WebhookKind::Voice,
                &primary,
                fallback,
                Vec::new(),
            )
            .await
        }
        Program::Url(target) => {
            fetch_call_twiml(
                &inner,
                &call_sid,
                WebhookKind::Voice,
                &target,
                fallback,
                Vec::new(),
            )
            .await
        }
        Program::Twiml(xml) => match twiml::parse(&xml, None) {
            Ok(document) => Some(document),
            Err(error) => {
                heard(
                    &inner,
                    &call_sid,
                    Heard::FetchFailed {
                        source: HeardSource::Call,
                        url: "inline Twiml".to_owned(),
                        error: error.to_string(),
                    },
                );
                None
            }
        },
    };
    if !alive(&inner, &call_sid, generation) {
        return;
    }
    let hangs_up = inner
        .lock()
        .call(&call_sid)
        .is_some_and(|call| call.hangs_up_before_twiml);
    if hangs_up {
        end_call(
            &inner,
            &call_sid,
            CallStatus::Canceled,
            "caller hung up before the TwiML ran",
        );
        return;
    }
    match document {
        Some(document) => execute(&inner, &call_sid, generation, document).await,
        None => application_error(&inner, &call_sid),
    }
}

/// Executes a document verb by verb until the call ends, is redirected, or the TwiML runs out.
async fn execute(inner: &Arc<Inner>, call_sid: &str, generation: u64, mut document: Document) {
    let mut redirects = 0u32;
    'document: loop {
        let mut index = 0;
        while index < document.verbs.len() {
            if !alive(inner, call_sid, generation) {
                return;
            }
            let verb = document.verbs[index].clone();
            index += 1;
            if !matches!(verb, Verb::Reject { .. }) {
                // Any verb but <Reject> answers an inbound call.
                inner.mutate(|state, now, _| state.answer_inbound(call_sid, now));
            }
            match verb {
                Verb::Say { text, .. } => heard(
                    inner,
                    call_sid,
                    Heard::Say {
                        source: HeardSource::Call,
                        text,
                    },
                ),
                Verb::Play { url, .. } => {
                    let url = document
                        .resolve(&url)
                        .map(|url| url.to_string())
                        .unwrap_or(url);
                    heard(
                        inner,
                        call_sid,
                        Heard::Play {
                            source: HeardSource::Call,
                            url,
                        },
                    );
                }
                Verb::Pause { seconds } => {
                    heard(
                        inner,
                        call_sid,
                        Heard::Pause {
                            source: HeardSource::Call,
                            seconds,
                        },
                    );
                    tokio::time::sleep(inner.scaled(Duration::from_secs(u64::from(seconds)))).await;
                }
                Verb::Hangup => {
                    end_call(inner, call_sid, CallStatus::Completed, "TwiML <Hangup>");
                    return;
                }
                Verb::Reject { busy } => {
                    let answered = inner
                        .lock()
                        .call(call_sid)
                        .is_some_and(|call| call.answered_at.is_some());
                    // Twilio: a first-verb <Reject> ends the call busy or no-answer by reason.
                    let status = match (answered, busy) {
                        (true, _) => CallStatus::Completed,
                        (false, true) => CallStatus::Busy,
                        (false, false) => CallStatus::NoAnswer,
                    };
                    end_call(inner, call_sid, status, "TwiML <Reject>");
                    return;
                }
                Verb::Redirect { url, method } => {
                    redirects += 1;
                    let Ok(url) = document.resolve(&url) else {
                        application_error(inner, call_sid);
                        return;
                    };
                    if redirects > MAX_REDIRECTS {
                        application_error(inner, call_sid);
                        return;
                    }
                    let fallback = inner
                        .lock()
                        .call(call_sid)
                        .and_then(|call| call.fallback.clone());
                    let target = HttpTarget { url, method };
                    match fetch_call_twiml(
                        inner,
                        call_sid,
                        WebhookKind::Voice,
                        &target,
                        fallback,
                        Vec::new(),
                    )
                    .await
                    {
                        Some(next) if alive(inner, call_sid, generation) => {
                            document = next;
                            continue 'document;
                        }
                        Some(_) => return,
                        None => {
                            application_error(inner, call_sid);
                            return;
                        }
                    }
                }
                Verb::Dial(dial) => match dial.target {
                    DialTarget::Conference(noun) => {
                        let continues_after = dial.action.is_some() || index < document.verbs.len();
                        let outcome = conference_leg(
                            inner,
                            call_sid,
                            generation,
                            &document,
                            noun,
                            continues_after,
                        )
                        .await;
                        if !alive(inner, call_sid, generation) {
                            return;
                        }
                        if let Some(action) = dial.action {
                            let Ok(url) = document.resolve(&action) else {
                                application_error(inner, call_sid);
                                return;
                            };
                            let target = HttpTarget {
                                url,
                                method: dial.method,
                            };
                            let fallback = inner
                                .lock()
                                .call(call_sid)
                                .and_then(|call| call.fallback.clone());
                            let extra = outcome.action_params();
                            match fetch_call_twiml(
                                inner,
                                call_sid,
                                WebhookKind::DialAction,
                                &target,
                                fallback,
                                extra,
                            )
                            .await
                            {
                                Some(next) if alive(inner, call_sid, generation) => {
                                    document = next;
                                    redirects += 1;
                                    continue 'document;
                                }
                                Some(_) => return,
                                None => {
                                    application_error(inner, call_sid);
                                    return;
                                }
                            }
                        }
                    }
                    DialTarget::Other { noun, value } => heard(
                        inner,
                        call_sid,
                        Heard::Skipped {
                            source: HeardSource::Call,
                            verb: format!("Dial {noun} {value}"),
                        },
                    ),
                },
                Verb::Unsupported { name } => heard(
                    inner,
                    call_sid,
                    Heard::Skipped {
                        source: HeardSource::Call,
                        verb: name,
                    },
                ),
            }
        }
        // Twilio hangs up when the document runs out.
        end_call(inner, call_sid, CallStatus::Completed, "TwiML finished");
        return;
    }
}

/// How a `<Dial><Conference>` ended, as its `action` request reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConferenceDial {
    /// The participant was in the conference until it left or was dropped.
    Joined,
    /// The participant could not be added (failed or unusable `waitUrl`, label in use).
    NotAdded,
}

impl ConferenceDial {
    /// The parameters Twilio adds to the `<Dial>` `action` request. For a conference it sends
    /// no `DialCallSid` or `DialCallDuration` (the Dial docs). `DialCallStatus=completed` means
    /// "connected to the caller"; for a participant that never got in the docs are silent, and
    /// the simulator reports `failed`, the status for "Twilio was unable to route".
    fn action_params(self) -> Vec<(String, String)> {
        let (status, bridged) = match self {
            Self::Joined => ("completed", "true"),
            Self::NotAdded => ("failed", "false"),
        };
        vec![
            ("DialBridged".to_owned(), bridged.to_owned()),
            ("DialCallStatus".to_owned(), status.to_owned()),
        ]
    }
}

/// Joins the conference, plays the wait URL if it has not started, and returns once the call is
/// no longer in it (hang-up, conference end, DELETE, REST redirect).
async fn conference_leg(
    inner: &Arc<Inner>,
    call_sid: &str,
    generation: u64,
    document: &Document,
    noun: ConferenceNoun,
    continues_after: bool,
) -> ConferenceDial {
    let wait = match &noun.wait_url {
        WaitUrl::Default => WaitSetting::Default,
        WaitUrl::Silent => WaitSetting::Silent,
        WaitUrl::Url(raw) => match document.resolve(raw) {
            Ok(url) => WaitSetting::Target(HttpTarget {
                url,
                method: noun.wait_method,
            }),
            Err(error) => {
                // An unusable waitUrl: like a failing one, the participant never gets in.
                heard(
                    inner,
                    call_sid,
                    Heard::FetchFailed {
                        source: HeardSource::WaitUrl,
                        url: raw.clone(),
                        error: error.to_string(),
                    },
                );
                return ConferenceDial::NotAdded;
            }
        },
    };
    let status_callback = noun
        .status_callback
        .as_deref()
        .and_then(|raw| document.resolve(raw).ok())
        .map(|url| HttpTarget {
            url,
            method: noun.status_callback_method,
        });
    let spec = JoinSpec {
        name: noun.name.clone(),
        start_conference_on_enter: noun.start_conference_on_enter,
        end_conference_on_exit: noun.end_conference_on_exit,
        muted: noun.muted,
        beep_on_exit: matches!(noun.beep.as_str(), "true" | "onExit"),
        wait: wait.clone(),
        status_callback,
        events: noun.status_callback_events.clone(),
        label: noun.participant_label.clone(),
        continues_after,
    };
    let joined = match inner.mutate(|state, now, fx| state.join_conference(call_sid, spec, now, fx))
    {
        Ok(joined) => joined,
        Err(error) => {
            heard(
                inner,
                call_sid,
                Heard::Skipped {
                    source: HeardSource::Call,
                    verb: format!("Conference {}: {error}", noun.name),
                },
            );
            return ConferenceDial::NotAdded;
        }
    };
    let conference_sid = joined.conference_sid;
    if joined.waiting {
        match wait {
            WaitSetting::Default => heard(
                inner,
                call_sid,
                Heard::Play {
                    source: HeardSource::Twilio,
                    url: DEFAULT_WAIT_MUSIC.to_owned(),
                },
            ),
            WaitSetting::Silent => heard(
                inner,
                call_sid,
                Heard::Silence {
                    source: HeardSource::WaitUrl,
                },
            ),
            WaitSetting::Target(target) => {
                let sid = call_sid.to_owned();
                let conference = conference_sid.clone();
                let played = play_media(
                    inner,
                    call_sid,
                    target,
                    HeardSource::WaitUrl,
                    WebhookKind::WaitUrl,
                    move |state| state.is_waiting(&sid, &conference),
                )
                .await;
                if played.is_err() {
                    // Twilio: "If the request to your waitUrl fails, the Conference will not be
                    // fully established"; the call goes on after <Dial> (and hangs up if
                    // nothing follows).
                    inner.mutate(|state, now, fx| {
                        state.remove_participant(
                            &conference_sid,
                            call_sid,
                            LeaveCause::AddFailed,
                            now,
                            fx,
                        );
                    });
                    return ConferenceDial::NotAdded;
                }
            }
        }
    }
    wait_until(inner, |state| {
        state.call(call_sid).is_none_or(|call| {
            call.status.is_final()
                || call.generation != generation
                || call.conference.as_deref() != Some(conference_sid.as_str())
        })
    })
    .await;
    ConferenceDial::Joined
}

/// Waits (without polling) until `done` holds for the state.
async fn wait_until(inner: &Arc<Inner>, mut done: impl FnMut(&State) -> bool) {
    let mut versions = inner.version.subscribe();
    loop {
        if done(&inner.lock()) {
            return;
        }
        if versions.changed().await.is_err() {
            return;
        }
    }
}

/// Plays a wait/hold/announce document: fetches it, records Say/Play/Pause, follows
/// `<Redirect>` up to `max_media_fetches` documents while `keep_playing` holds. Only these four
/// verbs are allowed there; anything else is recorded as skipped. Fails only if the first fetch
/// fails.
async fn play_media(
    inner: &Arc<Inner>,
    call_sid: &str,
    first: HttpTarget,
    source: HeardSource,
    kind: WebhookKind,
    keep_playing: impl Fn(&State) -> bool,
) -> Result<(), SendError> {
    let mut next = Some(first);
    let mut fetched = 0usize;
    while let Some(target) = next.take() {
        if fetched >= inner.options.max_media_fetches.max(1) || !keep_playing(&inner.lock()) {
            break;
        }
        let Some(params) = inner.lock().request_params(call_sid) else {
            break;
        };
        heard(
            inner,
            call_sid,
            Heard::Fetched {
                source,
                url: target.url.to_string(),
            },
        );
        let fetched_document =
            if kind == WebhookKind::WaitUrl && inner.faults().take_wait_url_failure() {
                Err(SendError {
                    code: 11205,
                    message: format!(
                        "HTTP connection failure: {} unreachable (fault)",
                        target.url
                    ),
                })
            } else {
                fetch_twiml(inner, call_sid, kind, &target, params).await
            };
        let document = match fetched_document {
            Ok(document) => document,
            Err(error) => {
                heard(
                    inner,
                    call_sid,
                    Heard::FetchFailed {
                        source,
                        url: target.url.to_string(),
                        error: format!("{} ({})", error.message, error.code),
                    },
                );
                if fetched == 0 {
                    return Err(error);
                }
                break;
            }
        };
        fetched += 1;
        for verb in &document.verbs {
            let item = match verb {
                Verb::Say { text, .. } => Heard::Say {
                    source,
                    text: text.clone(),
                },
                Verb::Play { url, .. } => Heard::Play {
                    source,
                    url: document
                        .resolve(url)
                        .map(|url| url.to_string())
                        .unwrap_or_else(|_| url.clone()),
                },
                Verb::Pause { seconds } => Heard::Pause {
                    source,
                    seconds: *seconds,
                },
                Verb::Redirect { url, method } => {
                    if let Ok(url) = document.resolve(url) {
                        next = Some(HttpTarget {
                            url,
                            method: *method,
                        });
                    }
                    break;
                }
                other => Heard::Skipped {
                    source,
                    verb: verb_name(other).to_owned(),
                },
            };
            heard(inner, call_sid, item);
        }
    }
    Ok(())
}

fn verb_name(verb: &Verb) -> &str {
    match verb {
        Verb::Say { .. } => "Say",
        Verb::Play { .. } => "Play",
        Verb::Pause { .. } => "Pause",
        Verb::Redirect { .. } => "Redirect",
        Verb::Hangup => "Hangup",
        Verb::Reject { .. } => "Reject",
        Verb::Dial(_) => "Dial",
        Verb::Unsupported { name } => name,
    }
}

/// A participant was put on hold: it hears `HoldUrl` (or Twilio's default music) until unheld.
async fn hold_music(
    inner: Arc<Inner>,
    call_sid: String,
    conference_sid: String,
    target: Option<HttpTarget>,
) {
    match target {
        None => heard(
            &inner,
            &call_sid,
            Heard::Play {
                source: HeardSource::Twilio,
                url: DEFAULT_WAIT_MUSIC.to_owned(),
            },
        ),
        Some(target) => {
            let sid = call_sid.clone();
            // A failing holdUrl leaves the participant in silence; nothing else changes.
            let _ = play_media(
                &inner,
                &call_sid,
                target,
                HeardSource::HoldUrl,
                WebhookKind::HoldUrl,
                move |state| state.is_held(&sid, &conference_sid),
            )
            .await;
        }
    }
}

/// Plays an announcement to one participant or to everyone, then reports `announcement-end`
/// (or `announcement-fail`) if the conference subscribed to `announcement`.
async fn announce(
    inner: Arc<Inner>,
    conference_sid: String,
    call_sid: Option<String>,
    target: HttpTarget,
) {
    let recipients: Vec<String> = match &call_sid {
        Some(sid) => vec![sid.clone()],
        None => inner
            .lock()
            .conferences
            .get(&conference_sid)
            .map(|conference| {
                conference
                    .participants
                    .iter()
                    .map(|p| p.call_sid.clone())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut failure = None;
    for recipient in &recipients {
        let result = play_media(
            &inner,
            recipient,
            target.clone(),
            HeardSource::Announcement,
            WebhookKind::AnnounceUrl,
            |_| true,
        )
        .await;
        if let Err(error) = result {
            failure = Some(error.message);
        }
    }
    inner.mutate(|state, now, fx| {
        state.announcement_done(
            &conference_sid,
            call_sid.as_deref(),
            &target,
            failure,
            now,
            fx,
        );
    });
}
