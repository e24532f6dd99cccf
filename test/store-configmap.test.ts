/**
 * store-configmap: one model store. The ConfigMap store that `kubectl apply -k resource-agent/deploy`
 * deploys (resource-agent/deploy/store) is generated from the store `npm start` serves (./manifest.json +
 * models/) by `npm run store:configmap`, never kept by hand: the committed one is in sync (else this test
 * says which files differ and the command to run); the generation flattens paths, copies the verified
 * bytes, follows a rollback and drops a version no longer retained; it refuses a model that does not
 * verify and a folder that is not a ConfigMap store.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './helpers/env.js';
import { makeStore } from './helpers/model-store.js';
import { configMapStoreOf, DEFAULT_CONFIGMAP_STORE, diffConfigMapStore, storeFamilies, writeConfigMapStore } from '../src/store/configmap.js';
import { family, readManifest, writeManifest } from '../src/store/manifest.js';

const tmp = mkdtempSync(join(tmpdir(), 'crp-store-cm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the repository has one store', () => {
  it('resource-agent/deploy/store is exactly what npm run store:configmap makes of ./manifest.json and models/, for the families it carries', () => {
    const dir = join(REPO, DEFAULT_CONFIGMAP_STORE);
    const families = storeFamilies(dir)!;
    // the container family always; the Galaxy job models are too large for a ConfigMap (1 MiB)
    expect(families).toContain('container-resources');
    const diff = diffConfigMapStore(dir, configMapStoreOf(join(REPO, 'manifest.json'), families));
    expect(diff, 'out of date: run npm run store:configmap').toEqual({ missing: [], differing: [], extra: [] });
  });

  it('npm run store:configmap -- --check exits 0 on the repository', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'store-configmap.ts', '--check'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/is in sync with manifest\.json/);
  });
});

describe('generating a ConfigMap store', () => {
  it('flattens the paths, copies the verified bytes, lists the files for kustomize, keeps updatedAt', () => {
    const s = makeStore([1, 2]);
    try {
      const out = join(tmp, 'a');
      writeConfigMapStore(out, configMapStoreOf(s.manifestPath));
      const src = readManifest(s.manifestPath);
      const gen = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(src.families['container-resources']!.versions.map((v) => v.file)).toEqual(['models/predictor_v1.0.0.onnx', 'models/predictor_v1.1.0.onnx']);
      expect(gen.families['container-resources'].versions.map((v: { file: string }) => v.file)).toEqual(['predictor_v1.0.0.onnx', 'predictor_v1.1.0.onnx']);
      expect(gen.updatedAt).toBe(src.updatedAt);
      // everything else in the manifest is the source's
      const strip = (m: { families: Record<string, { versions: { file: string }[] }> }) => JSON.stringify({ ...m, families: Object.fromEntries(Object.entries(m.families).map(([k, f]) => [k, { ...f, versions: f.versions.map((v) => ({ ...v, file: '' })) }])) });
      expect(strip(gen)).toBe(strip(src));
      for (const v of src.families['container-resources']!.versions) expect(readFileSync(join(out, v.file.slice('models/'.length))).equals(readFileSync(join(s.dir, v.file)))).toBe(true);
      expect(readdirSync(out).sort()).toEqual(['kustomization.yaml', 'manifest.json', 'predictor_v1.0.0.onnx', 'predictor_v1.1.0.onnx']);
      expect(readFileSync(join(out, 'kustomization.yaml'), 'utf8')).toMatch(/files:\n {6}- manifest\.json\n {6}- predictor_v1\.0\.0\.onnx\n {6}- predictor_v1\.1\.0\.onnx\n$/);
      // the same store gives the same bytes: nothing to write the second time
      expect(writeConfigMapStore(out, configMapStoreOf(s.manifestPath))).toEqual({ missing: [], differing: [], extra: [] });
    } finally {
      s.cleanup();
    }
  });

  it('follows a rollback in the source store and drops a version it no longer retains', () => {
    const s = makeStore([1, 2]);
    try {
      const out = join(tmp, 'b');
      writeConfigMapStore(out, configMapStoreOf(s.manifestPath));
      s.setActive('1.0.0');
      expect(writeConfigMapStore(out, configMapStoreOf(s.manifestPath)).differing).toEqual(['manifest.json']);
      expect(family(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).active).toBe('1.0.0');
      const m = readManifest(s.manifestPath);
      m.families['container-resources']!.versions = m.families['container-resources']!.versions.filter((v) => v.version === '1.0.0');
      m.families['container-resources']!.previousActive = null;
      writeManifest(s.manifestPath, m);
      const d = writeConfigMapStore(out, configMapStoreOf(s.manifestPath));
      expect(d.extra).toEqual(['predictor_v1.1.0.onnx']);
      expect(existsSync(join(out, 'predictor_v1.1.0.onnx'))).toBe(false);
    } finally {
      s.cleanup();
    }
  });

  it('EXPECTED FAILURE - a model file that does not verify, and a folder that is not a ConfigMap store, are refused; nothing is written', () => {
    const s = makeStore([1]);
    try {
      s.tamper('1.0.0');
      expect(() => configMapStoreOf(s.manifestPath)).toThrow(/container-resources 1\.0\.0 \(models\/predictor_v1\.0\.0\.onnx\) does not verify: file .* has sha256/);
    } finally {
      s.cleanup();
    }
    const t = makeStore([1]);
    try {
      const foreign = join(tmp, 'foreign');
      rmSync(foreign, { recursive: true, force: true });
      writeConfigMapStore(join(foreign, 'x'), configMapStoreOf(t.manifestPath)); // a new folder is fine
      writeFileSync(join(tmp, 'notes.txt'), 'mine');
      expect(() => writeConfigMapStore(tmp, configMapStoreOf(t.manifestPath))).toThrow(/holds .*notes\.txt.* is not a ConfigMap store .*give an empty or new folder/);
      expect(readFileSync(join(tmp, 'notes.txt'), 'utf8')).toBe('mine');
    } finally {
      t.cleanup();
    }
  });

  it('carries the families asked for; EXPECTED FAILURE - a store over the 900 KiB budget names each family\'s size and --family', () => {
    const s = makeStore([1, 2]);
    try {
      // one family of two versions (~6 KB each) against a budget of 4 KiB
      expect(() => configMapStoreOf(s.manifestPath, null, 4096)).toThrow(/over the budget of 4\.0 KiB .*: container-resources \d+\.\d KiB, manifest \d+\.\d KiB; carry fewer families \(--family NAME, repeated\)/);
      expect(() => configMapStoreOf(s.manifestPath, ['job-memory/x'])).toThrow(/--family job-memory\/x: .* has no such family \(it has container-resources\)/);
      const only = configMapStoreOf(s.manifestPath, ['container-resources']);
      expect(Object.keys(JSON.parse(only.get('manifest.json')!.toString()).families)).toEqual(['container-resources']);
    } finally {
      s.cleanup();
    }
  });

  it('EXPECTED FAILURE - --check on an out-of-date folder exits 1 naming the files and the command', () => {
    const s = makeStore([1, 2]);
    try {
      const out = join(tmp, 'c');
      writeConfigMapStore(out, configMapStoreOf(s.manifestPath));
      s.setActive('1.0.0');
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'store-configmap.ts'), '--check', '--manifest', s.manifestPath, '--output', out], { cwd: REPO, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(/^error: .* is out of date with .*manifest\.json \(~manifest\.json\); run npm run store:configmap$/);
    } finally {
      s.cleanup();
    }
  });
});
