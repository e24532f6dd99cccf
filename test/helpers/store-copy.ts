/**
 * store-copy: a copy of a model store (default: the repository's, the one `npm start` serves) in a new
 * temporary folder: its manifest and every file the manifest lists, so an agent on the copy serves every
 * family the original does. For tests and benches that write to a store (retraining, training jobs).
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { readManifest } from '../../src/store/manifest.js';

const REPO = resolve(import.meta.dirname, '../..');

/** copyStore copies `manifestPath`'s store into a new folder under os.tmpdir() and returns the folder. */
export function copyStore(manifestPath = join(REPO, 'manifest.json'), prefix = 'crp-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const m = readManifest(manifestPath);
  cpSync(manifestPath, join(dir, 'manifest.json'));
  for (const f of Object.values(m.families)) for (const v of f.versions) cpSync(join(dirname(manifestPath), v.file), join(dir, v.file));
  return dir;
}
