/**
 * export: version a trained model into a model store (manifest.json + predictor_vX.Y.Z.onnx). By default
 * the model npm run train wrote, into the store npm start serves (./manifest.json + models/):
 *   npm run export [-- --model runs/train/predictor.onnx] [--bump minor]
 *   npm run export -- --output /srv/store              another store (its manifest: /srv/store/manifest.json)
 * Then npm run store:configmap regenerates the ConfigMap store kubectl apply -k deploys.
 * The model must pass validate's gates (unless --force), and with --stress SPLIT the shift-stress gate on
 * every slice (months, rescaled, size halves). Keeps the last 5 versions.
 */
import { join, resolve } from 'node:path';
import { familyOption, makeCli, progress, requireModel, runMain, SERVED_STORE, TRAINED_MODEL } from './src/util/cli.js';
import { GateError, UserError } from './src/util/errors.js';
import { exportModel } from './src/export/publish.js';
import { DEFAULT_FAMILY_NAME, FAMILIES, getFamily } from './src/families/registry.js';

runMain(async () => {
  const argv = await makeCli('export', `Add a trained model to a model store as a new version and make it active.\n\nUsage: npm run export [-- --model ${TRAINED_MODEL}]   (into the store npm start serves: ./manifest.json + models/)\n       npm run export -- --model FILE --output DIR                (another store: DIR/manifest.json)`)
    .option('model', { alias: 'm', type: 'string', default: TRAINED_MODEL, describe: 'trained int8 ONNX model' })
    .option('output', { alias: 'o', type: 'string', describe: `model store folder (versioned files go here); default ${SERVED_STORE.models} with the manifest ${SERVED_STORE.manifest}, the store npm start serves` })
    .option('manifest', { type: 'string', describe: `manifest path (default: <output>/manifest.json, or ${SERVED_STORE.manifest} without --output); model paths in it are relative to its folder` })
    .option('bump', { choices: ['patch', 'minor', 'major'] as const, describe: 'raise the version at least this much (the detected change may raise it more)' })
    .option('set-version', { type: 'string', describe: 'an explicit version, above every retained one' })
    .option('family', familyOption(FAMILIES.map((f) => f.name), DEFAULT_FAMILY_NAME))
    .option('rust', { type: 'string', describe: 'where to write the Rust edge module (default: <output>/embedded_model.rs)' })
    .option('force', { type: 'boolean', default: false, describe: 'export even if the model fails validation gates' })
    .option('gates', { type: 'string', default: 'validation-gates.json', describe: 'gates config file' })
    .option('gate-data', { type: 'string', describe: 'held-out data file for the gate check (e.g. real windows of VMs the model was not trained on); default: freshly generated windows' })
    .option('validation-samples', { type: 'number', default: 10000, describe: 'held-out windows generated for the gate check' })
    .option('stress', { type: 'string', describe: 'also gate on the shift-stress evaluation of this fleet split (e.g. data/fleet-split.json): refused if worse than past max × 1.3 (business) or VPA (memory under %) on any slice' })
    .option('stress-role', { choices: ['test', 'select'] as const, default: 'test' as const, describe: 'with --stress: the VMs of the split the gate scores' })
    .option('stress-input', { type: 'string', array: true, describe: 'with --stress: one trace folder per month (default: the three Bitbrains months in ../shared/data)' })
    .parse();
  if (argv.stress === undefined && argv.stressInput !== undefined) throw new UserError('--stress-input only applies with --stress SPLIT');
  // before the gate generates or reads any data (that takes seconds)
  requireModel(argv.model, TRAINED_MODEL);
  const output = argv.output ?? SERVED_STORE.models;
  const manifestPath = argv.manifest ?? (argv.output === undefined ? SERVED_STORE.manifest : join(argv.output, 'manifest.json'));
  // A family whose contract is learned (job-memory) reads the model's own from the file.
  const named = getFamily(argv.family);
  const family = named.ofModel?.(argv.model) ?? named;
  if (argv.stress !== undefined && family.name !== DEFAULT_FAMILY_NAME) throw new UserError(`--stress: family ${family.name} has no shift-stress evaluation; drop --stress`);
  const stress = argv.stress !== undefined ? { split: argv.stress, role: argv.stressRole, inputs: argv.stressInput } : undefined;
  const { failed, validation } = await family.evaluation.gate({ model: argv.model, samples: argv.validationSamples, gatesFile: argv.gates, data: argv.gateData, stress, log: (l) => progress(l, true) });
  if (failed.length && !argv.force) {
    throw new GateError(`refusing to export ${argv.model}: gate failed: ${failed.map((g) => `${g.name} (${g.value?.toFixed(3)} > ${typeof g.limit === 'number' ? +g.limit.toFixed(3) : g.limit})`).join(', ')}; fix the model or pass --force`, failed.map((g) => g.name));
  }
  if (failed.length) progress(`export: --force: exporting despite failed gates ${failed.map((g) => g.name).join(', ')}`, true);
  const r = exportModel({ model: argv.model, outputDir: output, manifestPath, family, bump: argv.bump, version: argv.setVersion, validation, rustPath: argv.rust });
  progress(`export: ${argv.model} → ${r.file} as version ${r.version} (${r.detectedBump} change), active; manifest ${manifestPath}${r.removed.length ? `; removed ${r.removed.join(', ')}` : ''}${r.rustPath ? `; Rust module ${r.rustPath}` : ''}`, true);
  if (resolve(manifestPath) === resolve(SERVED_STORE.manifest)) progress('export: npm start serves it (a running agent follows ./manifest.json within seconds); for the cluster: npm run store:configmap, then kubectl apply -k resource-agent/deploy', true);
  console.log(JSON.stringify({ version: r.version, detected: r.detectedBump, file: r.file, sha256: r.sha256, bytes: r.bytes, manifest: manifestPath, removed: r.removed, rust: r.rustPath }));
});
