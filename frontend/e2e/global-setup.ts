// Playwright's global setup (see playwright.config.ts for the environment it reads): a throwaway
// database, the SPA built, the backend serving it on a free loopback port, ready. It returns the
// teardown (backend stopped, database dropped, data directory removed), which Playwright runs
// after the specs whatever their outcome; a setup that fails half way cleans up itself.
// The specs learn where and who through process.env, which the workers inherit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ARTIFACTS, FRONTEND } from './paths';

const REPO = resolve(FRONTEND, '..');
const READY_TIMEOUT_MS = 90_000;

const log = (...args: unknown[]) => console.error('[e2e]', ...args);

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

function psql(url: string, sql: string): string {
  const res = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.error) throw new Error(`psql could not run: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`psql failed (${sql}): ${res.stderr.trim()}`);
  return res.stdout;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

// `make test` sets TEST_DATABASE_PREFIX (test_<run id>_) and drops that run's databases at the end.
function databasePrefix(): string {
  const prefix = process.env.TEST_DATABASE_PREFIX || '';
  if (prefix && !/^[a-z][a-z0-9_]*$/.test(prefix)) {
    throw new Error(
      `TEST_DATABASE_PREFIX=${JSON.stringify(prefix)}: use lower-case letters, digits and _, starting with a letter`,
    );
  }
  return prefix;
}

function resolveDatabaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const script = join(REPO, 'scripts', 'db.sh');
  if (!existsSync(script)) throw new Error('DATABASE_URL is not set (start Postgres with `bash scripts/db.sh start`).');
  log('DATABASE_URL not set; starting the project database with scripts/db.sh start');
  const res = spawnSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = (res.stdout || '').split('\n').find((l) => l.startsWith('DATABASE_URL='));
  if (res.status !== 0 || !line) throw new Error('scripts/db.sh start did not print DATABASE_URL');
  return line.slice('DATABASE_URL='.length).trim();
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function waitForReady(baseUrl: string, child: ChildProcess, logFile: string): Promise<void> {
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
      const e = err as Error & { cause?: { code?: string } };
      last = e.cause?.code || e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`backend not ready after ${READY_TIMEOUT_MS / 1000}s (${last}); see ${logFile}\n${tail(logFile)}`);
}

function stopProcess(child: ChildProcess | null, graceMs = 10_000): Promise<void> {
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

export default async function globalSetup(): Promise<(() => Promise<void>) | undefined> {
  const ringTimeout = process.env.E2E_RING_TIMEOUT_SECONDS;
  if (
    ringTimeout !== undefined &&
    !(/^\d+$/.test(ringTimeout) && Number(ringTimeout) >= 5 && Number(ringTimeout) <= 600)
  ) {
    throw new Error(`E2E_RING_TIMEOUT_SECONDS=${JSON.stringify(ringTimeout)}: use a whole number of seconds from 5 to 600`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });

  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(chromium)) throw new Error(`Chromium not found at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);

  // Against a server that is already running: nothing to set up or tear down.
  if (process.env.E2E_BASE_URL) {
    if (!process.env.E2E_ADMIN_EMAIL || !process.env.E2E_ADMIN_PASSWORD) {
      throw new Error('E2E_BASE_URL needs E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD');
    }
    return undefined;
  }

  const bin = resolve(process.env.WARM_TRANSFER_BIN || join(REPO, 'target', 'debug', 'warm-transfer'));
  if (!existsSync(bin)) throw new Error(`backend binary not found at ${bin} (cargo build -p warm-transfer, or set WARM_TRANSFER_BIN)`);

  if (process.env.E2E_SKIP_BUILD !== '1') {
    log('building the SPA (vite build)');
    const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: FRONTEND, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('vite build failed');
  }
  const staticDir = join(FRONTEND, 'dist');
  if (!existsSync(join(staticDir, 'index.html'))) throw new Error(`${staticDir}/index.html missing; run npm run build`);

  const serverUrl = resolveDatabaseUrl();
  const dbName = `${databasePrefix()}e2e_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'warm-transfer-e2e-'));
  const adminEmail = 'admin@example.com';
  const adminPassword = `E2e-${randomBytes(12).toString('base64url')}`;
  // The demo agents (agent1@example.com, agent2@example.com) the backend seeds in demo mode.
  const agentPassword = `E2e-${randomBytes(12).toString('base64url')}`;
  const logFile = join(ARTIFACTS, 'backend.log');

  let backend: ChildProcess | null = null;
  let dbCreated = false;
  let cleaning: Promise<void> | null = null;
  const teardown = () =>
    (cleaning ??= (async () => {
      await stopProcess(backend);
      if (dbCreated && process.env.E2E_KEEP_DB !== '1') {
        try {
          psql(serverUrl, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
          log(`dropped database ${dbName}`);
        } catch (err) {
          log(`could not drop database ${dbName}: ${(err as Error).message}`);
        }
      } else if (dbCreated) {
        log(`kept database ${dbName} (${redact(withDatabase(serverUrl, dbName))})`);
      }
      rmSync(dataDir, { recursive: true, force: true });
    })());

  try {
    log(`creating database ${dbName} on ${redact(serverUrl)}`);
    psql(serverUrl, `CREATE DATABASE "${dbName}"`);
    dbCreated = true;

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const out = createWriteStream(logFile);
    log(`starting ${bin} serve on ${baseUrl} (log: ${logFile})${ringTimeout ? `; ring timeout ${ringTimeout} s` : ''}`);
    const child = spawn(bin, ['serve'], {
      cwd: REPO,
      env: {
        ...process.env,
        DATABASE_URL: withDatabase(serverUrl, dbName),
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
    backend = child;
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    await waitForReady(baseUrl, child, logFile);
    log('backend ready; running specs');
    // The workers start after this and inherit the runner's environment.
    Object.assign(process.env, {
      E2E_BASE_URL: baseUrl,
      E2E_ADMIN_EMAIL: adminEmail,
      E2E_ADMIN_PASSWORD: adminPassword,
      E2E_AGENT_PASSWORD: agentPassword,
    });
  } catch (err) {
    await teardown();
    throw err;
  }

  return teardown;
}
