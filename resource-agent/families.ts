/**
 * families: which model families the agent serves, and their stores. Each served family has its own
 * ModelStore (its versions, active, previousActive and rollback in the shared manifest), its serving
 * adapter (src/families/<name>/serving/) and its Inference (one batcher per loaded model).
 *
 * Which families (decided once, at start-up, because routes cannot be added to a listening server):
 *   --family a,b   exactly those: registered ones, or members of a registered family (job-memory/bowtie2)
 *                  built from their manifest entry; one absent from the manifest is not ready
 *   unset          every family the manifest names: a registered one as it is; a member of a registered
 *                  family (job-memory/<data set>, listed in no code) from the contract embedded in its
 *                  entry's model file, read once the file's size and sha256 match the entry (the active
 *                  version's, else the newest that verifies). An entry the agent cannot serve (no family
 *                  for it, no version that verifies, a route it cannot take) is logged and named in
 *                  /readyz (`unservable`), which is then 503. A registered family absent from the
 *                  manifest is not served (logged). If the manifest cannot be read yet, or nothing in it
 *                  can be served, the default family (the first registered) is served, not ready until a
 *                  manifest with it appears, as a single-family agent always did.
 */
import { readManifest, compareSemver, modelPath, verifyVersion } from '../src/store/manifest.js';
import type { Manifest } from '../src/store/manifest.js';
import type { ModelFamily, ServingAdapter } from '../src/core/family.js';
import { parentOf } from '../src/families/registry.js';
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

/** NotServed: a family the agent does not serve and why; `entry`: the manifest or --family asked for it. */
export interface NotServed {
  family: string;
  reason: string;
  /** true: named in the manifest (or --family) and cannot be served, so the agent is not ready */
  entry: boolean;
}

/** Selection: the families to serve (registered ones in registry order, then members in the manifest's order) and the others. */
export interface Selection {
  families: ModelFamily[];
  notServed: NotServed[];
}

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * memberOfManifest builds the family of a manifest entry named `<registered family>/<member>` from its
 * model file: the active version first, then the others newest first; the first whose file matches the
 * entry (size, sha256) and whose embedded contract reads gives the family. Returns it, or why not.
 * Example: job-memory/bowtie2 with active 1.0.0 → jobMemory.ofModel(models/job-memory-bowtie2_v1.0.0.onnx).
 */
export function memberOfManifest(registered: readonly ModelFamily[], name: string, m: Manifest | null, manifestPath: string): ModelFamily | string {
  const parent = parentOf(name, registered);
  if (!parent?.ofModel) return `no registered model family serves it (registered: ${registered.map((f) => f.name).join(', ')}); is it a model of another release?`;
  const fam = m?.families[name];
  if (!fam) return m ? 'not in the manifest' : 'the manifest cannot be read at start-up; restart to serve it once it is there';
  const order = [...fam.versions].sort((a, b) => (a.version === fam.active ? -1 : b.version === fam.active ? 1 : compareSemver(b.version, a.version)));
  const problems: string[] = [];
  for (const entry of order) {
    const v = verifyVersion(manifestPath, entry);
    if (!v.ok) {
      problems.push(`${entry.version}: ${v.reason}`);
      continue;
    }
    try {
      const f = parent.ofModel(modelPath(manifestPath, entry), v.bytes);
      if (f.name !== name) {
        problems.push(`${entry.version}: its model ${entry.file} is a model of ${f.name}`);
        continue;
      }
      return f;
    } catch (e) {
      problems.push(`${entry.version}: ${errMessage(e)}`);
    }
  }
  return `no version of it can be read (${problems.join('; ') || 'it has no versions'})`;
}

/** routeProblem: why a family's serving path cannot be added to `families` (checkPaths), or null. */
function routeProblem(families: readonly ModelFamily[], f: ModelFamily): string | null {
  try {
    checkPaths([...families, f]);
    return null;
  } catch (e) {
    return errMessage(e);
  }
}

/**
 * selectFamilies picks the families to serve from `registered` (the first is the default) and the
 * manifest's members of them, for the option `wanted` (null: every family the manifest at `manifestPath`
 * names). Example: registered [containers, job-memory], manifest with job-memory/tool-x only, wanted null
 * → [job-memory/tool-x (from its model file)], notServed [containers: not in the manifest, job-memory:
 * not in the manifest].
 */
export function selectFamilies(registered: readonly ModelFamily[], wanted: readonly string[] | null, manifestPath: string): Selection {
  if (registered.length === 0) throw new UserError('no model family is registered');
  const names = registered.map((f) => f.name);
  let m: Manifest | null = null;
  try {
    m = readManifest(manifestPath);
  } catch {
    // Not readable yet: the stores report why, and serve once it can.
  }
  const families: ModelFamily[] = [];
  const notServed: NotServed[] = [];
  const members = (list: readonly string[]) => {
    for (const n of list) {
      const f = memberOfManifest(registered, n, m, manifestPath);
      const problem = typeof f === 'string' ? f : routeProblem(families, f);
      if (problem !== null || typeof f === 'string') notServed.push({ family: n, reason: problem ?? 'unknown', entry: true });
      else families.push(f);
    }
  };
  if (wanted !== null) {
    for (const w of wanted) if (!names.includes(w) && !parentOf(w, registered)) throw new UserError(`--family: '${w}' is not a registered model family (registered: ${names.join(', ')})`);
    families.push(...registered.filter((f) => wanted.includes(f.name)));
    notServed.push(...registered.filter((f) => !wanted.includes(f.name)).map((f) => ({ family: f.name, reason: 'not in --family', entry: false })));
    members(wanted.filter((w) => !names.includes(w)));
    return { families, notServed };
  }
  const inManifest = m ? Object.keys(m.families) : [];
  families.push(...registered.filter((f) => inManifest.includes(f.name)));
  members(inManifest.filter((n) => !names.includes(n)));
  const why = m ? 'not in the manifest' : 'the manifest cannot be read at start-up; restart to serve it once it is there';
  if (families.length === 0) families.push(registered[0]!);
  notServed.push(...registered.filter((f) => !families.includes(f)).map((f) => ({ family: f.name, reason: why, entry: false })));
  return { families, notServed };
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
