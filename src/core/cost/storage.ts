// What block storage costs per GiB-month, by the StorageClass a claim uses: the cloud's list price
// for the disk type its provisioner and parameters name, OpenCost's default for anything else, and
// the user's tailor-prices overrides (storageGiBMonth.<class>, then storageGiBMonth) on top.
import type { PriceOverrides } from './overrides.ts';
import { OPENCOST_DEFAULT_STORAGE_GIB_MONTH } from './pricing.ts';
import type { Cloud, PriceSource } from './types.ts';

/** What the price needs of a StorageClass: its provisioner and parameters. */
export interface StorageClassFacts {
  readonly name: string;
  readonly provisioner: string;
  readonly parameters?: Readonly<Record<string, string>>;
}

export interface StoragePrice {
  readonly currency: string;
  readonly gibMonth: number;
  readonly source: PriceSource;
  /** The cloud the provisioner belongs to ('Unknown' for any other driver). */
  readonly cloud: Cloud;
  /** Human-readable: "aws ebs gp3 $0.08/GiB-month (aws.amazon.com/ebs/pricing, us-east-1, 2024)". */
  readonly description: string;
}

interface DiskSheet {
  readonly cloud: Exclude<Cloud, 'Unknown'>;
  /** CSI driver first, then the in-tree plugin's name. */
  readonly provisioners: readonly string[];
  /** Parameter keys naming the disk type, compared without case. */
  readonly typeKeys: readonly string[];
  /** The type each provisioner uses when the class names none (the driver's documented default). */
  readonly defaultType: Readonly<Record<string, string>>;
  /** USD per GiB-month by disk type in lower case, capacity only (provisioned IOPS and throughput not counted). */
  readonly gibMonth: Readonly<Record<string, number>>;
  readonly source: string;
}

/**
 * Source: https://aws.amazon.com/ebs/pricing/ , us-east-1, list prices as published in 2024, per
 * GB-month (EBS bills GiB): gp3 $0.08, gp2 $0.10, io1/io2 $0.125, st1 $0.045, sc1 $0.015, magnetic
 * (standard) $0.05. The EBS CSI driver's default type is gp3; the in-tree plugin's was gp2.
 */
const AWS_DISKS: DiskSheet = {
  cloud: 'AWS',
  provisioners: ['ebs.csi.aws.com', 'kubernetes.io/aws-ebs'],
  typeKeys: ['type'],
  defaultType: { 'ebs.csi.aws.com': 'gp3', 'kubernetes.io/aws-ebs': 'gp2' },
  gibMonth: { gp3: 0.08, gp2: 0.1, io1: 0.125, io2: 0.125, st1: 0.045, sc1: 0.015, standard: 0.05 },
  source: 'aws.amazon.com/ebs/pricing, us-east-1, 2024',
};

/**
 * Source: https://cloud.google.com/compute/disks-image-pricing , us-central1, list prices as
 * published in 2024, per GiB-month: pd-standard $0.04, pd-balanced $0.10, pd-ssd $0.17, pd-extreme
 * $0.125 (capacity only), hyperdisk-balanced $0.06 (capacity only). The PD CSI driver's default type
 * is pd-standard (GKE's default class standard-rwo names pd-balanced).
 */
const GCP_DISKS: DiskSheet = {
  cloud: 'GCP',
  provisioners: ['pd.csi.storage.gke.io', 'kubernetes.io/gce-pd'],
  typeKeys: ['type'],
  defaultType: { 'pd.csi.storage.gke.io': 'pd-standard', 'kubernetes.io/gce-pd': 'pd-standard' },
  gibMonth: {
    'pd-standard': 0.04,
    'pd-balanced': 0.1,
    'pd-ssd': 0.17,
    'pd-extreme': 0.125,
    'hyperdisk-balanced': 0.06,
  },
  source: 'cloud.google.com/compute/disks-image-pricing, us-central1, 2024',
};

/**
 * Source: https://azure.microsoft.com/pricing/details/managed-disks/ , East US, 2024. Azure sells
 * disks in size tiers, not per GiB; the figure is the 128 GiB tier's monthly price over 128:
 * Premium SSD P10 $19.71 (LRS), $29.57 (ZRS); Standard SSD E10 $9.60 (LRS), $12.00 (ZRS); Standard
 * HDD S10 $5.89. Smaller tiers cost more per GiB, larger ones about the same. The Azure Disk CSI
 * driver's default SKU is StandardSSD_LRS; the in-tree plugin's was Standard_LRS.
 */
const AZURE_DISKS: DiskSheet = {
  cloud: 'Azure',
  provisioners: ['disk.csi.azure.com', 'kubernetes.io/azure-disk'],
  typeKeys: ['skuname', 'storageaccounttype'],
  defaultType: { 'disk.csi.azure.com': 'standardssd_lrs', 'kubernetes.io/azure-disk': 'standard_lrs' },
  gibMonth: {
    premium_lrs: round6(19.71 / 128),
    premium_zrs: round6(29.57 / 128),
    standardssd_lrs: 0.075,
    standardssd_zrs: round6(12 / 128),
    standard_lrs: round6(5.89 / 128),
  },
  source: 'azure.microsoft.com/pricing/details/managed-disks, East US, 128 GiB tier, 2024',
};

export const DISK_SHEETS: readonly DiskSheet[] = [AWS_DISKS, GCP_DISKS, AZURE_DISKS];

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

const money = (v: number, currency: string) =>
  currency === 'USD' ? `$${Number(v.toPrecision(6))}` : `${Number(v.toPrecision(6))} ${currency}`;

/** The disk type a class asks for: its type parameter (any case), else the provisioner's default. */
function diskType(sheet: DiskSheet, sc: StorageClassFacts): string | undefined {
  for (const [k, v] of Object.entries(sc.parameters ?? {}))
    if (sheet.typeKeys.includes(k.toLowerCase()) && v.trim() !== '') return v.trim().toLowerCase();
  return sheet.defaultType[sc.provisioner];
}

/**
 * The price per GiB-month of a volume of class `sc` (undefined: the claim names no class, or it is
 * not known): tailor-prices `storageGiBMonth.<class>`, then `storageGiBMonth`, then the cloud's
 * list price for the class's disk type, then OpenCost's default ($0.04).
 */
export function storagePriceFor(sc: StorageClassFacts | undefined, o: PriceOverrides = {}): StoragePrice {
  const currency = o.currency ?? 'USD';
  const sheet = sc ? DISK_SHEETS.find((s) => s.provisioners.includes(sc.provisioner)) : undefined;
  const cloud: Cloud = sheet?.cloud ?? 'Unknown';
  const byClass = sc ? o.storageGiBMonthByClass?.[sc.name] : undefined;
  if (byClass !== undefined)
    return {
      currency,
      gibMonth: byClass,
      source: 'Override',
      cloud,
      description: `${money(byClass, currency)}/GiB-month (tailor-prices storageGiBMonth.${sc!.name})`,
    };
  if (o.storageGiBMonth !== undefined)
    return {
      currency,
      gibMonth: o.storageGiBMonth,
      source: 'Override',
      cloud,
      description: `${money(o.storageGiBMonth, currency)}/GiB-month (tailor-prices storageGiBMonth)`,
    };
  const type = sheet && sc ? diskType(sheet, sc) : undefined;
  const listed = sheet && type !== undefined ? sheet.gibMonth[type] : undefined;
  // A currency other than USD always comes with storageGiBMonth (parsePriceOverrides insists).
  if (sheet && type !== undefined && listed !== undefined)
    return {
      currency,
      gibMonth: listed,
      source: 'Sheet',
      cloud,
      description: `${sheet.cloud.toLowerCase()} ${type} ${money(listed, currency)}/GiB-month (${sheet.source})`,
    };
  const why = !sc
    ? 'no StorageClass known'
    : sheet
      ? `${sc.provisioner} disk type ${type ?? '(none)'} not in the price sheet`
      : `provisioner ${sc.provisioner} not in the price sheets`;
  return {
    currency,
    gibMonth: OPENCOST_DEFAULT_STORAGE_GIB_MONTH,
    source: 'Default',
    cloud,
    description: `OpenCost default ${money(OPENCOST_DEFAULT_STORAGE_GIB_MONTH, currency)}/GiB-month (${why})`,
  };
}

/** Money per month of holding `bytes` at `price`. */
export function storageMonthly(bytes: number, price: StoragePrice): number {
  return (bytes / 2 ** 30) * price.gibMonth;
}
