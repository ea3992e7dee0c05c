// OOM kills found through a real Prometheus with a real cluster's semantics: the simulator serves
// cAdvisor as the kubelet does (a new series, new `id`, per container instance; the OOM counter
// per cgroup, flat at 0 when the main process is the one killed) and kube-state-metrics from the
// pods' API status (restarts, last terminated reason), scraped under job="kubelet" and
// job="kube-state-metrics". Tailor must find the kills from kube-state-metrics: were it reading
// cAdvisor's counter alone, it would find none and this test would fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusClient, readPrometheusHistory, type PodOom } from '../../src/sources/prometheus.ts';
import { namespaces } from '../../src/sources/scope.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { eventually, prometheusTarget, simPod, useCluster } from '../support/cluster.ts';

const cluster = useCluster(import.meta.url);
const Mi = 2 ** 20;
const LIMIT = 128 * Mi;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

test('an OOM kill in the simulator is found by Tailor through Prometheus, with the OOM counter flat', async (t) => {
  const { core, namespace } = cluster;
  const prometheus = await startPrometheus(prometheusTarget());
  t.after(() => prometheus.stop());
  const instant = async (q: string): Promise<Sample[]> => {
    const r = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    return ((await r.json()) as { data: { result: Sample[] } }).data.result;
  };
  const sel = `namespace="${namespace}",pod="ramp"`;
  // Memory climbs from 50 to 200 MiB over each 40 s busy spell of a minute: every spell crosses
  // the 128 MiB limit about 21 s in, so an instance started in the quiet part shows the climb.
  await core.createNamespacedPod({
    namespace,
    body: simPod({
      name: 'ramp',
      profile: 'batch',
      params: {
        baseMemoryBytes: 50 * Mi,
        peakMemoryBytes: 200 * Mi,
        baseCpuCores: 0.02,
        peakCpuCores: 0.02,
        busySeconds: 40,
        periodSeconds: 60,
        phaseSeconds: 0,
        noise: 0,
        startupSeconds: 0,
      },
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    }),
  });

  const client = new PrometheusClient({ baseUrl: prometheus.url });
  const appSeries = async () => {
    const now = Date.now() / 1000;
    return client.series(`container_memory_working_set_bytes{${sel},container="app"}`, now - 600, now);
  };
  const seen = await eventually(
    async () => {
      const restarts = await instant(`kube_pod_container_status_restarts_total{${sel}}`);
      assert.ok(Number(restarts[0]?.value[1] ?? 0) >= 2, `restarts seen: ${restarts[0]?.value[1] ?? 'none'}`);
      const reason = await instant(`kube_pod_container_status_last_terminated_reason{${sel}}`);
      assert.equal(reason[0]?.metric.reason, 'OOMKilled', JSON.stringify(reason));
      // An earlier instance's series ended at its restart (stale now) after climbing toward the limit.
      // An instance killed at its first tick may never be scraped: wait for two that were.
      const ids = new Set((await appSeries()).map((s) => s.id!));
      assert.ok(ids.size >= 2, `container instances seen: ${[...ids].join(', ')}`);
      const current = new Set(
        (await instant(`container_memory_working_set_bytes{${sel},container="app"}`)).map((s) => s.metric.id),
      );
      const ended = [...ids].filter((id) => !current.has(id));
      const peaks = await instant(
        `max_over_time(container_memory_working_set_bytes{${sel},container="app"}[10m])`,
      );
      const endedPeak = Math.max(
        0,
        ...peaks.filter((p) => ended.includes(p.metric.id!)).map((p) => Number(p.value[1])),
      );
      assert.ok(endedPeak > 100 * Mi, `peak of an ended instance: ${endedPeak / Mi} MiB`);
      assert.ok(endedPeak <= LIMIT, `peak of an ended instance: ${endedPeak / Mi} MiB, above the limit`);
      return { restarts: restarts[0]!, reason: reason[0] };
    },
    { timeoutMs: 180_000, intervalMs: 2000, what: 'OOM-killed restarts and an ended instance that climbed' },
  );
  // Job names as kube-prometheus gives them; KSM's labels carry the pod's uid.
  assert.equal(seen.restarts.metric.job, 'kube-state-metrics');
  const pod = await core.readNamespacedPod({ name: 'ramp', namespace });
  const uid = pod.metadata!.uid!;
  assert.equal(seen.reason.metric.uid, uid);

  // cAdvisor: one series per container instance, named by its cgroup; the OOM counter never rose.
  const series = await appSeries();
  const ids = new Set(series.map((s) => s.id));
  assert.ok(ids.size >= 2, `container instances seen: ${[...ids].join(', ')}`);
  for (const s of series) {
    assert.match(s.id!, new RegExp(`^/kubepods/burstable/pod${uid}/[0-9a-f]{64}$`), 'id is the cgroup path');
    assert.equal(s.name, s.id!.split('/').pop(), 'name is the container ID');
    assert.equal(s.job, 'kubelet');
    assert.equal(s.metrics_path, '/metrics/cadvisor');
  }
  // The pod status names the same container IDs as the cgroups (the last terminated one surely).
  const lastId = pod.status!.containerStatuses![0]!.lastState!.terminated!.containerID!;
  assert.match(lastId, /^sim:\/\/[0-9a-f]{64}$/);
  assert.ok(
    series.some((s) => `sim://${s.name}` === lastId) ||
      Number(pod.status!.containerStatuses![0]!.restartCount) > 2,
    `last terminated ${lastId} among ${[...ids].join(', ')}`,
  );
  // The pod's own cgroup (container="") is served too, under the pod's QoS cgroup.
  const podCgroup = await instant(`container_memory_working_set_bytes{${sel},container=""}`);
  assert.equal(podCgroup[0]?.metric.id, `/kubepods/burstable/pod${uid}`);
  const oomCounter = await instant(`max_over_time(container_oom_events_total{${sel}}[10m])`);
  assert.ok(oomCounter.length >= 2, 'cAdvisor exports its OOM counter');
  assert.ok(
    oomCounter.every((s) => Number(s.value[1]) === 0),
    `cAdvisor's OOM counter stays flat: ${oomCounter.map((s) => s.value[1]).join(', ')}`,
  );

  // Tailor's reading: the kills come from kube-state-metrics, sized at least at the limit.
  const ooms: PodOom[] = [];
  const now = Date.now() / 1000;
  const result = await readPrometheusHistory(client, {
    scope: namespaces(namespace),
    start: now - 300,
    end: now,
    stepSeconds: 5,
    rateWindowSeconds: 10,
    onChunk: (_, found) => ooms.push(...found),
  });
  assert.equal(result.oomSource, 'RestartsWithReasonAndOomEvents');
  const ramp = ooms.filter((o) => o.pod === 'ramp');
  assert.ok(ramp.length >= 1, `OOM kills found: ${JSON.stringify(ooms)}`);
  assert.ok(
    ramp.every((o) => o.container === 'app' && o.usageBytes >= LIMIT),
    JSON.stringify(ramp),
  );
});
