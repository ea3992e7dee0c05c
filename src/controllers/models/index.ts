// The model-serving controllers together: ModelDeployment -> owned objects, and the start-up boost
// release. `tailor models` runs them today; `tailor operator` adds `modelControllers(ctx)` to its list.
import type { Controller, OperatorContext } from '../controller.ts';
import { startupBoostController } from '../boost/controller.ts';
import { modelsController, type ModelsOptions } from './controller.ts';

export { modelsController, type ModelsOptions } from './controller.ts';
export { startupBoostController } from '../boost/controller.ts';
export { render, type Rendered } from './render.ts';

/** Both controllers, for an operator's controller list. */
export function modelControllers(ctx: OperatorContext, opts: ModelsOptions = {}): Controller[] {
  return [
    modelsController(ctx, opts),
    startupBoostController(ctx, opts.namespaces ? { namespaces: opts.namespaces } : {}),
  ];
}

/** Starts both; resolves once their caches have synced. The result stops them. */
export async function startModels(
  ctx: OperatorContext,
  opts: ModelsOptions = {},
): Promise<{ controllers: Controller[]; stop(): Promise<void> }> {
  const controllers = modelControllers(ctx, opts);
  const started: Controller[] = [];
  try {
    for (const c of controllers) {
      await c.start();
      started.push(c);
    }
  } catch (err) {
    await Promise.all(started.map((c) => c.stop()));
    throw err;
  }
  return { controllers, stop: () => Promise.all(controllers.map((c) => c.stop())).then(() => undefined) };
}
