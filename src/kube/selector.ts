// metav1.LabelSelector semantics, once, for everything that decides which pods a policy covers.
import type { SizingPolicySpec } from '../api/index.ts';
import { TailorError } from '../errors.ts';

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

const KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * kubectl's `-l` text (`app=web,tier!=cache,env in (prod,qa),!canary,gpu`) as a Selector; throws
 * InvalidInput naming `flag` and the requirement it cannot read. Every requirement becomes an
 * expression (`=` is In of one value), so `a=1,a=2` matches nothing, as in Kubernetes.
 */
export function parseLabelSelector(text: string, flag = '-l'): Selector {
  const bad = (why: string) =>
    new TailorError('InvalidInput', `${flag} "${text}": ${why}`, {
      hint: `e.g. ${flag} app=web,tier!=cache or ${flag} 'env in (prod,qa),!canary'`,
    });
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw bad('a ")" without its "("');
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (depth !== 0) throw bad('a "(" without its ")"');
  parts.push(current);
  const expressions: NonNullable<Selector['matchExpressions']>[number][] = [];
  const key = (k: string) => {
    if (!KEY.test(k)) throw bad(`"${k}" is not a label key`);
    return k;
  };
  const value = (v: string) => {
    if (!VALUE.test(v)) throw bad(`"${v}" is not a label value`);
    return v;
  };
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') throw bad('an empty requirement (two commas, or one at an end)');
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part))) {
      const values = m[3]!.split(',').map((v) => value(v.trim()));
      expressions.push({ key: key(m[1]!), operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
      expressions.push({ key: key(m[1]!), operator: m[2] === '!=' ? 'NotIn' : 'In', values: [value(m[3]!)] });
    } else if ((m = /^!\s*(\S+)$/.exec(part))) {
      expressions.push({ key: key(m[1]!), operator: 'DoesNotExist' });
    } else if (/^\S+$/.test(part)) {
      expressions.push({ key: key(part), operator: 'Exists' });
    } else
      throw bad(`cannot read "${part}" (key, !key, key=value, key!=value, key in (a,b), key notin (a,b))`);
  }
  return { matchExpressions: expressions };
}
