// Which namespaces a source reads: every one, or a named set. Shared by the metrics, workload and
// Prometheus sources so a command's -n/-A means the same thing everywhere.

export type Scope =
  | { readonly kind: 'AllNamespaces' }
  | { readonly kind: 'Namespaces'; readonly namespaces: readonly string[] };

export const ALL_NAMESPACES: Scope = { kind: 'AllNamespaces' };

export function namespaces(...names: string[]): Scope {
  return { kind: 'Namespaces', namespaces: [...new Set(names)] };
}

export function inScope(scope: Scope, namespace: string): boolean {
  switch (scope.kind) {
    case 'AllNamespaces':
      return true;
    case 'Namespaces':
      return scope.namespaces.includes(namespace);
  }
}
