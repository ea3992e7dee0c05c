// Each controller's work queue as client-go's workqueue metrics (depth, adds, retries, time waited),
// labelled by controller: a queue that only grows, or keeps retrying, is a controller falling behind.
import type { Controller } from '../controllers/controller.ts';
import type { OperatorMetrics } from './metrics.ts';

export function instrumentQueues(metrics: OperatorMetrics, controllers: readonly Controller[]): void {
  const { depth, adds, retries, queueSeconds } = metrics.workqueue;
  const queues = controllers.flatMap((c) => (c.queue ? [{ name: c.name, queue: c.queue }] : []));
  for (const { name, queue } of queues) {
    const controller = { controller: name };
    depth.set(controller, 0);
    adds.inc(controller, 0);
    retries.inc(controller, 0);
    queue.observe({
      added: () => adds.inc(controller),
      started: (s) => queueSeconds.observe(controller, s),
      retried: () => retries.inc(controller),
    });
  }
  // Depth is read at scrape time (prom-client calls a gauge's `collect` before reading it), so it
  // is never stale between changes.
  Object.assign(depth, {
    collect: () => {
      for (const { name, queue } of queues) depth.set({ controller: name }, queue.depth);
    },
  });
}
