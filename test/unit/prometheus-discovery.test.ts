// Prometheus found by itself: KRR's well-known Service labels tried in order, the API port chosen
// among a chart's several, the same answer for the same cluster (first by namespace/name), only the
// namespaces the operator's admin listed, and the URL for each way of reaching it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiPort,
  describeFound,
  findPrometheus,
  pickService,
  prometheusUrlOf,
  WELL_KNOWN_SELECTORS,
  type ServiceFacts,
} from '../../src/core/discovery/prometheus.ts';
import { parseLabelSelector, selectorMatches } from '../../src/kube/selector.ts';
import { checkPrometheusFlags } from '../../src/cli/prometheus-choice.ts';
import { TailorError } from '../../src/errors.ts';
import * as k8s from '@kubernetes/client-node';
import { discoverPrometheus } from '../../src/sources/prometheus-discovery.ts';

const svc = (
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ports: ServiceFacts['ports'] = [{ name: 'http', port: 9090 }],
): ServiceFacts => ({ namespace, name, labels, ports });

/** A fake list: what the apiserver returns for a labelSelector (the same matching it does). */
const lister = (all: readonly ServiceFacts[]) => {
  const asked: string[] = [];
  const list = (selector: string) => {
    asked.push(selector);
    const s = parseLabelSelector(selector);
    return Promise.resolve(all.filter((x) => selectorMatches(s, x.labels)));
  };
  return { list, asked };
};

const stack = svc(
  'monitoring',
  'kps-kube-prometheus-stack-prometheus',
  { app: 'kube-prometheus-stack-prometheus' },
  [
    { name: 'reloader-web', port: 8080 },
    { name: 'http-web', port: 9090 },
  ],
);
const community = svc('prometheus', 'prometheus-server', { app: 'prometheus', component: 'server' }, [
  { port: 80 },
]);
const kubecost = svc('kubecost', 'kubecost-prometheus-server', {
  app: 'prometheus',
  component: 'server',
  release: 'kubecost',
});
const thanos = svc('monitoring', 'thanos-query', { 'app.kubernetes.io/name': 'thanos-query' }, [
  { name: 'grpc', port: 10901 },
  { name: 'http', port: 10902 },
]);
const vm = svc('vm', 'vmsingle-main', { 'app.kubernetes.io/name': 'vmsingle' }, [{ port: 8428 }]);

test("every well-known selector parses in kubectl's syntax", () => {
  for (const k of WELL_KNOWN_SELECTORS) assert.doesNotThrow(() => parseLabelSelector(k.selector));
  assert.equal(WELL_KNOWN_SELECTORS[0]!.selector, 'app=kube-prometheus-stack-prometheus');
});

const orderCases: { what: string; services: ServiceFacts[]; want: string | undefined; flavour?: string }[] = [
  {
    what: 'kube-prometheus-stack over everything else',
    services: [vm, thanos, community, stack],
    want: 'monitoring/kps-kube-prometheus-stack-prometheus',
  },
  { what: "prometheus-community's server", services: [community, vm], want: 'prometheus/prometheus-server' },
  { what: "Kubecost's bundled Prometheus is not the cluster's", services: [kubecost], want: undefined },
  {
    what: 'a Prometheus server before a Thanos querier',
    services: [thanos, community],
    want: 'prometheus/prometheus-server',
  },
  {
    what: 'Thanos before VictoriaMetrics',
    services: [vm, thanos],
    want: 'monitoring/thanos-query',
    flavour: 'Thanos',
  },
  { what: 'VictoriaMetrics alone', services: [vm], want: 'vm/vmsingle-main', flavour: 'VictoriaMetrics' },
  {
    what: 'nothing labelled',
    services: [svc('default', 'kubernetes', { component: 'apiserver' })],
    want: undefined,
  },
];
for (const c of orderCases) {
  test(`order: ${c.what}`, async () => {
    const found = await findPrometheus(lister(c.services).list);
    assert.equal(found && `${found.service.namespace}/${found.service.name}`, c.want);
    if (c.flavour) assert.equal(found?.selector.flavour, c.flavour);
  });
}

test('the lists stop at the first selector that finds a Service', async () => {
  const l = lister([stack, vm]);
  await findPrometheus(l.list);
  assert.deepEqual(l.asked, ['app=kube-prometheus-stack-prometheus']);
  const none = lister([]);
  await findPrometheus(none.list);
  assert.equal(none.asked.length, WELL_KNOWN_SELECTORS.length, 'every selector tried before giving up');
});

test('the API port: a well-known name over the first port, then a well-known number, then the first TCP one', () => {
  assert.equal(apiPort(stack.ports)?.port, 9090, 'http-web, not the reloader listed first');
  assert.equal(apiPort(thanos.ports)?.port, 10902, 'http, not grpc');
  assert.equal(
    apiPort([
      { name: 'metrics', port: 8080 },
      { name: 'api', port: 9090 },
    ])?.port,
    9090,
  );
  assert.equal(apiPort([{ port: 80 }])?.port, 80);
  assert.equal(apiPort([{ port: 53, protocol: 'UDP' }]), undefined);
  assert.equal(apiPort([]), undefined);
});

test('several match one selector: the first by namespace/name, the others named', () => {
  const a = svc('z-monitoring', 'prometheus-server', { app: 'prometheus-server' });
  const b = svc('a-monitoring', 'prometheus-server', { app: 'prometheus-server' });
  const found = pickService({ selector: 'app=prometheus-server', flavour: 'Prometheus' }, [a, b]);
  assert.equal(found?.service.namespace, 'a-monitoring');
  assert.deepEqual(found?.others, ['z-monitoring/prometheus-server']);
  assert.match(describeFound(found, 'ApiserverProxy'), /also matched z-monitoring\/prometheus-server$/);
});

test("the operator's namespaces: a tenant's Service with the same labels elsewhere is never taken", async () => {
  const tenant = svc('tenant-a', 'evil', { app: 'kube-prometheus-stack-prometheus' });
  const listed = svc('monitoring', 'prometheus-server', { app: 'prometheus-server' });
  const found = await findPrometheus(lister([tenant, listed]).list, ['monitoring']);
  assert.equal(found?.service.name, 'prometheus-server', 'the lower-ranked label, but in a listed namespace');
  assert.equal(await findPrometheus(lister([tenant]).list, ['monitoring']), undefined);
});

test('URLs: the apiserver service proxy (CLI), the cluster DNS name (operator); https by port name', () => {
  const found = pickService(WELL_KNOWN_SELECTORS[0]!, [stack])!;
  assert.equal(
    prometheusUrlOf(found, 'ApiserverProxy', 'https://10.0.0.1:6443/'),
    'https://10.0.0.1:6443/api/v1/namespaces/monitoring/services/http:kps-kube-prometheus-stack-prometheus:9090/proxy',
  );
  assert.equal(
    prometheusUrlOf(found, 'ClusterDns'),
    'http://kps-kube-prometheus-stack-prometheus.monitoring.svc:9090',
  );
  const tls = pickService(WELL_KNOWN_SELECTORS[0]!, [
    svc('monitoring', 'p', { app: 'kube-prometheus-stack-prometheus' }, [{ name: 'https', port: 9091 }]),
  ])!;
  assert.equal(prometheusUrlOf(tls, 'ClusterDns'), 'https://p.monitoring.svc:9091');
  assert.equal(
    describeFound(found, 'ApiserverProxy'),
    'found Prometheus Service monitoring/kps-kube-prometheus-stack-prometheus port 9090 (app=kube-prometheus-stack-prometheus), reached through the apiserver',
  );
});

test('CLI: credential files without --prometheus are refused (a found one is reached with the kubeconfig)', () => {
  assert.throws(
    () => checkPrometheusFlags({ prometheusBearerTokenFile: '/etc/hostname' }),
    (e: unknown) =>
      e instanceof TailorError && /--prometheus-bearer-token-file needs --prometheus URL/.test(e.message),
  );
  assert.deepEqual(checkPrometheusFlags({}), { url: undefined, auth: {} });
});

/** A CoreV1Api that answers Service lists from `all` and records which list calls were made. */
function fakeCore(all: readonly ServiceFacts[], calls: string[]): k8s.CoreV1Api {
  const items = (selector: string, namespace?: string) => {
    const s = parseLabelSelector(selector);
    return all
      .filter((x) => (namespace === undefined || x.namespace === namespace) && selectorMatches(s, x.labels))
      .map((x) => ({
        metadata: { namespace: x.namespace, name: x.name, labels: { ...x.labels } },
        spec: { ports: x.ports.map((p) => ({ ...p })) },
      }));
  };
  return {
    listServiceForAllNamespaces: ({ labelSelector }: { labelSelector: string }) => {
      calls.push(`all ${labelSelector}`);
      return Promise.resolve({ items: items(labelSelector) });
    },
    listNamespacedService: ({ namespace, labelSelector }: { namespace: string; labelSelector: string }) => {
      calls.push(`${namespace} ${labelSelector}`);
      return Promise.resolve({ items: items(labelSelector, namespace) });
    },
  } as unknown as k8s.CoreV1Api;
}

test("operator: lists only the admin's namespaces, never cluster-wide, and reads the cluster DNS name", async () => {
  const calls: string[] = [];
  const tenant = svc('tenant-a', 'evil', { app: 'kube-prometheus-stack-prometheus' });
  const d = await discoverPrometheus(new k8s.KubeConfig(), fakeCore([tenant, community], calls), {
    reach: 'ClusterDns',
    namespaces: ['prometheus'],
  });
  assert.equal(d.kind, 'Found');
  assert.equal(d.kind === 'Found' ? d.client.baseUrl : '', 'http://prometheus-server.prometheus.svc:80');
  assert.ok(calls.length > 0 && calls.every((c) => c.startsWith('prometheus ')), calls.join('; '));
  const none = await discoverPrometheus(new k8s.KubeConfig(), fakeCore([tenant], []), {
    reach: 'ClusterDns',
    namespaces: ['monitoring'],
  });
  assert.equal(none.kind, 'NotFound');
  assert.match(
    none.line,
    /^no Prometheus found: no Service in namespace monitoring .*; pass --prometheus URL/,
  );
});

test('a list RBAC refuses is one line, not a crash', async () => {
  const core = {
    listServiceForAllNamespaces: () => Promise.reject(Object.assign(new Error('forbidden'), { code: 403 })),
  } as unknown as k8s.CoreV1Api;
  const d = await discoverPrometheus(new k8s.KubeConfig(), core, { reach: 'ApiserverProxy' });
  assert.equal(d.kind, 'Failed');
  assert.match(
    d.line,
    /^no Prometheus found: cannot list Services in any namespace \(.*\); pass --prometheus URL/,
  );
  assert.ok(!d.line.includes('\n'));
});
