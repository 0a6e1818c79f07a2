//! The JSON API under `/api`, the ops probes, and the OpenAPI document describing them.

pub mod agents;
pub mod auth;
pub mod calls;
#[cfg(feature = "demo")]
pub mod demo;
pub mod dialing;
pub mod doc;
pub mod dto;
pub mod error;
pub mod events;
pub mod extract;
pub mod live;
pub mod me;
pub mod meta;
pub mod presence;
pub mod voice;

use actix_web::web;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warm Transfer API",
        description = "Contact-center API: agents, sign-in, presence, calls and transfers. Errors are JSON `{code, message, field?}` with a stable `code`.",
        license(name = "Proprietary")
    ),
    modifiers(&SessionAuth),
    tags(
        (name = "auth", description = "Sign in and out"),
        (name = "me", description = "The signed-in agent"),
        (name = "agents", description = "The team; admins manage it"),
        (name = "calls", description = "Call history, the queue, and live call control"),
        (name = "voice", description = "Voice SDK access tokens"),
        (name = "presence", description = "After-call work and presence reasons: wrap-up settings, dispositions, away reasons; admins change them"),
        (name = "dialing", description = "The dialing policy for outside numbers; admins change it"),
        (name = "events", description = "Live updates (server-sent events)"),
        (name = "demo", description = "Demo mode only: play the customer and the agent's browser through the built-in simulator"),
        (name = "meta", description = "Public facts for the dashboard"),
        (name = "ops", description = "Health and readiness probes"),
    )
)]
pub struct ApiDoc;

struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Routes under `/api`.
pub fn configure_api(cfg: &mut ServiceConfig) {
    cfg.service(auth::login)
        .service(auth::logout)
        .service(me::me)
        .service(me::set_status)
        .service(agents::list)
        .service(agents::get)
        .service(agents::create)
        .service(agents::update)
        .service(agents::deactivate)
        .service(agents::unlock)
        .service(agents::sign_out)
        .service(meta::client_config)
        .service(voice::token)
        .service(calls::list)
        .service(calls::get)
        .service(calls::mine)
        .service(calls::queue)
        .service(calls::live_calls)
        .service(calls::move_to_front)
        .service(calls::assign)
        .service(calls::create_transfer)
        .service(calls::transfer_to_queue)
        .service(calls::complete_transfer)
        .service(calls::cancel_transfer)
        .service(calls::hold)
        .service(calls::mute)
        .service(calls::remove_participant)
        .service(calls::leave)
        .service(calls::hang_up)
        .service(calls::monitor)
        .service(calls::stop_monitor)
        .service(calls::take_over)
        .service(dialing::get)
        .service(dialing::update)
        .service(presence::get_settings)
        .service(presence::update_settings)
        .service(presence::list_dispositions)
        .service(presence::create_disposition)
        .service(presence::update_disposition)
        .service(presence::list_away_reasons)
        .service(presence::create_away_reason)
        .service(presence::update_away_reason)
        .service(presence::finish_wrap_up)
        .service(presence::extend_wrap_up)
        .service(presence::set_disposition)
        .service(events::stream);
    #[cfg(feature = "demo")]
    cfg.service(demo::create_call)
        .service(demo::hang_up)
        .service(demo::ringing)
        .service(demo::accept)
        .service(demo::reject)
        .service(demo::outside_calls)
        .service(demo::outside_call_action);
}

/// Extractor settings that turn malformed input into our JSON errors.
pub fn extractor_configs(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(64 * 1024)
            .error_handler(error::json_error_handler),
    )
    .app_data(web::PathConfig::default().error_handler(error::path_error_handler))
    .app_data(web::QueryConfig::default().error_handler(error::query_error_handler));
}
