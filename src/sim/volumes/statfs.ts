// What statfs(2) says of an ext4 file system made by mke2fs's defaults on a block device of a
// given size, as the kubelet reads it for its volume stats (pkg/volume/util/fs: capacity =
// f_blocks, available = f_bavail, used = f_blocks - f_bfree, inodes = f_files, inodes free = f_ffree).
// Pure: sizes in bytes, time an argument.

const BLOCK = 4096;
/** mke2fs.conf's inode_ratio: one inode per 16 KiB. */
const BYTES_PER_INODE = 16 * 1024;
const INODE_SIZE = 256;
/** Blocks per group (one block bitmap covers 32768 blocks of 4 KiB). */
const BLOCKS_PER_GROUP = 32768;
/** The reserved blocks percentage (-m 5): only root may write them. */
export const RESERVED_FRACTION = 0.05;
/** Inodes 1..10 are reserved, 11 is lost+found. */
const FIRST_INO = 11;

export interface Ext4Geometry {
  /** The block device (the PV's size). */
  sizeBytes: number;
  /** f_blocks x block size: the device less the metadata ext4 does not count (inode tables, journal, bitmaps, descriptors). */
  capacityBytes: number;
  /** f_bfree - f_bavail: the 5% of blocks kept for root. */
  reservedBytes: number;
  inodes: number;
  /** Used on a new file system: the root directory and lost+found. */
  emptyUsedBytes: number;
  emptyInodesUsed: number;
}

/** ext2fs_default_journal_size() in blocks, by the file system's block count (e2fsprogs 1.47). */
function journalBlocks(blocks: number): number {
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

export function ext4(sizeBytes: number): Ext4Geometry {
  const blocks = Math.floor(Math.max(0, sizeBytes) / BLOCK);
  const groups = Math.max(1, Math.ceil(blocks / BLOCKS_PER_GROUP));
  const inodes = Math.floor(sizeBytes / BYTES_PER_INODE / 8) * 8;
  const inodeTableBlocks = Math.ceil((inodes * INODE_SIZE) / BLOCK);
  // Per group: a block bitmap and an inode bitmap (flex_bg packs them, the count is the same);
  // descriptors of 64 bytes each, plus the reserved GDT blocks kept for online resize.
  const descriptorBlocks = Math.ceil((groups * 64) / BLOCK) + Math.min(1024, Math.ceil(groups / 16) + 1);
  const overhead = inodeTableBlocks + journalBlocks(blocks) + 2 * groups + descriptorBlocks + 1;
  const fBlocks = Math.max(0, blocks - overhead);
  return {
    sizeBytes,
    capacityBytes: fBlocks * BLOCK,
    reservedBytes: Math.floor(blocks * RESERVED_FRACTION) * BLOCK,
    inodes,
    // The root directory's block and lost+found's four.
    emptyUsedBytes: 5 * BLOCK,
    emptyInodesUsed: FIRST_INO,
  };
}

/** What has been written to a volume: bytes of file data, and how many files hold them. */
export interface VolumeContent {
  bytes: number;
  files: number;
}

export interface VolumeStat {
  /** When the reading was taken (simulated epoch seconds). */
  at: number;
  usedBytes: number;
  capacityBytes: number;
  availableBytes: number;
  inodes: number;
  inodesUsed: number;
  inodesFree: number;
}

/** Bytes of file data a non-root writer can still add: nothing once available reaches 0. */
export function writableBytes(g: Ext4Geometry, content: VolumeContent): number {
  return Math.max(0, g.capacityBytes - g.reservedBytes - usedBytesOf(g, content));
}

/** Files a writer can still create. */
export function creatableFiles(g: Ext4Geometry, content: VolumeContent): number {
  return Math.max(0, g.inodes - g.emptyInodesUsed - content.files);
}

function usedBytesOf(g: Ext4Geometry, c: VolumeContent): number {
  // Each file takes whole blocks: on average half a block more than its bytes.
  return g.emptyUsedBytes + Math.ceil(c.bytes / BLOCK) * BLOCK + Math.floor(c.files / 2) * BLOCK;
}

/** statfs of the file system holding `content`, as the kubelet reports it. */
export function statfs(g: Ext4Geometry, content: VolumeContent, at: number): VolumeStat {
  const used = Math.min(g.capacityBytes, usedBytesOf(g, content));
  const inodesUsed = Math.min(g.inodes, g.emptyInodesUsed + content.files);
  return {
    at,
    usedBytes: used,
    capacityBytes: g.capacityBytes,
    availableBytes: Math.max(0, g.capacityBytes - used - g.reservedBytes),
    inodes: g.inodes,
    inodesUsed,
    inodesFree: g.inodes - inodesUsed,
  };
}
