// metav1.LabelSelector semantics, once, for everything that decides which pods a policy covers.
import type { SizingPolicySpec } from '../api/index.ts';

export type Selector = NonNullable<SizingPolicySpec['selector']>;

/** Every matchLabels pair and every expression must hold. */
export function selectorMatches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
