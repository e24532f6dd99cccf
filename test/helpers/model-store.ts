/**
 * model-store: temporary model stores for the agent's tests, so that no test depends on training. Each
 * version is an int8 ONNX model of seeded random weights (helpers/models.ts), exported with the real
 * exporter (src/export/publish.ts) into a folder under os.tmpdir(). Also: a predictor that returns fixed
 * outputs (so a test can write the expected numbers out), and ways to break a store on purpose.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerResources } from '../../src/families/container-resources/index.js';
import { exportModel } from '../../src/export/publish.js';
import { activate, family, modelPath, readManifest, writeManifest } from './manifest.js';
import type { Manifest, VersionEntry } from './manifest.js';
import type { OnnxPredictor } from '../../src/onnx/runtime.js';
import { N_OUTPUTS } from '../../src/families/container-resources/features.js';
import { sha256Hex } from '../../src/util/hash.js';
import { modelBytes } from './models.js';

export interface TempStore {
  dir: string;
  manifestPath: string;
  /** versions in export order: seeds [1, 2, 3] → ['1.0.0', '1.1.0', '1.2.0'] */
  versions: string[];
  manifest(): Manifest;
  entry(version: string): VersionEntry;
  /** setActive writes the manifest with `version` active (previousActive = the old active) */
  setActive(version: string): void;
  /** tamper flips one byte of a version's model file (size unchanged, sha256 now wrong) */
  tamper(version: string): void;
  /** addVersion exports one more model (new weights) and makes it active; returns its version */
  addVersion(seed: number): string;
  /** addUnloadable adds an active version whose file has a correct checksum but is not ONNX */
  addUnloadable(version: string): void;
  cleanup(): void;
}

/**
 * makeStore exports one model per seed (each new seed is new weights: a minor version) and leaves the
 * last one active unless `active` says otherwise.
 */
export function makeStore(seeds: number[] = [1, 2], active?: string): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'crp-agent-'));
  const manifestPath = join(dir, 'manifest.json');
  let k = 0;
  const addVersion = (seed: number) => {
    const input = join(dir, `in-${k++}.onnx`);
    writeFileSync(input, modelBytes(seed));
    const r = exportModel({ model: input, outputDir: join(dir, 'models'), manifestPath, family: containerResources, validation: { businessScore: 50 + seed, memUnderPct: 3.1 } });
    rmSync(input);
    return r.version;
  };
  const versions = seeds.map(addVersion);
  const s: TempStore = {
    dir,
    manifestPath,
    versions,
    manifest: () => readManifest(manifestPath),
    entry: (v) => family(readManifest(manifestPath)).versions.find((e) => e.version === v)!,
    setActive: (v) => writeManifest(manifestPath, activate(readManifest(manifestPath), v)),
    tamper: (v) => {
      const p = modelPath(manifestPath, s.entry(v));
      const b = readFileSync(p);
      b[Math.floor(b.length / 2)] ^= 0xff;
      writeFileSync(p, b);
    },
    addVersion: (seed) => {
      const v = addVersion(seed);
      versions.push(v);
      return v;
    },
    addUnloadable: (version) => {
      const m = readManifest(manifestPath);
      const f = family(m);
      const bytes = Buffer.from('this is not an ONNX model, but its checksum is right');
      const file = `models/broken_v${version}.onnx`;
      writeFileSync(join(dir, file), bytes);
      const entry: VersionEntry = { ...f.versions.at(-1)!, version, file, sha256: sha256Hex(bytes), bytes: bytes.length };
      writeManifest(manifestPath, { ...m, families: { ...m.families, [Object.keys(m.families)[0]!]: { ...f, active: version, previousActive: f.active, versions: [...f.versions, entry] } } });
      versions.push(version);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  if (active) s.setActive(active);
  return s;
}

/** A predictor with fixed outputs that records the row count of every call. */
export interface ConstPredictor extends OnnxPredictor {
  calls: number[];
  released: boolean;
}

/**
 * constLoad returns a LoadModel whose predictors answer `outputs` (5 normalized values) for every row:
 * the agent's "constant estimator", so a test can write the post-processed numbers out.
 * `made` collects every predictor created.
 */
export function constLoad(outputs: ArrayLike<number>, made: ConstPredictor[] = []) {
  return async (_bytes: Uint8Array, _label: string): Promise<OnnxPredictor> => {
    const p: ConstPredictor = {
      inputWidth: 12,
      outputWidth: outputs.length,
      calls: [],
      released: false,
      async predict(_x: Float32Array, n: number) {
        p.calls.push(n);
        const y = new Float32Array(n * N_OUTPUTS);
        for (let i = 0; i < n; i++) y.set(Array.from(outputs), i * N_OUTPUTS);
        return y;
      },
      async release() {
        p.released = true;
      },
    };
    made.push(p);
    return p;
  };
}

/** features12 is a valid feature set in real units (a ~250m, ~300Mi container). */
export const FEATURES = {
  cpu_p50: 0.12,
  cpu_p95: 0.3,
  cpu_p99: 0.42,
  mem_p50: 256 * 1024 * 1024,
  mem_p95: 300 * 1024 * 1024,
  mem_p99: 320 * 1024 * 1024,
  cpu_variance: 0.6,
  mem_trend: 0.01,
  throttle_ratio: 0.02,
  hour: 14,
  day_of_week: 2,
  workload_age: 720,
};
