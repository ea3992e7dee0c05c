// Shared shapes of the resize actuator core: a pod as the planner sees it (numbers, not quantity
// strings), recommendations per container, the recommendations file format, and the resize patch.

export type ResourceName = 'cpu' | 'memory';
/** The only resources Tailor sizes; anything else in a pod (ephemeral-storage, nvidia.com/gpu) is never touched. */
export const RESOURCES: readonly ResourceName[] = ['cpu', 'memory'];

/** CPU in cores, memory in bytes; a missing key is "not set". */
export type Amounts = Partial<Record<ResourceName, number>>;

export interface ResourceSpec {
  readonly requests: Amounts;
  readonly limits: Amounts;
}

export type RestartPolicy = 'NotRequired' | 'RestartContainer';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

export interface Termination {
  /** e.g. OOMKilled, Error, Completed. */
  readonly reason: string;
  /** Seconds since the epoch; undefined when the status did not say. */
  readonly finishedAt: number | undefined;
}

export interface ContainerView {
  readonly name: string;
  /** What the pod spec asks for (after a resize patch: the desired values, maybe not yet actual). */
  readonly spec: ResourceSpec;
  readonly resizePolicy: Readonly<Record<ResourceName, RestartPolicy>>;
  /** containerStatuses[].resources: what the runtime has applied. */
  readonly actual?: ResourceSpec;
  /** containerStatuses[].allocatedResources: what the kubelet has admitted. */
  readonly allocated?: Amounts;
  readonly restartCount: number;
  readonly lastTermination?: Termination;
}

/**
 * The resize conditions the kubelet writes (KEP-1287), as one closed state. `since` is the
 * condition's lastTransitionTime in seconds since the epoch, when known.
 */
export type ResizeState =
  | { readonly kind: 'None' }
  | { readonly kind: 'Deferred'; readonly since: number | undefined; readonly message: string }
  | { readonly kind: 'Infeasible'; readonly since: number | undefined; readonly message: string }
  | { readonly kind: 'InProgress'; readonly since: number | undefined; readonly message: string }
  /** In progress with reason Error, e.g. a memory limit below current usage: the old values stay in force. */
  | { readonly kind: 'InProgressError'; readonly since: number | undefined; readonly message: string };

export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly generation?: number;
  readonly observedGeneration?: number;
  /** status.qosClass as the apiserver computed it, when present. */
  readonly qosClass?: QosClass;
  readonly phase?: string;
  readonly ready: boolean;
  /** deletionTimestamp is set: the pod is going away (an eviction or a rollout in flight). */
  readonly terminating: boolean;
  readonly resize: ResizeState;
  readonly containers: readonly ContainerView[];
}

/** One resource's recommendation in plain numbers (cores or bytes), as src/core/recommend produces it. */
export interface Bounds {
  readonly target: number;
  readonly lowerBound: number;
  /** May be +Infinity: no upper bound. */
  readonly upperBound: number;
}

export type ContainerRecommendation = Partial<Record<ResourceName, Bounds>>;

/** What the container has been seen to use, from the usage history (or at least metrics.k8s.io now). */
export interface ContainerUsage {
  /** Highest memory working set seen, bytes. */
  readonly memoryPeak?: number;
  /** Memory working set now, bytes. */
  readonly memoryNow?: number;
}

/** A quantity as written in the file: "250m", "512Mi", or a number (cores, bytes). */
export type QuantityValue = string | number;
export type QuantityPair = Partial<Record<ResourceName, QuantityValue>>;

/**
 * One entry of the recommendations file, the format `tailor recommend -o json` prints (an array of
 * these) and `tailor apply -f` reads. Defined here, once, for both commands.
 */
export interface RecommendationRecord {
  readonly namespace: string;
  /** Deployment, StatefulSet, DaemonSet, ReplicaSet, or Pod for a bare pod. */
  readonly workload: { readonly kind: string; readonly name: string };
  readonly container: string;
  readonly recommendation: {
    readonly target: QuantityPair;
    readonly lowerBound?: QuantityPair;
    readonly upperBound?: QuantityPair;
  };
}

/** A pods/resize strategic-merge patch body: every changed container of the pod, in one patch. */
export interface ResizePatch {
  readonly spec: {
    readonly containers: readonly {
      readonly name: string;
      readonly resources: {
        readonly requests?: Readonly<Partial<Record<ResourceName, string>>>;
        readonly limits?: Readonly<Partial<Record<ResourceName, string>>>;
      };
    }[];
  };
}
