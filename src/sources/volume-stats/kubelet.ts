// Volume usage without Prometheus: each node's kubelet Summary API (GET /stats/summary,
// pods[].volume[] with pvcRef), reached the way metrics-server reaches kubelets: the node's
// address from status.addresses (InternalIP first), the port from
// status.daemonEndpoints.kubeletEndpoint.Port, a bearer token allowed `get nodes/stats`, the
// kubelet's serving certificate verified against a CA bundle (or, like metrics-server's
// --kubelet-insecure-tls, not at all when asked). Directly, not through the apiserver's node
// proxy: the apiserver refuses to proxy to loopback and link-local node addresses.
//
// Polled about once a minute (the kubelet refreshes its volume stats as often); each claim keeps a
// bounded history in memory. A node that fails is logged once (then once a while, with a count)
// and its claims get no fresh samples: the planner holds them.
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { VolumeSample } from '../../core/volume/types.ts';
import { TailorError } from '../../errors.ts';
import { RepeatLog } from '../../logging/repeat-log.ts';
import type { ClaimKey, VolumeStatsSource } from '../volume-stats.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeletVolumeStatsOptions {
  /** The nodes to poll, e.g. a node informer's list. */
  readonly listNodes: () => readonly k8s.V1Node[] | Promise<readonly k8s.V1Node[]>;
  /** Sent as `Authorization: Bearer`, read at each poll (projected tokens rotate). Default the pod's service account token. */
  readonly bearerTokenFile?: string;
  /** A token to send instead of a file's (outside a cluster: the kubeconfig's own token). */
  readonly bearerToken?: string;
  /** PEM bundle the kubelets' serving certificates chain to. Default the service account's ca.crt (kubelet certificates signed by the cluster CA, serverTLSBootstrap). */
  readonly caFile?: string;
  /** Like metrics-server's --kubelet-insecure-tls: do not verify the kubelets' certificates (self-signed ones). Default false. */
  readonly insecureSkipTlsVerify?: boolean;
  /** Address types to try, in order (metrics-server's --kubelet-preferred-address-types). */
  readonly preferredAddressTypes?: readonly string[];
  /** Default 60. */
  readonly pollSeconds?: number;
  /** Samples older than this are forgotten. Default 6 h. */
  readonly historySeconds?: number;
  /** Per node, the whole answer included. Default 10 s. */
  readonly timeoutMs?: number;
  /** A larger answer is aborted mid-read (the node fails this poll). Default 16 MiB. */
  readonly maxResponseBytes?: number;
  /** Nodes polled at once. Default 8. */
  readonly concurrency?: number;
  /** Seconds since the epoch; default the wall clock. */
  readonly now?: () => number;
  readonly log: Logger;
}

/** A node's poll, for tests and status. */
export interface NodePoll {
  node: string;
  result: 'Ok' | 'Failed';
  samples: number;
}

export const DEFAULT_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'Hostname'] as const;
const DEFAULT_MAX_BYTES = 16 * 2 ** 20;

export class KubeletVolumeStats implements VolumeStatsSource {
  readonly name = 'kubelet';
  private readonly history = new Map<ClaimKey, VolumeSample[]>();
  private readonly repeat: RepeatLog;
  private readonly now: () => number;
  private readonly agent: https.Agent | Promise<https.Agent>;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<NodePoll[]>;
  /** When a poll last finished (seconds); undefined before the first. */
  lastPollAt?: number;
  private readonly failing = new Set<string>();

  /** Nodes whose last poll failed (their claims get no fresh samples), sorted: for a status condition. */
  failingNodes(): string[] {
    return [...this.failing].sort();
  }

  constructor(private readonly o: KubeletVolumeStatsOptions) {
    this.repeat = new RepeatLog(o.log);
    this.now = o.now ?? (() => Date.now() / 1000);
    const insecure = o.insecureSkipTlsVerify === true;
    const caFile = o.caFile ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`;
    this.agent = insecure
      ? new https.Agent({ rejectUnauthorized: false, keepAlive: true, maxSockets: 2 })
      : readFile(caFile, 'utf8').then(
          (ca) => new https.Agent({ ca, keepAlive: true, maxSockets: 2 }),
          (cause: unknown) => {
            throw new TailorError('Prerequisite', `cannot read the kubelets' CA bundle ${caFile}`, {
              cause,
              hint: 'give the CA the kubelet serving certificates chain to, or allow unverified kubelet certificates (like metrics-server --kubelet-insecure-tls)',
            });
          },
        );
    // An unread CA fails each poll (logged), not the process.
    if (this.agent instanceof Promise) this.agent.catch(() => {});
  }

  /** Polls now, then every pollSeconds, until stop(). */
  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), (this.o.pollSeconds ?? 60) * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const agent = this.agent;
    if (!(agent instanceof Promise)) agent.destroy();
    else
      void agent.then(
        (a) => a.destroy(),
        () => {},
      );
  }

  async read(since: number, namespaces?: readonly string[]): Promise<Map<ClaimKey, VolumeSample[]>> {
    if (this.lastPollAt === undefined) await (this.polling ?? this.poll());
    if (this.lastPollAt === undefined)
      throw new TailorError('Prerequisite', 'kubelet volume stats: no poll of the nodes has finished yet');
    const allowed = namespaces ? new Set(namespaces) : undefined;
    const out = new Map<ClaimKey, VolumeSample[]>();
    for (const [key, samples] of this.history) {
      if (allowed && !allowed.has(key.slice(0, key.indexOf('/')))) continue;
      const recent = samples.filter((s) => s.at >= since);
      if (recent.length > 0) out.set(key, recent);
    }
    return out;
  }

  /** One round over every node; concurrent calls share it. */
  poll(): Promise<NodePoll[]> {
    this.polling ??= this.pollNodes().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollNodes(): Promise<NodePoll[]> {
    let nodes: readonly k8s.V1Node[];
    try {
      nodes = await this.o.listNodes();
    } catch (err) {
      this.repeat.failed('nodes', err, 'kubelet volume stats: cannot list the nodes');
      return [];
    }
    let token: string | undefined = this.o.bearerToken;
    const tokenFile = this.o.bearerTokenFile ?? `${SERVICE_ACCOUNT_DIR}/token`;
    if (token === undefined) {
      try {
        token = (await readFile(tokenFile, 'utf8')).trim();
        this.repeat.succeeded('token', 'kubelet volume stats: the token file is readable again');
      } catch (err) {
        this.repeat.failed('token', err, `kubelet volume stats: cannot read the token file ${tokenFile}`);
      }
    }
    const results: NodePoll[] = [];
    const queue = [...nodes];
    const worker = async () => {
      for (let n = queue.shift(); n; n = queue.shift()) results.push(await this.pollNode(n, token));
    };
    await Promise.all(Array.from({ length: Math.min(queue.length, this.o.concurrency ?? 8) }, worker));
    // Nodes gone from the cluster are no longer failing.
    const present = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const n of this.failing) if (!present.has(n)) this.failing.delete(n);
    this.forget();
    this.lastPollAt = this.now();
    return results;
  }

  private async pollNode(node: k8s.V1Node, token: string | undefined): Promise<NodePoll> {
    const name = node.metadata?.name ?? '';
    try {
      const url = kubeletUrl(node, this.o.preferredAddressTypes ?? DEFAULT_ADDRESS_TYPES);
      const body = await this.get(url, token);
      const samples = volumeSamples(body);
      let added = 0;
      for (const [key, s] of samples) if (this.add(key, s)) added++;
      this.failing.delete(name);
      this.repeat.succeeded(`node/${name}`, `kubelet volume stats: node ${name} answers again`, {
        node: name,
      });
      return { node: name, result: 'Ok', samples: added };
    } catch (err) {
      this.failing.add(name);
      this.repeat.failed(
        `node/${name}`,
        err,
        `kubelet volume stats: node ${name} failed; its claims get no fresh samples`,
        { node: name },
      );
      return { node: name, result: 'Failed', samples: 0 };
    }
  }

  private add(key: ClaimKey, s: VolumeSample): boolean {
    let list = this.history.get(key);
    if (!list) this.history.set(key, (list = []));
    const last = list[list.length - 1];
    // The same reading (the kubelet's cache, or a claim mounted by pods on two nodes) once.
    if (last && s.at <= last.at) return false;
    list.push(s);
    return true;
  }

  /** Drops samples past the history's length, and claims with none left. */
  private forget(): void {
    const oldest = this.now() - (this.o.historySeconds ?? 6 * 3600);
    const most = Math.ceil((this.o.historySeconds ?? 6 * 3600) / (this.o.pollSeconds ?? 60)) + 10;
    for (const [key, list] of this.history) {
      let cut = 0;
      while (cut < list.length && list[cut]!.at < oldest) cut++;
      cut = Math.max(cut, list.length - most);
      if (cut > 0) list.splice(0, cut);
      if (list.length === 0) this.history.delete(key);
    }
  }

  private async get(url: URL, token: string | undefined): Promise<unknown> {
    const agent = await this.agent;
    const max = this.o.maxResponseBytes ?? DEFAULT_MAX_BYTES;
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    return new Promise<unknown>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'GET',
          agent,
          headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          signal: AbortSignal.timeout(timeoutMs),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            res.resume();
            reject(
              new TailorError(
                'Prerequisite',
                `kubelet ${url.host} answered HTTP ${status}`,
                status === 401 || status === 403
                  ? {
                      hint: 'the operator needs `get` on `nodes/stats` (deploy/rbac/operator.yaml) and a valid token',
                    }
                  : {},
              ),
            );
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > max) {
              res.destroy();
              reject(
                new TailorError(
                  'Prerequisite',
                  `kubelet ${url.host}: answer larger than ${max} bytes, read aborted`,
                ),
              );
              return;
            }
            chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch (cause) {
              reject(
                new TailorError('Prerequisite', `kubelet ${url.host}: the answer is not JSON`, { cause }),
              );
            }
          });
        },
      );
      req.on('error', (cause: NodeJS.ErrnoException) =>
        reject(
          new TailorError(
            cause.name === 'TimeoutError' || cause.name === 'AbortError' ? 'Timeout' : 'Prerequisite',
            `cannot read kubelet ${url.host}: ${cause.code ?? cause.name}`,
            { cause },
          ),
        ),
      );
      req.end();
    });
  }
}

/** https://ADDRESS:PORT/stats/summary of a node: the first address of the preferred types, the daemonEndpoints port. */
export function kubeletUrl(node: k8s.V1Node, preferred: readonly string[]): URL {
  const name = node.metadata?.name ?? '';
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!port)
    throw new TailorError('Prerequisite', `node ${name} reports no kubelet port (status.daemonEndpoints)`);
  const addresses = node.status?.addresses ?? [];
  for (const type of preferred) {
    const a = addresses.find((x) => x.type === type && x.address);
    if (a) {
      const host = a.address.includes(':') ? `[${a.address}]` : a.address;
      return new URL(`https://${host}:${port}/stats/summary`);
    }
  }
  throw new TailorError('Prerequisite', `node ${name} has no address of the types ${preferred.join(', ')}`);
}

interface SummaryVolume {
  time?: string;
  usedBytes?: number;
  capacityBytes?: number;
  availableBytes?: number;
  inodes?: number;
  inodesUsed?: number;
  inodesFree?: number;
  pvcRef?: { name?: string; namespace?: string };
}

/** The persistent volumes' readings in a Summary (stats/v1alpha1), keyed namespace/claim, at the kubelet's time. */
export function volumeSamples(summary: unknown): [ClaimKey, VolumeSample][] {
  const pods = (summary as { pods?: unknown } | null)?.pods;
  if (!Array.isArray(pods))
    throw new TailorError('Prerequisite', 'the answer is not a kubelet Summary (no pods list)');
  const out: [ClaimKey, VolumeSample][] = [];
  for (const pod of pods as { volume?: unknown }[]) {
    if (!Array.isArray(pod?.volume)) continue;
    for (const v of pod.volume as SummaryVolume[]) {
      const ref = v?.pvcRef;
      if (!ref?.name || !ref.namespace) continue;
      const at = Date.parse(v.time ?? '') / 1000;
      const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
      const used = num(v.usedBytes);
      const capacity = num(v.capacityBytes);
      if (!Number.isFinite(at) || used === undefined || capacity === undefined) continue;
      const inodes = num(v.inodes);
      const inodesUsed = num(v.inodesUsed);
      const inodesFree = num(v.inodesFree);
      out.push([
        `${ref.namespace}/${ref.name}`,
        {
          at,
          usedBytes: used,
          capacityBytes: capacity,
          availableBytes: num(v.availableBytes) ?? Math.max(0, capacity - used),
          ...(inodes !== undefined ? { inodes } : {}),
          ...(inodesUsed !== undefined ? { inodesUsed } : {}),
          ...(inodesFree !== undefined ? { inodesFree } : {}),
        },
      ]);
    }
  }
  return out;
}
