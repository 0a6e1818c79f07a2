//! Checks that the files operators and frontend developers rely on stay in step with the code.

use std::path::PathBuf;

use serde_yaml::Value;
use warm_transfer::config::vars;

fn repo_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn committed_openapi_yaml_matches_the_code() {
    let generated = warm_transfer::cli::openapi_yaml().unwrap();
    let committed = repo_file("openapi.yaml");
    assert!(
        generated == committed,
        "openapi.yaml is out of date: run `make openapi` and commit the result"
    );
}

fn env_keys(service: &Value) -> Vec<String> {
    match &service["environment"] {
        Value::Mapping(map) => map
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect(),
        Value::Sequence(list) => list
            .iter()
            .filter_map(|e| e.as_str().map(|s| s.split('=').next().unwrap().to_owned()))
            .collect(),
        _ => Vec::new(),
    }
}

fn env_value(service: &Value, key: &str) -> Option<String> {
    match &service["environment"] {
        Value::Mapping(map) => map.get(key).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }),
        Value::Sequence(list) => list
            .iter()
            .filter_map(Value::as_str)
            .find_map(|e| e.strip_prefix(&format!("{key}=")).map(str::to_owned)),
        _ => None,
    }
}

#[test]
fn compose_file_matches_the_real_configuration() {
    let mut compose: Value =
        serde_yaml::from_str(&repo_file("docker-compose.yml")).expect("docker-compose.yml parses");
    compose.apply_merge().expect("YAML merge keys resolve");
    let services = compose["services"].as_mapping().expect("services");

    let db = &compose["services"]["db"];
    assert!(
        db["image"].as_str().unwrap().starts_with("postgres:15"),
        "db image"
    );
    assert!(db["healthcheck"].is_mapping(), "db healthcheck");

    let backends: Vec<&Value> = services
        .iter()
        .filter(|(_, s)| s["build"].is_mapping() || s["build"].is_string())
        .map(|(_, s)| s)
        .collect();
    assert!(
        backends.len() >= 2,
        "two backend replicas share one database"
    );

    for backend in backends {
        let keys = env_keys(backend);
        for key in &keys {
            assert!(
                vars::ALL.contains(&key.as_str()),
                "compose sets {key}, which the backend does not read"
            );
        }
        for required in [
            vars::DATABASE_URL,
            vars::SESSION_SECRET,
            vars::APP_ENV,
            vars::APP_HOST,
            vars::APP_PORT,
            vars::STATIC_DIR,
        ]
        .into_iter()
        .chain(vars::TWILIO_LIVE)
        {
            assert!(
                keys.iter().any(|k| k == required),
                "compose does not pass {required}"
            );
        }
        assert_eq!(
            env_value(backend, vars::APP_ENV).as_deref(),
            Some("production")
        );
        assert_eq!(
            env_value(backend, vars::APP_HOST).as_deref(),
            Some("0.0.0.0")
        );
        let db_url = env_value(backend, vars::DATABASE_URL).unwrap();
        assert!(
            db_url.starts_with("postgres://") && db_url.contains("@db:5432/"),
            "{db_url}"
        );
        let port = env_value(backend, vars::APP_PORT).unwrap();
        assert!(
            backend["ports"].is_null(),
            "a replica publishes no port: only the proxy is reachable"
        );
        let health = serde_yaml::to_string(&backend["healthcheck"]).unwrap();
        assert!(
            health.contains(&format!(":{port}/readyz")),
            "backend healthcheck asks /readyz on APP_PORT {port}: {health}"
        );
        let depends = serde_yaml::to_string(&backend["depends_on"]).unwrap();
        assert!(
            depends.contains("db") && depends.contains("service_healthy"),
            "{depends}"
        );
    }

    // The proxy: the one published service, with the Caddyfile it is given.
    let proxy = &compose["services"]["proxy"];
    assert!(
        proxy["image"].as_str().unwrap().starts_with("caddy:2"),
        "proxy image"
    );
    let published = serde_yaml::to_string(&proxy["ports"]).unwrap();
    assert!(published.contains("443:443"), "{published}");
    let mounts = serde_yaml::to_string(&proxy["volumes"]).unwrap();
    assert!(
        mounts.contains("./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro"),
        "{mounts}"
    );
    assert!(!repo_file("deploy/caddy/Caddyfile").is_empty());

    let dockerfile = repo_file("backend/Dockerfile");
    assert!(
        dockerfile.contains("warm-transfer"),
        "Dockerfile builds the warm-transfer binary"
    );
    assert!(dockerfile.contains("serve"), "Dockerfile runs `serve`");
    for member in workspace_members(&cargo_metadata()) {
        let dir = member.split('/').next().unwrap();
        assert!(
            dockerfile.contains(&format!("COPY {dir}/ {dir}/")),
            "Dockerfile copies the workspace member {member}"
        );
    }
}

/// The workspace's crates as folders relative to its root, sorted.
fn workspace_members(metadata: &serde_json::Value) -> Vec<String> {
    let root = metadata["workspace_root"].as_str().unwrap();
    let mut members: Vec<String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let manifest = p["manifest_path"].as_str().unwrap();
            let dir = manifest.strip_suffix("/Cargo.toml").unwrap();
            dir.strip_prefix(root)
                .unwrap()
                .trim_start_matches('/')
                .to_owned()
        })
        .collect();
    members.sort();
    members
}

/// `cargo metadata` for the workspace: each package with its dependencies and features.
fn cargo_metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The workspace's own crates that `package` depends on: (name, optional, dev-only).
fn local_dependencies(metadata: &serde_json::Value, package: &str) -> Vec<(String, bool, bool)> {
    let packages = metadata["packages"].as_array().unwrap();
    let local: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let package = packages
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("no package {package}"));
    package["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| local.contains(&d["name"].as_str().unwrap()))
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["optional"].as_bool().unwrap(),
                d["kind"] == "dev",
            )
        })
        .collect()
}

#[test]
fn crates_depend_one_way_and_the_simulator_only_behind_the_demo_feature() {
    let metadata = cargo_metadata();
    assert_eq!(
        workspace_members(&metadata),
        ["backend", "crates/twilio", "crates/twilio-sim"]
    );
    // twilio: the formats and the client, depending on nothing of ours.
    assert_eq!(local_dependencies(&metadata, "twilio"), []);
    // twilio-sim: signs its webhooks with twilio's signer, and knows nothing of the app.
    let sim = local_dependencies(&metadata, "twilio-sim");
    assert!(sim.iter().all(|(name, _, _)| name == "twilio"), "{sim:?}");
    assert!(sim.contains(&("twilio".into(), false, false)), "{sim:?}");
    // The app: twilio always; the simulator optional, for demo mode, plus its tests.
    let app = local_dependencies(&metadata, "warm-transfer");
    assert!(app.contains(&("twilio".into(), false, false)), "{app:?}");
    assert!(app.contains(&("twilio-sim".into(), true, false)), "{app:?}");
    assert!(
        !app.contains(&("twilio-sim".into(), false, false)),
        "{app:?}"
    );
    let packages = metadata["packages"].as_array().unwrap();
    let app = packages
        .iter()
        .find(|p| p["name"] == "warm-transfer")
        .unwrap();
    assert_eq!(app["features"]["default"], serde_json::json!(["demo"]));
    assert_eq!(
        app["features"]["demo"],
        serde_json::json!(["dep:twilio-sim"])
    );
}

#[test]
fn readme_documents_every_variable() {
    let readme = repo_file("README.md");
    for var in vars::ALL {
        assert!(readme.contains(var), "README.md does not document {var}");
    }
    assert!(readme.contains("make run") && readme.contains("make test"));
}

/// Diesel names a migration by the part of its directory before the first `_`: two migrations
/// with the same prefix count as one, and the second is never applied.
#[test]
fn every_migration_has_its_own_version() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut seen = std::collections::HashMap::new();
    for entry in std::fs::read_dir(&dir).expect("migrations directory") {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let version = name.split('_').next().unwrap().to_owned();
        if let Some(other) = seen.insert(version.clone(), name.clone()) {
            panic!("migrations {other} and {name} share the version {version}");
        }
    }
    assert!(seen.len() > 10, "found {} migrations", seen.len());
}
