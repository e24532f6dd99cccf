/**
 * manifest: the model store's index (manifest.json). One manifest holds any number of model FAMILIES
 * (container-resources, job-memory/build-jobs, …), each with its own contract, its retained versions
 * (newest last) and its active version. The store knows no family: every operation takes the family's
 * name (the commands and the agent pass it, the default from src/families/registry.ts). Model files live
 * beside the manifest or below it, and entries name them by a path relative to the manifest's folder.
 *
 * Every model is verified (size and sha256) before it is used; the manifest itself has a schema version
 * and is rejected whole when it does not parse or check. Writes are atomic (temp, fsync, rename).
 *
 * {
 *   "schemaVersion": 1,
 *   "updatedAt": "2026-11-23T10:00:00.000Z",
 *   "families": {
 *     "container-resources": {
 *       "active": "1.1.0", "previousActive": "1.0.0",
 *       "versions": [ { "version": "1.0.0", "file": "models/predictor_v1.0.0.onnx", "sha256": "…", "bytes": 4055, … } ]
 *     }
 *   }
 * }
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { sha256Hex } from '../util/hash.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { RiskTable } from '../core/risk.js';
import type { TensorSpec } from '../core/tensor.js';
import { InputError } from '../util/errors.js';
import { readTextOrThrow } from '../util/read.js';

export const MANIFEST_SCHEMA_VERSION = 1;
export const RETAINED_VERSIONS = 5;

/** ManifestError: a manifest that cannot be read, parsed or trusted, or a refused store operation. */
export class ManifestError extends InputError {
  constructor(message: string) {
    super(message);
  }
}

export interface VersionEntry {
  version: string;
  /** model file, relative to the manifest's folder */
  file: string;
  sha256: string;
  bytes: number;
  createdAt: string;
  opset: number;
  irVersion: number;
  /** the input/output contract: graph tensors plus the feature/output descriptions and normalization */
  contract: { inputs: TensorSpec[]; outputs: TensorSpec[]; features: unknown };
  /** sha256 of the canonical JSON of `contract`: a change means a major version */
  contractSha256: string;
  /** sha256 of the weight initializers: a change means retraining (minor) */
  weightsSha256: string;
  quantization: Record<string, unknown>;
  trainingDataSha256: string | null;
  validation: Record<string, unknown> | null;
  /** the conformal risk table this version was calibrated with (src/core/risk.ts), when it has one */
  risk?: RiskTable | null;
  /** the version that was active when this one was exported (null for the first) */
  replaces: string | null;
  /**
   * a retrained candidate's shadow evaluation against the version active then, and the promotion
   * decision with its figures (src/retrain/shadow.ts ShadowRecord); absent for versions exported by hand
   */
  shadow?: Record<string, unknown> | null;
}

export interface FamilyEntry {
  active: string;
  previousActive: string | null;
  versions: VersionEntry[];
}

export interface Manifest {
  schemaVersion: number;
  updatedAt: string;
  families: Record<string, FamilyEntry>;
}

/** parseSemver("1.2.3") → [1, 2, 3]; throws on anything else. */
export function parseSemver(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new ManifestError(`'${v}' is not a version of the form MAJOR.MINOR.PATCH`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** compareSemver returns < 0, 0 or > 0. compareSemver("1.10.0", "1.9.9") > 0 */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

export type Bump = 'major' | 'minor' | 'patch';

/** bumpVersion("1.2.3", "minor") === "1.3.0" */
export function bumpVersion(v: string, bump: Bump): string {
  const [a, b, c] = parseSemver(v);
  return bump === 'major' ? `${a + 1}.0.0` : bump === 'minor' ? `${a}.${b + 1}.0` : `${a}.${b}.${c + 1}`;
}

/** maxBump returns the larger of two bumps (major > minor > patch). */
export function maxBump(a: Bump, b: Bump): Bump {
  const rank = { patch: 0, minor: 1, major: 2 };
  return rank[a] >= rank[b] ? a : b;
}

/** canonicalJson: JSON with object keys sorted, so equal contracts hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const SHA = /^[0-9a-f]{64}$/;

/** checkManifest validates a parsed manifest's shape; `where` names it in errors. */
export function checkManifest(m: unknown, where: string): Manifest {
  const fail = (field: string, fix: string): never => {
    throw new ManifestError(`${where}: ${field} ${fix}`);
  };
  if (!m || typeof m !== 'object') fail('the file', 'is not a JSON object');
  const o = m as Manifest;
  if (o.schemaVersion !== MANIFEST_SCHEMA_VERSION) fail('schemaVersion', `is ${JSON.stringify(o.schemaVersion)}; this version reads schemaVersion ${MANIFEST_SCHEMA_VERSION}`);
  if (!o.families || typeof o.families !== 'object') fail('families', 'is missing; it maps family names to their versions');
  for (const [name, fam] of Object.entries(o.families)) {
    const at = `families.${name}`;
    if (!fam || typeof fam !== 'object' || !Array.isArray(fam.versions) || fam.versions.length === 0) fail(`${at}.versions`, 'must be a non-empty array');
    const seen = new Set<string>();
    fam.versions.forEach((v, i) => {
      const vi = `${at}.versions[${i}]`;
      if (!v || typeof v !== 'object' || Array.isArray(v)) fail(vi, `is ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}; expected a version entry object`);
      try {
        parseSemver(v.version);
      } catch {
        fail(`${vi}.version`, `is ${JSON.stringify(v.version)}; expected MAJOR.MINOR.PATCH`);
      }
      if (seen.has(v.version)) fail(`${vi}.version`, `${v.version} appears twice`);
      seen.add(v.version);
      if (typeof v.file !== 'string' || !v.file || isAbsolute(v.file) || v.file.split(/[\\/]/).includes('..')) fail(`${vi}.file`, 'must be a path relative to the manifest folder, without ".."');
      if (typeof v.sha256 !== 'string' || !SHA.test(v.sha256)) fail(`${vi}.sha256`, 'must be 64 lowercase hex digits');
      if (!Number.isInteger(v.bytes) || v.bytes <= 0) fail(`${vi}.bytes`, 'must be a positive whole number');
      if (v.shadow !== undefined && v.shadow !== null && (typeof v.shadow !== 'object' || Array.isArray(v.shadow))) fail(`${vi}.shadow`, 'must be a shadow-evaluation record (an object) or null');
      if (v.risk !== undefined && v.risk !== null && (typeof v.risk !== 'object' || typeof v.risk.factors !== 'object' || v.risk.factors === null)) fail(`${vi}.risk`, 'must be a risk table ({schemaVersion, factors, …}) or null');
    });
    if (!seen.has(fam.active)) fail(`${at}.active`, `is ${JSON.stringify(fam.active)}, which is not a retained version (${[...seen].join(', ')})`);
    if (fam.previousActive !== null && fam.previousActive !== undefined && typeof fam.previousActive !== 'string') fail(`${at}.previousActive`, 'must be a version string or null');
  }
  return o;
}

/** readManifest reads and checks a manifest file. */
export function readManifest(path: string): Manifest {
  const text = readTextOrThrow(path, { what: 'manifest', error: ManifestError });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return checkManifest(parsed, path);
}

/** writeManifest writes a manifest atomically, after checking it. */
export function writeManifest(path: string, m: Manifest): void {
  checkManifest(m, path);
  writeFileAtomic(path, JSON.stringify({ ...m, updatedAt: new Date().toISOString() }, null, 2) + '\n');
}

/** modelPath resolves an entry's file against the manifest's folder. */
export function modelPath(manifestPath: string, v: VersionEntry): string {
  return resolve(dirname(manifestPath), v.file);
}

export type Verification = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/** verifyVersion reads an entry's model file and checks its size and sha256. */
export function verifyVersion(manifestPath: string, v: VersionEntry): Verification {
  const p = modelPath(manifestPath, v);
  if (!existsSync(p)) return { ok: false, reason: `file ${v.file} is missing` };
  let bytes: Buffer;
  try {
    const st = statSync(p);
    if (st.isDirectory()) return { ok: false, reason: `file ${v.file} is a folder, not a model file` };
    if (st.size !== v.bytes) return { ok: false, reason: `file ${v.file} has ${st.size} bytes, the manifest says ${v.bytes}` };
    bytes = readFileSync(p);
  } catch (e) {
    return { ok: false, reason: `file ${v.file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (bytes.length !== v.bytes) return { ok: false, reason: `file ${v.file} has ${bytes.length} bytes, the manifest says ${v.bytes}` };
  const sha = sha256Hex(bytes);
  if (sha !== v.sha256) return { ok: false, reason: `file ${v.file} has sha256 ${sha.slice(0, 12)}…, the manifest says ${v.sha256.slice(0, 12)}…` };
  return { ok: true, bytes };
}

/** family returns a family's entry or throws naming the families there are. */
export function family(m: Manifest, name: string): FamilyEntry {
  const f = m.families[name];
  if (!f) throw new ManifestError(`model family '${name}' is not in the manifest (it has: ${Object.keys(m.families).join(', ') || 'none'})`);
  return f;
}

/** findVersion returns a family's entry for a version, or undefined. */
export function findVersion(f: FamilyEntry, version: string): VersionEntry | undefined {
  return f.versions.find((v) => v.version === version);
}

/**
 * activate makes `version` the family's active version and returns the new manifest (not written).
 * Only retained versions can be activated.
 */
export function activate(m: Manifest, version: string, familyName: string): Manifest {
  const f = family(m, familyName);
  if (!findVersion(f, version)) throw new ManifestError(`version ${version} is not retained (retained: ${f.versions.map((v) => v.version).join(', ')})`);
  if (f.active === version) return m;
  return { ...m, families: { ...m.families, [familyName]: { ...f, active: version, previousActive: f.active } } };
}

/** rollback activates the previously active version. */
export function rollback(m: Manifest, familyName: string): Manifest {
  const f = family(m, familyName);
  if (!f.previousActive || !findVersion(f, f.previousActive)) throw new ManifestError(`family '${familyName}' has no retained previous version to roll back to`);
  return activate(m, f.previousActive, familyName);
}
