//! Twilio's webhooks under `/twilio/*`: form-encoded, signature-checked, answered fast.
//!
//! A webhook for a live customer never answers with an error page: if the database fails, the
//! caller still gets valid TwiML that keeps them connected.

mod signed;

use actix_web::{http::header::ContentType, post, web, HttpResponse};
use uuid::Uuid;

pub use signed::{SignedForm, WebhookAuth};

use crate::domain::call::CallSid;
use crate::services::voice::{CustomerDialEnded, InboundCall, RawCallback, VoiceEngine};
use twilio::rest::CallStatus as TwilioCallStatus;
use twilio::twiml;

/// How long the voice webhook may spend storing the call before it answers regardless.
const STORE_CALL_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

fn twiml_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::xml())
        .body(body)
}

/// The number's voice URL: the customer joins their conference at once; routing happens in the
/// background.
#[post("/voice")]
async fn voice(engine: web::Data<VoiceEngine>, form: SignedForm) -> HttpResponse {
    let Some(call_sid) = form.get("CallSid").and_then(|s| CallSid::parse(s).ok()) else {
        tracing::warn!("voice webhook without a valid CallSid");
        return twiml_response(twiml::say_and_hangup("Sorry, we could not take your call."));
    };
    let call = InboundCall {
        call_sid: call_sid.clone(),
        from: form.get("From").unwrap_or("unknown").to_owned(),
        to: form.get("To").unwrap_or("unknown").to_owned(),
    };
    // The caller gets the same conference either way; a call that cannot be stored now is
    // kept and stored once the database is back (its conference callbacks would adopt it too).
    // Twilio waits at most 15 s; answer well before, whatever the database does.
    let stored = match tokio::time::timeout(STORE_CALL_WITHIN, engine.incoming_call(&call)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::error!(error = %e, %call_sid, "could not store an incoming call; answering anyway");
            false
        }
        Err(_) => {
            tracing::error!(%call_sid, "storing an incoming call timed out; answering anyway");
            false
        }
    };
    let twiml = engine.customer_twiml(&call_sid, 0);
    if !stored {
        engine.keep_incoming_call(form.into_params());
    }
    twiml_response(twiml)
}

/// The number's fallback URL, for when the voice URL fails: same room, no database needed.
#[post("/voice/fallback")]
async fn voice_fallback(engine: web::Data<VoiceEngine>, form: SignedForm) -> HttpResponse {
    tracing::warn!(error_code = ?form.get("ErrorCode"), "voice fallback used");
    match form.get("CallSid").and_then(|s| CallSid::parse(s).ok()) {
        Some(sid) => twiml_response(engine.customer_twiml(&sid, 0)),
        None => twiml_response(twiml::say_and_hangup(
            "Sorry, we are having technical difficulties. Please call again.",
        )),
    }
}

#[derive(serde::Deserialize)]
struct DialDoneQuery {
    rejoins: Option<u32>,
}

/// The customer's `<Dial action>`: their conference Dial ended. A caller still on the line is put
/// back in (a failed waitUrl leaves the conference half made); a call that is over hangs up.
#[post("/dial-done")]
async fn dial_done(
    engine: web::Data<VoiceEngine>,
    form: SignedForm,
    query: web::Query<DialDoneQuery>,
) -> HttpResponse {
    let Some(call_sid) = form.get("CallSid").and_then(|s| CallSid::parse(s).ok()) else {
        tracing::warn!("dial action without a valid CallSid");
        return twiml_response(twiml::hang_up());
    };
    let dial = CustomerDialEnded {
        call_sid,
        dial_status: form.get("DialCallStatus").unwrap_or_default().to_owned(),
        caller_gone: form
            .get("CallStatus")
            .and_then(|s| s.parse::<TwilioCallStatus>().ok())
            .is_some_and(TwilioCallStatus::is_final),
        rejoins: query.rejoins.unwrap_or(0),
    };
    twiml_response(engine.customer_dial_ended(&dial).await)
}

#[derive(serde::Deserialize)]
struct WaitQuery {
    again: Option<String>,
}

/// The conference's waitUrl: greeting and music, looping.
#[post("/wait")]
async fn wait(
    engine: web::Data<VoiceEngine>,
    _form: SignedForm,
    query: web::Query<WaitQuery>,
) -> HttpResponse {
    twiml_response(engine.wait_twiml(query.again.is_none()))
}

/// The holdUrl for participants put on hold.
#[post("/hold")]
async fn hold(engine: web::Data<VoiceEngine>, _form: SignedForm) -> HttpResponse {
    twiml_response(engine.hold_twiml())
}

#[derive(serde::Deserialize)]
struct LegQuery {
    participant: Uuid,
    conference: Option<String>,
    /// A supervisor's leg: from the fallback it still joins muted and unannounced.
    #[serde(default)]
    supervisor: bool,
}

/// A dialed leg's room when the database can't be asked: the conference named in its URL,
/// joined as a supervisor (muted) or an agent as the URL says.
fn leg_twiml_without_database(engine: &VoiceEngine, query: &LegQuery) -> HttpResponse {
    match &query.conference {
        Some(name) if query.supervisor => {
            twiml_response(engine.supervisor_leg_twiml(name, query.participant))
        }
        Some(name) => twiml_response(engine.agent_leg_twiml(name, query.participant)),
        None => twiml_response(twiml::say_and_hangup(
            "Sorry, this call could not be connected.",
        )),
    }
}

/// A dialed leg (agent browser or phone) answered: join the conference.
#[post("/leg")]
async fn leg_answered(
    engine: web::Data<VoiceEngine>,
    form: SignedForm,
    query: web::Query<LegQuery>,
) -> HttpResponse {
    match engine
        .answered_leg_twiml(query.participant, form.get("CallSid"))
        .await
    {
        Ok(body) => twiml_response(body),
        Err(e) => {
            tracing::error!(error = %e, participant = %query.participant, "leg TwiML from the database failed");
            leg_twiml_without_database(&engine, &query)
        }
    }
}

/// The fallback of a leg we dialed, for when `/leg` fails: join the named conference, no
/// database needed.
#[post("/leg/fallback")]
async fn leg_fallback(
    engine: web::Data<VoiceEngine>,
    form: SignedForm,
    query: web::Query<LegQuery>,
) -> HttpResponse {
    tracing::warn!(error_code = ?form.get("ErrorCode"), participant = %query.participant, "leg fallback used");
    leg_twiml_without_database(&engine, &query)
}

/// Call progress of a leg we placed: stored, then processed from the inbox.
#[post("/leg-status")]
async fn leg_status(
    engine: web::Data<VoiceEngine>,
    form: SignedForm,
    query: web::Query<LegQuery>,
) -> HttpResponse {
    accept(
        &engine,
        RawCallback::LegStatus {
            participant_id: query.participant,
            form: form.into_params(),
        },
    )
    .await
}

/// Conference events (joins, leaves, hold, mute, start, end): stored, then processed from the
/// inbox.
#[post("/conference-status")]
async fn conference_status(engine: web::Data<VoiceEngine>, form: SignedForm) -> HttpResponse {
    accept(
        &engine,
        RawCallback::Conference {
            form: form.into_params(),
        },
    )
    .await
}

/// A status callback is answered 2xx once kept (Twilio never retries an error answer), or 400
/// when it can never be processed.
async fn accept(engine: &VoiceEngine, cb: RawCallback) -> HttpResponse {
    match engine.accept_callback(cb).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(bad) => {
            tracing::warn!(error = %bad, "refused a callback that can never be processed");
            HttpResponse::BadRequest().body(bad.to_string())
        }
    }
}

/// Routes under `/twilio`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(voice)
        .service(voice_fallback)
        .service(wait)
        .service(hold)
        .service(dial_done)
        .service(leg_answered)
        .service(leg_fallback)
        .service(leg_status)
        .service(conference_status);
}
