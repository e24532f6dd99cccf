/**
 * store-types: what the agent's model store (store.ts) takes and shows: its options (how a model is loaded,
 * logged and counted), a loaded version with its leases, and the status GET /v1/models and /readyz give.
 */
import type { Manifest, VersionEntry } from '../src/store/manifest.js';
import type { OnnxPredictor } from '../src/onnx/runtime.js';
import type { ModelContract } from '../src/core/contract.js';

/** LoadModel creates a predictor from verified model bytes (loadOnnx in production; a fake in tests). */
export type LoadModel = (bytes: Uint8Array, label: string) => Promise<OnnxPredictor>;

/** StoreLogger: the pino methods the store uses. */
export interface StoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** StoreEvents: what the store reports to metrics. */
export interface StoreEvents {
  /**
   * kind 'manifest': a refused manifest; 'checksum': a refused file; 'load': ONNX Runtime refused it;
   * 'contract': its input/output widths are not the family contract's
   */
  loadFailure(kind: LoadFailureKind, version: string | null): void;
  switched(from: string | null, to: string, cause: SwitchCause): void;
  reloaded(result: ReloadResult): void;
}
export type LoadFailureKind = 'manifest' | 'checksum' | 'load' | 'contract' | 'reload';
/** 'verify': a refused active version whose file verified on a re-check (reverify) */
export type SwitchCause = 'start' | 'reload' | 'activate' | 'rollback' | 'verify';
export type ReloadResult = 'applied' | 'unchanged' | 'refused';

export interface StoreOptions {
  manifestPath: string;
  family: string;
  /** the family's contract: a model whose graph widths differ from it is refused (unset: not checked) */
  contract?: ModelContract;
  load: LoadModel;
  /** writes the manifest atomically (default: writeManifest; tests replace it to simulate a read-only store) */
  write?: (path: string, m: Manifest) => void;
  log?: StoreLogger;
  events?: Partial<StoreEvents>;
}

/** LoadedModel: one verified version with its session. `users` counts leases. */
export interface LoadedModel {
  readonly version: string;
  readonly entry: VersionEntry;
  readonly predictor: OnnxPredictor;
  readonly loadedAt: string;
  users: number;
  retired: boolean;
  disposed: boolean;
}

/** VersionState: what the store knows of one retained version (store-verify.ts prepares it). */
export interface VersionState {
  entry: VersionEntry;
  status: 'verified' | 'refused';
  /** why it is refused: its file ('checksum': missing, wrong size or sha256), ONNX Runtime ('load'), its widths ('contract') */
  failure: 'checksum' | 'load' | 'contract' | null;
  reason: string | null;
  model: LoadedModel | null;
}

/** VersionView: one retained version as GET /v1/models shows it. */
export interface VersionView {
  version: string;
  file: string;
  sha256: string;
  bytes: number;
  createdAt: string;
  status: 'verified' | 'refused';
  reason: string | null;
  active: boolean;
  previousActive: boolean;
  serving: boolean;
  loadedAt: string | null;
  replaces: string | null;
  quantization: Record<string, unknown>;
  validation: Record<string, unknown> | null;
  /** a retrained candidate's shadow evaluation and promotion decision (src/retrain/), or null */
  shadow: Record<string, unknown> | null;
  /** its file changed on disk since it was verified and loaded, or null */
  drift: string | null;
}

export interface StoreStatus {
  ready: boolean;
  manifestPath: string;
  family: string;
  /** the version answering requests (may differ from `active` when the active one is refused) */
  serving: string | null;
  active: string | null;
  previousActive: string | null;
  manifestUpdatedAt: string | null;
  lastReloadAt: string | null;
  /** why the manifest on disk is not the one applied, or null */
  manifestError: string | null;
  /** why the manifest's active version is not served, or null */
  activeError: string | null;
  /** loaded versions whose files no longer match what was verified at load (still served from memory) */
  drift: { version: string; reason: string }[];
  versions: VersionView[];
}

/** ActivationResult: what activate/rollback did. */
export interface ActivationResult {
  changed: boolean;
  active: string;
  previousActive: string | null;
}
