/**
 * store-activate: how an activate or a rollback of the model store (store.ts) changes the manifest on disk:
 * the change is applied to the file as it is now (several families' stores share one manifest), and
 * written atomically, unless the store is read-only (a ConfigMap volume, or a read-only filesystem).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Manifest } from '../src/store/manifest.js';
import { activate as activateIn, checkManifest, family as familyOf, findVersion, writeManifest } from '../src/store/manifest.js';
import { AgentError } from './errors.js';
import { message } from './store-verify.js';
import type { StoreOptions } from './store-types.js';

/** readNow reads the manifest as it is on disk now (null when it cannot be read or checked). */
function readNow(manifestPath: string): Manifest | null {
  try {
    return checkManifest(JSON.parse(readFileSync(manifestPath, 'utf8')), manifestPath);
  } catch {
    return null;
  }
}

/**
 * activated: the manifest with `version` active in the family, and the one it was made from (`base`: the
 * same object when nothing changes). Several families' stores share one manifest file, each with its own
 * lock, and `m` was read before the awaits of the call: the change is applied to the file as it is NOW
 * (read and written in one synchronous step, so no other store's write can fall in between), or a
 * concurrent activate or rollback of another family would be silently undone.
 */
export function activated(o: StoreOptions, m: Manifest, version: string): { base: Manifest; next: Manifest } {
  const current = readNow(o.manifestPath) ?? m;
  const base = findVersion(familyOf(current, o.family), version) ? current : m;
  return { base, next: activateIn(base, version, o.family) };
}

/**
 * writeActivated writes the manifest and returns the text now on disk, or 'read-only' when the store
 * cannot be written (the caller answers STORE_READ_ONLY); any other failure is MANIFEST_WRITE_FAILED.
 */
export function writeActivated(o: StoreOptions, shown: string, next: Manifest): string | 'read-only' {
  // A ConfigMap volume (its `..data` symlink) is read-only, and the manifest is in git anyway.
  if (existsSync(`${dirname(o.manifestPath)}/..data`)) return 'read-only';
  try {
    (o.write ?? writeManifest)(o.manifestPath, next);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? ((e as { cause?: NodeJS.ErrnoException }).cause?.code);
    if (code === 'EROFS' || /\((EROFS|EACCES|EPERM)\)/.test(message(e))) return 'read-only';
    throw new AgentError('MANIFEST_WRITE_FAILED', `${code ? `cannot write ${shown} (${code})` : message(e)}; nothing changed. Mount the store read-write, or edit the manifest's "active" instead`);
  }
  return readFileSync(o.manifestPath, 'utf8');
}
