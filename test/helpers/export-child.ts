/**
 * export-child: runs one export and kills itself with SIGKILL at a given write step, as `kill -9` would
 * (export-crash.test.ts). Before dying it leaves the temp file an atomic write of that step would have
 * left had it been killed between writing and renaming.
 *
 *   npx tsx test/helpers/export-child.ts MANIFEST MODEL STEP
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { exportModel } from '../../src/export/publish.js';
import { containerResources } from '../../src/families/container-resources/index.js';

const [manifestPath, model, step] = process.argv.slice(2) as [string, string, string];
exportModel({
  model,
  outputDir: join(dirname(manifestPath), 'models'),
  manifestPath,
  family: containerResources,
  validation: null,
  onStep: (s, path) => {
    if (s !== step) return;
    if (path) writeFileSync(join(dirname(path), `.tmp-${basename(path)}-${process.pid}-deadbeef`), 'half written');
    process.kill(process.pid, 'SIGKILL');
  },
});
