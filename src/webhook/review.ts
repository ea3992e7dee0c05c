// The AdmissionReview (admission.k8s.io/v1) wire format as the webhook reads and answers it, and
// the answers it gives: allow unchanged, or allow with a JSONPatch; it never denies a pod.
import type { V1Pod } from '@kubernetes/client-node';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** The part of an AdmissionRequest the webhook reads; anything else the apiserver sends is ignored. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly operation: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly object?: V1Pod;
  readonly dryRun?: boolean;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: true;
  readonly patchType?: 'JSONPatch';
  /** base64 of the JSON array of operations. */
  readonly patch?: string;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export interface AdmissionReview {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

/** RFC 6902 operations; the webhook only ever adds (which replaces a present member) and removes. */
export type JsonPatchOp =
  | { readonly op: 'add'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

// The apiserver shows warnings to the client (kubectl) and truncates long ones; keep them readable.
const MAX_WARNING = 240;

export function allow(uid: string, warnings: readonly string[] = []): AdmissionReview {
  return review({ uid, allowed: true, ...warningsField(warnings) });
}

export function allowWithPatch(
  uid: string,
  ops: readonly JsonPatchOp[],
  warnings: readonly string[] = [],
): AdmissionReview {
  if (ops.length === 0) return allow(uid, warnings);
  return review({
    uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(ops)).toString('base64'),
    ...warningsField(warnings),
  });
}

function review(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

function warningsField(warnings: readonly string[]): { warnings?: readonly string[] } {
  if (warnings.length === 0) return {};
  return {
    warnings: warnings.map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 3)}...` : w)),
  };
}

/**
 * The request inside a parsed body, or a description of what is wrong with it. The uid is returned
 * whenever it can be found, because the apiserver drops an answer whose uid does not match.
 */
export function readRequest(
  body: unknown,
):
  | { readonly kind: 'Ok'; readonly request: AdmissionRequest }
  | { readonly kind: 'Malformed'; readonly uid: string; readonly problem: string } {
  const b = record(body);
  const r = record(b?.request);
  const uid = typeof r?.uid === 'string' ? r.uid : '';
  const bad = (problem: string) => ({ kind: 'Malformed' as const, uid, problem });
  if (!b) return bad('the body is not a JSON object');
  if (b.kind !== 'AdmissionReview') return bad(`kind is ${JSON.stringify(b.kind)}, not AdmissionReview`);
  if (b.apiVersion !== ADMISSION_API_VERSION)
    return bad(`apiVersion is ${JSON.stringify(b.apiVersion)}; this webhook speaks ${ADMISSION_API_VERSION}`);
  if (!r) return bad('there is no request');
  if (uid === '') return bad('request.uid is missing');
  const k = record(r.kind);
  if (!k || typeof k.kind !== 'string' || typeof k.version !== 'string')
    return bad('request.kind is missing');
  if (typeof r.operation !== 'string') return bad('request.operation is missing');
  const object = r.object === undefined ? undefined : record(r.object);
  if (r.object !== undefined && !object) return bad('request.object is not an object');
  return {
    kind: 'Ok',
    request: {
      uid,
      kind: { group: typeof k.group === 'string' ? k.group : '', version: k.version, kind: k.kind },
      operation: r.operation,
      ...(typeof r.namespace === 'string' ? { namespace: r.namespace } : {}),
      ...(typeof r.name === 'string' ? { name: r.name } : {}),
      ...(object ? { object: object } : {}),
      ...(r.dryRun === true ? { dryRun: true } : {}),
    },
  };
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** RFC 6901: "/" and "~" in a key (annotation names have "/") must be escaped in a patch path. */
export function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
