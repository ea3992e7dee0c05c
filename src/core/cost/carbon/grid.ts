// Grid carbon intensity per cloud region, kg CO2e per kWh: Cloud Carbon Footprint's tables for the
// common AWS, GCP and Azure regions, and a world average for a region none of them lists.
import type { Cloud } from '../types.ts';

/**
 * World average carbon intensity of electricity generation: 475 g CO2 per kWh (IEA, Global Energy &
 * CO2 Status Report 2019, for 2018). Used for a region not in the tables (on-premises, simulated).
 */
export const WORLD_GRID_KG_PER_KWH = 0.475;

/** EPA eGRID2020 NERC region factors as CCF uses them for US regions (core FootprintEstimationConstants.ts). */
const NERC = { RFC: 0.410608, SERC: 0.379069, WECC: 0.322167, MRO: 0.426254, TRE: 0.373231 } as const;

/**
 * AWS: CCF AWS_EMISSIONS_FACTORS_METRIC_TON_PER_KWH (commit b7a049c, March 2024), x1000 to kg:
 * US regions by eGRID2020 NERC region, Europe by the EEA, elsewhere carbonfootprint.com's 2021
 * country factors (its March 2022 report).
 */
const AWS: Readonly<Record<string, number>> = {
  'us-east-1': NERC.SERC,
  'us-east-2': NERC.RFC,
  'us-west-1': NERC.WECC,
  'us-west-2': NERC.WECC,
  'ca-central-1': 0.12,
  'sa-east-1': 0.0617,
  'eu-west-1': 0.2786,
  'eu-west-2': 0.225,
  'eu-west-3': 0.0511,
  'eu-central-1': 0.311,
  'eu-north-1': 0.0088,
  'eu-south-1': 0.2134,
  'ap-south-1': 0.7082,
  'ap-east-1': 0.71,
  'ap-northeast-1': 0.4658,
  'ap-northeast-2': 0.4156,
  'ap-northeast-3': 0.4658,
  'ap-southeast-1': 0.408,
  'ap-southeast-2': 0.76,
  'af-south-1': 0.9006,
  'me-south-1': 0.5059,
};

/**
 * GCP: CCF getGCPEmissionsFactors without carbon-free-energy adjustment (commit b7a049c, March
 * 2024): the grid intensity Google publishes per region (cloud.google.com/sustainability/region-carbon).
 */
const GCP: Readonly<Record<string, number>> = {
  'us-central1': 0.456,
  'us-east1': 0.434,
  'us-east4': 0.309,
  'us-west1': 0.06,
  'us-west2': 0.19,
  'us-west3': 0.448,
  'us-west4': 0.365,
  'us-south1': 0.296,
  'northamerica-northeast1': 0.028,
  'northamerica-northeast2': 0.029,
  'southamerica-east1': 0.129,
  'europe-west1': 0.11,
  'europe-west2': 0.172,
  'europe-west3': 0.269,
  'europe-west4': 0.283,
  'europe-west6': 0.086,
  'europe-west9': 0.059,
  'europe-north1': 0.127,
  'europe-central2': 0.576,
  'asia-east1': 0.456,
  'asia-northeast1': 0.464,
  'asia-south1': 0.67,
  'asia-southeast1': 0.372,
  'australia-southeast1': 0.598,
};

/** Azure: CCF AZURE_EMISSIONS_FACTORS_METRIC_TON_PER_KWH (commit b7a049c, March 2024), same sources as AWS. */
const AZURE: Readonly<Record<string, number>> = {
  eastus: NERC.SERC,
  eastus2: NERC.SERC,
  centralus: NERC.MRO,
  northcentralus: NERC.RFC,
  southcentralus: NERC.TRE,
  westus: NERC.WECC,
  westus2: NERC.WECC,
  westus3: NERC.WECC,
  canadacentral: 0.12,
  brazilsouth: 0.0617,
  northeurope: 0.2786,
  westeurope: 0.3284,
  uksouth: 0.225,
  francecentral: 0.05128,
  germanywestcentral: 0.33866,
  swedencentral: 0.00567,
  norwayeast: 0.00762,
  switzerlandnorth: 0.01152,
  centralindia: 0.7082,
  japaneast: 0.4658,
  koreacentral: 0.4156,
  southeastasia: 0.408,
  eastasia: 0.71,
  australiaeast: 0.79,
};

const TABLES: ReadonlyArray<readonly [Exclude<Cloud, 'Unknown'>, Readonly<Record<string, number>>]> = [
  ['AWS', AWS],
  ['GCP', GCP],
  ['Azure', AZURE],
];

/**
 * The grid intensity of a region, and where it came from; a node of an unknown cloud is looked up
 * in every table (the clouds' region names do not collide). Undefined: no table lists the region.
 */
export function gridFor(
  cloud: Cloud,
  region: string | undefined,
): { kgPerKWh: number; cloud: Exclude<Cloud, 'Unknown'> } | undefined {
  if (region === undefined) return undefined;
  const r = region.toLowerCase();
  for (const [c, table] of TABLES) {
    if (cloud !== 'Unknown' && c !== cloud) continue;
    const v = table[r];
    if (v !== undefined) return { kgPerKWh: v, cloud: c };
  }
  return undefined;
}
