// The replay profile: one pod of the Alibaba GenTD26 trace, looped over its own span and aligned
// to simulated time, so replicas replaying the same pod move together as the original fleet did.
import type { ProfileContext, UsageProfile } from './types.ts';
import type { Interpolation, ReplaySpec } from './params.ts';
import { TRACE_FILES, type PodSeries, type TraceLibrary } from './traces.ts';
import { hashString, smoothNoise, unit } from './prng.ts';
import { TailorError } from '../../errors.ts';

/** The pod a spec names, by id or index, or one picked by the seed among pods with an hour of data. */
export function choosePod(spec: ReplaySpec, seed: string, traces: TraceLibrary): string {
  const pods = traces.alibabaPods();
  const file = TRACE_FILES['memory-util'];
  if (spec.pod !== undefined) {
    if (traces.alibabaSeries('memory-util', spec.pod)) return spec.pod;
    throw new TailorError(
      'InvalidInput',
      `replay: pod ${JSON.stringify(spec.pod)} is not in ${file} (${pods.length} pods, e.g. ${pods.slice(0, 3).join(', ')})`,
    );
  }
  if (spec.index !== undefined) {
    const pod = pods[spec.index];
    if (pod !== undefined) return pod;
    throw new TailorError(
      'InvalidInput',
      `replay: index ${spec.index} is out of range; ${file} has ${pods.length} pods (0..${pods.length - 1})`,
    );
  }
  const long = traces.memo('replay|long-pods', () =>
    pods.filter((p) => (traces.alibabaSeries('memory-util', p)?.times.length ?? 0) >= 60),
  );
  const from = long.length ? long : pods;
  const pod = from[Math.floor(unit(hashString(seed), 0x33) * from.length)];
  if (pod === undefined) throw new TailorError('InvalidInput', `replay: ${file} has no pods`);
  return pod;
}

/** Value of a series at trace time `tq`, which lies in [times[0], times[0] + span). */
function valueAt(s: PodSeries, tq: number, span: number, how: Interpolation): number {
  const { times, values } = s;
  const n = times.length;
  if (n === 1) return values[0]!;
  if (tq <= times[0]!) return values[0]!;
  let lo = 0;
  let hi = n - 1;
  if (tq >= times[hi]!) {
    // Past the last sample: hold it, or glide back to the first so the loop has no jump.
    if (how === 'step') return values[hi]!;
    const end = times[0]! + span;
    if (end <= times[hi]!) return values[hi]!;
    const f = Math.min(1, (tq - times[hi]!) / (end - times[hi]!));
    return values[hi]! + (values[0]! - values[hi]!) * f;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= tq) lo = mid;
    else hi = mid;
  }
  if (how === 'step') return values[lo]!;
  const f = (tq - times[lo]!) / (times[hi]! - times[lo]!);
  return values[lo]! + (values[hi]! - values[lo]!) * f;
}

export function replayProfile(
  spec: ReplaySpec,
  ctx: ProfileContext,
  traces: TraceLibrary,
): UsageProfile & { pod: string } {
  const pod = choosePod(spec, ctx.seed, traces);
  const memory = traces.alibabaSeries('memory-util', pod)!;
  const gpuMem = traces.alibabaSeries('gpu-memory-bytes', pod);
  const duty = traces.alibabaSeries('gpu-duty-cycle', pod);
  const t0 = memory.times[0]!;
  const span = memory.times[memory.times.length - 1]! - t0 + memory.stepSeconds;
  const cpuSeed = hashString(`${ctx.seed}/cpu`);
  const traceTime = (t: number) => t0 + ((((t + spec.offsetSeconds - t0) % span) + span) % span);
  return {
    kind: 'replay',
    pod,
    startupSeconds: spec.startupSeconds,
    sample(t) {
      const tq = traceTime(t);
      const dutyPct = duty
        ? Math.min(100, Math.max(0, valueAt(duty, tq, span, spec.interpolation)))
        : undefined;
      // The trace has no CPU series: CPU follows the GPU's duty cycle, or sits at half the given
      // cores with a little noise for pods without a GPU series.
      const cpu =
        dutyPct !== undefined
          ? spec.cpuCores * (0.1 + (0.9 * dutyPct) / 100)
          : spec.cpuCores * (0.5 + 0.05 * smoothNoise(cpuSeed, t, 60));
      return {
        cpuCores: cpu,
        memoryBytes: Math.max(0, valueAt(memory, tq, span, spec.interpolation)) * spec.memoryBytes,
        gpuMemoryBytes: gpuMem ? Math.max(0, valueAt(gpuMem, tq, span, spec.interpolation)) : 0,
        gpuUtilPercent: dutyPct ?? 0,
      };
    },
    volumeBytes: () => spec.volumeBytes,
  };
}
