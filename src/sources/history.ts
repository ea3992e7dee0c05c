// The embedded usage history (SQLite): one row per minute, workload and container (not per pod, so
// 10k pods stay a few thousand series) with the minute's peaks and the spread of its CPU samples,
// OOM kills, and checkpoints of the recommender state so a restart resumes from the last
// checkpoint instead of re-reading the whole window. A series may be read through several views
// (recommender configs and a history window: one per SizingPolicy tuning); each view has its own
// checkpoint, a few per series at most.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TailorError } from '../errors.ts';
import { DEFAULT_CONFIG, type RecommenderConfig } from '../core/recommend/config.ts';
import { minuteSpread } from '../core/recommend/minute-spread.ts';
import {
  addOom,
  addSample,
  addSpread,
  createState,
  recommend,
  type RecommenderState,
} from '../core/recommend/recommender.ts';
import type { Recommendation } from '../core/recommend/types.ts';
import type { MinuteSnapshot, SeriesSnapshot, StateSnapshot } from '../core/checkpoint/codec.ts';
import { workloadKey, type WorkloadKind, type WorkloadRef } from './workloads.ts';
import { FleetRises, type RiseSample } from './fleet-rises.ts';

export type HistoryResource = 'cpu' | 'memory';

export type ResourceConfigs = Readonly<Record<HistoryResource, RecommenderConfig>>;

export const DEFAULT_RESOURCE_CONFIGS: ResourceConfigs = {
  cpu: DEFAULT_CONFIG.cpu,
  memory: DEFAULT_CONFIG.memory,
};

export const DEFAULT_RETENTION_SECONDS = 8 * 86_400;

/**
 * How a series is read: the recommender configs, and how far back minutes and OOM kills count
 * (undefined: everything stored).
 */
export interface HistoryView {
  readonly configs: ResourceConfigs;
  readonly windowSeconds?: number | undefined;
}

/** Checkpoints kept per series and resource: the views in use, and a few left over by a change of tuning. */
export const MAX_CHECKPOINTS_PER_SERIES = 4;

/** A view not read for this long is no longer checkpointed by `checkpoint` (a policy changed or went). */
const VIEW_IDLE_SECONDS = 3600;

/** The longest history a store keeps, whatever windows ask for. */
const MAX_RETENTION_SECONDS = 400 * 86_400;

/**
 * A series kept longer than the store's retention (a policy's window) stays so while the policy asks
 * at least this often; then it falls back to the store's retention. After a restart every such
 * request gets this long again before it lapses, so a stopped operator loses nothing.
 */
export const RETENTION_LEASE_SECONDS = 86_400;

/** Distinct longer retentions kept per series (one per window asking): the most recently asked. */
const MAX_RETENTIONS_PER_SERIES = 4;

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
  /** How long a write waits for another connection's lock before it fails (SQLITE_BUSY). Default 5 s. */
  readonly busyTimeoutMs?: number;
}

const SCHEMA_VERSION = '3';

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
  cpu_sq REAL,
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
CREATE TABLE IF NOT EXISTS retention (
  series INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  seconds REAL NOT NULL,
  renewed_at REAL NOT NULL,
  PRIMARY KEY (series, seconds)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoint (
  series INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  resource TEXT NOT NULL,
  config TEXT NOT NULL,
  from_minute INTEGER NOT NULL,
  through_minute INTEGER NOT NULL,
  state TEXT NOT NULL,
  saved_at REAL NOT NULL,
  PRIMARY KEY (series, resource, config)
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
  cpu_sq: number | null;
  mem_max: number | null;
}

interface OomRow {
  pod: string;
  t: number;
  usage: number;
}

interface CheckpointRow {
  from_minute: number;
  through_minute: number;
  state: string;
}

/** Minute aggregates built in memory before one upsert each. */
interface Bucket {
  cpuMax: number | null;
  cpuSum: number;
  cpuN: number;
  cpuSq: number;
  memMax: number | null;
}

const RESOURCES: readonly HistoryResource[] = ['cpu', 'memory'];

export class UsageHistory {
  private retentionSeconds: number;
  /** Per series id: the views read recently, by fingerprint, so `checkpoint` keeps them current. */
  private readonly views = new Map<number, Map<string, { view: HistoryView; readAt: number }>>();
  private readonly closeAfterSeconds: number;
  private readonly maintainEverySeconds: number;
  private lastMaintain = -Infinity;
  /** The first prune of this process: retention requests made before it get a lease from here. */
  private firstPrune: number | undefined;
  private readonly stmt: Statements;
  /** Memory rises per namespace, read by the memory recommender's fleet signal. */
  private readonly fleet = new FleetRises(DEFAULT_RESOURCE_CONFIGS.memory.fleetSurge);

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
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('foreign_keys = ON');
      db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      const was = db
        .prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'schema'`)
        .get()?.value;
      if (was === '1' || was === '2') {
        // Schema 1 kept one checkpoint per series and resource; schema 2 no CPU sum of squares, so
        // its states were folded from each minute's busiest sample alone (minute-spread.ts).
        // Checkpoints are a cache: drop them, and the states are folded again from the minutes.
        // Minutes stored before keep a NULL sum of squares and are read as their busiest sample.
        db.transaction(() => {
          db.exec('DROP TABLE IF EXISTS checkpoint');
          const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(usage_minute)`).all();
          if (columns.length > 0 && !columns.some((c) => c.name === 'cpu_sq'))
            db.exec('ALTER TABLE usage_minute ADD COLUMN cpu_sq REAL');
          db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema'`).run(SCHEMA_VERSION);
        })();
      }
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

  /** The store's retention: every series keeps at least this much. */
  get retention(): number {
    return this.retentionSeconds;
  }

  /**
   * Keeps one series (its minutes and OOM kills) for `seconds`, a policy's window, when that is
   * longer than the store's retention; others keep the retention. A request lasts
   * RETENTION_LEASE_SECONDS unless asked again, so a deleted policy or a shorter window gives the
   * space back. Cheap when nothing changes: it writes at most once per 1/16 of the lease.
   */
  retainSeries(key: SeriesKey, seconds: number, now: number): void {
    if (!Number.isFinite(seconds) || seconds <= this.retentionSeconds) return;
    const keep = Math.min(seconds, MAX_RETENTION_SECONDS);
    const row = this.findRow(key);
    if (!row) return;
    const was = this.stmt.readRetention.get(row.id, keep);
    if (was && now - was.renewed_at < RETENTION_LEASE_SECONDS / 16) return;
    this.db.transaction(() => {
      this.stmt.writeRetention.run(row.id, keep, now);
      this.stmt.capRetentions.run(row.id, row.id, MAX_RETENTIONS_PER_SERIES);
    })();
  }

  /** How long a series is kept: the store's retention, or longer while a policy asks for it. */
  retentionOf(key: SeriesKey): number {
    const row = this.findRow(key);
    return row ? this.seriesRetention(row.id) : this.retentionSeconds;
  }

  private seriesRetention(series: number): number {
    return Math.max(this.retentionSeconds, this.stmt.seriesRetention.get(series)?.seconds ?? 0);
  }

  /** Adds samples in one transaction, folding them into minute rows per workload and container. */
  record(records: readonly UsageRecord[]): void {
    if (records.length === 0) return;
    const groups = new Map<
      string,
      { key: SeriesKey; first: number; last: number; minutes: Map<number, Bucket> }
    >();
    const rises: RiseSample[] = [];
    for (const r of records) {
      const cpu = finite(r.cpuCores);
      const mem = finite(r.memoryBytes);
      if (!Number.isFinite(r.t) || (cpu === null && mem === null)) continue;
      const k = seriesKeyString(r);
      if (mem !== null) rises.push({ namespace: r.workload.namespace, series: k, t: r.t, memoryBytes: mem });
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { key: r, first: r.t, last: r.t, minutes: new Map() }));
      g.first = Math.min(g.first, r.t);
      g.last = Math.max(g.last, r.t);
      const minute = Math.floor(r.t / 60);
      let b = g.minutes.get(minute);
      if (!b) g.minutes.set(minute, (b = { cpuMax: null, cpuSum: 0, cpuN: 0, cpuSq: 0, memMax: null }));
      if (cpu !== null) {
        b.cpuMax = Math.max(b.cpuMax ?? cpu, cpu);
        b.cpuSum += cpu;
        b.cpuN++;
        b.cpuSq += cpu * cpu;
      }
      if (mem !== null) b.memMax = Math.max(b.memMax ?? mem, mem);
    }
    this.db.transaction(() => {
      for (const g of groups.values()) {
        const id = this.upsertSeries(g.key, g.first, g.last);
        let earliest = Infinity;
        for (const [minute, b] of g.minutes) {
          this.stmt.upsertMinute.run(id, minute, b.cpuMax, b.cpuSum, b.cpuN, b.cpuSq, b.memMax);
          earliest = Math.min(earliest, minute);
        }
        this.stmt.invalidate.run(id, earliest);
      }
    })();
    // After the write: a failed transaction leaves the fleet signal as it was too.
    this.fleet.observe(rises);
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
   * The recommender state of a series for one resource, as of every minute stored (with a window:
   * every minute of the window at `now`): the checkpoint made with this config and window, plus the
   * minutes and OOM kills after it.
   */
  state(
    key: SeriesKey,
    resource: HistoryResource,
    config: RecommenderConfig = DEFAULT_RESOURCE_CONFIGS[resource],
    now?: number,
    windowSeconds?: number,
  ): RecommenderState {
    const row = this.findRow(key);
    if (!row) return createState(config);
    return this.current(row.id, resource, config, windowOf(windowSeconds, now), now);
  }

  /**
   * The recommendation of a series. With `windowSeconds`, minutes and OOM kills older than
   * `now - windowSeconds` do not count. A windowed state is rebuilt from the raw minutes when the
   * window has moved past the start of its checkpoint; so that this happens at most once every
   * 1/16 of the window (at most 6 h; staggered across series), a rebuild starts at a boundary of
   * that grid inside the window: up to that much of the window's oldest end may be left out, never
   * anything older than the window.
   */
  recommend(
    key: SeriesKey,
    now: number,
    configs: ResourceConfigs = DEFAULT_RESOURCE_CONFIGS,
    windowSeconds?: number,
  ): SeriesRecommendation {
    const row = this.findRow(key);
    const window = windowOf(windowSeconds, now);
    if (row) this.remember(row.id, { configs, windowSeconds: window?.seconds }, now);
    const per = (resource: HistoryResource): ResourceRecommendation => {
      const config = configs[resource];
      const state = row ? this.current(row.id, resource, config, window, now) : createState(config);
      // Memory also hears the workloads of its namespace rising together (fleet-rises.ts).
      const fleet =
        resource === 'memory' ? this.fleet.viewOf(key.workload.namespace, seriesKeyString(key)) : undefined;
      // No sample yet but an OOM kill (a container killed before its first scrape): the OOM floor
      // alone, so the kill is answered at once; with neither, no recommendation.
      const rec = recommend(state, now, config, fleet);
      return {
        recommendation: state.sampleCount > 0 || rec.reason === 'OomFloor' ? rec : undefined,
        samples: state.sampleCount,
      };
    };
    const retention = row ? this.seriesRetention(row.id) : this.retentionSeconds;
    const oomsSince = Math.max(now - retention, window ? now - window.seconds : -Infinity);
    return {
      info: row ? toInfo(row) : undefined,
      ooms: row ? this.stmt.countOoms.get(row.id, oomsSince)!.n : 0,
      cpu: per('cpu'),
      memory: per('memory'),
    };
  }

  /**
   * Folds every closed minute into the stored state of each series, so the next start reads only
   * what came after. `configsFor` gives a series its views (a policy's tuning and window); without
   * it, each series gets the views read in the last hour, or the defaults when none was.
   */
  checkpoint(now: number, configsFor?: (key: SeriesKey) => ResourceConfigs | readonly HistoryView[]): number {
    const closed = this.closedMinute(now);
    let written = 0;
    this.db.transaction(() => {
      const seen = new Set<number>();
      for (const row of this.stmt.allSeries.all()) {
        seen.add(row.id);
        for (const view of this.viewsOf(row, now, configsFor)) {
          const window = windowOf(view.windowSeconds, now);
          for (const resource of RESOURCES) {
            const config = view.configs[resource];
            const cp = this.loadCheckpoint(row.id, resource, config, window);
            if (cp.through >= closed) continue;
            this.fold(row.id, resource, cp.state, config, cp.through, closed);
            this.saveCheckpoint(
              row.id,
              resource,
              fingerprint(config, window?.seconds),
              cp.from,
              closed,
              cp.state,
              now,
            );
            written++;
          }
        }
      }
      this.stmt.pruneCheckpoints.run(now - VIEW_IDLE_SECONDS - this.maintainEverySeconds);
      // Views of series pruned since: forgotten with them.
      for (const id of this.views.keys()) if (!seen.has(id)) this.views.delete(id);
    })();
    return written;
  }

  /**
   * Drops minutes and OOM kills older than their series' retention (the store's, or a longer one a
   * policy asks for), lapsed retention requests, and series with nothing left.
   */
  prune(now: number): { minutes: number; ooms: number; series: number } {
    const cutoff = now - this.retentionSeconds;
    this.firstPrune ??= now;
    this.fleet.forget(now - 86_400, now);
    return this.db.transaction(() => {
      // Requests made before this process started get a full lease from its first prune.
      if (now - this.firstPrune! > RETENTION_LEASE_SECONDS)
        this.stmt.pruneRetentions.run(now - RETENTION_LEASE_SECONDS);
      const minutes = this.stmt.pruneMinutes.run(Math.floor(cutoff / 60), now).changes;
      const ooms = this.stmt.pruneOoms.run(cutoff, now).changes;
      const series = this.stmt.pruneSeries.run(cutoff, now).changes;
      return { minutes, ooms, series };
    })();
  }

  /** Checkpoints and prunes when `maintainEverySeconds` have passed since the last time; cheap otherwise. */
  maintain(now: number, configsFor?: (key: SeriesKey) => ResourceConfigs): boolean {
    if (now - this.lastMaintain < this.maintainEverySeconds) return false;
    this.prune(now);
    this.checkpoint(now, configsFor);
    // Only once both worked: a failed prune or checkpoint is tried again at the next call.
    this.lastMaintain = now;
    return true;
  }

  /**
   * What a store on an empty disk needs to resume this series as one view reads it (a SizingCheckpoint
   * holds it, see src/core/checkpoint): the states folded through the last closed minute (saved here
   * too), the minutes after them exactly, the ones before as one row of peaks per interval, and the
   * OOM kills of the window. Undefined for a series this store has never seen.
   */
  snapshot(
    key: SeriesKey,
    now: number,
    configs: ResourceConfigs = DEFAULT_RESOURCE_CONFIGS,
    windowSeconds?: number,
  ): SeriesSnapshot | undefined {
    const row = this.findRow(key);
    if (!row) return undefined;
    const window = windowOf(windowSeconds, now);
    const closed = this.closedMinute(now);
    const states: Partial<Record<HistoryResource, StateSnapshot>> = {};
    this.db.transaction(() => {
      for (const resource of RESOURCES) {
        const config = configs[resource];
        const cp = this.loadCheckpoint(row.id, resource, config, window);
        let through = cp.through;
        if (through < closed) {
          this.fold(row.id, resource, cp.state, config, through, closed);
          this.saveCheckpoint(
            row.id,
            resource,
            fingerprint(config, window?.seconds),
            cp.from,
            closed,
            cp.state,
            now,
          );
          through = closed;
        }
        states[resource] = { from: cp.from, through, state: cp.state };
      }
    })();
    const through = Math.min(...Object.values(states).map((s) => s.through));
    const firstMinute = window ? window.firstMinute - 1 : Number.MIN_SAFE_INTEGER;
    const rows = this.stmt.minutesAfter.all(row.id, firstMinute, Number.MAX_SAFE_INTEGER);
    // Before `through`, one row per interval (an hour, or more for a window over 12 days): the peaks
    // keep the memory floor and a later rebuild on the safe side; the states hold the detail.
    const span = rows.length > 0 ? Math.max(0, through - rows[0]!.minute) : 0;
    const per = Math.max(60, Math.ceil(span / 300));
    const minutes: MinuteSnapshot[] = [];
    let open: [number, number | null, number | null] | undefined;
    let openGroup = NaN;
    for (const m of rows) {
      if (m.minute > through) {
        if (open) minutes.push(open);
        open = undefined;
        minutes.push(
          m.cpu_sq !== null && m.cpu_n > 0
            ? [m.minute, m.cpu_max, m.mem_max, m.cpu_n, m.cpu_sum, m.cpu_sq]
            : [m.minute, m.cpu_max, m.mem_max],
        );
        continue;
      }
      const group = Math.floor(m.minute / per);
      if (!open || group !== openGroup) {
        if (open) minutes.push(open);
        open = [m.minute, m.cpu_max, m.mem_max];
        openGroup = group;
      } else {
        // The row sits at the group's latest minute: a peak stays in the window no shorter than it was.
        open[0] = m.minute;
        open[1] = maxOrNull(open[1], m.cpu_max);
        open[2] = maxOrNull(open[2], m.mem_max);
      }
    }
    if (open) minutes.push(open);
    const ooms = this.stmt.oomsBetween
      .all(row.id, window ? now - window.seconds : -Number.MAX_VALUE, Number.MAX_VALUE)
      .map((o) => ({ pod: o.pod, t: o.t, usage: o.usage }));
    return {
      workload: {
        kind: row.kind,
        name: row.name,
        ...(row.owner_kind ? { ownerKind: row.owner_kind } : {}),
      },
      container: row.container,
      firstSample: row.first_t,
      lastSample: row.last_t,
      view: viewHash(configs, window?.seconds),
      states,
      minutes,
      ooms,
    };
  }

  /**
   * Takes a snapshot in when this store knows less of the series (nothing, or a later first
   * sample): its minutes, OOM kills and sample span, and its states when they were
   * folded with this view. Returns whether it did.
   */
  restore(
    key: SeriesKey,
    s: SeriesSnapshot,
    now: number,
    configs: ResourceConfigs = DEFAULT_RESOURCE_CONFIGS,
    windowSeconds?: number,
  ): boolean {
    const local = this.findRow(key);
    if (local && local.first_t <= s.firstSample) return false;
    const window = windowOf(windowSeconds, now);
    this.db.transaction(() => {
      const id = this.upsertSeries(key, s.firstSample, s.lastSample);
      for (const m of s.minutes) {
        const [minute, cpu, mem] = m;
        // With its spread where the snapshot kept one; else the busiest sample alone (minute-spread.ts).
        if (m.length === 6) this.stmt.upsertMinute.run(id, minute, cpu, m[4], m[3], m[5], mem);
        else this.stmt.upsertMinute.run(id, minute, cpu, cpu ?? 0, cpu === null ? 0 : 1, null, mem);
      }
      for (const o of s.ooms) this.stmt.insertOom.run(id, o.pod, o.t, o.usage);
      if (s.view !== viewHash(configs, window?.seconds)) return; // another tuning: rebuilt from the minutes
      for (const resource of RESOURCES) {
        const st = s.states[resource];
        if (!st) continue;
        this.saveCheckpoint(
          id,
          resource,
          fingerprint(configs[resource], window?.seconds),
          st.from,
          st.through,
          st.state,
          now,
        );
      }
    })();
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

  private closedMinute(now: number): number {
    return Math.floor((now - this.closeAfterSeconds) / 60) - 1;
  }

  /** The state through every minute stored; a windowed rebuild is checkpointed at once. */
  private current(
    series: number,
    resource: HistoryResource,
    config: RecommenderConfig,
    window: Window | undefined,
    now: number | undefined,
  ): RecommenderState {
    const cp = this.loadCheckpoint(series, resource, config, window);
    let through = cp.through;
    if (cp.rebuilt && window && now !== undefined) {
      const closed = this.closedMinute(now);
      if (closed > through) {
        this.fold(series, resource, cp.state, config, through, closed);
        this.saveCheckpoint(
          series,
          resource,
          fingerprint(config, window.seconds),
          cp.from,
          closed,
          cp.state,
          now,
        );
        through = closed;
      }
    }
    this.fold(series, resource, cp.state, config, through, Number.MAX_SAFE_INTEGER);
    return cp.state;
  }

  private loadCheckpoint(
    series: number,
    resource: HistoryResource,
    config: RecommenderConfig,
    window: Window | undefined,
  ): { state: RecommenderState; from: number; through: number; rebuilt: boolean } {
    const row = this.stmt.readCheckpoint.get(series, resource, fingerprint(config, window?.seconds));
    // With a window, a checkpoint that started before the window's first minute holds samples that
    // no longer count.
    if (row && (!window || row.from_minute >= window.firstMinute)) {
      const state = parseState(row.state);
      if (state) return { state, from: row.from_minute, through: row.through_minute, rebuilt: false };
    }
    // No checkpoint, another config, one the window has left, or an unreadable one: rebuild from
    // the raw minutes kept (of the window).
    const from = window ? rebuildFrom(window, series) : Number.MIN_SAFE_INTEGER;
    return { state: createState(config), from, through: window ? from - 1 : from, rebuilt: true };
  }

  private saveCheckpoint(
    series: number,
    resource: HistoryResource,
    config: string,
    from: number,
    through: number,
    state: RecommenderState,
    now: number,
  ): void {
    this.stmt.writeCheckpoint.run(series, resource, config, from, through, JSON.stringify(state), now);
    // Bounded: a series read through many tunings over time keeps only the latest few checkpoints.
    this.stmt.capCheckpoints.run(series, resource, series, resource, MAX_CHECKPOINTS_PER_SERIES);
  }

  private remember(series: number, view: HistoryView, now: number): void {
    let m = this.views.get(series);
    if (!m) this.views.set(series, (m = new Map<string, { view: HistoryView; readAt: number }>()));
    const fp = fingerprint(view.configs.cpu, view.windowSeconds) + fingerprint(view.configs.memory);
    m.delete(fp);
    m.set(fp, { view, readAt: now });
    // Oldest first (insertion order): keep the most recently read few.
    while (m.size > MAX_CHECKPOINTS_PER_SERIES) m.delete(m.keys().next().value!);
  }

  private viewsOf(
    row: SeriesRow,
    now: number,
    configsFor: ((key: SeriesKey) => ResourceConfigs | readonly HistoryView[]) | undefined,
  ): readonly HistoryView[] {
    if (configsFor) {
      const v = configsFor(toInfo(row));
      return isViewList(v) ? v : [{ configs: v }];
    }
    const m = this.views.get(row.id);
    if (m) {
      for (const [fp, e] of m) if (now - e.readAt > VIEW_IDLE_SECONDS) m.delete(fp);
      if (m.size === 0) this.views.delete(row.id);
      else return [...m.values()].map((e) => e.view);
    }
    return [{ configs: DEFAULT_RESOURCE_CONFIGS }];
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
      const t = m.minute * 60;
      if (resource === 'memory') {
        // Memory is fed the minute's highest working set: a spike above the limit kills.
        if (m.mem_max !== null) addSample(state, { t, value: m.mem_max }, config);
      } else if (m.cpu_max !== null) {
        // CPU is fed the spread of every pod's samples in the minute, as the VPA's p90 is over
        // every sample of every pod (minute-spread.ts).
        const spread = minuteSpread({
          max: m.cpu_max,
          n: m.cpu_n,
          sum: m.cpu_sum,
          sumSquares: m.cpu_sq ?? undefined,
        });
        addSpread(state, t, spread, config);
      }
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
    // A NULL sum of squares (a row restored from a snapshot, or stored before schema 3) stays NULL:
    // the sum over part of the minute's samples would understate its spread.
    upsertMinute: db.prepare<[number, number, number | null, number, number, number | null, number | null]>(
      `INSERT INTO usage_minute (series, minute, cpu_max, cpu_sum, cpu_n, cpu_sq, mem_max) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (series, minute) DO UPDATE SET
         cpu_max = max(coalesce(cpu_max, excluded.cpu_max), coalesce(excluded.cpu_max, cpu_max)),
         cpu_sum = cpu_sum + excluded.cpu_sum,
         cpu_n = cpu_n + excluded.cpu_n,
         cpu_sq = cpu_sq + excluded.cpu_sq,
         mem_max = max(coalesce(mem_max, excluded.mem_max), coalesce(excluded.mem_max, mem_max))`,
    ),
    minutesAfter: db.prepare<[number, number, number], MinuteRow>(
      `SELECT minute, cpu_max, cpu_sum, cpu_n, cpu_sq, mem_max FROM usage_minute
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
    readCheckpoint: db.prepare<[number, string, string], CheckpointRow>(
      `SELECT from_minute, through_minute, state FROM checkpoint WHERE series = ? AND resource = ? AND config = ?`,
    ),
    writeCheckpoint: db.prepare<[number, string, string, number, number, string, number]>(
      `INSERT INTO checkpoint (series, resource, config, from_minute, through_minute, state, saved_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (series, resource, config) DO UPDATE SET from_minute = excluded.from_minute,
         through_minute = excluded.through_minute, state = excluded.state, saved_at = excluded.saved_at`,
    ),
    capCheckpoints: db.prepare<[number, string, number, string, number]>(
      `DELETE FROM checkpoint WHERE series = ? AND resource = ? AND config NOT IN (
         SELECT config FROM checkpoint WHERE series = ? AND resource = ? ORDER BY saved_at DESC LIMIT ?)`,
    ),
    pruneCheckpoints: db.prepare<[number]>(`DELETE FROM checkpoint WHERE saved_at < ?`),
    // Late data for a minute a checkpoint already folded: drop it, the next read rebuilds exactly.
    invalidate: db.prepare<[number, number]>(
      `DELETE FROM checkpoint WHERE series = ? AND through_minute >= ?`,
    ),
    // Older than the store's retention (the indexed bound), and than the series' own when longer.
    pruneMinutes: db.prepare<[number, number]>(
      `DELETE FROM usage_minute WHERE minute < ? AND minute * 60 < ? -
         coalesce((SELECT max(r.seconds) FROM retention r WHERE r.series = usage_minute.series), 0)`,
    ),
    pruneOoms: db.prepare<[number, number]>(
      `DELETE FROM oom WHERE t < ? AND t < ? -
         coalesce((SELECT max(r.seconds) FROM retention r WHERE r.series = oom.series), 0)`,
    ),
    pruneSeries: db.prepare<[number, number]>(
      `DELETE FROM series WHERE last_t < ? AND last_t < ? -
         coalesce((SELECT max(r.seconds) FROM retention r WHERE r.series = series.id), 0)`,
    ),
    readRetention: db.prepare<[number, number], { renewed_at: number }>(
      `SELECT renewed_at FROM retention WHERE series = ? AND seconds = ?`,
    ),
    writeRetention: db.prepare<[number, number, number]>(
      `INSERT INTO retention (series, seconds, renewed_at) VALUES (?, ?, ?)
       ON CONFLICT (series, seconds) DO UPDATE SET renewed_at = excluded.renewed_at`,
    ),
    capRetentions: db.prepare<[number, number, number]>(
      `DELETE FROM retention WHERE series = ? AND seconds NOT IN (
         SELECT seconds FROM retention WHERE series = ? ORDER BY renewed_at DESC LIMIT ?)`,
    ),
    seriesRetention: db.prepare<[number], { seconds: number | null }>(
      `SELECT max(seconds) AS seconds FROM retention WHERE series = ?`,
    ),
    pruneRetentions: db.prepare<[number]>(`DELETE FROM retention WHERE renewed_at < ?`),
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

/**
 * A checkpoint is only valid for the config and window it was folded with (Infinity prints as null;
 * fine here). Without a window the fingerprint is the config alone, as in schema 1.
 */
function fingerprint(config: RecommenderConfig, windowSeconds?: number): string {
  const c = JSON.stringify(config);
  return windowSeconds === undefined ? c : `${c}|window=${windowSeconds}`;
}

/** A short name for a view (configs and window), so a snapshot is restored only into the same one. */
function viewHash(configs: ResourceConfigs, windowSeconds: number | undefined): string {
  return createHash('sha256')
    .update(`${fingerprint(configs.cpu, windowSeconds)}\n${fingerprint(configs.memory, windowSeconds)}`)
    .digest('hex')
    .slice(0, 16);
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

interface Window {
  readonly seconds: number;
  /** The first minute that counts at the time asked about: it starts at or after now - seconds. */
  readonly firstMinute: number;
}

function windowOf(seconds: number | undefined, now: number | undefined): Window | undefined {
  if (seconds === undefined || now === undefined || !Number.isFinite(seconds) || seconds <= 0)
    return undefined;
  return { seconds, firstMinute: Math.ceil((now - seconds) / 60) };
}

/**
 * Where a windowed rebuild starts: the first boundary at or after the window's first minute, on a
 * grid of 1/16 of the window (1 minute to 6 hours) offset per series, so the state stays valid for
 * one grid step and the series of a large cluster do not all rebuild at the same pass.
 */
function rebuildFrom(window: Window, series: number): number {
  const grid = Math.max(1, Math.min(360, Math.floor(window.seconds / 16 / 60)));
  const offset = series % grid;
  return window.firstMinute + ((((offset - window.firstMinute) % grid) + grid) % grid);
}

function isViewList(v: ResourceConfigs | readonly HistoryView[]): v is readonly HistoryView[] {
  return Array.isArray(v);
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
