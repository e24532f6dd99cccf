/**
 * store:configmap: generate the Kubernetes ConfigMap store (resource-agent/deploy/store, what
 * `kubectl apply -k resource-agent/deploy` deploys) from the store `npm start` serves (./manifest.json +
 * models/): the same manifest with flat file names, the same model bytes, and its kustomization.yaml.
 * A ConfigMap holds at most 1 MiB, so it carries the families it carries now (its manifest says which;
 * `--family` to choose them): the job-memory Galaxy models alone are over 1 MiB.
 *   npm run store:configmap              regenerate it (after npm run export or npm run rollback)
 *   npm run store:configmap -- --check   exit 1, naming the files, when it is out of date
 *   npm run store:configmap -- --family container-resources --family job-memory/build-jobs
 */
import { makeCli, progress, runMain } from './src/util/cli.js';
import { InputError } from './src/util/errors.js';
import { configMapStoreOf, DEFAULT_CONFIGMAP_STORE, diffConfigMapStore, storeFamilies, writeConfigMapStore } from './src/store/configmap.js';

runMain(async () => {
  const argv = await makeCli('store:configmap', `Generate the ConfigMap model store that kubectl apply -k deploys from the store npm start serves.\n\nUsage: npm run store:configmap [-- --check]`)
    .option('manifest', { type: 'string', default: 'manifest.json', describe: 'the source store: its manifest (model paths relative to its folder)' })
    .option('output', { alias: 'o', type: 'string', default: DEFAULT_CONFIGMAP_STORE, describe: 'the ConfigMap store folder to write' })
    .option('family', { type: 'string', array: true, describe: "the families it carries (repeat the flag); default: those its manifest carries now, else all of the source's" })
    .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 when the folder differs from what would be written' })
    .parse();
  const families = argv.family ?? storeFamilies(argv.output);
  const files = configMapStoreOf(argv.manifest, families);
  const diff = argv.check ? diffConfigMapStore(argv.output, files) : writeConfigMapStore(argv.output, files);
  const changes = [...diff.missing.map((f) => `+${f}`), ...diff.differing.map((f) => `~${f}`), ...diff.extra.map((f) => `-${f}`)];
  const bytes = [...files.values()].reduce((n, b) => n + b.length, 0) - files.get('kustomization.yaml')!.length;
  if (argv.check && changes.length) {
    throw new InputError(`${argv.output} is out of date with ${argv.manifest} (${changes.join(' ')}); run npm run store:configmap`, 1);
  }
  const carried = Object.keys((JSON.parse(files.get('manifest.json')!.toString()) as { families: object }).families);
  progress(`store:configmap: ${argv.output} ${argv.check ? 'is in sync with' : changes.length ? `regenerated from` : 'already matched'} ${argv.manifest} (${carried.join(', ')}: ${files.size - 2} model files, ${(bytes / 1024).toFixed(1)} KiB)${changes.length && !argv.check ? `: ${changes.join(' ')}; deploy it with kubectl apply -k resource-agent/deploy` : ''}`, true);
});
