// The embedded usage history (SQLite): one-minute peaks per workload and container (not per pod, so
// 10k pods stay a few thousand series), OOM kills, and checkpoints of the recommender state so a
// restart resumes from the last checkpoint instead of re-reading the whole window.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TailorError } from '../errors.ts';
import { DEFAULT_CONFIG, type RecommenderConfig } from '../core/recommend/config.ts';
import {
  addOom,
  addSample,
  createState,
  recommend,
  type RecommenderState,
} from '../core/recommend/recommender.ts';
import type { Recommendation } from '../core/recommend/types.ts';
import { workloadKey, type WorkloadKind, type WorkloadRef } from './workloads.ts';

export type HistoryResource = 'cpu' | 'memory';

export type ResourceConfigs = Readonly<Record<HistoryResource, RecommenderConfig>>;

export const DEFAULT_RESOURCE_CONFIGS: ResourceConfigs = {
  cpu: DEFAULT_CONFIG.cpu,
  memory: DEFAULT_CONFIG.memory,
};

export const DEFAULT_RETENTION_SECONDS = 8 * 86_400;

export interface SeriesKey {
  readonly workload: WorkloadRef;
  readonly container: string;
}

/** One measurement of one pod's container, already mapped to its workload. Either value may be missing. */
export interface UsageRecord extends SeriesKey {
  readonly t: number;
  readonly cpuCores?: number | undefined;
  readonly memoryBytes?: number | undefined;
}

export interface OomRecord extends SeriesKey {
  readonly pod: string;
  readonly t: number;
  /** Memory in use when the container was killed (its limit, when nothing better is known). */
  readonly usageBytes: number;
}

export interface MinuteUsage {
  /** Start of the minute, seconds since the epoch. */
  readonly t: number;
  /** The highest CPU any pod of the workload used in the minute. */
  readonly cpuMax: number | undefined;
  /** CPU averaged over every sample of every pod in the minute. */
  readonly cpuMean: number | undefined;
  /** The highest working set of any pod in the minute. */
  readonly memoryMax: number | undefined;
}

export interface SeriesInfo extends SeriesKey {
  /** Exact times of the first and last sample (minutes only keep their start). */
  readonly firstSample: number;
  readonly lastSample: number;
}

export interface ResourceRecommendation {
  /** Undefined without a single sample of this resource: never recommend on missing data. */
  readonly recommendation: Recommendation | undefined;
  /** Minutes with a value fed to the recommender. */
  readonly samples: number;
}

export interface SeriesRecommendation extends Record<HistoryResource, ResourceRecommendation> {
  readonly info: SeriesInfo | undefined;
  readonly ooms: number;
}

export interface HistoryOptions {
  /** Minutes and OOM events older than this are pruned (default 8 days). */
  readonly retentionSeconds?: number;
  /** A minute is closed (and may be checkpointed) this long after it ends: metrics arrive late. */
  readonly closeAfterSeconds?: number;
  /** How often `maintain` checkpoints and prunes. */
  readonly maintainEverySeconds?: number;
}

const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  kind TEXT NOT NULL,
  owner_kind TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  container TEXT NOT NULL,
  first_t REAL NOT NULL,
  last_t REAL NOT NULL,
  UNIQUE (namespace, kind, owner_kind, name, container)
);
CREATE TABLE IF NOT EXISTS usage_minute (
  series INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  minute INTEGER NOT NULL,
  cpu_max REAL,
  cpu_sum REAL NOT NULL DEFAULT 0,
  cpu_n INTEGER NOT NULL DEFAULT 0,
  mem_max REAL,
  PRIMARY KEY (series, minute)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_minute_by_minute ON usage_minute (minute);
CREATE TABLE IF NOT EXISTS oom (
  series INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  pod TEXT NOT NULL,
  t REAL NOT NULL,
  usage REAL NOT NULL,
  PRIMARY KEY (series, pod, t)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS oom_by_t ON oom (t);
CREATE TABLE IF NOT EXISTS checkpoint (
  series INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  resource TEXT NOT NULL,
  through_minute INTEGER NOT NULL,
  config TEXT NOT NULL,
  state TEXT NOT NULL,
  saved_at REAL NOT NULL,
  PRIMARY KEY (series, resource)
) WITHOUT ROWID;
`;

interface SeriesRow {
  id: number;
  namespace: string;
  kind: string;
  owner_kind: string;
  name: string;
  container: string;
  first_t: number;
  last_t: number;
}

interface MinuteRow {
  minute: number;
  cpu_max: number | null;
  cpu_sum: number;
  cpu_n: number;
  mem_max: number | null;
}

interface OomRow {
  pod: string;
  t: number;
  usage: number;
}

interface CheckpointRow {
  through_minute: number;
  config: string;
  state: string;
}

/** Minute aggregates built in memory before one upsert each. */
interface Bucket {
  cpuMax: number | null;
  cpuSum: number;
  cpuN: number;
  memMax: number | null;
}

const RESOURCES: readonly HistoryResource[] = ['cpu', 'memory'];

export class UsageHistory {
  private readonly retentionSeconds: number;
  private readonly closeAfterSeconds: number;
  private readonly maintainEverySeconds: number;
  private lastMaintain = -Infinity;
  private readonly stmt: Statements;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    options: HistoryOptions,
  ) {
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    this.closeAfterSeconds = options.closeAfterSeconds ?? 120;
    this.maintainEverySeconds = options.maintainEverySeconds ?? 600;
    this.stmt = prepare(db);
  }

  /** Opens (creating if needed) the store at `path`, or an in-memory one for ':memory:'. */
  static open(path: string, options: HistoryOptions = {}): UsageHistory {
    let db: Database.Database;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      // WAL: the operator writes while `tailor recommend` reads; NORMAL is durable at checkpoints,
      // and a lost last second of samples costs nothing.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      db.exec(SCHEMA);
      db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)`).run(SCHEMA_VERSION);
    } catch (cause) {
      throw new TailorError(
        'InvalidInput',
        `cannot open the usage history at ${path}: ${(cause as Error).message}`,
        {
          cause,
          hint: 'pass --history with a writable path (a new file is created), or delete a corrupt file',
        },
      );
    }
    const version = db
      .prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'schema'`)
      .get()?.value;
    if (version !== SCHEMA_VERSION) {
      db.close();
      throw new TailorError(
        'InvalidInput',
        `the usage history at ${path} has schema ${version}, this Tailor reads ${SCHEMA_VERSION}`,
        {
          hint: 'use a newer Tailor, or point --history at a new file',
        },
      );
    }
    return new UsageHistory(db, path, options);
  }

  close(): void {
    this.db.close();
  }

  /** Adds samples in one transaction, folding them into minute rows per workload and container. */
  record(records: readonly UsageRecord[]): void {
    if (records.length === 0) return;
    const groups = new Map<
      string,
      { key: SeriesKey; first: number; last: number; minutes: Map<number, Bucket> }
    >();
    for (const r of records) {
      const cpu = finite(r.cpuCores);
      const mem = finite(r.memoryBytes);
      if (!Number.isFinite(r.t) || (cpu === null && mem === null)) continue;
      const k = seriesKeyString(r);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { key: r, first: r.t, last: r.t, minutes: new Map() }));
      g.first = Math.min(g.first, r.t);
      g.last = Math.max(g.last, r.t);
      const minute = Math.floor(r.t / 60);
      let b = g.minutes.get(minute);
      if (!b) g.minutes.set(minute, (b = { cpuMax: null, cpuSum: 0, cpuN: 0, memMax: null }));
      if (cpu !== null) {
        b.cpuMax = Math.max(b.cpuMax ?? cpu, cpu);
        b.cpuSum += cpu;
        b.cpuN++;
      }
      if (mem !== null) b.memMax = Math.max(b.memMax ?? mem, mem);
    }
    this.db.transaction(() => {
      for (const g of groups.values()) {
        const id = this.upsertSeries(g.key, g.first, g.last);
        let earliest = Infinity;
        for (const [minute, b] of g.minutes) {
          this.stmt.upsertMinute.run(id, minute, b.cpuMax, b.cpuSum, b.cpuN, b.memMax);
          earliest = Math.min(earliest, minute);
        }
        this.stmt.invalidate.run(id, earliest);
      }
    })();
  }

  /**
   * Records OOM kills (the same pod and time twice counts once); returns how many were new. With
   * `mergeWithinSeconds`, a kill that close to one already kept for the pod is the same kill seen
   * through another source (Prometheus steps are coarser than pod status times).
   */
  recordOoms(events: readonly OomRecord[], mergeWithinSeconds = 0): number {
    let added = 0;
    this.db.transaction(() => {
      for (const e of events) {
        if (!Number.isFinite(e.t) || !(e.usageBytes > 0)) continue;
        // An OOM kill is not a usage sample: it must not stretch the series' sample times.
        const id = this.stmt.ensureSeries.get(...seriesColumns(e), e.t, e.t)!.id;
        if (
          mergeWithinSeconds > 0 &&
          this.stmt.oomNear.get(id, e.pod, e.t - mergeWithinSeconds, e.t + mergeWithinSeconds)
        ) {
          continue;
        }
        const r = this.stmt.insertOom.run(id, e.pod, e.t, e.usageBytes);
        if (r.changes > 0) {
          added++;
          this.stmt.invalidate.run(id, Math.floor(e.t / 60));
        }
      }
    })();
    return added;
  }

  series(): SeriesInfo[] {
    return this.stmt.allSeries.all().map(toInfo);
  }

  info(key: SeriesKey): SeriesInfo | undefined {
    const row = this.findRow(key);
    return row ? toInfo(row) : undefined;
  }

  /** The minute rows of a series from `since` (seconds since the epoch) on, oldest first. */
  minutes(key: SeriesKey, since = -Infinity): MinuteUsage[] {
    const row = this.findRow(key);
    if (!row) return [];
    const from = Number.isFinite(since) ? Math.floor(since / 60) - 1 : Number.MIN_SAFE_INTEGER;
    return this.stmt.minutesAfter.all(row.id, from, Number.MAX_SAFE_INTEGER).map((m) => ({
      t: m.minute * 60,
      cpuMax: m.cpu_max ?? undefined,
      cpuMean: m.cpu_n > 0 ? m.cpu_sum / m.cpu_n : undefined,
      memoryMax: m.mem_max ?? undefined,
    }));
  }

  ooms(key: SeriesKey, since = -Infinity): OomRecord[] {
    const row = this.findRow(key);
    if (!row) return [];
    return this.stmt.oomsBetween
      .all(row.id, Number.isFinite(since) ? since : -Number.MAX_VALUE, Number.MAX_VALUE)
      .map((o) => ({ ...key, pod: o.pod, t: o.t, usageBytes: o.usage }));
  }

  /**
   * The recommender state of a series for one resource, as of every minute stored: the checkpoint
   * (when it was made with this config) plus the minutes and OOM kills after it.
   */
  state(
    key: SeriesKey,
    resource: HistoryResource,
    config: RecommenderConfig = DEFAULT_RESOURCE_CONFIGS[resource],
  ): RecommenderState {
    const row = this.findRow(key);
    if (!row) return createState(config);
    const { state, through } = this.loadCheckpoint(row.id, resource, config);
    this.fold(row.id, resource, state, config, through, Number.MAX_SAFE_INTEGER);
    return state;
  }

  recommend(
    key: SeriesKey,
    now: number,
    configs: ResourceConfigs = DEFAULT_RESOURCE_CONFIGS,
  ): SeriesRecommendation {
    const row = this.findRow(key);
    const per = (resource: HistoryResource): ResourceRecommendation => {
      const config = configs[resource];
      const state = this.state(key, resource, config);
      return {
        recommendation: state.sampleCount > 0 ? recommend(state, now, config) : undefined,
        samples: state.sampleCount,
      };
    };
    return {
      info: row ? toInfo(row) : undefined,
      ooms: row ? this.stmt.countOoms.get(row.id, now - this.retentionSeconds)!.n : 0,
      cpu: per('cpu'),
      memory: per('memory'),
    };
  }

  /**
   * Folds every closed minute into the stored state of each series, so the next start reads only
   * what came after. `configsFor` gives a series its own configs (a policy's tuning).
   */
  checkpoint(
    now: number,
    configsFor: (key: SeriesKey) => ResourceConfigs = () => DEFAULT_RESOURCE_CONFIGS,
  ): number {
    const closed = Math.floor((now - this.closeAfterSeconds) / 60) - 1;
    let written = 0;
    this.db.transaction(() => {
      for (const row of this.stmt.allSeries.all()) {
        const configs = configsFor(toInfo(row));
        for (const resource of RESOURCES) {
          const config = configs[resource];
          const { state, through } = this.loadCheckpoint(row.id, resource, config);
          if (through >= closed) continue;
          this.fold(row.id, resource, state, config, through, closed);
          this.stmt.writeCheckpoint.run(
            row.id,
            resource,
            closed,
            fingerprint(config),
            JSON.stringify(state),
            now,
          );
          written++;
        }
      }
    })();
    return written;
  }

  /** Drops minutes and OOM kills older than the retention window, and series with nothing left. */
  prune(now: number): { minutes: number; ooms: number; series: number } {
    const cutoff = now - this.retentionSeconds;
    return this.db.transaction(() => {
      const minutes = this.stmt.pruneMinutes.run(Math.floor(cutoff / 60)).changes;
      const ooms = this.stmt.pruneOoms.run(cutoff).changes;
      const series = this.stmt.pruneSeries.run(cutoff).changes;
      return { minutes, ooms, series };
    })();
  }

  /** Checkpoints and prunes when `maintainEverySeconds` have passed since the last time; cheap otherwise. */
  maintain(now: number, configsFor?: (key: SeriesKey) => ResourceConfigs): boolean {
    if (now - this.lastMaintain < this.maintainEverySeconds) return false;
    this.lastMaintain = now;
    this.prune(now);
    this.checkpoint(now, configsFor);
    return true;
  }

  private upsertSeries(key: SeriesKey, first: number, last: number): number {
    const row = this.stmt.upsertSeries.get(...seriesColumns(key), first, last);
    if (!row) throw new TailorError('Internal', `history: no id returned for ${seriesKeyString(key)}`);
    return row.id;
  }

  private findRow(key: SeriesKey): SeriesRow | undefined {
    return this.stmt.findSeries.get(...seriesColumns(key));
  }

  private loadCheckpoint(
    series: number,
    resource: HistoryResource,
    config: RecommenderConfig,
  ): { state: RecommenderState; through: number } {
    const row = this.stmt.readCheckpoint.get(series, resource);
    if (row && row.config === fingerprint(config)) {
      const state = parseState(row.state);
      if (state) return { state, through: row.through_minute };
    }
    // No checkpoint, another config, or an unreadable one: rebuild from the raw minutes kept.
    return { state: createState(config), through: Number.MIN_SAFE_INTEGER };
  }

  private fold(
    series: number,
    resource: HistoryResource,
    state: RecommenderState,
    config: RecommenderConfig,
    afterMinute: number,
    throughMinute: number,
  ): void {
    for (const m of this.stmt.minutesAfter.iterate(series, afterMinute, throughMinute)) {
      const value = resource === 'cpu' ? m.cpu_max : m.mem_max;
      // CPU is fed the minute's busiest pod, not the mean: every replica gets the same request, so
      // sizing for the mean would under-serve the busier ones.
      if (value !== null) addSample(state, { t: m.minute * 60, value }, config);
    }
    if (resource !== 'memory') return;
    const from = afterMinute === Number.MIN_SAFE_INTEGER ? -Number.MAX_VALUE : (afterMinute + 1) * 60;
    const to = throughMinute === Number.MAX_SAFE_INTEGER ? Number.MAX_VALUE : (throughMinute + 1) * 60;
    for (const o of this.stmt.oomsBetween.iterate(series, from, to))
      addOom(state, { t: o.t, usage: o.usage }, config);
  }
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  return {
    upsertSeries: db.prepare<[string, string, string, string, string, number, number], { id: number }>(
      `INSERT INTO series (namespace, kind, owner_kind, name, container, first_t, last_t) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, kind, owner_kind, name, container)
       DO UPDATE SET first_t = min(first_t, excluded.first_t), last_t = max(last_t, excluded.last_t)
       RETURNING id`,
    ),
    ensureSeries: db.prepare<[string, string, string, string, string, number, number], { id: number }>(
      `INSERT INTO series (namespace, kind, owner_kind, name, container, first_t, last_t) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, kind, owner_kind, name, container) DO UPDATE SET last_t = last_t
       RETURNING id`,
    ),
    oomNear: db.prepare<[number, string, number, number], { one: number }>(
      `SELECT 1 AS one FROM oom WHERE series = ? AND pod = ? AND t > ? AND t < ? LIMIT 1`,
    ),
    findSeries: db.prepare<[string, string, string, string, string], SeriesRow>(
      `SELECT * FROM series WHERE namespace = ? AND kind = ? AND owner_kind = ? AND name = ? AND container = ?`,
    ),
    allSeries: db.prepare<[], SeriesRow>(
      `SELECT * FROM series ORDER BY namespace, kind, owner_kind, name, container`,
    ),
    // SQLite's two-argument max() is NULL when either side is; coalesce keeps the known value.
    upsertMinute: db.prepare<[number, number, number | null, number, number, number | null]>(
      `INSERT INTO usage_minute (series, minute, cpu_max, cpu_sum, cpu_n, mem_max) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (series, minute) DO UPDATE SET
         cpu_max = max(coalesce(cpu_max, excluded.cpu_max), coalesce(excluded.cpu_max, cpu_max)),
         cpu_sum = cpu_sum + excluded.cpu_sum,
         cpu_n = cpu_n + excluded.cpu_n,
         mem_max = max(coalesce(mem_max, excluded.mem_max), coalesce(excluded.mem_max, mem_max))`,
    ),
    minutesAfter: db.prepare<[number, number, number], MinuteRow>(
      `SELECT minute, cpu_max, cpu_sum, cpu_n, mem_max FROM usage_minute
       WHERE series = ? AND minute > ? AND minute <= ? ORDER BY minute`,
    ),
    insertOom: db.prepare<[number, string, number, number]>(
      `INSERT OR IGNORE INTO oom (series, pod, t, usage) VALUES (?, ?, ?, ?)`,
    ),
    oomsBetween: db.prepare<[number, number, number], OomRow>(
      `SELECT pod, t, usage FROM oom WHERE series = ? AND t >= ? AND t < ? ORDER BY t`,
    ),
    countOoms: db.prepare<[number, number], { n: number }>(
      `SELECT count(*) AS n FROM oom WHERE series = ? AND t >= ?`,
    ),
    readCheckpoint: db.prepare<[number, string], CheckpointRow>(
      `SELECT through_minute, config, state FROM checkpoint WHERE series = ? AND resource = ?`,
    ),
    writeCheckpoint: db.prepare<[number, string, number, string, string, number]>(
      `INSERT INTO checkpoint (series, resource, through_minute, config, state, saved_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (series, resource) DO UPDATE SET through_minute = excluded.through_minute,
         config = excluded.config, state = excluded.state, saved_at = excluded.saved_at`,
    ),
    // Late data for a minute a checkpoint already folded: drop it, the next read rebuilds exactly.
    invalidate: db.prepare<[number, number]>(
      `DELETE FROM checkpoint WHERE series = ? AND through_minute >= ?`,
    ),
    pruneMinutes: db.prepare<[number]>(`DELETE FROM usage_minute WHERE minute < ?`),
    pruneOoms: db.prepare<[number]>(`DELETE FROM oom WHERE t < ?`),
    pruneSeries: db.prepare<[number]>(`DELETE FROM series WHERE last_t < ?`),
  };
}

function seriesColumns(key: SeriesKey): [string, string, string, string, string] {
  const w = key.workload;
  return [w.namespace, w.kind, w.ownerKind ?? '', w.name, key.container];
}

function seriesKeyString(key: SeriesKey): string {
  return `${workloadKey(key.workload)}/${key.container}`;
}

function toInfo(row: SeriesRow): SeriesInfo {
  const workload: WorkloadRef =
    row.kind === 'Custom'
      ? { namespace: row.namespace, kind: 'Custom', name: row.name, ownerKind: row.owner_kind }
      : { namespace: row.namespace, kind: row.kind as WorkloadKind, name: row.name };
  return { workload, container: row.container, firstSample: row.first_t, lastSample: row.last_t };
}

function finite(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) && v >= 0 ? v : null;
}

/** A checkpoint is only valid for the config it was folded with (Infinity prints as null; fine here). */
function fingerprint(config: RecommenderConfig): string {
  return JSON.stringify(config);
}

function parseState(text: string): RecommenderState | undefined {
  try {
    const s = JSON.parse(text) as RecommenderState;
    return s.version === 1 && Array.isArray(s.slow?.weights) && Array.isArray(s.peaks?.recent)
      ? s
      : undefined;
  } catch {
    return undefined;
  }
}
