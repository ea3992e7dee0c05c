// The node features the simulated kubelet declares in `status.declaredFeatures`, as a 1.37 kubelet
// does for its enabled feature gates (pkg/kubelet/kubelet_node_declared_features.go,
// k8s.io/component-helpers/nodedeclaredfeatures/features). The apiserver refuses a pod update that
// needs a feature the pod's node does not declare ("pod update requires features ... which are not
// available on node"), so only what the simulator implements is declared.
export const DECLARED_FEATURES: readonly string[] = [
  // InPlacePodLevelResourcesVerticalScaling: beta, on by default since 1.36 (resize of spec.resources).
  'InPlacePodLevelResourcesVerticalScaling',
  // Not declared, though a default 1.37 kubelet does: InPlacePodVerticalScalingInitContainers (resize
  // of ordinary init containers; the simulator runs them only as a download step), so the apiserver
  // refuses such a resize here instead of the simulator ignoring it.
];
