// `tailor sim`: plays the node side of a cluster (nodes, kubelets, CSI storage, metrics) from a
// scenario file, against `tailor dev up` or any cluster you can reach with a kubeconfig.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TailorError } from '../../errors.ts';
import { makeClients } from '../../kube/client.ts';
import { clusterOptions, kubeConfigFrom, type ClusterFlags } from '../flags.ts';
import { defaultKubeconfig } from '../../devcluster/paths.ts';
import { simClock } from '../../sim/clock.ts';
import { profileResolver } from '../../sim/profiles.ts';
import { defaultScenario, parseScenario, scenarioNodes, type Scenario } from '../../sim/scenario.ts';
import { scaleDownPools } from '../../sim/consolidation/index.ts';
import { Simulator } from '../../sim/simulator.ts';
import { METRICS_SERVER_CHOICES, type MetricsServerChoice } from '../../sim/metrics/metrics-backend.ts';
import { loadTraceLibrary } from '../../sim/usage/index.ts';
import { applyWorkloads } from '../../sim/workloads.ts';

interface SimOptions extends ClusterFlags {
  scenario?: string;
  speed?: string;
  prometheusPort: string;
  metricsApi: boolean;
  replaceMetricsApiservice: boolean;
  metricsServer: string;
  metricResolution?: string;
  workloads: boolean;
  cleanup: boolean;
}

const say = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

function readScenario(path: string | undefined): Scenario {
  if (!path) return defaultScenario();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TailorError('InvalidInput', `cannot read scenario ${path}: ${(err as Error).message}`, {
      hint: 'see examples/scenarios/ for scenario files',
    });
  }
  return parseScenario(text, path);
}

export function registerSim(program: Command): void {
  const cmd = program
    .command('sim')
    .description(
      'simulate nodes, kubelets, storage and metrics for a cluster, from a scenario file (runs until Ctrl-C)',
    )
    .option(
      '--scenario <file>',
      'scenario YAML (node pools, clock, workloads); default: 3 general nodes and 1 GPU node',
    )
    .option('--speed <n>', 'simulated seconds per real second (overrides the scenario clock)')
    .option(
      '--prometheus-port <port>',
      'port of the Prometheus endpoint on 127.0.0.1 (0 = any free one)',
      '9464',
    )
    .option('--no-metrics-api', 'do not serve metrics.k8s.io (use when metrics-server runs)')
    .option(
      '--replace-metrics-apiservice',
      "replace a metrics.k8s.io APIService tailor sim did not create (a real metrics-server's); it is deleted on exit, not restored",
      false,
    )
    .option(
      '--metrics-server <which>',
      `who serves metrics.k8s.io: ${METRICS_SERVER_CHOICES.join(' | ')} (auto: the real metrics-server when built, else the built-in fallback)`,
      'auto',
    )
    .option(
      '--metric-resolution <seconds>',
      "metrics-server's --metric-resolution in simulated seconds (default 15; at least 10 s of wall time)",
    )
    .option('--no-workloads', "do not create the scenario's workloads")
    .option('--cleanup', 'delete the simulated nodes on exit');
  // Simulated nodes belong in `tailor dev up`'s cluster: its kubeconfig is the default, not ~/.kube/config.
  clusterOptions(cmd, defaultKubeconfig()).action(async (o: SimOptions) => {
    const scenario = readScenario(o.scenario);
    const speed = o.speed !== undefined ? Number(o.speed) : scenario.clock.speed;
    if (!Number.isFinite(speed) || speed <= 0) {
      throw new TailorError('InvalidInput', `--speed ${o.speed}: expected a positive number`, {
        hint: 'e.g. --speed 60 for a simulated minute per second',
      });
    }
    const port = Number(o.prometheusPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TailorError(
        'InvalidInput',
        `--prometheus-port ${o.prometheusPort}: expected a port number 0-65535`,
      );
    }
    if (!METRICS_SERVER_CHOICES.includes(o.metricsServer as MetricsServerChoice)) {
      throw new TailorError('InvalidInput', `--metrics-server ${o.metricsServer}: unknown`, {
        hint: `one of ${METRICS_SERVER_CHOICES.join(', ')}`,
      });
    }
    const resolution = o.metricResolution !== undefined ? Number(o.metricResolution) : undefined;
    if (resolution !== undefined && !(Number.isFinite(resolution) && resolution >= 10)) {
      throw new TailorError(
        'InvalidInput',
        `--metric-resolution ${o.metricResolution}: expected seconds, 10 or more`,
        {
          hint: 'metrics-server refuses a resolution under 10s; its manifests use 15',
        },
      );
    }
    const kc = kubeConfigFrom(o);
    const nodes = scenarioNodes(scenario);
    say(
      `scenario ${scenario.name}: ${nodes.length} nodes in ${scenario.nodePools.length} pools, ${scenario.workloads.length} workloads, clock x${speed}`,
    );
    // Ctrl-C is ours from here on, also while starting: a signal then lets the start finish (or
    // fail and roll back), and the run stops at once, removing what it registered.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    const sim = await Simulator.start({
      kc,
      nodes,
      profileFor: profileResolver(loadTraceLibrary(), scenario.defaultProfile),
      storageClass: scenario.storage.storageClass,
      ...(scenario.storage.volumeQuotaBytes !== undefined
        ? { volumeQuotaBytes: scenario.storage.volumeQuotaBytes }
        : {}),
      volumeThroughputBytesPerSecond: scenario.storage.throughputBytesPerSecond,
      clock: simClock(speed, scenario.clock.start ?? Date.now() / 1000),
      tickMs: Math.max(100, (scenario.clock.tickSeconds * 1000) / speed),
      prometheusPort: port,
      metricsApi: o.metricsApi,
      replaceMetricsApiService: o.replaceMetricsApiservice,
      metricsServer: o.metricsServer as MetricsServerChoice,
      ...(resolution !== undefined ? { metricResolutionSeconds: resolution } : {}),
      scaleDown: scaleDownPools(scenario.nodePools),
      log: say,
    }).catch((err: unknown) => {
      // Simulator.start removed what it had registered; nothing of this run is left to wait for.
      exitSoon();
      throw err;
    });
    say(
      `nodes registered; Prometheus metrics on http://127.0.0.1:${sim.prometheus.port}/metrics (per job: /metrics/cadvisor and /metrics/kubelet as job kubelet, /metrics/kube-state-metrics as job kube-state-metrics); ${sim.metricsApi ? `${sim.metricsApi.description} (kubectl top pods)` : 'metrics.k8s.io not served (--no-metrics-api)'}`,
    );
    const report = setInterval(() => {
      const pods = [...sim.kubelet.pods.values()];
      const ready = pods.filter((p) => [...p.containers.values()].every((c) => c.ready)).length;
      say(
        `${pods.length} pods on simulated nodes, ${ready} ready; ${sim.kubelet.stats.statusWrites} status writes; tick ${sim.kubelet.stats.lastTickMs.toFixed(1)} ms`,
      );
    }, 30_000);
    try {
      if (o.workloads && scenario.workloads.length)
        await Promise.race([applyWorkloads(makeClients(kc), scenario, say), stopped]);
      await stopped;
    } finally {
      clearInterval(report);
      say('stopping');
      // Every step of sim.stop is bounded; this bounds the whole, whatever else holds the process.
      const deadline = setTimeout(() => {
        say(`stopping took over ${STOP_DEADLINE_MS / 1000}s; exiting anyway`);
        process.exit(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      // Removes the metrics APIService it registered (and the nodes with --cleanup), whatever ended the run.
      await sim.stop({ deleteNodes: o.cleanup });
      clearTimeout(deadline);
      say('stopped');
      exitSoon();
    }
  });
}

/** The longest a stop may take (its steps are bounded: 10 s per API step, 3 s per local one). */
const STOP_DEADLINE_MS = 45_000;

/**
 * Once the simulator is stopped nothing should keep the process alive; a client connection that
 * lingers must not make a failed or stopped `tailor sim` hang around. Unref'd: it fires only if
 * something else still holds the event loop.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
}
