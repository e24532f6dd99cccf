/**
 * architecture: the house rules of docs/ARCHITECTURE.md, measured on the repository by
 * test/helpers/structure.ts (what `npm run structure` prints): no import runs up the layers, no two folders
 * import each other, the agent imports no file of a family's own folder, no hand-written file is over 450
 * lines and no function (outside the tests) over 100. First, the measure itself is shown to find each of
 * those in a small repository made here, so a zero below means there are none, not that nothing was looked at.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './helpers/env.js';
import { folderOf, measure } from './helpers/structure.js';

const tmp = mkdtempSync(join(tmpdir(), 'crp-structure-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function repoWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmp, 'repo-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), text);
  }
  execFileSync('git', ['init', '-q'], { cwd: root });
  return root;
}

describe('the measure finds what it forbids', () => {
  it('an upward import, a circle, the agent importing a family file, a long file and a long function', () => {
    const body = Array.from({ length: 101 }, (_, i) => `  x += ${i};`).join('\n');
    const root = repoWith({
      // core (layer 1) imports model (layer 3): up; model imports core back: a circle of two folders
      'src/core/a.ts': "import { m } from '../model/m.js';\nexport const a = m;\n",
      'src/model/m.ts': "import type { A } from '../core/t.js';\nexport const m = 1 as A;\n",
      'src/core/t.ts': 'export type A = number;\n',
      // the agent reaches into a family's own folder
      'resource-agent/x.ts': "import { f } from '../src/families/fam/inner.js';\nexport const x = f;\n",
      'src/families/fam/inner.ts': 'export const f = 1;\n',
      // 451 lines, and one function of 103 lines
      'src/util/long.ts': `export function long(): number {\n  let x = 0;\n${body}\n  return x;\n}\n${'// pad\n'.repeat(451 - 105)}`,
    });
    const s = measure(root);
    expect(s.upward.map((a) => `${a.from}→${a.to}`)).toEqual(['src/core→src/model']);
    expect(s.circles).toEqual([['src/core', 'src/model']]);
    expect(s.agentToFamily.map((a) => a.target)).toEqual(['src/families/fam/inner.js']);
    expect(s.longFiles).toEqual([{ file: 'src/util/long.ts', lines: 451 }]);
    expect(s.longFunctions).toEqual([{ file: 'src/util/long.ts', name: 'long', line: 1, lines: 105 }]);
  });

  it('names a folder by its layer: a family folder, the registry, the command layer', () => {
    expect(folderOf('src/families/job-memory/trees/grow.ts')).toBe('src/families/job-memory');
    expect(folderOf('src/families/registry.ts')).toBe('src/families');
    expect(folderOf('train.ts')).toBe('commands');
    expect(folderOf('src/commands/rollback.ts')).toBe('commands');
    expect(folderOf('resource-agent/routes/ui.ts')).toBe('resource-agent');
  });
});

describe('the repository keeps the house rules', () => {
  const s = measure(REPO);

  it('reads the whole tree (the agent, the families, the scripts, the tests)', () => {
    expect(s.files).toBeGreaterThan(200);
    expect(Object.keys(s.folders)).toEqual(expect.arrayContaining(['resource-agent', 'src/core', 'src/families/container-resources', 'src/families/job-memory', 'commands', 'test', 'bench']));
  });

  it('0 imports up the layers, 0 circles between folders', () => {
    expect(s.upward.map((a) => `${a.file} imports ${a.target} (${a.from} → ${a.to})`)).toEqual([]);
    expect(s.circles).toEqual([]);
  });

  it('the agent imports no file under src/families/<name>/ (families reach it through the registry and hooks)', () => {
    expect(s.agentToFamily.map((a) => `${a.file} imports ${a.target}`)).toEqual([]);
  });

  it('no hand-written file over 450 lines, no function over 100', () => {
    expect(s.longFiles).toEqual([]);
    expect(s.longFunctions.map((f) => `${f.file}:${f.line} ${f.name} ${f.lines} lines`)).toEqual([]);
  });
});
