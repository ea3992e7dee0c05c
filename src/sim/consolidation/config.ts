// A node pool's scale-down settings (the scenario's `nodePools[i].scaleDown`), read with
// field-named refusals like the rest of the scenario file. Off unless a pool asks for it.
import { FieldError, boolean, number, oneOf, onlyKeys, record, seconds, type Path } from '../usage/fields.ts';

/** What a pod with local storage (emptyDir on disk, hostPath) does to its node: holds it, or is evicted like the rest. */
export type LocalStorageRule = 'Skip' | 'Evict';

export interface ScaleDown {
  readonly enabled: boolean;
  /** How long a node must be unneeded before it is drained (cluster-autoscaler --scale-down-unneeded-time, 10m). Simulated seconds. */
  readonly unneededSeconds: number;
  /** The pool never shrinks below this many nodes (a node group's min size). */
  readonly minNodes: number;
  /** How long evictions may be refused (a PodDisruptionBudget's 429) before the drain is given up and the node uncordoned (--max-pod-eviction-time, 2m). */
  readonly drainTimeoutSeconds: number;
  /** After a failed drain, how long the node is left alone (--unremovable-node-recheck-timeout, 5m). */
  readonly recheckSeconds: number;
  /** --skip-nodes-with-local-storage (true: Skip). */
  readonly localStorage: LocalStorageRule;
}

export const SCALE_DOWN_DEFAULTS: ScaleDown = {
  enabled: false,
  unneededSeconds: 600,
  minNodes: 0,
  drainTimeoutSeconds: 120,
  recheckSeconds: 300,
  localStorage: 'Skip',
};

const KEYS = [
  'enabled',
  'unneededSeconds',
  'minNodes',
  'drainTimeoutSeconds',
  'recheckSeconds',
  'localStorage',
];

/** `scaleDown:` of a node pool; `poolCount` bounds minNodes (a min above the pool's size is a mistake, not a no-op). */
export function readScaleDown(raw: unknown, path: Path, poolCount: number): ScaleDown {
  const o = record(raw, path);
  onlyKeys(o, path, KEYS, 'a scaleDown field');
  const at = (k: string): Path => [...path, k];
  const d = SCALE_DOWN_DEFAULTS;
  const out: ScaleDown = {
    enabled: o.enabled === undefined ? true : boolean(o.enabled, at('enabled')),
    unneededSeconds:
      o.unneededSeconds === undefined ? d.unneededSeconds : seconds(o.unneededSeconds, at('unneededSeconds')),
    minNodes:
      o.minNodes === undefined ? d.minNodes : number(o.minNodes, at('minNodes'), { min: 0, integer: true }),
    drainTimeoutSeconds:
      o.drainTimeoutSeconds === undefined
        ? d.drainTimeoutSeconds
        : seconds(o.drainTimeoutSeconds, at('drainTimeoutSeconds'), { above: 0 }),
    recheckSeconds:
      o.recheckSeconds === undefined ? d.recheckSeconds : seconds(o.recheckSeconds, at('recheckSeconds')),
    localStorage:
      o.localStorage === undefined
        ? d.localStorage
        : oneOf(o.localStorage, at('localStorage'), ['Skip', 'Evict'] as const, 'a local storage rule'),
  };
  if (out.minNodes > poolCount)
    throw new FieldError(
      at('minNodes'),
      `${out.minNodes} is more than the pool's count of ${poolCount}: lower minNodes or raise count`,
    );
  return out;
}

/** The scale-down settings of a scenario's pools that enabled it, by pool name. */
export function scaleDownPools(
  pools: readonly { name: string; scaleDown?: ScaleDown }[],
): Map<string, ScaleDown> {
  return new Map(pools.flatMap((p) => (p.scaleDown?.enabled ? [[p.name, p.scaleDown] as const] : [])));
}
