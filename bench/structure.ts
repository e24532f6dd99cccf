/**
 * structure — prints the shape of the house (test/helpers/structure.ts measures it): the arrows that run up
 * the layers, the circles between folders, the agent's imports of a family's own files, the files over 450
 * lines and the functions over 100 (docs/ARCHITECTURE.md; test/architecture.test.ts holds them at zero).
 *
 *   npm run structure            # a table for people
 *   npm run structure -- --json  # the same figures as JSON
 */
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_FILE_LINES, MAX_FUNCTION_LINES, measure } from '../test/helpers/structure.js';
import type { Structure } from '../test/helpers/structure.js';

function print(s: Structure): void {
  const line = (t: string): void => void process.stdout.write(`${t}\n`);
  line(`files read: ${s.files} (hand-written .ts/.js under git, test fixtures left out)`);
  line(`arrows up (or sideways on one layer): ${s.upward.length}`);
  for (const a of s.upward) line(`  ${a.from} → ${a.to}   (${a.file} imports ${a.target})`);
  line(`circles between folders: ${s.circles.length}`);
  for (const c of s.circles) line(`  ${c.join(' ⇄ ')}`);
  line(`resource-agent → a family's own files: ${s.agentToFamily.length}`);
  for (const a of s.agentToFamily) line(`  ${a.file} imports ${a.target}`);
  line(`files over ${MAX_FILE_LINES} lines: ${s.longFiles.length}`);
  for (const f of s.longFiles) line(`  ${f.lines}  ${f.file}`);
  line(`functions over ${MAX_FUNCTION_LINES} lines (tests left out): ${s.longFunctions.length}`);
  for (const f of s.longFunctions) line(`  ${f.lines}  ${f.name}  ${f.file}:${f.line}`);
  line(`largest files: ${s.largestFiles.map((f) => `${f.file} ${f.lines}`).join(', ')}`);
  line(`largest functions: ${s.largestFunctions.map((f) => `${f.name} ${f.lines}`).join(', ')}`);
}

const isMain = process.argv[1] !== undefined && normalize(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: npm run structure [-- --json]\n\nMeasures the folder layers (arrows up, circles), the agent\'s imports of family files, files over 450 lines and functions over 100 lines.\n');
  } else {
    const root = relative(process.cwd(), join(dirname(fileURLToPath(import.meta.url)), '..')) || '.';
    const s = measure(root);
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    else print(s);
  }
}
