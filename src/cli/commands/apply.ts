// `tailor apply`: resizes running pods in place (pods/resize) to their recommendations, from a
// recommendations file or the SizingPolicies of a namespace; --dry-run shows the exact patches.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { API_VERSION, SizingPolicySpec, validate } from '../../api/index.ts';
import type { SizingMode } from '../../api/index.ts';
import { TailorError } from '../../errors.ts';
import { makeClients, strategicMergePatch, type Clients } from '../../kube/client.ts';
import { clusterOptions, kubeConfigFrom, type ClusterFlags } from '../flags.ts';
import { classify } from '../../kube/errors.ts';
import { namespaces } from '../../sources/scope.ts';
import { listPodsWithWorkloads, type PodWithWorkload } from '../../sources/workloads.ts';
import { readPodMetrics } from '../../sources/metrics-api.ts';
import {
  format,
  kubectlCommand,
  lastResizeTime,
  outcomeOfPatchError,
  parseRecommendations,
  planResize,
  SHRINK_ALLOWED,
  planRollout,
  podView,
  toContainerRecommendation,
  RESOURCES,
  type Amounts,
  type ContainerRecommendation,
  type ContainerUsage,
  type QuantityPair,
  type ResizePlan,
  type ResizePolicyInput,
  type ResizeOutcome,
  type RolloutAction,
} from '../../core/resize/index.ts';

type OutputFormat = 'text' | 'json';
/** false: send the patches. client: send nothing. server: send with dryRun=All, so the apiserver judges them and stores nothing. */
type DryRun = false | 'client' | 'server';

interface Options extends ClusterFlags {
  file?: string;
  namespace?: string;
  dryRun?: boolean | string;
  output: string;
  policy?: string;
  mode?: string;
}

/** One workload with what to apply to its pods, and by which rules. */
interface Target {
  readonly namespace: string;
  readonly workload: { readonly kind: string; readonly name: string };
  readonly policy: ResizePolicyInput;
  readonly recommendations: Record<string, ContainerRecommendation>;
}

interface Item {
  readonly target: Target;
  readonly pod: k8s.V1Pod;
  readonly plan: ResizePlan;
  readonly action: RolloutAction;
  outcome?: ResizeOutcome;
}

export function registerApply(program: Command): void {
  const cmd = program
    .command('apply')
    .description(
      'resize running pods in place (pods/resize) to their recommendations; --dry-run shows the patches',
    )
    .option('-f, --file <path>', 'recommendations JSON, as `tailor recommend -o json` prints it')
    .option(
      '-n, --namespace <ns>',
      'only this namespace; without -f, apply the recommendations in the status of its SizingPolicies, by their rules',
    )
    .option(
      '--dry-run [mode]',
      'print the patches and send nothing ("client", the default); "server": the apiserver also judges them, storing nothing',
    )
    .option('-o, --output <format>', 'text or json', 'text')
    .option(
      '--policy <file>',
      'with -f: a SizingPolicy (YAML or JSON) whose rules to follow; default: the built-in defaults',
    )
    .option(
      '--mode <mode>',
      "InPlace or Auto, over the policy's mode (apply itself never evicts: Auto only reports it)",
    );
  clusterOptions(cmd).action(async (o: Options) => run(o));
}

async function run(o: Options): Promise<void> {
  const output = parseOutput(o.output);
  const dryRun = parseDryRun(o.dryRun);
  const mode = parseMode(o.mode);
  if (!o.file && !o.namespace) {
    throw new TailorError('InvalidInput', 'nothing to apply: give a recommendations file or a namespace', {
      hint: 'tailor recommend -o json > recs.json && tailor apply --dry-run -f recs.json   (or: tailor apply --dry-run -n NAMESPACE)',
    });
  }
  const clients = makeClients(kubeConfigFrom(o));
  const targets = o.file
    ? targetsFromFile(o.file, o.namespace, readPolicy(o.policy, mode))
    : await targetsFromPolicies(clients, o.namespace!, mode);
  const notes: string[] = [];
  const nss = [...new Set(targets.map((t) => t.namespace))];
  const pods = nss.length > 0 ? await listPodsWithWorkloads(clients, namespaces(...nss)) : [];
  const usage = await readUsage(clients, nss, notes);
  const now = Date.now() / 1000;

  const items: Item[] = [];
  for (const target of targets) {
    const mine = pods.filter((p) => sameWorkload(p, target));
    if (mine.length === 0) {
      notes.push(`${target.namespace}/${target.workload.kind}/${target.workload.name}: no running pods`);
      continue;
    }
    const planned = mine.map(({ pod }) => {
      const view = podView(pod);
      const lastChange = lastResizeTime(pod);
      const plan = planResize({
        pod: view,
        recommendations: target.recommendations,
        usage: usage.get(`${view.namespace}/${view.name}`) ?? {},
        policy: target.policy,
        // Asked for by a person, on usage read just now from metrics.k8s.io: shrinks are theirs to send.
        shrink: SHRINK_ALLOWED,
        ...(lastChange !== undefined ? { lastChange } : {}),
        // A stateless run cannot count earlier changes; the cooldown (from managedFields) still holds.
        changesLastHour: 0,
        now,
      });
      return { pod, view, plan };
    });
    const rollout = planRollout({
      candidates: planned.map((p) => ({ pod: p.view, plan: p.plan })),
      maxPodsAtOnce: target.policy.update.maxPodsAtOnce,
    });
    planned.forEach((p, i) =>
      items.push({ target, pod: p.pod, plan: p.plan, action: rollout.actions[i]!.action }),
    );
  }

  if (dryRun !== 'client') {
    for (const item of items) {
      if (item.action.kind !== 'Resize' || item.plan.decision.kind !== 'InPlace') continue;
      item.outcome = await send(clients, item.plan, dryRun === 'server');
    }
  }
  if (targets.length === 0) notes.push('no recommendations to apply');
  process.stdout.write(
    output === 'json' ? renderJson(items, dryRun, notes) : renderText(items, dryRun, notes),
  );

  const failed = items.filter((i) => i.outcome?.kind === 'Rejected' || i.outcome?.kind === 'Error');
  if (failed.length > 0) {
    throw new TailorError(
      'KubernetesApi',
      `${failed.length} of ${items.filter((i) => i.outcome).length} resizes failed`,
      {
        hint: 'each pod above says what the apiserver answered',
      },
    );
  }
}

async function send(clients: Clients, plan: ResizePlan, serverDryRun: boolean): Promise<ResizeOutcome> {
  if (plan.decision.kind !== 'InPlace')
    return { kind: 'Error', retryable: false, message: 'nothing to send' };
  try {
    await clients.core.patchNamespacedPodResize(
      {
        name: plan.pod,
        namespace: plan.namespace,
        body: plan.decision.patch,
        fieldManager: 'tailor',
        ...(serverDryRun ? { dryRun: 'All' } : {}),
      },
      strategicMergePatch,
    );
    return {
      kind: 'Applied',
      message: serverDryRun
        ? 'the apiserver would accept it (dry run: nothing stored)'
        : 'accepted by the apiserver',
    };
  } catch (err) {
    return outcomeOfPatchError(err);
  }
}

function sameWorkload(p: PodWithWorkload, t: Target): boolean {
  return (
    p.workload.namespace === t.namespace &&
    p.workload.kind === t.workload.kind &&
    p.workload.name === t.workload.name
  );
}

// ---- inputs --------------------------------------------------------------------------------------

function targetsFromFile(path: string, namespace: string | undefined, policy: ResizePolicyInput): Target[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TailorError('InvalidInput', `cannot read recommendations ${path}: ${(err as Error).message}`, {
      cause: err,
      hint: 'write it with `tailor recommend -o json > FILE`',
    });
  }
  const byWorkload = new Map<string, Target>();
  for (const r of parseRecommendations(doc, path)) {
    if (namespace && r.namespace !== namespace) continue;
    const key = `${r.namespace}/${r.workload.kind}/${r.workload.name}`;
    let t = byWorkload.get(key);
    if (!t) {
      t = { namespace: r.namespace, workload: r.workload, policy, recommendations: {} };
      byWorkload.set(key, t);
    }
    t.recommendations[r.container] = toContainerRecommendation(r.recommendation);
  }
  return [...byWorkload.values()];
}

function readPolicy(path: string | undefined, mode: SizingMode | undefined): ResizePolicyInput {
  let spec: Record<string, unknown> = { mode: 'InPlace' };
  if (path) {
    let doc: { kind?: unknown; spec?: unknown };
    try {
      doc = parseYaml(readFileSync(path, 'utf8')) as typeof doc;
    } catch (err) {
      throw new TailorError('InvalidInput', `cannot read policy ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    spec = ((doc && doc.kind === 'SizingPolicy' ? doc.spec : doc) ?? {}) as Record<string, unknown>;
  }
  // apply finds pods by the workloads in the recommendations, so a policy's own target is not used;
  // one is filled in only to satisfy the schema's targetRef-or-selector rule.
  if (spec.targetRef === undefined && spec.selector === undefined) {
    spec = { ...spec, selector: { matchLabels: { 'tailor.dev/applied-by': 'cli' } } };
  }
  const valid = validate(SizingPolicySpec, spec, path ? `SizingPolicy spec (${path})` : 'the default policy');
  return mode ? { ...valid, mode } : valid;
}

interface PolicyObject {
  metadata?: { name?: string };
  spec?: unknown;
  status?: {
    recommendations?: {
      name: string;
      target: QuantityPair;
      lowerBound?: QuantityPair;
      upperBound?: QuantityPair;
    }[];
  };
}

/** The namespace's SizingPolicies that target a workload, with the recommendations in their status. */
async function targetsFromPolicies(
  clients: Clients,
  namespace: string,
  mode: SizingMode | undefined,
): Promise<Target[]> {
  let list: { items?: PolicyObject[] };
  try {
    list = (await clients.custom.listNamespacedCustomObject({
      group: API_VERSION.split('/')[0]!,
      version: API_VERSION.split('/')[1]!,
      namespace,
      plural: 'sizingpolicies',
    })) as typeof list;
  } catch (err) {
    const f = classify(err);
    throw new TailorError(
      'KubernetesApi',
      `listing SizingPolicies in ${namespace}: ${f.kind} (HTTP ${f.status}): ${f.message}`,
      {
        cause: err,
        hint:
          f.kind === 'NotFound'
            ? 'the CRDs are not installed (deploy/crds); or pass -f recs.json'
            : undefined,
      },
    );
  }
  const targets: Target[] = [];
  for (const p of list.items ?? []) {
    const name = p.metadata?.name ?? '?';
    const spec = validate(SizingPolicySpec, p.spec, `SizingPolicy ${namespace}/${name}`);
    const recs = p.status?.recommendations ?? [];
    if (!spec.targetRef || recs.length === 0) continue;
    targets.push({
      namespace,
      workload: { kind: spec.targetRef.kind, name: spec.targetRef.name },
      policy: mode ? { ...spec, mode } : spec,
      recommendations: Object.fromEntries(recs.map((r) => [r.name, toContainerRecommendation(r)])),
    });
  }
  return targets;
}

/**
 * Memory in use now per pod and container, from metrics.k8s.io: the floor under any memory change
 * (a one-off CLI run has no usage history). Without it memory is not lowered, and the run says so.
 */
async function readUsage(
  clients: Clients,
  nss: string[],
  notes: string[],
): Promise<Map<string, Record<string, ContainerUsage>>> {
  const out = new Map<string, Record<string, ContainerUsage>>();
  if (nss.length === 0) return out;
  try {
    for (const s of await readPodMetrics(clients.custom, namespaces(...nss))) {
      const key = `${s.namespace}/${s.pod}`;
      const pod = out.get(key) ?? {};
      pod[s.container] = { memoryNow: s.memoryBytes };
      out.set(key, pod);
    }
  } catch (err) {
    notes.push(`no memory usage (${(err as Error).message.split('\n')[0]}): memory is not lowered`);
  }
  return out;
}

function parseOutput(v: string): OutputFormat {
  switch (v) {
    case 'text':
    case 'json':
      return v;
    default:
      throw new TailorError('InvalidInput', `unknown output format "${v}"`, {
        hint: 'use -o text or -o json',
      });
  }
}

function parseDryRun(v: boolean | string | undefined): DryRun {
  if (v === undefined || v === false) return false;
  if (v === true || v === 'client') return 'client';
  if (v === 'server') return 'server';
  throw new TailorError('InvalidInput', `--dry-run ${v}: expected client or server`, {
    hint: 'e.g. --dry-run or --dry-run=server',
  });
}

function parseMode(v: string | undefined): SizingMode | undefined {
  if (v === undefined) return undefined;
  if (v === 'InPlace' || v === 'Auto') return v;
  throw new TailorError('InvalidInput', `--mode ${v}: expected InPlace or Auto`, {
    hint: 'apply changes running pods, so only the modes that do are accepted',
  });
}

// ---- output --------------------------------------------------------------------------------------

function decisionLabel(plan: ResizePlan): string {
  const d = plan.decision;
  switch (d.kind) {
    case 'Skip':
      return `Skip (${d.reason})`;
    case 'Evict':
    case 'Infeasible':
      return `${d.kind} (${d.cause})`;
    case 'InPlace':
      return d.urgent ? 'InPlace (OOM)' : 'InPlace';
    case 'NoChange':
    case 'Deferred':
      return d.kind;
  }
}

function actionText(a: RolloutAction): string | undefined {
  switch (a.kind) {
    case 'Hold':
      return `held: ${a.reason} (run again to continue)`;
    case 'Evict':
      return 'would evict: tailor apply never evicts; the operator does in Auto mode, through the Eviction API';
    case 'Resize':
    case 'Nothing':
      return undefined;
  }
}

function outcomeText(o: ResizeOutcome): string {
  switch (o.kind) {
    case 'Rejected':
      return `Rejected (${o.reason}): ${o.message}`;
    case 'Error':
      return `Error${o.retryable ? ' (retry later)' : ''}: ${o.message}`;
    case 'Applied':
    case 'InProgress':
    case 'Deferred':
    case 'Infeasible':
      return `${o.kind}: ${o.message}`;
  }
}

function renderText(items: readonly Item[], dryRun: DryRun, notes: readonly string[]): string {
  const lines: string[] = [];
  if (dryRun) lines.push(`dry run (${dryRun}): nothing is changed`);
  for (const i of items) {
    const d = i.plan.decision;
    const what = d.kind === 'InPlace' ? i.plan.summary : d.message;
    lines.push(
      `${i.plan.namespace}/${i.plan.pod} (${i.target.workload.kind}/${i.target.workload.name}): ${decisionLabel(i.plan)}: ${what}`,
    );
    if (d.kind === 'InPlace') lines.push(`  ${kubectlCommand(i.plan.namespace, i.plan.pod, d.patch)}`);
    const action = actionText(i.action);
    if (action) lines.push(`  ${action}`);
    for (const n of i.plan.notes) lines.push(`  note: ${n.message}`);
    if (i.outcome) lines.push(`  -> ${outcomeText(i.outcome)}`);
  }
  for (const n of notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}

function quantities(a: Amounts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of RESOURCES) {
    const v = a[r];
    if (v !== undefined) out[r] = format(r, v);
  }
  return out;
}

/** The pod's own cpu/memory quantities, as written in its spec. */
function asWritten(
  pod: k8s.V1Pod,
  container: string,
): { requests: Record<string, string>; limits: Record<string, string> } {
  const r = pod.spec?.containers.find((c) => c.name === container)?.resources;
  const pick = (list: Record<string, string> | undefined) =>
    Object.fromEntries(RESOURCES.flatMap((n) => (list?.[n] !== undefined ? [[n, list[n]]] : [])));
  return { requests: pick(r?.requests), limits: pick(r?.limits) };
}

function renderJson(items: readonly Item[], dryRun: DryRun, notes: readonly string[]): string {
  const report = {
    apiVersion: API_VERSION,
    kind: 'ApplyReport',
    dryRun: dryRun || 'none',
    items: items.map((i) => {
      const d = i.plan.decision;
      return {
        namespace: i.plan.namespace,
        pod: i.plan.pod,
        workload: i.target.workload,
        decision: d,
        action: i.action,
        summary: i.plan.summary,
        ...(d.kind === 'InPlace' ? { command: kubectlCommand(i.plan.namespace, i.plan.pod, d.patch) } : {}),
        containers: i.plan.containers.map((c) => ({
          name: c.name,
          before: asWritten(i.pod, c.name),
          after: { requests: quantities(c.after.requests), limits: quantities(c.after.limits) },
        })),
        notes: i.plan.notes,
        ...(i.outcome ? { outcome: i.outcome } : {}),
      };
    }),
    notes,
  };
  return JSON.stringify(report, null, 2) + '\n';
}
