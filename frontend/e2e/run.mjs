#!/usr/bin/env node
// Browser end-to-end run: fresh database -> backend serving the built SPA -> e2e/*.spec.mjs in
// Debian's Chromium (playwright-core, node:test) -> backend stopped, database dropped.
//
//   npm run e2e                        all specs
//   npm run e2e -- e2e/auth.spec.mjs   only these
//
// Environment:
//   DATABASE_URL          Postgres server to create the throwaway database on (any database on it
//                         works; the role needs CREATEDB). When unset, ../scripts/db.sh start is used.
//   WARM_TRANSFER_BIN     backend binary (default ../target/debug/warm-transfer)
//   CHROMIUM_PATH         browser (default /usr/bin/chromium)
//   E2E_SKIP_BUILD=1      serve the existing dist/ instead of running `vite build` first
//   E2E_KEEP_DB=1         keep the database after the run (its name is printed)
//   TEST_DATABASE_PREFIX  put this in front of the database's name (`make test` sets one per run)
//   E2E_BASE_URL          run the specs against an already running server instead; then also set
//                         E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD (and E2E_AGENT_PASSWORD, the demo
//                         agents' password, for the call specs)
//   E2E_HEADFUL=1         show the browser (needs a display)
//   E2E_RING_TIMEOUT_SECONDS  how long the backend rings an agent (its RING_TIMEOUT_SECONDS, 5..600;
//                         default: the backend's own, 20 s); the ring-out spec waits that long, so a
//                         short value (e.g. 8) makes it quicker. Passed on to the specs, and with
//                         E2E_BASE_URL it tells them what that server was started with.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(FRONTEND, '..');
const ARTIFACTS = join(FRONTEND, 'e2e-artifacts');
const READY_TIMEOUT_MS = 90_000;

const log = (...args) => console.error('[e2e]', ...args);

function fail(message) {
  log(`error: ${message}`);
  process.exit(2);
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function psql(url, sql) {
  const res = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.error) throw new Error(`psql could not run: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`psql failed (${sql}): ${res.stderr.trim()}`);
  return res.stdout;
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

// `make test` sets TEST_DATABASE_PREFIX (test_<run id>_) and drops that run's databases at the end.
function databasePrefix() {
  const prefix = process.env.TEST_DATABASE_PREFIX || '';
  if (prefix && !/^[a-z][a-z0-9_]*$/.test(prefix)) {
    fail(`TEST_DATABASE_PREFIX=${JSON.stringify(prefix)}: use lower-case letters, digits and _, starting with a letter`);
  }
  return prefix;
}

function resolveDatabaseUrl() {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const script = join(REPO, 'scripts', 'db.sh');
  if (!existsSync(script)) fail('DATABASE_URL is not set (start Postgres with `bash scripts/db.sh start`).');
  log('DATABASE_URL not set; starting the project database with scripts/db.sh start');
  const res = spawnSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = (res.stdout || '').split('\n').find((l) => l.startsWith('DATABASE_URL='));
  if (res.status !== 0 || !line) fail('scripts/db.sh start did not print DATABASE_URL');
  return line.slice('DATABASE_URL='.length).trim();
}

async function waitForReady(baseUrl, child, logFile) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`backend exited early (${child.exitCode ?? child.signalCode}); see ${logFile}\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code || err.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`backend not ready after ${READY_TIMEOUT_MS / 1000}s (${last}); see ${logFile}\n${tail(logFile)}`);
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function stopProcess(child, graceMs = 10_000) {
  return new Promise((resolveStop) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolveStop();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

function specFiles(args) {
  if (args.length > 0) return args.map((a) => resolve(process.cwd(), a));
  const dir = join(FRONTEND, 'e2e');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.spec.mjs'))
    .sort()
    .map((f) => join(dir, f));
}

function runSpecs(files, env) {
  return new Promise((resolveRun) => {
    // One file at a time: the specs share one backend and one admin account.
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
      cwd: FRONTEND,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.on('exit', (code, signal) => resolveRun(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  const files = specFiles(process.argv.slice(2));
  if (files.length === 0) fail('no e2e/*.spec.mjs files found');
  const ringTimeout = process.env.E2E_RING_TIMEOUT_SECONDS;
  if (ringTimeout !== undefined && !(/^\d+$/.test(ringTimeout) && Number(ringTimeout) >= 5 && Number(ringTimeout) <= 600)) {
    fail(`E2E_RING_TIMEOUT_SECONDS=${JSON.stringify(ringTimeout)}: use a whole number of seconds from 5 to 600`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });

  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(chromium)) fail(`Chromium not found at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);

  // Against a server that is already running: nothing to set up.
  if (process.env.E2E_BASE_URL) {
    const { E2E_ADMIN_EMAIL, E2E_ADMIN_PASSWORD } = process.env;
    if (!E2E_ADMIN_EMAIL || !E2E_ADMIN_PASSWORD) fail('E2E_BASE_URL needs E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD');
    process.exitCode = await runSpecs(files, { CHROMIUM_PATH: chromium, E2E_ARTIFACTS: ARTIFACTS });
    return;
  }

  const bin = resolve(process.env.WARM_TRANSFER_BIN || join(REPO, 'target', 'debug', 'warm-transfer'));
  if (!existsSync(bin)) fail(`backend binary not found at ${bin} (cargo build -p warm-transfer, or set WARM_TRANSFER_BIN)`);

  if (process.env.E2E_SKIP_BUILD !== '1') {
    log('building the SPA (vite build)');
    const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: FRONTEND, stdio: 'inherit' });
    if (build.status !== 0) fail('vite build failed');
  }
  const staticDir = join(FRONTEND, 'dist');
  if (!existsSync(join(staticDir, 'index.html'))) fail(`${staticDir}/index.html missing; run npm run build`);

  const serverUrl = resolveDatabaseUrl();
  const dbName = `${databasePrefix()}e2e_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'warm-transfer-e2e-'));
  const adminEmail = 'admin@example.com';
  const adminPassword = `E2e-${randomBytes(12).toString('base64url')}`;
  // The demo agents (agent1@example.com, agent2@example.com) the backend seeds in demo mode.
  const agentPassword = `E2e-${randomBytes(12).toString('base64url')}`;
  const logFile = join(ARTIFACTS, 'backend.log');

  let backend = null;
  let dbCreated = false;
  let cleaning = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await stopProcess(backend);
      if (dbCreated && process.env.E2E_KEEP_DB !== '1') {
        try {
          psql(serverUrl, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
          log(`dropped database ${dbName}`);
        } catch (err) {
          log(`could not drop database ${dbName}: ${err.message}`);
        }
      } else if (dbCreated) {
        log(`kept database ${dbName} (${redact(withDatabase(serverUrl, dbName))})`);
      }
      rmSync(dataDir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup().then(() => process.exit(130));
    });
  }

  try {
    log(`creating database ${dbName} on ${redact(serverUrl)}`);
    psql(serverUrl, `CREATE DATABASE "${dbName}"`);
    dbCreated = true;
    const databaseUrl = withDatabase(serverUrl, dbName);

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const out = createWriteStream(logFile);
    log(`starting ${bin} serve on ${baseUrl} (log: ${logFile})${ringTimeout ? `; ring timeout ${ringTimeout} s` : ''}`);
    backend = spawn(bin, ['serve'], {
      cwd: REPO,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        APP_HOST: '127.0.0.1',
        APP_PORT: String(port),
        STATIC_DIR: staticDir,
        DATA_DIR: dataDir,
        DEMO_ADMIN_EMAIL: adminEmail,
        DEMO_ADMIN_PASSWORD: adminPassword,
        DEMO_AGENT_PASSWORD: agentPassword,
        ...(ringTimeout ? { RING_TIMEOUT_SECONDS: ringTimeout } : {}),
        RUST_LOG: process.env.RUST_LOG || 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    backend.stdout.pipe(out);
    backend.stderr.pipe(out);
    await waitForReady(baseUrl, backend, logFile);
    log('backend ready; running specs');

    process.exitCode = await runSpecs(files, {
      E2E_BASE_URL: baseUrl,
      E2E_ADMIN_EMAIL: adminEmail,
      E2E_ADMIN_PASSWORD: adminPassword,
      E2E_AGENT_PASSWORD: agentPassword,
      E2E_ARTIFACTS: ARTIFACTS,
      CHROMIUM_PATH: chromium,
    });
  } catch (err) {
    log(err.message);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

await main();
