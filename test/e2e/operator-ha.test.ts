// Two `tailor operator` processes with leader election on the real control plane and simulator, as
// the operator's ServiceAccount: exactly one holds the Lease and resizes; kill -9 it and the other
// takes over once the lease has run out (not before), resizes what comes next, and resizes no pod a
// second time for the same decision; the policy's status and checkpoint come through intact; the
// survivor gives the Lease back on SIGTERM.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type SizingCheckpoint, type SizingPolicy } from '../../src/api/index.ts';
import { installCrds } from '../../src/api/install.ts';
import { makeClients } from '../../src/kube/client.ts';
import { parseQuantity } from '../../src/core/quantity.ts';
import {
  DEFAULT_LEASE_DURATION_SECONDS,
  DEFAULT_RETRY_PERIOD_SECONDS,
} from '../../src/operator/leader-election.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { allowLeaderElection, operatorIdentity } from '../support/identity.ts';
import {
  createPolicy,
  eventsFor,
  expectPolicyStatus,
  expectResized,
  overProvisioned,
  podOf,
  readPolicy,
} from '../support/operator.ts';

const cluster = useCluster(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'tailor-ha-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LEASE = 'tailor-operator';
/** client-go's jittered retry: up to 2.2 x the period between a candidate's attempts. */
const RETRY_MAX_SECONDS = DEFAULT_RETRY_PERIOD_SECONDS * 2.2;

interface Replica {
  readonly name: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** `tailor operator` as its own process, as the operator's ServiceAccount, electing in the test's namespace. */
async function startReplica(name: string, kubeconfig: string): Promise<Replica> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'operator',
      '--kubeconfig',
      kubeconfig,
      '-n',
      cluster.namespace,
      '--history',
      join(dir, `${name}.db`),
      '--poll-interval',
      '1s',
      '--min-history',
      '0s',
      '--metrics-addr',
      `127.0.0.1:${port}`,
      '--leader-election-namespace',
      cluster.namespace,
      // Installed by the admin below; replacing CRDs under other test files is not this test's business.
      '--no-install-crds',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { name, child, port, exited, output: () => output };
}

/** What the replica's /metrics says: its identity and whether it leads. */
async function leaderGauge(r: Replica): Promise<{ identity: string; leading: boolean }> {
  const text = await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text();
  const m = /^tailor_leader_is_leader\{lease="([^"]+)",identity="([^"]+)"\} ([01])$/m.exec(text);
  assert.ok(m, `${r.name}: tailor_leader_is_leader in /metrics`);
  assert.equal(m[1], `${cluster.namespace}/${LEASE}`);
  return { identity: m[2]!, leading: m[3] === '1' };
}

async function readLease(): Promise<k8s.V1Lease> {
  return cluster.coordination.readNamespacedLease({ name: LEASE, namespace: cluster.namespace });
}

/** Resized Events Tailor recorded about the pod (each resize sent is one Event, created, never patched). */
async function resizes(pod: string): Promise<number> {
  return (await eventsFor(cluster, 'Pod', pod, 'Resized')).reduce((n, e) => n + (e.count ?? 1), 0);
}

async function readCheckpoint(name: string): Promise<SizingCheckpoint> {
  return (await makeClients(cluster.kc).custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: cluster.namespace,
    plural: 'sizingcheckpoints',
    name,
  })) as SizingCheckpoint;
}

const q = (v: string | undefined) => parseQuantity(v) ?? NaN;
const brought = (r: k8s.V1ResourceRequirements) => {
  assert.ok(q(r.requests?.cpu) < 0.1, `cpu request ${r.requests?.cpu} below 100m`);
  assert.ok(q(r.requests?.memory) < 200 * 2 ** 20, `memory request ${r.requests?.memory} below 200Mi`);
};

test('two replicas: one leads; kill -9 it, the other takes over after the lease and resizes nothing twice; status and checkpoint intact', async (t) => {
  const { apps, namespace } = cluster;
  await installCrds(cluster.ext);
  const identity = await operatorIdentity();
  await allowLeaderElection(namespace);

  // 1. An over-requested workload under an InPlace policy, before any replica runs.
  await apps.createNamespacedDeployment({ namespace, body: overProvisioned('web') });
  const webPod = await podOf(cluster, 'web');
  const web = webPod.metadata!.name!;
  await createPolicy(cluster, 'web', {
    mode: 'InPlace',
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
  });

  // 2. Two replicas: both ready (each serves), exactly one holds the Lease.
  const replicas = [
    await startReplica('a', identity.kubeconfigPath),
    await startReplica('b', identity.kubeconfigPath),
  ];
  try {
    for (const r of replicas)
      await eventually(
        async () => assert.equal((await fetch(`http://127.0.0.1:${r.port}/readyz`)).status, 200),
        { timeoutMs: 90_000, intervalMs: 500, what: `replica ${r.name} ready (output: ${r.output()})` },
      );
    const [leader, follower] = await eventually(
      async () => {
        const gauges = await Promise.all(replicas.map(leaderGauge));
        const holder = (await readLease()).spec?.holderIdentity;
        const leading = replicas.filter((_, i) => gauges[i]!.leading);
        assert.equal(leading.length, 1, `exactly one leader: ${JSON.stringify(gauges)}`);
        const i = replicas.indexOf(leading[0]!);
        assert.equal(holder, gauges[i]!.identity, 'the Lease names the replica that says it leads');
        return [replicas[i]!, replicas[1 - i]!] as const;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'one leader' },
    );
    const followerId = (await leaderGauge(follower)).identity;

    // 3. The leader resizes the pod once, and writes the policy's status and checkpoint.
    const resized = await expectResized(cluster, web, brought, { timeoutMs: 90_000 });
    const before = await expectPolicyStatus(cluster, 'web', (p) =>
      assert.ok(p.status?.lastApplied, 'lastApplied in status'),
    );
    await eventually(async () => assert.ok((await readCheckpoint('web')).spec.series?.count, 'series'), {
      timeoutMs: 60_000,
      what: 'the SizingCheckpoint of web',
    });
    assert.equal(await resizes(web), 1, 'one resize of web');
    // The apiserver counts spec changes of a pod: one resize, one generation.
    assert.equal(resized.metadata?.generation, (webPod.metadata?.generation ?? 0) + 1, 'web: generation + 1');
    const transitions = (await readLease()).spec?.leaseTransitions ?? 0;

    // 4. kill -9 the leader: no goodbye, no release. The follower waits out the lease, then takes over.
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    assert.equal((await leader.exited).signal, 'SIGKILL');
    await eventually(
      async () => {
        assert.equal((await readLease()).spec?.holderIdentity, followerId, 'the follower holds the Lease');
        assert.equal((await leaderGauge(follower)).leading, true, 'the follower says it leads');
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the follower to take over' },
    );
    const took = (Date.now() - killedAt) / 1000;
    t.diagnostic(`takeover after kill -9 of the leader: ${took.toFixed(1)} s`);
    // Not before the lease ran out (the dead leader renewed at most one retry period before the kill),
    // and within the lease plus the follower's (jittered) retry; 3 s for the API and scheduling.
    assert.ok(
      took >= DEFAULT_LEASE_DURATION_SECONDS - DEFAULT_RETRY_PERIOD_SECONDS - 1,
      `took over after ${took}s`,
    );
    assert.ok(took <= DEFAULT_LEASE_DURATION_SECONDS + RETRY_MAX_SECONDS + 3, `took over after ${took}s`);
    assert.equal((await readLease()).spec?.leaseTransitions, transitions + 1, 'one transition');

    // 5. The new leader acts: a second workload is resized by it.
    await apps.createNamespacedDeployment({ namespace, body: overProvisioned('api') });
    const api = (await podOf(cluster, 'api')).metadata!.name!;
    await createPolicy(cluster, 'api', {
      mode: 'InPlace',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
    });
    await expectResized(cluster, api, brought, { timeoutMs: 90_000 });
    // Past the busy requeue (5 s) again, so every policy was reconciled by the new leader more than once.
    await new Promise((r) => setTimeout(r, 8000));

    // 6. web was not resized again for the decision already carried out; api once; nothing lost.
    const now = await cluster.core.readNamespacedPod({ name: web, namespace });
    assert.equal(await resizes(web), 1, 'web: still one resize');
    assert.equal(now.metadata?.generation, resized.metadata?.generation, 'web: pod generation unchanged');
    assert.deepEqual(now.spec?.containers[0]?.resources, resized.spec?.containers[0]?.resources);
    assert.equal(await resizes(api), 1, 'api: one resize');
    const after: SizingPolicy = await readPolicy(cluster, 'web');
    assert.deepEqual(after.status?.lastApplied, before.status?.lastApplied, 'web: lastApplied unchanged');
    assert.ok((after.status?.recommendations?.length ?? 0) > 0, 'web: recommendations kept');
    const checkpoint = await readCheckpoint('web');
    assert.ok((checkpoint.spec.series?.count ?? 0) >= 1, 'web: checkpoint series kept');
    assert.equal(checkpoint.metadata.ownerReferences?.[0]?.uid, after.metadata.uid, 'owned by the policy');

    // 7. SIGTERM: the survivor stops cleanly and gives the Lease back for a successor at once.
    follower.child.kill('SIGTERM');
    assert.equal((await follower.exited).code, 0, `exit code; output: ${follower.output()}`);
    const released = (await readLease()).spec;
    assert.equal(released?.holderIdentity ?? '', '', 'released: no holder');
    assert.equal(released?.leaseDurationSeconds, 1);
  } finally {
    for (const r of replicas)
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  }
});

test('a leader that finds its Lease taken exits non-zero at once, saying so; a follower stops cleanly, releasing nothing', async () => {
  const { namespace } = cluster;
  await installCrds(cluster.ext);
  const identity = await operatorIdentity();
  await allowLeaderElection(namespace);
  const r = await startReplica('c', identity.kubeconfigPath);
  const others: Replica[] = [];
  try {
    const me = await eventually(
      async () => {
        const g = await leaderGauge(r);
        assert.equal(g.leading, true, 'leads');
        return g.identity;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `replica c to lead (output: ${r.output()})` },
    );
    // A follower beside it: ready (it serves), not leading.
    const d = await startReplica('d', identity.kubeconfigPath);
    others.push(d);
    await eventually(
      async () => {
        assert.equal((await fetch(`http://127.0.0.1:${d.port}/readyz`)).status, 200);
        assert.equal((await leaderGauge(d)).leading, false);
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `replica d ready, following (output: ${d.output()})` },
    );
    // Another candidate's write (a partition healed, an intruder): the Lease is no longer this replica's.
    const lease = await readLease();
    assert.equal(lease.spec?.holderIdentity, me);
    await cluster.objects.replace({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: LEASE, namespace, resourceVersion: lease.metadata!.resourceVersion! },
      spec: { holderIdentity: 'someone-else', leaseDurationSeconds: 15, leaseTransitions: 9 },
    } as k8s.KubernetesObject);
    const exit = await Promise.race([
      r.exited,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`still running; output: ${r.output()}`)),
          3 * RETRY_MAX_SECONDS * 1000,
        ),
      ),
    ]);
    assert.equal(exit.code, 1, `exit code; output: ${r.output()}`);
    assert.match(r.output(), /lost the leader Lease: exiting/);
    assert.equal((await readLease()).spec?.holderIdentity, 'someone-else', 'the Lease left to its holder');
    // The follower never led: SIGTERM stops it cleanly (nothing it never started keeps it alive).
    d.child.kill('SIGTERM');
    assert.equal((await d.exited).code, 0, `follower exit code; output: ${d.output()}`);
    assert.equal((await readLease()).spec?.holderIdentity, 'someone-else', 'a follower releases nothing');
  } finally {
    for (const x of [r, ...others])
      if (x.child.exitCode === null && x.child.signalCode === null) x.child.kill('SIGKILL');
  }
});
