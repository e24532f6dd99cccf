/**
 * store: the agent's view of ONE model family in the model store (its entry in manifest.json and the
 * model files it names; the agent has one ModelStore per served family). It verifies every retained
 * version (size and sha256) before creating its ONNX Runtime session, checks the session's widths against
 * the family's contract, keeps one session per retained verified version (so a rollback is a pointer
 * swap), and serves the family's active version.
 *
 * Refusals never stop the service:
 * - a manifest that cannot be read, parsed or checked is refused whole: the last applied one stays;
 * - a version whose file is missing, has the wrong size or sha256, that ONNX Runtime cannot load, or
 *   whose graph's input/output widths differ from the family's contract is refused; if it is the active
 *   one, the model served until then keeps serving (or, with none, the agent is not ready) and status()
 *   says why.
 *
 * In-flight requests never fail on a reload: a request takes a lease on the serving model
 * (`acquire`/`release`); a model dropped from the manifest is released only when its last lease ends.
 *
 * Reload, activate and rollback run one at a time (a Mutex): each reads the manifest from disk, changes
 * it with src/store/manifest.ts, and writes it atomically, so concurrent calls leave a manifest that is
 * one of them applied after the other, never a mix.
 *
 * Beside it: store-types.ts (options, status), store-verify.ts (verifying and loading one version),
 * store-activate.ts (writing an activation to the manifest).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { FamilyEntry, Manifest, VersionEntry } from '../src/store/manifest.js';
import { checkManifest, family as familyOf, findVersion, ManifestError, modelPath, verifyVersion } from '../src/store/manifest.js';
import { sha256Hex } from '../src/util/hash.js';
import { DEFAULT_FAMILY_NAME } from '../src/families/registry.js';
import { AgentError } from './errors.js';
import { Mutex } from './mutex.js';
import { activated, writeActivated } from './store-activate.js';
import { fileDrift, message, prepareVersion, versionView } from './store-verify.js';
import type { ActivationResult, LoadedModel, ReloadResult, StoreLogger, StoreOptions, StoreStatus, SwitchCause, VersionState, VersionView } from './store-types.js';

export type { ActivationResult, LoadedModel, LoadFailureKind, LoadModel, ReloadResult, StoreEvents, StoreLogger, StoreOptions, StoreStatus, SwitchCause, VersionView } from './store-types.js';

const noLog: StoreLogger = { info() {}, warn() {}, error() {} };

/** readOnly: STORE_READ_ONLY for an activate or rollback on a read-only store, naming the kubectl way. */
function readOnly(cause: 'activate' | 'rollback', version: string, family: string): AgentError {
  return new AgentError('STORE_READ_ONLY', `the model store is read-only (a ConfigMap): ${cause === 'rollback' ? 'roll back' : 'activate'} in git instead: npm run rollback -- --to ${version}${family === DEFAULT_FAMILY_NAME ? '' : ` --family ${family}`}, npm run store:configmap, then kubectl apply -k resource-agent/deploy (or kubectl rollout undo deployment/resource-agent -n resource-agent to go back one publish); nothing changed`);
}

/** ModelStore: see the module header. Call start() once, then reload() whenever the manifest may have changed. */
export class ModelStore {
  private readonly mutex = new Mutex();
  private readonly log: StoreLogger;
  private manifest: Manifest | null = null;
  private versions = new Map<string, VersionState>();
  private serving: LoadedModel | null = null;
  private appliedHash: string | null = null;
  private refusedHash: string | null = null;
  private manifestError: string | null = null;
  private activeError: string | null = null;
  private lastReloadAt: string | null = null;
  /** version → why its file on disk no longer matches the bytes verified at load */
  private drift = new Map<string, string>();
  private closed = false;

  /** the manifest's file name: what callers see (the folder it lives in is for the log only) */
  private readonly shown: string;

  constructor(private readonly o: StoreOptions) {
    this.log = o.log ?? noLog;
    this.shown = basename(o.manifestPath);
  }

  get manifestPath(): string {
    return this.o.manifestPath;
  }

  /** start loads the manifest for the first time; a failure leaves the store not ready, never throws. */
  start(): Promise<ReloadResult> {
    return this.mutex.run(() => this.reloadLocked('start'));
  }

  /** reload re-reads the manifest; unchanged text is a no-op. */
  reload(): Promise<ReloadResult> {
    return this.mutex.run(() => this.reloadLocked('reload'));
  }

  /** acquire leases the serving model (null when not ready); pair every lease with release(). */
  acquire(): LoadedModel | null {
    const m = this.serving;
    if (m) m.users++;
    return m;
  }

  /** release ends a lease; a retired model is released by its last lease. */
  release(m: LoadedModel): void {
    m.users--;
    if (m.retired && m.users === 0) this.dispose(m);
  }

  /** activate makes a retained, verified version active and persists it in the manifest. */
  activate(version: string): Promise<ActivationResult> {
    return this.mutex.run(async () => {
      const m = await this.freshManifest();
      let st = this.versions.get(version);
      const fam = familyOf(m, this.o.family);
      if (!st) throw new AgentError('VERSION_NOT_FOUND', `version ${version} is not retained in ${this.shown} (retained: ${fam.versions.map((v) => v.version).join(', ')})`);
      // a file refused before (missing, wrong checksum) may have arrived or been restored since: look again
      if (st.status === 'refused' && st.failure === 'checksum') st = await this.recheck(st);
      return this.switchTo(m, st, 'activate');
    });
  }

  /** rollback activates the manifest's previousActive version. */
  rollback(): Promise<ActivationResult> {
    return this.mutex.run(async () => {
      const m = await this.freshManifest();
      const fam = familyOf(m, this.o.family);
      const prev = fam.previousActive;
      if (!prev || !findVersion(fam, prev)) throw new AgentError('NO_PREVIOUS_VERSION', `the manifest names no retained previously active version to roll back to (active ${fam.active}, previousActive ${prev ?? 'null'}); activate a version by name instead`);
      return this.switchTo(m, this.versions.get(prev)!, 'rollback');
    });
  }

  /** status describes the store for /v1/models and /readyz. */
  status(): StoreStatus {
    const fam = this.manifest ? this.manifest.families[this.o.family] ?? null : null;
    const views: VersionView[] = [...this.versions.values()].map((s) => versionView(s, fam, this.serving, this.drift));
    const serving = this.serving;
    if (serving && !views.some((v) => v.version === serving.version)) {
      // Still serving a version the new manifest dropped, because its active version is refused.
      views.push(versionView({ entry: serving.entry, status: 'verified', failure: null, reason: 'no longer in the manifest; served until the active version can be', model: serving }, fam, serving, this.drift));
    }
    return {
      ready: serving !== null,
      manifestPath: this.shown,
      family: this.o.family,
      serving: serving?.version ?? null,
      active: fam?.active ?? null,
      previousActive: fam?.previousActive ?? null,
      manifestUpdatedAt: this.manifest?.updatedAt ?? null,
      lastReloadAt: this.lastReloadAt,
      manifestError: this.manifestError,
      activeError: this.activeError,
      drift: [...this.drift].map(([version, reason]) => ({ version, reason })),
      versions: views,
    };
  }

  /** close releases every session once its leases end. */
  close(): Promise<void> {
    return this.mutex.run(() => {
      this.closed = true;
      for (const m of this.models()) this.retire(m);
      this.serving = null;
      this.versions.clear();
    });
  }

  /**
   * reverify re-reads the file of every loaded version and compares it with the sha256 it was verified
   * with. A file that changed (a flipped byte, a truncation, a folder in its place) is DRIFT: reported in
   * status() and /readyz, logged once, while the copy verified at load keeps serving (a restart would
   * refuse it; activate re-checks and refuses it). A file restored clears it. Returns the drift count.
   *
   * It also looks again at every version REFUSED for its file (missing, wrong size or sha256,
   * unreadable): a file copied in after its manifest entry, or restored after it drifted and was refused,
   * is verified and loaded, and if it is the active version that was not served, it is served (a switch
   * with cause 'verify'). Files ONNX Runtime refused ('load', 'contract') are not retried: the same bytes
   * fail the same way, and other bytes fail the checksum.
   */
  reverify(): Promise<number> {
    return this.mutex.run(async () => {
      await this.recheckRefused();
      const now = fileDrift(this.o.manifestPath, this.models());
      for (const [version, reason] of now) if (this.drift.get(version) !== reason) this.log.error({ version, reason }, `model file of ${version} changed on disk since it was verified`);
      for (const version of this.drift.keys()) if (!now.has(version)) this.log.info({ version }, `model file of ${version} matches its verified sha256 again`);
      this.drift = now;
      return now.size;
    });
  }

  /** modelDirs: the folders of every retained version's file, loaded or refused, and the served one (watched for changes). */
  modelDirs(): string[] {
    const entries = [...[...this.versions.values()].map((s) => s.entry), ...[...this.models()].map((m) => m.entry)];
    return [...new Set(entries.map((e) => dirname(modelPath(this.o.manifestPath, e))))];
  }

  /** recheckRefused verifies again each version refused for its file; see reverify. Under the mutex. */
  private async recheckRefused(): Promise<void> {
    if (this.closed) return;
    for (const st of [...this.versions.values()]) if (st.status === 'refused' && st.failure === 'checksum') await this.recheck(st);
  }

  /**
   * recheck verifies and loads a version refused for its file once more; when it is the manifest's
   * active version and another (or none) is served, it is served from now on. Returns its new state.
   */
  private async recheck(st: VersionState): Promise<VersionState> {
    const version = st.entry.version;
    const next = await this.prepare(st.entry, st);
    if (this.closed || this.versions.get(version) !== st) {
      if (next.model) this.retire(next.model);
      return st;
    }
    this.versions.set(version, next);
    if (!next.model) return next;
    this.log.info({ version, file: st.entry.file }, `version ${version} verified on a second look (its file was refused before: ${st.reason})`);
    const fam = this.manifest?.families[this.o.family];
    if (fam?.active === version && this.serving !== next.model) {
      const before = this.serving;
      this.serving = next.model;
      this.activeError = null;
      if (before && ![...this.versions.values()].some((s) => s.model === before)) this.retire(before);
      this.o.events?.switched?.(before?.version ?? null, version, 'verify');
      this.log.info({ from: before?.version ?? null, to: version, cause: 'verify' }, `serving ${version}`);
    }
    return next;
  }

  /** models: every live session (retained versions and the serving one). */
  private models(): Set<LoadedModel> {
    const out = new Set<LoadedModel>();
    for (const s of this.versions.values()) if (s.model) out.add(s.model);
    if (this.serving) out.add(this.serving);
    return out;
  }

  private retire(m: LoadedModel): void {
    m.retired = true;
    if (m.users === 0) this.dispose(m);
  }

  private dispose(m: LoadedModel): void {
    if (m.disposed) return;
    m.disposed = true;
    m.predictor.release().catch((e: unknown) => this.log.warn({ version: m.version, err: message(e) }, 'releasing a model session failed'));
  }

  private refuseManifest(reason: string, hash: string | null, counted = false): ReloadResult {
    const first = this.manifestError !== reason;
    this.manifestError = reason;
    this.refusedHash = hash;
    if (first && !counted) {
      this.o.events?.loadFailure?.('manifest', null);
      this.log.error({ manifest: this.o.manifestPath, reason, serving: this.serving?.version ?? null }, this.serving ? `manifest refused; still serving ${this.serving.version}` : 'manifest refused; no model to serve (not ready)');
    }
    this.o.events?.reloaded?.('refused');
    return 'refused';
  }

  /** freshManifest brings memory to the manifest on disk and returns it, or throws MANIFEST_INVALID. */
  private async freshManifest(): Promise<Manifest> {
    await this.reloadLocked('reload');
    if (this.manifestError || !this.manifest) throw new AgentError('MANIFEST_INVALID', `${this.manifestError ?? 'no manifest has been loaded'}; fix the manifest first`);
    return this.manifest;
  }

  private async reloadLocked(cause: 'start' | 'reload'): Promise<ReloadResult> {
    if (this.closed) return 'unchanged';
    this.lastReloadAt = new Date().toISOString();
    const path = this.o.manifestPath;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      return this.refuseManifest(`cannot read ${this.shown} (${(e as NodeJS.ErrnoException).code ?? message(e)})`, null);
    }
    const hash = sha256Hex(text);
    if (hash === this.appliedHash) {
      if (this.manifestError) this.log.info({ manifest: path }, 'manifest is back to the applied one');
      this.manifestError = null;
      this.refusedHash = null;
      this.o.events?.reloaded?.('unchanged');
      return 'unchanged';
    }
    if (hash === this.refusedHash) return 'refused';
    let m: Manifest;
    let fam: FamilyEntry;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new ManifestError(`${this.shown}: not valid JSON (${message(e)})`);
      }
      m = checkManifest(parsed, this.shown);
      fam = familyOf(m, this.o.family);
    } catch (e) {
      return this.refuseManifest(message(e), hash);
    }
    try {
      await this.apply(m, fam, hash, cause);
    } catch (e) {
      // A bug or an unforeseen filesystem state: visible and typed, never a silent log line. The last
      // applied manifest stays; /readyz shows the reason as manifestError; kind="reload" is counted.
      this.log.error({ manifest: path, err: e }, 'manifest reload failed');
      this.o.events?.loadFailure?.('reload', null);
      return this.refuseManifest(`${this.shown}: reload failed (${message(e)}); the last applied manifest stays`, hash, true);
    }
    this.o.events?.reloaded?.('applied');
    return 'applied';
  }

  /** apply verifies and loads a checked manifest's versions and switches to its active one if it can. */
  private async apply(m: Manifest, fam: FamilyEntry, hash: string, cause: SwitchCause): Promise<void> {
    const next = new Map<string, VersionState>();
    for (const entry of fam.versions) next.set(entry.version, await this.prepare(entry, this.versions.get(entry.version)));
    const before = this.serving;
    const desired = next.get(fam.active)!;
    if (desired.model) {
      this.serving = desired.model;
      this.activeError = null;
    } else {
      this.activeError = `active version ${fam.active} is refused (${desired.reason}); ${before ? `still serving ${before.version}` : 'no model to serve'}`;
      this.log.error({ version: fam.active, reason: desired.reason, serving: before?.version ?? null }, this.activeError);
    }
    const keep = new Set<LoadedModel>();
    for (const s of next.values()) if (s.model) keep.add(s.model);
    if (this.serving) keep.add(this.serving);
    for (const old of this.models()) if (!keep.has(old)) this.retire(old);
    this.versions = next;
    this.manifest = m;
    this.appliedHash = hash;
    this.refusedHash = null;
    this.manifestError = null;
    this.log.info({ manifest: this.o.manifestPath, active: fam.active, serving: this.serving?.version ?? null, verified: [...next.values()].filter((s) => s.model).map((s) => s.entry.version), refused: [...next.values()].filter((s) => !s.model).map((s) => s.entry.version) }, 'manifest applied');
    if (this.serving && before !== this.serving) {
      this.o.events?.switched?.(before?.version ?? null, this.serving.version, cause);
      this.log.info({ from: before?.version ?? null, to: this.serving.version, cause }, `serving ${this.serving.version}`);
    }
  }

  /** prepare verifies one entry and loads it (store-verify.ts). */
  private prepare(entry: VersionEntry, prev: VersionState | undefined): Promise<VersionState> {
    return prepareVersion(this.o, this.log, entry, prev);
  }

  /** switchTo persists a manifest whose active version is `target` and serves it. */
  private switchTo(m: Manifest, target: VersionState, cause: 'activate' | 'rollback'): ActivationResult {
    const version = target.entry.version;
    if (target.status === 'verified' && target.model) {
      // Re-check the file now: its session came from verified bytes, but a file changed on disk since
      // would be refused at the next restart, so it is not a version to switch to.
      const v = verifyVersion(this.o.manifestPath, target.entry);
      if (!v.ok) {
        this.o.events?.loadFailure?.('checksum', version);
        this.log.error({ version, file: target.entry.file, reason: v.reason }, `version ${version} refused`);
        const model = target.model;
        Object.assign(target, { status: 'refused', failure: 'checksum', reason: v.reason, model: null });
        if (model !== this.serving) this.retire(model);
      }
    }
    if (target.status !== 'verified' || !target.model) throw new AgentError('VERSION_NOT_VERIFIED', `version ${version} is refused (${target.reason}); only verified versions can be activated`);
    const { base, next } = activated(this.o, m, version);
    const fam = familyOf(next, this.o.family);
    if (next === base && this.serving === target.model) return { changed: false, active: fam.active, previousActive: fam.previousActive };
    const written = writeActivated(this.o, this.shown, next);
    if (written === 'read-only') throw readOnly(cause, version, this.o.family);
    this.appliedHash = sha256Hex(written);
    this.manifest = checkManifest(JSON.parse(written), this.o.manifestPath);
    this.activeError = null;
    const before = this.serving;
    this.serving = target.model;
    // The version served before stays loaded: it is retained, or it was served only while the active one
    // was refused, in which case nothing references it any more.
    if (before && before !== this.serving && ![...this.versions.values()].some((s) => s.model === before)) this.retire(before);
    if (before !== this.serving) this.o.events?.switched?.(before?.version ?? null, version, cause);
    this.log.info({ from: before?.version ?? null, to: version, cause, manifest: this.o.manifestPath }, `${cause}: serving ${version}, manifest written`);
    return { changed: true, active: fam.active, previousActive: fam.previousActive };
  }
}
