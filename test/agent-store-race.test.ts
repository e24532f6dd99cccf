/**
 * agent-store-race: two families' stores share one manifest file, each with its own lock. An activate of
 * one family that is still loading a model must not undo a rollback of the other that finished meanwhile
 * (a lost update found in review: the slow call used to write back the manifest it had read before).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelStore } from '../resource-agent/store.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { exportModel } from '../src/export/publish.js';
import { modelBytes } from './helpers/models.js';
import type { OnnxPredictor } from '../src/onnx/runtime.js';

describe('two families, one manifest', () => {
  it('a slow activate of family B does not undo a rollback of family A that finished meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crp-race-'));
    const manifestPath = join(dir, 'manifest.json');
    const other = { ...containerResources, name: 'other-family', fileStem: 'other-family' };
    let k = 0;
    const put = (seed: number, family: typeof containerResources) => {
      const p = join(dir, `in-${k++}.onnx`);
      writeFileSync(p, modelBytes(seed));
      return exportModel({ model: p, outputDir: join(dir, 'models'), manifestPath, family, validation: null }).version;
    };
    put(1, containerResources); // container 1.0.0
    put(2, containerResources); // container 1.1.0 (active, previous 1.0.0)
    put(3, other); // other 1.0.0
    put(4, other); // other 1.1.0 (active)
    let slow = false;
    const load = async (_b: Uint8Array, label: string): Promise<OnnxPredictor> => {
      if (slow && label.includes('other-family')) await new Promise((r) => setTimeout(r, 300));
      return { inputWidth: 12, outputWidth: 5, predict: async () => new Float32Array(5), release: async () => {} };
    };
    const A = new ModelStore({ manifestPath, family: 'container-resources', load });
    const B = new ModelStore({ manifestPath, family: 'other-family', load });
    await A.start();
    await B.start();
    // B's activate first reloads the manifest (a publish added 1.2.0, loaded slowly), then switches to 1.0.0.
    put(5, other); // other 1.2.0 on disk, active
    slow = true;
    const b = B.activate('1.0.0');
    await new Promise((r) => setTimeout(r, 50));
    const a = await A.rollback(); // finishes while B is still loading
    expect(a).toMatchObject({ changed: true, active: '1.0.0' });
    expect(await b).toMatchObject({ changed: true, active: '1.0.0' });
    const disk = JSON.parse(readFileSync(manifestPath, 'utf8')).families;
    // Both changes are on disk: A's rollback survived B's write.
    expect(disk['container-resources'].active).toBe('1.0.0');
    expect(disk['other-family'].active).toBe('1.0.0');
    await A.reload();
    expect(A.status().serving).toBe('1.0.0');
    await A.close();
    await B.close();
  });
});
