// Which claims a VolumePolicy covers (the PVCs its workload's pods mount, a StatefulSet's
// volumeClaimTemplates, or PVCs by label; always in the policy's own namespace), and a claim as the
// planner sees it (ClaimState), read from the PVC and its StorageClass.
import type * as k8s from '@kubernetes/client-node';
import type { VolumePolicySpec } from '../../api/index.ts';
import { parseQuantity } from '../../core/quantity.ts';
import { RESIZE_STATUSES, type ClaimState, type ResizeStatus } from '../../core/volume/index.ts';
import { selectorMatches, type Selector } from '../../kube/selector.ts';

/** The claim annotation Tailor writes in the same patch as an expansion: the cooldown survives anything. */
export const LAST_EXPANSION_ANNOTATION = 'tailor.dev/last-expansion';

/** What the policy targets, for status and messages: "StatefulSet/db" or "claims app=cache". */
export function targetLabel(spec: Pick<VolumePolicySpec, 'targetRef' | 'selector'>): string {
  if (spec.targetRef) return `${spec.targetRef.kind}/${spec.targetRef.name}`;
  const labels = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const exprs = (spec.selector?.matchExpressions ?? []).map(
    (e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`,
  );
  return `claims ${[...labels, ...exprs].join(', ')}`;
}

/** The workload a targetRef names, as read from the API (its pod template keeps its volumes). */
export type TargetWorkload =
  { kind: 'Deployment'; object: k8s.V1Deployment } | { kind: 'StatefulSet'; object: k8s.V1StatefulSet };

/**
 * The claims, by name, a policy covers among the namespace's PVCs. With a targetRef: the claims its
 * pod template mounts, and for a StatefulSet the claims of its volumeClaimTemplates
 * (`<template>-<statefulset>-<ordinal>`, as the StatefulSet controller names them). A claim never
 * comes from another namespace: the caller passes only the policy's.
 */
export function coveredClaims(
  spec: Pick<VolumePolicySpec, 'targetRef' | 'selector'>,
  pvcs: readonly k8s.V1PersistentVolumeClaim[],
  workload: TargetWorkload | undefined,
): k8s.V1PersistentVolumeClaim[] {
  if (spec.selector) {
    const sel: Selector = spec.selector;
    return pvcs.filter((c) => selectorMatches(sel, c.metadata?.labels ?? {}));
  }
  if (!workload) return [];
  const named = new Set(
    (workload.object.spec?.template?.spec?.volumes ?? []).flatMap((v) =>
      v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : [],
    ),
  );
  const patterns =
    workload.kind === 'StatefulSet'
      ? (workload.object.spec?.volumeClaimTemplates ?? []).map(
          (t) =>
            new RegExp(
              `^${escape(t.metadata?.name ?? '')}-${escape(workload.object.metadata?.name ?? '')}-[0-9]+$`,
            ),
        )
      : [];
  return pvcs.filter((c) => {
    const name = c.metadata?.name ?? '';
    return named.has(name) || patterns.some((p) => p.test(name));
  });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const trueCondition = (pvc: k8s.V1PersistentVolumeClaim, type: string) =>
  (pvc.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

/** The claim's resize status (allocatedResourceStatuses.storage), when it is one Kubernetes defines. */
export function resizeStatusOf(pvc: k8s.V1PersistentVolumeClaim): ResizeStatus | undefined {
  const s = pvc.status?.allocatedResourceStatuses?.storage;
  return RESIZE_STATUSES.find((r) => r === s);
}

/** The message of the claim's condition about a failed resize, if the resizer left one. */
export function resizeFailureMessage(pvc: k8s.V1PersistentVolumeClaim): string | undefined {
  const c = (pvc.status?.conditions ?? []).find(
    (x) =>
      (x.type === 'ControllerResizeError' || x.type === 'NodeResizeError' || x.type === 'Resizing') &&
      x.message,
  );
  return c?.message;
}

/** When Tailor last expanded the claim, from its annotation; undefined without one. */
export function annotatedLastExpansion(pvc: k8s.V1PersistentVolumeClaim): number | undefined {
  const text = pvc.metadata?.annotations?.[LAST_EXPANSION_ANNOTATION];
  const t = text ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? t / 1000 : undefined;
}

/** The claim as planExpansion reads it. `lastExpansionAt` is the later of the status's and the annotation's. */
export function claimState(
  pvc: k8s.V1PersistentVolumeClaim,
  storageClass: k8s.V1StorageClass | undefined,
  lastFromStatus: number | undefined,
): ClaimState {
  const allocated = parseQuantity(pvc.status?.allocatedResources?.storage);
  const resizeStatus = resizeStatusOf(pvc);
  const fromAnnotation = annotatedLastExpansion(pvc);
  const last =
    lastFromStatus === undefined
      ? fromAnnotation
      : fromAnnotation === undefined
        ? lastFromStatus
        : Math.max(lastFromStatus, fromAnnotation);
  return {
    namespace: pvc.metadata?.namespace ?? '',
    name: pvc.metadata?.name ?? '',
    requestBytes: parseQuantity(pvc.spec?.resources?.requests?.storage) ?? 0,
    capacityBytes: parseQuantity(pvc.status?.capacity?.storage) ?? 0,
    ...(allocated !== undefined ? { allocatedBytes: allocated } : {}),
    ...(resizeStatus ? { resizeStatus } : {}),
    resizing: trueCondition(pvc, 'Resizing') || trueCondition(pvc, 'FileSystemResizePending'),
    expandable: storageClass?.allowVolumeExpansion === true,
    ...(last !== undefined ? { lastExpansionAt: last } : {}),
  };
}

/** A claim Tailor can act on: bound, with a capacity (an unbound claim has no volume to grow). */
export function isBound(pvc: k8s.V1PersistentVolumeClaim): boolean {
  return pvc.status?.phase === 'Bound' && parseQuantity(pvc.status?.capacity?.storage) !== undefined;
}
