// Builds (or verifies) the cached control-plane binaries and helm, printing progress: `.ci/run` calls
// this before the tests so the builds' minutes are not charged to a test's timeout.
import { ensureBinaries } from '../../src/devcluster/binaries.ts';
import { ensureHelm } from '../../src/devcluster/helm.ts';

const started = Date.now();
const b = await ensureBinaries((line) => console.log(line));
console.log(`control-plane binaries (${b.source}) ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
const helmStarted = Date.now();
const h = await ensureHelm((line) => console.log(line));
console.log(`helm (${h.source}, ${h.path}) ready in ${((Date.now() - helmStarted) / 1000).toFixed(1)}s`);
