//! Browser security headers on every response (HSTS over https), the metrics token, and no
//! source maps in production.

use std::collections::HashMap;

use crate::helpers::{assert_error, TestApp};
use crate::voice::CallCenter;

const STRONG: &str = "k3Jd9s0QmZp2Lr8xVt4Wc6Yb1Na7Ue5Ho0Gf3Di";

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header on {}", res.url()))
}

#[tokio::test]
async fn every_response_carries_the_browser_security_headers() {
    let app = TestApp::spawn().await;
    for path in [
        "/healthz",
        "/api/me",
        "/api/nowhere",
        "/openapi.json",
        "/docs/",
    ] {
        let res = app.get(path, None).await;
        let csp = header(&res, "content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        let script = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in {csp}"));
        assert!(!script.contains("unsafe-inline"), "{path}: {script}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&res, "x-frame-options"), "DENY", "{path}");
        assert_eq!(
            header(&res, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        // Served over plain http here: no HSTS.
        assert!(
            res.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_when_the_public_address_is_https() {
    let cc = CallCenter::start_with(1, |env| {
        env.insert(
            "PUBLIC_BASE_URL".into(),
            "https://support.example.com".into(),
        );
    })
    .await;
    let res = cc.app().get("/healthz", None).await;
    assert!(
        header(&res, "strict-transport-security").starts_with("max-age=31536000"),
        "{:?}",
        res.headers()
    );
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let open = TestApp::spawn().await;
    assert_eq!(open.get("/metrics", None).await.status(), 200);

    let app = TestApp::spawn_with(|env| {
        env.insert("METRICS_TOKEN".into(), STRONG.into());
    })
    .await;
    assert_error(app.get("/metrics", None).await, 401, "unauthorized").await;
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("k3Jd9s0QmZp2Lr8xVt4Wc6Yb1Na7Ue5Ho0Gf3Dj")
        .send()
        .await
        .unwrap();
    assert_error(wrong, 401, "unauthorized").await;
    // A session token is no metrics token either.
    app.create_agent("ana@example.com", warm_transfer::domain::agent::Role::Admin)
        .await;
    let session = app.token("ana@example.com").await;
    assert_error(
        app.get("/metrics", Some(&session)).await,
        401,
        "unauthorized",
    )
    .await;

    let res = app.get("/metrics", Some(STRONG)).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("warm_transfer_"));
}

/// A built SPA with a source map beside its bundle.
fn spa_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wt-spa-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><script type=\"module\" src=\"/assets/app.js\"></script>",
    )
    .unwrap();
    std::fs::write(
        dir.join("assets/app.js"),
        "console.log(1)\n//# sourceMappingURL=app.js.map",
    )
    .unwrap();
    std::fs::write(
        dir.join("assets/app.js.map"),
        "{\"sources\":[\"src/secret.ts\"]}",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn production_serves_no_source_maps() {
    let dir = spa_dir();
    let spa = |production: bool| {
        let dir = dir.clone();
        move |env: &mut HashMap<String, String>| {
            env.insert("STATIC_DIR".into(), dir.display().to_string());
            if production {
                env.insert("APP_ENV".into(), "production".into());
                env.insert("DEMO_MODE".into(), "allow".into());
            }
        }
    };
    let development = TestApp::spawn_with(spa(false)).await;
    assert_eq!(
        development.get("/assets/app.js.map", None).await.status(),
        200
    );

    let production = TestApp::spawn_with(spa(true)).await;
    assert_eq!(production.get("/assets/app.js", None).await.status(), 200);
    let map = production.get("/assets/app.js.map", None).await;
    assert_error(map, 404, "not_found").await;
    // The SPA itself is served, under the policy.
    let index = production.get("/", None).await;
    assert_eq!(index.status(), 200);
    assert!(header(&index, "content-security-policy").contains("script-src 'self'"));
}
