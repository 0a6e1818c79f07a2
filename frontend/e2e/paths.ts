// Where the browser tests write: screenshots, backend.log, traces and the HTML report.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS = process.env.E2E_ARTIFACTS || join(FRONTEND, 'e2e-artifacts');
