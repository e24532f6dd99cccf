/**
 * shipped-jobs: a temporary store holding only the shipped job-memory/build-jobs model (the repository's
 * manifest entry and its real ONNX file, copied), so agent tests can serve a job family with ONNX Runtime
 * without depending on the rest of the shipped store. `attributes` is a valid job built from the spec the
 * model embeds (the first known value of every attribute).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { family, modelPath, readManifest } from '../../src/store/manifest.js';

export const JOB_FAMILY = 'job-memory/build-jobs';

export interface JobStore {
  dir: string;
  manifestPath: string;
  attributes: Record<string, unknown>;
  cleanup(): void;
}

export function shippedJobStore(repo: string): JobStore {
  const shippedPath = join(repo, 'manifest.json');
  const shipped = readManifest(shippedPath);
  const fam = family(shipped, JOB_FAMILY);
  const dir = mkdtempSync(join(tmpdir(), 'crp-jobs-'));
  for (const v of fam.versions) {
    mkdirSync(dirname(join(dir, v.file)), { recursive: true });
    copyFileSync(modelPath(shippedPath, v), join(dir, v.file));
  }
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify({ ...shipped, families: { [JOB_FAMILY]: fam } }, null, 2));
  const entry = fam.versions.find((v) => v.version === fam.active) ?? fam.versions[0]!;
  const spec = (entry.contract!.features as { jobSpec: { attributes: { name: string; kind: string; vocab?: string[]; values?: number[] }[] } }).jobSpec;
  const attributes: Record<string, unknown> = {};
  for (const a of spec.attributes) attributes[a.name] = a.kind === 'number' ? (a.values?.[0] ?? 1) : a.kind === 'list' ? [a.vocab![0]] : a.vocab![0];
  return { dir, manifestPath, attributes, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
