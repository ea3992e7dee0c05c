// Builds (or verifies) the cached control-plane binaries, printing progress: `.ci/run` calls this
// before the tests so the build's minutes are not charged to a test's timeout.
import { ensureBinaries } from '../../src/devcluster/binaries.ts';

const started = Date.now();
const b = await ensureBinaries((line) => console.log(line));
console.log(`control-plane binaries (${b.source}) ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
