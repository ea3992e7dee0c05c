// The one place the usage profiles touch the file system: a trace library over the traces that ship
// with the package (data/traces, gzipped), or over a folder of plain CSV files the caller names.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../../devcluster/paths.ts';
import { createTraceLibrary, type TraceLibrary } from './traces.ts';

/** The traces shipped inside the package (licences in data/traces/README.md). */
export function shippedDataDir(): string {
  return join(packageRoot(), 'data', 'traces');
}

/**
 * A library over the shipped traces, or over `dataDir` (plain CSV files, e.g. a full copy of the
 * public data sets; relative to the package root); files are read on first use, once.
 */
export function loadTraceLibrary(dataDir: string | undefined = process.env.TAILOR_DATA_DIR): TraceLibrary {
  if (dataDir === undefined) {
    const dir = shippedDataDir();
    return createTraceLibrary((file) => gunzipSync(readFileSync(join(dir, `${file}.gz`))).toString('utf8'));
  }
  const dir = isAbsolute(dataDir) ? dataDir : resolve(packageRoot(), dataDir);
  return createTraceLibrary((file) => readFileSync(join(dir, file), 'utf8'));
}
