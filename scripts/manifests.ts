// Renders the plain manifests (deploy/manifests/tailor.yaml) from the Helm chart with `helm
// template`: the chart's defaults, release "tailor" in tailor-system, CRDs included, and the
// Namespace first, so `kubectl apply -f` works on an empty cluster.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TailorError } from '../src/errors.ts';
import { packageRoot } from '../src/devcluster/paths.ts';

export const MANIFESTS_FILE = 'deploy/manifests/tailor.yaml';
export const CHART_DIR = 'deploy/helm/tailor';
export const RELEASE = 'tailor';
export const NAMESPACE = 'tailor-system';

const HEADER = `# Tailor for clusters without Helm: \`kubectl apply -f deploy/manifests/tailor.yaml\`.
# Generated from deploy/helm/tailor by \`npm run gen:manifests\` (helm template, the chart's
# defaults); do not edit: change the chart and regenerate (a unit test compares the two).
apiVersion: v1
kind: Namespace
metadata:
  name: ${NAMESPACE}
`;

export function renderManifests(helm: string): string {
  const root = packageRoot();
  const r = spawnSync(
    helm,
    ['template', RELEASE, join(root, CHART_DIR), '--namespace', NAMESPACE, '--include-crds'],
    {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { ...process.env, HELM_CACHE_HOME: '/tmp/tailor-helm-cache' },
    },
  );
  if (r.error || r.status !== 0)
    throw new TailorError('Internal', `helm template failed: ${(r.stderr || String(r.error)).trim()}`);
  return HEADER + r.stdout;
}
