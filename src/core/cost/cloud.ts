// What a node's object says about where it runs: the cloud, the instance type, the region, the
// capacity type (on-demand or spot) and the GPU model, read from well-known labels.
import { gpuKindOf } from './gpus.ts';
import type { CapacityType, Cloud, GpuKind } from './types.ts';

type Labels = Readonly<Record<string, string>>;

/** The instance type: the well-known label, then its pre-1.17 beta name. */
export function instanceTypeOf(labels: Labels): string | undefined {
  return nonEmpty(labels['node.kubernetes.io/instance-type'] ?? labels['beta.kubernetes.io/instance-type']);
}

/** The region: the well-known label, then its pre-1.17 beta name. */
export function regionOf(labels: Labels): string | undefined {
  return nonEmpty(
    labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'],
  );
}

/** Label prefixes each cloud's managed node pools (and Karpenter's provider) put on a node. */
const PROVIDER_PREFIXES: ReadonlyArray<readonly [Exclude<Cloud, 'Unknown'>, readonly string[]]> = [
  ['AWS', ['eks.amazonaws.com/', 'karpenter.k8s.aws/', 'alpha.eksctl.io/', 'k8s.amazonaws.com/']],
  ['GCP', ['cloud.google.com/']],
  ['Azure', ['kubernetes.azure.com/', 'karpenter.azure.com/']],
];

/** AWS names: family (m6i, g4dn, p4d, m7i-flex) dot size (large, 2xlarge, metal, metal-48xl). */
const AWS_TYPE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal(-\d+xl)?)$/;
/** GCP names: series dash class (n2-standard-8, e2-medium, a2-highgpu-2g, c3-standard-4-lssd). */
const GCP_TYPE =
  /^[a-z]\d[a-z]?-(standard|highmem|highcpu|highgpu|megagpu|ultragpu|edgegpu|custom|micro|small|medium)\b/;
/** Azure names: tier underscore size (Standard_D8s_v5, Standard_NC24ads_A100_v4). */
const AZURE_TYPE = /^(standard|basic)_[a-z]/i;

/**
 * The cloud, most certain first: a provider label prefix, the provider ID's scheme, then the shape
 * of the instance type's name. Unknown when nothing says (on-premises, kind, an unknown provider).
 */
export function cloudOf(labels: Labels, providerID?: string): Cloud {
  for (const [cloud, prefixes] of PROVIDER_PREFIXES)
    if (Object.keys(labels).some((k) => prefixes.some((p) => k.startsWith(p)))) return cloud;
  const scheme = providerID?.split(':')[0];
  if (scheme === 'aws') return 'AWS';
  if (scheme === 'gce') return 'GCP';
  if (scheme === 'azure') return 'Azure';
  const type = instanceTypeOf(labels);
  if (type === undefined) return 'Unknown';
  if (AZURE_TYPE.test(type)) return 'Azure';
  if (GCP_TYPE.test(type)) return 'GCP';
  if (AWS_TYPE.test(type)) return 'AWS';
  return 'Unknown';
}

/**
 * Spot (or preemptible) when any provider's label says so: Karpenter's karpenter.sh/capacity-type
 * "spot", EKS managed node groups' eks.amazonaws.com/capacityType "SPOT", GKE's gke-spot or
 * gke-preemptible "true", AKS's kubernetes.azure.com/scalesetpriority "spot". Reserved capacity
 * and capacity blocks are priced as on-demand (a negotiated price is an `instance.<type>` override).
 */
export function capacityTypeOf(labels: Labels): CapacityType {
  const is = (key: string, value: string) => labels[key]?.toLowerCase() === value;
  return is('karpenter.sh/capacity-type', 'spot') ||
    is('eks.amazonaws.com/capacityType', 'spot') ||
    is('cloud.google.com/gke-spot', 'true') ||
    is('cloud.google.com/gke-preemptible', 'true') ||
    is('kubernetes.azure.com/scalesetpriority', 'spot')
    ? 'Spot'
    : 'OnDemand';
}

/** The GPU model from GPU feature discovery's product label, GKE's accelerator or Karpenter's GPU name. */
export function gpuKindOfLabels(labels: Labels): GpuKind | undefined {
  for (const key of [
    'nvidia.com/gpu.product',
    'cloud.google.com/gke-accelerator',
    'karpenter.k8s.aws/instance-gpu-name',
  ]) {
    const v = labels[key];
    const kind = v === undefined ? undefined : gpuKindOf(v);
    if (kind) return kind;
  }
  return undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
