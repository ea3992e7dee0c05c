// The synthetic profiles: web (a daily sine), batch (periodic busy phases), idle (almost nothing),
// each with noise that is a pure function of the container's seed and the time bucket.
import type { ProfileContext, UsageProfile } from './types.ts';
import type { BatchSpec, IdleSpec, WebSpec } from './params.ts';
import { hash2, hashString, smoothNoise, unit } from './prng.ts';

const DAY = 86400;

function growingVolume(spec: { volumeBytes: number; volumeGrowthBytesPerHour: number }, ctx: ProfileContext) {
  return (t: number): number =>
    spec.volumeBytes +
    (spec.volumeGrowthBytesPerHour * Math.max(0, t - (ctx.podStartedAt ?? ctx.startedAt))) / 3600;
}

export function webProfile(spec: WebSpec, ctx: ProfileContext): UsageProfile {
  const seed = hashString(ctx.seed);
  const cpuSeed = hash2(seed, 1);
  const memSeed = hash2(seed, 2);
  const burstSeed = hash2(seed, 3);
  const period = spec.periodSeconds;
  const peakAt = (spec.peakHour / 24) * period;
  // Caches and sessions fill after the traffic does: memory follows the same curve an hour (of a day) late.
  const memoryLag = period / 24;
  const shape = (t: number) => 0.5 + 0.5 * Math.cos((2 * Math.PI * (t - peakAt)) / period);
  return {
    kind: 'web',
    startupSeconds: spec.startupSeconds,
    sample(t) {
      const load = shape(t);
      // Slow wander (minutes) plus short bursts (seconds), so percentiles differ from the mean.
      const wander = smoothNoise(cpuSeed, t, 300);
      const burst = smoothNoise(burstSeed, t, 15);
      const cpu = spec.baseCpuCores + (spec.peakCpuCores - spec.baseCpuCores) * load;
      const mem = spec.baseMemoryBytes + (spec.peakMemoryBytes - spec.baseMemoryBytes) * shape(t - memoryLag);
      return {
        cpuCores: Math.max(0, cpu * (1 + spec.noise * (0.6 * wander + 0.4 * burst))),
        memoryBytes: Math.max(0, mem * (1 + 0.25 * spec.noise * smoothNoise(memSeed, t, 600))),
        gpuMemoryBytes: 0,
        gpuUtilPercent: 0,
      };
    },
    volumeBytes: growingVolume(spec, ctx),
  };
}

export function batchProfile(spec: BatchSpec, ctx: ProfileContext): UsageProfile {
  const seed = hashString(ctx.seed);
  const cpuSeed = hash2(seed, 1);
  const memSeed = hash2(seed, 2);
  const period = spec.periodSeconds;
  const phase = spec.phaseSeconds ?? Math.floor(unit(seed, 7) * period);
  return {
    kind: 'batch',
    startupSeconds: spec.startupSeconds,
    sample(t) {
      const x = (((t - phase) % period) + period) % period;
      const busy = x < spec.busySeconds;
      const cpu = busy ? spec.peakCpuCores : spec.baseCpuCores;
      // A job builds up its working set while it runs and frees it when it ends: the peak is at the end.
      const mem = busy
        ? spec.baseMemoryBytes + (spec.peakMemoryBytes - spec.baseMemoryBytes) * (x / spec.busySeconds)
        : spec.baseMemoryBytes;
      return {
        cpuCores: Math.max(0, cpu * (1 + spec.noise * smoothNoise(cpuSeed, t, 30))),
        memoryBytes: Math.max(0, mem * (1 + 0.25 * spec.noise * smoothNoise(memSeed, t, 120))),
        gpuMemoryBytes: 0,
        gpuUtilPercent: 0,
      };
    },
    volumeBytes: growingVolume(spec, ctx),
  };
}

export function idleProfile(spec: IdleSpec, ctx: ProfileContext): UsageProfile {
  const seed = hashString(ctx.seed);
  const cpuSeed = hash2(seed, 1);
  const memSeed = hash2(seed, 2);
  return {
    kind: 'idle',
    startupSeconds: spec.startupSeconds,
    sample(t) {
      return {
        cpuCores: Math.max(0, spec.cpuCores * (1 + spec.noise * smoothNoise(cpuSeed, t, 60))),
        memoryBytes: Math.max(
          0,
          spec.memoryBytes * (1 + 0.2 * spec.noise * smoothNoise(memSeed, t, DAY / 24)),
        ),
        gpuMemoryBytes: 0,
        gpuUtilPercent: 0,
      };
    },
    volumeBytes: () => spec.volumeBytes,
  };
}
