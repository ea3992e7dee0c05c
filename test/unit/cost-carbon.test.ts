// Carbon model: one figure per coefficient family recomputed by hand from the cited numbers (CPU
// watts and PUE by cloud, memory, storage, GPU, grid by region, embodied), and duty's bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { co2eOf, figureOf, pricingFor, type NodeFacts } from '../../src/core/cost/index.ts';
import { embodiedKgPerCoreHour, hostEmbodiedKg } from '../../src/core/cost/carbon/embodied.ts';
import { AWS_SHEET } from '../../src/core/cost/sheets/aws.ts';
import { AZURE_SHEET } from '../../src/core/cost/sheets/azure.ts';
import { GCP_SHEET } from '../../src/core/cost/sheets/gcp.ts';

const GiB = 2 ** 30;
const TiB = 2 ** 40;
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const none = { cpuCores: 0, memoryBytes: 0, gpus: 0 };

const node = (type: string, region?: string, extra: Record<string, string> = {}): NodeFacts => ({
  name: 'n1',
  labels: {
    'node.kubernetes.io/instance-type': type,
    ...(region ? { 'topology.kubernetes.io/region': region } : {}),
    ...extra,
  },
  cpuCores: 8,
  memoryBytes: 32 * GiB,
  gpus: 0,
});

void test('CPU on AWS: 1 core at 50% in us-east-1 for 730.5 h, by hand from CCF coefficients', () => {
  const { power } = pricingFor(node('m6i.2xlarge', 'us-east-1'));
  // CCF AWS: 0.74 W idle, 3.5 W max per vCPU; PUE 1.135; us-east-1 = eGRID2020 SERC 0.379069 kg/kWh.
  const watts = 0.74 + 0.5 * (3.5 - 0.74); // 2.12 W
  const operational = ((watts * 1.135 * 730.5) / 1000) * 0.379069; // 1.7577 kWh -> 0.6663 kg
  // Embodied: m6i host 1000 + 100 (2nd socket) + 533/384 x (512 - 16) GB = 1788.46 kg over 35040 h and 128 vCPUs.
  const embodied = 730.5 * ((1000 + 100 + (533 / 384) * (512 - 16)) / 35040 / 128); // 0.2913 kg
  const kg = co2eOf({ cpuCores: 1, memoryBytes: 0, gpus: 0 }, 730.5, power, { cpu: 0.5 });
  close(kg, operational + embodied, '1 core-month');
  assert.ok(kg > 0.95 && kg < 0.96, `about 0.958 kg: ${kg}`);
  // The default duty is CCF's 50%.
  close(co2eOf({ cpuCores: 1, memoryBytes: 0, gpus: 0 }, 730.5, power), kg, 'default duty 50%');
});

void test('CPU watts and PUE by cloud: GCP 0.71-4.26 W, PUE 1.1; Azure 0.78-3.76 W, PUE 1.185; unknown PUE 1.58', () => {
  const gcp = pricingFor(node('n2-standard-8', 'us-central1')).power;
  assert.deepEqual([gcp.cpuIdleWattsPerCore, gcp.cpuMaxWattsPerCore, gcp.pue], [0.71, 4.26, 1.1]);
  const azure = pricingFor(node('Standard_D8s_v5', 'eastus')).power;
  assert.deepEqual([azure.cpuIdleWattsPerCore, azure.cpuMaxWattsPerCore, azure.pue], [0.78, 3.76, 1.185]);
  const onPrem = pricingFor({ name: 'n', labels: {}, cpuCores: 8, memoryBytes: 0, gpus: 0 }).power;
  assert.deepEqual([onPrem.cpuIdleWattsPerCore, onPrem.cpuMaxWattsPerCore, onPrem.pue], [0.74, 3.5, 1.58]);
  // 2 cores at 20% on GCP us-central1 (Google's 0.456 kg/kWh) for 10 h, operational part only.
  const flat = { ...gcp, embodiedKgPerCoreHour: 0 };
  const byHand = ((2 * (0.71 + 0.2 * (4.26 - 0.71)) * 1.1 * 10) / 1000) * 0.456;
  close(co2eOf({ cpuCores: 2, memoryBytes: 0, gpus: 0 }, 10, flat, { cpu: 0.2 }), byHand, 'GCP CPU');
});

void test('memory: 0.000392 kWh per GB-hour; 1 GiB for 730.5 h on AWS us-east-1', () => {
  const { power } = pricingFor(node('m6i.2xlarge', 'us-east-1'));
  const kWh = 0.000392 * (GiB / 1e9) * 730.5 * 1.135;
  close(co2eOf({ ...none, memoryBytes: GiB }, 730.5, power), kWh * 0.379069, '1 GiB-month');
});

void test('storage: SSD 1.2 Wh per TB-hour; 1 TiB for 100 h on GCP europe-west1 (0.11 kg/kWh)', () => {
  const { power } = pricingFor(node('n2-standard-8', 'europe-west1'));
  const kWh = ((1.2 * (TiB / 1e12)) / 1000) * 100 * 1.1;
  close(co2eOf({ ...none, storageBytes: TiB }, 100, power), kWh * 0.11, '1 TiB SSD');
});

void test('GPU: idle to board power by duty; L4 at 30% and an A100 MIG 3g.20gb slice', () => {
  const l4 = pricingFor(node('g2-standard-8', 'us-central1')).power;
  // NVIDIA L4 datasheet 72 W; idle by CCF's A100 ratio 46/407 of it.
  const idle = (72 * 46) / 407;
  assert.equal(l4.gpuMaxWatts, 72);
  close(l4.gpuIdleWatts, idle, 'L4 idle');
  const watts = idle + 0.3 * (72 - idle);
  close(
    co2eOf({ ...none, gpus: 1 }, 10, l4, { gpu: 0.3 }),
    ((watts * 1.1 * 10) / 1000) * 0.456,
    'L4 for 10 h',
  );
  // A100 (p4d, us-east-1): CCF idle 46 W, NVIDIA A100 SXM4 400 W; a 3g.20gb slice is 3/7 of it.
  const a100 = pricingFor(node('p4d.24xlarge', 'us-east-1')).power;
  const slice = (3 / 7) * (46 + 0.5 * (400 - 46));
  close(co2eOf({ ...none, gpus: 3 / 7 }, 1, a100), ((slice * 1.135) / 1000) * 0.379069, 'slice-hour');
  // The others: T4 8-70 W, A10G 18-150 W, V100 35-300 W, H100 700 W max.
  const watt = (type: string) => {
    const p = pricingFor(node(type, 'us-east-1')).power;
    return [p.gpuIdleWatts, p.gpuMaxWatts];
  };
  assert.deepEqual(watt('g4dn.xlarge'), [8, 70]);
  assert.deepEqual(watt('g5.xlarge'), [18, 150]);
  assert.deepEqual(watt('p3.2xlarge'), [35, 300]);
  assert.equal(watt('p5.48xlarge')[1], 700);
});

void test('grid intensity by region (CCF tables), world average 0.475 for a region none lists', () => {
  const grid = (type: string, region?: string) => pricingFor(node(type, region)).power.gridKgPerKWh;
  assert.equal(grid('m6i.2xlarge', 'us-east-2'), 0.410608, 'eGRID2020 RFC');
  assert.equal(grid('m6i.2xlarge', 'eu-north-1'), 0.0088, 'EEA Sweden');
  assert.equal(grid('n2-standard-8', 'europe-west1'), 0.11, 'Google Belgium');
  assert.equal(grid('Standard_D8s_v5', 'westeurope'), 0.3284, 'EEA Netherlands');
  assert.equal(grid('m6i.2xlarge', 'sim-east'), 0.475, 'IEA world average');
  assert.equal(grid('m6i.2xlarge'), 0.475, 'no region label');
  assert.match(pricingFor(node('m6i.2xlarge', 'sim-east')).power.description, /IEA 2019 world average/);
});

void test("embodied: CCF's per-host totals from its component figures, per vCPU-hour over 4 years", () => {
  // CCF cloud-carbon-coefficients output/coefficients-*-embodied.csv (May 2023).
  const ccf: Array<[number, number]> = [
    [hostEmbodiedKg(AWS_SHEET.hosts.m5!), 1610.79],
    [hostEmbodiedKg(AWS_SHEET.hosts.m6i!), 1788.46],
    [hostEmbodiedKg(AWS_SHEET.hosts.g4dn!), 3010.79],
    [hostEmbodiedKg(AWS_SHEET.hosts.p3!), 3543.79],
    [hostEmbodiedKg(AWS_SHEET.hosts.p4d!), 4676.79],
    [hostEmbodiedKg(GCP_SHEET.hosts.n2!), 1888.46],
    [hostEmbodiedKg(GCP_SHEET.hosts.e2!), 1255.46],
    [hostEmbodiedKg(GCP_SHEET.hosts.a2!), 5465.5],
    [hostEmbodiedKg(AZURE_SHEET.hosts.ncast4v3!), 2349.62],
  ];
  for (const [ours, published] of ccf)
    assert.ok(Math.abs(ours - published) < 0.01, `${ours} vs ${published}`);
  close(embodiedKgPerCoreHour(GCP_SHEET.hosts.n2!), 1888.46 / 35040 / 128, 'n2 per vCPU-hour');
  // Embodied is not scaled by PUE or grid: a core on a zero-carbon grid still carries it.
  const { power } = pricingFor(node('m6i.2xlarge', 'us-east-1'));
  close(
    co2eOf({ cpuCores: 2, memoryBytes: 0, gpus: 0 }, 10, { ...power, gridKgPerKWh: 0 }),
    20 * power.embodiedKgPerCoreHour,
    'embodied only',
  );
});

void test('duty is bounded to 0..1; a missing or NaN duty takes the default; figureOf carries the currency', () => {
  const { power, prices } = pricingFor(node('m6i.2xlarge', 'us-east-1'));
  const one = { cpuCores: 1, memoryBytes: 0, gpus: 0 };
  close(co2eOf(one, 1, power, { cpu: 7 }), co2eOf(one, 1, power, { cpu: 1 }), 'above 1');
  close(co2eOf(one, 1, power, { cpu: -3 }), co2eOf(one, 1, power, { cpu: 0 }), 'below 0');
  close(co2eOf(one, 1, power, { cpu: Number.NaN }), co2eOf(one, 1, power, { cpu: 0.5 }), 'NaN');
  const f = figureOf({ cpuCores: 8, memoryBytes: 32 * GiB, gpus: 0 }, 730.5, { prices, power });
  close(f.cost, 0.384 * 730.5, 'the whole node for a month');
  assert.equal(f.currency, 'USD');
  assert.ok(f.co2eKg > 0);
});

void test('README worked example: one chat/llama-8b replica on g2-standard-8 in sim-east for a month', () => {
  const n: NodeFacts = {
    name: 'gpu-l4-0',
    labels: {
      'node.kubernetes.io/instance-type': 'g2-standard-8',
      'topology.kubernetes.io/region': 'sim-east',
      'nvidia.com/gpu.product': 'NVIDIA-L4',
    },
    cpuCores: 8,
    memoryBytes: 32 * GiB,
    gpus: 1,
  };
  const f = figureOf({ cpuCores: 4, memoryBytes: 28 * GiB, gpus: 1 }, 730.5, pricingFor(n));
  // The README's arithmetic, step by step.
  const cpuW = 4 * (0.71 + 0.5 * (4.26 - 0.71)); // 9.94 W
  const memW = 28 * 0.392 * (GiB / 1e9); // 11.785 W
  const l4Idle = (72 * 46) / 407; // 8.138 W
  const gpuW = l4Idle + 0.5 * (72 - l4Idle); // 40.069 W
  const kWh = ((cpuW + memW + gpuW) * 1.1 * 730.5) / 1000; // 49.655 kWh
  const embodied = (4 * 730.5 * (1000 + 100 + (533 / 384) * (384 - 16) + 8 * 150)) / 35040 / 96; // 2.442 kg
  close(f.co2eKg, kWh * 0.475 + embodied, 'CO2e');
  assert.equal(f.co2eKg.toFixed(2), '26.03');
  const l4 = 0.70683228 - (4 * 0.031611 + 16 * 0.004237);
  const ram = (0.85362431 - l4) / ((8 * 0.031611) / 0.004237 + 32);
  close(f.cost, (4 * ram * (0.031611 / 0.004237) + 28 * ram + l4) * 730.5, 'cost');
  assert.equal(f.cost.toFixed(2), '531.62');
});
