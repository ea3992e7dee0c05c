// Cloud Carbon Footprint's energy coefficients: CPU watts per vCPU and PUE by cloud, memory and
// storage energy, server lifespan and the default utilisation, each with its source.
import type { Cloud } from '../types.ts';

export interface CloudPower {
  /** Watts per vCPU at 0% and 100% CPU utilisation. */
  readonly cpuIdleWattsPerVcpu: number;
  readonly cpuMaxWattsPerVcpu: number;
  readonly pue: number;
  readonly source: string;
}

/**
 * CCF methodology (cloudcarbonfootprint.org/docs/methodology, Appendix I, as of March 2024):
 * min/max watts per vCPU averaged (GCP: median) over the micro-architectures each cloud runs, from
 * SPECpower; PUE: AWS 1.135 (CCF's estimate), GCP 1.1 (Google's published fleet PUE), Azure 1.185
 * (Microsoft's trailing-12-month fleet figure quoted in CCF's PUE section). CCF's code at commit
 * b7a049c (March 2024) has since moved GCP to 0.68/4.11 and Azure to 0.74/3.54; the
 * methodology page's figures are the ones used here and in the README's worked example.
 *
 * Unknown cloud (on-premises, kind): CCF's AWS averages, the broadest sample of server
 * generations, and CCF's on-premises PUE of 1.58 (packages/on-premise
 * OnPremiseFootprintEstimationConstants.ts PUE_AVG, 2022: the Uptime Institute's industry average).
 */
export const CLOUD_POWER: Readonly<Record<Cloud, CloudPower>> = {
  AWS: { cpuIdleWattsPerVcpu: 0.74, cpuMaxWattsPerVcpu: 3.5, pue: 1.135, source: 'CCF AWS' },
  GCP: { cpuIdleWattsPerVcpu: 0.71, cpuMaxWattsPerVcpu: 4.26, pue: 1.1, source: 'CCF GCP' },
  Azure: { cpuIdleWattsPerVcpu: 0.78, cpuMaxWattsPerVcpu: 3.76, pue: 1.185, source: 'CCF Azure' },
  Unknown: {
    cpuIdleWattsPerVcpu: 0.74,
    cpuMaxWattsPerVcpu: 3.5,
    pue: 1.58,
    source: 'CCF AWS averages, on-premises PUE',
  },
};

/**
 * Memory: 0.000392 kWh per GB-hour (CCF methodology, "Memory": the mean of Crucial's ~0.375 W/GB
 * and Micron's ~0.4083 W/GB for DDR4), applied to every GB as CCF does for GCP. In watts per GiB.
 */
export const MEMORY_KWH_PER_GB_HOUR = 0.000392;
export const MEMORY_WATTS_PER_GIB = MEMORY_KWH_PER_GB_HOUR * 1000 * (2 ** 30 / 1e9);

/**
 * Storage: SSD 1.2 Wh and HDD 0.65 Wh per TB-hour (CCF methodology, "Storage": Cloud Jewels' method
 * with LBNL's 2016 report's 2020 projections, e.g. HDD 6.5 W per 10 TB disk; CCF constants
 * SSDCOEFFICIENT/HDDCOEFFICIENT). In watts per TiB.
 * Volumes are priced as SSD, what cloud block storage classes default to (gp3, pd-balanced, Premium SSD).
 */
export const SSD_WH_PER_TB_HOUR = 1.2;
export const HDD_WH_PER_TB_HOUR = 0.65;
export const SSD_WATTS_PER_TIB = SSD_WH_PER_TB_HOUR * (2 ** 40 / 1e12);
export const HDD_WATTS_PER_TIB = HDD_WH_PER_TB_HOUR * (2 ** 40 / 1e12);

/**
 * Default utilisation when the caller has no measurement: 50%, CCF's AVG_CPU_UTILIZATION_2020 (the
 * projected 2020 average of hyperscale servers in LBNL's 2016 U.S. Data Center Energy Usage
 * Report). The same 50% stands in for a GPU's duty cycle without DCGM (DCGM_FI_DEV_GPU_UTIL / 100
 * where present): no published fleet average exists, and 50% keeps the estimate mid-range.
 */
export const DEFAULT_DUTY = 0.5;

/** Server lifespan for embodied emissions: 4 years = 35040 h (CCF SERVER_EXPECTED_LIFESPAN; Dell R740 LCA). */
export const SERVER_LIFESPAN_HOURS = 35040;
