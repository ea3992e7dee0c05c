// Helpers the operator benchmarks share: percentiles, a process's RSS and CPU time from /proc, the
// Prometheus text format read into samples, and a bounded-concurrency loop.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseContainerfile } from '../test/support/containerfile.ts';
import type * as k8s from '@kubernetes/client-node';
import { parseQuantity } from '../src/core/quantity.ts';
import { latestExit } from '../src/core/resize/pod-view.ts';

/** The p-th percentile (0..100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface ProcSample {
  /** Resident set, bytes. */
  readonly rssBytes: number;
  /** Peak resident set (VmHWM), bytes. */
  readonly peakRssBytes: number;
  /** utime + stime, seconds. */
  readonly cpuSeconds: number;
}

/** Fields of /proc/<pid>/status and /proc/<pid>/stat, as text, read into a sample. */
export function parseProc(status: string, stat: string, ticksPerSecond = 100): ProcSample {
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  // The command name (2nd field) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM'), cpuSeconds: (utime + stime) / ticksPerSecond };
}

export function readProc(pid: number): ProcSample {
  return parseProc(readFileSync(`/proc/${pid}/status`, 'utf8'), readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parsePrometheus(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of every sample named `name` whose labels include `match`. */
export function sumOf(
  samples: readonly PromSample[],
  name: string,
  match: Record<string, string> = {},
): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** `uptime`'s three load averages. */
export function loadAverages(): [number, number, number] {
  const [a = NaN, b = NaN, c = NaN] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [a, b, c];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Kill {
  readonly pod: string;
  /** lastState.terminated.finishedAt (whole seconds, as the API has it), ms. */
  readonly finishedAt: number;
  /** When the watch first saw the kill, ms. */
  readonly seenAt: number;
  readonly limitAtKill: number;
  /** The spec was raised already (the kubelet had not applied it yet): part of an earlier episode. */
  readonly raisePending: boolean;
  /** The first spec raise above limitAtKill seen after the kill. */
  specAt?: number;
  /** The first status.containerStatuses[].resources raise above limitAtKill seen after the kill. */
  statusAt?: number;
}

/** A pod as the OOM tracker reads it: the first container's memory limits and last termination. */
export interface PodLimits {
  readonly pod: string;
  /** Memory limit in the spec, bytes (0: none). */
  readonly spec: number;
  /** Memory limit in status.containerStatuses[].resources, bytes (0: not reported). */
  readonly status: number;
  readonly restartCount: number;
  readonly terminated?: { readonly reason: string; readonly finishedAt: number; readonly instance?: string };
}

export function podLimits(p: k8s.V1Pod): PodLimits {
  const cs = p.status?.containerStatuses?.[0];
  const term = latestExit(cs);
  return {
    pod: `${p.metadata?.namespace}/${p.metadata?.name}`,
    spec: parseQuantity(p.spec?.containers[0]?.resources?.limits?.memory) ?? 0,
    status: parseQuantity(cs?.resources?.limits?.memory) ?? 0,
    restartCount: cs?.restartCount ?? 0,
    ...(term?.finishedAt
      ? {
          terminated: {
            reason: term.reason ?? '',
            finishedAt: new Date(term.finishedAt).getTime(),
            ...(term.containerID ? { instance: term.containerID } : {}),
          },
        }
      : {}),
  };
}

/**
 * Times OOM kills to the raised limit from a stream of pod updates (in watch order): each kill seen,
 * then the first spec raise and the first kubelet-status raise above the limit it was killed at.
 */
export class OomReactions {
  readonly kills: Kill[] = [];
  readonly otherTerminations: { pod: string; reason: string }[] = [];
  private readonly seen = new Set<string>();
  private readonly specLimit = new Map<string, number>();
  private readonly statusLimit = new Map<string, number>();

  update(p: PodLimits, now: number): void {
    const { pod, spec, status, terminated: term } = p;
    if (term) {
      // The killed instance names the kill in both statuses; the restart count only in the older API shape.
      const key = `${pod}/${term.finishedAt}/${term.instance ?? p.restartCount}`;
      if (!this.seen.has(key)) {
        this.seen.add(key);
        if (term.reason === 'OOMKilled')
          this.kills.push({
            pod,
            finishedAt: term.finishedAt,
            seenAt: now,
            limitAtKill: status || spec,
            raisePending: spec > (status || spec),
          });
        else this.otherTerminations.push({ pod, reason: term.reason });
      }
    }
    if (spec > (this.specLimit.get(pod) ?? Infinity))
      for (const k of this.kills)
        if (k.pod === pod && k.specAt === undefined && spec > k.limitAtKill) k.specAt = now;
    if (status > (this.statusLimit.get(pod) ?? Infinity))
      for (const k of this.kills)
        if (k.pod === pod && k.statusAt === undefined && status > k.limitAtKill) k.statusAt = now;
    this.specLimit.set(pod, spec);
    if (status) this.statusLimit.set(pod, status);
  }

  /** An episode: the kills of one pod answered by the same raise; its first kill starts the clock. */
  episodes(): Kill[] {
    const first = new Map<string, Kill>();
    for (const k of this.kills) {
      if (k.raisePending || k.specAt === undefined) continue;
      const key = `${k.pod}/${k.specAt}`;
      const f = first.get(key);
      if (!f || k.seenAt < f.seenAt) first.set(key, k);
    }
    return [...first.values()];
  }

  /** The figures both benchmarks report. */
  figures() {
    const firsts = this.episodes();
    const pending = this.kills.filter((k) => k.raisePending).length;
    const answered = this.kills.filter((k) => !k.raisePending && k.specAt !== undefined).length;
    const withStatus = firsts.filter((k) => k.statusAt !== undefined);
    return {
      oomKillsSeen: this.kills.length,
      episodes: firsts.length,
      killsWhileRaisePending: pending,
      killsNotAnswered: this.kills.length - answered - pending,
      repeatKillsBeforeRaise: answered - firsts.length,
      specRaiseFromSeenSeconds: secondsSummary(firsts.map((k) => k.specAt! - k.seenAt)),
      specRaiseFromFinishedAtSeconds: secondsSummary(firsts.map((k) => k.specAt! - k.finishedAt)),
      statusAppliedFromSeenSeconds: secondsSummary(withStatus.map((k) => k.statusAt! - k.seenAt)),
      statusAppliedFromFinishedAtSeconds: secondsSummary(withStatus.map((k) => k.statusAt! - k.finishedAt)),
      nonOomTerminationsSeen: this.otherTerminations.length,
    };
  }
}

export type SecondsSummary = ReturnType<typeof secondsSummary>;

/** n, p50, p99 and max of millisecond intervals, in seconds. */
export function secondsSummary(ms: readonly number[]) {
  const r = (v: number) => (Number.isFinite(v) ? Number((v / 1000).toFixed(2)) : null);
  return {
    n: ms.length,
    p50: r(percentile(ms, 50)),
    p99: r(percentile(ms, 99)),
    max: r(ms.length ? Math.max(...ms) : NaN),
  };
}

/** The markdown rows of the four OOM reaction intervals. */
export function oomReactionRows(f: ReturnType<OomReactions['figures']>): string[] {
  const row = (what: string, s: SecondsSummary, goal = '') =>
    `| ${what} | ${s.n} | ${s.p50} | ${s.p99} | ${s.max} | ${goal} |`;
  return [
    '| interval | episodes | p50 s | p99 s | max s | goal |',
    '| --- | --- | --- | --- | --- | --- |',
    row('kill seen -> limit raised in pod spec', f.specRaiseFromSeenSeconds, 'p99 under 5'),
    row('kill finishedAt -> limit raised in pod spec', f.specRaiseFromFinishedAtSeconds),
    row('kill seen -> kubelet status shows the raised limit', f.statusAppliedFromSeenSeconds),
    row('kill finishedAt -> kubelet status shows the raised limit', f.statusAppliedFromFinishedAtSeconds),
  ];
}

/**
 * The allocator settings the image sets (the runtime stage's ENV MALLOC_*): benchmarks run the
 * operator with them, as it runs in the image.
 */
export function imageAllocatorEnv(root: string): Record<string, string> {
  return Object.fromEntries(
    parseContainerfile(readFileSync(join(root, 'Containerfile'), 'utf8'))
      .stages.at(-1)!
      .instructions.filter((i) => i.keyword === 'ENV')
      .flatMap((i) => [...i.args.matchAll(/\b(MALLOC_\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
  );
}
