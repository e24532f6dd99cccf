/**
 * agent-reliability-2: the nine defects of the second hostile probe (issue 21, "a body's shape cannot
 * exhaust memory, idle clients cannot hold the budget, a refused model is looked at again"), one describe
 * per defect, each test written to fail on the code before its fix. Waits are "until a condition holds"
 * with a deadline, never timing assertions; servers listen on 127.0.0.1 port 0 only.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createAgent } from '../resource-agent/app.js';
import type { Agent, AgentDeps } from '../resource-agent/app.js';
import { startAgent } from '../resource-agent/server.js';
import type { RunningAgent } from '../resource-agent/server.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import type { AgentOptions } from '../resource-agent/options.js';
import { FEATURE_NAMES, normalizeOutputs } from '../src/families/container-resources/features.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { exportModel } from '../src/export/publish.js';
import { calibrateRisk } from '../src/core/risk.js';
import { GiB, MiB } from '../src/core/units.js';
import { family, modelPath, readManifest } from '../src/store/manifest.js';
import type { OnnxPredictor } from '../src/onnx/runtime.js';
import { constLoad, FEATURES, makeStore } from './helpers/model-store.js';
import type { TempStore } from './helpers/model-store.js';
import { shippedJobStore } from './helpers/shipped-jobs.js';
import { modelBytes } from './helpers/models.js';

type Json = any;
const REPO = join(import.meta.dirname, '..');
const ARR = FEATURE_NAMES.map((n) => FEATURES[n]);
const TOKEN = 'reliability-2-token-42';
const CONST_OUT = normalizeOutputs([0.2481, 0.2, 300.2 * MiB, 1.3 * GiB, 0.9], ARR);
const T0 = 1_700_000_000;
const auth = { authorization: `Bearer ${TOKEN}` };
const JSON_HEADERS = { 'content-type': 'application/json' };

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function tokenFile(s: { dir: string }): string {
  const f = join(s.dir, 'token');
  writeFileSync(f, TOKEN);
  return f;
}

async function inProcess(o: Partial<AgentOptions> = {}, deps: AgentDeps = {}, s: TempStore = makeStore([1, 2])): Promise<{ agent: Agent; store: TempStore }> {
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
async function listening(o: Partial<AgentOptions> = {}, deps: AgentDeps = {}, s: TempStore = makeStore([1, 2])): Promise<{ agent: RunningAgent; store: TempStore; seen: () => number }> {
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

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, deadlineMs = 10_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** raw sends bytes on a fresh socket and collects what comes back until the server closes it. */
function rawSocket(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (d) => (data += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  return { socket, received: () => data, closed };
}
const statusOf = (raw: string) => Number(/^HTTP\/1.1 (\d+)/.exec(raw)?.[1]);
const errorBodyOf = (raw: string): Json => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));

/** window builds an n-sample window, 5 minutes apart, from T0. */
function window(n: number, step = 300, seed = 1) {
  const timestampsSec = Array.from({ length: n }, (_, i) => T0 + i * step);
  return { timestampsSec, cpuCores: timestampsSec.map((_, i) => 0.1 + ((i * seed) % 7) * 0.0123), memoryBytes: timestampsSec.map((_, i) => GiB + ((i * seed) % 11) * 1234567) };
}

/** emptyObjects: a body of `prefix` + "{},{},…" + `suffix`, just under `bytes` long (the probe's shape). */
function emptyObjects(bytes: number, prefix: string, suffix: string): string {
  const n = Math.floor((bytes - prefix.length - suffix.length - 16) / 3);
  return prefix + '{},'.repeat(n) + '{}' + suffix;
}

/** jobAgent: an in-process agent serving the shipped build-jobs model with ONNX Runtime; `attrs` is a valid job. */
async function jobAgent(): Promise<{ agent: Agent; attrs: Record<string, unknown> }> {
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

describe('1. parse cost is bounded by the work a body asks for, not its bytes', () => {
  it('EXPECTED FAILURE - an 8 MiB batch of empty objects (~190 MiB to parse) is 413 BODY_TOO_COMPLEX, never parsed', async () => {
    const { agent } = await inProcess();
    const body = emptyObjects(8 * MiB - 64, '{"items":[{"x":[', ']}]}');
    expect(body.length).toBeLessThan(8 * MiB);
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend/batch', headers: JSON_HEADERS, payload: body });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(413);
    expect(r.json().error).toMatchObject({ code: 'BODY_TOO_COMPLEX', status: 413 });
    expect(r.json().error.message).toMatch(/objects/);
  }, 60_000);

  it('EXPECTED FAILURE - 1 MiB singles of that shape are 413 BODY_TOO_COMPLEX; the agent keeps answering', async () => {
    const { agent } = await listening();
    const body = emptyObjects(MiB - 64, '{"features":[', ']}');
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(agent.url + '/v1/recommend', { method: 'POST', headers: JSON_HEADERS, body })));
    for (const r of answers) {
      expect(r.status).toBe(413);
      expect(((await r.json()) as Json).error.code).toBe('BODY_TOO_COMPLEX');
    }
    expect((await fetch(agent.url + '/healthz')).status).toBe(200);
  }, 60_000);

  it('EXPECTED FAILURE - a legitimate 8 MiB batch is parsed in slices: the event loop turns while it is parsed', async () => {
    const { agent } = await inProcess();
    const body = JSON.stringify({ items: Array.from({ length: 125 }, (_, i) => ({ window: window(2016, 300, i + 1) })) });
    expect(body.length).toBeGreaterThan(7 * MiB);
    expect(body.length).toBeLessThan(8 * MiB);
    // turns of the event loop between the request's headers (onRequest) and its parsed body (preValidation)
    let turns = 0;
    let ticking = false;
    const tick = () => {
      if (!ticking) return;
      turns++;
      setImmediate(tick);
    };
    let during = -1;
    agent.app.addHook('onRequest', async () => {
      turns = 0;
      ticking = true;
      setImmediate(tick);
    });
    agent.app.addHook('preValidation', async () => {
      during = turns;
      ticking = false;
    });
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend/batch', headers: JSON_HEADERS, payload: body });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    expect(r.json().count).toBe(125);
    // one JSON.parse of 8 MiB is one turn; read in slices of at most 8 ms it is many
    expect(during).toBeGreaterThanOrEqual(4);
  }, 60_000);
});

describe('2. idle clients cannot hold the in-flight budget', () => {
  it('EXPECTED FAILURE - connections that send the headers of a large batch and one byte do not deny other POSTs', async () => {
    const { agent, seen } = await listening({ maxInflightBodyBytes: 2 * MiB, batchBodyLimitBytes: MiB, requestTimeoutMs: 60_000 });
    const idle = [rawSocket(agent.port), rawSocket(agent.port)];
    for (const s of idle) s.socket.write(`POST /v1/recommend/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MiB}\r\n\r\n{`);
    await waitFor('both idle requests seen', () => seen() >= 2);
    const single = await fetch(agent.url + '/v1/recommend', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ features: ARR }) });
    expect(single.status, await single.clone().text()).toBe(200);
    const batch = await fetch(agent.url + '/v1/recommend/batch', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ items: [{ features: ARR }] }) });
    expect(batch.status, await batch.clone().text()).toBe(200);
    const rollback = await fetch(agent.url + '/v1/rollback', { method: 'POST', headers: auth });
    expect(rollback.status).toBe(200);
    for (const s of idle) s.socket.destroy();
  }, 30_000);
});

describe('3. a refused version is looked at again', () => {
  it('EXPECTED FAILURE - the active file missing at start and copied in later: ready on the periodic check, without a restart', async () => {
    const s = makeStore([1]);
    const p = modelPath(s.manifestPath, s.entry('1.0.0'));
    const away = join(s.dir, 'away.onnx');
    renameSync(p, away);
    const { agent } = await listening({ verifyIntervalMs: 200 }, {}, s);
    expect((await fetch(agent.url + '/readyz')).status).toBe(503);
    renameSync(away, p);
    await waitFor('ready', async () => (await fetch(agent.url + '/readyz')).status === 200);
    const r = await fetch(agent.url + '/v1/recommend', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ features: ARR }) });
    expect([r.status, ((await r.json()) as Json).modelVersion]).toEqual([200, '1.0.0']);
  }, 30_000);

  it('EXPECTED FAILURE - with the schedule off, the file arriving in its folder is noticed through the watch', async () => {
    const s = makeStore([1]);
    const p = modelPath(s.manifestPath, s.entry('1.0.0'));
    const away = join(s.dir, 'away.onnx');
    renameSync(p, away);
    const { agent } = await listening({ verifyIntervalMs: 0, pollIntervalMs: 0 }, {}, s);
    expect((await fetch(agent.url + '/readyz')).status).toBe(503);
    copyFileSync(away, p);
    await waitFor('ready', async () => (await fetch(agent.url + '/readyz')).status === 200);
  }, 30_000);

  it('EXPECTED FAILURE - a manifest written before its model file: once the file is there, the periodic check verifies it and activate succeeds', async () => {
    const s = makeStore([1, 2, 3], '1.1.0');
    const p = modelPath(s.manifestPath, s.entry('1.2.0'));
    const away = join(s.dir, 'away.onnx');
    renameSync(p, away);
    const { agent } = await inProcess({}, {}, s);
    expect((await agent.app.inject({ method: 'POST', url: '/v1/models/1.2.0/activate', headers: auth })).statusCode).toBe(409);
    renameSync(away, p);
    await agent.stores.reverify(); // what --verify-interval-ms and the folder watch run
    const v = (await agent.app.inject({ url: '/v1/models/1.2.0' })).json();
    expect([v.status, v.reason]).toEqual(['verified', null]);
    const r = await agent.app.inject({ method: 'POST', url: '/v1/models/1.2.0/activate', headers: auth });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().serving).toBe('1.2.0');
  });

  it('EXPECTED FAILURE - a file restored after drift is verified again (not refused with the old sha256 forever)', async () => {
    const { agent, store } = await inProcess();
    store.tamper('1.0.0');
    const refused = await agent.app.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: auth });
    expect([refused.statusCode, refused.json().error.code]).toEqual([409, 'VERSION_NOT_VERIFIED']);
    store.tamper('1.0.0'); // flips the byte back
    await agent.stores.reverify();
    const r = await agent.app.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: auth });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().serving).toBe('1.0.0');
  });
});

describe('4. deep nesting is a 400 naming the field, never a 500; in a batch the item fails alone', () => {
  const deep = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as unknown;

  it('EXPECTED FAILURE - a job attribute nested 100,000 levels deep', async () => {
    const { agent, attrs } = await jobAgent();
    const body = `{"attributes":${JSON.stringify({ ...attrs, jobs: 0 }).replace('"jobs":0', `"jobs":${'['.repeat(100_000)}${']'.repeat(100_000)}`)}}`;
    const r = await agent.app.inject({ method: 'POST', url: '/v1/jobs/build-jobs/recommend', headers: JSON_HEADERS, payload: body });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(400);
    expect(r.json().error.field).toMatch(/^attributes\.jobs/);
    expect(r.body.length).toBeLessThan(4096);
  });

  it('EXPECTED FAILURE - in a batch, the deep item fails alone', async () => {
    const { agent, attrs } = await jobAgent();
    const good = JSON.stringify({ attributes: attrs });
    const bad = good.replace(/"jobs":[^,]+/, `"jobs":${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const r = await agent.app.inject({ method: 'POST', url: '/v1/jobs/build-jobs/recommend/batch', headers: JSON_HEADERS, payload: `{"items":[${good},${bad},${good}]}` });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    const b = r.json();
    expect([b.count, b.errors]).toEqual([3, 1]);
    expect(b.items[1].error.field).toMatch(/^items\[1\]\.attributes\.jobs/);
    expect(b.items[0].memory).toBeDefined();
    expect(b.items[2].memory).toBeDefined();
  });

  it('EXPECTED FAILURE - a moderately nested attribute (10 levels) is named in a short message', async () => {
    const { agent, attrs } = await jobAgent();
    const r = await agent.app.inject({ method: 'POST', url: '/v1/jobs/build-jobs/recommend', payload: { attributes: { ...attrs, branch: deep(10) } } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.field).toBe('attributes.branch');
    expect(r.json().error.message).toMatch(/is an array; give a string/);
  });
});

describe('5. no absolute path to unauthenticated callers of the dashboard API', () => {
  it('EXPECTED FAILURE - /ui/api/config, /ui/api/replay and /ui/api/reports show neither --reports nor --replay as given, nor a linked file\'s bytes', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'crp-reports-secret-'));
    const replay = mkdtempSync(join(tmpdir(), 'crp-replay-secret-'));
    const outside = mkdtempSync(join(tmpdir(), 'crp-outside-'));
    cleanups.push(() => {
      for (const d of [reports, replay, outside]) rmSync(d, { recursive: true, force: true });
    });
    writeFileSync(join(outside, 'passwd'), 'root-first-line:x:0:0:root:/root:/bin/bash\nsecond\n');
    symlinkSync(join(outside, 'passwd'), join(reports, 'linked.json'));
    writeFileSync(join(reports, 'broken.json'), 'secret-bytes-of-a-broken-file');
    const { agent } = await inProcess({ reports, replay });
    for (const url of ['/ui/api/config', '/ui/api/replay', '/ui/api/reports']) {
      const r = await agent.app.inject(url);
      expect(r.statusCode, url).toBe(200);
      for (const secret of [reports, replay, outside, tmpdir(), 'root-first-line', 'secret-bytes']) expect(r.body, `${url} shows ${secret}`).not.toContain(secret);
    }
    // what the pages need is still there: whether a folder is configured, and which files were skipped
    const list = (await agent.app.inject('/ui/api/reports')).json();
    expect(list.skipped.map((s: Json) => s.file).sort()).toEqual(['broken.json', 'linked.json']);
  });
});

describe('6. job attributes: absurd numbers and non-decimal strings are refused or flagged', () => {
  for (const [name, jobs] of [['1e300', 1e300], ['1.7e308', 1.7e308], ['"0x10"', '0x10'], ['"0b111110100"', '0b111110100'], ['"0o17"', '0o17']] as const) {
    it(`EXPECTED FAILURE - "jobs": ${name} is 400 naming attributes.jobs`, async () => {
      const { agent, attrs } = await jobAgent();
      const r = await agent.app.inject({ method: 'POST', url: '/v1/jobs/build-jobs/recommend', payload: { attributes: { ...attrs, jobs } } });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'INVALID_FIELD', field: 'attributes.jobs' });
    });
  }

  it('EXPECTED FAILURE - a value above the training maximum (2,000) but within what the model distinguishes is answered with a warning', async () => {
    const { agent, attrs } = await jobAgent();
    const r = await agent.app.inject({ method: 'POST', url: '/v1/jobs/build-jobs/recommend', payload: { attributes: { ...attrs, jobs: 3000 } } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().warnings).toEqual([expect.stringMatching(/^attributes\.jobs: 3000 is above the largest value in training \(2000\)/)]);
    const plain = await agent.app.inject({ method: 'POST', url: '/v1/jobs/build-jobs/recommend', payload: { attributes: { ...attrs, jobs: '500' } } });
    expect([plain.statusCode, plain.json().warnings]).toEqual([200, undefined]);
  });
});

describe('7. messages say what is wrong and show no bytes', () => {
  it('EXPECTED FAILURE - a 413 on the single route does not tell the caller to send fewer items', async () => {
    const { agent } = await inProcess();
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', headers: JSON_HEADERS, payload: JSON.stringify({ features: ARR, container: 'x'.repeat(MiB + 10) }) });
    expect(r.statusCode).toBe(413);
    expect(r.json().error.message).not.toMatch(/items/);
    expect(r.json().error.message).toMatch(/--body-limit-bytes/);
  });

  it('EXPECTED FAILURE - a gzip body is 415, with or without Content-Encoding, and the message shows no binary', async () => {
    const { agent } = await inProcess();
    const gz = gzipSync(JSON.stringify({ features: ARR }));
    for (const headers of [{ ...JSON_HEADERS, 'content-encoding': 'gzip' }, JSON_HEADERS]) {
      const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', headers, payload: gz });
      expect(r.statusCode, JSON.stringify(headers)).toBe(415);
      expect(r.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(r.json().error.message).toMatch(/gzip/);
      expect(r.json().error.message).toMatch(/^[\x20-\x7e\u00a0-\u2fff]*$/);
    }
  });

  it('EXPECTED FAILURE - broken JSON is named by position, without echoing the body', async () => {
    const { agent } = await inProcess();
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', headers: JSON_HEADERS, payload: '{"features": \u0001SECRET' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('BAD_JSON');
    expect(r.json().error.message).not.toContain('SECRET');
    expect(r.json().error.message).toMatch(/^[\x20-\x7e\u00a0-\u2fff]*$/);
  });

  it('EXPECTED FAILURE - workloadStartSec 1e300 is not called milliseconds, and no "1e+297" is suggested', async () => {
    const { agent } = await inProcess();
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { window: { ...window(3), workloadStartSec: 1e300 } } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.field).toBe('window.workloadStartSec');
    expect(r.json().error.message).not.toMatch(/milliseconds|e\+297/);
    expect(r.json().error.message).toMatch(/seconds since the epoch/);
  });
});

describe('8. shutdown stays inside delay + timeout', () => {
  it('EXPECTED FAILURE - a body still arriving when the listener closes is answered 503 at once, not at --shutdown-timeout-ms', async () => {
    const { agent, seen } = await listening({ shutdownTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    const sock = rawSocket(agent.port);
    sock.socket.write(`POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"features":`);
    await waitFor('the request seen', () => seen() >= 1);
    const closing = agent.close();
    await sock.closed; // before the fix: only at the 60 s timeout
    expect(statusOf(sock.received())).toBe(503);
    expect(errorBodyOf(sock.received()).error).toMatchObject({ code: 'SHUTTING_DOWN', status: 503 });
    await closing;
  }, 20_000);

  it('EXPECTED FAILURE - close() ends within delay + timeout even while a reload holds the store (a model load that never finishes)', async () => {
    const s = makeStore([1, 2]);
    let loads = 0;
    let stuck = 0;
    const base = constLoad(CONST_OUT);
    const load = async (b: Uint8Array, l: string): Promise<OnnxPredictor> => {
      if (++loads > 2) {
        stuck++;
        await new Promise(() => {}); // the third load (after start) never finishes
      }
      return base(b, l);
    };
    const { agent } = await listening({ shutdownTimeoutMs: 300, pollIntervalMs: 100 }, { load }, s);
    s.addVersion(3);
    await waitFor('a reload stuck in a model load', () => stuck > 0);
    await agent.close(); // before the fix: waits for the store's lock forever
  }, 20_000);
});

describe('9. risk: during a rollback to a version without a table, callers are answered, with a warning', () => {
  const TABLE = calibrateRisk({ mem_limit: Array.from({ length: 199 }, (_, i) => (i + 1) / 100), cpu_limit: Array.from({ length: 199 }, () => 2) }, { source: 'real.npz', groups: 34, windows: 199 });

  async function riskStore(): Promise<{ agent: Agent; dir: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'crp-risk2-'));
    const manifestPath = join(dir, 'manifest.json');
    // 1.0.0 without a risk table, 1.1.0 with one (active)
    for (const [seed, meta] of [[1, {}], [2, { risk_calibration: JSON.stringify(TABLE) }]] as const) {
      const input = join(dir, `in-${seed}.onnx`);
      writeFileSync(input, modelBytes(seed, undefined, meta));
      exportModel({ model: input, outputDir: join(dir, 'models'), manifestPath, family: containerResources, validation: null });
    }
    writeFileSync(join(dir, 'token'), TOKEN);
    const agent = await createAgent({ ...AGENT_DEFAULTS, manifest: manifestPath, adminTokenFile: join(dir, 'token') }, { logger: false, defaultMetrics: false, load: constLoad(CONST_OUT) });
    await agent.stores.start();
    cleanups.push(async () => {
      await agent.app.close();
      await agent.stores.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { agent, dir };
  }

  it('EXPECTED FAILURE - after a rollback to a version without a risk table, a "risk" item gets the model\'s own limits and a warning, not 400', async () => {
    const { agent } = await riskStore();
    const before = (await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR, risk: { memoryHold: 0.9 } } })).json();
    expect(before.risk.memory).toEqual({ requested: 0.9, target: 0.9, factor: 1.8 });
    expect((await agent.app.inject({ method: 'POST', url: '/v1/rollback', headers: auth })).json().serving).toBe('1.0.0');
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items: [{ features: ARR, risk: { memoryHold: 0.9, cpuHold: 0.95 } }, { features: ARR }] } });
    expect(r.statusCode, r.body).toBe(200);
    const [a, plain] = r.json().items;
    expect(r.json().errors).toBe(0);
    expect(a.memory.limit).toEqual(plain.memory.limit);
    expect(a.risk).toEqual({ memory: { requested: 0.9, target: null, factor: null }, cpu: { requested: 0.95, target: null, factor: null }, calibration: null });
    expect(a.warnings).toEqual([expect.stringMatching(/^risk: model version 1\.0\.0 has no risk calibration; answered with the model's own limits/)]);
  });

  it('EXPECTED FAILURE - a target above the calibrated ones is answered for the nearest certified target, with a warning', async () => {
    const { agent } = await riskStore();
    const r = await agent.app.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR, risk: { memoryHold: 0.999 } } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().risk.memory).toEqual({ requested: 0.999, target: 0.995, factor: expect.any(Number) });
    expect(r.json().warnings).toEqual([expect.stringMatching(/^risk\.memoryHold: 0\.999 is above the highest target model version 1\.1\.0 was calibrated for \(0\.995\); answered for 0\.995/)]);
  });

  it('EXPECTED FAILURE - the agent README\'s example factor and calibration are those the shipped model serves', () => {
    const readme = readFileSync(join(REPO, 'resource-agent/README.md'), 'utf8');
    const ex = /"risk": \{"memory": \{"requested": ([\d.]+), "target": ([\d.]+), "factor": ([\d.]+)\}[\s\S]*?"calibration": "([^"]+)"/.exec(readme);
    expect(ex, 'the README has a risk example').not.toBeNull();
    const v = family(readManifest(join(REPO, 'manifest.json'))).versions.find((x) => x.version === family(readManifest(join(REPO, 'manifest.json'))).active)!;
    const row = v.risk!.factors.mem_limit!.find(([t]) => t === Number(ex![2]))!;
    expect(Number(ex![3])).toBe(row[1]);
    const c = v.risk!.calibration;
    expect(ex![4]).toBe(`${c.windows} windows of ${c.groups} workloads (${c.source})`);
    // and it says that a factor below 1 lowers the request too, not only the limit
    expect(readme).toMatch(/below 1[^.]*request/);
  });
});
