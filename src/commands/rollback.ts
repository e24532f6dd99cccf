/**
 * rollback: `npm run rollback -- --store DIR [--to VERSION] [--family NAME]` changes a store's active
 * version on disk with the checks the agent makes before it activates one (resource-agent/store.ts): the
 * manifest reads and checks, the version is retained, its file has the manifest's size and sha256, it is
 * an ONNX model whose input and output widths are its family's contract. Without --to it goes to
 * `previousActive`. Then `kubectl apply -k resource-agent/deploy` publishes it (a ConfigMap store), or
 * the agents watching the store follow it (a writable store).
 *
 * It sits on the command layer (rollback.ts is its thin script) because it puts the store, the ONNX reader
 * and the family registry together, which sit below it.
 */
import { join } from 'node:path';
import { activate, family as familyOf, findVersion, ManifestError, modelPath, readManifest, verifyVersion, writeManifest } from '../store/manifest.js';
import type { Manifest } from '../store/manifest.js';
import { isConfigMapStore, writeKustomization } from '../store/configmap.js';
import { inspectOnnx } from '../onnx/inspect.js';
import { getFamily } from '../families/registry.js';

export interface RollbackResult {
  family: string;
  from: string;
  to: string;
  changed: boolean;
  manifest: Manifest;
}

/**
 * rollbackStore makes `to` (default: previousActive) the active version of `familyName` in the store at
 * `dir`. Throws ManifestError naming what is wrong and what to do.
 * Example: store with active 1.2.0, previousActive 1.1.0 → { from: '1.2.0', to: '1.1.0', changed: true }.
 */
export function rollbackStore(dir: string, to: string | undefined, familyName: string): RollbackResult {
  const manifestPath = join(dir, 'manifest.json');
  const m = readManifest(manifestPath);
  const fam = familyOf(m, familyName);
  const target = to ?? fam.previousActive;
  if (!target) throw new ManifestError(`family ${familyName} has no previousActive version to roll back to (active ${fam.active}); name one with --to (retained: ${fam.versions.map((v) => v.version).join(', ')})`);
  const entry = findVersion(fam, target);
  if (!entry) throw new ManifestError(`version ${target} is not retained in ${manifestPath} (retained: ${fam.versions.map((v) => v.version).join(', ')})`);
  const v = verifyVersion(manifestPath, entry);
  if (!v.ok) throw new ManifestError(`version ${target} is refused: ${v.reason}; the agent would refuse it too`);
  const info = inspectOnnx(v.bytes, modelPath(manifestPath, entry));
  const registered = getFamily(familyName);
  // A family whose contract is learned (read from its model file) has no fixed widths to compare.
  if (!registered.ofModel) {
    const c = registered.contract;
    const width = (t: typeof info.inputs) => Number(t[0]?.shape[1]);
    if (width(info.inputs) !== c.inputs.length || width(info.outputs) !== c.outputs.length) throw new ManifestError(`version ${target}: its model takes ${width(info.inputs)} inputs and gives ${width(info.outputs)} outputs, but family ${familyName} has ${c.inputs.length} and ${c.outputs.length}`);
  }
  const next = activate(m, target, familyName);
  if (next === m) return { family: familyName, from: fam.active, to: target, changed: false, manifest: m };
  writeManifest(manifestPath, next);
  if (isConfigMapStore(manifestPath)) writeKustomization(manifestPath, next);
  return { family: familyName, from: fam.active, to: target, changed: true, manifest: next };
}
