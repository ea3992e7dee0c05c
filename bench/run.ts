// `npm run bench`: runs every bench/*.bench.ts (or those whose name contains an argument), one
// after another; each writes its figures to bench/results/.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const filters = process.argv.slice(2);
const dir = join(import.meta.dirname, '.');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) console.log('no benchmark matched');
for (const f of files) {
  console.log(`\n== ${f}`);
  const started = Date.now();
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: () => Promise<void> };
  await mod.default();
  console.log(`== ${f} done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
