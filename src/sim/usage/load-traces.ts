// The one place the usage profiles touch the file system: a trace library reading from a data folder.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../../devcluster/paths.ts';
import { createTraceLibrary, TRACE_FILES, type TraceLibrary } from './traces.ts';

export const FALLBACK_DATA_DIR = '/work/shared/data';

/** `../shared/data` beside the checkout, else /work/shared/data; relative dirs are taken from the package root. */
export function defaultDataDir(): string {
  const root = packageRoot();
  const beside = resolve(root, '..', 'shared', 'data');
  return existsSync(join(beside, TRACE_FILES['azure-conv'])) ? beside : FALLBACK_DATA_DIR;
}

/** A library over `dataDir`; files are read on first use, once. */
export function loadTraceLibrary(dataDir?: string): TraceLibrary {
  const dir =
    dataDir === undefined
      ? defaultDataDir()
      : isAbsolute(dataDir)
        ? dataDir
        : resolve(packageRoot(), dataDir);
  return createTraceLibrary((file) => readFileSync(join(dir, file), 'utf8'));
}
