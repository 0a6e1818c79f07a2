//! TLS to PostgreSQL is used when DATABASE_URL asks for it. The test server has no TLS, so a
//! URL that requires it must fail to connect (rather than fall back to plain TCP), and one that
//! turns it off must work.

use warm_transfer::config::Config;
use warm_transfer::startup::Application;

use crate::helpers::{base_env, create_database, TestApp};

fn with_sslmode(url: &str, mode: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode={mode}")
}

#[tokio::test]
async fn a_url_that_requires_tls_never_falls_back_to_plain_tcp() {
    let database_url = create_database().await;
    for mode in ["require", "verify-full"] {
        let env = base_env(&with_sslmode(&database_url, mode));
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("valid config");
        let err = match Application::build(config).await {
            Ok(_) => panic!("sslmode={mode} connected without TLS"),
            Err(e) => e.to_string(),
        };
        // The TLS handshake was tried and the server said no.
        assert!(
            err.contains("server does not support TLS"),
            "sslmode={mode}: {err}"
        );
    }
}

#[tokio::test]
async fn a_url_that_turns_tls_off_connects_in_plain() {
    let database_url = create_database().await;
    let app = TestApp::spawn_on(base_env(&with_sslmode(&database_url, "disable"))).await;
    assert_eq!(app.get("/readyz", None).await.status(), 200);
}
