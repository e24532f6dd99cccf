/**
 * store:configmap: generate the Kubernetes ConfigMap store (what `kubectl apply -k resource-agent/deploy`
 * deploys) from the store `npm start` serves (./manifest.json + models/). By default it is a view of
 * models/, so each model file is held once: models/configmap-manifest.json (the same manifest with flat
 * file names) and models/kustomization.yaml (listing it as manifest.json, and the model files beside it).
 * `--output DIR` elsewhere writes a self-contained flat store folder instead (copies of the model bytes).
 * A ConfigMap holds at most 1 MiB, so it carries the families it carries now (its manifest says which;
 * `--family` to choose them): the job-memory Galaxy models alone are over 1 MiB.
 *   npm run store:configmap              regenerate it (after npm run export or npm run rollback)
 *   npm run store:configmap -- --check   exit 1, naming the files, when it is out of date
 *   npm run store:configmap -- --family container-resources --family job-memory/build-jobs
 */
import { dirname, resolve } from 'node:path';
import { makeCli, progress, runMain } from './src/util/cli.js';
import { InputError } from './src/util/errors.js';
import { configMapStoreOf, configMapViewOf, DEFAULT_CONFIGMAP_STORE, DEPLOY_DIR, diffConfigMapStore, diffConfigMapView, storeFamilies, VIEW_MANIFEST, writeConfigMapStore, writeConfigMapView } from './src/store/configmap.js';

runMain(async () => {
  const argv = await makeCli('store:configmap', `Generate the ConfigMap model store that kubectl apply -k deploys from the store npm start serves.\n\nUsage: npm run store:configmap [-- --check]`)
    .option('manifest', { type: 'string', default: 'manifest.json', describe: 'the source store: its manifest (model paths relative to its folder)' })
    .option('output', { alias: 'o', type: 'string', default: DEFAULT_CONFIGMAP_STORE, describe: 'the ConfigMap store folder to write' })
    .option('family', { type: 'string', array: true, describe: "the families it carries (repeat the flag); default: those its manifest carries now, else all of the source's" })
    .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 when the folder differs from what would be written' })
    .parse();
  const families = argv.family ?? storeFamilies(argv.output);
  // The folder that holds the source's models gets a view (two files); any other folder a full copy.
  const view = resolve(argv.output) === resolve(dirname(argv.manifest), DEFAULT_CONFIGMAP_STORE);
  const store = configMapStoreOf(argv.manifest, families);
  const files = view ? configMapViewOf(store, argv.output) : store;
  const diff = view
    ? argv.check ? diffConfigMapView(argv.output, files) : writeConfigMapView(argv.output, files)
    : argv.check ? diffConfigMapStore(argv.output, files) : writeConfigMapStore(argv.output, files);
  const changes = [...diff.missing.map((f) => `+${f}`), ...diff.differing.map((f) => `~${f}`), ...diff.extra.map((f) => `-${f}`)];
  const manifestText = files.get(view ? VIEW_MANIFEST : 'manifest.json')!;
  const carried = Object.keys((JSON.parse(manifestText.toString()) as { families: object }).families);
  const bytes = [...store.values()].reduce((n, b) => n + b.length, 0) - store.get('kustomization.yaml')!.length;
  if (argv.check && changes.length) {
    throw new InputError(`${argv.output} is out of date with ${argv.manifest} (${changes.join(' ')}); run npm run store:configmap`, 1);
  }
  progress(`store:configmap: ${argv.output} ${argv.check ? 'is in sync with' : changes.length ? `regenerated from` : 'already matched'} ${argv.manifest} (${carried.join(', ')}: ${store.size - 2} model files${view ? ', held once in the view' : ''}, ${(bytes / 1024).toFixed(1)} KiB)${changes.length && !argv.check ? `: ${changes.join(' ')}; deploy it with kubectl apply -k ${DEPLOY_DIR}` : ''}`, true);
});
