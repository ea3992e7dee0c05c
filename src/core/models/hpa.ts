// Whether a HorizontalPodAutoscaler scales a ModelDeployment's Deployment: then the HPA owns
// `replicas` and the models controller leaves the field out of what it applies.

/** The parts of an autoscaling/v2 HorizontalPodAutoscaler the decision needs. */
export interface Autoscaler {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: unknown };
  spec?: { scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string } };
}

/** The name of the HPA that targets Deployment `name` in `namespace` (the first by name), if any. */
export function autoscalerOf(
  namespace: string,
  name: string,
  hpas: readonly Autoscaler[],
): string | undefined {
  return hpas
    .filter((h) => {
      const t = h.spec?.scaleTargetRef;
      return (
        h.metadata?.namespace === namespace &&
        !h.metadata.deletionTimestamp &&
        t?.kind === 'Deployment' &&
        t.name === name &&
        (t.apiVersion === undefined || t.apiVersion.split('/')[0] === 'apps')
      );
    })
    .map((h) => h.metadata!.name!)
    .sort()[0];
}

/** True when `manager`'s Apply entry owns spec.replicas (fieldsV1 of a managedFields entry). */
export function appliesReplicas(
  managedFields: readonly { manager?: string; operation?: string; fieldsV1?: object }[] | undefined,
  manager: string,
): boolean {
  return (managedFields ?? []).some((m) => {
    if (m.manager !== manager || m.operation !== 'Apply') return false;
    const spec = (m.fieldsV1 as Record<string, Record<string, unknown> | undefined> | undefined)?.['f:spec'];
    return spec !== undefined && 'f:replicas' in spec;
  });
}
