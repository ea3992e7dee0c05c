// A custom resource's status, written the one way every controller writes it: through the status
// subresource, only when something a reader would see changed, with the fields no longer wanted
// set to null (a merge patch keeps whatever it does not name).
import { GROUP, VERSION } from '../api/index.ts';
import { mergePatch } from '../kube/client.ts';
import { isNotFound } from '../kube/errors.ts';
import type { OperatorContext } from './controller.ts';

export interface StatusOwner<S extends object> {
  metadata: { namespace?: string; name?: string };
  status?: S;
}

export async function writeStatus<S extends object>(
  ctx: Pick<OperatorContext, 'clients' | 'fieldManager'>,
  plural: string,
  obj: StatusOwner<S>,
  wanted: S,
): Promise<void> {
  const stored = obj.status;
  if (JSON.stringify(stored ?? {}) === JSON.stringify(wanted)) return;
  const cleared = Object.fromEntries(
    Object.keys(stored ?? {})
      .filter((k) => !(k in wanted))
      .map((k) => [k, null]),
  );
  try {
    await ctx.clients.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: obj.metadata.namespace ?? '',
        plural,
        name: obj.metadata.name ?? '',
        body: { status: { ...cleared, ...wanted } },
        fieldManager: ctx.fieldManager,
      },
      mergePatch,
    );
  } catch (err) {
    if (isNotFound(err)) return; // deleted meanwhile
    throw err;
  }
  // Until the watch brings it back, the next pass must see what was just written (a budget's
  // crossing, a volume's lastExpansion that carries its cooldown).
  obj.status = wanted;
}
