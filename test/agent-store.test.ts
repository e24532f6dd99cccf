/**
 * agent-store: the agent's model store on its own. A tampered or unloadable model and a bad manifest are
 * refused while the last good model keeps serving; a model in use is released only after its last lease;
 * concurrent activations (in one agent, and from two agents sharing the store) leave a manifest that is
 * one call applied after another; a restart serves the activated version.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ModelStore } from '../resource-agent/store.js';
import type { StoreEvents } from '../resource-agent/store.js';
import { AgentError } from '../resource-agent/errors.js';
import { DEFAULT_FAMILY, family, readManifest, writeManifest, activate } from './helpers/manifest.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { constLoad, makeStore } from './helpers/model-store.js';
import type { ConstPredictor, TempStore } from './helpers/model-store.js';

const OUT = [0.4, 0.5, 0.3, 0.35, 0.9];
const stores: TempStore[] = [];
const agents: ModelStore[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close();
  for (const s of stores.splice(0)) s.cleanup();
});

function setup(seeds = [1, 2], active?: string) {
  const s = makeStore(seeds, active);
  stores.push(s);
  const made: ConstPredictor[] = [];
  const events: string[] = [];
  const ev: StoreEvents = {
    loadFailure: (kind, v) => events.push(`fail:${kind}:${v}`),
    switched: (from, to, cause) => events.push(`switch:${from}->${to}:${cause}`),
    reloaded: (r) => events.push(`reload:${r}`),
  };
  const open = (load = constLoad(OUT, made)) => {
    const st = new ModelStore({ manifestPath: s.manifestPath, family: DEFAULT_FAMILY, load, events: ev });
    agents.push(st);
    return st;
  };
  return { s, made, events, open };
}

describe('verification', () => {
  it('EXPECTED FAILURE - a tampered new active model is refused; the old one keeps serving', async () => {
    const { s, events, open } = setup([1, 2]);
    const st = open();
    expect(await st.start()).toBe('applied');
    expect(st.status().serving).toBe('1.1.0');
    const v = s.addVersion(3); // 1.2.0, active
    s.tamper(v);
    expect(await st.reload()).toBe('applied');
    const status = st.status();
    expect([status.ready, status.active, status.serving]).toEqual([true, '1.2.0', '1.1.0']);
    expect(status.activeError).toMatch(/^active version 1.2.0 is refused \(file models\/predictor_v1.2.0.onnx has sha256 [0-9a-f]{12}…, the manifest says [0-9a-f]{12}…\); still serving 1.1.0$/);
    expect(status.versions.find((x) => x.version === '1.2.0')).toMatchObject({ status: 'refused', active: true, serving: false });
    expect(events).toContain('fail:checksum:1.2.0');
    // an unchanged manifest is not re-processed or re-logged
    expect(await st.reload()).toBe('unchanged');
    expect(events.filter((e) => e === 'fail:checksum:1.2.0')).toHaveLength(1);
  });

  it('EXPECTED FAILURE - a file with the right checksum that ONNX Runtime cannot load is refused (real session)', async () => {
    const { s, events, open } = setup([1]);
    const st = open(loadOnnx);
    await st.start();
    s.addUnloadable('1.0.1');
    await st.reload();
    const v = st.status().versions.find((x) => x.version === '1.0.1')!;
    expect(v.status).toBe('refused');
    expect(v.reason).toMatch(/^ONNX Runtime: models\/broken_v1.0.1.onnx: ONNX Runtime cannot load it/);
    expect(st.status().serving).toBe('1.0.0');
    expect(events).toContain('fail:load:1.0.1');
  });

  it('EXPECTED FAILURE - a version of another contract version (same widths) is refused, never served with this contract', async () => {
    // contract 2 (absolute log scales) and 3 (multiples of the window's scales) both take 12 inputs: an
    // agent of contract 3 serving a contract-2 file would answer with other numbers, silently
    const { s, events } = setup([1, 2]);
    const m = readManifest(s.manifestPath);
    const old = family(m).versions.find((e) => e.version === '1.1.0')!;
    (old.contract.features as { contractVersion: string }).contractVersion = '2';
    writeManifest(s.manifestPath, activate(m, '1.0.0'));
    const st = new ModelStore({ manifestPath: s.manifestPath, family: DEFAULT_FAMILY, contract: containerResources.contract, load: constLoad(OUT), events: { loadFailure: (kind, v) => events.push(`fail:${kind}:${v}`) } });
    agents.push(st);
    await st.start();
    const v = st.status().versions.find((x) => x.version === '1.1.0')!;
    expect(v.status).toBe('refused');
    expect(v.reason).toMatch(/is a model of contract 2 of family container-resources, but this agent serves contract 3/);
    expect(st.status().serving).toBe('1.0.0');
    expect(events).toContain('fail:contract:1.1.0');
    await expect(st.activate('1.1.0')).rejects.toThrow(AgentError);
  });

  it('EXPECTED FAILURE - a bad manifest is refused whole; the last applied one stays; fixing it clears the error', async () => {
    const { s, events, open } = setup([1, 2]);
    const st = open();
    await st.start();
    const good = readFileSync(s.manifestPath, 'utf8');
    writeFileSync(s.manifestPath, JSON.stringify({ schemaVersion: 2, families: {} }));
    expect(await st.reload()).toBe('refused');
    expect(st.status().manifestError).toMatch(/schemaVersion is 2; this version reads schemaVersion 1/);
    expect(st.status().serving).toBe('1.1.0');
    writeFileSync(s.manifestPath, '{"schemaVersion": 1, "families": {"container-resources": {"active": "7.0.0", "versions": []}}}');
    expect(await st.reload()).toBe('refused');
    expect(st.status().manifestError).toMatch(/versions must be a non-empty array/);
    writeFileSync(s.manifestPath, good);
    expect(await st.reload()).toBe('unchanged');
    expect(st.status().manifestError).toBeNull();
    expect(events.filter((e) => e === 'fail:manifest:null')).toHaveLength(2);
  });

  it('EXPECTED FAILURE - a missing manifest at start leaves the store not ready; it starts serving once the manifest appears', async () => {
    const { s, open } = setup([1]);
    renameSync(s.manifestPath, s.manifestPath + '.moved');
    const st = open();
    expect(await st.start()).toBe('refused');
    expect(st.status()).toMatchObject({ ready: false, serving: null });
    expect(st.status().manifestError).toBe("cannot read manifest.json (ENOENT)");
    renameSync(s.manifestPath + '.moved', s.manifestPath);
    expect(await st.reload()).toBe('applied');
    expect(st.status().serving).toBe('1.0.0');
  });
});

describe('leases', () => {
  it('a model dropped from the manifest is released only after its last in-flight lease ends', async () => {
    const { s, made, open } = setup([1, 2]);
    const st = open();
    await st.start();
    const lease = st.acquire()!;
    expect(lease.version).toBe('1.1.0');
    // New manifest: only a new version 1.2.0 remains (1.0.0 and 1.1.0 dropped).
    s.addVersion(3);
    const m = readManifest(s.manifestPath);
    const f = family(m);
    writeManifest(s.manifestPath, { ...m, families: { [DEFAULT_FAMILY]: { ...f, previousActive: null, versions: f.versions.filter((v) => v.version === '1.2.0') } } });
    await st.reload();
    expect(st.status().serving).toBe('1.2.0');
    const old = made.find((p) => p === lease.predictor) as ConstPredictor;
    // the in-flight request can still predict with its model
    await expect(lease.predictor.predict(new Float32Array(12), 1)).resolves.toHaveLength(5);
    expect(old.released).toBe(false);
    st.release(lease);
    expect(old.released).toBe(true);
    // 1.0.0 had no lease: released at the reload
    expect(made.filter((p) => p.released)).toHaveLength(2);
  });
});

describe('activation', () => {
  it('concurrent activations in one agent apply one after another, in call order: consistent manifest', async () => {
    const { s, open } = setup([1, 2, 3]);
    const st = open();
    await st.start();
    const order = Array.from({ length: 24 }, (_, i) => ['1.0.0', '1.1.0', '1.2.0'][i % 3]!);
    const results = await Promise.all(order.map((v) => st.activate(v)));
    // Call i activates order[i]; the active before it is order[i − 1] (for call 0: 1.2.0, the exported active).
    results.forEach((r, i) => expect(r).toEqual({ changed: true, active: order[i], previousActive: i === 0 ? '1.2.0' : order[i - 1] }));
    const f = family(readManifest(s.manifestPath));
    expect([f.active, f.previousActive, f.versions.map((v) => v.version)]).toEqual(['1.2.0', '1.1.0', ['1.0.0', '1.1.0', '1.2.0']]);
    expect(st.status().serving).toBe('1.2.0');
  });

  it('concurrent activations from two agents sharing one store leave a valid manifest both converge on', async () => {
    const { s, open } = setup([1, 2, 3]);
    const a = open();
    const b = open();
    await Promise.all([a.start(), b.start()]);
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).activate(['1.0.0', '1.1.0'][i % 2]!)));
    const f = family(readManifest(s.manifestPath)); // parses and checks: atomic writes never tear
    expect(['1.0.0', '1.1.0']).toContain(f.active);
    await Promise.all([a.reload(), b.reload()]);
    expect([a.status().serving, b.status().serving]).toEqual([f.active, f.active]);
  });

  it('a restart serves the version activated before it', async () => {
    const { open } = setup([1, 2]);
    const first = open();
    await first.start();
    expect(await first.activate('1.0.0')).toEqual({ changed: true, active: '1.0.0', previousActive: '1.1.0' });
    await first.close();
    const second = open();
    await second.start();
    expect([second.status().serving, second.status().previousActive]).toEqual(['1.0.0', '1.1.0']);
  });

  it('EXPECTED FAILURE - a verified version whose file changed on disk since loading cannot be activated', async () => {
    const { s, events, open } = setup([1, 2]);
    const st = open();
    await st.start();
    s.tamper('1.0.0');
    const e = await st.activate('1.0.0').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).code).toBe('VERSION_NOT_VERIFIED');
    expect(events).toContain('fail:checksum:1.0.0');
    expect(st.status().versions.find((v) => v.version === '1.0.0')!.status).toBe('refused');
    expect(family(readManifest(s.manifestPath)).active).toBe('1.1.0');
  });

  it('activating a good version while the active one is refused switches to it and records the refused one as previous', async () => {
    const { s, open } = setup([1, 2]);
    const st = open();
    await st.start();
    const v = s.addVersion(3);
    s.tamper(v);
    await st.reload();
    expect(st.status().serving).toBe('1.1.0');
    expect(await st.rollback()).toEqual({ changed: true, active: '1.1.0', previousActive: '1.2.0' });
    expect(st.status().activeError).toBeNull();
    writeManifest(s.manifestPath, activate(readManifest(s.manifestPath), '1.0.0'));
    await st.reload();
    expect(st.status().serving).toBe('1.0.0');
  });
});
