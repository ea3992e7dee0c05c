// A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler with generated certificates and RBAC on. Used by `tailor dev up` and the tests.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TailorError } from '../errors.ts';
import type { Binaries, Component } from './binaries.ts';
import { get, indent, waitHealthy, type TlsClient } from './health.ts';
import { kubeconfig } from './kubeconfig.ts';
import { createCertificateAuthority, createServiceAccountKeys, type KeyPair } from './pki.ts';
import { freePorts } from './ports.ts';
import { startProcess, type RunningProcess } from './process.ts';

export interface ControlPlaneOptions {
  /** Folder for certificates, etcd data and logs; emptied first. */
  dir: string;
  /** Where the admin kubeconfig is written. */
  kubeconfigPath: string;
  binaries: Binaries;
  progress?: (line: string) => void;
  /** Per component; the apiserver's first start on a cold disk takes the longest. */
  startTimeoutMs?: number;
}

export interface ControlPlaneInfo {
  server: string;
  kubeconfigPath: string;
  dir: string;
  ports: Record<Component, number>;
  pids: Record<Component, number>;
  /** PEM files a later process needs to issue certificates (simulator metrics API, webhook). */
  pki: { caCert: string; caKey: string; frontProxyCaCert: string; frontProxyCaKey: string };
  startedAt: string;
}

const SERVICE_CIDR = '10.0.0.0/24';
const PORT_RETRIES = 3;

/** How a component was started and is told healthy: what `startComponent` needs to start it again. */
export interface ComponentLaunch {
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly healthUrl: string;
  readonly tls: TlsClient;
}

export class ControlPlane {
  private deathHandlers: ((name: string, reason: string, tail: string) => void)[] = [];
  private stopping = false;
  /** Components stopped on purpose (stopComponent): their exit is not a death. */
  private readonly stoppedOnPurpose = new Set<RunningProcess>();

  /** Use ControlPlane.start. */
  constructor(
    readonly info: ControlPlaneInfo,
    private readonly processes: RunningProcess[],
    private readonly launches: ReadonlyMap<Component, ComponentLaunch> = new Map(),
  ) {
    for (const p of processes) this.watchDeath(p);
  }

  private watchDeath(p: RunningProcess): void {
    void p.exited.then((reason) => {
      if (this.stopping || this.stoppedOnPurpose.has(p)) return;
      for (const h of this.deathHandlers) h(p.name, reason, p.tail());
    });
  }

  /**
   * Stops one component (SIGTERM, then SIGKILL after the grace period), keeping its data and ports,
   * for fault drills: an apiserver or etcd restart as an upgrade or a crash makes one.
   */
  async stopComponent(name: Component): Promise<void> {
    const p = this.processes.find((x) => x.name === name);
    if (!p) throw new TailorError('Internal', `no component ${name} in this control plane`);
    this.stoppedOnPurpose.add(p);
    await p.stop();
  }

  /** Starts a component stopped by stopComponent again, with the same flags, and waits until it is healthy. */
  async startComponent(name: Component, timeoutMs = 90_000): Promise<void> {
    const i = this.processes.findIndex((x) => x.name === name);
    const launch = this.launches.get(name);
    if (i < 0 || !launch) throw new TailorError('Internal', `no component ${name} in this control plane`);
    if (!this.processes[i]!.hasExited())
      throw new TailorError('Internal', `${name} is running; stopComponent first`);
    const next = startProcess(name, launch.binary, [...launch.args], launch.logFile);
    this.processes[i] = next;
    this.watchDeath(next);
    await waitHealthy(next, launch.healthUrl, launch.tls, timeoutMs);
    this.info.pids[name] = next.child.pid ?? 0;
    writeFileSync(join(this.info.dir, 'controlplane.json'), JSON.stringify(this.info, null, 2));
  }

  /** stopComponent, a pause of `downMs`, then startComponent. */
  async restartComponent(name: Component, downMs = 0): Promise<void> {
    await this.stopComponent(name);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.startComponent(name);
  }

  static async start(opts: ControlPlaneOptions): Promise<ControlPlane> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(opts);
      } catch (err) {
        // Another process may take a port between our probe and the component's bind: try new ones.
        if (
          attempt < PORT_RETRIES &&
          err instanceof TailorError &&
          /address already in use/i.test(err.message)
        ) {
          opts.progress?.('a port was taken meanwhile; retrying on other free ports');
          continue;
        }
        throw err;
      }
    }
  }

  /** Called when a component dies after start-up. */
  onComponentDeath(handler: (name: string, reason: string, tail: string) => void): void {
    this.deathHandlers.push(handler);
  }

  /** Stops in reverse order of start, so no component logs errors about the one before it. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const p of [...this.processes].reverse()) await p.stop();
  }
}

async function startOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const { dir, binaries } = opts;
  const progress = opts.progress ?? (() => {});
  const timeout = opts.startTimeoutMs ?? 90_000;
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['pki', 'etcd', 'logs']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });

  // 1. Certificates first: every component needs them on its command line.
  progress('generating certificates');
  const pki = await writePki(join(dir, 'pki'));

  const [etcdPort, peerPort, apiPort, kcmPort, schedPort] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const server = `https://127.0.0.1:${apiPort}`;
  const p = (f: string) => join(dir, 'pki', f);
  const log = (name: string) => join(dir, 'logs', `${name}.log`);
  writeFileSync(p('admin.kubeconfig'), kubeconfig(server, pki.ca.certPem, 'tailor-admin', pki.admin));
  writeFileSync(
    p('kcm.kubeconfig'),
    kubeconfig(server, pki.ca.certPem, 'system:kube-controller-manager', pki.kcm),
  );
  writeFileSync(
    p('scheduler.kubeconfig'),
    kubeconfig(server, pki.ca.certPem, 'system:kube-scheduler', pki.scheduler),
  );

  const started: RunningProcess[] = [];
  const launches = new Map<Component, ComponentLaunch>();
  const launch = (name: Component, args: string[], healthUrl: string, tls: TlsClient): RunningProcess => {
    launches.set(name, { binary: binaries[name], args, logFile: log(name), healthUrl, tls });
    return startProcess(name, binaries[name], args, log(name));
  };
  const admin: TlsClient = { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
  try {
    // 2. etcd: the apiserver refuses to start without storage.
    progress(`starting etcd on 127.0.0.1:${etcdPort}`);
    const etcdHealth = `http://127.0.0.1:${etcdPort}/health`;
    const etcd = launch(
      'etcd',
      [
        `--name=default`,
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        // A throw-away dev/test store: durability is not worth the fsync latency here.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      etcdHealth,
      {},
    );
    started.push(etcd);
    await waitHealthy(etcd, etcdHealth, {}, timeout);

    // 3. kube-apiserver, with RBAC and the aggregation layer's front proxy for metrics.k8s.io.
    progress(`starting kube-apiserver on ${server}`);
    const apiserver = launch(
      'kube-apiserver',
      [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${p('apiserver.crt')}`,
        `--tls-private-key-file=${p('apiserver.key')}`,
        `--client-ca-file=${p('ca.crt')}`,
        `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
        `--service-account-key-file=${p('sa.pub')}`,
        `--service-account-signing-key-file=${p('sa.key')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--authorization-mode=Node,RBAC',
        // On top of the defaults: owner references that block deletion need update on the owner's
        // finalizers (as on OpenShift and hardened clusters), so the operator's role is tested for it.
        '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
        // No kubelet owns 127.0.0.1 endpoints here; the default reconciler would fight validation.
        '--endpoint-reconciler-type=none',
        `--requestheader-client-ca-file=${p('front-proxy-ca.crt')}`,
        '--requestheader-allowed-names=front-proxy-client',
        '--requestheader-username-headers=X-Remote-User',
        '--requestheader-group-headers=X-Remote-Group',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-',
        `--proxy-client-cert-file=${p('front-proxy-client.crt')}`,
        `--proxy-client-key-file=${p('front-proxy-client.key')}`,
        '--allow-privileged=true',
        '--profiling=false',
        `--v=${process.env.TAILOR_APISERVER_VERBOSITY ?? '1'}`,
      ],
      `${server}/readyz`,
      admin,
    );
    started.push(apiserver);
    await waitHealthy(apiserver, `${server}/readyz`, admin, timeout);

    // 4. Controller-manager and scheduler only need a serving apiserver; start them together.
    progress('starting kube-controller-manager and kube-scheduler');
    const kcmHealth = `https://127.0.0.1:${kcmPort}/healthz`;
    const kcm = launch(
      'kube-controller-manager',
      [
        `--kubeconfig=${p('kcm.kubeconfig')}`,
        `--authentication-kubeconfig=${p('kcm.kubeconfig')}`,
        `--authorization-kubeconfig=${p('kcm.kubeconfig')}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--service-account-private-key-file=${p('sa.key')}`,
        `--root-ca-file=${p('ca.crt')}`,
        `--cluster-signing-cert-file=${p('ca.crt')}`,
        `--cluster-signing-key-file=${p('ca.key')}`,
        '--use-service-account-credentials=true',
        // The defaults (20 qps) take minutes to create a few thousand pods; a dev cluster has room.
        '--kube-api-qps=200',
        '--kube-api-burst=400',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--leader-elect=false',
        '--v=1',
      ],
      kcmHealth,
      {},
    );
    started.push(kcm);
    const schedulerHealth = `https://127.0.0.1:${schedPort}/healthz`;
    const scheduler = launch(
      'kube-scheduler',
      [
        `--kubeconfig=${p('scheduler.kubeconfig')}`,
        `--authentication-kubeconfig=${p('scheduler.kubeconfig')}`,
        `--authorization-kubeconfig=${p('scheduler.kubeconfig')}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${schedPort}`,
        '--kube-api-qps=200',
        '--kube-api-burst=400',
        '--leader-elect=false',
        '--v=1',
      ],
      schedulerHealth,
      {},
    );
    started.push(scheduler);
    await Promise.all([
      waitHealthy(kcm, kcmHealth, {}, timeout),
      waitHealthy(scheduler, schedulerHealth, {}, timeout),
    ]);

    // 5. Ready for users once the controller-manager has made the default ServiceAccount:
    //    before that, the ServiceAccount admission plugin rejects every new pod.
    await waitFor(
      async () =>
        (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, admin)).status === 200,
      timeout,
      'the default ServiceAccount',
      kcm,
    );
    writeFileSync(opts.kubeconfigPath, kubeconfig(server, pki.ca.certPem, 'tailor-admin', pki.admin), {
      mode: 0o600,
    });
    progress(`ready: kubeconfig written to ${opts.kubeconfigPath}`);

    const info: ControlPlaneInfo = {
      server,
      kubeconfigPath: opts.kubeconfigPath,
      dir,
      ports: {
        etcd: etcdPort,
        'kube-apiserver': apiPort,
        'kube-controller-manager': kcmPort,
        'kube-scheduler': schedPort,
      },
      pids: {
        etcd: etcd.child.pid ?? 0,
        'kube-apiserver': apiserver.child.pid ?? 0,
        'kube-controller-manager': kcm.child.pid ?? 0,
        'kube-scheduler': scheduler.child.pid ?? 0,
      },
      pki: {
        caCert: p('ca.crt'),
        caKey: p('ca.key'),
        frontProxyCaCert: p('front-proxy-ca.crt'),
        frontProxyCaKey: p('front-proxy-ca.key'),
      },
      startedAt: new Date().toISOString(),
    };
    writeFileSync(join(dir, 'controlplane.json'), JSON.stringify(info, null, 2));
    return new ControlPlane(info, started, launches);
  } catch (err) {
    for (const proc of started.reverse()) await proc.stop();
    throw err;
  }
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  owner: RunningProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (owner.hasExited()) {
      throw new TailorError(
        'ComponentFailed',
        `${owner.name} exited (${await owner.exited}); its last log lines:\n${indent(owner.tail())}`,
      );
    }
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new TailorError(
    'Timeout',
    `${what} did not appear within ${timeoutMs / 1000}s; ${owner.name}'s last log lines:\n${indent(owner.tail())}`,
  );
}

interface Pki {
  ca: KeyPair;
  admin: KeyPair;
  kcm: KeyPair;
  scheduler: KeyPair;
}

async function writePki(dir: string): Promise<Pki> {
  const write = (name: string, pair: KeyPair) => {
    writeFileSync(join(dir, `${name}.crt`), pair.certPem);
    writeFileSync(join(dir, `${name}.key`), pair.keyPem, { mode: 0o600 });
  };
  const ca = await createCertificateAuthority('tailor-dev-ca');
  const frontProxyCa = await createCertificateAuthority('tailor-dev-front-proxy-ca');
  const [apiserver, admin, kcm, scheduler, frontProxyClient, sa] = await Promise.all([
    ca.issue({
      commonName: 'kube-apiserver',
      usage: 'server',
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ipAddresses: ['127.0.0.1', '10.0.0.1'],
    }),
    ca.issue({ commonName: 'tailor-admin', organizations: ['system:masters'], usage: 'client' }),
    ca.issue({ commonName: 'system:kube-controller-manager', usage: 'client' }),
    ca.issue({ commonName: 'system:kube-scheduler', usage: 'client' }),
    frontProxyCa.issue({ commonName: 'front-proxy-client', usage: 'client' }),
    createServiceAccountKeys(),
  ]);
  write('ca', ca);
  write('front-proxy-ca', frontProxyCa);
  write('apiserver', apiserver);
  write('admin', admin);
  write('kcm', kcm);
  write('scheduler', scheduler);
  write('front-proxy-client', frontProxyClient);
  writeFileSync(join(dir, 'sa.pub'), sa.publicPem);
  writeFileSync(join(dir, 'sa.key'), sa.privatePem, { mode: 0o600 });
  return { ca, admin, kcm, scheduler };
}
