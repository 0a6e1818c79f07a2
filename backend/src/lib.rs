//! Warm Transfer backend: Twilio Voice webhooks, access tokens, routing and warm transfers.

pub mod api;
pub mod auth;
pub mod services;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod metrics;
pub mod startup;
pub mod telemetry;
pub mod twilio;
pub mod webhooks;
pub mod sim;
