/**
 * configmap-store: the model store as a Kubernetes ConfigMap (issue "A Kubernetes-native model store").
 * - the kubelet's update of a mounted ConfigMap, reproduced on disk exactly (a new timestamped folder,
 *   a `..data_tmp` symlink renamed over `..data`, then the user-visible symlinks added and removed, then the
 *   old folder deleted), under a load of requests: the agent switches with no failed request; the test
 *   prints the time to switch and the count of requests (a figure, not an assertion on time);
 * - activate and rollback on such a store answer 409 STORE_READ_ONLY naming the kubectl way;
 * - export into a ConfigMap store writes its kustomization.yaml, and refuses a store over the budget,
 *   naming the largest files and how many versions fit; the store's size with five versions;
 * - `npm run rollback` makes the agent's checks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../resource-agent/server.js';
import type { RunningAgent } from '../resource-agent/server.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import { exportModel } from '../src/export/publish.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { CONFIGMAP_BUDGET_BYTES, kustomizationFor } from '../src/store/configmap.js';
import { family, readManifest } from './helpers/manifest.js';
import { rollbackStore } from '../src/commands/rollback.js';
import { FEATURE_NAMES } from '../src/families/container-resources/features.js';
import { FEATURES } from './helpers/model-store.js';
import { modelBytes } from './helpers/models.js';
import { REPO } from './helpers/env.js';

type Json = any;
const ARR = FEATURE_NAMES.map((n) => FEATURES[n]);
const TOKEN = 'configmap-token';
const dirs: string[] = [];
const agents: RunningAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

/** a self-contained flat ConfigMap store folder (as store:configmap --output DIR writes) with one version per seed */
function flatStore(seeds: number[]): string {
  const dir = tmp('crp-cm-');
  writeFileSync(join(dir, 'kustomization.yaml'), kustomizationFor(['manifest.json']));
  for (const seed of seeds) exportTo(dir, seed);
  return dir;
}
function exportTo(dir: string, seed: number, budget?: number) {
  const model = join(tmpdir(), `crp-cm-model-${process.pid}-${seed}.onnx`);
  writeFileSync(model, modelBytes(seed));
  try {
    return exportModel({ model, outputDir: dir, manifestPath: join(dir, 'manifest.json'), family: containerResources, validation: null, rustPath: null, configMapBudgetBytes: budget });
  } finally {
    rmSync(model, { force: true });
  }
}
const storeFilesOf = (dir: string) => readdirSync(dir).filter((f) => f === 'manifest.json' || /_v\d+\.\d+\.\d+\.onnx$/.test(f));

/**
 * Kubelet: a ConfigMap volume as the kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go) keeps it:
 * the payload in `..<timestamp>/`, `..data` → it, and one user-visible symlink per key → `..data/<key>`.
 */
class Kubelet {
  private n = 0;
  private current = '';
  constructor(readonly mount: string) {}

  /** update writes a new payload exactly as the kubelet does. */
  update(payload: Record<string, Buffer>): void {
    const ts = `..2026_11_23_10_00_${String(this.n++).padStart(2, '0')}.${process.pid}`;
    mkdirSync(join(this.mount, ts));
    for (const [k, b] of Object.entries(payload)) writeFileSync(join(this.mount, ts, k), b); // (1) the new payload
    symlinkSync(ts, join(this.mount, '..data_tmp')); // (2)
    renameSync(join(this.mount, '..data_tmp'), join(this.mount, '..data')); // (3) the atomic swap
    const keys = new Set(Object.keys(payload));
    for (const k of keys) {
      try {
        symlinkSync(join('..data', k), join(this.mount, k)); // (4) new user-visible paths
      } catch {
        /* exists */
      }
    }
    for (const f of readdirSync(this.mount)) if (!f.startsWith('..') && !keys.has(f)) unlinkSync(join(this.mount, f)); // (5) removed keys
    if (this.current) rmSync(join(this.mount, this.current), { recursive: true }); // (6) the old payload
    this.current = ts;
  }
}
const payloadOf = (dir: string) => Object.fromEntries(storeFilesOf(dir).map((f) => [f, readFileSync(join(dir, f))]));

describe('a ConfigMap-mounted store', () => {
  it("follows the kubelet's ..data swap under load with no failed request, and refuses activate/rollback naming kubectl", async () => {
    const src = flatStore([1, 2]);
    const mount = tmp('crp-mount-');
    const kubelet = new Kubelet(mount);
    kubelet.update(payloadOf(src));
    const tokenFile = join(tmp('crp-tok-'), 'token');
    writeFileSync(tokenFile, TOKEN);
    const a = await startAgent({ ...AGENT_DEFAULTS, manifest: join(mount, 'manifest.json'), port: 0, adminTokenFile: tokenFile, pollIntervalMs: 500 }, { logger: false, defaultMetrics: false });
    agents.push(a);
    const readyz = async (): Promise<Json> => (await fetch(a.url + '/readyz')).json();
    expect((await readyz()).serving).toBe('1.1.0');

    let stop = false;
    const statuses = new Map<number | string, number>();
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          const r = await fetch(a.url + '/v1/recommend', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: ARR }) });
          await r.arrayBuffer();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        } catch (e) {
          statuses.set(String(e), (statuses.get(String(e)) ?? 0) + 1);
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1000));

    // publish 1.2.0: export into the source folder, the kubelet swaps the mounted payload
    exportTo(src, 3);
    const t0 = performance.now();
    kubelet.update(payloadOf(src));
    for (;;) {
      if ((await readyz()).serving === '1.2.0') break;
      if (performance.now() - t0 > 20_000) throw new Error('the agent did not switch to 1.2.0 within 20 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const switchMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(loops);
    const ready = await readyz();
    expect([ready.ready, ready.manifestError, ready.refused, ready.drift]).toEqual([true, null, [], []]);
    const total = [...statuses.values()].reduce((x, y) => x + y, 0);
    console.log(`configmap ..data swap: switched to 1.2.0 in ${switchMs.toFixed(0)} ms (poll 500 ms); ${total} requests, ${total - (statuses.get(200) ?? 0)} failed`);
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });

    // the API cannot write a ConfigMap: 409 naming the kubectl way, nothing changed
    for (const url of ['/v1/rollback', '/v1/models/1.0.0/activate']) {
      const r = await fetch(a.url + url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await r.json()) as Json;
      expect([r.status, body.error.code]).toEqual([409, 'STORE_READ_ONLY']);
      expect(body.error.message).toMatch(/npm run rollback -- --to 1\.\d\.0, npm run store:configmap, then kubectl apply -k resource-agent\/deploy/);
    }
    expect((await readyz()).serving).toBe('1.2.0');
  }, 60_000);
});

describe('export into a ConfigMap store', () => {
  it('lists the retained files in its kustomization.yaml; five versions fit the budget (size printed)', () => {
    const dir = flatStore([1, 2, 3, 4, 5, 6]);
    const m = readManifest(join(dir, 'manifest.json'));
    const files = family(m).versions.map((v) => v.file);
    expect(files).toEqual(['predictor_v1.1.0.onnx', 'predictor_v1.2.0.onnx', 'predictor_v1.3.0.onnx', 'predictor_v1.4.0.onnx', 'predictor_v1.5.0.onnx']);
    const k = readFileSync(join(dir, 'kustomization.yaml'), 'utf8');
    expect(k).toContain(['    files:', '      - manifest.json', ...files.map((f) => `      - ${f}`)].join('\n'));
    const bytes = ['manifest.json', ...files].reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    console.log(`ConfigMap store with five versions: ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB) of the ${CONFIGMAP_BUDGET_BYTES / 1024} KiB budget`);
    expect(bytes).toBeLessThan(CONFIGMAP_BUDGET_BYTES);
  });

  it('EXPECTED FAILURE - a store over the budget is refused before any write, naming the largest files and how many versions fit', () => {
    const dir = flatStore([1, 2]);
    const before = readFileSync(join(dir, 'manifest.json'), 'utf8');
    expect(() => exportTo(dir, 3, 16 * 1024)).toThrow(/the model store would hold \d+\.\d KiB, over the ConfigMap budget of 16\.0 KiB .*largest files: (manifest\.json|predictor_v1\.\d\.0\.onnx) \d+\.\d KiB, .*; \d versions? of a \d+\.\d KiB model fit beside the rest/);
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((f) => f.includes('v1.2.0'))).toEqual([]);
  });
});

describe('npm run rollback', () => {
  it('goes back to previousActive or --to, rewriting the kustomization; refuses what the agent would', () => {
    const dir = flatStore([1, 2, 3]);
    expect(rollbackStore(dir, undefined, 'container-resources')).toMatchObject({ from: '1.2.0', to: '1.1.0', changed: true });
    expect(family(readManifest(join(dir, 'manifest.json')))).toMatchObject({ active: '1.1.0', previousActive: '1.2.0' });
    expect(() => rollbackStore(dir, '9.9.9', 'container-resources')).toThrow(/version 9\.9\.9 is not retained .*\(retained: 1\.0\.0, 1\.1\.0, 1\.2\.0\)/);
    const p = join(dir, 'predictor_v1.0.0.onnx');
    const b = readFileSync(p);
    b[100] ^= 0xff;
    writeFileSync(p, b);
    expect(() => rollbackStore(dir, '1.0.0', 'container-resources')).toThrow(/version 1\.0\.0 is refused: file predictor_v1\.0\.0\.onnx has sha256 .*; the agent would refuse it too/);
    // the command itself: one line, exit 2 for bad input
    const r = spawnSync(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'rollback.ts'), '--store', dir, '--to', '1.0.0'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    copyFileSync(join(dir, 'predictor_v1.1.0.onnx'), join(dir, 'spare.onnx')); // an unrelated file is not listed
    const ok = spawnSync(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'rollback.ts'), '--store', dir, '--to', '1.2.0'], { cwd: REPO, encoding: 'utf8' });
    expect([ok.status, JSON.parse(ok.stdout)]).toEqual([0, { family: 'container-resources', from: '1.1.0', active: '1.2.0', changed: true }]);
    expect(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')).not.toContain('spare.onnx');
  });
});
