/**
 * workload-notes: what the recommend table and /v1/workloads say beside a recommendation. With a model
 * that answers fixed normalized outputs (no training needed): when the model's memory request is below
 * the window's median daily peak, the request is that peak (issue 19's floor) and the notes say why
 * (issue 22); when it is above, no note. The table has no confidence column and counts in good English.
 */
import { describe, expect, it } from 'vitest';
import { recommendContainers } from '../src/families/container-resources/workloads.js';
import type { Run } from '../src/families/container-resources/workloads.js';
import { toTable } from '../src/families/container-resources/workload-formats.js';
import { N_OUTPUTS } from '../src/families/container-resources/features.js';
import type { ContainerUsage } from '../src/sources/kube-workloads.js';

/** usage: one container, 3 days of 5-minute samples at 0.2 cores and a flat 700 MB (every daily peak 700 MB). */
function usage(name: string): ContainerUsage {
  const n = 864;
  const t0 = 1_748_736_000;
  return {
    workload: { namespace: 'shop', kind: 'Deployment', name },
    container: 'app',
    pods: 1,
    replicas: 1,
    window: { timestampsSec: Float64Array.from({ length: n }, (_, i) => t0 + 300 * i), cpuCores: new Float64Array(n).fill(0.2), memoryBytes: new Float64Array(n).fill(7e8) },
    samples: n,
    coveredSec: n * 300,
    historySec: n * 300,
    short: false,
    requests: { cpuCores: 0.5, memoryBytes: 2 ** 30 },
    limits: { cpuCores: 1, memoryBytes: 2 * 2 ** 30 },
  } as ContainerUsage;
}

/** constRun: a model answering `out` (normalized, contract order) for every row. */
const constRun = (out: number[]): Run => async (_x, n, use) => {
  const y = new Float32Array(n * N_OUTPUTS);
  for (let r = 0; r < n; r++) y.set(out, r * N_OUTPUTS);
  return use(y, { version: '9.9.9', risk: null });
};

describe('the notes beside a recommendation', () => {
  it('the memory request floored at the median daily peak says so; one above it does not', async () => {
    // normalized 0 is the smallest multiple of mem_p99 (1/64): far below the 700 MB peak → floored
    const low = await recommendContainers([usage('low')], constRun([0.5, 0.5, 0, 0.8, 0.5]));
    const rec = low.containers[0]!;
    expect(rec.recommended!.memRequestBytes).toBeGreaterThanOrEqual(7e8);
    expect(rec.notes).toEqual(["memory request raised to the median daily peak (the model's was lower)"]);
    // normalized 0.6: 64^0.2 ≈ 2.3 × mem_p99, above the peak → the model's own figure, no note
    const high = await recommendContainers([usage('high')], constRun([0.5, 0.5, 0.6, 0.8, 0.5]));
    expect(high.containers[0]!.recommended!.memRequestBytes).toBeGreaterThan(1.5e9);
    expect(high.containers[0]!.notes).toEqual([]);
  });

  it('the table: no CONF column, the floor note under NOTES, "1 workload, 1 container"', async () => {
    const res = await recommendContainers([usage('low')], constRun([0.5, 0.5, 0, 0.8, 0.5]));
    const text = toTable(res, { prometheus: 'http://localhost:9090/', startSec: 1_748_736_000, endSec: 1_748_995_200, stepSec: 300, warnings: [] });
    const [head, row] = text.split('\n');
    expect(head).toMatch(/^NAMESPACE\s+KIND\s+WORKLOAD\s+CONTAINER\s+PODS\s+CPU REQUEST\s+CPU LIMIT\s+MEMORY REQUEST\s+MEMORY LIMIT\s+\$\/MONTH\s+NOTES$/);
    expect(row).toContain("memory request raised to the median daily peak (the model's was lower)");
    expect(text).toMatch(/\n1 workload, 1 container: 1 recommended, 0 with a short history, 0 without a recommendation/);
  });
});
