/**
 * store-verify: how the model store (store.ts) decides whether a retained version can be served: its file
 * is verified (size and sha256), loaded by ONNX Runtime, and checked against the family's contract (the
 * graph's widths, the contract version embedded at export, and a learned spec such as job-memory's
 * vocabularies). A refusal is logged and counted once per reason; a session is reused for identical bytes,
 * and the same bytes that failed to load are not loaded again. A loaded version's file is verified again
 * later (fileDrift): one changed on disk is drift, reported while the verified copy keeps serving.
 */
import type { FamilyEntry, VersionEntry } from '../src/store/manifest.js';
import { verifyVersion } from '../src/store/manifest.js';
import type { OnnxPredictor } from '../src/onnx/runtime.js';
import type { LoadedModel, StoreLogger, StoreOptions, VersionState, VersionView } from './store-types.js';

/** message: an error's message, or the thrown value as text. */
export const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** prepareVersion verifies one entry and loads it, reusing the session of an identical file (`prev`). */
export async function prepareVersion(o: StoreOptions, log: StoreLogger, entry: VersionEntry, prev: VersionState | undefined): Promise<VersionState> {
  const refuse = (kind: 'checksum' | 'load' | 'contract', reason: string): VersionState => {
    if (prev?.reason !== reason) {
      o.events?.loadFailure?.(kind, entry.version);
      log.error({ version: entry.version, file: entry.file, reason }, `version ${entry.version} refused`);
    }
    return { entry, status: 'refused', failure: kind, reason, model: null };
  };
  const v = verifyVersion(o.manifestPath, entry);
  if (!v.ok) return refuse('checksum', v.reason);
  if (prev?.model && prev.entry.sha256 === entry.sha256) return { entry, status: 'verified', failure: null, reason: null, model: prev.model };
  // The same bytes failed to load before: loading is deterministic, do not retry on every reload.
  if ((prev?.failure === 'load' || prev?.failure === 'contract') && prev.entry.sha256 === entry.sha256) return { ...prev, entry };
  let predictor: OnnxPredictor;
  try {
    predictor = await o.load(v.bytes, entry.file);
  } catch (e) {
    return refuse('load', `ONNX Runtime: ${message(e)}`);
  }
  const mismatch = contractMismatch(o, entry, predictor, v.bytes);
  if (mismatch) {
    predictor.release().catch((e: unknown) => log.warn({ version: entry.version, err: message(e) }, 'releasing a model session failed'));
    return refuse('contract', mismatch);
  }
  const model: LoadedModel = { version: entry.version, entry, predictor, loadedAt: new Date().toISOString(), users: 0, retired: false, disposed: false };
  log.info({ version: entry.version, file: entry.file, sha256: entry.sha256 }, `version ${entry.version} verified and loaded`);
  return { entry, status: 'verified', failure: null, reason: null, model };
}

/** contractMismatch: why a loaded model is not one of the family's contract, or null (no contract: not checked). */
function contractMismatch(o: StoreOptions, entry: VersionEntry, predictor: OnnxPredictor, bytes: Uint8Array): string | null {
  const c = o.contract;
  if (!c) return null;
  if (predictor.inputWidth !== c.inputs.length || predictor.outputWidth !== c.outputs.length) {
    return `file ${entry.file} takes ${predictor.inputWidth} inputs and gives ${predictor.outputWidth} outputs, but the contract of family ${o.family} has ${c.inputs.length} and ${c.outputs.length}; is it a model of another family?`;
  }
  // The same widths do not make the same contract: contract 2 (absolute log scales) and 3 (multiples of
  // the window's own scales) both take 12 inputs, and this agent normalizes as its family's contract says.
  const embedded = (entry.contract?.features as { contractVersion?: unknown } | null | undefined)?.contractVersion;
  if (embedded !== undefined && String(embedded) !== c.version) {
    return `file ${entry.file} is a model of contract ${String(embedded)} of family ${o.family}, but this agent serves contract ${c.version} (its inputs and outputs mean other numbers); activate a version exported by this release, or run the release that served it`;
  }
  // A contract learned from data (job-memory's vocabularies) also checks the spec embedded in the file.
  return c.checkModel?.(bytes, entry.file) ?? null;
}

/** fileDrift: the loaded versions whose file on disk no longer matches the sha256 verified at load, and why. */
export function fileDrift(manifestPath: string, models: Iterable<LoadedModel>): Map<string, string> {
  const drift = new Map<string, string>();
  for (const m of models) {
    const v = verifyVersion(manifestPath, m.entry);
    if (!v.ok) drift.set(m.version, `${v.reason}; the copy verified at load keeps serving, a restart would refuse it`);
  }
  return drift;
}

/** versionView: one retained version as GET /v1/models shows it. */
export function versionView(s: VersionState, fam: FamilyEntry | null, serving: LoadedModel | null, drift: ReadonlyMap<string, string>): VersionView {
  const e = s.entry;
  return {
    version: e.version,
    file: e.file,
    sha256: e.sha256,
    bytes: e.bytes,
    createdAt: e.createdAt,
    status: s.status,
    reason: s.reason,
    active: fam?.active === e.version,
    previousActive: fam?.previousActive === e.version,
    // by version: a served session whose file has since failed its checksum is listed as refused, serving
    serving: serving !== null && serving.version === e.version,
    loadedAt: s.model?.loadedAt ?? null,
    replaces: e.replaces ?? null,
    quantization: e.quantization ?? {},
    validation: e.validation ?? null,
    shadow: e.shadow ?? null,
    drift: drift.get(e.version) ?? null,
  };
}
