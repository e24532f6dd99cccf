/**
 * rollback: change a model store's active version, with the checks the agent makes (src/store/rollback.ts).
 *   npm run rollback -- --store resource-agent/deploy/store              back to previousActive
 *   npm run rollback -- --store resource-agent/deploy/store --to 1.1.0   any retained, verified version
 * Then publish it: kubectl apply -k resource-agent/deploy (a ConfigMap store rolls the pods).
 */
import { makeCli, progress, runMain } from './src/util/cli.js';
import { rollbackStore } from './src/store/rollback.js';
import { isConfigMapStore } from './src/store/configmap.js';
import { DEFAULT_FAMILY_NAME, FAMILIES } from './src/families/registry.js';
import { join } from 'node:path';

runMain(async () => {
  const argv = await makeCli('rollback', "Make another retained version of a model store active, with the agent's checks (size, sha256, contract).\n\nUsage: npm run rollback -- --store resource-agent/deploy/store [--to VERSION]")
    .option('store', { type: 'string', demandOption: true, describe: 'model store folder (holding manifest.json)' })
    .option('to', { type: 'string', describe: 'the version to activate (default: previousActive)' })
    .option('family', { type: 'string', default: DEFAULT_FAMILY_NAME, describe: `model family (${FAMILIES.map((f) => f.name).join(', ')})` })
    .parse();
  const r = rollbackStore(argv.store, argv.to, argv.family);
  const next = isConfigMapStore(join(argv.store, 'manifest.json')) ? '; publish it: kubectl apply -k resource-agent/deploy' : '; agents watching this store follow it within seconds';
  progress(r.changed ? `rollback: ${r.family} ${r.from} → ${r.to} (previousActive ${r.from})${next}` : `rollback: ${r.family} is already at ${r.to}; nothing changed`, true);
  console.log(JSON.stringify({ family: r.family, from: r.from, active: r.to, changed: r.changed }));
});
