//! Integration tests: the real HTTP stack against a real PostgreSQL database per test.

mod agents;
mod api_contract;
mod auth;
mod bad_input;
mod call_flows;
mod cluster;
mod database_tls;
#[cfg(feature = "demo")]
mod demo;
#[cfg(feature = "demo")]
mod demo_hangup;
mod dialing_policy;
mod drain;
mod dropped_callers;
mod health;
mod helpers;
mod history;
mod housekeeping;
mod http_security;
mod migrations;
mod monitoring;
mod never_drop;
mod peer_bugs;
mod pool;
mod processes;
mod project_files;
mod properties;
mod queue;
mod robustness;
mod routing_run;
#[cfg(feature = "demo")]
mod streams;
mod supervisor;
mod timeline;
mod transfers;
mod upkeep_at_scale;
mod upstream_errors;
mod voice;
mod wrap_up;
