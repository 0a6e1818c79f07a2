//! Credentials and sessions: argon2id password hashes and signed session tokens.

pub mod password;
pub mod session;
