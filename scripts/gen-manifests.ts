// `npm run gen:manifests`: writes deploy/manifests/tailor.yaml from the chart (helm built once
// into ~/.cache/tailor if needed). `--check` writes nothing and fails when the file is stale.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureHelm } from '../src/devcluster/helm.ts';
import { packageRoot } from '../src/devcluster/paths.ts';
import { MANIFESTS_FILE, renderManifests } from './manifests.ts';

const helm = await ensureHelm((line) => process.stderr.write(`${line}\n`));
const path = join(packageRoot(), MANIFESTS_FILE);
const text = renderManifests(helm.path);
const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
if (current === text) {
  process.stderr.write(`${MANIFESTS_FILE} is up to date\n`);
} else if (process.argv.includes('--check')) {
  process.stderr.write(`${MANIFESTS_FILE} is out of date: run npm run gen:manifests\n`);
  process.exitCode = 1;
} else {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  process.stderr.write(`wrote ${MANIFESTS_FILE}\n`);
}
