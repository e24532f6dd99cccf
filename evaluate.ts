/**
 * evaluate: the model next to VPA, KRR, a fixed rule and the original allocation, on real traces.
 *   npm run evaluate -- --trace bitbrains --input ../shared/data/bitbrains --model models/predictor.onnx --json reports/bitbrains.json
 */
import { makeCli, progress, runMain } from './src/util/cli.js';
import { evaluateBitbrains, formatTable } from './src/families/container-resources/eval/trace-eval.js';
import { writeFileAtomic } from './src/util/fs-atomic.js';
import { comparisonHtml } from './src/families/container-resources/eval/validate-html.js';
import { page } from './src/report/svg.js';

runMain(async () => {
  const argv = await makeCli('evaluate', 'Score the model and the baselines on real traces, side by side.\n\nUsage: npm run evaluate -- --trace bitbrains --input DIR --model models/predictor.onnx --json OUT')
    .option('trace', { choices: ['bitbrains'] as const, default: 'bitbrains' as const, describe: 'trace format of the input folder' })
    .option('input', { alias: 'i', type: 'string', demandOption: true, describe: 'folder of trace CSV files (e.g. ../shared/data/bitbrains)' })
    .option('model', { alias: 'm', type: 'string', default: 'models/predictor.onnx', describe: 'ONNX model' })
    .option('json', { type: 'string', describe: 'write the full report (overall and per VM) as JSON here' })
    .option('per-vm', { type: 'boolean', default: false, describe: 'also print the table of every VM' })
    .parse();
  const r = await evaluateBitbrains(argv.input, argv.model, (l) => progress(l, true));
  console.log(`${r.trace}: ${r.vms.length} VMs, ${r.windows} windows (past ${r.protocol.pastDays} d → next ${r.protocol.futureDays} d, stride ${r.protocol.strideDays} d)`);
  console.log(formatTable(r.overall));
  if (argv.perVm) for (const [vm, rows] of Object.entries(r.perVm)) console.log(`\n${vm}\n${formatTable(rows)}`);
  if (argv.json) {
    writeFileAtomic(argv.json, JSON.stringify(r, null, 2) + '\n');
    const html = argv.json.replace(/\.json$/i, '') + '.html';
    writeFileAtomic(html, page(`Real traces: ${r.trace} (${r.vms.length} VMs, ${r.windows} windows)`, comparisonHtml('All windows', r.overall) + Object.entries(r.perVm).map(([vm, rows]) => comparisonHtml(vm, rows)).join('')));
    console.log(`report: ${argv.json}, ${html}`);
  }
});
