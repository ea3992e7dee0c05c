// Starts the real VPA (recommender, updater, admission controller) beside the benchmark's control
// plane, as its deploy/ manifests run it but on loopback: its CRDs applied from the module's
// vpa-v1-crd-gen.yaml, the admission webhook registered by URL with certificates made as the
// harness makes the apiserver's, metrics read from the same metrics.k8s.io (the real metrics-server
// in front of the simulator). Time flags are the defaults divided by the clock speed (vpaTimeFlags).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { createWebhookCerts } from '../src/webhook/certs.ts';
import { freePorts } from '../src/devcluster/ports.ts';
import { startProcess, type RunningProcess } from '../src/devcluster/process.ts';
import { sleep } from './lib.ts';
import type { VpaBinaries, VpaComponent } from './vpa-binaries.ts';

/** A Go duration for `seconds` (whole seconds; Go's flag parser reads e.g. `1440s`). */
export function goDuration(seconds: number): string {
  return `${Math.max(1, Math.round(seconds))}s`;
}

/**
 * VPA's wall-clock defaults (pkg/recommender/config/config.go, pkg/recommender/model/aggregations_config.go,
 * pkg/updater/config/config.go) divided by the simulator's speed, so each spans the same simulated
 * time. Sampling loops are not taken below the metrics-server's resolution: polling faster reads the
 * same sample again.
 */
export function vpaTimeFlags(
  speed: number,
  metricResolutionSeconds: number,
): Readonly<Record<'recommender' | 'updater', readonly string[]>> {
  const d = (s: number) => goDuration(s / speed);
  const DAY = 24 * 3600;
  return {
    recommender: [
      `--recommender-interval=${goDuration(Math.max(metricResolutionSeconds, 60 / speed))}`,
      `--memory-aggregation-interval=${d(DAY)}`,
      `--memory-histogram-decay-half-life=${d(DAY)}`,
      `--cpu-histogram-decay-half-life=${d(DAY)}`,
      `--confidence-interval-cpu=${d(DAY)}`,
      `--confidence-interval-memory=${d(DAY)}`,
      `--checkpoints-gc-interval=${d(600)}`,
    ],
    updater: [
      `--updater-interval=${d(60)}`,
      `--in-recommendation-bounds-eviction-lifetime-threshold=${d(12 * 3600)}`,
      `--evict-after-oom-threshold=${d(600)}`,
    ],
  };
}

export interface VpaOptions {
  readonly binaries: VpaBinaries;
  /** Folder for certificates, kubeconfigs and logs. */
  readonly dir: string;
  /** The kubeconfig (YAML) the three components use: the benchmark's counting proxy. */
  readonly kubeconfig: string;
  /** Admin client, to apply the CRDs and wait for the webhook. */
  readonly kc: k8s.KubeConfig;
  /** The namespace the VPA watches (--vpa-object-namespace): the other tool's fleet is not its business. */
  readonly namespace: string;
  readonly speed: number;
  readonly metricResolutionSeconds: number;
  readonly log: (m: string) => void;
}

export interface RunningVpa {
  readonly processes: Readonly<Record<VpaComponent, RunningProcess>>;
  readonly flags: Readonly<Record<VpaComponent, readonly string[]>>;
  stop(): Promise<void>;
}

/** Creates the VPA CRDs from the module's manifest and waits until they are Established. */
export async function applyVpaCrds(kc: k8s.KubeConfig, crdPath: string): Promise<string[]> {
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const names: string[] = [];
  // client-node's own loader: the typed client drops wire-format keys (x-kubernetes-int-or-string)
  // from plain objects (see src/api/install.ts).
  for (const doc of k8s.loadAllYaml(
    readFileSync(crdPath, 'utf8'),
  ) as (k8s.V1CustomResourceDefinition | null)[]) {
    const crd = doc;
    if (!crd?.kind || crd.kind !== 'CustomResourceDefinition') continue;
    await ext.createCustomResourceDefinition({ body: crd });
    names.push(crd.metadata!.name!);
  }
  for (const name of names)
    for (let i = 0; ; i++) {
      const c = await ext.readCustomResourceDefinition({ name });
      if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (i > 100) throw new Error(`VPA CRD ${name} not Established after 20 s`);
      await sleep(200);
    }
  return names;
}

export async function startVpa(o: VpaOptions): Promise<RunningVpa> {
  mkdirSync(o.dir, { recursive: true });
  const kubeconfigPath = join(o.dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, o.kubeconfig, { mode: 0o600 });
  // The webhook's serving certificate for the name the apiserver dials (loopback), under a CA of its
  // own that goes into the registration's caBundle (the admission controller reads --client-ca-file).
  const certs = await createWebhookCerts(['127.0.0.1']);
  const pem = (f: string, s: string) => {
    writeFileSync(join(o.dir, f), s, { mode: 0o600 });
    return join(o.dir, f);
  };
  const caFile = pem('caCert.pem', certs.caPem);
  const certFile = pem('serverCert.pem', certs.certPem);
  const keyFile = pem('serverKey.pem', certs.keyPem);
  const [webhookPort, recMetrics, updMetrics, admMetrics] = await freePorts(4);
  const time = vpaTimeFlags(o.speed, o.metricResolutionSeconds);
  const common = [`--kubeconfig=${kubeconfigPath}`, `--vpa-object-namespace=${o.namespace}`, '--v=2'];
  const flags: Record<VpaComponent, string[]> = {
    recommender: [...common, `--address=127.0.0.1:${recMetrics}`, ...time.recommender],
    updater: [...common, `--address=127.0.0.1:${updMetrics}`, ...time.updater],
    'admission-controller': [
      ...common,
      `--address=127.0.0.1:${admMetrics}`,
      `--client-ca-file=${caFile}`,
      `--tls-cert-file=${certFile}`,
      `--tls-private-key=${keyFile}`,
      `--port=${webhookPort}`,
      '--register-by-url=true',
      '--webhook-address=https://127.0.0.1',
      `--webhook-port=${webhookPort}`,
    ],
  };
  const processes = {} as Record<VpaComponent, RunningProcess>;
  // The admission controller first: the updater only acts while its status Lease is fresh.
  for (const c of ['admission-controller', 'recommender', 'updater'] as const) {
    processes[c] = startProcess(`vpa-${c}`, o.binaries.paths[c], flags[c], join(o.dir, `${c}.log`));
    o.log(`vpa ${c} pid ${processes[c].child.pid}, log ${join(o.dir, `${c}.log`)}`);
  }
  const stop = async () => {
    await Promise.all(Object.values(processes).map((p) => p.stop()));
  };
  // It registers itself after 10 s (webHookDelay in pkg/admission-controller/main.go).
  const adm = o.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  for (let i = 0; ; i++) {
    const dead = Object.values(processes).find((p) => p.hasExited());
    if (dead) {
      await stop();
      throw new Error(`${dead.name} exited (${await dead.exited}):\n${dead.tail()}`);
    }
    const found = await adm.readMutatingWebhookConfiguration({ name: 'vpa-webhook-config' }).then(
      () => true,
      () => false,
    );
    if (found) break;
    if (i > 120) {
      await stop();
      throw new Error(
        `the VPA admission controller did not register its webhook in 60 s:\n${processes['admission-controller'].tail()}`,
      );
    }
    await sleep(500);
  }
  o.log(`vpa webhook registered at https://127.0.0.1:${webhookPort}`);
  return { processes, flags, stop };
}
