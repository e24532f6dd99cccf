/**
 * server: runs an agent for real: loads the stores, watches the manifest, listens, and shuts down
 * gracefully. main.ts calls it with parsed options; tests call it with port 0.
 *
 * Shutdown (SIGTERM in main.ts, or close()): /readyz turns 503 at once and every answer from then on
 * carries `Connection: close`; after `shutdownDelayMs` (time for the Service to drop the pod) the listener
 * closes, idle connections are closed, and fastify waits for in-flight requests to finish, at most
 * `shutdownTimeoutMs`, after which the remaining connections are cut; then the watchers stop and the ONNX
 * Runtime sessions are released. So shutdown takes at most delay + timeout (5 s + 20 s in the Deployment,
 * inside its 30 s grace period), whatever the clients do.
 *
 * Model files are re-verified (sha256) every `verifyIntervalMs` and whenever their folder changes; a
 * file that drifted is reported (store.ts reverify) while the verified copy keeps serving.
 */
import type { AddressInfo } from 'node:net';
import { createAgent } from './app.js';
import type { Agent, AgentDeps } from './app.js';
import type { AgentOptions } from './options.js';
import { watchDirs, watchFile } from './watch.js';

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
      agent.draining = true;
      app.log.info({ delayMs: o.shutdownDelayMs }, 'shutting down: not ready, draining');
      if (o.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, o.shutdownDelayMs));
      watcher.close();
      // Requests still running after the timeout (a stuck client, a body never finished) are cut.
      const cut = setTimeout(() => {
        app.log.warn({ timeoutMs: o.shutdownTimeoutMs }, 'shutdown timeout: closing the connections still open');
        app.server.closeAllConnections();
      }, o.shutdownTimeoutMs);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
      await stores.close();
      app.log.info('stopped');
    })());
  return Object.assign(agent, { url: `http://${host}:${port}`, port, close });
}
