// Kubernetes Events (core/v1), so `kubectl describe` shows what Tailor and the simulator did.
import type * as k8s from '@kubernetes/client-node';
import type { Clients } from './client.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** `annotations`: machine-readable detail for readers of the Event (e.g. a removed node's shape). */
  record(
    obj: k8s.KubernetesObject,
    type: EventType,
    reason: string,
    message: string,
    annotations?: Record<string, string>,
  ): void;
}

export function eventRecorder(
  clients: Clients,
  component: string,
  onError: (msg: string) => void = () => {},
): EventRecorder {
  return {
    record(obj, type, reason, message, annotations) {
      const namespace = obj.metadata?.namespace ?? 'default';
      const now = new Date();
      const body: k8s.CoreV1Event = {
        metadata: {
          generateName: `${obj.metadata?.name ?? 'object'}.`,
          namespace,
          ...(annotations ? { annotations } : {}),
        },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata?.name,
          namespace: obj.metadata?.namespace,
          uid: obj.metadata?.uid,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component },
        reportingComponent: component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      clients.core
        .createNamespacedEvent({ namespace, body })
        .catch((e: unknown) => onError(`event ${reason}: ${String(e)}`));
    },
  };
}
