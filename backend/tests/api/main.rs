//! Integration tests: the real HTTP stack against a real PostgreSQL database per test.

mod agents;
mod auth;
mod health;
mod helpers;
mod migrations;
mod project_files;
