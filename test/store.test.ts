/**
 * store: manifest checksums, semantic versioning (detected major/minor/patch, no downgrades), retention
 * of the last 5 versions, activation/rollback, and crash safety of export.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerResources } from '../src/families/container-resources/index.js';
import { exportModel } from '../src/export/publish.js';
import { activate, bumpVersion, compareSemver, readManifest, rollback, verifyVersion, family, writeManifest, ManifestError } from './helpers/manifest.js';
import { modelBytes } from './helpers/models.js';

function store() {
  const dir = mkdtempSync(join(tmpdir(), 'crp-store-'));
  let k = 0;
  const put = (bytes: Uint8Array) => {
    const p = join(dir, `in-${k++}.onnx`);
    writeFileSync(p, bytes);
    return p;
  };
  const manifestPath = join(dir, 'manifest.json');
  const exp = (bytes: Uint8Array, extra: Partial<Parameters<typeof exportModel>[0]> = {}) =>
    exportModel({ model: put(bytes), outputDir: join(dir, 'models'), manifestPath, family: containerResources, validation: null, ...extra });
  return { dir, manifestPath, exp };
}

describe('semver helpers', () => {
  it('bumps and compares numerically', () => {
    expect(bumpVersion('1.2.3', 'patch')).toBe('1.2.4');
    expect(bumpVersion('1.2.3', 'minor')).toBe('1.3.0');
    expect(bumpVersion('1.2.3', 'major')).toBe('2.0.0');
    expect(compareSemver('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(() => bumpVersion('1.2', 'patch')).toThrow(/MAJOR.MINOR.PATCH/);
  });
});

describe('export', () => {
  it('starts at 1.0.0 and detects patch (same weights), minor (new weights), major (contract change)', () => {
    const s = store();
    expect(s.exp(modelBytes(1)).version).toBe('1.0.0');
    const same = s.exp(modelBytes(1));
    expect([same.version, same.detectedBump]).toEqual(['1.0.1', 'patch']);
    const retrained = s.exp(modelBytes(2));
    expect([retrained.version, retrained.detectedBump]).toEqual(['1.1.0', 'minor']);
    // A changed normalization is a contract change, whatever flag is given.
    const changed = s.exp(modelBytes(2, (c) => ((c.inputs[0]!.normalization as { max: number }).max = 128)), { bump: 'patch' });
    expect([changed.version, changed.detectedBump]).toEqual(['2.0.0', 'major']);
    // --bump raises but never lowers the detected level.
    expect(s.exp(modelBytes(3), { bump: 'major' }).version).toBe('3.0.0');
    const m = readManifest(s.manifestPath);
    expect(family(m).active).toBe('3.0.0');
    expect(family(m).versions.at(-1)!.replaces).toBe('2.0.0');
    expect(readFileSync(join(s.dir, 'models', 'predictor.onnx'))).toEqual(readFileSync(join(s.dir, 'models', 'predictor_v3.0.0.onnx')));
  });

  it('EXPECTED FAILURE - refuses a downgrade or a version below what the change needs', () => {
    const s = store();
    s.exp(modelBytes(1));
    s.exp(modelBytes(2));
    expect(() => s.exp(modelBytes(3), { version: '1.0.5' })).toThrow(/not above the newest retained version 1.1.0/);
    expect(() => s.exp(modelBytes(3, (c) => (c.contractVersion = '9')), { version: '1.2.0' })).toThrow(/needs at least 2.0.0/);
    expect(s.exp(modelBytes(3), { version: '1.5.0' }).version).toBe('1.5.0');
  });

  it('keeps the last 5 versions and deletes older files', () => {
    const s = store();
    for (let i = 1; i <= 7; i++) s.exp(modelBytes(i));
    const f = family(readManifest(s.manifestPath));
    expect(f.versions.map((v) => v.version)).toEqual(['1.2.0', '1.3.0', '1.4.0', '1.5.0', '1.6.0']);
    const files = readdirSync(join(s.dir, 'models')).filter((n) => n.startsWith('predictor_v')).sort();
    expect(files).toEqual(['predictor_v1.2.0.onnx', 'predictor_v1.3.0.onnx', 'predictor_v1.4.0.onnx', 'predictor_v1.5.0.onnx', 'predictor_v1.6.0.onnx']);
    for (const v of f.versions) expect(verifyVersion(s.manifestPath, v).ok).toBe(true);
  });

  it('a crash between the model write and the manifest write leaves the old manifest verifiable', () => {
    const s = store();
    s.exp(modelBytes(1));
    s.exp(modelBytes(2));
    const before = readFileSync(s.manifestPath, 'utf8');
    expect(() => s.exp(modelBytes(3), { afterModelWrite: () => { throw new Error('simulated crash'); } })).toThrow('simulated crash');
    expect(readFileSync(s.manifestPath, 'utf8')).toBe(before);
    const m = readManifest(s.manifestPath);
    for (const v of family(m).versions) expect(verifyVersion(s.manifestPath, v).ok).toBe(true);
    expect(readdirSync(s.dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });
});

describe('manifest', () => {
  it('detects a tampered model by checksum and a wrong size', () => {
    const s = store();
    s.exp(modelBytes(1));
    const m = readManifest(s.manifestPath);
    const v = family(m).versions[0]!;
    const p = join(s.dir, v.file);
    const b = readFileSync(p);
    b[100] ^= 0xff;
    writeFileSync(p, b);
    const r = verifyVersion(s.manifestPath, v);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/sha256/);
    writeFileSync(p, b.subarray(0, 50));
    const r2 = verifyVersion(s.manifestPath, v);
    expect(!r2.ok && r2.reason).toMatch(/has 50 bytes/);
  });

  it('activates retained versions and rolls back to the previous one, persisted', () => {
    const s = store();
    s.exp(modelBytes(1));
    s.exp(modelBytes(2));
    let m = activate(readManifest(s.manifestPath), '1.0.0');
    writeManifest(s.manifestPath, m);
    expect(family(readManifest(s.manifestPath)).active).toBe('1.0.0');
    m = rollback(readManifest(s.manifestPath));
    expect(family(m).active).toBe('1.1.0');
    expect(() => activate(m, '9.9.9')).toThrow(/not retained/);
  });

  it('EXPECTED FAILURE - rejects manifests that are not JSON, of another schema, or inconsistent, naming the field', () => {
    const s = store();
    s.exp(modelBytes(1));
    const good = JSON.parse(readFileSync(s.manifestPath, 'utf8'));
    const bad = (mut: (m: any) => void) => {
      const m = structuredClone(good);
      mut(m);
      writeFileSync(s.manifestPath, JSON.stringify(m));
      return () => readManifest(s.manifestPath);
    };
    expect(bad((m) => (m.schemaVersion = 2))).toThrow(ManifestError);
    expect(bad((m) => (m.schemaVersion = 2))).toThrow(/schemaVersion/);
    expect(bad((m) => (m.families['container-resources'].active = '7.0.0'))).toThrow(/active/);
    expect(bad((m) => (m.families['container-resources'].versions[0].file = '../../etc/passwd'))).toThrow(/file/);
    expect(bad((m) => (m.families['container-resources'].versions[0].sha256 = 'xyz'))).toThrow(/sha256/);
    writeFileSync(s.manifestPath, '{ not json');
    expect(() => readManifest(s.manifestPath)).toThrow(/not valid JSON/);
    expect(existsSync(s.manifestPath)).toBe(true);
  });

  it('holds more than one model family side by side', () => {
    const s = store();
    s.exp(modelBytes(1));
    // A second family with the same widths (a stub: only its name and file stem differ).
    s.exp(modelBytes(2), { family: { ...containerResources, name: 'batch-job-memory', fileStem: 'batch-job-memory' } });
    const m = readManifest(s.manifestPath);
    expect(Object.keys(m.families).sort()).toEqual(['batch-job-memory', 'container-resources']);
    expect(family(m, 'batch-job-memory').active).toBe('1.0.0');
    // Same version number, different files: neither family overwrote the other.
    expect(family(m, 'batch-job-memory').versions[0]!.file).toBe('models/batch-job-memory_v1.0.0.onnx');
    for (const f of Object.values(m.families)) expect(verifyVersion(s.manifestPath, f.versions[0]!).ok).toBe(true);
  });
});
