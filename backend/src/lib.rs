//! Warm Transfer backend: Twilio Voice webhooks, access tokens, routing and warm transfers.

pub mod api;
pub mod auth;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod http_security;
pub mod metrics;
pub mod services;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod webhooks;
