/**
 * agent-reliability: the defects found by probing the agent as a hostile or careless user would (issue
 * "Reliability: the agent under hostile and careless use"), one describe per defect, each test written to
 * fail on the code before its fix. Waits are "until a condition holds" with a deadline, never timing
 * assertions; servers listen on 127.0.0.1 port 0 only.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createAgent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import { parseBatch } from '../resource-agent/input.js';
import { computeFeatures, FEATURE_NAMES, FLOOR_NOTE, normalizeFeatures } from '../src/families/container-resources/features.js';
import { containerServing } from '../src/families/container-resources/serving/index.js';
import { GiB, MiB } from '../src/core/units.js';
import { modelPath, readManifest, family } from './helpers/manifest.js';
import type { OnnxPredictor } from '../src/onnx/runtime.js';
import { constLoad, FEATURES, makeStore } from './helpers/model-store.js';
import { ARR, auth, cleanups, closeAll, CONST_OUT, errorBodyOf, inProcess, listening, rawSocket, T0, TOKEN, tokenFile, waitFor } from './helpers/agent-harness.js';
import type { Json } from './helpers/agent-harness.js';

afterAll(closeAll);

/** window builds an n-sample window, 5 minutes apart, from T0. */
function window(n: number, step = 300) {
  const timestampsSec = Array.from({ length: n }, (_, i) => T0 + i * step);
  return { timestampsSec, cpuCores: timestampsSec.map((_, i) => 0.1 + (i % 7) * 0.01), memoryBytes: timestampsSec.map((_, i) => GiB + (i % 11) * MiB) };
}

/** gatedLoad: a constant predictor whose predict() waits until `open()` is called. */
function gatedLoad() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  const base = constLoad(CONST_OUT);
  const load = async (b: Uint8Array, l: string): Promise<OnnxPredictor> => {
    const p = await base(b, l);
    return { ...p, predict: async (x: Float32Array, n: number) => (calls++, await gate, p.predict(x, n)) };
  };
  return { load, open: () => release(), calls: () => calls };
}

const getJson = async (url: string): Promise<Json> => (await fetch(url)).json();


describe('1. memory and work are bounded per request and in flight', () => {
  it('EXPECTED FAILURE - a batch of 33 windows × 100,000 samples (the probe, ~32 MB) is 413 before its body is read', async () => {
    const { agent } = await listening();
    // Only the length matters: the agent must refuse on Content-Length, before reading the body.
    const sock = rawSocket(agent.port);
    sock.socket.write(`POST /v1/recommend/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${32 * MiB}\r\n\r\n{"items":[`);
    await waitFor('an answer', () => sock.received().includes('\r\n\r\n{'));
    expect(sock.received()).toMatch(/^HTTP\/1.1 413 /);
    expect(errorBodyOf(sock.received()).error).toMatchObject({ code: 'BODY_TOO_LARGE', status: 413 });
    sock.socket.destroy();
  });

  it('EXPECTED FAILURE - windows whose samples exceed --max-batch-samples are 413 TOO_MANY_SAMPLES naming the item', async () => {
    const { agent } = await inProcess({ maxBatchSamples: 5000 });
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items: [{ window: window(3000) }, { window: window(3000) }] } });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatchObject({ code: 'TOO_MANY_SAMPLES', status: 413, field: 'items[1].window' });
  });

  it('EXPECTED FAILURE - bodies in flight beyond --max-inflight-body-bytes are 429 TOO_BUSY with Retry-After; probes still answer', async () => {
    const g = gatedLoad();
    // Each body (~1.3 MB of windows) is charged its bytes, its string and its parsed numbers (~3.6 MiB,
    // body.ts since issue 21): one fits in 6 MiB, two do not.
    const { agent } = await listening({ maxInflightBodyBytes: 6 * MiB }, { load: g.load });
    const body = JSON.stringify({ items: Array.from({ length: 20 }, () => ({ window: window(2016) })) });
    expect(body.length).toBeGreaterThan(MiB);
    const post = () => fetch(agent.url + '/v1/recommend/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const first = post();
    await waitFor('the first batch in the model', () => g.calls() > 0);
    const [second, third] = await Promise.all([post(), post()]);
    for (const r of [second, third]) {
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(((await r.json()) as Json).error).toMatchObject({ code: 'TOO_BUSY', status: 429 });
    }
    expect((await fetch(agent.url + '/healthz')).status).toBe(200);
    expect((await fetch(agent.url + '/readyz')).status).toBe(200);
    g.open();
    expect((await first).status).toBe(200);
    // the budget is released when an answer ends
    expect((await post()).status).toBe(200);
  });

  it('EXPECTED FAILURE - reading a heavy batch yields to the event loop (a probe is not held behind it)', async () => {
    const adapter = containerServing.adapter(containerServing.defaultBounds);
    const items = Array.from({ length: 60 }, () => ({ window: window(5000) }));
    let turns = 0;
    let stop = false;
    const tick = () => {
      if (stop) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const parsed = await parseBatch(adapter, 12, { items }, 10_000, { maxSamples: 1_000_000 });
    stop = true;
    expect(parsed.n).toBe(60);
    expect(turns).toBeGreaterThan(1);
  });
});

describe('2. shutdown stays inside the grace period', () => {
  it('EXPECTED FAILURE - an answer in flight at SIGTERM closes its keep-alive connection, and close() finishes', async () => {
    const g = gatedLoad();
    const { agent } = await listening({}, { load: g.load });
    const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const answer = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest(agent.url + '/v1/recommend', { method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ features: ARR }));
    });
    await waitFor('the request in the model', () => g.calls() > 0);
    const closed = agent.close();
    await new Promise((r) => setTimeout(r, 50));
    g.open();
    expect(await answer).toEqual({ status: 200, connection: 'close' });
    await closed; // before the fix: only after fastify's 72 s keep-alive timeout
    keepAlive.destroy();
  }, 30_000);

  it('EXPECTED FAILURE - a request that never finishes is cut at --shutdown-timeout-ms', async () => {
    const g = gatedLoad();
    const { agent } = await listening({ shutdownTimeoutMs: 500 }, { load: g.load });
    const sock = rawSocket(agent.port);
    const body = JSON.stringify({ features: ARR });
    sock.socket.write(`POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await waitFor('the request in the model', () => g.calls() > 0);
    await agent.close(); // the gate never opens
    await sock.closed;
  }, 30_000);
});

describe('3. a model file changed under a running agent is noticed', () => {
  it('EXPECTED FAILURE - a flipped byte in the active model shows in /readyz and /metrics on schedule; the verified copy keeps serving', async () => {
    const { agent, store } = await listening({ verifyIntervalMs: 200 });
    store.tamper('1.1.0');
    const ready = await waitFor('drift in /readyz', async () => {
      const r = await getJson(agent.url + '/readyz');
      return r.drift?.length ? r : undefined;
    });
    expect(ready.ready).toBe(true);
    expect(ready.serving).toBe('1.1.0');
    expect(ready.drift[0]).toMatchObject({ version: '1.1.0' });
    expect(ready.drift[0].reason).toMatch(/sha256 .*; the copy verified at load keeps serving/);
    const metrics = await (await fetch(agent.url + '/metrics')).text();
    expect(metrics).toContain('resource_agent_model_file_drift{family="container-resources"} 1');
    const r = await fetch(agent.url + '/v1/recommend', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: ARR }) });
    expect([r.status, ((await r.json()) as Json).modelVersion]).toEqual([200, '1.1.0']);
    // restoring the file clears it
    store.tamper('1.1.0');
    await waitFor('drift cleared', async () => ((await getJson(agent.url + '/readyz')).drift ?? []).length === 0);
  });

  it('EXPECTED FAILURE - with the schedule off, a change in the models folder is noticed through the watch', async () => {
    const { agent, store } = await listening({ verifyIntervalMs: 0, pollIntervalMs: 0 });
    store.tamper('1.0.0');
    const ready = await waitFor('drift in /readyz', async () => {
      const r = await getJson(agent.url + '/readyz');
      return r.drift?.length ? r : undefined;
    });
    expect(ready.drift.map((d: Json) => d.version)).toEqual(['1.0.0']);
  });
});

describe('4. real monitoring data is accepted', () => {
  it('EXPECTED FAILURE - a repeated timestamp in a 2,016-sample window is merged (CPU mean, memory max) with a warning', async () => {
    const { agent } = await inProcess();
    const w = window(2016);
    // sample 100 repeated: a second row with other values at the same time
    w.timestampsSec.splice(101, 0, w.timestampsSec[100]!);
    w.cpuCores.splice(101, 0, 0.5);
    w.memoryBytes.splice(101, 0, 3 * GiB);
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { window: w } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().warnings).toEqual(['window.timestampsSec: 1 repeated timestamp merged into one sample (CPU the mean, memory the maximum)']);
    // the features are those of the merged window
    const merged = window(2016);
    merged.cpuCores[100] = (merged.cpuCores[100]! + 0.5) / 2;
    merged.memoryBytes[100] = 3 * GiB;
    const adapter = containerServing.adapter(containerServing.defaultBounds);
    const x = new Float32Array(12);
    adapter.readItem({ window: w }, x, 0);
    const f = computeFeatures(merged);
    expect(Array.from(x)).toEqual(Array.from(normalizeFeatures(FEATURE_NAMES.map((n) => f[n]))));
  });

  it('EXPECTED FAILURE - out-of-order samples are sorted when the window says "sort": true, with a warning', async () => {
    const { agent } = await inProcess();
    const w = window(10);
    [w.timestampsSec[3], w.timestampsSec[4]] = [w.timestampsSec[4]!, w.timestampsSec[3]!];
    expect((await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { window: w } })).json().error.message).toMatch(/send "sort": true/);
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { window: { ...w, sort: true } } });
    expect(r.statusCode, r.body).toBe(200);
    // the sort is said first; this window's memory request is also the mem_p50 floor, which says so after it
    expect(r.json().warnings).toEqual(['window.timestampsSec: 1 sample out of order, sorted by time', FLOOR_NOTE]);
  });

  it('EXPECTED FAILURE - one bad item in a batch of 10,000 fails only itself: per-item errors', async () => {
    const { agent } = await inProcess();
    const items = Array.from({ length: 10_000 }, () => ({ features: ARR }));
    items[4321] = { features: { ...FEATURES, throttle_ratio: 2 } as never };
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items } });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect([body.count, body.errors]).toEqual([10_000, 1]);
    expect(body.items[4321]).toEqual({ error: { code: 'INVALID_FIELD', status: 400, field: 'items[4321].features.throttle_ratio', message: expect.stringMatching(/between 0 and 1/) } });
    expect(body.items[4320].cpu.request.quantity).toBe('250m');
    expect(body.items[4322].cpu.request.quantity).toBe('250m');
  });
});

describe('5. reload failures are visible and typed', () => {
  it('EXPECTED FAILURE - a version file that is a directory (its size as the manifest says) is refused with a reason, counted; admin calls answer 409', async () => {
    const { agent, store } = await inProcess();
    const p = modelPath(store.manifestPath, store.entry('1.0.0'));
    rmSync(p);
    mkdirSync(p);
    writeFileSync(join(p, 'x'), 'y');
    // The manifest's size for 1.0.0 is the folder's, so only reading it can tell (EISDIR).
    const m = readManifest(store.manifestPath);
    const fam = family(m);
    const versions = fam.versions.map((v) => (v.version === '1.0.0' ? { ...v, bytes: statSync(p).size } : v));
    writeFileSync(store.manifestPath, JSON.stringify({ ...m, families: { 'container-resources': { ...fam, versions } } }, null, 2));
    await agent.stores.reload();
    const ready = (await agent.app.inject({ url: '/readyz' })).json();
    expect([ready.ready, ready.serving, ready.manifestError]).toEqual([true, '1.1.0', null]);
    expect(ready.refused).toEqual([{ version: '1.0.0', reason: 'file models/predictor_v1.0.0.onnx is a folder, not a model file' }]);
    const metrics = (await agent.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('resource_agent_model_load_failures_total{kind="checksum",family="container-resources"} 1');
    const act = await agent.app.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: auth });
    expect([act.statusCode, act.json().error.code]).toEqual([409, 'VERSION_NOT_VERIFIED']);
    const rb = await agent.app.inject({ method: 'POST', url: '/v1/rollback', headers: auth });
    expect([rb.statusCode, rb.json().error.code]).toEqual([409, 'VERSION_NOT_VERIFIED']);
  });

  it('EXPECTED FAILURE - a version entry naming the models folder itself is refused; the other versions still activate', async () => {
    const { agent, store } = await inProcess();
    // A version entry whose file is the store folder itself, "." : a path check passes, reading fails.
    const m = readManifest(store.manifestPath);
    const fam = family(m);
    const versions = fam.versions.map((v) => (v.version === '1.0.0' ? { ...v, file: 'models/.', bytes: statSync(join(store.dir, 'models')).size } : v));
    writeFileSync(store.manifestPath, JSON.stringify({ ...m, families: { 'container-resources': { ...fam, versions } } }, null, 2));
    await agent.stores.reload();
    const ready = (await agent.app.inject({ url: '/readyz' })).json();
    expect(ready.serving).toBe('1.1.0');
    expect(ready.refused[0].reason).toMatch(/is a folder, not a model file/);
    const act = await agent.app.inject({ method: 'POST', url: '/v1/models/1.1.0/activate', headers: auth });
    expect(act.statusCode).toBe(200);
  });
});

describe('6. slow clients are cut by timeouts', () => {
  it('EXPECTED FAILURE - a body trickled one byte at a time is cut at --request-timeout-ms with 408 REQUEST_TIMEOUT', async () => {
    const { agent } = await listening({ requestTimeoutMs: 1000 });
    const sock = rawSocket(agent.port);
    sock.socket.write('POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => sock.socket.writable && sock.socket.write(' '), 200);
    await sock.closed;
    clearInterval(trickle);
    expect(sock.received()).toMatch(/^HTTP\/1.1 408 /);
    expect(errorBodyOf(sock.received()).error).toMatchObject({ code: 'REQUEST_TIMEOUT', status: 408 });
  }, 30_000);

  it('EXPECTED FAILURE - headers trickled slowly are cut at --headers-timeout-ms', async () => {
    const { agent } = await listening({ headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const sock = rawSocket(agent.port);
    sock.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => sock.socket.writable && sock.socket.write('X-A: b\r\n'), 100);
    await sock.closed;
    clearInterval(trickle);
    expect(sock.received()).toMatch(/^HTTP\/1.1 408 /);
  }, 30_000);
});

describe('8. physical bounds name the likely mistake', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['mem_trend 1e308', { features: { ...FEATURES, mem_trend: 1e308 } }, 'features.mem_trend', /fraction of mean memory per day, between -10 and 10/],
    ['cpu_p99 in millicores', { features: { ...FEATURES, cpu_p50: 120, cpu_p95: 300, cpu_p99: 420 } }, 'features.cpu_p50', /looks like millicores/],
    ['memory in MiB', { features: { ...FEATURES, mem_p50: 256, mem_p95: 300, mem_p99: 320 } }, 'features.mem_p50', /looks like MiB or GiB, not bytes/],
    ['cpu_variance as a variance', { features: { ...FEATURES, cpu_variance: 1e6 } }, 'features.cpu_variance', /at most 100/],
    ['workload_age in seconds', { features: { ...FEATURES, workload_age: 2_592_000_000 } }, 'features.workload_age', /looks like seconds or milliseconds, not hours/],
    ['millisecond timestamps', { window: { ...window(3), timestampsSec: window(3).timestampsSec.map((t) => t * 1000) } }, 'window.timestampsSec[0]', /timestamps look like milliseconds; give seconds since the epoch/],
    ['millisecond workloadStartSec', { window: { ...window(3), workloadStartSec: T0 * 1000 } }, 'window.workloadStartSec', /look like milliseconds/],
  ];
  for (const [name, body, field, message] of cases) {
    it(`EXPECTED FAILURE - ${name} is 400 naming ${field} and the likely mistake`, async () => {
      const { agent } = await inProcess();
      const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: body as object });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error.field).toBe(field);
      expect(r.json().error.message).toMatch(message);
    });
  }
});

describe('9. no paths to unauthenticated callers; failed logins are logged and counted', () => {
  it('EXPECTED FAILURE - /readyz, /v1/models and a refused manifest never show the store folder', async () => {
    const { agent, store } = await inProcess();
    writeFileSync(store.manifestPath, '{ not json');
    await agent.stores.reload();
    for (const url of ['/readyz', '/v1/models', '/v1/families/container-resources/models', '/v1/models/9.9.9']) {
      const r = await agent.app.inject({ url });
      expect(r.body, url).not.toContain(store.dir);
    }
    expect((await agent.app.inject({ url: '/readyz' })).json().manifestError).toMatch(/^manifest.json: not valid JSON/);
  });

  it('EXPECTED FAILURE - a missing token file is 503 without its path; failed logins are logged at warn (no token) and counted', async () => {
    const lines: Json[] = [];
    const stream = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
    const s = makeStore([1]);
    const agent = await createAgent({ ...AGENT_DEFAULTS, manifest: s.manifestPath, adminTokenFile: tokenFile(s), logLevel: 'info' }, { defaultMetrics: false, load: constLoad(CONST_OUT), logger: { level: 'info', stream, formatters: { level: (label: string) => ({ level: label }) } } as never });
    await agent.stores.start();
    cleanups.push(async () => { await agent.app.close(); await agent.stores.close(); s.cleanup(); });
    const wrong = await agent.app.inject({ method: 'POST', url: '/v1/rollback', headers: { authorization: 'Bearer not-the-token-xyz' } });
    expect(wrong.statusCode).toBe(403);
    await agent.app.inject({ method: 'POST', url: '/v1/rollback' });
    const warns = lines.filter((l) => l.level === 'warn' && /admin/.test(l.msg));
    expect(warns.map((l) => l.reason)).toEqual(['FORBIDDEN', 'UNAUTHORIZED']);
    expect(JSON.stringify(lines)).not.toContain('not-the-token-xyz');
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    const metrics = (await agent.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('resource_agent_admin_auth_failures_total{reason="FORBIDDEN"} 1');
    expect(metrics).toContain('resource_agent_admin_auth_failures_total{reason="UNAUTHORIZED"} 1');
    rmSync(join(s.dir, 'token'));
    const gone = await agent.app.inject({ method: 'POST', url: '/v1/rollback', headers: auth });
    expect(gone.json().error.code).toBe('ADMIN_TOKEN_UNAVAILABLE');
    expect(gone.body).not.toContain(s.dir);
  });
});

describe('10. messages say what is wrong', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['a timestamp sent as a string', { window: { ...window(3), timestampsSec: [String(T0), T0 + 300, T0 + 600] } }, 'window.timestampsSec[0]', /is the string "1700000000"; expected a number/],
    ['a negative timestamp', { window: { ...window(3), timestampsSec: [-5, T0 + 300, T0 + 600] } }, 'window.timestampsSec[0]', /is -5; .*seconds since the epoch/],
  ];
  for (const [name, body, field, message] of cases) {
    it(`EXPECTED FAILURE - ${name}`, async () => {
      const { agent } = await inProcess();
      const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: body as object });
      expect(r.json().error.field).toBe(field);
      expect(r.json().error.message).toMatch(message);
      expect(r.json().error.message).not.toMatch(/cannot be negative|not finite|finite number/);
    });
  }

  it('EXPECTED FAILURE - a null version entry in the manifest is named, not "Cannot read properties of null"', async () => {
    const { agent, store } = await inProcess();
    const m = readManifest(store.manifestPath);
    const fam = family(m);
    writeFileSync(store.manifestPath, JSON.stringify({ ...m, families: { 'container-resources': { ...fam, versions: [null, ...fam.versions] } } }));
    await agent.stores.reload();
    expect((await agent.app.inject({ url: '/readyz' })).json().manifestError).toBe('manifest.json: families.container-resources.versions[0] is null; expected a version entry object');
  });

  it('EXPECTED FAILURE - headers over the limit are 431 with the documented body', async () => {
    const { agent } = await listening();
    const sock = rawSocket(agent.port);
    sock.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await sock.closed;
    expect(sock.received()).toMatch(/^HTTP\/1.1 431 /);
    expect(errorBodyOf(sock.received()).error).toMatchObject({ code: 'HEADERS_TOO_LARGE', status: 431 });
  });
});

// Defect 7 (export crash debris) is tested in export-crash.test.ts: it kills a real export process.
void mkdtempSync;
void tmpdir;
