// Tailor's API (tailor.dev/v1alpha1): the kinds, their types, validation and CRDs, from one place.
import type { KindDefinition } from './common.ts';
import { ModelDeploymentKind } from './modeldeployment.ts';
import { SizingPolicyKind } from './sizingpolicy.ts';
import { SizingCheckpointKind } from './sizingcheckpoint.ts';
import { VolumePolicyKind } from './volumepolicy.ts';
import { TenantBudgetKind } from './tenantbudget.ts';

export * from './common.ts';
export * from './crd.ts';
export * from './modeldeployment.ts';
export * from './sizingpolicy.ts';
export * from './sizingcheckpoint.ts';
export * from './validate.ts';
export * from './volumepolicy.ts';
export * from './tenantbudget.ts';

/** Every kind, with the module that defines it and the file its CRD is generated into. */
export const KINDS: readonly { definition: KindDefinition; source: string; file: string }[] = [
  {
    definition: SizingPolicyKind,
    source: 'src/api/sizingpolicy.ts',
    file: 'deploy/crds/tailor.dev_sizingpolicies.yaml',
  },
  {
    definition: ModelDeploymentKind,
    source: 'src/api/modeldeployment.ts',
    file: 'deploy/crds/tailor.dev_modeldeployments.yaml',
  },
  {
    definition: SizingCheckpointKind,
    source: 'src/api/sizingcheckpoint.ts',
    file: 'deploy/crds/tailor.dev_sizingcheckpoints.yaml',
  },
  {
    definition: VolumePolicyKind,
    source: 'src/api/volumepolicy.ts',
    file: 'deploy/crds/tailor.dev_volumepolicies.yaml',
  },
  {
    definition: TenantBudgetKind,
    source: 'src/api/tenantbudget.ts',
    file: 'deploy/crds/tailor.dev_tenantbudgets.yaml',
  },
];
