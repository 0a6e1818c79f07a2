#!/usr/bin/env node
// Fails when src/api/schema.d.ts is not what `npm run gen:api` would generate now (the spec moved
// on and nobody regenerated). Reads the spec path from the gen:api script so the two never differ.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts['gen:api'];
const match = /openapi-typescript\s+(\S+)\s+-o\s+(\S+)/.exec(script);
if (!match) {
  console.error(`check-api: cannot read the spec and output paths from gen:api: ${script}`);
  process.exit(2);
}
const [, spec, output] = match;
const dir = mkdtempSync(join(tmpdir(), 'check-api-'));
try {
  const fresh = join(dir, 'schema.d.ts');
  const res = spawnSync('npx', ['openapi-typescript', spec, '-o', fresh], { cwd: root, encoding: 'utf8' });
  if (res.status !== 0) {
    console.error(res.stderr || res.stdout);
    process.exit(2);
  }
  if (readFileSync(fresh, 'utf8') !== readFileSync(join(root, output), 'utf8')) {
    console.error(`check-api: ${output} is out of date with ${spec}; run \`npm run gen:api\` and commit it.`);
    process.exit(1);
  }
  console.log(`check-api: ${output} matches ${spec}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
