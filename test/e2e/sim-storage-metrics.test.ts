// The simulator's CSI driver and metrics on the real control plane: a PVC expansion through the
// real status fields, `kubectl top pods` through the aggregated metrics.k8s.io API, and the
// Prometheus endpoint scraped by a real Prometheus server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startPrometheus } from '../support/prometheus.ts';
import { eventually, expectReady, prometheusTarget, simPod, useCluster } from '../support/cluster.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;

test('a PVC of the simulated StorageClass binds, and an expansion completes through the PVC status fields', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name: 'cache' },
      spec: {
        storageClassName: 'tailor-sim',
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
      },
    },
  });
  await eventually(async () => {
    const c = await core.readNamespacedPersistentVolumeClaim({ name: 'cache', namespace });
    assert.equal(c.status?.phase, 'Bound');
    assert.equal(c.status?.capacity?.storage, '1Gi');
  });
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'writer',
      profile: 'idle',
      params: { startupSeconds: 0, volumeBytes: 300 * Mi },
      resources: { requests: { cpu: '10m', memory: '32Mi' } },
      volumes: [{ name: 'cache', persistentVolumeClaim: { claimName: 'cache' } }],
      mounts: [{ name: 'cache', mountPath: '/cache' }],
    }),
  });
  await expectReady(core, namespace, 'writer');

  // Watch the claim's status so the intermediate steps are seen, not only the end.
  const seen = new Set<string>();
  const watch = new k8s.Watch(cluster.kc);
  const req = await watch.watch(
    `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
    {},
    (_type, obj: k8s.V1PersistentVolumeClaim) => {
      const s = obj.status?.allocatedResourceStatuses?.storage;
      if (s) seen.add(s);
    },
    () => {},
  );
  try {
    await core.patchNamespacedPersistentVolumeClaim(
      { name: 'cache', namespace, body: { spec: { resources: { requests: { storage: '2Gi' } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const done = await eventually(
      async () => {
        const c = await core.readNamespacedPersistentVolumeClaim({ name: 'cache', namespace });
        assert.equal(c.status?.capacity?.storage, '2Gi');
        return c;
      },
      { timeoutMs: 30_000, what: 'the expansion' },
    );
    assert.equal(done.status?.allocatedResourceStatuses, undefined);
    assert.equal(done.status?.allocatedResources?.storage, '2Gi');
    const pv = await core.readPersistentVolume({ name: done.spec!.volumeName! });
    assert.equal(pv.spec?.capacity?.storage, '2Gi');
    assert.ok(seen.has('ControllerResizeInProgress'), `saw ${[...seen].join(', ')}`);
    assert.ok(seen.has('NodeResizePending'), `saw ${[...seen].join(', ')}`);
  } finally {
    (req as { abort?: () => void }).abort?.();
  }
});

test('kubectl top pods prints the simulated usage through the aggregated metrics.k8s.io API', async () => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'busy',
      profile: 'idle',
      params: { memoryBytes: 300 * Mi, cpuCores: 0.25, startupSeconds: 0, noise: 0 },
      resources: { requests: { cpu: '500m', memory: '512Mi' } },
    }),
  });
  await expectReady(core, namespace, 'busy');
  const out = await eventually(
    () => {
      const r = cluster.kubectl('top', 'pods', '-n', namespace, '--no-headers', '-l', 'app=busy');
      if (r.status !== 0) throw new Error(r.stderr);
      return r.stdout;
    },
    { timeoutMs: 60_000, what: 'kubectl top pods' },
  );
  const [name, cpu, memory] = out.trim().split(/\s+/);
  assert.equal(name, 'busy');
  // The real metrics-server divides the CPU counter's rise between two scrapes by the time between
  // their timestamps: a tick of jitter moves it by a millicore or two around the 250m used.
  const millicores = Number(/^(\d+)m$/.exec(cpu ?? '')?.[1]);
  assert.ok(Math.abs(millicores - 250) <= 5, `cpu ${cpu}, expected about 250m`);
  assert.equal(memory, '300Mi');
});

test("a real Prometheus server scrapes the simulator and answers queries with the exporters' names", async (t) => {
  const { core, namespace } = cluster;
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'scraped',
      profile: 'idle',
      params: { memoryBytes: 100 * Mi, cpuCores: 0.1, startupSeconds: 0, noise: 0 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
    }),
  });
  await expectReady(core, namespace, 'scraped');
  const prometheus = await startPrometheus(prometheusTarget());
  t.after(() => prometheus.stop());
  const query = async (q: string) => {
    const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return body.data.result;
  };
  const mem = await eventually(
    async () => {
      // container!="": a kubelet also serves the pod's own cgroup (container="").
      const r = await query(
        `container_memory_working_set_bytes{namespace="${namespace}",pod="scraped",container!=""}`,
      );
      assert.equal(r.length, 1);
      return r[0]!;
    },
    { timeoutMs: 60_000, what: 'Prometheus to return the scraped series' },
  );
  assert.equal(Number(mem.value[1]), 100 * Mi);
  assert.equal(mem.metric.container, 'app');
  assert.equal(mem.metric.job, 'kubelet');
  const limit = await query(
    `container_spec_memory_limit_bytes{namespace="${namespace}",pod="scraped",container="app"}`,
  );
  assert.equal(Number(limit[0]?.value[1]), 256 * Mi);
  await eventually(
    async () => {
      const rate = await query(
        `rate(container_cpu_usage_seconds_total{namespace="${namespace}",pod="scraped",container="app"}[10s])`,
      );
      assert.ok(Math.abs(Number(rate[0]?.value[1]) - 0.1) < 0.02, `rate ${rate[0]?.value[1]}`);
    },
    { timeoutMs: 60_000, what: 'a CPU rate from two scrapes' },
  );
});
