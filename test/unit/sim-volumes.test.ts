// The simulated volumes: statfs of ext4 as a kubelet reports it (capacity below the device for
// metadata, 5% reserved for root, an inode per 16 KiB), data kept per claim across pods, a
// download at the storage's speed, caches growing, logs rotating as a sawtooth, a full volume
// stopping writes and counted once, stats refreshed once a minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ext4, statfs } from '../../src/sim/volumes/statfs.ts';
import { SimVolumes, logsOnDisk, type PodVolume, type WritingPod } from '../../src/sim/volumes/store.ts';
import { NO_WRITES, parseWrites, type VolumeWrites } from '../../src/sim/volumes/writes.ts';

const Gi = 2 ** 30;
const Mi = 2 ** 20;

test('ext4 statfs of a 10 GiB volume: df says 9.8G, 5% reserved, 655360 inodes, 11 used', () => {
  const g = ext4(10 * Gi);
  const s = statfs(g, { bytes: 0, files: 0 }, 100);
  assert.equal(
    Math.round((s.capacityBytes / Gi) * 10) / 10,
    9.8,
    'metadata (inode tables, journal) not counted',
  );
  assert.ok(s.capacityBytes < 10 * Gi);
  assert.equal(s.inodes, 655360);
  assert.equal(s.inodesUsed, 11);
  assert.equal(s.usedBytes, 5 * 4096);
  assert.equal(
    s.capacityBytes - s.usedBytes - s.availableBytes,
    Math.floor(((10 * Gi) / 4096) * 0.05) * 4096,
  );
  assert.equal(s.at, 100);
  // Bigger devices: the overhead stays a small share (1.6% inode tables plus the journal).
  for (const size of [100 * Gi, 1024 * Gi]) {
    const c = ext4(size).capacityBytes / size;
    assert.ok(c > 0.97 && c < 0.99, `${size / Gi} GiB: ${c}`);
  }
  // A small one: the 32 MiB journal weighs more.
  assert.ok(ext4(1 * Gi).capacityBytes / Gi > 0.95);
});

test('statfs: used counts whole blocks, inodes grow with files, never above the file system', () => {
  const g = ext4(1 * Gi);
  const s = statfs(g, { bytes: 1, files: 1 }, 0);
  assert.equal(s.usedBytes, 5 * 4096 + 4096);
  assert.equal(s.inodesUsed, 12);
  const over = statfs(g, { bytes: 10 * Gi, files: 10_000_000 }, 0);
  assert.equal(over.usedBytes, over.capacityBytes);
  assert.equal(over.availableBytes, 0);
  assert.equal(over.inodesFree, 0);
});

test('logs rotate: a sawtooth between keep x size and (keep + 1) x size', () => {
  assert.deepEqual(logsOnDisk(0, 100, 3), { bytes: 0, files: 0 });
  assert.deepEqual(logsOnDisk(50, 100, 3), { bytes: 50, files: 1 });
  assert.deepEqual(logsOnDisk(250, 100, 3), { bytes: 250, files: 3 });
  assert.deepEqual(logsOnDisk(399, 100, 3), { bytes: 399, files: 4 });
  assert.deepEqual(logsOnDisk(400, 100, 3), { bytes: 300, files: 4 }, 'rotated: the oldest is gone');
  assert.deepEqual(logsOnDisk(1010, 100, 3), { bytes: 310, files: 4 });
});

function harness(sizeBytes: number) {
  const capacity = new Map<string, number>([['shop/cache', sizeBytes]]);
  const full: string[] = [];
  const volumes = new SimVolumes({
    capacityOf: (ns, claim) => capacity.get(`${ns}/${claim}`),
    throughputBytesPerSecond: 100 * Mi,
    onFull: (_ns, _claim, message) => full.push(message),
  });
  const pod = (
    writes: Partial<VolumeWrites> = {},
    volumeBytes: (t: number) => number = () => 0,
  ): WritingPod => {
    const pv: PodVolume = {
      claim: 'cache',
      volumeName: 'data',
      writes: { ...NO_WRITES, ...writes },
      downloadBytes: writes.downloadBytes ?? 0,
      downloadKey: 'org/model@abc',
    };
    return {
      namespace: 'shop',
      volumes: [pv],
      containers: new Map([['app', { name: 'app', profile: { kind: 'web', volumeBytes } }]]),
    };
  };
  return { volumes, capacity, full, pod };
}

test('a download writes at the storage speed; a second pod finds it and is done at once', () => {
  const { volumes, pod } = harness(20 * Gi);
  const first = pod({ downloadBytes: 5 * Gi });
  let t = 0;
  let steps = 0;
  while (!volumes.initStep(first, 10)) {
    t += 10;
    steps++;
    assert.ok(steps < 100);
  }
  // 5 GiB at 100 MiB/s: 51.2 s, so the sixth step of ten seconds finishes it.
  assert.equal(steps, 5);
  const v = volumes.get('shop', 'cache')!;
  assert.equal(volumes.content(v).bytes, 5 * Gi);
  assert.equal(volumes.content(v).files, 10, 'two shards of 4 GiB and 8 small files');
  const again = pod({ downloadBytes: 5 * Gi });
  assert.equal(volumes.initStep(again, 1), true, 'already on the volume: nothing to fetch');
  assert.equal(volumes.content(v).bytes, 5 * Gi);
  // A new revision is new bytes next to the old ones (the HF cache keeps both).
  const next = { ...pod({ downloadBytes: 5 * Gi }) };
  next.volumes![0]!.downloadKey = 'org/model@def';
  assert.equal(volumes.initStep(next, 10), false);
  assert.equal(volumes.content(v).bytes, 5 * Gi + 1000 * Mi);
  void t;
});

test('per claim, not per pod: a new pod continues from what the last one wrote', () => {
  const { volumes, pod } = harness(20 * Gi);
  const growth = (start: number) => (t: number) => 1 * Gi + ((t - start) * 360 * Mi) / 3600;
  const a = pod({}, growth(0));
  for (let t = 0; t <= 3600; t += 60) volumes.runStep(a, t, 60);
  const v = volumes.get('shop', 'cache')!;
  assert.ok(Math.abs(volumes.content(v).bytes - (1 * Gi + 360 * Mi)) < Mi);
  // The pod is replaced: its profile starts again from 1 GiB, the volume keeps 1.35 GiB and grows on.
  const b = pod({}, growth(3600));
  for (let t = 3600; t <= 7200; t += 60) volumes.runStep(b, t, 60);
  assert.ok(
    Math.abs(volumes.content(v).bytes - (1 * Gi + 720 * Mi)) < Mi,
    String(volumes.content(v).bytes / Mi),
  );
});

test('a cache fills the volume: writes stop at available 0, one VolumeFull, stats once a minute', () => {
  const { volumes, pod, full, capacity } = harness(1 * Gi);
  const p = pod({ cacheBytesPerHour: 2 * Gi, logBytesPerHour: 10 * Mi, logRotateBytes: 5 * Mi });
  const first = volumes.statOf('shop', 'cache', 0)!;
  volumes.runStep(p, 30, 30);
  assert.deepEqual(volumes.statOf('shop', 'cache', 30), first, 'cached: the kubelet refreshes once a minute');
  assert.ok(volumes.statOf('shop', 'cache', 60)!.usedBytes > first.usedBytes);
  for (let t = 60; t <= 3600; t += 60) volumes.runStep(p, t, 60);
  const s = volumes.statOf('shop', 'cache', 3600)!;
  assert.ok(s.availableBytes < 8192, `available ${s.availableBytes}`);
  assert.ok(s.usedBytes <= s.capacityBytes);
  assert.equal(full.length, 1, 'filling up is recorded once');
  assert.match(full[0]!, /shop\/cache is full \(no space left on a 1 GiB ext4 file system\)/);
  assert.equal(volumes.get('shop', 'cache')!.fullTotal, 1);
  // Expanded: room again, and the next fill counts again.
  capacity.set('shop/cache', 2 * Gi);
  for (let t = 3660; t <= 7200 + 3600; t += 60) volumes.runStep(p, t, 60);
  assert.equal(volumes.get('shop', 'cache')!.fullTotal, 2);
});

test('small cache files run out of inodes before bytes', () => {
  const { volumes, pod, full } = harness(1 * Gi);
  const p = pod({ cacheBytesPerHour: 512 * Mi, cacheFileBytes: 4096 });
  for (let t = 60; t <= 3600; t += 60) volumes.runStep(p, t, 60);
  const s = volumes.statOf('shop', 'cache', 3600)!;
  assert.equal(s.inodesFree, 0);
  assert.ok(s.availableBytes > 0);
  assert.match(full[0]!, /no inodes left/);
});

test('annotations: pod-wide and per volume; a bad field names the annotation', () => {
  const r = parseWrites({
    'sim.tailor.dev/volume': '{"cacheBytesPerHour": "1Gi"}',
    'sim.tailor.dev/volume.logs': '{"logBytesPerHour": "10Mi"}',
  });
  assert.ok(r.ok);
  assert.equal(r.byVolume('data').cacheBytesPerHour, Gi);
  assert.equal(r.byVolume('logs').cacheBytesPerHour, Gi, 'the per-volume one lies over the pod-wide one');
  assert.equal(r.byVolume('logs').logBytesPerHour, 10 * Mi);
  const bad = parseWrites({ 'sim.tailor.dev/volume.data': '{"cacheBytesPerHour": "1Gix"}' });
  assert.ok(!bad.ok);
  assert.match(bad.error, /^annotation sim\.tailor\.dev\/volume\.data: cacheBytesPerHour: /);
  const unknown = parseWrites({ 'sim.tailor.dev/volume': '{"growth": 1}' });
  assert.ok(!unknown.ok);
  assert.match(unknown.error, /"growth" is not a volume writes field; allowed: downloadBytes/);
});
