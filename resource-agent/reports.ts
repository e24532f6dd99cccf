/**
 * reports: the evaluation reports the dashboard's Evaluation page shows. The agent is started with
 * `--reports DIR` (the folder `evaluate --json` and `validate --report` write to); every `*.json` in it or
 * in a sub-folder (2 levels: reports/validate/report.json) that a registered family's reports hook
 * recognizes (core/family.ts FamilyReports; the container family's evaluate and validate reports) is
 * listed, newest first (file modification time). A file that is not JSON, or JSON of another shape, is
 * listed under `skipped` with the reason, never an error: the folder may hold anything.
 *
 * Each report becomes the family's ReportView: for the container family its systems' metrics (the table)
 * and the trade-off chart's spec, the one the HTML reports draw, so the dashboard and the reports cannot
 * disagree.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { JsonScanner, ScanError } from './json-scan.js';
import type { FamilyReports, ReportView } from '../src/core/family.js';
import { FAMILIES } from '../src/families/registry.js';

export type { ReportView } from '../src/core/family.js';

export interface ReportList {
  dir: string | null;
  reports: ReportView[];
  skipped: { file: string; reason: string }[];
}

const MAX_BYTES = 32 * 1024 * 1024;

/** the reports hooks of the registered families, in registry order */
const HOOKS: readonly FamilyReports[] = FAMILIES.flatMap((f) => (f.reports ? [f.reports] : []));

/**
 * viewOf recognizes a parsed report with the first family whose hook takes it; returns the first
 * family's reason instead when none does.
 * Example: { trace: 'bitbrains', windows: 900, vms: [...45], overall: { model: {...}, vpa: {...} } } → kind 'evaluate'.
 */
export function viewOf(file: string, modifiedAt: string, r: unknown, hooks: readonly FamilyReports[] = HOOKS): ReportView | string {
  let reason: string | null = null;
  for (const h of hooks) {
    const v = h.view(file, modifiedAt, r);
    if (typeof v !== 'string') return v;
    reason ??= v;
  }
  return reason ?? 'no registered model family reads evaluation reports';
}

/**
 * jsonFiles lists the *.json files under `dir` (`depth` folders down). A symbolic link is followed only
 * when it leads to a file inside the reports folder (`root`, real path); one that leads outside is
 * listed in `outside` and never read (the folder is served without authentication).
 */
function jsonFiles(dir: string, depth: number, root: string, outside: string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (n.startsWith('.')) continue;
    const p = join(dir, n);
    let st;
    try {
      st = lstatSync(p);
      if (st.isSymbolicLink()) {
        const real = realpathSync(p);
        if (real !== root && !real.startsWith(root + sep)) {
          if (n.endsWith('.json')) outside.push(p);
          continue;
        }
        st = statSync(p);
      }
    } catch {
      continue;
    }
    if (st.isDirectory() && depth > 0) out.push(...jsonFiles(p, depth - 1, root, outside));
    else if (st.isFile() && n.endsWith('.json')) out.push(p);
  }
  return out;
}

/** notJson says where a file stops being JSON (byte and path), never what it holds. */
function notJson(text: string): string {
  try {
    const s = new JsonScanner({ maxDepth: 64 });
    s.feed(Buffer.from(text, 'utf8'));
    s.end();
  } catch (e) {
    if (e instanceof ScanError) return e.message.replace(/^the body is not valid JSON: /, 'not JSON: ').replace(/^the body /, 'not JSON: the file ');
  }
  return 'not JSON';
}

/** listReports reads every report under `dir` (null: none configured), newest first. */
export function listReports(dir: string | null): ReportList {
  const list: ReportList = { dir, reports: [], skipped: [] };
  if (dir === null) return list;
  const found: { view: ReportView; mtime: number }[] = [];
  let root: string;
  try {
    root = realpathSync(dir);
  } catch {
    return list;
  }
  const outside: string[] = [];
  for (const p of jsonFiles(dir, 2, root, outside)) {
    const file = relative(dir, p);
    try {
      const st = statSync(p);
      if (st.size > MAX_BYTES) {
        list.skipped.push({ file, reason: `larger than ${MAX_BYTES} bytes` });
        continue;
      }
      const text = readFileSync(p, 'utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        list.skipped.push({ file, reason: notJson(text) });
        continue;
      }
      const v = viewOf(file, st.mtime.toISOString(), parsed);
      if (typeof v === 'string') list.skipped.push({ file, reason: v });
      else found.push({ view: v, mtime: st.mtimeMs });
    } catch (e) {
      // never the error's message: it holds the file's absolute path
      list.skipped.push({ file, reason: `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
    }
  }
  for (const p of outside) list.skipped.push({ file: relative(dir, p), reason: 'a link to a file outside the reports folder; not read' });
  list.reports = found.sort((a, b) => b.mtime - a.mtime || a.view.file.localeCompare(b.view.file)).map((f) => f.view);
  return list;
}
