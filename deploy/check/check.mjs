// `node deploy/check/check.mjs`: checks deploy/k8s and docker-compose.yml offline (lib.mjs says
// what); prints each failure and exits 1 when there is any.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkAll, loadRepo } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const repo = loadRepo(root);
const errors = await checkAll(repo);
const manifests = Object.keys(repo.k8sFiles).length;
for (const e of errors) console.error(`  FAIL ${e}`);
if (errors.length) {
  console.error(`deploy check: ${errors.length} problem(s) in deploy/k8s (${manifests} files) and docker-compose.yml`);
  process.exit(1);
}
console.log(`deploy check: deploy/k8s (${manifests} files) and docker-compose.yml are valid and agree with the app`);
