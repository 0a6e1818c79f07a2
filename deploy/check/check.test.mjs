// The checks fail when they should: each test breaks one thing in a copy of the real files (in
// memory) and expects the failure that names it. Run with `node --test` in deploy/check.
import assert from "node:assert/strict";
import path from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { appGraceDefault, caddyPlaceholders, composeSeconds, checkAll, composeDefault, configVars, loadRepo } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const real = loadRepo(root);

/** A copy of the repository with deploy/k8s/FILE's (single) document changed by `change`. */
function withK8s(file, change) {
  const obj = YAML.parse(real.k8sFiles[file]);
  change(obj);
  return { ...real, k8sFiles: { ...real.k8sFiles, [file]: YAML.stringify(obj) } };
}
function withCompose(change) {
  const obj = YAML.parse(real.composeText, { merge: true });
  change(obj);
  return { ...real, composeText: YAML.stringify(obj) };
}
const container = (dep) => dep.spec.template.spec.containers[0];

async function failsWith(repo, ...expected) {
  const errors = await checkAll(repo);
  for (const want of expected) {
    assert.ok(
      errors.some((e) => e.includes(want)),
      `expected a failure mentioning ${JSON.stringify(want)}; got:\n${errors.join("\n") || "(none)"}`,
    );
  }
}

test("the committed files pass", async () => {
  assert.deepEqual(await checkAll(real), []);
});

test("a field of the wrong type fails the schema", () =>
  failsWith(withK8s("deployment.yaml", (d) => { d.spec.replicas = "three"; }), "schema: data/spec/replicas must be integer"));

test("a misspelt field fails the schema", () =>
  failsWith(withK8s("deployment.yaml", (d) => {
    const c = container(d);
    c.readinesProbe = c.readinessProbe;
    delete c.readinessProbe;
  }), "unknown field /spec/template/spec/containers/0/readinesProbe", "no readinessProbe"));

test("a kind the schemas do not know fails", () =>
  failsWith(withK8s("pdb.yaml", (p) => { p.apiVersion = "policy/v1beta7"; }), "unknown kind policy/v1beta7"));

test("invalid YAML fails", () =>
  failsWith({ ...real, k8sFiles: { ...real.k8sFiles, "service.yaml": "kind: Service\n  bad: [" } }, "deploy/k8s/service.yaml: YAML"));

test("a manifest missing from kustomization.yaml fails, and so does a listed example", async () => {
  await failsWith(withK8s("kustomization.yaml", (k) => { k.resources = k.resources.filter((r) => r !== "hpa.yaml"); }),
    "resources lists hpa.yaml 0 times");
  await failsWith(withK8s("kustomization.yaml", (k) => { k.resources.push("secret.example.yaml"); }),
    "lists the example secret.example.yaml");
  await failsWith(withK8s("kustomization.yaml", (k) => { k.resources.push("gone.yaml"); }),
    "resource gone.yaml does not exist");
});

test("probes must hit the app's real routes", async () => {
  await failsWith(withK8s("deployment.yaml", (d) => { container(d).readinessProbe.httpGet.path = "/ready"; }),
    "readinessProbe path /ready is not a route of the app");
  await failsWith(withK8s("deployment.yaml", (d) => { container(d).livenessProbe.httpGet.path = "/readyz"; }),
    "livenessProbe must check /healthz");
  await failsWith(withK8s("deployment.yaml", (d) => { container(d).startupProbe.httpGet.port = "metrics"; }),
    "startupProbe port metrics is not APP_PORT");
});

test("the Service, PDB and Ingress must select the Deployment's pods", async () => {
  await failsWith(withK8s("service.yaml", (s) => { s.spec.selector["app.kubernetes.io/component"] = "worker"; }),
    "deploy/k8s/service.yaml: selector does not match");
  await failsWith(withK8s("pdb.yaml", (p) => { p.spec.selector.matchLabels = { app: "other" }; }),
    "deploy/k8s/pdb.yaml: selector does not match");
  await failsWith(withK8s("ingress.yaml", (i) => { i.spec.rules[0].http.paths[0].backend.service.name = "web"; }),
    "backend service web is not in deploy/k8s");
  await failsWith(withK8s("service.yaml", (s) => { s.spec.ports[0].targetPort = "web"; }),
    "targetPort web is not a container port");
});

test("the PDB must leave room to evict a pod", () =>
  failsWith(withK8s("pdb.yaml", (p) => { p.spec.minAvailable = 3; }), "minAvailable 3 must be a number below the 3 replicas"));

test("the HPA must scale the Deployment, within the connection budget", async () => {
  await failsWith(withK8s("hpa.yaml", (h) => { h.spec.scaleTargetRef.name = "warm"; }), "is not the Deployment");
  await failsWith(withK8s("hpa.yaml", (h) => { h.spec.maxReplicas = 20; }), "connection budget: 21 pods x (10 + 1) = 231");
  await failsWith(withK8s("configmap.yaml", (c) => { c.data.DATABASE_POOL_SIZE = "40"; }), "connection budget");
});

test("settings must be variables the backend reads", async () => {
  await failsWith(withK8s("configmap.yaml", (c) => { c.data.DATABASE_POOL = "10"; }),
    "DATABASE_POOL is not a variable the backend reads");
  await failsWith(withK8s("secret.example.yaml", (s) => { delete s.stringData.SESSION_SECRET; }),
    "SESSION_SECRET must come from the Secret");
  await failsWith(withK8s("configmap.yaml", (c) => { c.data.APP_ENV = "development"; }), "APP_ENV must be production");
});

test("the pod must stop gracefully and run locked down", async () => {
  await failsWith(withK8s("deployment.yaml", (d) => { delete container(d).lifecycle; }), "preStop must sleep");
  await failsWith(withK8s("deployment.yaml", (d) => { d.spec.template.spec.terminationGracePeriodSeconds = 30; }),
    "terminationGracePeriodSeconds 30 must exceed");
  await failsWith(withK8s("deployment.yaml", (d) => { container(d).securityContext.readOnlyRootFilesystem = false; }),
    "readOnlyRootFilesystem must be true");
  await failsWith(withK8s("deployment.yaml", (d) => { d.spec.template.spec.securityContext.runAsUser = 1000; }),
    "runAsUser 1000, the image's user is 10001");
  await failsWith(withK8s("deployment.yaml", (d) => { d.spec.template.spec.securityContext.runAsGroup = 0; }),
    "runAsGroup 0, the image's group is 10001");
  await failsWith(withK8s("deployment.yaml", (d) => { container(d).volumeMounts = []; }), "/tmp must be a writable volume");
  // Without the setting, the app's own default counts.
  const unset = withK8s("configmap.yaml", (c) => { delete c.data.SHUTDOWN_GRACE_SECONDS; });
  await failsWith({ ...unset, graceDefault: 90 }, "SHUTDOWN_GRACE_SECONDS 90 s");
  await failsWith(withK8s("configmap.yaml", (c) => { c.data.SHUTDOWN_GRACE_SECONDS = "55"; }),
    "SHUTDOWN_GRACE_SECONDS 55 s");
});

test("the Ingress must keep live-event streams open", () =>
  failsWith(withK8s("ingress.yaml", (i) => {
    delete i.metadata.annotations["nginx.ingress.kubernetes.io/proxy-buffering"];
    i.metadata.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] = "60";
  }), "proxy-buffering", "proxy-read-timeout of at least 3600"));

test("compose: only the proxy publishes ports", () =>
  failsWith(withCompose((c) => { c.services["backend-2"].ports = ["8081:8080"]; }), "backend-2 publishes ports; only the proxy may"));

test("a compose replica must be given longer than its drain to stop", () =>
  failsWith(withCompose((c) => { c.services.backend.stop_grace_period = "20s"; }),
    "backend stop_grace_period 20s must exceed SHUTDOWN_GRACE_SECONDS 25 s"));

test("compose: the schema catches unknown keys and wrong types", () =>
  failsWith(withCompose((c) => { c.services.proxy.restart_policy = "always"; c.services.db.healthcheck.retries = "many"; }),
    "schema: /services/proxy must NOT have additional properties (restart_policy)", "schema: /services/db/healthcheck/retries"));

test("compose: replicas set only known variables and check real routes", async () => {
  await failsWith(withCompose((c) => { c.services.backend.environment.SESSION_KEY = "x"; }),
    "backend sets SESSION_KEY, which the backend does not read");
  await failsWith(withCompose((c) => { c.services.backend.healthcheck.test = ["CMD", "curl", "-f", "http://127.0.0.1:8080/health"]; }),
    "healthcheck path /health is not a route");
  await failsWith(withCompose((c) => { c.services.backend.environment.DATABASE_URL = "postgres://warm:warm@localhost:5432/x"; }),
    "does not point at the db service");
});

test("compose: the proxy mounts an existing Caddyfile and sends to every replica", async () => {
  await failsWith(withCompose((c) => { c.services.proxy.volumes[0] = "./deploy/caddy/Caddyfile.missing:/etc/caddy/Caddyfile:ro"; }),
    "mounts ./deploy/caddy/Caddyfile.missing, which does not exist");
  await failsWith(withCompose((c) => { c.services.proxy.environment.WT_UPSTREAMS = "backend:8080"; }),
    "WT_UPSTREAMS \"backend:8080\" must be the replicas");
  await failsWith(withCompose((c) => { delete c.services.proxy.environment.WT_UPSTREAMS; }),
    "does not set WT_UPSTREAMS, which the Caddyfile needs");
});

test("compose: the replicas trust the proxy's network and the database is out of its reach", async () => {
  await failsWith(withCompose((c) => { c.services.backend.environment.TRUSTED_PROXIES = "10.0.0.0/8"; }),
    "backend TRUSTED_PROXIES \"10.0.0.0/8\" must be the proxy's network");
  await failsWith(withCompose((c) => { c.services.db.networks.push("edge"); }), "the proxy must not reach the database");
});

test("helpers read the app's own files", () => {
  const vars = configVars('pub const A: &str = "A";\npub const B: &str = "B";\npub const ALL: [&str; 2] = [\n A,\n B,\n];');
  assert.deepEqual([...vars], ["A", "B"]);
  assert.throws(() => configVars('pub const A: &str = "A";\npub const ALL: [&str; 2] = [A];'), /ALL has 1 names, declared 2/);
  assert.ok(real.vars.has("TRUSTED_PROXIES") && real.vars.size >= 30);
  assert.ok(real.routes.has("/healthz") && real.routes.has("/readyz"));
  assert.equal(composeDefault("${SITE_ADDRESS:-localhost}"), "localhost");
  assert.equal(composeDefault("postgres://warm:${POSTGRES_PASSWORD:-warm}@db:5432/x"), "postgres://warm:warm@db:5432/x");
  assert.deepEqual([...caddyPlaceholders("{$A:x} {\n reverse_proxy {$B} # {$C}\n}")], [["A", true], ["B", false]]);
  assert.equal(appGraceDefault("parse_or(&get, vars::SHUTDOWN_GRACE_SECONDS, 25u64)?;"), 25);
  assert.equal(composeSeconds("45s"), 45);
  assert.equal(composeSeconds("1m30s"), 90);
  assert.ok(Number.isNaN(composeSeconds("soon")));
});
