// The conditions a SizingPolicy's status carries about its target, its recommendations and, in
// Auto, whether it may evict: what `kubectl get sizingpolicies` shows as READY and its reason.
import type { SizingPolicySpec } from '../../api/index.ts';
import type { ReplacementSizing } from '../../core/resize/index.ts';
import { prometheusReason, type PrometheusHistoryState } from '../../operator/prometheus-history.ts';
import type { WantedCondition } from './status.ts';

export function wantedConditions(
  spec: SizingPolicySpec,
  target: string,
  pods: number,
  recommendations: number,
  withoutMetrics: number,
  dryRun: boolean,
  prometheus?: PrometheusHistoryState,
): WantedCondition[] {
  const found: WantedCondition = {
    type: 'TargetFound',
    status: 'True',
    reason: 'Found',
    message: `${target}: ${pods} pod${pods === 1 ? '' : 's'}`,
  };
  const recs: WantedCondition =
    prometheus && prometheus.kind !== 'Ready'
      ? {
          type: 'RecommendationsAvailable',
          status: 'False',
          reason: prometheusReason(prometheus.kind),
          message: prometheus.message,
        }
      : recommendations > 0
        ? {
            type: 'RecommendationsAvailable',
            status: 'True',
            reason: 'Computed',
            message:
              `recommendations for ${recommendations} container${recommendations === 1 ? '' : 's'}` +
              (withoutMetrics > 0 ? `; ${withoutMetrics} pod(s) without metrics get none yet` : ''),
          }
        : pods === 0
          ? {
              type: 'RecommendationsAvailable',
              status: 'False',
              reason: 'NoPods',
              message: `${target} has no running pods`,
            }
          : {
              type: 'RecommendationsAvailable',
              status: 'False',
              reason: 'NoMetrics',
              message:
                'no usage data yet: metrics.k8s.io has not reported these pods (no recommendation without data)',
            };
  const ready: WantedCondition =
    recs.status === 'True'
      ? {
          type: 'Ready',
          status: 'True',
          reason: readyReason(spec.mode, dryRun),
          message: readyMessage(spec.mode, dryRun),
        }
      : { type: 'Ready', status: 'False', reason: recs.reason, message: recs.message };
  return [ready, found, recs];
}

/** Auto says whether it may evict: without Tailor's webhook for the namespace it may not. */
export function evictionConditions(
  mode: SizingPolicySpec['mode'],
  replacement: ReplacementSizing,
): WantedCondition[] {
  if (mode !== 'Auto') return [];
  switch (replacement) {
    case 'NoWebhook':
      return [
        {
          type: 'EvictionsBlocked',
          status: 'True',
          reason: 'NoAdmissionWebhook',
          message:
            'no Tailor admission webhook is registered for this namespace, so an evicted pod would come back at its ' +
            'old size: nothing is evicted (in-place resizes go on). Run the operator with --webhook, or use mode InPlace',
        },
      ];
    case 'Registering':
      return [
        {
          type: 'EvictionsBlocked',
          status: 'True',
          reason: 'WebhookRegistering',
          message: 'this operator serves the webhook; evictions wait until its registration is seen',
        },
      ];
    case 'Webhook':
      return [
        {
          type: 'EvictionsBlocked',
          status: 'False',
          reason: 'WebhookRegistered',
          message:
            "Tailor's admission webhook sizes the replacement of an evicted pod; evictions are capped by " +
            'update.maxEvictionsPerHour',
        },
      ];
  }
}

function readyReason(mode: SizingPolicySpec['mode'], dryRun: boolean): string {
  switch (mode) {
    case 'Off':
      return 'Off';
    case 'Recommend':
      return 'Recommending';
    case 'Initial':
      return 'SizingNewPods';
    case 'InPlace':
    case 'Auto':
      return dryRun ? 'DryRun' : 'Applying';
  }
}

function readyMessage(mode: SizingPolicySpec['mode'], dryRun: boolean): string {
  switch (mode) {
    case 'Off':
      return 'mode Off: recommendations only, nothing is changed';
    case 'Recommend':
      return 'recommendations are published in status; pods are never changed';
    case 'Initial':
      return 'new pods get the recommendation at admission; running pods are never changed';
    case 'InPlace':
      return dryRun
        ? 'the operator runs with --dry-run: resizes are logged, not sent'
        : 'running pods are resized in place (pods/resize); never evicted';
    case 'Auto':
      return dryRun
        ? 'the operator runs with --dry-run: resizes and evictions are logged, not sent'
        : 'running pods are resized in place; a pod whose node cannot fit it is evicted (PDBs respected)';
  }
}
