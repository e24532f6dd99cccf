/**
 * agent-reliability-2-models: the second hostile probe (issue 21): the defects about models and answers:
 * a refused version is looked at again, no absolute path to the dashboard's unauthenticated callers, job
 * attributes, risk during a rollback. One describe per defect (numbered as in the issue; the body and
 * shutdown defects are in agent-reliability-2.test.ts), each test written to fail on the code before its
 * fix. Waits are "until a condition holds" with a deadline; servers listen on 127.0.0.1 port 0 only.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../resource-agent/app.js';
import type { Agent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { exportModel } from '../src/export/publish.js';
import { calibrateRisk } from '../src/core/risk.js';
import { REPO } from './helpers/env.js';
import { family, modelPath, readManifest } from './helpers/manifest.js';
import { constLoad, makeStore } from './helpers/model-store.js';
import { modelBytes } from './helpers/models.js';
import { ARR, auth, cleanups, closeAll, CONST_OUT, inProcess, jobAgent, JSON_HEADERS, listening, TOKEN, waitFor } from './helpers/agent-harness.js';
import type { Json } from './helpers/agent-harness.js';

afterAll(closeAll);

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
