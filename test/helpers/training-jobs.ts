/**
 * training-jobs: what the two training-job test files share (test/training-jobs.test.ts, in one agent;
 * test/training-jobs-replicas.test.ts, two real agent processes): the job bodies, a copy of the shipped
 * store with a token, polling until a condition holds, and a real agent process (`npm start`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SHARED_DATA } from './env.js';
import { freePort } from './prometheus.js';
import { copyStore } from './store-copy.js';

export const TRACES = join(SHARED_DATA, 'bitbrains-250');
export const JOB_CSV = join(SHARED_DATA, 'build-jobs', 'build-jobs.csv');
export const TOKEN = 'training-jobs-test-token';
export const auth = { authorization: `Bearer ${TOKEN}` };

/** A job of about 10 s: 60 VMs of July, 30 epochs. */
export const quick = { data: { traces: { paths: [TRACES], vms: '1-60' } }, training: { epochs: 30, patience: 10 } };
/** A job that trains long enough to be cancelled or interrupted mid-training. */
export const slow = { data: { traces: { paths: [TRACES], vms: '1-60' } }, training: { epochs: 5000, patience: 5000 } };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];

/** removeStores removes every store shippedStore made (each test file's afterAll). */
export function removeStores(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** shippedStore: a copy of the repository's store and a token file. */
export function shippedStore(): { dir: string; manifest: string; token: string } {
  const dir = copyStore(undefined, 'crp-jobs-');
  dirs.push(dir);
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  return { dir, manifest: join(dir, 'manifest.json'), token: join(dir, 'token') };
}

/** until polls `get` until `ok` holds (or throws after `ms`), returning the last value. */
export async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 120_000, every = 200): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out; last: ${JSON.stringify(v).slice(0, 600)}`);
    await sleep(every);
  }
}

/** processGone waits until `pid` no longer exists (or throws after 30 s). */
export async function processGone(pid: number): Promise<void> {
  await until(async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, (gone) => gone, 30_000);
}

/** AgentProcess: a real `npm start` (node --import tsx resource-agent/main.ts). */
export interface AgentProcess {
  url: string;
  proc: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startAgentProcess(store: ReturnType<typeof shippedStore>): Promise<AgentProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'resource-agent/main.ts'), '--manifest', store.manifest, '--admin-token-file', store.token, '--port', String(port), '--host', '127.0.0.1', '--log-level', 'warn', '--no-ui', '--no-docs', '--training-heartbeat-ms', '200', '--training-concurrency', '1'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await until(async () => {
    if (proc.exitCode !== null) throw new Error(`agent exited ${proc.exitCode}: ${stderr}`);
    try {
      return (await fetch(`${url}/healthz`)).ok;
    } catch {
      return false;
    }
  }, (ok) => ok, 60_000, 100);
  return {
    url,
    proc,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    },
  };
}
