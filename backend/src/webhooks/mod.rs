//! Twilio's webhooks under `/twilio/*`: form-encoded, signature-checked, answered fast.
//!
//! A webhook for a live customer never answers with an error page: if the database fails, the
//! caller still gets valid TwiML that keeps them connected.

mod signed;

use actix_web::{http::header::ContentType, post, web, HttpResponse};
use uuid::Uuid;

pub use signed::{SignedForm, WebhookAuth};

use crate::domain::call::{CallSid, ConferenceEvent, ConferenceSid};
use crate::services::voice::{
    ConferenceCallback, CustomerDialEnded, InboundCall, LegStatusCallback, VoiceEngine,
};
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
    // The caller gets the same conference either way; if storing fails, the conference
    // callbacks adopt the call later.
    // Twilio waits at most 15 s; answer well before, whatever the database does.
    match tokio::time::timeout(STORE_CALL_WITHIN, engine.incoming_call(&call)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, %call_sid, "could not store an incoming call; answering anyway")
        }
        Err(_) => {
            tracing::error!(%call_sid, "storing an incoming call timed out; answering anyway")
        }
    }
    twiml_response(engine.customer_twiml(&call_sid, 0))
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
            match &query.conference {
                Some(name) => twiml_response(engine.agent_leg_twiml(name)),
                None => twiml_response(twiml::say_and_hangup(
                    "Sorry, this call could not be connected.",
                )),
            }
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
    match &query.conference {
        Some(name) => twiml_response(engine.agent_leg_twiml(name)),
        None => twiml_response(twiml::say_and_hangup(
            "Sorry, this call could not be connected.",
        )),
    }
}

/// Call progress of a leg we placed.
#[post("/leg-status")]
async fn leg_status(
    engine: web::Data<VoiceEngine>,
    form: SignedForm,
    query: web::Query<LegQuery>,
) -> HttpResponse {
    let (Some(call_sid), Some(raw_status)) = (form.get("CallSid"), form.get("CallStatus")) else {
        return HttpResponse::BadRequest().body("CallSid and CallStatus are required");
    };
    let Ok(status) = raw_status.parse::<TwilioCallStatus>() else {
        return HttpResponse::BadRequest().body("unknown CallStatus");
    };
    let Ok(call_sid) = CallSid::parse(call_sid) else {
        return HttpResponse::BadRequest().body("CallSid is not a call SID");
    };
    let callback = LegStatusCallback {
        participant_id: query.participant,
        call_sid,
        status,
        raw_status: raw_status.to_owned(),
        sequence: form.get("SequenceNumber").and_then(|s| s.parse().ok()),
    };
    match engine.leg_status(callback).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => {
            tracing::error!(error = %e, "leg status callback failed");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

fn parse_bool(value: Option<&str>) -> Option<bool> {
    value.map(|v| v.eq_ignore_ascii_case("true"))
}

/// Conference events (joins, leaves, hold, mute, start, end).
#[post("/conference-status")]
async fn conference_status(engine: web::Data<VoiceEngine>, form: SignedForm) -> HttpResponse {
    let (Some(event), Some(conference_sid), Some(name)) = (
        form.get("StatusCallbackEvent"),
        form.get("ConferenceSid"),
        form.get("FriendlyName"),
    ) else {
        return HttpResponse::BadRequest()
            .body("StatusCallbackEvent, ConferenceSid and FriendlyName are required");
    };
    let (Ok(conference_sid), Ok(call_sid)) = (
        ConferenceSid::parse(conference_sid),
        form.get("CallSid").map(CallSid::parse).transpose(),
    ) else {
        return HttpResponse::BadRequest()
            .body("ConferenceSid or CallSid is not a SID of its kind");
    };
    let callback = ConferenceCallback {
        event: ConferenceEvent::parse(event),
        raw_event: event.to_owned(),
        conference_sid,
        friendly_name: name.to_owned(),
        call_sid,
        sequence: form.get("SequenceNumber").and_then(|s| s.parse().ok()),
        hold: parse_bool(form.get("Hold")),
        muted: parse_bool(form.get("Muted")),
        end_conference_on_exit: parse_bool(form.get("EndConferenceOnExit")),
        participant_call_status: form.get("ParticipantCallStatus").map(str::to_owned),
        reason: form
            .get("ReasonParticipantLeft")
            .or(form.get("Reason"))
            .map(str::to_owned),
    };
    match engine.conference_event(callback).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => {
            tracing::error!(error = %e, "conference callback failed");
            HttpResponse::ServiceUnavailable().finish()
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
