/**
 * publish: puts a trained model of a family into a model store as a new semantic version (what `npm run
 * export` runs), and writes the Rust edge module for it.
 *
 * Versioning (per family): the first version is 1.0.0. Then, against the newest retained version:
 *   major — the input/output contract changed (the graph's tensors or the embedded feature contract:
 *           names, order, units, normalization), detected from the file, not trusted to a flag;
 *   minor — the weights changed (retraining, or another architecture);
 *   patch — anything else (the same weights re-exported).
 * `--bump` can only raise the detected level; an explicit `--version` must be above every retained one
 * (a downgrade is refused).
 *
 * Crash safety (kill -9 at any point): the order of writes is (1) predictor_vX.Y.Z.onnx, (2) the Rust
 * module, (3) predictor.onnx, (4) manifest.json, the LAST write, (5) deletion of versions beyond the last
 * RETAINED_VERSIONS. Each write is atomic (temp, fsync, rename), and until (4) the old manifest points only
 * at files that are untouched, so a kill at any point leaves a verifiable store. What a killed export
 * leaves (temp files of a dead process, a versioned file the manifest does not list, dropped versions
 * not yet deleted) is cleaned by the next export before it writes (`cleanDebris`); the Rust module and
 * predictor.onnx, which may be at the dead export's version, are rewritten by it.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { readBytesOrThrow } from '../util/read.js';
import { dirname, join, relative, resolve } from 'node:path';
import { sha256Hex } from '../util/hash.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { UserError } from '../util/errors.js';
import { canonicalJson, compareSemver, bumpVersion, maxBump, parseSemver, readManifest, RETAINED_VERSIONS, writeManifest, ManifestError, modelPath } from '../store/manifest.js';
import type { Bump, Manifest, VersionEntry } from '../store/manifest.js';
import { inspectOnnx } from '../onnx/inspect.js';
import { servedModelOf } from '../onnx/trees.js';
import { generateRust } from './rust.js';
import { checkBudget, isConfigMapStore, storeSize, writeKustomization } from '../store/configmap.js';
import { parseRiskTable } from '../core/risk.js';
import type { ModelFamily } from '../core/family.js';

export interface ExportOptions {
  model: string;
  outputDir: string;
  manifestPath: string;
  family: ModelFamily;
  bump?: Bump;
  version?: string;
  /** validation summary to record (null when not validated) */
  validation: Record<string, unknown> | null;
  /** where to write the Rust edge module (default <outputDir>/embedded_model.rs; null: none) */
  rustPath?: string | null;
  /** test hook: called after the versioned model file is written, before the manifest */
  afterModelWrite?: () => void;
  /** the size budget of a ConfigMap store (default CONFIGMAP_BUDGET_BYTES, 900 KiB) */
  configMapBudgetBytes?: number;
  /** test hook: called before each write step (EXPORT_STEPS) with the file it writes or deletes */
  onStep?: (step: ExportStep, path: string | null) => void;
  now?: Date;
  /**
   * make the new version active (default true). false: it is only retained, e.g. a retraining candidate
   * awaiting its shadow evaluation (src/retrain/); the active and previous active versions are then never
   * pruned to make room for it. The first version of a family is always active.
   */
  activate?: boolean;
  /** a retraining's shadow-evaluation record to store with the entry (src/retrain/) */
  shadow?: Record<string, unknown> | null;
}

/** EXPORT_STEPS: the writes of an export, in order; the manifest is the last write. */
export const EXPORT_STEPS = ['model', 'rust', 'latest', 'manifest', 'prune'] as const;
export type ExportStep = (typeof EXPORT_STEPS)[number];

/** TEMP_NAME: fs-atomic's temp files, `.tmp-<name>-<pid>-<hex>`. */
const TEMP_NAME = /^\.tmp-.+-(\d+)-[0-9a-f]+$/;

const alive = (pid: number) => {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * cleanDebris removes what a killed export left in `dirs`: temp files of processes that are gone, and
 * versioned model files of stem `stem` that no family of manifest `m` lists. Returns what it removed.
 * Example: models/.tmp-manifest.json-4242-1a2b3c4d (pid 4242 dead) and models/predictor_v1.6.0.onnx (not in
 * the manifest) → both removed.
 */
export function cleanDebris(dirs: readonly string[], m: Manifest, manifestPath: string, stem: string): string[] {
  const listed = new Set(Object.values(m.families).flatMap((f) => f.versions.map((v) => modelPath(manifestPath, v))));
  const versioned = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_v\\d+\\.\\d+\\.\\d+\\.onnx$`);
  const removed: string[] = [];
  for (const dir of new Set(dirs)) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const tmp = TEMP_NAME.exec(name);
      if ((tmp && !alive(Number(tmp[1]))) || (versioned.test(name) && !listed.has(p))) {
        rmSync(p, { force: true });
        removed.push(p);
      }
    }
  }
  return removed;
}

export interface ExportResult {
  version: string;
  detectedBump: Bump | 'initial';
  file: string;
  sha256: string;
  bytes: number;
  removed: string[];
  /** debris of an earlier, killed export that this one removed */
  cleaned: string[];
  manifest: Manifest;
  rustPath: string | null;
  /** whether the new version was made active */
  activated: boolean;
}

/** contractOf builds the contract record of a model from its graph and embedded metadata. */
export function contractOf(bytes: Uint8Array, label: string): VersionEntry['contract'] {
  const info = inspectOnnx(bytes, label);
  let features: unknown = null;
  if (info.metadata.contract) {
    try {
      features = JSON.parse(info.metadata.contract);
    } catch {
      throw new UserError(`${label}: its embedded contract metadata is not JSON; retrain it with npm run train`);
    }
  }
  return { inputs: info.inputs, outputs: info.outputs, features };
}

/**
 * exportModel adds a model to the store and makes it active (unless `activate: false`): read and check the
 * model against the family, choose its version, make its manifest entry and the retained versions, then
 * write (versioned file, Rust, latest copy, manifest last, pruning).
 */
export function exportModel(o: ExportOptions): ExportResult {
  const bytes = readModel(o.model);
  const checked = checkModel(bytes, o);
  const manifest: Manifest = existsSync(o.manifestPath) ? readManifest(o.manifestPath) : { schemaVersion: 1, updatedAt: '', families: {} };
  const fam = manifest.families[o.family.name];
  const { version, detected } = chooseVersion(o, fam, checked.contractSha256, checked.info.weightsSha256);
  const place = placeFile(o, version);
  const entry = versionEntry(o, bytes, checked, version, place.fileRel, fam);
  const { next, kept, dropped, activateNew } = retainVersions(manifest, o.family.name, fam, entry, o.activate);
  // A ConfigMap store folder (a self-contained one; the repository's is the view in models/) must fit in a ConfigMap: refused before any write.
  const configMap = isConfigMapStore(o.manifestPath);
  if (configMap) checkBudget(storeSize(o.manifestPath, next, JSON.stringify(next, null, 2) + '\n'), bytes.length, kept.filter((v) => v.file.startsWith(place.stem)).length, o.configMapBudgetBytes);
  const written = writeVersion(o, { manifest, next, dropped, entry, bytes, place, version, activateNew, configMap });
  return { version, detectedBump: detected, file: place.fileRel, sha256: entry.sha256, bytes: entry.bytes, removed: written.removed, cleaned: written.cleaned, manifest: next, rustPath: written.rustPath, activated: activateNew };
}

/** readModel reads the model file, or names it and how to make one. */
function readModel(path: string): Buffer {
  return readBytesOrThrow(path, { what: 'model', fix: 'train one with npm run train' });
}

/** Checked: what the model file says of itself: its graph, its contract record and that record's hash. */
interface Checked {
  info: ReturnType<typeof inspectOnnx>;
  contract: VersionEntry['contract'];
  contractSha256: string;
}

/** checkModel refuses a model without an embedded contract, or whose widths are not the family's. */
function checkModel(bytes: Buffer, o: ExportOptions): Checked {
  const familyName = o.family.name;
  const c = o.family.contract;
  const info = inspectOnnx(bytes, o.model);
  const contract = contractOf(bytes, o.model);
  if (!contract.features) throw new UserError(`${o.model} has no embedded feature contract; export models written by npm run train`);
  const width = (t: VersionEntry['contract']['inputs']) => Number(t[0]?.shape[1]);
  if (width(contract.inputs) !== c.inputs.length || width(contract.outputs) !== c.outputs.length) {
    throw new UserError(`${o.model} takes ${width(contract.inputs)} inputs and gives ${width(contract.outputs)} outputs, but family ${familyName} has ${c.inputs.length} and ${c.outputs.length}; is it a model of another family (--family)?`);
  }
  return { info, contract, contractSha256: sha256Hex(canonicalJson(contract)) };
}

/**
 * chooseVersion: 1.0.0 for a family's first version; then the change detected against the newest
 * retained version (major: contract, minor: weights, patch: neither), raised by --bump; an explicit
 * --version must be above the newest and at least what the change needs.
 */
function chooseVersion(o: ExportOptions, fam: Manifest['families'][string] | undefined, contractSha256: string, weightsSha256: string): { version: string; detected: Bump | 'initial' } {
  const latest = fam ? [...fam.versions].sort((a, b) => compareSemver(a.version, b.version)).at(-1)! : null;
  let detected: Bump | 'initial' = 'initial';
  let version = '1.0.0';
  if (latest) {
    detected = latest.contractSha256 !== contractSha256 ? 'major' : latest.weightsSha256 !== weightsSha256 ? 'minor' : 'patch';
    version = bumpVersion(latest.version, maxBump(detected, o.bump ?? 'patch'));
  }
  if (o.version) {
    parseSemver(o.version);
    if (latest && compareSemver(o.version, latest.version) <= 0) throw new ManifestError(`refusing to export version ${o.version}: it is not above the newest retained version ${latest.version} (no downgrades)`);
    if (latest && compareSemver(o.version, version) < 0) throw new ManifestError(`refusing version ${o.version}: this change needs at least ${version} (${detected} change detected)`);
    version = o.version;
  }
  return { version, detected };
}

/** Place: where the version's file goes (absolute, and relative to the manifest's folder) and the family's file stem. */
interface Place {
  manifestDir: string;
  stem: string;
  fileAbs: string;
  fileRel: string;
}

/** placeFile names the versioned file, <stem>_v<version>.onnx in --output, which must be inside the manifest's folder. */
function placeFile(o: ExportOptions, version: string): Place {
  const manifestDir = dirname(resolve(o.manifestPath));
  // The default family keeps the promised names (predictor_vX.Y.Z.onnx, predictor.onnx); others use their
  // own stem so that versions of two families never share a file.
  const stem = o.family.fileStem;
  const fileAbs = resolve(o.outputDir, `${stem}_v${version}.onnx`);
  const fileRel = relative(manifestDir, fileAbs).split('\\').join('/');
  if (fileRel.startsWith('..')) throw new UserError(`--output ${o.outputDir} must be inside the manifest's folder ${manifestDir}`);
  return { manifestDir, stem, fileAbs, fileRel };
}

/** versionEntry: the manifest entry of the new version (hashes, ONNX facts, quantization, risk table, validation). */
function versionEntry(o: ExportOptions, bytes: Buffer, checked: Checked, version: string, fileRel: string, fam: Manifest['families'][string] | undefined): VersionEntry {
  const { info, contract, contractSha256 } = checked;
  return {
    version,
    file: fileRel,
    sha256: sha256Hex(bytes),
    bytes: bytes.length,
    createdAt: (o.now ?? new Date()).toISOString(),
    opset: info.opset,
    irVersion: info.irVersion,
    contract,
    contractSha256,
    weightsSha256: info.weightsSha256,
    quantization: { mode: info.metadata.quantization ?? 'unknown', ...(info.metadata.quantization_params ? JSON.parse(info.metadata.quantization_params) as object : {}) },
    trainingDataSha256: info.metadata.training_data_sha256 ?? null,
    validation: o.validation,
    risk: parseRiskTable(info.metadata.risk_calibration, o.model),
    replaces: fam?.active ?? null,
    ...(o.shadow ? { shadow: o.shadow } : {}),
  };
}

/**
 * retainVersions: the manifest with the new version, keeping the newest RETAINED_VERSIONS (the new one
 * included); a version exported without activating it never pushes out the active or previous active one.
 */
function retainVersions(manifest: Manifest, familyName: string, fam: Manifest['families'][string] | undefined, entry: VersionEntry, activate: boolean | undefined): { next: Manifest; kept: VersionEntry[]; dropped: VersionEntry[]; activateNew: boolean } {
  const version = entry.version;
  const activateNew = activate !== false || !fam;
  const all = [...(fam?.versions ?? []), entry].sort((a, b) => compareSemver(a.version, b.version));
  const keep = activateNew ? new Set<string>() : new Set([fam!.active, fam!.previousActive].filter((v): v is string => !!v && all.some((x) => x.version === v)));
  const room = RETAINED_VERSIONS - keep.size;
  const newest = all.filter((v) => !keep.has(v.version)).slice(-room).map((v) => v.version);
  const kept = all.filter((v) => keep.has(v.version) || newest.includes(v.version));
  const dropped = all.filter((v) => !kept.includes(v));
  const next: Manifest = {
    ...manifest,
    families: { ...manifest.families, [familyName]: activateNew ? { active: version, previousActive: fam?.active ?? null, versions: kept } : { ...fam!, versions: kept } },
  };
  return { next, kept, dropped, activateNew };
}

/**
 * writeVersion does the writes, in the crash-safe order of the module header, after cleaning a killed
 * export's debris: the versioned file, the Rust module, the latest copy, (the ConfigMap's file list,) the
 * manifest, then the dropped versions' files no family still lists.
 */
function writeVersion(o: ExportOptions, w: { manifest: Manifest; next: Manifest; dropped: VersionEntry[]; entry: VersionEntry; bytes: Buffer; place: Place; version: string; activateNew: boolean; configMap: boolean }): { rustPath: string | null; cleaned: string[]; removed: string[] } {
  const { manifest, next, dropped, entry, bytes, version, activateNew, configMap } = w;
  const { manifestDir, stem, fileAbs } = w.place;
  const c = o.family.contract;
  const step = (name: ExportStep, path: string | null) => o.onStep?.(name, path);
  // The Rust edge module embeds the new version: embedded_model.rs for the default family, <stem>.rs otherwise.
  // Both follow the active version: a version exported without activating it writes neither.
  const rustPath = o.rustPath === null || !activateNew ? null : resolve(o.rustPath ?? join(o.outputDir, stem === 'predictor' ? 'embedded_model.rs' : `${stem}.rs`));
  const latestPath = join(o.outputDir, `${stem}.onnx`);
  const cleaned = cleanDebris([resolve(o.outputDir), manifestDir, ...(rustPath ? [dirname(rustPath)] : [])], manifest, o.manifestPath, stem);

  step('model', fileAbs);
  writeFileAtomic(fileAbs, bytes);
  o.afterModelWrite?.();
  if (rustPath) {
    step('rust', rustPath);
    writeFileAtomic(rustPath, generateRust({ contract: c, extras: o.family.rustExtras?.(), version, sha256: entry.sha256, rsPath: rustPath, onnxPath: fileAbs, model: servedModelOf(bytes, o.model), risk: entry.risk ?? null }));
  }
  if (activateNew) {
    step('latest', latestPath);
    writeFileAtomic(latestPath, bytes);
  }
  // the ConfigMap's file list follows the new manifest (every file it lists exists by now)
  if (configMap) writeKustomization(o.manifestPath, next);
  step('manifest', resolve(o.manifestPath));
  writeManifest(o.manifestPath, next);
  const removed: string[] = [];
  const stillUsed = new Set(Object.values(next.families).flatMap((f) => f.versions.map((v) => modelPath(o.manifestPath, v))));
  for (const d of dropped) {
    const p = modelPath(o.manifestPath, d);
    if (!stillUsed.has(p)) {
      step('prune', p);
      rmSync(p, { force: true });
      removed.push(d.file);
    }
  }  return { rustPath, cleaned, removed };
}
