/**
 * prometheus (test helper): a REAL Prometheus (Debian's `prometheus` package) on a temporary data
 * directory, filled by `promtool tsdb create-blocks-from openmetrics` with a cluster this file generates
 * from the real Bitbrains VMs in ../shared/data: cAdvisor series per pod and container, and the
 * kube-state-metrics series for owners, requests, limits, creation times and labels.
 *
 * Every value is chosen so that the path through Prometheus is exact: samples sit on the 5-minute grid
 * the source queries, CPU usage is rounded to 1/1024 core (so the cumulative counter and the per-step
 * difference / 300 give back the same double), memory to whole bytes, CFS periods are whole numbers.
 *
 * promtool 2.42 re-parses its whole input for every 2-hour block it writes, so the input is written as
 * one file per 2-hour block (each parsed once), converted two at a time.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readTraceFile } from '../../src/sources/bitbrains.js';
import type { UsageWindow } from '../../src/sources/types.js';

const run = promisify(execFile);

/** PodSpec: one pod, alive on grid points fromK..toK (0 is the point before the window). */
export interface PodSpec {
  name: string;
  /** the Bitbrains VM whose usage this pod replays, and from which of its samples */
  vm: number;
  offset: number;
  fromK: number;
  toK: number;
}

export interface ContainerSpec {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Job' | 'Pod';
  workload: string;
  container: string;
  pods: PodSpec[];
  requests: { cpu: number; memory: number } | null;
  limits: { cpu: number; memory: number } | null;
  /** emit CFS counters (containers with a CPU limit) */
  cfs: boolean;
  labels: Record<string, string>;
  /** kube-state-metrics knows this pod (false: cAdvisor series only, to test the missing-metric error) */
  ksm?: boolean;
  /**
   * samples between grid points (a 30 s scrape between the 5-minute steps), in every pod of the container:
   * at `beforeSec` before grid point k, memory at `memoryBytes` and the CPU counter `cpuSeconds` above the
   * previous point's (those seconds are added to the counter from then on). Off-grid values are not rounded.
   */
  subStep?: SubStepSample[];
}

/** SubStepSample: one sample between grid points k − 1 and k (see ContainerSpec.subStep). */
export interface SubStepSample {
  k: number;
  beforeSec: number;
  memoryBytes: number;
  cpuSeconds: number;
}

export interface Cluster {
  /** the window's end (the last grid point), seconds since the epoch */
  endSec: number;
  stepSec: number;
  /** grid points: 0 = end − (points − 1) × step */
  points: number;
  containers: ContainerSpec[];
}

/** END_SEC: 2025-06-02T00:00:00Z, a Monday; every test and the bench end their window there. */
export const END_SEC = Date.UTC(2025, 5, 2) / 1000;
export const STEP_SEC = 300;
/** POINTS: 7 days of 5-minute samples plus the point before them. */
export const POINTS = 7 * 288 + 1;

type Usage = { cpu: Float64Array; mem: Float64Array };
const usageCache = new Map<number, Usage>();

/** vmUsage reads a Bitbrains VM once: CPU rounded to 1/1024 core, memory to whole bytes. */
export function vmUsage(dataDir: string, vm: number): Usage {
  let u = usageCache.get(vm);
  if (!u) {
    const t = readTraceFile(join(dataDir, `vm${vm}.csv.gz`));
    u = { cpu: t.cpuCores.map((c) => Math.round(c * 1024) / 1024), mem: t.memoryBytes.map((m) => Math.round(m)) };
    usageCache.set(vm, u);
  }
  return u;
}

/** PodSeries: one pod's values on the grid (NaN outside its life). */
interface PodSeries {
  cpuCounter: Float64Array;
  memory: Float64Array;
  throttled: Float64Array;
  periods: Float64Array;
  cpu: Float64Array;
}

/** podSeries replays a VM: counter_k = counter_{k−1} + cpu_k × step; CFS: 3000 periods a step, throttled above 80% of the limit. */
export function podSeries(dataDir: string, c: ContainerSpec, p: PodSpec, cl: Cluster): PodSeries {
  const u = vmUsage(dataDir, p.vm);
  const nan = () => new Float64Array(cl.points).fill(NaN);
  const s: PodSeries = { cpuCounter: nan(), memory: nan(), throttled: nan(), periods: nan(), cpu: nan() };
  let counter = 0;
  let thr = 0;
  let per = 0;
  for (let k = p.fromK; k <= p.toK; k++) {
    const i = (p.offset + k) % u.cpu.length;
    const cpu = u.cpu[i]!;
    if (k > p.fromK) {
      counter += cpu * cl.stepSec;
      per += 3000;
      if (c.limits) thr += Math.round(3000 * Math.min(Math.max((cpu - 0.8 * c.limits.cpu) / c.limits.cpu, 0), 1));
    }
    s.cpu[k] = cpu;
    s.cpuCounter[k] = counter;
    s.memory[k] = u.mem[i]!;
    s.throttled[k] = thr;
    s.periods[k] = per;
  }
  return s;
}

/**
 * rawWindow: the window the agent would be sent for a single-pod container: grid points fromK+1..toK
 * (a CPU rate needs the point before), CFS counters as they are (cumulative).
 */
export function rawWindow(dataDir: string, c: ContainerSpec, cl: Cluster): UsageWindow & { throttledPeriods?: number[]; totalPeriods?: number[] } {
  const p = c.pods[0]!;
  const s = podSeries(dataDir, c, p, cl);
  const t0 = cl.endSec - (cl.points - 1) * cl.stepSec;
  const ks: number[] = [];
  for (let k = Math.max(p.fromK + 1, 1); k <= p.toK; k++) ks.push(k);
  const w: UsageWindow & { throttledPeriods?: number[]; totalPeriods?: number[] } = {
    timestampsSec: ks.map((k) => t0 + k * cl.stepSec),
    cpuCores: ks.map((k) => s.cpu[k]!),
    memoryBytes: ks.map((k) => s.memory[k]!),
    // kube_pod_created of the pod: the point it started on
    workloadStartSec: t0 + p.fromK * cl.stepSec,
  };
  if (c.cfs) {
    w.throttledPeriods = ks.map((k) => s.throttled[k]!);
    w.totalPeriods = ks.map((k) => s.periods[k]!);
  }
  return w;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;

/** ownerOf: the pod's controller and, for ReplicaSets and Jobs, theirs. */
function ownerOf(c: ContainerSpec, p: PodSpec): { pod: [string, string]; rs?: [string, string]; job?: [string, string] } {
  const mid = p.name.slice(0, p.name.lastIndexOf('-'));
  switch (c.kind) {
    case 'Deployment':
      return { pod: ['ReplicaSet', mid], rs: [mid, c.workload] };
    case 'CronJob':
      return { pod: ['Job', mid], job: [mid, c.workload] };
    case 'Pod':
      return { pod: ['<none>', '<none>'] };
    default:
      return { pod: [c.kind, c.workload] };
  }
}

/** Family: one metric family's series, each a function from grid point to value (NaN: no sample), plus samples off the grid. */
interface Family {
  name: string;
  type: 'counter' | 'gauge';
  series: { labels: string; value: (k: number) => number; everyK: number; offGrid?: { k: number; t: number; v: number }[] }[];
}

/** families builds every series of the cluster (cAdvisor per 5 min; kube-state-metrics hourly, and at each pod's last point). */
export function families(dataDir: string, cl: Cluster): Family[] {
  const F = (name: string, type: Family['type']): Family => ({ name, type, series: [] });
  const cpu = F('container_cpu_usage_seconds_total', 'counter');
  const mem = F('container_memory_working_set_bytes', 'gauge');
  const thr = F('container_cpu_cfs_throttled_periods_total', 'counter');
  const per = F('container_cpu_cfs_periods_total', 'counter');
  const podOwner = F('kube_pod_owner', 'gauge');
  const rsOwner = F('kube_replicaset_owner', 'gauge');
  const jobOwner = F('kube_job_owner', 'gauge');
  const req = F('kube_pod_container_resource_requests', 'gauge');
  const lim = F('kube_pod_container_resource_limits', 'gauge');
  const created = F('kube_pod_created', 'gauge');
  const podLabels = F('kube_pod_labels', 'gauge');
  const t0 = cl.endSec - (cl.points - 1) * cl.stepSec;
  const seenRs = new Set<string>();
  const seenPod = new Set<string>();
  for (const c of cl.containers) {
    for (const p of c.pods) {
      const s = podSeries(dataDir, c, p, cl);
      const base = { namespace: c.namespace, pod: p.name, container: c.container };
      const cadvisor = { ...base, id: `/kubepods/${p.name}/${c.container}`, image: `registry.example/${c.workload}:1`, job: 'kubelet' };
      // sub-step samples: memory as given; the CPU counter raised by cpuSeconds from the sample on
      const sub = (c.subStep ?? []).filter((x) => x.k > p.fromK && x.k <= p.toK).sort((a, b) => a.k - b.k);
      const extra = (k: number) => sub.filter((x) => x.k <= k).reduce((a, x) => a + x.cpuSeconds, 0);
      const at = (x: SubStepSample) => t0 + x.k * cl.stepSec - x.beforeSec;
      cpu.series.push({ labels: labels({ ...cadvisor, cpu: 'total' }), value: (k) => s.cpuCounter[k]! + extra(k), everyK: 1, offGrid: sub.map((x) => ({ k: x.k, t: at(x), v: s.cpuCounter[x.k - 1]! + extra(x.k - 1) + x.cpuSeconds })) });
      mem.series.push({ labels: labels(cadvisor), value: (k) => s.memory[k]!, everyK: 1, offGrid: sub.map((x) => ({ k: x.k, t: at(x), v: x.memoryBytes })) });
      if (c.cfs) {
        thr.series.push({ labels: labels(cadvisor), value: (k) => s.throttled[k]!, everyK: 1 });
        per.series.push({ labels: labels(cadvisor), value: (k) => s.periods[k]!, everyK: 1 });
      }
      if (c.ksm === false) continue;
      const alive = (v: number) => (k: number) => (k >= p.fromK && k <= p.toK ? v : NaN);
      const ksm = { job: 'kube-state-metrics' };
      for (const [fam, res] of [[req, c.requests], [lim, c.limits]] as const) {
        if (!res) continue;
        fam.series.push({ labels: labels({ ...base, ...ksm, node: 'node-1', resource: 'cpu', unit: 'core' }), value: alive(res.cpu), everyK: 12 });
        fam.series.push({ labels: labels({ ...base, ...ksm, node: 'node-1', resource: 'memory', unit: 'byte' }), value: alive(res.memory), everyK: 12 });
      }
      if (seenPod.has(`${c.namespace}/${p.name}`)) continue;
      seenPod.add(`${c.namespace}/${p.name}`);
      const o = ownerOf(c, p);
      podOwner.series.push({ labels: labels({ namespace: c.namespace, pod: p.name, owner_kind: o.pod[0], owner_name: o.pod[1], owner_is_controller: o.pod[0] === '<none>' ? '<none>' : 'true', ...ksm }), value: alive(1), everyK: 12 });
      created.series.push({ labels: labels({ namespace: c.namespace, pod: p.name, ...ksm }), value: alive(t0 + p.fromK * cl.stepSec), everyK: 12 });
      podLabels.series.push({ labels: labels({ namespace: c.namespace, pod: p.name, ...Object.fromEntries(Object.entries(c.labels).map(([k, v]) => [`label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`, v])), ...ksm }), value: alive(1), everyK: 12 });
      if (o.rs && !seenRs.has(`${c.namespace}/${o.rs[0]}`)) {
        seenRs.add(`${c.namespace}/${o.rs[0]}`);
        rsOwner.series.push({ labels: labels({ namespace: c.namespace, replicaset: o.rs[0], owner_kind: 'Deployment', owner_name: o.rs[1], owner_is_controller: 'true', ...ksm }), value: () => 1, everyK: 12 });
      }
      if (o.job && !seenRs.has(`${c.namespace}/${o.job[0]}`)) {
        seenRs.add(`${c.namespace}/${o.job[0]}`);
        jobOwner.series.push({ labels: labels({ namespace: c.namespace, job_name: o.job[0], owner_kind: 'CronJob', owner_name: o.job[1], owner_is_controller: 'true', ...ksm }), value: () => 1, everyK: 12 });
      }
    }
  }
  return [cpu, mem, thr, per, podOwner, rsOwner, jobOwner, req, lim, created, podLabels].filter((f) => f.series.length > 0);
}

/**
 * writeOpenMetrics writes the cluster as OpenMetrics text, one file per 2-hour block, and returns their
 * paths. A kube-state-metrics series is written every `everyK` points and at each series' last point.
 */
export function writeOpenMetrics(dataDir: string, cl: Cluster, dir: string): string[] {
  const fams = families(dataDir, cl);
  const t0 = cl.endSec - (cl.points - 1) * cl.stepSec;
  const BLOCK = 7200;
  const files: string[] = [];
  for (let b = Math.floor(t0 / BLOCK) * BLOCK; b <= cl.endSec; b += BLOCK) {
    const kFrom = Math.max(0, Math.ceil((b - t0) / cl.stepSec));
    const kTo = Math.min(cl.points - 1, Math.ceil((b + BLOCK - t0) / cl.stepSec) - 1);
    const parts: string[] = [];
    for (const f of fams) {
      parts.push(`# TYPE ${f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name} ${f.type}\n`);
      for (const s of f.series) {
        let lines = '';
        for (let k = kFrom; k <= kTo; k++) {
          // samples between point k − 1 and k come first (timestamps increase within a series)
          for (const o of s.offGrid ?? []) if (o.k === k) lines += `${f.name}${s.labels} ${o.v} ${o.t}\n`;
          const v = s.value(k);
          if (Number.isNaN(v)) continue;
          const last = k === cl.points - 1 || Number.isNaN(s.value(k + 1));
          if (s.everyK > 1 && k % s.everyK !== 0 && !last) continue;
          lines += `${f.name}${s.labels} ${v} ${t0 + k * cl.stepSec}\n`;
        }
        parts.push(lines);
      }
    }
    parts.push('# EOF\n');
    const file = join(dir, `block-${b}.om`);
    writeFileSync(file, parts.join(''));
    files.push(file);
  }
  return files;
}

/** freePort asks the OS for a free port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** RunningPrometheus: a Prometheus serving the generated cluster; stop() kills it and removes its data. */
export interface RunningPrometheus {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** startPrometheus writes the blocks for `cl`, starts Debian's prometheus on them and waits until it is ready. */
export async function startPrometheus(dataDir: string, cl: Cluster, log: (l: string) => void = () => {}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'crp-prometheus-'));
  const om = join(dir, 'openmetrics');
  const tsdb = join(dir, 'tsdb');
  mkdirSync(om);
  mkdirSync(tsdb);
  const files = writeOpenMetrics(dataDir, cl, om);
  log(`wrote ${files.length} OpenMetrics block files`);
  for (let i = 0; i < files.length; i += 2) {
    await Promise.all(files.slice(i, i + 2).map((f) => run('/usr/bin/promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', f, tsdb], { maxBuffer: 1 << 24 })));
  }
  rmSync(om, { recursive: true, force: true });
  log('promtool created the blocks');
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
  const port = await freePort();
  const proc: ChildProcess = spawn('/usr/bin/prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${tsdb}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=100y',
    '--log.level=warn',
    // A scraped series that ends gets a staleness marker, so a range query stops at its last sample;
    // imported blocks have no markers, and the default 5-minute lookback would repeat a pod's last sample
    // at the next 5-minute step. A lookback under one step gives the scraped behaviour.
    '--query.lookback-delta=4m',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${proc.exitCode}: ${stderr}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) {
      await stop();
      throw new Error(`prometheus did not become ready in 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, dir, stop };
}

const N = POINTS - 1;
const pod = (name: string, vm: number, fromK = 0, toK = N, offset = vm * 37) => ({ name, vm, offset, fromK, toK });
const GiB = 2 ** 30;

/**
 * testCluster: 5 namespaces, every workload kind, from Bitbrains VMs 1–13: a 2-replica Deployment with
 * two containers, a Deployment rolled out mid-window (one pod replaces another), a StatefulSet, a
 * DaemonSet, a CronJob's Job (1.5 days: short), a one-off Job, a bare Pod (short), and a container started
 * at the window's last point (1 sample: no recommendation).
 */
export function testCluster(): Cluster {
  const res = (cpu: number, memGiB: number) => ({ cpu, memory: memGiB * GiB });
  const C = (c: Partial<ContainerSpec> & Pick<ContainerSpec, 'namespace' | 'kind' | 'workload' | 'container' | 'pods'>): ContainerSpec => ({ requests: res(0.5, 1), limits: res(1, 2), cfs: true, labels: { app: c.workload }, ...c });
  return {
    endSec: END_SEC,
    stepSec: STEP_SEC,
    points: POINTS,
    containers: [
      C({ namespace: 'shop', kind: 'Deployment', workload: 'web', container: 'app', pods: [pod('web-5d8f7-abcde', 1), pod('web-5d8f7-fghij', 2)], labels: { app: 'web', tier: 'front' } }),
      C({ namespace: 'shop', kind: 'Deployment', workload: 'web', container: 'envoy', pods: [pod('web-5d8f7-abcde', 3), pod('web-5d8f7-fghij', 4)], requests: res(0.1, 0.125), limits: res(0.2, 0.25), labels: { app: 'web', tier: 'front' } }),
      C({ namespace: 'shop', kind: 'StatefulSet', workload: 'db', container: 'postgres', pods: [pod('db-0', 5)], requests: res(2, 8), limits: null, cfs: false, labels: { app: 'db', tier: 'back' } }),
      C({ namespace: 'shop', kind: 'Deployment', workload: 'api', container: 'api', pods: [pod('api-6c9b4-aaaaa', 6, 0, 1000), pod('api-7f2d1-bbbbb', 7, 1000, N)], labels: { app: 'api', tier: 'back' } }),
      C({ namespace: 'monitoring', kind: 'DaemonSet', workload: 'node-agent', container: 'agent', pods: [pod('node-agent-x7k2p', 8)], requests: res(0.05, 0.0625), limits: null, cfs: false }),
      C({ namespace: 'batch', kind: 'CronJob', workload: 'nightly', container: 'report', pods: [pod('nightly-29113920-q8z4m', 9, N - 432, N)] }),
      C({ namespace: 'batch', kind: 'Job', workload: 'migrate', container: 'migrate', pods: [pod('migrate-k2v9s', 10, 300, 900)], requests: null, limits: null, cfs: false }),
      C({ namespace: 'default', kind: 'Pod', workload: 'debug', container: 'shell', pods: [pod('debug', 11, N - 700, N)], requests: res(0.1, 0.25), limits: null, cfs: false }),
      C({ namespace: 'legacy', kind: 'Deployment', workload: 'old', container: 'app', pods: [pod('old-1a2b3-ccccc', 13)], ksm: false }),
      C({ namespace: 'default', kind: 'Deployment', workload: 'canary', container: 'app', pods: [pod('canary-84b6d-zzzzz', 12, N, N)] }),
    ],
  };
}
