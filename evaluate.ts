/**
 * evaluate: the model next to VPA, KRR, a fixed rule and the original allocation, on real traces.
 *   npm run evaluate -- --trace bitbrains --input ../shared/data/bitbrains --model models/predictor.onnx --json reports/bitbrains.json
 *   npm run evaluate -- --input ../shared/data/bitbrains-250 --vms 201-250
 *   npm run evaluate -- --stress --model models/predictor.onnx --json reports/stress.json   (eval/stress.ts)
 */
import { makeCli, progress, runMain } from './src/util/cli.js';
import { evaluateTraces, formatTable } from './src/families/container-resources/eval/trace-eval.js';
import { formatIntervals } from './src/families/container-resources/eval/bootstrap.js';
import { SOURCES } from './src/sources/registry.js';
import { parseSelector } from './src/sources/select.js';
import { writeFileAtomic } from './src/util/fs-atomic.js';
import { comparisonHtml } from './src/families/container-resources/eval/validate-html.js';
import { page } from './src/report/svg.js';
import { evaluateStress, parseSliceModels, STRESS_INPUTS } from './src/families/container-resources/eval/stress.js';
import { stressGate, stressTargets } from './src/families/container-resources/eval/stress-targets.js';
import { formatStress, stressHtml } from './src/families/container-resources/eval/stress-report.js';
import { UserError } from './src/util/errors.js';

runMain(async () => {
  const argv = await makeCli('evaluate', 'Score the model and the baselines on real traces, side by side.\n\nUsage: npm run evaluate -- --trace bitbrains --input DIR --model models/predictor.onnx --json OUT\n       npm run evaluate -- --stress [--split data/fleet-split.json] [--role test] [--slice-model larger-trained=PATH] --json OUT')
    .option('trace', { choices: SOURCES.map((s) => s.name), default: SOURCES[0]!.name, describe: 'usage source (format) of the input' })
    .option('input', { alias: 'i', type: 'string', array: true, describe: `folder(s) or file(s) of traces, .csv or .csv.gz (e.g. ../shared/data/bitbrains-250); with --stress one folder per month (default ${STRESS_INPUTS.join(' ')})` })
    .option('vms', { type: 'string', describe: 'keep only these traces: ranges of the number in their name and/or names, e.g. 201-250' })
    .option('memory-hold', { type: 'number', describe: "target hold rate for memory (e.g. 0.99: at most 1% of windows over the limit); the model's limits are scaled by its conformal factor" })
    .option('cpu-hold', { type: 'number', describe: 'target hold rate for the CPU limit (future p99 ≤ limit)' })
    .option('strict', { type: 'boolean', default: false, describe: 'refuse the input at the first bad row instead of skipping, merging and counting' })
    .option('model', { alias: 'm', type: 'string', default: 'models/predictor.onnx', describe: 'ONNX model' })
    .option('json', { type: 'string', describe: 'write the full report (overall and per VM) as JSON here' })
    .option('per-vm', { type: 'boolean', default: false, describe: 'also print the table of every VM' })
    .option('stress', { type: 'boolean', default: false, describe: 'shift-stress evaluation: per month, pooled, rescaled × 0.1 / × 10, by size half; gate and targets' })
    .option('split', { type: 'string', default: 'data/fleet-split.json', describe: '--stress: the fleet split (split-fleet.ts) whose --role VMs are evaluated' })
    .option('role', { choices: ['test', 'select'] as const, default: 'test' as const, describe: '--stress: which VMs of the split are evaluated' })
    .option('slice-model', { type: 'string', array: true, describe: '--stress: NAME=PATH, NAME larger-trained (scored on the smaller half) or smaller-trained (on the larger half)' })
    .parse();
  if (argv.stress) return stress(argv);
  if (argv.sliceModel) throw new UserError('--slice-model only applies with --stress; add --stress or drop --slice-model');
  if (!argv.input) throw new UserError('--input is required: give a folder of traces, e.g. --input ../shared/data/bitbrains-250 (or use --stress)');
  const r = await evaluateTraces({ source: argv.trace, input: argv.input, model: argv.model, strict: argv.strict, memoryHold: argv.memoryHold, cpuHold: argv.cpuHold, select: argv.vms ? parseSelector(argv.vms) : undefined, log: (l) => progress(l, true) });
  console.log(`${r.trace}: ${r.vms.length} VMs, ${r.windows} windows (past ${r.protocol.pastDays} d → next ${r.protocol.futureDays} d, stride ${r.protocol.strideDays} d)`);
  console.log(formatTable(r.overall));
  if (r.intervals) console.log(`\n${formatIntervals(r.intervals)}`);
  if (r.riskCurve.length) {
    console.log(`\nrisk targets (conformal factors calibrated on ${r.riskCalibration!.windows} windows of ${r.riskCalibration!.groups} VMs, ${r.riskCalibration!.source}): target → observed hold %, cost`);
    for (const p of r.riskCurve) console.log(`  ${p.resource.padEnd(6)} ${p.target.toFixed(3)} × ${p.factor.toFixed(3).padStart(7)} → held ${p.observedHoldPct.toFixed(2).padStart(6)} %, ${p.resource === 'memory' ? 'over' : 'limit slack'} ${p.overPct.toFixed(2)} %${p.businessScore !== null ? `, business ${p.businessScore.toFixed(2)}` : ''}`);
  }
  if (r.confidence) console.log(`\nconfidence as a risk signal: ROC AUC ${r.confidence.rocAuc.toFixed(3)} for "the recommendation held" (0.5 = chance), ECE ${r.confidence.calibration.ece.toFixed(3)}`);
  if (argv.perVm) for (const [vm, rows] of Object.entries(r.perVm)) console.log(`\n${vm}\n${formatTable(rows)}`);
  if (argv.json) {
    writeFileAtomic(argv.json, JSON.stringify(r, null, 2) + '\n');
    const html = argv.json.replace(/\.json$/i, '') + '.html';
    writeFileAtomic(html, page(`Real traces: ${r.trace} (${r.vms.length} VMs, ${r.windows} windows)`, comparisonHtml('All windows', r.overall, r.riskCurve) + Object.entries(r.perVm).map(([vm, rows]) => comparisonHtml(vm, rows)).join('')));
    console.log(`report: ${argv.json}, ${html}`);
  }
});

/** stress: the --stress mode (eval/stress.ts): console tables, gate verdict and targets; JSON and HTML with --json. */
async function stress(argv: { trace: string; input?: string[]; model: string; json?: string; split: string; role: 'test' | 'select'; sliceModel?: string[]; strict: boolean; vms?: string; memoryHold?: number; cpuHold?: number; perVm: boolean }): Promise<void> {
  const given: [string, boolean][] = [['--vms', argv.vms !== undefined], ['--memory-hold', argv.memoryHold !== undefined], ['--cpu-hold', argv.cpuHold !== undefined], ['--per-vm', argv.perVm]];
  const extra = given.find(([, on]) => on);
  if (extra) throw new UserError(`${extra[0]} does not apply to --stress (its VMs come from --split and --role; its hold rates are the risk table's); drop ${extra[0]}`);
  const r = await evaluateStress({ source: argv.trace, inputs: argv.input ?? STRESS_INPUTS, model: argv.model, splitFile: argv.split, role: argv.role, sliceModels: parseSliceModels(argv.sliceModel), strict: argv.strict, log: (l) => progress(l, true) });
  const gate = stressGate(r);
  const targets = stressTargets(r);
  console.log(formatStress(r, gate, targets));
  if (argv.json) {
    writeFileAtomic(argv.json, JSON.stringify({ ...r, gate, targets }, null, 2) + '\n');
    const html = argv.json.replace(/\.json$/i, '') + '.html';
    writeFileAtomic(html, stressHtml(r, gate, targets));
    console.log(`report: ${argv.json}, ${html}`);
  }
}
