/**
 * agent-harness: the agents, sockets and bodies the hostile-probe tests share: test/agent-reliability.test.ts
 * (issue "Reliability": bounded work, slow clients, shutdown), test/agent-reliability-2.test.ts (a body's
 * cost, shape and timing) and test/agent-reliability-2-models.test.ts (refused versions, job attributes,
 * the dashboard's paths, risk). Every agent started here is closed by closeAll (call it in afterAll).
 */
import { expect } from 'vitest';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAgent } from '../../resource-agent/app.js';
import type { Agent, AgentDeps } from '../../resource-agent/app.js';
import { startAgent } from '../../resource-agent/server.js';
import type { RunningAgent } from '../../resource-agent/server.js';
import { AGENT_DEFAULTS } from '../../resource-agent/options.js';
import type { AgentOptions } from '../../resource-agent/options.js';
import { FEATURE_NAMES, normalizeOutputs } from '../../src/families/container-resources/features.js';
import { GiB, MiB } from '../../src/core/units.js';
import { constLoad, FEATURES, makeStore } from './model-store.js';
import type { TempStore } from './model-store.js';
import { REPO } from './env.js';
import { shippedJobStore } from './shipped-jobs.js';

/** Json: a parsed answer body, read field by field. */
export type Json = any;
export const ARR = FEATURE_NAMES.map((n) => FEATURES[n]);
export const TOKEN = 'reliability-token-42';
export const CONST_OUT = normalizeOutputs([0.2481, 0.2, 300.2 * MiB, 1.3 * GiB, 0.9], ARR);
export const T0 = 1_700_000_000;
export const auth = { authorization: `Bearer ${TOKEN}` };
export const JSON_HEADERS = { 'content-type': 'application/json' };

export const cleanups: (() => Promise<void> | void)[] = [];
/** closeAll closes every agent and store the helpers started, newest first (each test file's afterAll). */
export async function closeAll(): Promise<void> {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
}

/** tokenFile writes TOKEN into the store's folder and returns its path. */
export function tokenFile(s: { dir: string }): string {
  const f = join(s.dir, 'token');
  writeFileSync(f, TOKEN);
  return f;
}

/** inProcess: an in-process agent (app.inject) on a store of versions 1.0.0 and 1.1.0 answering CONST_OUT. */
export async function inProcess(o: Partial<AgentOptions> = {}, deps: AgentDeps = {}, s: TempStore = makeStore([1, 2])): Promise<{ agent: Agent; store: TempStore }> {
  const agent = await createAgent({ ...AGENT_DEFAULTS, manifest: s.manifestPath, adminTokenFile: tokenFile(s), ...o }, { logger: false, defaultMetrics: false, load: constLoad(CONST_OUT), ...deps });
  await agent.stores.start();
  cleanups.push(async () => {
    await agent.app.close();
    await agent.stores.close();
    s.cleanup();
  });
  return { agent, store: s };
}

/** listening starts a real agent; `seen()` counts the requests whose headers it has read (an onRequest hook). */
export async function listening(o: Partial<AgentOptions> = {}, deps: AgentDeps = {}, s: TempStore = makeStore([1, 2])): Promise<{ agent: RunningAgent; store: TempStore; seen: () => number }> {
  let seen = 0;
  const agent = await startAgent({ ...AGENT_DEFAULTS, manifest: s.manifestPath, port: 0, adminTokenFile: tokenFile(s), pollIntervalMs: 200, ...o }, {
    logger: false,
    defaultMetrics: false,
    load: constLoad(CONST_OUT),
    ...deps,
  });
  // startAgent has already listened: count requests from the raw server, before fastify
  agent.app.server.prependListener('request', () => void seen++);
  cleanups.push(async () => {
    await agent.close();
    s.cleanup();
  });
  return { agent, store: s, seen: () => seen };
}

/** waitFor polls fn every 25 ms until it gives a value, or throws after the deadline naming `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, deadlineMs = 15_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** raw sends bytes on a fresh socket and collects what comes back until the server closes it. */
export function rawSocket(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (d) => (data += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  return { socket, received: () => data, closed };
}
export const statusOf = (raw: string) => Number(/^HTTP\/1.1 (\d+)/.exec(raw)?.[1]);
export const errorBodyOf = (raw: string): Json => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));

/** window builds an n-sample window, 5 minutes apart, from T0. */
export function window(n: number, step = 300, seed = 1) {
  const timestampsSec = Array.from({ length: n }, (_, i) => T0 + i * step);
  return { timestampsSec, cpuCores: timestampsSec.map((_, i) => 0.1 + ((i * seed) % 7) * 0.0123), memoryBytes: timestampsSec.map((_, i) => GiB + ((i * seed) % 11) * 1234567) };
}

/** emptyObjects: a body of `prefix` + "{},{},…" + `suffix`, just under `bytes` long (the probe's shape). */
export function emptyObjects(bytes: number, prefix: string, suffix: string): string {
  const n = Math.floor((bytes - prefix.length - suffix.length - 16) / 3);
  return prefix + '{},'.repeat(n) + '{}' + suffix;
}

/** jobAgent: an in-process agent serving the shipped build-jobs model with ONNX Runtime; `attrs` is a valid job. */
export async function jobAgent(): Promise<{ agent: Agent; attrs: Record<string, unknown> }> {
  const s = shippedJobStore(REPO);
  const agent = await createAgent({ ...AGENT_DEFAULTS, manifest: s.manifestPath, adminTokenFile: null }, { logger: false, defaultMetrics: false });
  await agent.stores.start();
  cleanups.push(async () => {
    await agent.app.close();
    await agent.stores.close();
    s.cleanup();
  });
  const ok = await agent.app.inject({ method: 'POST', url: '/v1/jobs/build-jobs/recommend', payload: { attributes: s.attributes } });
  expect(ok.statusCode, ok.body).toBe(200);
  return { agent, attrs: s.attributes };
}
