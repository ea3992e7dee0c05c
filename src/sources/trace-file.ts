// Reads a recorded usage series (CSV with `timestamp`, `value` and a pod id column, as in the Alibaba
// GenTD26 files) into one time-ordered series per pod, for replays and simulated pods.
import { readFile } from 'node:fs/promises';
import { TailorError } from '../errors.ts';

export interface TraceSample {
  /** Seconds since the epoch (the trace's own clock, possibly shifted by the publisher). */
  readonly t: number;
  readonly value: number;
}

export interface PodSeries {
  readonly pod: string;
  /** Ascending by time; equal timestamps keep file order. */
  readonly samples: readonly TraceSample[];
}

export interface UsageTrace {
  readonly file: string;
  readonly pods: readonly PodSeries[];
  /** Rows with an empty pod id: they cannot be attributed to a pod, so they are counted, not used. */
  readonly rowsWithoutPod: number;
}

const TIME_COLUMNS = ['timestamp_anon', 'timestamp', 'time', 't'];
const POD_COLUMNS = ['container_ip', 'pod', 'pod_id', 'container', 'id'];
const VALUE_COLUMNS = ['value'];

export async function readUsageTrace(file: string): Promise<UsageTrace> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TailorError('InvalidInput', `cannot read the trace file ${file}`, {
      cause,
      hint: 'give the path of a CSV with a header such as `timestamp_anon,value,container_ip`',
    });
  }
  return parseUsageTrace(text, file);
}

/** `file` only names the input in error messages. */
export function parseUsageTrace(text: string, file: string): UsageTrace {
  const lines = text.split('\n');
  const header = splitRow((lines[0] ?? '').replace(/\r$/, ''), file, 1);
  const find = (names: string[], what: string): number => {
    const i = header.findIndex((h) => names.includes(h.trim().toLowerCase()));
    if (i < 0) {
      throw new TailorError(
        'InvalidInput',
        `${file}:1: the header has no ${what} column (found: ${header.join(', ')})`,
        {
          hint: `name it one of ${names.join(', ')}`,
        },
      );
    }
    return i;
  };
  const ti = find(TIME_COLUMNS, 'timestamp');
  const vi = find(VALUE_COLUMNS, 'value');
  const pi = find(POD_COLUMNS, 'pod id');
  const width = header.length;

  const byPod = new Map<string, TraceSample[]>();
  let rowsWithoutPod = 0;
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const cells = splitRow(line, file, n + 1);
    const where = (col: number) => `${file}:${n + 1}:${columnOffset(cells, col)} (column ${header[col]})`;
    if (cells.length !== width) {
      throw new TailorError(
        'InvalidInput',
        `${file}:${n + 1}: expected ${width} fields, found ${cells.length}`,
        {
          hint: 'every row needs the same columns as the header, separated by commas',
        },
      );
    }
    const t = parseNumber(cells[ti]!);
    if (t === undefined) {
      throw new TailorError('InvalidInput', `${where(ti)}: "${cells[ti]}" is not a timestamp in seconds`, {
        hint: 'write timestamps as seconds since the epoch, e.g. 1662858720',
      });
    }
    const value = parseNumber(cells[vi]!);
    if (value === undefined) {
      throw new TailorError('InvalidInput', `${where(vi)}: "${cells[vi]}" is not a finite number`, {
        hint: 'write usage as a plain number (bytes, cores or a fraction of the limit)',
      });
    }
    const pod = cells[pi]!.trim();
    if (pod === '') {
      rowsWithoutPod++;
      continue;
    }
    let series = byPod.get(pod);
    if (!series) byPod.set(pod, (series = []));
    series.push({ t, value });
  }
  if (byPod.size === 0) {
    throw new TailorError('InvalidInput', `${file}: no usage rows with a pod id`, {
      hint: 'the file needs a header line and at least one row per pod',
    });
  }
  const pods: PodSeries[] = [];
  for (const [pod, samples] of byPod) {
    // Stable sort: the files are mostly in time order, and equal timestamps keep their order.
    samples.sort((a, b) => a.t - b.t);
    pods.push({ pod, samples });
  }
  return { file, pods, rowsWithoutPod };
}

function splitRow(line: string, file: string, lineNo: number): string[] {
  // The traces have no quoted fields; a quote means a format this reader does not know.
  const quote = line.indexOf('"');
  if (quote >= 0) {
    throw new TailorError(
      'InvalidInput',
      `${file}:${lineNo}:${quote + 1}: quoted CSV fields are not supported`,
      {
        hint: 'write the trace without quotes: timestamp,value,pod',
      },
    );
  }
  return line.split(',');
}

function parseNumber(cell: string): number | undefined {
  const s = cell.trim();
  if (s === '') return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** 1-based character column where field `col` starts, for editor-friendly positions. */
function columnOffset(cells: string[], col: number): number {
  let offset = 1;
  for (let i = 0; i < col; i++) offset += cells[i]!.length + 1;
  return offset;
}
