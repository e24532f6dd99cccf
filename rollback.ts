/**
 * rollback: change a model store's active version, with the checks the agent makes (src/commands/rollback.ts).
 * By default the store npm start serves (./manifest.json):
 *   npm run rollback                      back to previousActive
 *   npm run rollback -- --to 1.1.0        any retained, verified version
 *   npm run rollback -- --store DIR       another store (DIR/manifest.json)
 * A running `npm start` follows it within seconds; for the cluster, npm run store:configmap then
 * kubectl apply -k resource-agent/deploy (the ConfigMap store rolls the pods).
 */
import { familyOption, makeCli, progress, runMain, SERVED_STORE } from './src/util/cli.js';
import { rollbackStore } from './src/commands/rollback.js';
import { isConfigMapStore } from './src/store/configmap.js';
import { DEFAULT_FAMILY_NAME, FAMILIES } from './src/families/registry.js';
import { join, resolve } from 'node:path';

runMain(async () => {
  const argv = await makeCli('rollback', "Make another retained version of a model store active, with the agent's checks (size, sha256, contract).\n\nUsage: npm run rollback [-- --to VERSION] [--store DIR]")
    .option('store', { type: 'string', default: '.', describe: 'model store folder (holding manifest.json); default: the store npm start serves' })
    .option('to', { type: 'string', describe: 'the version to activate (default: previousActive)' })
    .option('family', familyOption(FAMILIES.map((f) => f.name), DEFAULT_FAMILY_NAME))
    .parse();
  const r = rollbackStore(argv.store, argv.to, argv.family);
  const manifest = join(argv.store, 'manifest.json');
  const next = isConfigMapStore(manifest)
    ? '; publish it: kubectl apply -k resource-agent/deploy'
    : resolve(manifest) === resolve(SERVED_STORE.manifest)
      ? '; npm start follows it within seconds; for the cluster: npm run store:configmap, then kubectl apply -k resource-agent/deploy'
      : '; agents watching this store follow it within seconds';
  progress(r.changed ? `rollback: ${r.family} ${r.from} → ${r.to} (previousActive ${r.from})${next}` : `rollback: ${r.family} is already at ${r.to}; nothing changed`, true);
  console.log(JSON.stringify({ family: r.family, from: r.from, active: r.to, changed: r.changed }));
});
