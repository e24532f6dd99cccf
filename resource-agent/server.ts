/**
 * server: runs an agent for real: loads the stores, watches the manifest, listens, and shuts down
 * gracefully. main.ts calls it with parsed options; tests call it with port 0.
 *
 * Shutdown (SIGTERM in main.ts, or close()): /readyz turns 503 at once and every answer from then on
 * carries `Connection: close`; after `shutdownDelayMs` (time for the Service to drop the pod) the listener
 * closes, idle connections are closed, bodies still arriving are answered 503 SHUTTING_DOWN at once (the
 * client sends them to another replica), and fastify waits for the requests being answered to finish;
 * whatever is still open CUT_MARGIN_MS before the deadline (delay + `shutdownTimeoutMs` after the signal)
 * is cut; then the watchers stop and the ONNX Runtime sessions are released, waiting for the store's lock
 * no later than the deadline (a reload stuck in a model load is abandoned, and logged). So close()
 * resolves within delay + timeout (5 s + 20 s in the Deployment, inside its 30 s grace period), whatever
 * the clients and the store do.
 *
 * Model files are re-verified (sha256) every `verifyIntervalMs` and whenever their folder changes; a
 * file that drifted is reported (store.ts reverify) while the verified copy keeps serving.
 */
import type { AddressInfo } from 'node:net';
import { createAgent } from './app.js';
import type { Agent, AgentDeps } from './app.js';
import type { AgentOptions } from './options.js';
import { watchDirs, watchFile } from './watch.js';

/** connections still open this long before the shutdown deadline are cut (so close() ends by the deadline) */
export const CUT_MARGIN_MS = 250;

/** settle resolves true when `p` settles within `ms`, false when the time runs out first (p is left running). */
function settle(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const out = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
    p.then(() => resolve(true), () => resolve(true));
  });
  return out.finally(() => clearTimeout(timer));
}

/** RunningAgent: an agent listening on `url`; close() drains and stops it. */
export interface RunningAgent extends Agent {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** startAgent loads every served family's store, starts watching the manifest and listens on o.host:o.port. */
export async function startAgent(o: AgentOptions, deps: AgentDeps = {}): Promise<RunningAgent> {
  const agent = await createAgent(o, deps);
  const { app, stores } = agent;
  await stores.start();
  const reverify = () => void stores.reverify().catch((e: unknown) => app.log.error({ err: e }, 'model file re-verification failed'));
  const modelWatch = watchDirs(reverify, { onError: (e) => app.log.warn({ err: e.message }, 'fs.watch of a model folder failed; relying on --verify-interval-ms') });
  modelWatch.sync(stores.modelDirs());
  const afterReload = () => {
    modelWatch.sync(stores.modelDirs());
    reverify();
  };
  const watcher0 = watchFile(o.manifest, () => void stores.reload().then(afterReload, (e: unknown) => app.log.error({ err: e }, 'manifest reload failed')), {
    pollMs: o.pollIntervalMs,
    onError: (e) => app.log.warn({ err: e.message }, 'fs.watch failed; relying on the poll'),
  });
  const verifyTimer = o.verifyIntervalMs > 0 ? setInterval(reverify, o.verifyIntervalMs) : null;
  verifyTimer?.unref();
  const watcher = {
    close() {
      watcher0.close();
      modelWatch.close();
      if (verifyTimer) clearInterval(verifyTimer);
    },
  };
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    watcher.close();
    await stores.close();
    throw e;
  }
  const port = (app.server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      const deadline = Date.now() + o.shutdownDelayMs + o.shutdownTimeoutMs;
      agent.draining = true;
      app.log.info({ delayMs: o.shutdownDelayMs, timeoutMs: o.shutdownTimeoutMs }, 'shutting down: not ready, draining');
      if (o.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, o.shutdownDelayMs));
      watcher.close();
      // Requests still running near the deadline (a stuck client, an answer that never ends) are cut.
      const cut = setTimeout(() => {
        app.log.warn({ timeoutMs: o.shutdownTimeoutMs }, 'shutdown timeout: closing the connections still open');
        app.server.closeAllConnections();
      }, Math.max(0, deadline - Date.now() - Math.min(CUT_MARGIN_MS, o.shutdownTimeoutMs / 4)));
      try {
        const closed = app.close();
        // The listener is closing: a body still arriving would only be cut at the deadline; answer it now.
        const cutBodies = agent.bodies.shutdown();
        if (cutBodies > 0) app.log.info({ bodies: cutBodies }, 'shutting down: bodies still arriving answered 503');
        if (!(await settle(closed, deadline - Date.now()))) app.server.closeAllConnections();
      } finally {
        clearTimeout(cut);
      }
      if (!(await settle(stores.close(), deadline - Date.now()))) app.log.warn('shutdown deadline: the model store was still busy (a reload or a model load); stopping without waiting for it');
      app.log.info('stopped');
    })());
  return Object.assign(agent, { url: `http://${host}:${port}`, port, close });
}
