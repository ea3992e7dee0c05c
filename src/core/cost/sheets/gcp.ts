// Google Compute Engine prices: N2, E2 and C3 general-purpose and the G2, A2 and A3 GPU machine
// types, on demand, in us-central1, with a multiplier per region and each family's host.
import { gpuFamily, linearFamily, type CloudSheet, type HostShape, type InstanceSpec } from './types.ts';

/** GCP prices predefined machine types per vCPU-hour plus per GB-hour (GCP's "GB" is 2^30 bytes). */
function standard(
  series: string,
  vcpuSizes: readonly number[],
  perVcpuHour: number,
  perGBHour: number,
): Record<string, InstanceSpec> {
  return linearFamily(
    series,
    vcpuSizes.map((n) => [`${series}-standard-${n}`, n] as const),
    perVcpuHour,
    4,
    perGBHour,
  );
}

/**
 * Host shapes for CCF's embodied emissions, as in cloud-carbon-coefficients
 * output/coefficients-gcp-embodied.csv (May 2023): n2 1888.46 kg, e2 1255.46, a2 5465.5 come out of
 * these shapes (the largest machine type of the series). c3, g2 and a3 are newer than that file and
 * are sized the same way from GCP's machine-type pages.
 */
const HOSTS: Record<string, HostShape> = {
  n2: { vcpus: 128, sockets: 2, memoryGB: 512, gpus: 0, ssds: 1, hdds: 0 },
  e2: { vcpus: 32, sockets: 2, memoryGB: 128, gpus: 0, ssds: 0, hdds: 0 },
  c3: { vcpus: 176, sockets: 2, memoryGB: 704, gpus: 0, ssds: 0, hdds: 0 },
  g2: { vcpus: 96, sockets: 2, memoryGB: 384, gpus: 8, ssds: 0, hdds: 0 },
  // CCF sizes A2 by a2-megagpu-16g: 96 vCPUs, 1360 GB, 16 A100s, one SSD.
  a2: { vcpus: 96, sockets: 2, memoryGB: 1360, gpus: 16, ssds: 1, hdds: 0 },
  a3: { vcpus: 208, sockets: 2, memoryGB: 1872, gpus: 8, ssds: 16, hdds: 0 },
};

/**
 * Source: https://cloud.google.com/compute/vm-instance-pricing , us-central1, on demand, list
 * prices as published in 2024: N2 $0.031611/vCPU-h + $0.004237/GB-h (the figures OpenCost's
 * default.json takes), E2 $0.021811 + $0.002923, C3 $0.03465 + $0.003938; G2, A2 and A3 as the
 * page lists each machine type (GPU included).
 */
export const GCP_SHEET: CloudSheet = {
  cloud: 'GCP',
  baseRegion: 'us-central1',
  source: 'cloud.google.com/compute/vm-instance-pricing, us-central1, 2024',
  /**
   * Approximate ratio of n2-standard-8's on-demand price in each region to us-central1's
   * ($0.388472), from the same page (2024).
   */
  regionMultiplier: {
    'us-central1': 1,
    'us-east1': 1,
    'us-west1': 1,
    'us-east4': 1.126,
    'us-west2': 1.2,
    'northamerica-northeast1': 1.1,
    'europe-west1': 1.1,
    'europe-west4': 1.1,
    'europe-north1': 1.1,
    'europe-west2': 1.288,
    'europe-west3': 1.288,
    'asia-south1': 1.2,
    'asia-southeast1': 1.231,
    'asia-northeast1': 1.287,
    'australia-southeast1': 1.414,
    'southamerica-east1': 1.587,
  },
  instances: {
    ...standard('n2', [2, 4, 8, 16, 32, 48, 64, 80, 96, 128], 0.031611, 0.004237),
    ...standard('e2', [2, 4, 8, 16, 32], 0.021811, 0.002923),
    ...standard('c3', [4, 8, 22, 44, 88, 176], 0.03465, 0.003938),
    ...gpuFamily('g2', 'l4', [
      ['g2-standard-4', 4, 16, 1, 0.70683228],
      ['g2-standard-8', 8, 32, 1, 0.85362431],
      ['g2-standard-12', 12, 48, 1, 1.00041635],
      ['g2-standard-16', 16, 64, 1, 1.14720838],
      ['g2-standard-24', 24, 96, 2, 2.00083269],
      ['g2-standard-32', 32, 128, 1, 1.73437653],
      ['g2-standard-48', 48, 192, 4, 4.00166538],
      ['g2-standard-96', 96, 384, 8, 8.00333076],
    ]),
    ...gpuFamily('a2', 'a100-40gb', [
      ['a2-highgpu-1g', 12, 85, 1, 3.673385],
      ['a2-highgpu-2g', 24, 170, 2, 7.34677],
      ['a2-highgpu-4g', 48, 340, 4, 14.69354],
      ['a2-highgpu-8g', 96, 680, 8, 29.38708],
      ['a2-megagpu-16g', 96, 1360, 16, 55.739504],
    ]),
    ...gpuFamily('a3', 'h100-80gb', [['a3-highgpu-8g', 208, 1872, 8, 88.253216]]),
  },
  hosts: HOSTS,
};
