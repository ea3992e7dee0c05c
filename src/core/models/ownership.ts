// Who owns an object a ModelDeployment wants to write, and whether the ModelDeployment may write it:
// only an object that does not exist yet or that it already controls (a controller ownerReference
// with its UID). Anything else is a name conflict: never adopted, never overwritten.

/** The parts of an existing object the decision needs (a k8s object fits). */
export interface ExistingObject {
  metadata?: {
    ownerReferences?: readonly {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
    }[];
    managedFields?: readonly { manager?: string; operation?: string }[];
  };
}

export type Ownership =
  | { kind: 'Absent' }
  | { kind: 'Ours' }
  /** `owner`: its controller ("ModelDeployment/chat (another object, uid ...)") or who wrote it. */
  | { kind: 'Foreign'; owner: string };

export function ownershipOf(existing: ExistingObject | undefined, uid: string): Ownership {
  if (existing === undefined) return { kind: 'Absent' };
  const refs = existing.metadata?.ownerReferences ?? [];
  const controller = refs.find((r) => r.controller === true);
  if (controller?.uid === uid) return { kind: 'Ours' };
  if (controller !== undefined) {
    // Same kind and name but another UID: an earlier ModelDeployment of that name, being collected.
    return { kind: 'Foreign', owner: `${controller.kind}/${controller.name} (uid ${controller.uid})` };
  }
  const managers = [
    ...new Set((existing.metadata?.managedFields ?? []).map((m) => m.manager).filter((m) => m)),
  ];
  return {
    kind: 'Foreign',
    owner:
      managers.length > 0 ? `no controller; written by ${managers.slice(0, 3).join(', ')}` : 'no controller',
  };
}

/** One object the ModelDeployment would write, and what exists under its name now. */
export interface Wanted {
  kind: string;
  name: string;
  existing: ExistingObject | undefined;
}

export type OwnershipCheck =
  /** Every object is absent or ours: `create` names the absent ones. */
  | { kind: 'Clear'; create: readonly string[] }
  /** At least one object is someone else's: write none of them. */
  | { kind: 'Conflict'; conflicts: readonly { object: string; owner: string }[]; message: string };

/** All objects are checked before any is written: one foreign object stops every write. */
export function checkOwnership(wanted: readonly Wanted[], uid: string): OwnershipCheck {
  const conflicts: { object: string; owner: string }[] = [];
  const create: string[] = [];
  for (const w of wanted) {
    const o = ownershipOf(w.existing, uid);
    const object = `${w.kind}/${w.name}`;
    switch (o.kind) {
      case 'Absent':
        create.push(object);
        break;
      case 'Ours':
        break;
      case 'Foreign':
        conflicts.push({ object, owner: o.owner });
        break;
    }
  }
  if (conflicts.length === 0) return { kind: 'Clear', create };
  const list = conflicts.map((c) => `${c.object} (${c.owner})`).join(', ');
  return {
    kind: 'Conflict',
    conflicts,
    message: `${list} already exist${conflicts.length === 1 ? 's' : ''} and ${conflicts.length === 1 ? 'is' : 'are'} not owned by this ModelDeployment; Tailor never adopts or overwrites an object it did not create`,
  };
}
