//! Integration tests: the real HTTP stack against a real PostgreSQL database per test.

mod agents;
mod auth;
mod call_flows;
#[cfg(feature = "demo")]
mod demo;
mod dropped_callers;
mod health;
mod helpers;
mod migrations;
mod never_drop;
mod peer_bugs;
mod project_files;
mod properties;
mod robustness;
#[cfg(feature = "demo")]
mod streams;
mod transfers;
mod voice;
