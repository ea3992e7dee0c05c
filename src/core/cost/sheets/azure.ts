// Azure virtual machine prices: Dsv5 and Esv5 general-purpose and memory-optimised sizes and the
// NCasT4_v3, NC A100 v4 and ND H100 v5 GPU sizes, pay-as-you-go, Linux, in eastus.
import { gpuFamily, linearFamily, type CloudSheet, type HostShape } from './types.ts';

/** AKS labels carry the size as "Standard_D8s_v5"; the sheet keys it lower case without the tier. */
const sizes = (pattern: (n: number) => string, vcpus: readonly number[]) =>
  vcpus.map((n) => [pattern(n).toLowerCase(), n] as const);

/**
 * Host shapes for CCF's embodied emissions: NCasT4_v3 as in cloud-carbon-coefficients
 * output/coefficients-azure-embodied.csv (May 2023, 2349.62 kg: 448 GB, 4 T4s, one HDD); the
 * others sized the same way from the largest size of each series on Azure's size pages.
 */
const HOSTS: Record<string, HostShape> = {
  dsv5: { vcpus: 96, sockets: 2, memoryGB: 384, gpus: 0, ssds: 0, hdds: 0 },
  esv5: { vcpus: 96, sockets: 2, memoryGB: 672, gpus: 0, ssds: 0, hdds: 0 },
  ncast4v3: { vcpus: 64, sockets: 2, memoryGB: 448, gpus: 4, ssds: 0, hdds: 1 },
  nca100v4: { vcpus: 96, sockets: 2, memoryGB: 880, gpus: 4, ssds: 0, hdds: 0 },
  ndh100v5: { vcpus: 96, sockets: 2, memoryGB: 1900, gpus: 8, ssds: 8, hdds: 0 },
};

const esv5 = linearFamily(
  'esv5',
  sizes((n) => `E${n}s_v5`, [2, 4, 8, 16, 20, 32, 48, 64]),
  0.063,
  8,
);

/**
 * Source: https://azure.microsoft.com/pricing/details/virtual-machines/linux/ , East US,
 * pay-as-you-go, Linux, as published in 2024 (Dsv5 $0.048 and Esv5 $0.063 per vCPU-hour,
 * linear in size; GPU sizes as listed).
 */
export const AZURE_SHEET: CloudSheet = {
  cloud: 'Azure',
  baseRegion: 'eastus',
  source: 'azure.microsoft.com/pricing/details/virtual-machines/linux, East US, 2024',
  /** Approximate ratio of D8s_v5's Linux price in each region to East US's ($0.384), same page (2024). */
  regionMultiplier: {
    eastus: 1,
    eastus2: 1,
    westus2: 1,
    westus3: 1,
    centralus: 1.094,
    westus: 1.25,
    canadacentral: 1.1,
    northeurope: 1.1,
    westeurope: 1.2,
    swedencentral: 1.1,
    uksouth: 1.156,
    francecentral: 1.172,
    germanywestcentral: 1.2,
    centralindia: 1.05,
    southeastasia: 1.25,
    japaneast: 1.292,
    australiaeast: 1.25,
  },
  instances: {
    ...linearFamily(
      'dsv5',
      sizes((n) => `D${n}s_v5`, [2, 4, 8, 16, 32, 48, 64, 96]),
      0.048,
      4,
    ),
    ...esv5,
    // E96s_v5 has 672 GiB, not 8 per vCPU.
    e96s_v5: { vcpus: 96, memoryGiB: 672, gpus: 0, onDemandHour: 6.048, family: 'esv5' },
    ...gpuFamily('ncast4v3', 't4', [
      ['nc4as_t4_v3', 4, 28, 1, 0.526],
      ['nc8as_t4_v3', 8, 56, 1, 0.752],
      ['nc16as_t4_v3', 16, 110, 1, 1.204],
      ['nc64as_t4_v3', 64, 440, 4, 4.352],
    ]),
    ...gpuFamily('nca100v4', 'a100-80gb-pcie', [
      ['nc24ads_a100_v4', 24, 220, 1, 3.673],
      ['nc48ads_a100_v4', 48, 440, 2, 7.346],
      ['nc96ads_a100_v4', 96, 880, 4, 14.692],
    ]),
    ...gpuFamily('ndh100v5', 'h100-80gb', [['nd96isr_h100_v5', 96, 1900, 8, 98.32]]),
  },
  hosts: HOSTS,
};
