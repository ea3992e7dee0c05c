// The simulator's cAdvisor and kube-state-metrics series, in process: a container's restart
// starts a new cgroup series (new `id`, counters from zero) while the old one stops, cAdvisor's OOM
// counter stays at zero for a killed main process, the pod cgroup keeps every instance's CPU time,
// and KSM reads the status the kubelet writes (restarts, last terminated reason and exit code,
// waiting reason, requests and limits from the spec) with KSM's label names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { Kubelet } from '../../src/sim/kubelet/kubelet.ts';
import {
  containerIdOf,
  startInstance,
  type ContainerState,
  type PodState,
} from '../../src/sim/kubelet/state.ts';
import { manualClock } from '../../src/sim/clock.ts';
import { SCRAPE_JOBS, exposition, scrapeConfigs } from '../../src/sim/metrics/prometheus.ts';
import { cadvisor } from '../../src/sim/metrics/exporters/cadvisor.ts';
import { kubeStateMetrics } from '../../src/sim/metrics/exporters/kube-state-metrics.ts';
import type { UsageView } from '../../src/sim/metrics/view.ts';
import type { UsageProfile } from '../../src/sim/usage/types.ts';
import { newBook } from '../../src/sim/kubelet/resizer.ts';

const Mi = 2 ** 20;
const clock = manualClock(1_764_680_000);

const profile: UsageProfile = {
  kind: 'idle',
  startupSeconds: 0,
  sample: () => ({ cpuCores: 0.1, memoryBytes: 100 * Mi, gpuMemoryBytes: 0, gpuUtilPercent: 0 }),
} as unknown as UsageProfile;

function container(limits: { cpu?: number; memory?: number }): ContainerState {
  const r = { cpuRequest: 0.1, memoryRequest: 64 * Mi, cpuLimit: limits.cpu, memoryLimit: limits.memory };
  return {
    name: 'app',
    image: 'example.com/app:1',
    profile,
    remake: () => profile,
    startedAt: clock.now(),
    restartCount: 0,
    ready: true,
    allocated: r,
    actual: r,
    gpus: 0,
    policy: { cpu: 'NotRequired', memory: 'NotRequired' },
    consecutiveCrashes: 0,
    usage: { cpuCores: 0.1, memoryBytes: 100 * Mi, gpuMemoryBytes: 0, gpuUtilPercent: 0 },
    cpuSecondsTotal: 30,
    cfsPeriodsTotal: 3000,
    cfsThrottledPeriodsTotal: 10,
    oomEventsTotal: 0,
  };
}

function podOf(c: ContainerState): PodState {
  return {
    uid: '11111111-2222-3333-4444-555555555555',
    namespace: 'shop',
    name: 'web-0',
    node: 'node-a',
    labels: {},
    phase: 'Running',
    startTime: clock.now() - 600,
    podIP: '10.128.0.1',
    hostIP: '10.0.0.1',
    generation: 1,
    observedGeneration: 1,
    containers: new Map([[c.name, c]]),
    resizing: newBook({ spec: { containers: [] } }),
    claims: [],
    dirty: false,
  };
}

function viewOf(pods: PodState[], apiPods: k8s.V1Pod[] = []): UsageView {
  return {
    now: () => clock.now(),
    nodes: () => [],
    pods: () => pods,
    apiPods: () => apiPods,
    volumes: () => [],
  };
}

/** The samples of one family: labels and value per line. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => {
      const [, body, value] = /^[^{]+\{(.*)\} (\S+)$/.exec(l)!;
      const labels = Object.fromEntries([...body!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { labels, value: Number(value) };
    });
}

function kubelet(): Kubelet {
  return new Kubelet({
    clients: {} as never,
    clock,
    nodes: new Map(),
    profileFor: () => ({ ok: true, profile }),
    events: { record: () => {} },
    log: () => {},
  });
}

test('cAdvisor: one series set per container instance, named by its cgroup; the OOM counter per cgroup stays 0', () => {
  const c = container({ memory: 128 * Mi });
  const pod = podOf(c);
  const before = exposition(viewOf([pod]), [cadvisor]);
  const first = samples(before, 'container_memory_working_set_bytes').find(
    (s) => s.labels.container === 'app',
  )!;
  const id0 = containerIdOf(pod.uid, 'app', 0);
  // Burstable (a request below its limit): under /kubepods/burstable, the container ID as its name.
  assert.deepEqual(first.labels, {
    container: 'app',
    id: `/kubepods/burstable/pod${pod.uid}/${id0}`,
    image: 'example.com/app:1',
    name: id0,
    namespace: 'shop',
    pod: 'web-0',
    node: 'node-a',
  });
  assert.equal(first.value, 100 * Mi);

  // The kubelet's restart after an OOM kill: a new instance, a new cgroup.
  c.oomEventsTotal++;
  c.lastTermination = { reason: 'OOMKilled', exitCode: 137, startedAt: c.startedAt, finishedAt: clock.now() };
  c.restartCount++;
  startInstance(c);
  c.cpuSecondsTotal = 2;
  const after = exposition(viewOf([pod]), [cadvisor]);
  const ids = (name: string) =>
    samples(after, name)
      .filter((s) => s.labels.container === 'app')
      .map((s) => s.labels.id);
  const id1 = containerIdOf(pod.uid, 'app', 1);
  assert.notEqual(id1, id0);
  // The old instance's series are gone (Prometheus marks them stale); the new one starts from zero.
  assert.deepEqual(ids('container_memory_working_set_bytes'), [`/kubepods/burstable/pod${pod.uid}/${id1}`]);
  const cpu = samples(after, 'container_cpu_usage_seconds_total');
  assert.equal(cpu.find((s) => s.labels.container === 'app')?.value, 2);
  assert.equal(cpu.find((s) => s.labels.container === 'app')?.labels.cpu, 'total');
  // The pod's cgroup outlives the instances: its CPU counter holds both (30 s + 2 s).
  const podCgroup = cpu.find((s) => s.labels.container === '')!;
  assert.equal(podCgroup.labels.id, `/kubepods/burstable/pod${pod.uid}`);
  assert.equal(podCgroup.labels.name, '');
  assert.equal(podCgroup.value, 32);
  // A killed main process takes its cgroup (and the count) with it: every series reads 0.
  const oom = samples(after, 'container_oom_events_total');
  assert.equal(oom.length, 2, 'the container and the pod cgroup');
  assert.ok(oom.every((s) => s.value === 0));
  // No quota (no CPU limit): no CFS counters and no quota, as cAdvisor's conditions say.
  assert.equal(samples(after, 'container_cpu_cfs_periods_total').length, 0);
  assert.equal(samples(after, 'container_spec_cpu_quota').length, 0);
  assert.equal(
    samples(after, 'container_spec_cpu_shares').find((s) => s.labels.container === 'app')?.value,
    102,
  );

  // In back-off the container has no cgroup: only the pod's series remain.
  c.backOffUntil = clock.now() + 10;
  const waiting = exposition(viewOf([pod]), [cadvisor]);
  assert.deepEqual(
    samples(waiting, 'container_memory_working_set_bytes').map((s) => s.labels.container),
    [''],
  );
});

test('cAdvisor: a Guaranteed pod sits right under /kubepods; CFS counters and quota under a CPU limit', () => {
  const c = container({ cpu: 0.1, memory: 64 * Mi });
  const pod = podOf(c);
  const text = exposition(viewOf([pod]), [cadvisor]);
  const app = (name: string) => samples(text, name).find((s) => s.labels.container === 'app');
  assert.equal(
    app('container_memory_working_set_bytes')?.labels.id,
    `/kubepods/pod${pod.uid}/${containerIdOf(pod.uid, 'app', 0)}`,
  );
  assert.equal(app('container_spec_cpu_quota')?.value, 10_000);
  assert.equal(app('container_cpu_cfs_periods_total')?.value, 3000);
  assert.equal(app('container_cpu_cfs_throttled_periods_total')?.value, 10);
  assert.equal(app('container_spec_memory_limit_bytes')?.value, 64 * Mi);
});

test('the pod status names the container instance that cAdvisor names by its cgroup', () => {
  const c = container({ memory: 128 * Mi });
  const pod = podOf(c);
  c.lastTermination = { reason: 'OOMKilled', exitCode: 137, startedAt: c.startedAt, finishedAt: clock.now() };
  c.restartCount = 3;
  const status = kubelet().statusOf(pod).containerStatuses![0]!;
  assert.equal(status.containerID, `sim://${containerIdOf(pod.uid, 'app', 3)}`);
  assert.equal(status.lastState?.terminated?.containerID, `sim://${containerIdOf(pod.uid, 'app', 2)}`);
  const text = exposition(viewOf([pod]), [cadvisor]);
  const app = samples(text, 'container_memory_working_set_bytes').find((s) => s.labels.container === 'app')!;
  assert.equal(`sim://${app.labels.name}`, status.containerID);
});

test('kube-state-metrics: restarts, last terminated reason, waiting reason and resources from the pod as written', () => {
  const c = container({ memory: 128 * Mi });
  const pod = podOf(c);
  c.lastTermination = { reason: 'OOMKilled', exitCode: 137, startedAt: c.startedAt, finishedAt: clock.now() };
  c.restartCount = 2;
  c.ready = false;
  c.backOffUntil = clock.now() + 20;
  c.waiting = true;
  const api: k8s.V1Pod = {
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f', uid: 'rs', controller: true },
      ],
    },
    spec: {
      nodeName: 'node-a',
      containers: [
        {
          name: 'app',
          image: 'example.com/app:1',
          resources: {
            requests: { cpu: '100m', memory: '64Mi' },
            limits: { memory: '128Mi', 'nvidia.com/gpu': '1' },
          },
        },
      ],
    },
    status: kubelet().statusOf(pod),
  };
  const text = exposition(viewOf([], [api]), [kubeStateMetrics]);
  const one = (name: string) => {
    const s = samples(text, name);
    assert.equal(s.length, 1, `${name}: ${JSON.stringify(s)}`);
    return s[0]!;
  };
  const base = { namespace: 'shop', pod: 'web-0', uid: pod.uid };
  assert.deepEqual(one('kube_pod_container_status_restarts_total'), {
    labels: { ...base, container: 'app' },
    value: 2,
  });
  assert.deepEqual(one('kube_pod_container_status_last_terminated_reason'), {
    labels: { ...base, container: 'app', reason: 'OOMKilled' },
    value: 1,
  });
  assert.equal(one('kube_pod_container_status_last_terminated_exitcode').value, 137);
  assert.deepEqual(one('kube_pod_container_status_waiting_reason').labels, {
    ...base,
    container: 'app',
    reason: 'CrashLoopBackOff',
  });
  assert.equal(one('kube_pod_container_status_ready').value, 0);
  assert.equal(samples(text, 'kube_pod_container_status_terminated_reason').length, 0, 'not terminated now');
  const requests = samples(text, 'kube_pod_container_resource_requests');
  assert.deepEqual(
    requests.map((s) => [s.labels.resource, s.labels.unit, s.value, s.labels.node]),
    [
      ['cpu', 'core', 0.1, 'node-a'],
      ['memory', 'byte', 64 * Mi, 'node-a'],
    ],
  );
  assert.deepEqual(
    samples(text, 'kube_pod_container_resource_limits').map((s) => [
      s.labels.resource,
      s.labels.unit,
      s.value,
    ]),
    [
      ['memory', 'byte', 128 * Mi],
      ['nvidia_com_gpu', 'integer', 1],
    ],
  );
  assert.deepEqual(
    samples(text, 'kube_pod_status_phase')
      .filter((s) => s.value === 1)
      .map((s) => s.labels.phase),
    ['Running'],
  );
  assert.deepEqual(one('kube_pod_owner').labels, {
    ...base,
    owner_kind: 'ReplicaSet',
    owner_name: 'web-7d9f',
    owner_is_controller: 'true',
  });
  assert.equal(one('kube_pod_info').labels.created_by_name, 'web-7d9f');
  assert.equal(
    one('kube_pod_container_info').labels.container_id,
    `sim://${containerIdOf(pod.uid, 'app', 2)}`,
  );
});

test('each exporter on its own path, scraped under the job a real setup names', () => {
  assert.deepEqual(
    SCRAPE_JOBS.map((j) => [j.job, j.path]),
    [
      ['kubelet', '/metrics/cadvisor'],
      ['kubelet', '/metrics/kubelet'],
      ['kube-state-metrics', '/metrics/kube-state-metrics'],
      ['dcgm-exporter', '/metrics/dcgm'],
      ['tailor-sim', '/metrics/runtimes'],
    ],
  );
  const yaml = scrapeConfigs('127.0.0.1:9464', '1s');
  assert.match(yaml, /job_name: kubelet-metrics-cadvisor\n.*\n    metrics_path: \/metrics\/cadvisor\n/);
  assert.match(yaml, /labels: \{job: 'kubelet', metrics_path: '\/metrics\/cadvisor'\}/);
  assert.match(yaml, /labels: \{job: 'kube-state-metrics'\}/);
  // Job names are unique in a Prometheus configuration.
  const names = [...yaml.matchAll(/job_name: (\S+)/g)].map((m) => m[1]);
  assert.equal(new Set(names).size, names.length);
});
