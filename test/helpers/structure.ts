/**
 * structure — the shape of the house, measured: which folder imports which, the arrows that run up the
 * layers, the circles between folders, the files over 450 lines and the functions over 100. Printed by
 * `npm run structure` (bench/structure.ts); held at zero by test/architecture.test.ts.
 *
 * The layers (docs/ARCHITECTURE.md) go from 0 (imports nothing of ours) upwards; an import may point to its
 * own layer's folder or to a lower layer. Folders on one layer (e.g. src/onnx and src/sources) may not import
 * each other. test/architecture.test.ts holds every figure here at zero.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { parseSync } from 'rolldown/utils';

/** LAYERS — lowest first. A folder's files may import their own folder or any folder of a lower layer. */
export const LAYERS: ReadonlyArray<{ layer: number; folders: readonly string[]; role: string }> = [
  { layer: 0, folders: ['src/util'], role: 'files, hashes, random numbers, CLI parsing: nothing of ours' },
  { layer: 1, folders: ['src/core'], role: 'contract, units, risk, the family interface, weight types' },
  { layer: 2, folders: ['src/onnx', 'src/sources', 'src/report'], role: 'ONNX writer/reader/runtime, data sources, charts' },
  { layer: 3, folders: ['src/model', 'src/store'], role: 'training pipeline, manifest store' },
  { layer: 4, folders: ['src/export'], role: 'publish a version (ONNX, manifest, Rust)' },
  { layer: 5, folders: ['src/families/*'], role: 'one folder a family, implementing core/family.ts' },
  { layer: 6, folders: ['src/families'], role: 'the registry: the one place that names every family' },
  { layer: 7, folders: ['src/retrain'], role: 'retraining runs and their promotion gate' },
  { layer: 8, folders: ['resource-agent'], role: 'the in-cluster service: generic, families through the registry' },
  { layer: 9, folders: ['commands'], role: 'the thin top-level scripts (train.ts, export.ts, rollback.ts, …) and the modules they own in src/commands/' },
  { layer: 10, folders: ['test'], role: 'tests (test/helpers start real servers, compile Rust, copy stores)' },
  { layer: 11, folders: ['bench'], role: 'benchmarks (may use the test helpers)' },
];

export const MAX_FILE_LINES = 450;
export const MAX_FUNCTION_LINES = 100;

export interface Arrow { from: string; to: string; file: string; target: string }
export interface Structure {
  files: number;
  folders: Record<string, string[]>; // folder → the folders it imports
  upward: Arrow[]; // imports to a higher layer (or a peer on the same layer)
  circles: string[][]; // strongly connected groups of folders (size > 1)
  agentToFamily: Arrow[]; // resource-agent → src/families/<name>/…
  longFiles: Array<{ file: string; lines: number }>;
  longFunctions: Array<{ file: string; name: string; line: number; lines: number }>;
  largestFiles: Array<{ file: string; lines: number }>;
  largestFunctions: Array<{ file: string; name: string; line: number; lines: number }>;
}

/** folderOf — the folder a file belongs to for the layer rules ('commands' for the top-level scripts and src/commands/). */
export function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return 'commands';
  // src/commands/ holds the command layer's importable modules (a script runs on import): one folder with the scripts
  if (parts[0] === 'src' && parts[1] === 'commands') return 'commands';
  if (parts[0] === 'src' && parts[1] === 'families') return parts.length > 3 ? `src/families/${parts[2]}` : 'src/families';
  if (parts[0] === 'src') return `src/${parts[1]}`;
  return parts[0]!;
}

function layerOf(folder: string): number | undefined {
  for (const l of LAYERS) {
    for (const f of l.folders) {
      if (f === folder || (f.endsWith('/*') && folder.startsWith(f.slice(0, -1)) && folder.split('/').length === 3)) return l.layer;
    }
  }
  return undefined;
}

function handWritten(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.js', '*.mjs'], { cwd: root, encoding: 'utf8' });
  return out.split('\n').filter((f) => f && !f.startsWith('node_modules/') && !f.startsWith('test/fixtures/') && !f.includes('/vendor/'));
}

interface FnNode { type: string; start: number; end: number; [k: string]: unknown }

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}
function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function keyName(key: unknown): string | undefined {
  const k = key as { type?: string; name?: string; value?: unknown } | undefined;
  if (!k) return undefined;
  if (k.type === 'Identifier' || k.type === 'PrivateIdentifier') return k.name;
  if (typeof k.value === 'string') return k.value;
  return undefined;
}

/** functionsOf — every function in a file with its name (from its declaration, variable, method or property) and length. */
function functionsOf(program: unknown, text: string): Array<{ name: string; line: number; lines: number }> {
  const starts = lineStarts(text);
  const found: Array<{ name: string; line: number; lines: number }> = [];
  const visit = (node: unknown, nameHint: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n, undefined);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as FnNode;
    if (typeof n.type !== 'string') return;
    let hint: string | undefined;
    if (FUNCTION_TYPES.has(n.type)) {
      const own = keyName(n.id);
      const first = lineAt(starts, n.start);
      found.push({ name: own ?? nameHint ?? '(anonymous)', line: first, lines: lineAt(starts, n.end) - first + 1 });
    }
    if (n.type === 'VariableDeclarator') hint = keyName(n.id);
    if (n.type === 'MethodDefinition' || n.type === 'Property' || n.type === 'PropertyDefinition') hint = keyName(n.key);
    for (const [k, v] of Object.entries(n)) {
      if (k === 'type' || k === 'start' || k === 'end') continue;
      if (v && typeof v === 'object') visit(v, hint && (k === 'init' || k === 'value') ? hint : undefined);
    }
  };
  visit(program, undefined);
  return found;
}

function importsOf(module: { staticImports?: Array<{ moduleRequest: { value: string } }>; dynamicImports?: Array<{ moduleRequest: { start: number; end: number } }>; staticExports?: Array<{ entries: Array<{ moduleRequest?: { value: string } | null }> }> }, text: string): string[] {
  const specs: string[] = [];
  for (const i of module.staticImports ?? []) specs.push(i.moduleRequest.value);
  for (const e of module.staticExports ?? []) for (const en of e.entries) if (en.moduleRequest) specs.push(en.moduleRequest.value);
  for (const d of module.dynamicImports ?? []) {
    const raw = text.slice(d.moduleRequest.start, d.moduleRequest.end).trim();
    const m = /^(['"`])([^'"`$]+)\1$/.exec(raw);
    if (m) specs.push(m[2]!);
  }
  return specs;
}

/** measure — the structure figures for the repository at `root`. */
export function measure(root: string): Structure {
  const files = handWritten(root);
  const folders = new Map<string, Set<string>>();
  const upward: Arrow[] = [];
  const agentToFamily: Arrow[] = [];
  const lengths: Array<{ file: string; lines: number }> = [];
  const fns: Array<{ file: string; name: string; line: number; lines: number }> = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    lengths.push({ file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) });
    const lang = file.endsWith('.ts') ? 'ts' : 'js';
    const parsed = parseSync(file, text, { lang, sourceType: 'module' });
    const from = folderOf(file);
    if (!folders.has(from)) folders.set(from, new Set());
    if (!file.startsWith('test/')) for (const f of functionsOf(parsed.program, text)) fns.push({ file, ...f });
    for (const spec of importsOf(parsed.module as never, text)) {
      if (!spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec)).replace(/\\/g, '/');
      if (target.startsWith('..') || target.startsWith('node_modules/')) continue;
      const to = folderOf(target);
      if (to === from) continue;
      folders.get(from)!.add(to);
      const arrow = { from, to, file, target };
      const lf = layerOf(from);
      const lt = layerOf(to);
      if (lf !== undefined && lt !== undefined && lt >= lf) upward.push(arrow);
      if (from === 'resource-agent' && /^src\/families\/[^/]+\//.test(target)) agentToFamily.push(arrow);
    }
  }
  const graph: Record<string, string[]> = {};
  for (const [k, v] of [...folders].sort(([a], [b]) => a.localeCompare(b))) graph[k] = [...v].sort();
  const byLines = [...lengths].sort((a, b) => b.lines - a.lines);
  const fnByLines = [...fns].sort((a, b) => b.lines - a.lines);
  return {
    files: files.length,
    folders: graph,
    upward,
    circles: stronglyConnected(graph),
    agentToFamily,
    longFiles: byLines.filter((f) => f.lines > MAX_FILE_LINES),
    longFunctions: fnByLines.filter((f) => f.lines > MAX_FUNCTION_LINES),
    largestFiles: byLines.slice(0, 5),
    largestFunctions: fnByLines.slice(0, 5),
  };
}

/** stronglyConnected — Tarjan's algorithm; returns the groups of two or more folders that reach each other. */
function stronglyConnected(graph: Record<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph[v] ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) out.push(group.sort());
    }
  };
  for (const v of Object.keys(graph)) if (!idx.has(v)) strong(v);
  return out;
}

