// The namespace's LimitRanges, checked against the sizes Tailor would set: the apiserver validates
// them after the webhook, and a pod that breaks one is rejected, so such a patch is never sent.
import type { V1LimitRange } from '@kubernetes/client-node';
import { parseQuantity } from '../core/quantity.ts';
import { RESOURCES, sameAmount, show, type ResourceName, type ResourceSpec } from '../core/resize/index.ts';

/** Every LimitRange rule the containers (by name, as they would be created) break; empty when none. */
export function limitRangeViolations(
  containers: readonly { readonly name: string; readonly spec: ResourceSpec }[],
  ranges: readonly V1LimitRange[],
): string[] {
  const out: string[] = [];
  for (const range of ranges) {
    const where = `LimitRange ${range.metadata?.name ?? ''}`;
    for (const item of range.spec?.limits ?? []) {
      for (const r of RESOURCES) {
        const min = parseQuantity(item.min?.[r]);
        const max = parseQuantity(item.max?.[r]);
        const ratio = parseQuantity(item.maxLimitRequestRatio?.[r]);
        switch (item.type) {
          case 'Container':
            for (const c of containers) {
              const req = c.spec.requests[r];
              const lim = c.spec.limits[r];
              const at = `${where}: container ${c.name} ${r}`;
              if (min !== undefined && req !== undefined && below(r, req, min))
                out.push(`${at} request ${show(r, req)} is below min ${show(r, min)}`);
              if (min !== undefined && lim !== undefined && below(r, lim, min))
                out.push(`${at} limit ${show(r, lim)} is below min ${show(r, min)}`);
              if (max !== undefined && lim === undefined)
                out.push(`${at} has no limit, and max is ${show(r, max)}`);
              if (max !== undefined && lim !== undefined && below(r, max, lim))
                out.push(`${at} limit ${show(r, lim)} is above max ${show(r, max)}`);
              if (
                ratio !== undefined &&
                req !== undefined &&
                lim !== undefined &&
                req > 0 &&
                lim / req > ratio + 1e-9
              )
                out.push(
                  `${at} limit/request ${(lim / req).toFixed(2)} is above maxLimitRequestRatio ${ratio}`,
                );
            }
            break;
          case 'Pod': {
            const sum = (field: 'requests' | 'limits') =>
              containers.reduce<number | undefined>((acc, c) => {
                const v = c.spec[field][r];
                return v === undefined ? acc : (acc ?? 0) + v;
              }, undefined);
            const req = sum('requests');
            const lim = sum('limits');
            const at = `${where}: pod ${r}`;
            if (min !== undefined && req !== undefined && below(r, req, min))
              out.push(`${at} requests ${show(r, req)} are below min ${show(r, min)}`);
            if (max !== undefined && lim !== undefined && below(r, max, lim))
              out.push(`${at} limits ${show(r, lim)} are above max ${show(r, max)}`);
            break;
          }
          default:
            break; // PersistentVolumeClaim and future types: not about pods' cpu and memory
        }
      }
    }
  }
  return out;
}

function below(r: ResourceName, a: number, b: number): boolean {
  return a < b && !sameAmount(r, a, b);
}
