// Writes deploy/crds/*.yaml from the kinds' schemas in src/api, so the files never drift from the
// code. `--check` writes nothing and fails when a file is out of date (for CI).
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KINDS, crdYaml } from '../src/api/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const { definition, source, file } of KINDS) {
  const path = join(root, file);
  const text = crdYaml(definition, source);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (current === text) continue;
  if (check) {
    process.stderr.write(`${file} is out of date: run npm run gen:crds\n`);
    stale++;
    continue;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  process.stderr.write(`wrote ${file}\n`);
}
process.exitCode = stale > 0 ? 1 : 0;
