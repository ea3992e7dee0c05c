// Price sheets: a node's cloud, instance type, region and capacity type read off its labels, its
// hourly price split as OpenCost splits it (the parts add up), spot, regions, MIG and the fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cloudOf,
  gpuKindOf,
  gpuShare,
  pricingFor,
  type NodeFacts,
  type UnitPrices,
} from '../../src/core/cost/index.ts';
import { SHEETS, gpuListHour } from '../../src/core/cost/sheets/index.ts';
import { splitNodePrice } from '../../src/core/cost/split.ts';

const GiB = 2 ** 30;
const close = (a: number, b: number, what: string, eps = 1e-9) =>
  assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** OpenCost configs/default.json: CPU $0.031611/core-h, RAM $0.004237/GiB-h, GPU $0.95/h. */
const RATIO = 0.031611 / 0.004237;

function node(labels: Record<string, string>, shape: Partial<NodeFacts> = {}): NodeFacts {
  return { name: 'n1', labels, cpuCores: 8, memoryBytes: 32 * GiB, gpus: 0, ...shape };
}
const typed = (type: string, region?: string, extra: Record<string, string> = {}) =>
  node({
    'node.kubernetes.io/instance-type': type,
    ...(region ? { 'topology.kubernetes.io/region': region } : {}),
    ...extra,
  });
const nodeHour = (p: UnitPrices, vcpus: number, gib: number, gpus = 0) =>
  vcpus * p.cpuCoreHour + gib * p.memoryGiBHour + gpus * p.gpuHour;

void test('m6i.2xlarge in us-east-1 on demand: $0.384/h split by OpenCost CPU:RAM ratio, the parts add up', () => {
  const { prices } = pricingFor(typed('m6i.2xlarge', 'us-east-1'));
  // By hand: 0.384 = 8 x cpu + 32 x ram with cpu = ram x 0.031611/0.004237.
  const ram = 0.384 / (8 * RATIO + 32);
  close(prices.memoryGiBHour, ram, 'per GiB-hour');
  close(prices.cpuCoreHour, ram * RATIO, 'per core-hour');
  assert.ok(Math.abs(prices.cpuCoreHour - 0.031247) < 1e-6, `about $0.031247/core-h: ${prices.cpuCoreHour}`);
  close(nodeHour(prices, 8, 32), 0.384, 'the parts add up to the node');
  assert.equal(prices.source, 'Sheet');
  assert.equal(prices.capacityType, 'OnDemand');
  assert.equal(prices.currency, 'USD');
  assert.match(prices.description, /aws m6i\.2xlarge us-east-1 on-demand \$0\.384\/h/);
});

void test('g2-standard-8: the L4 priced first at its list price, the rest by CPU:RAM ratio', () => {
  const { prices } = pricingFor(
    typed('g2-standard-8', 'us-central1', { 'nvidia.com/gpu.product': 'NVIDIA-L4' }),
  );
  // L4 list price: g2-standard-4 ($0.70683228, 4 vCPU, 16 GB, 1 L4) less 4 vCPU and 16 GB at N2's rates.
  const l4 = 0.70683228 - (4 * 0.031611 + 16 * 0.004237);
  close(prices.gpuHour, l4, 'L4 per hour');
  const ram = (0.85362431 - l4) / (8 * RATIO + 32);
  close(prices.memoryGiBHour, ram, 'per GiB-hour');
  close(prices.cpuCoreHour, ram * RATIO, 'per core-hour');
  close(nodeHour(prices, 8, 32, 1), 0.85362431, 'the parts add up to the node');
});

void test("a2-highgpu-2g: an A100's list price is GCP's $2.933908, cores and GiB at N2's $0.031611 and $0.004237", () => {
  close(gpuListHour('GCP', 'a100-40gb')!, 2.933908, 'A100 40GB list', 1e-7);
  const { prices } = pricingFor(typed('a2-highgpu-2g', 'us-central1'));
  close(prices.gpuHour, 2.933908, 'per A100', 1e-7);
  close(prices.cpuCoreHour, 0.031611, 'per core', 1e-7);
  close(prices.memoryGiBHour, 0.004237, 'per GiB', 1e-7);
  close(nodeHour(prices, 24, 170, 2), 7.34677, 'the parts add up');
});

void test('every instance type in every sheet: the split adds up to its price (GPU first or OpenCost ratio)', () => {
  let n = 0;
  for (const sheet of SHEETS)
    for (const [type, spec] of Object.entries(sheet.instances)) {
      const list = spec.gpuKind ? gpuListHour(sheet.cloud, spec.gpuKind) : undefined;
      if (spec.gpus > 0) assert.ok(list !== undefined && list > 0, `${type}: a GPU list price`);
      const s = splitNodePrice(spec.onDemandHour, spec, list);
      close(
        nodeHour({ ...s } as unknown as UnitPrices, spec.vcpus, spec.memoryGiB, spec.gpus),
        spec.onDemandHour,
        type,
      );
      assert.ok(s.cpuCoreHour > 0 && s.memoryGiBHour > 0 && s.gpuHour > 0, `${type}: positive parts`);
      n++;
    }
  assert.ok(n > 100, `the sheets hold the common types: ${n}`);
  // A GPU list price above the node's own price: OpenCost's three-way default ratio, still adding up.
  const s = splitNodePrice(1, { vcpus: 4, memoryGiB: 16, gpus: 1 }, 5);
  assert.equal(s.method, 'Ratio');
  const ram = 1 / (0.95 / 0.004237 + 4 * RATIO + 16);
  close(s.memoryGiBHour, ram, 'three-way ratio');
  close(s.gpuHour, ram * (0.95 / 0.004237), 'GPU at its default ratio');
  close(4 * s.cpuCoreHour + 16 * s.memoryGiBHour + s.gpuHour, 1, 'adds up');
});

void test('spot is cheaper: each provider label makes a node spot at OpenCost default spot ratio', () => {
  for (const [type, region, key, value] of [
    ['m6i.2xlarge', 'us-east-1', 'karpenter.sh/capacity-type', 'spot'],
    ['m6i.2xlarge', 'us-east-1', 'eks.amazonaws.com/capacityType', 'SPOT'],
    ['n2-standard-8', 'us-central1', 'cloud.google.com/gke-spot', 'true'],
    ['n2-standard-8', 'us-central1', 'cloud.google.com/gke-preemptible', 'true'],
    ['Standard_D8s_v5', 'eastus', 'kubernetes.azure.com/scalesetpriority', 'spot'],
  ] as const) {
    const onDemand = pricingFor(typed(type, region)).prices;
    const spot = pricingFor(typed(type, region, { [key]: value })).prices;
    assert.equal(spot.capacityType, 'Spot', key);
    assert.equal(spot.source, 'Sheet', key);
    // OpenCost default.json: spotCPU 0.006655 / CPU 0.031611 (= spotRAM 0.000892 / RAM 0.004237).
    close(spot.cpuCoreHour, onDemand.cpuCoreHour * (0.006655 / 0.031611), `${key}: spot core`);
    close(spot.memoryGiBHour, onDemand.memoryGiBHour * (0.006655 / 0.031611), `${key}: spot GiB`);
    assert.ok(nodeHour(spot, 8, 32) < nodeHour(onDemand, 8, 32), `${key}: spot is cheaper`);
    assert.match(spot.description, / spot /);
  }
  const onDemandLabel = pricingFor(
    typed('m6i.2xlarge', 'us-east-1', { 'karpenter.sh/capacity-type': 'on-demand' }),
  );
  assert.equal(onDemandLabel.prices.capacityType, 'OnDemand');
});

void test('regions: a listed region scales the base price; an unknown region keeps it and says so', () => {
  const frankfurt = pricingFor(typed('m6i.2xlarge', 'eu-central-1')).prices;
  close(nodeHour(frankfurt, 8, 32), 0.384 * 1.198, 'eu-central-1');
  const sim = pricingFor(typed('m6i.2xlarge', 'sim-east')).prices;
  close(nodeHour(sim, 8, 32), 0.384, 'sim-east: the us-east-1 price');
  assert.equal(sim.source, 'Sheet');
  assert.match(sim.description, /region sim-east not in the sheet: us-east-1 price/);
  const none = pricingFor(typed('n2-standard-8')).prices;
  close(nodeHour(none, 8, 32), 0.388472, 'no region label: the us-central1 price');
});

void test("the simulator's demo nodes are priced from the sheets, not OpenCost's defaults", () => {
  for (const [type, vcpus, gib, gpus, hour] of [
    ['m6i.2xlarge', 8, 32, 0, 0.384],
    ['g2-standard-8', 8, 32, 1, 0.85362431],
    ['a2-highgpu-2g', 24, 170, 2, 7.34677],
  ] as const) {
    const { prices } = pricingFor(typed(type, 'sim-east'));
    assert.equal(prices.source, 'Sheet', type);
    close(nodeHour(prices, vcpus, gib, gpus), hour, type);
  }
});

void test("unknown instance type or no label: OpenCost's defaults, source Default", () => {
  for (const n of [typed('x9.weird', 'us-east-1'), node({})]) {
    const { prices } = pricingFor(n);
    assert.equal(prices.source, 'Default');
    assert.equal(prices.cpuCoreHour, 0.031611);
    assert.equal(prices.memoryGiBHour, 0.004237);
    assert.equal(prices.gpuHour, 0.95);
    assert.equal(prices.storageGiBMonth, 0.04);
    assert.match(prices.description, /OpenCost default/);
  }
});

void test('cloud recognition: provider labels, provider ID, instance type names; legacy beta label', () => {
  assert.equal(cloudOf({ 'eks.amazonaws.com/nodegroup': 'ng' }), 'AWS');
  assert.equal(cloudOf({ 'cloud.google.com/gke-nodepool': 'p' }), 'GCP');
  assert.equal(cloudOf({ 'kubernetes.azure.com/agentpool': 'p' }), 'Azure');
  assert.equal(cloudOf({}, 'aws:///us-east-1a/i-0abc'), 'AWS');
  assert.equal(cloudOf({}, 'gce://proj/us-central1-a/vm'), 'GCP');
  assert.equal(cloudOf({}, 'azure:///subscriptions/x'), 'Azure');
  assert.equal(cloudOf({ 'node.kubernetes.io/instance-type': 'c6i.large' }), 'AWS');
  assert.equal(cloudOf({ 'node.kubernetes.io/instance-type': 'e2-standard-4' }), 'GCP');
  assert.equal(cloudOf({ 'node.kubernetes.io/instance-type': 'Standard_D8s_v5' }), 'Azure');
  assert.equal(cloudOf({ 'node.kubernetes.io/instance-type': 'bare-metal-42' }), 'Unknown');
  const legacy = pricingFor(node({ 'beta.kubernetes.io/instance-type': 'Standard_E8s_v5' })).prices;
  close(nodeHour(legacy, 8, 64), 0.504, 'Standard_E8s_v5 by the beta label');
  assert.equal(legacy.source, 'Sheet');
  const azure = pricingFor(typed('Standard_ND96isr_H100_v5', 'eastus')).prices;
  close(nodeHour(azure, 96, 1900, 8), 98.32, 'ND H100 v5 adds up');
});

void test('MIG: a slice holds its compute slices over seven (four on an A30); whole GPUs count whole', () => {
  assert.equal(gpuShare('nvidia.com/gpu', 2), 2);
  close(gpuShare('nvidia.com/mig-1g.5gb', 1), 1 / 7, '1g.5gb');
  close(gpuShare('nvidia.com/mig-3g.20gb', 2), 6 / 7, 'two 3g.20gb');
  close(gpuShare('nvidia.com/mig-7g.80gb', 1), 1, '7g.80gb is the whole GPU');
  close(gpuShare('nvidia.com/mig-2g.12gb', 1), 2 / 4, 'A30 2g.12gb');
  assert.equal(gpuShare('cpu', 4), 0);
  assert.equal(gpuShare('nvidia.com/gpu', -1), 0);
  // A MIG slice costs its fraction of the GPU's price.
  const { prices } = pricingFor(typed('a2-highgpu-2g', 'us-central1'));
  close(gpuShare('nvidia.com/mig-1g.5gb', 1) * prices.gpuHour, 2.933908 / 7, 'a 1g.5gb slice per hour', 1e-7);
  // A node advertising only MIG devices: its GPUs summed back, priced at the default split.
  const mig = pricingFor(
    node(
      { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB' },
      { cpuCores: 4, memoryBytes: 16 * GiB, gpus: 0, migDevices: { 'nvidia.com/mig-1g.5gb': 7 } },
    ),
  );
  assert.equal(mig.power.gpuMaxWatts, 400, 'the A100 by its product label');
});

void test('GPU model names: product labels, GKE accelerators and Karpenter names; an unknown card is not guessed', () => {
  for (const [name, kind] of [
    ['NVIDIA-L4', 'l4'],
    ['nvidia-l4', 'l4'],
    ['Tesla-T4', 't4'],
    ['nvidia-tesla-t4', 't4'],
    ['NVIDIA-A10G', 'a10g'],
    ['a10g', 'a10g'],
    ['Tesla-V100-SXM2-16GB', 'v100'],
    ['NVIDIA-A100-SXM4-40GB', 'a100-40gb'],
    ['nvidia-tesla-a100', 'a100-40gb'],
    ['NVIDIA-A100-SXM4-80GB', 'a100-80gb'],
    ['nvidia-a100-80gb', 'a100-80gb'],
    ['NVIDIA-A100-PCIE-80GB', 'a100-80gb-pcie'],
    ['NVIDIA-H100-80GB-HBM3', 'h100-80gb'],
    ['nvidia-h100-80gb', 'h100-80gb'],
  ] as const)
    assert.equal(gpuKindOf(name), kind, name);
  for (const name of ['NVIDIA-L40S', 'NVIDIA-A10', 'AMD-Instinct-MI300X', ''])
    assert.equal(gpuKindOf(name), undefined, name);
});
