// The report's volumes section: the wasted claims (src/core/volume/waste.ts) priced by their
// StorageClass (src/core/cost/storage.ts), in whole cents, with totals per namespace (tenant).
// Pure: `tailor recommend`, `tailor report` and the operator bring the samples and the classes.
import type { PriceOverrides } from '../cost/overrides.ts';
import { storageMonthly, storagePriceFor, type StorageClassFacts } from '../cost/storage.ts';
import type { VolumeSample } from '../volume/types.ts';
import { DEFAULT_WASTE_RULES, judgeVolumes, type WasteRules } from '../volume/waste.ts';
import type { VolumesReport, VolumeWasteTotal, WastedVolume } from './model.ts';

/** What the volumes section is built from. */
export interface VolumeFacts {
  /** The volume stats source's name ('prometheus', 'kubelet'). */
  readonly source: string;
  /** The source could not be read: no verdict on any claim, and a note says why. */
  readonly error?: string;
  /** Samples keyed `namespace/claim` (VolumeStatsSource.read). */
  readonly samples: ReadonlyMap<string, readonly VolumeSample[]>;
  /** `namespace/claim` -> spec.storageClassName, for the claims that name one. */
  readonly storageClassOf: ReadonlyMap<string, string>;
  readonly storageClasses: readonly StorageClassFacts[];
  /**
   * `namespace/claim` -> status.capacity.storage: what the cloud bills (the file system the kubelet
   * reports is smaller by its metadata); absent: the stats' capacity.
   */
  readonly claimCapacity?: ReadonlyMap<string, number>;
  /** Why claims or classes could not be read (prices then fall back to the default). */
  readonly classesUnread?: string;
}

export interface VolumeWasteInput {
  /** Seconds since the epoch. */
  readonly now: number;
  readonly windowSeconds: number;
  /** Only these namespaces (all when absent): a tenant never sees another's claims. */
  readonly namespaces?: readonly string[];
  readonly facts: VolumeFacts;
  readonly overrides?: PriceOverrides;
  readonly rules?: Partial<WasteRules>;
}

const CENTS = 100;
const cents = (v: number) => Math.round(v * CENTS) / CENTS;

export function volumeWasteReport(input: VolumeWasteInput): VolumesReport {
  const { facts } = input;
  const inScope = (key: string) =>
    !input.namespaces || input.namespaces.includes(key.slice(0, key.indexOf('/')));
  const samples = new Map([...facts.samples].filter(([k]) => inScope(k)));
  const notes: string[] = [];
  if (facts.error !== undefined)
    notes.push(`volume stats (${facts.source}) not read: ${facts.error}; no verdict on any volume`);
  const findings = judgeVolumes({
    now: input.now,
    windowSeconds: input.windowSeconds,
    samples,
    ...(input.rules ? { rules: input.rules } : {}),
  });
  const classes = new Map(facts.storageClasses.map((c) => [c.name, c]));
  const fallback = new Set<string>();
  const wasted: WastedVolume[] = findings.flatMap((f) => {
    if (!f.waste) return [];
    const billed = facts.claimCapacity?.get(`${f.namespace}/${f.claim}`);
    const w = billed === undefined ? f.waste : { ...f.waste, capacityBytes: billed };
    // A file system reads smaller than its disk: the suggestion must still be below what is billed.
    if (w.suggestedBytes >= w.capacityBytes) return [];
    const className = facts.storageClassOf.get(`${f.namespace}/${f.claim}`);
    const price = storagePriceFor(
      className === undefined ? undefined : classes.get(className),
      input.overrides,
    );
    if (price.source === 'Default') fallback.add(price.description);
    const wasteBytes = w.capacityBytes - w.suggestedBytes;
    return [
      {
        namespace: w.namespace,
        claim: w.claim,
        storageClass: className ?? null,
        capacityBytes: w.capacityBytes,
        peakUsedBytes: w.peakUsedBytes,
        suggestedBytes: w.suggestedBytes,
        wasteBytes,
        monthlyCost: cents(storageMonthly(w.capacityBytes, price)),
        wasteMonthlyCost: cents(storageMonthly(wasteBytes, price)),
        currency: price.currency,
        price: price.description,
      },
    ];
  });
  wasted.sort(
    (a, b) =>
      a.namespace.localeCompare(b.namespace) ||
      b.wasteMonthlyCost - a.wasteMonthlyCost ||
      a.claim.localeCompare(b.claim),
  );
  const short = findings.filter((f) => f.verdict === 'ShortHistory').length;
  if (short > 0)
    notes.push(
      `${short} volume${short === 1 ? '' : 's'} with stats covering less than ${Math.round(100 * (input.rules?.minCoverage ?? DEFAULT_WASTE_RULES.minCoverage))}% of the range: no verdict on waste`,
    );
  if (facts.classesUnread !== undefined && wasted.length > 0)
    notes.push(`StorageClasses not read (${facts.classesUnread}): volumes priced at the default`);
  for (const d of [...fallback].sort()) notes.push(`volume prices: ${d}`);
  const byNamespace = new Map<string, WastedVolume[]>();
  for (const w of wasted) byNamespace.set(w.namespace, [...(byNamespace.get(w.namespace) ?? []), w]);
  return {
    source: facts.source,
    windowSeconds: input.windowSeconds,
    claims: samples.size,
    wasted,
    namespaces: [...byNamespace].map(([namespace, ws]) => ({ namespace, ...totalOf(ws) })),
    total: totalOf(wasted),
    notes,
  };
}

function totalOf(ws: readonly WastedVolume[]): VolumeWasteTotal {
  // Sums of whole cents, in integer cents: exact.
  const sum = (f: (w: WastedVolume) => number) => ws.reduce((n, w) => n + f(w), 0);
  return {
    volumes: ws.length,
    capacityBytes: sum((w) => w.capacityBytes),
    wasteBytes: sum((w) => w.wasteBytes),
    monthlyCost: sum((w) => Math.round(w.monthlyCost * CENTS)) / CENTS,
    wasteMonthlyCost: sum((w) => Math.round(w.wasteMonthlyCost * CENTS)) / CENTS,
  };
}
