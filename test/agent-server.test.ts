/**
 * agent-server: a real agent listening on 127.0.0.1 (port 0) with real ONNX Runtime sessions. The
 * manifest changes on disk (as after `npm run export` or a ConfigMap update) and the agent follows
 * without a restart, while a stream of requests runs and none of them fails; a tampered model and a bad
 * manifest are refused and the old model keeps serving; rollback over HTTP; a restart keeps the
 * activated version; a graceful close finishes in-flight requests; `main.ts` starts, answers and exits 0
 * on SIGTERM. Waits are "until a condition holds" with a generous deadline, never timing assertions.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startAgent } from '../resource-agent/server.js';
import type { RunningAgent } from '../resource-agent/server.js';
import { createAgent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import type { AgentOptions } from '../resource-agent/options.js';
import { activate, family, readManifest, writeManifest } from './helpers/manifest.js';
import { FEATURE_NAMES } from '../src/families/container-resources/features.js';
import { FEATURES, makeStore } from './helpers/model-store.js';
import type { TempStore } from './helpers/model-store.js';
import { IN_CI, REPO } from './helpers/env.js';

const ARR = FEATURE_NAMES.map((n) => FEATURES[n]);
const TOKEN = 'server-test-token';
const running: RunningAgent[] = [];
const stores: TempStore[] = [];
afterAll(async () => {
  for (const a of running) await a.close();
  for (const s of stores) s.cleanup();
});

async function start(s: TempStore, o: Partial<AgentOptions> = {}): Promise<RunningAgent> {
  const tokenFile = join(s.dir, 'token');
  writeFileSync(tokenFile, TOKEN);
  const a = await startAgent({ ...AGENT_DEFAULTS, manifest: s.manifestPath, port: 0, adminTokenFile: tokenFile, pollIntervalMs: 200, ...o }, { logger: false, defaultMetrics: false });
  running.push(a);
  return a;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, deadlineMs = 20_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Response bodies are checked field by field.
type Json = any;
const json = async (r: Response): Promise<Json> => r.json();
const getJson = async (a: RunningAgent, path: string): Promise<Json> => json(await fetch(a.url + path));
const recommend = (a: RunningAgent) => fetch(a.url + '/v1/recommend', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: ARR }) });
const servingIs = (a: RunningAgent, v: string) => waitFor(`serving ${v}`, async () => (await getJson(a, '/readyz')).serving === v);

describe('a listening agent follows its manifest', () => {
  it('reloads on manifest changes with no failed request; refuses a tampered model and a bad manifest; rolls back over HTTP', async () => {
    const s = makeStore([1, 2]);
    stores.push(s);
    const a = await start(s);
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await getJson(a, '/readyz')).serving).toBe('1.1.0');

    // A load of concurrent requests runs through everything below; none may fail.
    let stop = false;
    const statuses = new Map<number, number>();
    const versionsSeen = new Set<string>();
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const r = await recommend(a);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        versionsSeen.add((await json(r)).modelVersion);
      }
    });

    // 1. A new export (1.2.0, active) is picked up without a restart.
    s.addVersion(3);
    await servingIs(a, '1.2.0');

    // 2. An operator edits the manifest's active back to 1.0.0.
    writeManifest(s.manifestPath, activate(readManifest(s.manifestPath), '1.0.0'));
    await servingIs(a, '1.0.0');

    // 3. A tampered new model is refused; 1.0.0 keeps serving; /readyz and /metrics say why.
    const v = s.addVersion(4); // 1.3.0
    s.tamper(v);
    const refused = await waitFor('1.3.0 refused', async () => {
      const r = await getJson(a, '/readyz');
      return r.refused.some((x: { version: string }) => x.version === '1.3.0') && r;
    });
    expect([refused.ready, refused.serving, refused.active]).toEqual([true, '1.0.0', '1.3.0']);
    expect(refused.activeError).toMatch(/active version 1.3.0 is refused \(file models\/predictor_v1.3.0.onnx has sha256 .*\); still serving 1.0.0/);
    expect(await (await fetch(a.url + '/metrics')).text()).toContain('resource_agent_model_load_failures_total{kind="checksum",family="container-resources"} 1');

    // 4. Rollback over HTTP: previousActive of the manifest is 1.0.0 → active 1.0.0, previous 1.3.0.
    const rb = await fetch(a.url + '/v1/rollback', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect([rb.status, await json(rb)]).toEqual([200, { changed: true, active: '1.0.0', previousActive: '1.3.0', serving: '1.0.0' }]);
    expect(family(readManifest(s.manifestPath))).toMatchObject({ active: '1.0.0', previousActive: '1.3.0' });

    // 5. Activate 1.2.0 over HTTP.
    const act = await fetch(a.url + '/v1/models/1.2.0/activate', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await json(act)).serving).toBe('1.2.0');

    // 6. A manifest that does not parse is refused; 1.2.0 keeps serving.
    writeFileSync(s.manifestPath, '{"schemaVersion": 1, "families": {');
    const bad = await waitFor('manifest refused', async () => {
      const r = await getJson(a, '/readyz');
      return r.manifestError && r;
    });
    expect([bad.ready, bad.serving]).toEqual([true, '1.2.0']);
    expect(bad.manifestError).toMatch(/not valid JSON/);
    expect(await (await fetch(a.url + '/metrics')).text()).toContain('resource_agent_model_manifest_error{family="container-resources"} 1');

    stop = true;
    await Promise.all(loops);
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)).toBeGreaterThan(0);
    for (const x of versionsSeen) expect(['1.0.0', '1.1.0', '1.2.0']).toContain(x);
  });

  it('follows a ConfigMap-style update (the ..data symlink swapped atomically) by fs.watch alone, no poll', async () => {
    const s = makeStore([1, 2]);
    stores.push(s);
    // A ConfigMap volume: cm/..v1/{manifest.json,models/}, cm/..data -> ..v1, cm/manifest.json -> ..data/manifest.json
    const cm = join(s.dir, 'cm');
    const version = (name: string, active: string) => {
      cpSync(join(s.dir, 'models'), join(cm, name, 'models'), { recursive: true });
      writeManifest(join(cm, name, 'manifest.json'), activate(readManifest(s.manifestPath), active));
    };
    version('..v1', '1.1.0');
    symlinkSync('..v1', join(cm, '..data'));
    symlinkSync('..data/manifest.json', join(cm, 'manifest.json'));
    symlinkSync('..data/models', join(cm, 'models'));
    const a = await startAgent({ ...AGENT_DEFAULTS, manifest: join(cm, 'manifest.json'), port: 0, pollIntervalMs: 0 }, { logger: false, defaultMetrics: false });
    running.push(a);
    expect((await getJson(a, '/readyz')).serving).toBe('1.1.0');
    version('..v2', '1.0.0');
    symlinkSync('..v2', join(cm, '..data_tmp'));
    renameSync(join(cm, '..data_tmp'), join(cm, '..data'));
    await servingIs(a, '1.0.0');
  });

  it('a restart serves the version activated over HTTP before it', async () => {
    const s = makeStore([1, 2]);
    stores.push(s);
    const first = await start(s);
    await fetch(first.url + '/v1/models/1.0.0/activate', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    await first.close();
    const second = await start(s);
    expect(await getJson(second, '/readyz')).toMatchObject({ ready: true, serving: '1.0.0', active: '1.0.0', previousActive: '1.1.0' });
  });

  it('close() turns /readyz to 503 at once and finishes in-flight requests', async () => {
    const s = makeStore([1]);
    stores.push(s);
    const a = await start(s, { shutdownDelayMs: 300 });
    const items = Array.from({ length: 5000 }, () => ({ features: ARR }));
    const inflight = fetch(a.url + '/v1/recommend/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
    await new Promise((r) => setTimeout(r, 20));
    const closing = a.close();
    const ready = await fetch(a.url + '/readyz');
    expect([ready.status, (await json(ready)).reason]).toEqual([503, 'shutting down']);
    const r = await inflight;
    expect(r.status).toBe(200);
    expect((await json(r)).count).toBe(5000);
    await closing;
  });
});

describe('npm start (resource-agent/main.ts)', () => {
  const node = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['--import', 'tsx', 'resource-agent/main.ts', ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env } });

  it('--help prints every flag; a bad flag is one error line and exit 2', () => {
    const h = node(['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('--admin-token-file PATH');
    const bad = node(['--port', 'x']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toEqual(["error: --port: 'x' is not a whole number"]);
  });

  it('starts, logs JSON, serves, and exits 0 on SIGTERM', async () => {
    const s = makeStore([1]);
    stores.push(s);
    const child = spawn(process.execPath, ['--import', 'tsx', 'resource-agent/main.ts', '--port', '0', '--manifest', s.manifestPath], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = await waitFor('the listening log line', async () => {
      const line = out.split('\n').find((l) => l.includes('Server listening at'));
      return line ? (JSON.parse(line).msg as string).replace('Server listening at ', '') : undefined;
    });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.some((l) => l.msg === 'version 1.0.0 verified and loaded' && l.level === 'info')).toBe(true);
    const r = await fetch(url + '/v1/recommend', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: FEATURES }) });
    expect([r.status, (await json(r)).modelVersion]).toEqual([200, '1.0.0']);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"stopped"');
  });
});

describe('the shipped default store', () => {
  const manifest = resolve(REPO, 'manifest.json');
  it('serves the shipped model from ./manifest.json with the default options', async (ctx) => {
    if (!existsSync(manifest)) {
      if (IN_CI) throw new Error(`${manifest} is absent: the shipped default store must be committed`);
      ctx.skip(`${manifest} is absent (the shipped default store is made by npm run export)`);
    }
    const agent = await createAgent({ ...AGENT_DEFAULTS }, { logger: false, defaultMetrics: false });
    try {
      await agent.stores.start();
      const ready = await agent.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode, ready.body).toBe(200);
      const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES } });
      expect(r.statusCode).toBe(200);
      const b = r.json();
      expect(b.modelVersion).toBe(family(readManifest(manifest)).active);
      // a ~0.3-core, ~300Mi container: the answer is in a plausible range, limit ≥ request
      expect(b.cpu.request.millicores).toBeGreaterThanOrEqual(10);
      expect(b.cpu.limit.millicores).toBeGreaterThanOrEqual(b.cpu.request.millicores);
      expect(b.memory.limit.bytes).toBeGreaterThanOrEqual(b.memory.request.bytes);
    } finally {
      await agent.app.close();
      await agent.stores.close();
    }
  });
});
