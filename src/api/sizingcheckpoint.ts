// The SizingCheckpoint kind (tailor.dev/v1alpha1): what the operator knows about one SizingPolicy's
// pods that must survive a restart and a lost disk (recommender state, recent evictions and changes),
// as VPA's VerticalPodAutoscalerCheckpoint does. Written only by the operator, owned by its policy.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { API_VERSION, ObjectMeta, ObjectName, Timestamp, closed } from './common.ts';
import type { KindDefinition } from './common.ts';

/** The apiserver refuses objects over 1.5 MiB; the encoded series are capped below that (src/core/checkpoint). */
const MAX_SERIES_CHARS = 1_300_000;
/** The savings ledger's share of a checkpoint (src/core/report/ledger.ts MAX_LEDGER_BYTES). */
const MAX_LEDGER_CHARS = 200_000;

const PodChanges = Type.Object(
  {
    uid: Type.String({ maxLength: 64, description: 'The pod UID.' }),
    changes: Type.Array(Timestamp(), {
      maxItems: 60,
      description: 'When Tailor resized the pod in the last hour (the latest one at least), oldest first.',
    }),
  },
  closed,
);

export const SizingCheckpointSpec = Type.Object(
  {
    policyName: ObjectName({ description: 'The SizingPolicy this checkpoint belongs to (also its owner).' }),
    writtenAt: Timestamp({ description: 'When the operator last wrote it.' }),
    evictions: Type.Optional(
      Type.Array(Timestamp(), {
        maxItems: 100,
        description:
          'When the policy evicted a pod, in the last hour (the latest one at least), oldest first: the ' +
          'cooldown and update.maxEvictionsPerHour count them.',
      }),
    ),
    pods: Type.Optional(
      Type.Array(PodChanges, {
        maxItems: 5000,
        description:
          "Per pod, Tailor's recent resizes: the cooldown and update.maxChangesPerHour count them.",
      }),
    ),
    series: Type.Optional(
      Type.Object(
        {
          data: Type.String({
            maxLength: MAX_SERIES_CHARS,
            description:
              'base64 of gzipped JSON: per workload and container, the recommender state (non-zero histogram ' +
              'buckets, recent peaks, OOM floor), the first and last sample times, peaks per interval and OOM kills.',
          }),
          count: Type.Integer({ minimum: 0, description: 'Series in data.' }),
          dropped: Type.Integer({
            minimum: 0,
            description: 'Series left out to stay under the size cap (the least recently seen).',
          }),
        },
        { ...closed, description: 'The recommender state of the series the policy reads.' },
      ),
    ),
    ledger: Type.Optional(
      Type.Object(
        {
          data: Type.String({
            maxLength: MAX_LEDGER_CHARS,
            description:
              'base64 of gzipped JSON: per workload and container, 5-minute buckets for 48 h then hourly ones for ' +
              '35 days of pod-seconds, requested, baseline (before Tailor), used and recommended amounts, OOM kills ' +
              'and resizes (src/core/report/ledger.ts).',
          }),
          containers: Type.Integer({ minimum: 0, description: 'Workload containers in data.' }),
          buckets: Type.Integer({ minimum: 0, description: 'Buckets in data.' }),
          dropped: Type.Integer({
            minimum: 0,
            description: 'Buckets left out to stay under the size cap (the oldest).',
          }),
        },
        {
          ...closed,
          description:
            "Tailor's record of what the pods held, used and were recommended: what `tailor report` integrates realised savings from.",
        },
      ),
    ),
  },
  { ...closed, description: 'Written by the operator only; read back at its start.' },
);
export type SizingCheckpointSpec = Static<typeof SizingCheckpointSpec>;

export const SizingCheckpointSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal('SizingCheckpoint'),
    metadata: ObjectMeta,
    spec: SizingCheckpointSpec,
  },
  {
    description:
      "Tailor's memory of one SizingPolicy (recommender state, recent evictions and resizes), so a restart " +
      'of the operator, even on an empty disk, resumes where it stopped. Written by the operator only.',
  },
);
export type SizingCheckpoint = Omit<Static<typeof SizingCheckpointSchema>, 'metadata'> & {
  metadata: V1ObjectMeta;
};

export const SizingCheckpointKind: KindDefinition<typeof SizingCheckpointSchema> = {
  kind: 'SizingCheckpoint',
  plural: 'sizingcheckpoints',
  singular: 'sizingcheckpoint',
  shortNames: ['scp'],
  categories: ['tailor'],
  schema: SizingCheckpointSchema,
  description: SizingCheckpointSchema.description ?? '',
  printerColumns: [
    { name: 'Policy', type: 'string', jsonPath: '.spec.policyName', description: 'The SizingPolicy.' },
    { name: 'Series', type: 'integer', jsonPath: '.spec.series.count', description: 'Series kept.' },
    { name: 'Written', type: 'date', jsonPath: '.spec.writtenAt', description: 'Last write.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
