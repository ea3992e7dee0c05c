// The Helm chart against the files it must not drift from: its appVersion is package.json's, its
// crds/ are deploy/crds byte for byte, its roles grant exactly the rules of deploy/rbac/operator.yaml,
// every value is documented, and deploy/manifests/tailor.yaml is a fresh `helm template` (when helm
// is built: test/support/build-cache.ts, which CI runs first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { findHelm } from '../../src/devcluster/helm.ts';
import { packageRoot } from '../../src/devcluster/paths.ts';
import { CHART_DIR, MANIFESTS_FILE, renderManifests } from '../../scripts/manifests.ts';

const root = packageRoot();
const chart = join(root, CHART_DIR);
const read = (...p: string[]) => readFileSync(join(...p), 'utf8');

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
}
interface Rendered {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { secretName?: string; dnsNames?: string[]; issuerRef?: Record<string, string> };
}
interface Role {
  kind: string;
  metadata?: { name?: string };
  rules?: Rule[];
}

test("Chart.yaml's appVersion is package.json's version", () => {
  const pkg = JSON.parse(read(root, 'package.json')) as { version: string };
  const c = parse(read(chart, 'Chart.yaml')) as { appVersion: string };
  assert.equal(c.appVersion, pkg.version);
});

test("the chart's crds/ are deploy/crds, file for file and byte for byte", () => {
  const shipped = readdirSync(join(root, 'deploy/crds')).sort();
  assert.deepEqual(readdirSync(join(chart, 'crds')).sort(), shipped, 'the same files');
  for (const f of shipped)
    assert.equal(
      read(chart, 'crds', f),
      read(root, 'deploy/crds', f),
      `${CHART_DIR}/crds/${f} differs from deploy/crds/${f}: cp deploy/crds/*.yaml ${CHART_DIR}/crds/`,
    );
});

test("the chart's roles grant exactly the rules of deploy/rbac/operator.yaml", () => {
  const shipped = parseAllDocuments(read(root, 'deploy/rbac/operator.yaml'))
    .map((d) => d.toJSON() as Role)
    .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  // The template's rules are plain YAML; only names and labels are templated. A role is known by
  // its kind and its name's suffix after "<fullname>-operator" (deploy/rbac: "tailor-operator").
  const template = read(chart, 'templates/rbac.yaml');
  const charted = new Map<string, Rule[]>();
  for (const text of template.split(/^---$/m)) {
    const suffix = /^ {2}name: \{\{ include "tailor\.operator" \. \}\}(\S*)$/m.exec(text)?.[1];
    const plain = text
      .split('\n')
      .filter((l) => !l.includes('{{'))
      .join('\n');
    const doc = parse(plain) as Role;
    if (doc.kind === 'ClusterRole' || doc.kind === 'Role')
      charted.set(`${doc.kind} ${suffix}`, doc.rules ?? []);
  }
  assert.deepEqual(
    [...charted.keys()].sort(),
    shipped.map((r) => `${r.kind} ${r.metadata!.name!.replace(/^tailor-operator/, '')}`).sort(),
    'the same roles',
  );
  for (const r of shipped) {
    const key = `${r.kind} ${r.metadata!.name!.replace(/^tailor-operator/, '')}`;
    assert.deepEqual(
      charted.get(key),
      r.rules,
      `${CHART_DIR}/templates/rbac.yaml ${key}: rules differ from deploy/rbac/operator.yaml ${r.metadata!.name}`,
    );
  }
});

test('every value in values.yaml is documented by a comment on it or on its parent', () => {
  const lines = read(chart, 'values.yaml').split('\n');
  // Indentation stack of keys, each with whether a comment sits right above it.
  const stack: { indent: number; documented: boolean }[] = [];
  const undocumented: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)([A-Za-z][\w-]*):/.exec(line);
    if (!m) return;
    const indent = m[1]!.length;
    while (stack.length && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const documented = /^\s*#/.test(lines[i - 1] ?? '');
    const inherited = documented || stack.some((s) => s.documented);
    const isParent = /:\s*$/.test(line);
    if (!isParent && !inherited) undocumented.push(`line ${i + 1}: ${line.trim()}`);
    stack.push({ indent, documented: inherited });
  });
  assert.deepEqual(undocumented, [], 'values without a comment');
});

const helm = findHelm();
const noHelm = helm ? false : 'helm is not built yet (node --import tsx test/support/build-cache.ts)';

test(`${MANIFESTS_FILE} is a fresh render of the chart (npm run gen:manifests)`, { skip: noHelm }, () => {
  assert.equal(
    read(root, MANIFESTS_FILE),
    renderManifests(helm!.path),
    `${MANIFESTS_FILE} is stale: run npm run gen:manifests`,
  );
});

test('a value of the wrong type fails the render, naming the value', { skip: noHelm }, () => {
  const r = spawnSync(
    helm!.path,
    ['template', 'tailor', chart, '--set', 'replicaCount=two', '--set', 'webhook.enabled=maybe'],
    { encoding: 'utf8' },
  );
  assert.notEqual(r.status, 0, 'helm template refuses the values');
  assert.match(r.stderr, /replicaCount.*got string, want integer/);
  assert.match(r.stderr, /webhook\/enabled.*got string, want boolean/);
});

test(
  "webhook.certificates.issuer=cert-manager: a Certificate writes the operator's Secret, the configuration asks for CA injection",
  { skip: noHelm },
  () => {
    const render = (...set: string[]) => {
      const r = spawnSync(
        helm!.path,
        ['template', 'tailor', chart, '-n', 'tailor-system', ...set.flatMap((s) => ['--set', s])],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      return parseAllDocuments(r.stdout)
        .map((d) => d.toJSON() as Rendered)
        .filter(Boolean);
    };
    const selfSigned = render();
    assert.deepEqual(
      selfSigned.filter((o) => ['Certificate', 'Issuer', 'MutatingWebhookConfiguration'].includes(o.kind)),
      [],
      'by default Tailor issues its own certificate and registers the webhook itself',
    );
    const docs = render('webhook.certificates.issuer=cert-manager');
    const cert = docs.find((o) => o.kind === 'Certificate');
    assert.equal(
      cert?.spec?.secretName,
      'tailor-webhook-tls',
      'the Secret the operator reads (--webhook-tls-secret)',
    );
    assert.deepEqual(cert?.spec?.dnsNames, [
      'tailor.tailor-system.svc',
      'tailor.tailor-system.svc.cluster.local',
    ]);
    assert.deepEqual(cert?.spec?.issuerRef, { kind: 'Issuer', name: 'tailor-selfsigned' });
    const mwc = docs.find((o) => o.kind === 'MutatingWebhookConfiguration');
    assert.equal(mwc?.metadata.name, 'tailor-webhook', 'the name the operator registers (and RBAC names)');
    assert.equal(
      mwc?.metadata.annotations?.['cert-manager.io/inject-ca-from'],
      'tailor-system/tailor-webhook',
    );
    const own = render(
      'webhook.certificates.issuer=cert-manager',
      'webhook.certificates.certManager.issuerRef.kind=ClusterIssuer',
      'webhook.certificates.certManager.issuerRef.name=corp-ca',
    );
    assert.equal(
      own.find((o) => o.kind === 'Issuer'),
      undefined,
      'no Issuer of the chart when one is named',
    );
    assert.deepEqual(own.find((o) => o.kind === 'Certificate')?.spec?.issuerRef, {
      kind: 'ClusterIssuer',
      name: 'corp-ca',
    });
  },
);
