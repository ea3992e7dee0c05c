// A Prometheus endpoint with the metric names and labels real exporters use: cAdvisor (through
// the kubelet), kubelet volume stats, NVIDIA DCGM and vLLM, so queries written for a real
// cluster work unchanged against the simulator.
import { createServer, type Server } from 'node:http';
import { closer } from '../shutdown.ts';
import type { AddressInfo } from 'node:net';
import { TailorError } from '../../errors.ts';
import type { UsageView } from './view.ts';
import { Exposition } from './exposition.ts';
import { cadvisor } from './exporters/cadvisor.ts';
import { dcgm } from './exporters/dcgm.ts';
import { kubeStateMetrics } from './exporters/kube-state-metrics.ts';
import { kubeletVolumes } from './exporters/kubelet-volumes.ts';
import { runtimes } from './exporters/runtimes.ts';
import { podExposition, podTargets } from './pod-targets.ts';

/** Every exporter's series in one exposition, as one scrape of all the simulated targets. */
export function exposition(view: UsageView): string {
  const e = new Exposition();
  cadvisor(e, view);
  kubeStateMetrics(e, view);
  dcgm(e, view);
  runtimes(e, view);
  kubeletVolumes(e, view);
  return e.text();
}

export class PrometheusEndpoint {
  private server?: Server;
  private close: () => Promise<void> = () => Promise.resolve();
  port = 0;

  constructor(private readonly view: UsageView) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      // Each inference server on its own, for a `kubernetes-pods` job through http_sd (./pod-targets.ts).
      const one = /^\/metrics\/pods\/([^/]+)\/([^/?]+)/.exec(req.url ?? '');
      if (one) {
        const body = podExposition(this.view, decodeURIComponent(one[1]!), decodeURIComponent(one[2]!));
        if (body === undefined) res.writeHead(404).end('no metrics served by that pod\n');
        else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
        return;
      }
      if (req.url?.startsWith('/sd/kubernetes-pods')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(podTargets(this.view, `127.0.0.1:${this.port}`)));
        return;
      }
      if (req.url?.startsWith('/metrics')) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(exposition(this.view));
        return;
      }
      res.writeHead(404).end('not found: try /metrics\n');
    });
    this.close = closer(this.server);
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new TailorError('InvalidInput', `port ${port} on 127.0.0.1 is already in use`, {
                hint: 'pass --prometheus-port 0 for any free port',
              })
            : err,
        ),
      );
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    // A scraper holds keep-alive connections: close() alone waits for them forever.
    await this.close();
  }
}
