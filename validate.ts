/**
 * validate: measure a model on held-out data and check the gates in validation-gates.json.
 *   npm run validate [-- --model runs/train/predictor.onnx] [--data FILE] [--report DIR]
 *   npm run validate -- --model models/predictor.onnx      the shipped model
 * Exit codes: 0 all gates pass, 3 a gate failed (named on stderr), 2 bad input.
 */
import { familyArg, familyOption, makeCli, progress, requireModel, runMain, TRAINED_MODEL } from './src/util/cli.js';
import { GateError, UserError } from './src/util/errors.js';
import { formatTable } from './src/families/container-resources/eval/trace-eval.js';
import { DEFAULT_FAMILY_NAME, FAMILIES, getFamily } from './src/families/registry.js';
import { DEFAULT_GATES_FILE, validateModel, VALIDATION_SEED } from './src/families/container-resources/eval/validate.js';
import { evaluateStress, STRESS_INPUTS } from './src/families/container-resources/eval/stress.js';
import { stressGate, stressTargets } from './src/families/container-resources/eval/stress-targets.js';
import { formatStress, stressHtml } from './src/families/container-resources/eval/stress-report.js';
import { writeFileAtomic } from './src/util/fs-atomic.js';
import { join } from 'node:path';

runMain(async () => {
  // A family with its own validation (job-memory) parses its own flags; the container family's is below.
  const family = getFamily(familyArg(DEFAULT_FAMILY_NAME));
  if (family.evaluation.validate) return family.evaluation.validate(process.argv.slice(2));
  const argv = await makeCli('validate', `Measure a model on held-out data against the gates.\n\nUsage: npm run validate [-- --model ${TRAINED_MODEL}]   (what npm run train wrote; the shipped model: --model models/predictor.onnx)`)
    .option('family', familyOption(FAMILIES.map((f) => f.name), DEFAULT_FAMILY_NAME))
    .option('model', { alias: 'm', type: 'string', default: TRAINED_MODEL, describe: 'ONNX model to measure' })
    .option('data', { alias: 'd', type: 'string', describe: 'held-out data (.npz); default: generate --samples fresh windows with --seed' })
    .option('samples', { type: 'number', default: 10000, describe: 'windows to generate when --data is not given' })
    .option('seed', { type: 'number', default: VALIDATION_SEED, describe: 'seed of the generated held-out data (training uses 42)' })
    .option('gates', { type: 'string', default: DEFAULT_GATES_FILE, describe: 'gates config file' })
    .option('compare', { type: 'boolean', default: false, describe: 'also score VPA, KRR and the fixed rule on the same windows' })
    .option('memory-hold', { type: 'number', describe: "target hold rate for memory (e.g. 0.99); the model's limits are scaled by its conformal factor" })
    .option('cpu-hold', { type: 'number', describe: 'target hold rate for the CPU limit' })
    .option('report', { alias: 'r', type: 'string', default: 'reports/validate', describe: 'folder for report.json and report.html' })
    .option('stress', { type: 'string', describe: 'gate on the shift-stress evaluation of this fleet split instead (e.g. data/fleet-split.json): fails when worse than past max × 1.3 (business) or VPA (memory under %) on any slice' })
    .option('stress-role', { choices: ['test', 'select'] as const, default: 'test' as const, describe: 'with --stress: the VMs of the split scored' })
    .parse();
  // before any data is generated or read (that takes seconds)
  requireModel(argv.model, TRAINED_MODEL);
  if (argv.stress !== undefined) return validateStress(argv.model, argv.stress, argv.stressRole, argv.report);
  if (!Number.isInteger(argv.samples) || argv.samples < 100) throw new UserError(`--samples must be a whole number ≥ 100, got ${argv.samples}`);
  const r = await validateModel({ model: argv.model, data: argv.data, samples: argv.samples, seed: argv.seed, gatesFile: argv.gates, reportDir: argv.report, compare: argv.compare, memoryHold: argv.memoryHold, cpuHold: argv.cpuHold, log: (l) => progress(l, true) });
  const o = r.overall;
  const f = (v: number) => v.toFixed(2);
  console.log(`windows ${o.windows}: memory under-allocation ${f(o.memUnderAllocationPct)}%, CPU-limit breach ${f(o.cpuLimitBreachPct)}%, memory over-allocation ${f(o.memOverAllocationPct)}%, CPU request slack ${f(o.cpuRequestSlackPct)}%, memory request slack ${f(o.memRequestSlackPct)}%, business score ${f(o.businessScore)}, ECE ${r.calibration.ece.toFixed(3)}`);
  for (const [k, m] of Object.entries(r.perKind)) console.log(`  ${k.padEnd(13)} under ${f(m.memUnderAllocationPct).padStart(6)}%  breach ${f(m.cpuLimitBreachPct).padStart(6)}%  over ${f(m.memOverAllocationPct).padStart(7)}%  business ${f(m.businessScore)}`);
  if (r.int8VsFloat) console.log(`int8 vs float max |Δ| (normalized): ${Math.max(...Object.values(r.int8VsFloat.maxAbsNormalized)).toFixed(4)}`);
  if (r.risk) console.log(`risk: memory ${r.risk.memory ? `hold ${r.risk.memory.target} (× ${r.risk.memory.factor})` : 'as the model says'}, CPU ${r.risk.cpu ? `hold ${r.risk.cpu.target} (× ${r.risk.cpu.factor})` : 'as the model says'}; calibrated on ${r.riskCalibration!.windows} windows of ${r.riskCalibration!.source}`);
  for (const p of r.riskCurve) console.log(`  target ${p.resource.padEnd(6)} ${p.target.toFixed(3)} → observed hold ${f(p.observedHoldPct)}%, ${p.resource === 'memory' ? 'over-allocation' : 'limit slack'} ${f(p.overPct)}%`);
  console.log(`confidence: ROC AUC ${r.confidenceAuc.toFixed(3)} for "the recommendation held" (0.5 = chance)`);
  if (r.rules) console.log(`rules on the same ${o.windows} windows:\n${formatTable({ model: o, ...r.rules } as never)}`);
  if (r.comparison) console.log(`side by side on the same ${o.windows} windows:\n${formatTable(r.comparison)}`);
  console.log(`report: ${argv.report}/report.json, ${argv.report}/report.html`);
  const failed = r.gates.filter((g) => !g.passed);
  // the verdict on stdout too (stderr has the error line): a script reading the report output sees it
  console.log(failed.length ? `gates: failed ${failed.length} of ${r.gates.length}: ${failed.map((g) => g.name).join(', ')}` : `gates: passed (all ${r.gates.length})`);
  if (failed.length) throw new GateError(`gate failed: ${failed.map((g) => `${g.name} (${g.value?.toFixed(3)} > ${g.limit})`).join(', ')}`, failed.map((g) => g.name));
});

/** validateStress: the stress gate alone (eval/stress.ts), its tables and verdict; exit 3 when it fails. */
async function validateStress(model: string, split: string, role: 'test' | 'select', reportDir: string): Promise<void> {
  const r = await evaluateStress({ source: 'bitbrains', inputs: STRESS_INPUTS, model, splitFile: split, role, log: (l) => progress(l, true) });
  const gate = stressGate(r);
  const targets = stressTargets(r);
  console.log(formatStress(r, gate, targets));
  const json = join(reportDir, 'stress.json');
  writeFileAtomic(json, JSON.stringify({ ...r, gate, targets }, null, 2) + '\n');
  writeFileAtomic(join(reportDir, 'stress.html'), stressHtml(r, gate, targets));
  console.log(`report: ${json}, ${join(reportDir, 'stress.html')}`);
  if (gate.length) console.log(`stress gate: failed on ${gate.length} slice check(s)`);
  if (gate.length) throw new GateError(`stress gate failed on ${gate.length} slice check(s): ${gate.map((g) => `${g.slice}: ${g.name} (${g.value.toFixed(2)} > ${g.limit.toFixed(2)})`).join('; ')}`, gate.map((g) => `${g.slice}: ${g.name}`));
  console.log('stress gate: passed on every slice');
}
