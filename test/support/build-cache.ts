// Builds (or verifies) the cached control-plane binaries, helm and metrics-server, printing progress: `.ci/run` calls
// this before the tests so the builds' minutes are not charged to a test's timeout.
import { ensureBinaries } from '../../src/devcluster/binaries.ts';
import { ensureHelm } from '../../src/devcluster/helm.ts';
import { ensureMetricsServer } from '../../src/sim/metrics/metrics-server-binary.ts';

const started = Date.now();
const b = await ensureBinaries((line) => console.log(line));
console.log(`control-plane binaries (${b.source}) ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
const helmStarted = Date.now();
const h = await ensureHelm((line) => console.log(line));
console.log(`helm (${h.source}, ${h.path}) ready in ${((Date.now() - helmStarted) / 1000).toFixed(1)}s`);
// The real metrics-server the simulator puts in front of its kubelets (src/sim/metrics/metrics-server.ts).
const msStarted = Date.now();
const ms = await ensureMetricsServer((line) => console.log(line));
console.log(
  `metrics-server (${ms.source}, ${ms.path}) ready in ${((Date.now() - msStarted) / 1000).toFixed(1)}s`,
);
