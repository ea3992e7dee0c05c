// AWS EC2 prices: the common general-purpose, compute, memory and GPU instance types, on demand,
// Linux, in us-east-1, with a multiplier per region and each family's host for embodied carbon.
import { gpuFamily, linearFamily, type CloudSheet, type HostShape } from './types.ts';

const M_SIZES = [
  ['large', 2],
  ['xlarge', 4],
  ['2xlarge', 8],
  ['4xlarge', 16],
  ['8xlarge', 32],
  ['12xlarge', 48],
  ['16xlarge', 64],
  ['24xlarge', 96],
] as const;
const I6_SIZES = [...M_SIZES, ['32xlarge', 128], ['metal', 128]] as const;
const M5_SIZES = [...M_SIZES, ['metal', 96]] as const;
const M7I_SIZES = [...M_SIZES, ['48xlarge', 192], ['metal-24xl', 96], ['metal-48xl', 192]] as const;

const prefix = <T>(family: string, rows: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(rows).map(([size, spec]) => [`${family}.${size}`, spec]));

/**
 * Host shapes for CCF's embodied emissions: the family's largest instance (CCF's "total
 * resources"), its sockets, memory, GPUs and local drives, as in CCF's
 * cloud-carbon-coefficients output/coefficients-aws-embodied.csv (May 2023): m5 1610.79 kg,
 * m6i 1788.46, g4dn 3010.79, p3 3543.79, p4d 4676.79 come out of these shapes. Families newer
 * than that file (m7i, c6i, r6i, g5, g6, p5) are sized the same way from AWS's instance pages.
 */
const HOSTS: Record<string, HostShape> = {
  m5: { vcpus: 96, sockets: 2, memoryGB: 384, gpus: 0, ssds: 0, hdds: 0 },
  m6i: { vcpus: 128, sockets: 2, memoryGB: 512, gpus: 0, ssds: 0, hdds: 0 },
  m7i: { vcpus: 192, sockets: 2, memoryGB: 768, gpus: 0, ssds: 0, hdds: 0 },
  c6i: { vcpus: 128, sockets: 2, memoryGB: 256, gpus: 0, ssds: 0, hdds: 0 },
  r6i: { vcpus: 128, sockets: 2, memoryGB: 1024, gpus: 0, ssds: 0, hdds: 0 },
  g4dn: { vcpus: 96, sockets: 2, memoryGB: 384, gpus: 8, ssds: 2, hdds: 0 },
  g5: { vcpus: 192, sockets: 2, memoryGB: 768, gpus: 8, ssds: 2, hdds: 0 },
  g6: { vcpus: 192, sockets: 2, memoryGB: 768, gpus: 8, ssds: 8, hdds: 0 },
  // CCF sizes p3's memory as p3dn's 768 GB (its published 3543.79 kg).
  p3: { vcpus: 64, sockets: 2, memoryGB: 768, gpus: 8, ssds: 2, hdds: 0 },
  p4d: { vcpus: 96, sockets: 2, memoryGB: 1152, gpus: 8, ssds: 8, hdds: 0 },
  p5: { vcpus: 192, sockets: 2, memoryGB: 2048, gpus: 8, ssds: 8, hdds: 0 },
};

/**
 * Source: https://aws.amazon.com/ec2/pricing/on-demand/ , us-east-1, Linux, on demand, list
 * prices as published in 2024 (m5/m6i $0.048, m7i $0.0504, c6i $0.0425, r6i $0.063 per vCPU-hour;
 * prices within a family grow linearly with size). AWS cut P4d and P5 on-demand prices in June
 * 2025; set `instance.p4d.24xlarge` / `instance.p5.48xlarge` in tailor-prices for today's price.
 */
export const AWS_SHEET: CloudSheet = {
  cloud: 'AWS',
  baseRegion: 'us-east-1',
  source: 'aws.amazon.com/ec2/pricing/on-demand, us-east-1 Linux, 2024',
  /**
   * Approximate ratio of m6i.2xlarge's Linux on-demand price in each region to us-east-1's
   * ($0.384), from the same page (2024). GPU types vary more between regions than this; an
   * `instance.<type>` override gives the exact figure.
   */
  regionMultiplier: {
    'us-east-1': 1,
    'us-east-2': 1,
    'us-west-2': 1,
    'us-west-1': 1.167, // $0.448
    'ca-central-1': 1.115, // $0.428
    'eu-west-1': 1.115, // $0.428
    'eu-west-2': 1.156, // $0.444
    'eu-west-3': 1.167, // $0.448
    'eu-central-1': 1.198, // $0.460
    'eu-north-1': 1.063, // $0.408
    'ap-south-1': 1.052, // $0.404
    'ap-northeast-1': 1.292, // $0.496
    'ap-northeast-2': 1.229, // $0.472
    'ap-southeast-1': 1.25, // $0.480
    'ap-southeast-2': 1.25, // $0.480
    'sa-east-1': 1.594, // $0.612
  },
  instances: {
    ...prefix('m5', linearFamily('m5', M5_SIZES, 0.048, 4)),
    ...prefix('m6i', linearFamily('m6i', I6_SIZES, 0.048, 4)),
    ...prefix('m7i', linearFamily('m7i', M7I_SIZES, 0.0504, 4)),
    ...prefix('c6i', linearFamily('c6i', I6_SIZES, 0.0425, 2)),
    ...prefix('r6i', linearFamily('r6i', I6_SIZES, 0.063, 8)),
    ...gpuFamily('g4dn', 't4', [
      ['g4dn.xlarge', 4, 16, 1, 0.526],
      ['g4dn.2xlarge', 8, 32, 1, 0.752],
      ['g4dn.4xlarge', 16, 64, 1, 1.204],
      ['g4dn.8xlarge', 32, 128, 1, 2.176],
      ['g4dn.12xlarge', 48, 192, 4, 3.912],
      ['g4dn.16xlarge', 64, 256, 1, 4.352],
      ['g4dn.metal', 96, 384, 8, 7.824],
    ]),
    ...gpuFamily('g5', 'a10g', [
      ['g5.xlarge', 4, 16, 1, 1.006],
      ['g5.2xlarge', 8, 32, 1, 1.212],
      ['g5.4xlarge', 16, 64, 1, 1.624],
      ['g5.8xlarge', 32, 128, 1, 2.448],
      ['g5.12xlarge', 48, 192, 4, 5.672],
      ['g5.16xlarge', 64, 256, 1, 4.096],
      ['g5.24xlarge', 96, 384, 4, 8.144],
      ['g5.48xlarge', 192, 768, 8, 16.288],
    ]),
    ...gpuFamily('g6', 'l4', [
      ['g6.xlarge', 4, 16, 1, 0.8048],
      ['g6.2xlarge', 8, 32, 1, 0.9776],
      ['g6.4xlarge', 16, 64, 1, 1.3232],
      ['g6.8xlarge', 32, 128, 1, 2.0144],
      ['g6.12xlarge', 48, 192, 4, 4.6016],
      ['g6.16xlarge', 64, 256, 1, 3.3968],
      ['g6.24xlarge', 96, 384, 4, 6.6752],
      ['g6.48xlarge', 192, 768, 8, 13.3504],
    ]),
    ...gpuFamily('p3', 'v100', [
      ['p3.2xlarge', 8, 61, 1, 3.06],
      ['p3.8xlarge', 32, 244, 4, 12.24],
      ['p3.16xlarge', 64, 488, 8, 24.48],
    ]),
    ...gpuFamily('p4d', 'a100-40gb', [['p4d.24xlarge', 96, 1152, 8, 32.7726]]),
    ...gpuFamily('p5', 'h100-80gb', [['p5.48xlarge', 192, 2048, 8, 98.32]]),
  },
  hosts: HOSTS,
};
