/**
 * manifest: src/store/manifest.ts for tests, with the default family filled in. The store knows no
 * family (every operation takes a name); tests mostly read the default one (the first registered:
 * container-resources), so `family(m)`, `activate(m, v)` and `rollback(m)` default to it here.
 */
import { activate as activateIn, family as familyIn, rollback as rollbackIn } from '../../src/store/manifest.js';
import type { FamilyEntry, Manifest } from '../../src/store/manifest.js';
import { DEFAULT_FAMILY_NAME } from '../../src/families/registry.js';

export * from '../../src/store/manifest.js';

/** DEFAULT_FAMILY: the registry's default family's name ('container-resources'). */
export const DEFAULT_FAMILY = DEFAULT_FAMILY_NAME;

/** family: a family's entry (default: the default family), or throws naming the families there are. */
export function family(m: Manifest, name: string = DEFAULT_FAMILY): FamilyEntry {
  return familyIn(m, name);
}

/** activate: the manifest with `version` active for the family (default: the default family). */
export function activate(m: Manifest, version: string, name: string = DEFAULT_FAMILY): Manifest {
  return activateIn(m, version, name);
}

/** rollback: the manifest with the family's previous version active (default: the default family). */
export function rollback(m: Manifest, name: string = DEFAULT_FAMILY): Manifest {
  return rollbackIn(m, name);
}
