// A TCP pass-through in front of the apiserver that a test can cut and restore, to show what a
// client does while the API is unreachable. TLS passes through untouched: the serving certificate
// names 127.0.0.1, where the proxy also listens.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/kube/client.ts';

export interface ApiProxy {
  /** The same credentials, with the proxy as the server (loaded by Tailor's own loader). */
  readonly kc: k8s.KubeConfig;
  /** Drops every connection and refuses new ones: the API is unreachable. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function apiProxy(kubeconfigPath: string): Promise<ApiProxy> {
  const original = loadKubeConfig(kubeconfigPath);
  const upstream = new URL(original.getCurrentCluster()!.server);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const up = connect(Number(upstream.port), upstream.hostname);
        for (const sock of [client, up]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => {
            client.destroy();
            up.destroy();
          });
        }
        client.pipe(up).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();

  const name = original.getCurrentCluster()!.name;
  const proxied = new k8s.KubeConfig();
  proxied.loadFromOptions({
    clusters: original.clusters.map((c) =>
      c.name === name ? { ...c, server: `https://127.0.0.1:${port}` } : c,
    ),
    users: original.users,
    contexts: original.contexts,
    currentContext: original.currentContext,
  });
  const dir = mkdtempSync(join(tmpdir(), 'tailor-proxy-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, proxied.exportConfig(), { mode: 0o600 });
  const kc = loadKubeConfig(path);
  return {
    kc,
    cut,
    restore: listen,
    close: async () => {
      await cut();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
