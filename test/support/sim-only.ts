// Starts the test simulator against a running cluster (for debugging a test file by hand).
import { startTestSimulator } from './simulator.ts';
const sim = await startTestSimulator(process.argv[2]!, (l) => console.log(l));
console.log(`PROM=127.0.0.1:${sim.prometheusPort}`);
process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
