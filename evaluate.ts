/**
 * evaluate: the model next to VPA, KRR, a fixed rule and the original allocation, on real traces.
 *   npm run evaluate -- --trace bitbrains --input ../shared/data/bitbrains --model models/predictor.onnx --json reports/bitbrains.json
 *   npm run evaluate -- --input ../shared/data/bitbrains-250 --vms 201-250
 */
import { makeCli, progress, runMain } from './src/util/cli.js';
import { evaluateTraces, formatTable } from './src/families/container-resources/eval/trace-eval.js';
import { formatIntervals } from './src/families/container-resources/eval/bootstrap.js';
import { SOURCES } from './src/sources/registry.js';
import { parseSelector } from './src/sources/select.js';
import { writeFileAtomic } from './src/util/fs-atomic.js';
import { comparisonHtml } from './src/families/container-resources/eval/validate-html.js';
import { page } from './src/report/svg.js';

runMain(async () => {
  const argv = await makeCli('evaluate', 'Score the model and the baselines on real traces, side by side.\n\nUsage: npm run evaluate -- --trace bitbrains --input DIR --model models/predictor.onnx --json OUT')
    .option('trace', { choices: SOURCES.map((s) => s.name), default: SOURCES[0]!.name, describe: 'usage source (format) of the input' })
    .option('input', { alias: 'i', type: 'string', array: true, demandOption: true, describe: 'folder(s) or file(s) of traces, .csv or .csv.gz (e.g. ../shared/data/bitbrains-250)' })
    .option('vms', { type: 'string', describe: 'keep only these traces: ranges of the number in their name and/or names, e.g. 201-250' })
    .option('memory-hold', { type: 'number', describe: "target hold rate for memory (e.g. 0.99: at most 1% of windows over the limit); the model's limits are scaled by its conformal factor" })
    .option('cpu-hold', { type: 'number', describe: 'target hold rate for the CPU limit (future p99 ≤ limit)' })
    .option('strict', { type: 'boolean', default: false, describe: 'refuse the input at the first bad row instead of skipping, merging and counting' })
    .option('model', { alias: 'm', type: 'string', default: 'models/predictor.onnx', describe: 'ONNX model' })
    .option('json', { type: 'string', describe: 'write the full report (overall and per VM) as JSON here' })
    .option('per-vm', { type: 'boolean', default: false, describe: 'also print the table of every VM' })
    .parse();
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
