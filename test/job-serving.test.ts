/**
 * job-serving: a job-memory data set is served from its model alone. A Galaxy tool that no code names
 * ("toolx", made by test/helpers/job-tool.ts) is trained through the family seam, exported into a store
 * whose manifest holds only job families, and served by an agent built with the registry as it is (no
 * list of data sets, no spec file): its routes, /docs example and /readyz. Then what it cannot serve:
 * an entry whose model file does not verify and one of an unknown family are named in /readyz (503)
 * while the rest is served; and a version whose preprocessing differs from the served one is refused
 * with the reason, until a restart serves it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolCsv } from './helpers/job-tool.js';
import { jobMemory } from '../src/families/job-memory/index.js';
import { getFamily, isFamilyName } from '../src/families/registry.js';
import { runJobModel, specOfModel } from '../src/families/job-memory/eval.js';
import { readJobTable, rawRow } from '../src/families/job-memory/data.js';
import { allocate } from '../src/families/job-memory/serving.js';
import { runTraining, TRAIN_DEFAULTS } from '../src/model/pipeline.js';
import { exportModel } from '../src/export/publish.js';
import { readManifest, writeManifest } from '../src/store/manifest.js';
import { createAgent } from '../resource-agent/app.js';
import { selectFamilies } from '../resource-agent/families.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import { FAMILIES } from '../src/families/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'job-serving-'));
const manifestPath = join(dir, 'store/manifest.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** train trains the tool's CSV at `csv` (a short network run) into `out` and returns the model file. */
async function train(csv: string, out: string): Promise<string> {
  const p = getFamily('job-memory').prepare!({ data: [{ path: csv, weight: 1 }], strategy: null, output: out });
  await runTraining(p.family, { ...TRAIN_DEFAULTS, data: [{ path: csv, weight: 1 }], output: out, epochs: 8, patience: 8, batchSize: 64, learningRate: 0.01, seed: 1, hyper: {}, log: () => {} });
  return join(out, `${p.family.fileStem}.onnx`);
}

const exportTo = (model: string) => exportModel({ model, outputDir: join(dir, 'store/models'), manifestPath, family: jobMemory.ofModel!(model), validation: null, rustPath: null });

const agentOf = async () => {
  const a = await createAgent({ ...AGENT_DEFAULTS, manifest: manifestPath }, { logger: false, defaultMetrics: false });
  await a.stores.start();
  return a;
};

let model1 = '';
beforeAll(async () => {
  toolCsv(join(dir, 'toolx.csv'), 400, 1);
  model1 = await train(join(dir, 'toolx.csv'), join(dir, 'm1'));
  exportTo(model1);
}, 120_000);

describe('a tool no code names, served from its model alone', () => {
  it('the registry knows job-memory/<any data set> as a member of job-memory', () => {
    expect(FAMILIES.map((f) => f.name)).toEqual(['container-resources', 'job-memory']);
    expect(isFamilyName('job-memory/toolx')).toBe(true);
    expect(getFamily('job-memory/toolx').name).toBe('job-memory/toolx');
    expect(() => getFamily('job-memory/tool x')).toThrow(/letters, digits/);
    expect(() => getFamily('nope')).toThrow(/not a registered model family/);
  });

  it('a jobs-only manifest: the agent serves job-memory/toolx (recommend, batch, models, /docs) and /readyz is 200', async () => {
    expect(Object.keys(readManifest(manifestPath).families)).toEqual(['job-memory/toolx']);
    const a = await agentOf();
    try {
      expect(a.families.map((f) => f.family.name)).toEqual(['job-memory/toolx']);
      const ready = await a.app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ ready: true, reason: null, unservable: [] });
      expect(Object.keys(ready.json().families)).toEqual(['job-memory/toolx']);

      const t = readJobTable(join(dir, 'm1/holdout.csv'));
      const spec = specOfModel(model1);
      const want = await runJobModel(model1, spec, t, [0, 1]);
      const bounds = a.families[0]!.family.serving.defaultBounds;
      const one = await a.app.inject({ method: 'POST', url: '/v1/jobs/toolx/recommend', payload: { id: 'j1', attributes: rawRow(t, 0) } });
      expect(one.statusCode).toBe(200);
      expect(one.json()).toMatchObject({ modelVersion: '1.0.0', id: 'j1', memory: { requestBytes: allocate(want.allocation[0]!, bounds) }, unseen: [] });
      const batch = await a.app.inject({ method: 'POST', url: '/v1/jobs/toolx/recommend/batch', payload: { items: [{ attributes: rawRow(t, 1) }, { attributes: { ...rawRow(t, 1), dbkey: 'danRer11' } }] } });
      expect(batch.json().items[0].memory.requestBytes).toBe(allocate(want.allocation[1]!, bounds));
      expect(batch.json().items[1].unseen).toEqual(['dbkey']);
      const models = await a.app.inject('/v1/families/job-memory/toolx/models');
      expect(models.json()).toMatchObject({ serving: '1.0.0' });
      // /docs: the route with an example built from the model's own vocabulary, which the agent answers
      const doc = (await a.app.inject('/openapi.json')).json();
      const op = doc.paths['/v1/jobs/toolx/recommend'].post;
      const example = op.requestBody.content['application/json'].schema.example ?? op.requestBody.content['application/json'].example;
      expect(Object.keys(example.attributes).sort()).toEqual(['dbkey', 'input_1', 'mode']);
      const ex = await a.app.inject({ method: 'POST', url: '/v1/jobs/toolx/recommend', payload: example });
      expect([ex.statusCode, ex.json().unseen]).toEqual([200, []]);
      // the container family is not in this manifest: not served, and not a reason to be unready
      expect((await a.app.inject({ method: 'POST', url: '/v1/recommend', payload: {} })).statusCode).toBe(404);
    } finally {
      await a.app.close();
      await a.stores.close();
    }
  }, 60_000);

  it('EXPECTED FAILURE - entries it cannot serve are named (log and /readyz 503) while the rest is served', async () => {
    const m = readManifest(manifestPath);
    const good = m.families['job-memory/toolx']!;
    const bad = { ...good, versions: good.versions.map((v) => ({ ...v, sha256: '0'.repeat(64) })) };
    const path2 = join(dir, 'store/manifest-bad.json');
    writeManifest(path2, { ...m, families: { ...m.families, 'job-memory/ghost': bad, 'weather/rain': good } });
    const sel = selectFamilies(FAMILIES, null, path2);
    expect(sel.families.map((f) => f.name)).toEqual(['job-memory/toolx']);
    const entries = sel.notServed.filter((n) => n.entry);
    expect(entries.map((n) => n.family)).toEqual(['job-memory/ghost', 'weather/rain']);
    expect(entries[0]!.reason).toMatch(/^no version of it can be read \(1\.0\.0: file models\/job-memory-toolx_v1\.0\.0\.onnx has sha256 .*, the manifest says 000000000000…\)$/);
    expect(entries[1]!.reason).toMatch(/^no registered model family serves it \(registered: container-resources, job-memory\)/);
    const a = await createAgent({ ...AGENT_DEFAULTS, manifest: path2 }, { logger: false, defaultMetrics: false });
    await a.stores.start();
    try {
      const r = await a.app.inject('/readyz');
      expect(r.statusCode).toBe(503);
      expect(r.json().reason).toMatch(/^job-memory\/ghost: in the manifest but not served: no version of it can be read/);
      expect(r.json().unservable.map((u: { family: string }) => u.family)).toEqual(['job-memory/ghost', 'weather/rain']);
      expect(r.json().families['job-memory/toolx'].ready).toBe(true);
      const t = readJobTable(join(dir, 'm1/holdout.csv'));
      expect((await a.app.inject({ method: 'POST', url: '/v1/jobs/toolx/recommend', payload: { attributes: rawRow(t, 0) } })).statusCode).toBe(200);
      // --family naming a member that is not in the manifest: not served, and said so
      expect(selectFamilies(FAMILIES, ['job-memory/absent'], path2).notServed.find((n) => n.family === 'job-memory/absent')).toMatchObject({ entry: true, reason: 'not in the manifest' });
    } finally {
      await a.app.close();
      await a.stores.close();
    }
  }, 60_000);

  it('EXPECTED FAILURE - a version with another vocabulary is refused until a restart serves it', async () => {
    const a = await agentOf();
    try {
      // toolx retrained on jobs with other genomes: another vocabulary, so another contract (2.0.0)
      mkdirSync(join(dir, 'v2'));
      toolCsv(join(dir, 'v2/toolx.csv'), 400, 2, ['hg19', 'mm9', '?']); // the same widths, another vocabulary
      const model2 = await train(join(dir, 'v2/toolx.csv'), join(dir, 'm2'));
      expect(exportTo(model2)).toMatchObject({ version: '2.0.0', detectedBump: 'major' });
      await a.stores.reload();
      const st = (await a.app.inject('/v1/families/job-memory/toolx/models')).json();
      expect(st.serving).toBe('1.0.0');
      const v2 = st.versions.find((v: { version: string }) => v.version === '2.0.0');
      expect(v2).toMatchObject({ status: 'refused' });
      expect(v2.reason).toMatch(/its preprocessing is not the one this agent serves for job-memory\/toolx \(its attributes or vocabularies differ; a new vocabulary is a new contract\); restart the agent to serve it$/);
      // the agent keeps serving 1.0.0 and says why it does not serve the active version
      expect((await a.app.inject('/readyz')).json().families['job-memory/toolx'].activeError).toMatch(/^active version 2\.0\.0 is refused \(.*restart the agent to serve it\); still serving 1\.0\.0$/);
      // a restart builds the family from the active version (2.0.0): it serves, and 1.0.0 is the one refused
      const b = await agentOf();
      try {
        expect((await b.app.inject('/readyz')).statusCode).toBe(200);
        const st2 = (await b.app.inject('/v1/families/job-memory/toolx/models')).json();
        expect(st2.serving).toBe('2.0.0');
        expect(st2.versions.find((v: { version: string }) => v.version === '1.0.0')).toMatchObject({ status: 'refused' });
      } finally {
        await b.app.close();
        await b.stores.close();
      }
    } finally {
      await a.app.close();
      await a.stores.close();
    }
  }, 120_000);
});
