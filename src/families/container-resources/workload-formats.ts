/**
 * workload-formats: a workload recommendation run (workloads.ts) as a platform engineer reads it:
 *
 *   table   one row per workload container: current → recommended request and limit (Kubernetes
 *           quantities), confidence, monthly saving, notes; totals at the end
 *   json    the document GET /v1/workloads serves (workloadsDocument): workloads with their containers;
 *           each container's "recommended" has exactly the fields of POST /v1/recommend's answer
 *   yaml    the same document as YAML
 *   csv     one row per container, RFC 4180 quoting
 *   patch   partial objects for `kubectl apply --server-side` (one YAML document per workload that has a
 *           pod template to patch: Deployment, StatefulSet, DaemonSet, CronJob); Jobs (immutable
 *           templates), ReplicaSets and bare Pods are listed in comments instead
 */
import { cpuQuantity, memoryQuantity } from '../../core/units.js';
import type { Resources } from '../../sources/kube-workloads.js';
import type { ContainerRecommendation, WorkloadResult } from './workloads.js';

export const FORMATS = ['table', 'json', 'yaml', 'csv', 'patch'] as const;
export type Format = (typeof FORMATS)[number];

/** Source: where the data came from, for the document's header. */
export interface SourceInfo {
  prometheus: string;
  startSec: number;
  endSec: number;
  stepSec: number;
  warnings: string[];
}

const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
const round4 = (x: number) => Math.round(Math.min(Math.max(x, 0), 1) * 10_000) / 10_000;
const money = (x: number) => Math.round(x * 100) / 100;

/** currentOf renders current requests or limits as the agent renders amounts; null where unknown. */
function currentOf(r: Resources) {
  const m = r.cpuCores === null ? null : Math.round(r.cpuCores * 1e6) / 1e3;
  return {
    cpu: m === null ? null : { millicores: m, quantity: cpuQuantity(m) },
    memory: r.memoryBytes === null ? null : { bytes: r.memoryBytes, quantity: memoryQuantity(r.memoryBytes) },
  };
}

/** recommendedOf: the fields of POST /v1/recommend's answer (cpu, memory, confidence, risk when asked). */
export function recommendedOf(c: ContainerRecommendation) {
  const r = c.recommended;
  if (!r) return null;
  return {
    cpu: { request: { millicores: r.cpuRequestMillicores, quantity: cpuQuantity(r.cpuRequestMillicores) }, limit: { millicores: r.cpuLimitMillicores, quantity: cpuQuantity(r.cpuLimitMillicores) } },
    memory: { request: { bytes: r.memRequestBytes, quantity: memoryQuantity(r.memRequestBytes) }, limit: { bytes: r.memLimitBytes, quantity: memoryQuantity(r.memLimitBytes) } },
    confidence: round4(r.confidence),
    ...(c.risk ? { risk: { memory: c.risk.memory, cpu: c.risk.cpu, calibration: c.risk.calibration } } : {}),
  };
}

/** containerDocument: one container in the JSON document. */
export function containerDocument(c: ContainerRecommendation) {
  const u = c.usage;
  return {
    name: u.container,
    pods: u.pods,
    replicas: u.replicas,
    samples: u.samples,
    history: { coveredSec: u.coveredSec, requestedSec: u.historySec, short: u.short },
    current: { requests: currentOf(u.requests), limits: currentOf(u.limits) },
    recommended: recommendedOf(c),
    monthlySaving: c.monthlySaving === null ? null : money(c.monthlySaving),
    currentRisk: c.currentRisk,
    notes: c.notes,
  };
}

/** workloadsDocument: the JSON (and YAML) document, workloads in namespace, kind, name order. */
export function workloadsDocument(res: WorkloadResult, src: SourceInfo) {
  const byWorkload = new Map<string, { namespace: string; kind: string; name: string; containers: ReturnType<typeof containerDocument>[] }>();
  for (const c of res.containers) {
    const w = c.usage.workload;
    const key = `${w.namespace}/${w.kind}/${w.name}`;
    const e = byWorkload.get(key) ?? { namespace: w.namespace, kind: w.kind, name: w.name, containers: [] };
    e.containers.push(containerDocument(c));
    byWorkload.set(key, e);
  }
  const t = res.totals;
  return {
    source: { prometheus: src.prometheus, start: iso(src.startSec), end: iso(src.endSec), stepSec: src.stepSec },
    modelVersion: res.modelVersion,
    warnings: src.warnings,
    totals: { ...t, currentCpuCores: round3(t.currentCpuCores), recommendedCpuCores: round3(t.recommendedCpuCores), monthlySaving: money(t.monthlySaving) },
    workloads: [...byWorkload.values()],
  };
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** render writes a run in one of FORMATS. */
export function render(format: Format, res: WorkloadResult, src: SourceInfo): string {
  switch (format) {
    case 'json':
      return JSON.stringify(workloadsDocument(res, src), null, 2) + '\n';
    case 'yaml':
      return toYaml(workloadsDocument(res, src));
    case 'csv':
      return toCsv(res);
    case 'patch':
      return toPatch(res, src);
    default:
      return toTable(res, src);
  }
}

const cpuQ = (cores: number | null) => (cores === null ? '—' : cpuQuantity(Math.round(cores * 1e6) / 1e3));
const memQ = (b: number | null) => (b === null ? '—' : memoryQuantity(b));

/** plural(1, 'workload') === '1 workload'; plural(9, 'workload') === '9 workloads' */
export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * toTable: the KRR-like table, then totals. No confidence column: on real VMs the model never saw, its
 * confidence ranks windows that hold over those that do not only weakly (ROC AUC 0.66; README "Labels"),
 * so a column of it would invite decisions it cannot carry; it stays in the JSON, YAML and CSV outputs,
 * and --memory-hold gives a limit with a measured hold rate instead.
 */
export function toTable(res: WorkloadResult, src: SourceInfo): string {
  const head = ['NAMESPACE', 'KIND', 'WORKLOAD', 'CONTAINER', 'PODS', 'CPU REQUEST', 'CPU LIMIT', 'MEMORY REQUEST', 'MEMORY LIMIT', '$/MONTH', 'NOTES'];
  const rows = res.containers.map((c) => {
    const u = c.usage;
    const r = c.recommended;
    const arrow = (cur: string, rec: string | null) => (rec === null ? `${cur} → ?` : `${cur} → ${rec}`);
    return [
      u.workload.namespace, u.workload.kind, u.workload.name, u.container, String(u.replicas),
      arrow(cpuQ(u.requests.cpuCores), r && cpuQuantity(r.cpuRequestMillicores)),
      arrow(cpuQ(u.limits.cpuCores), r && cpuQuantity(r.cpuLimitMillicores)),
      arrow(memQ(u.requests.memoryBytes), r && memoryQuantity(r.memRequestBytes)),
      arrow(memQ(u.limits.memoryBytes), r && memoryQuantity(r.memLimitBytes)),
      c.monthlySaving === null ? '—' : signed(c.monthlySaving),
      [...c.notes, ...(c.currentRisk ? [c.currentRisk] : [])].join('; '),
    ];
  });
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === cells.length - 1 ? c : c.padEnd(widths[j]!))).join('  ').trimEnd();
  const t = res.totals;
  const out = [line(head), ...rows.map(line), ''];
  out.push(`${plural(t.workloads, 'workload')}, ${plural(t.containers, 'container')}: ${t.recommended} recommended, ${t.short} with a short history, ${t.containers - t.recommended} without a recommendation (model ${res.modelVersion}; ${iso(src.startSec)} → ${iso(src.endSec)} at ${src.stepSec} s from ${src.prometheus})`);
  out.push(`requests over the running replicas: CPU ${t.currentCpuCores.toFixed(2)} → ${t.recommendedCpuCores.toFixed(2)} cores, memory ${(t.currentMemoryBytes / 2 ** 30).toFixed(2)} → ${(t.recommendedMemoryBytes / 2 ** 30).toFixed(2)} GiB; monthly saving ${signed(t.monthlySaving)}`);
  for (const w of src.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}
const signed = (x: number) => `${x < 0 ? '-' : '+'}${Math.abs(x).toFixed(2)}`;

/** toCsv: one row per container. */
export function toCsv(res: WorkloadResult): string {
  const head = ['namespace', 'kind', 'workload', 'container', 'pods', 'replicas', 'samples', 'covered_hours', 'short_history', 'current_cpu_request', 'current_cpu_limit', 'current_memory_request', 'current_memory_limit', 'cpu_request', 'cpu_limit', 'memory_request', 'memory_limit', 'cpu_request_millicores', 'cpu_limit_millicores', 'memory_request_bytes', 'memory_limit_bytes', 'confidence', 'monthly_saving', 'current_risk', 'notes'];
  const esc = (v: string | number | boolean | null) => {
    const s = v === null ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [head.join(',')];
  for (const c of res.containers) {
    const u = c.usage;
    const r = c.recommended;
    const blank = (s: string) => (s === '—' ? null : s);
    lines.push([
      u.workload.namespace, u.workload.kind, u.workload.name, u.container, u.pods, u.replicas, u.samples, Math.round((u.coveredSec / 3600) * 100) / 100, u.short,
      blank(cpuQ(u.requests.cpuCores)), blank(cpuQ(u.limits.cpuCores)), blank(memQ(u.requests.memoryBytes)), blank(memQ(u.limits.memoryBytes)),
      r && cpuQuantity(r.cpuRequestMillicores), r && cpuQuantity(r.cpuLimitMillicores), r && memoryQuantity(r.memRequestBytes), r && memoryQuantity(r.memLimitBytes),
      r && r.cpuRequestMillicores, r && r.cpuLimitMillicores, r && r.memRequestBytes, r && r.memLimitBytes, r && round4(r.confidence),
      c.monthlySaving === null ? null : money(c.monthlySaving), c.currentRisk, c.notes.join('; '),
    ].map(esc).join(','));
  }
  return lines.join('\n') + '\n';
}

const TEMPLATE_PATH: Record<string, { apiVersion: string; path: string[] }> = {
  Deployment: { apiVersion: 'apps/v1', path: ['spec', 'template', 'spec'] },
  StatefulSet: { apiVersion: 'apps/v1', path: ['spec', 'template', 'spec'] },
  DaemonSet: { apiVersion: 'apps/v1', path: ['spec', 'template', 'spec'] },
  CronJob: { apiVersion: 'batch/v1', path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'] },
};

/**
 * toPatch: one partial object per patchable workload, setting every recommended container's requests and
 * limits. Apply with `kubectl apply --server-side --field-manager=container-resource-predictor -f FILE`
 * (add --force-conflicts if kubectl apply set them before); one document also works as
 * `kubectl patch KIND NAME -n NS --type strategic --patch-file DOC`.
 */
export function toPatch(res: WorkloadResult, src: SourceInfo): string {
  const out = [
    `# Recommended requests and limits (model ${res.modelVersion}, ${iso(src.startSec)} → ${iso(src.endSec)} from ${src.prometheus}).`,
    '# kubectl apply --server-side --field-manager=container-resource-predictor -f THIS_FILE',
  ];
  const byWorkload = new Map<string, ContainerRecommendation[]>();
  for (const c of res.containers) {
    const w = c.usage.workload;
    const key = `${w.namespace}/${w.kind}/${w.name}`;
    byWorkload.set(key, [...(byWorkload.get(key) ?? []), c]);
  }
  for (const [key, cs] of byWorkload) {
    const w = cs[0]!.usage.workload;
    const recs = cs.filter((c) => c.recommended);
    const t = TEMPLATE_PATH[w.kind];
    if (!t) {
      out.push(`# ${key}: not patched (${w.kind === 'Job' ? "a Job's pod template is immutable; set resources where the Job is defined" : `a ${w.kind} has no pod template to patch here`})`);
      continue;
    }
    if (recs.length === 0) {
      out.push(`# ${key}: no recommendation (${cs.flatMap((c) => c.notes).join('; ')})`);
      continue;
    }
    const containers = recs.map((c) => {
      const r = c.recommended!;
      return { name: c.usage.container, resources: { requests: { cpu: cpuQuantity(r.cpuRequestMillicores), memory: memoryQuantity(r.memRequestBytes) }, limits: { cpu: cpuQuantity(r.cpuLimitMillicores), memory: memoryQuantity(r.memLimitBytes) } } };
    });
    let inner: Record<string, unknown> = { containers };
    for (const k of [...t.path].reverse()) inner = { [k]: inner };
    out.push('---', toYaml({ apiVersion: t.apiVersion, kind: w.kind, metadata: { name: w.name, namespace: w.namespace }, ...inner }).trimEnd());
  }
  return out.join('\n') + '\n';
}

/**
 * toYaml writes plain data (objects, arrays, strings, numbers, booleans, null) as block YAML. Strings are
 * written as JSON strings (a JSON string is a valid YAML double-quoted scalar) unless they are plain words
 * YAML reads back as the same string. toYaml({a: [1, 'x y']}) === 'a:\n  - 1\n  - x y\n'.
 */
export function toYaml(v: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    if (v.length === 0) return `${pad}[]\n`;
    return v.map((x) => (isBlock(x) ? `${pad}-${toYaml(x, indent + 2).slice(indent + 1)}` : `${pad}- ${scalar(x)}\n`)).join('');
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) return `${pad}{}\n`;
    return entries.map(([k, x]) => (isBlock(x) ? `${pad}${key(k)}:\n${toYaml(x, indent + 2)}` : `${pad}${key(k)}: ${scalar(x)}\n`)).join('');
  }
  return `${pad}${scalar(v)}\n`;
}
const isBlock = (x: unknown) => x !== null && typeof x === 'object' && (Array.isArray(x) ? x.length > 0 : Object.keys(x).length > 0);
const key = (k: string) => (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k));
function scalar(x: unknown): string {
  if (x === null || x === undefined) return 'null';
  if (typeof x === 'number') return Number.isFinite(x) ? String(x) : '.nan';
  if (typeof x === 'boolean') return String(x);
  if (Array.isArray(x)) return '[]';
  if (typeof x === 'object') return '{}';
  const s = String(x);
  // plain only for words that cannot read back as anything else (numbers, booleans, null, dates, …)
  return /^[A-Za-z][A-Za-z0-9_./-]*$/.test(s) && !/^(true|false|yes|no|on|off|null|y|n|~)$/i.test(s) ? s : JSON.stringify(s);
}
