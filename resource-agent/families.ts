/**
 * families: which model families the agent serves, and their stores. Each served family has its own
 * ModelStore (its versions, active, previousActive and rollback in the shared manifest), its serving
 * adapter (src/families/<name>/serving/) and its Inference (one batcher per loaded model).
 *
 * Which families (decided once, at start-up, because routes cannot be added to a listening server):
 *   --family a,b   exactly those (each must be registered); one absent from the manifest is not ready
 *   unset          every registered family the manifest names; a registered family absent from it is
 *                  not served (logged). If the manifest cannot be read yet, or names no registered
 *                  family, the default family (the first registered) is served, not ready until a
 *                  manifest with it appears, as a single-family agent always did.
 */
import { readManifest } from '../src/store/manifest.js';
import type { ModelFamily, ServingAdapter } from '../src/families/types.js';
import { UserError } from '../src/util/errors.js';
import type { ModelStore, ReloadResult, StoreStatus } from './store.js';
import type { Inference } from './infer.js';

/** ServedFamily: one family the agent serves. */
export interface ServedFamily {
  readonly family: ModelFamily;
  readonly store: ModelStore;
  readonly adapter: ServingAdapter;
  readonly infer: Inference;
  /** the prefix of its model routes: /v1/families/<name> */
  readonly prefix: string;
}

/** Selection: the families to serve, in registry order, and what the log should say about the others. */
export interface Selection {
  families: ModelFamily[];
  notServed: { family: string; reason: string }[];
}

/**
 * selectFamilies picks the families to serve from `registered` (the first is the default) for the
 * option `wanted` (null: every registered family in the manifest at `manifestPath`).
 * Example: registered [containers, jobs], manifest with containers only, wanted null → [containers],
 * notServed [{ family: 'jobs', reason: 'not in the manifest' }].
 */
export function selectFamilies(registered: readonly ModelFamily[], wanted: readonly string[] | null, manifestPath: string): Selection {
  if (registered.length === 0) throw new UserError('no model family is registered');
  const names = registered.map((f) => f.name);
  if (wanted !== null) {
    for (const w of wanted) if (!names.includes(w)) throw new UserError(`--family: '${w}' is not a registered model family (registered: ${names.join(', ')})`);
    return { families: registered.filter((f) => wanted.includes(f.name)), notServed: registered.filter((f) => !wanted.includes(f.name)).map((f) => ({ family: f.name, reason: 'not in --family' })) };
  }
  let inManifest: Set<string> | null = null;
  try {
    inManifest = new Set(Object.keys(readManifest(manifestPath).families));
  } catch {
    // Not readable yet: the default family's store reports why, and serves once it can.
  }
  const found = inManifest ? registered.filter((f) => inManifest.has(f.name)) : [];
  const families = found.length > 0 ? found : [registered[0]!];
  const why = inManifest ? 'not in the manifest' : 'the manifest cannot be read at start-up; restart to serve it once it is there';
  return { families, notServed: registered.filter((f) => !families.includes(f)).map((f) => ({ family: f.name, reason: why })) };
}

/** checkPaths refuses two families on one route (their serving paths, or a path inside the agent's own). */
export function checkPaths(families: readonly ModelFamily[]): void {
  const seen = new Map<string, string>();
  for (const f of families) {
    const p = f.serving.path;
    if (!/^\/[A-Za-z0-9/_.-]+$/.test(p) || p.endsWith('/')) throw new UserError(`model family ${f.name}: serving.path '${p}' must be an absolute URL path without a trailing slash`);
    if (/^\/v1\/(models|families|rollback)(\/|$)/.test(p)) throw new UserError(`model family ${f.name}: serving.path '${p}' is one of the agent's own routes`);
    const other = seen.get(p);
    if (other) throw new UserError(`model families ${other} and ${f.name} both serve ${p}; give one another serving.path`);
    seen.set(p, f.name);
  }
}

/** Stores: the stores of every served family, started, reloaded and closed together. */
export class Stores {
  constructor(private readonly served: readonly ServedFamily[]) {}

  start(): Promise<ReloadResult[]> {
    return Promise.all(this.served.map((f) => f.store.start()));
  }

  reload(): Promise<ReloadResult[]> {
    return Promise.all(this.served.map((f) => f.store.reload()));
  }

  /** reverify re-checks every loaded model file (drift); returns the total drift count. */
  async reverify(): Promise<number> {
    return (await Promise.all(this.served.map((f) => f.store.reverify()))).reduce((a, b) => a + b, 0);
  }

  /** modelDirs: the folders holding loaded model files, over every family. */
  modelDirs(): string[] {
    return [...new Set(this.served.flatMap((f) => f.store.modelDirs()))];
  }

  async close(): Promise<void> {
    await Promise.all(this.served.map((f) => f.store.close()));
  }

  /** get returns a served family's store, or undefined. */
  get(family: string): ModelStore | undefined {
    return this.served.find((f) => f.family.name === family)?.store;
  }

  statuses(): StoreStatus[] {
    return this.served.map((f) => f.store.status());
  }
}
