/**
 * server: runs an agent for real: loads the stores, watches the manifest, listens, and shuts down
 * gracefully. main.ts calls it with parsed options; tests call it with port 0.
 *
 * Shutdown (SIGTERM in main.ts, or close()): /readyz turns 503 at once; after `shutdownDelayMs` (time for
 * the Service to drop the pod) the listener closes and fastify waits for in-flight requests to finish;
 * then the watcher stops and the ONNX Runtime sessions are released.
 */
import type { AddressInfo } from 'node:net';
import { createAgent } from './app.js';
import type { Agent, AgentDeps } from './app.js';
import type { AgentOptions } from './options.js';
import { watchFile } from './watch.js';

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
  const watcher = watchFile(o.manifest, () => void stores.reload().catch((e: unknown) => app.log.error({ err: e }, 'manifest reload failed')), {
    pollMs: o.pollIntervalMs,
    onError: (e) => app.log.warn({ err: e.message }, 'fs.watch failed; relying on the poll'),
  });
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
      await app.close();
      await stores.close();
      app.log.info('stopped');
    })());
  return Object.assign(agent, { url: `http://${host}:${port}`, port, close });
}
