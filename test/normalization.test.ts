/**
 * normalization: normalize → denormalize round trips for every INPUTS and OUTPUTS spec across its whole
 * range (float64, and after storing n as float32), the constant relative precision of the log scale
 * (adjacent float32 values of n are < 1e-5 apart in x, relative, everywhere) against a linear min-max
 * map that loses it at 10 millicores, clamping, the worked numbers of the module comments, the odds and
 * signed-odds inverses, and the Kubernetes quantity strings of units.ts.
 */
import { describe, it, expect } from 'vitest';
import {
  AGE_RANGE,
  CPU_RANGE,
  denormalize,
  denormalizeOutputs,
  FEATURE_NAMES,
  INPUTS,
  MEM_RANGE,
  normalize,
  normalizeOutputs,
  OUTPUT_NAMES,
  OUTPUTS,
} from '../src/families/container-resources/features.js';
import type { FieldSpec, Normalization } from '../src/families/container-resources/features.js';
import { coresFromMillicores, cpuQuantity, GiB, KiB, memoryQuantity, MiB, millicoresFromCores } from '../src/core/units.js';

const ALL: FieldSpec[] = [...INPUTS, ...OUTPUTS];
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** geometric returns k points from lo to hi (both included), evenly spaced in ln x. */
function geometric(lo: number, hi: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => lo * Math.exp((Math.log(hi / lo) * i) / (k - 1)));
}

/** nextFloat32Up returns the next float32 above a non-negative float32 value. */
function nextFloat32Up(f: number): number {
  const b = new Float32Array([f]);
  const u = new Uint32Array(b.buffer);
  u[0]! += 1;
  return b[0]!;
}

describe('the contract lists 12 inputs and 5 outputs with these ranges', () => {
  it('INPUTS/OUTPUTS follow FEATURE_NAMES/OUTPUT_NAMES; physical bounds CPU 10m..64 cores, memory 32 MiB..256 GiB, age 1 h..2 years', () => {
    expect(INPUTS.map((s) => s.name)).toEqual([...FEATURE_NAMES]);
    expect(OUTPUTS.map((s) => s.name)).toEqual([...OUTPUT_NAMES]);
    expect(CPU_RANGE).toEqual({ min: 0.01, max: 64 });
    expect(MEM_RANGE).toEqual({ min: 32 * MiB, max: 256 * GiB });
    expect(AGE_RANGE).toEqual({ min: 1, max: 17520 }); // 2 · 365 · 24 hours
  });

  it('contract 3 sees no absolute amount: every resource is a ratio to cpu_p99 (input 2) or mem_p99 (input 5); hour and age are unseen', () => {
    const ratios = ALL.filter((s) => s.normalization.type === 'ratio').map((s) => [s.name, (s.normalization as { of: number }).of]);
    expect(ratios).toEqual([['cpu_p50', 2], ['cpu_p95', 2], ['cpu_p99', 2], ['mem_p50', 5], ['mem_p95', 5], ['mem_p99', 5], ['cpu_request', 2], ['cpu_limit', 2], ['mem_request', 5], ['mem_limit', 5]]);
    expect(ALL.filter((s) => s.normalization.type === 'constant').map((s) => s.name)).toEqual(['hour', 'workload_age']);
    expect(ALL.some((s) => s.normalization.type === 'log')).toBe(false);
  });
});

describe('round trips normalize → denormalize over the whole range of every spec', () => {
  for (const spec of ALL) {
    const nz = spec.normalization;
    if (nz.type === 'log') {
      it(`${spec.name} (log ${nz.min}..${nz.max} ${spec.unit}): 2001 points, rel. error < 1e-6 (float64) and < 1e-5 (n as float32)`, () => {
        let worst64 = 0;
        let worst32 = 0;
        for (const x of geometric(nz.min, nz.max, 2001)) {
          const n = normalize(nz, x);
          expect(n).toBeGreaterThanOrEqual(0);
          expect(n).toBeLessThanOrEqual(1);
          worst64 = Math.max(worst64, relErr(denormalize(nz, n), x));
          worst32 = Math.max(worst32, relErr(denormalize(nz, Math.fround(n)), x));
        }
        expect(worst64).toBeLessThan(1e-6);
        expect(worst32).toBeLessThan(1e-5);
        // float32 rounds n by at most half a step (≤ 2^-25 below 1), so x by ≤ ln(max/min)·2^-25 relative:
        // CPU ln(6400) = 8.76 → 2.6e-7; memory ln(8192) = 9.01 → 2.7e-7; age ln(17520) = 9.77 → 2.9e-7
        expect(worst32).toBeLessThanOrEqual(Math.log(nz.max / nz.min) * 2 ** -25 * 1.01);
      });
    } else if (nz.type === 'ratio') {
      it(`${spec.name} (ratio to input ${nz.of}, ${nz.min}..${nz.max}): 2001 points at three scales, rel. error < 1e-6 (float64) and < 1e-5 (float32); the same n at every scale`, () => {
        for (const ref of [3 * nz.floor, 1000 * nz.floor, 1e6 * nz.floor]) {
          const row = new Float64Array(12);
          row[nz.of] = ref;
          for (const q of geometric(nz.min, nz.max, 2001)) {
            const n = normalize(nz, q * ref, row);
            expect(n).toBeGreaterThanOrEqual(0);
            expect(n).toBeLessThanOrEqual(1);
            expect(n).toBeCloseTo(normalize(nz, q), 9); // scale-free
            expect(relErr(denormalize(nz, n, row), q * ref)).toBeLessThan(1e-6);
            expect(relErr(denormalize(nz, Math.fround(n), row), q * ref)).toBeLessThan(1e-5);
          }
        }
      });
      it(`${spec.name}: a reference below the floor ${nz.floor} is the floor (below it the answer no longer scales)`, () => {
        const row = new Float64Array(12);
        row[nz.of] = nz.floor / 10;
        expect(denormalize(nz, 0.5, row)).toBeCloseTo(denormalize(nz, 0.5) * nz.floor, 9);
      });
    } else if (nz.type === 'constant') {
      it(`${spec.name} (constant): every value normalizes to 0`, () => {
        for (const x of [0, 1, 23, 17520, 1e9]) expect(normalize(nz, x)).toBe(0);
      });
    } else if (nz.type === 'linear') {
      it(`${spec.name} (linear ${nz.min}..${nz.max}): 2001 points, error < 1e-6 of the range (float64 and float32)`, () => {
        const span = nz.max - nz.min;
        for (let i = 0; i <= 2000; i++) {
          const x = nz.min + (span * i) / 2000;
          const n = normalize(nz, x);
          expect(Math.abs(denormalize(nz, n) - x)).toBeLessThan(1e-6 * span);
          expect(Math.abs(denormalize(nz, Math.fround(n)) - x)).toBeLessThan(1e-6 * span);
        }
      });
    } else if (nz.type === 'odds') {
      it(`${spec.name} (odds): x in 0..1000 back to < 1e-9 relative (float64); x in 0..10 to < 1e-5 (float32)`, () => {
        expect(denormalize(nz, normalize(nz, 0))).toBe(0);
        for (const x of geometric(1e-4, 1000, 801)) expect(relErr(denormalize(nz, normalize(nz, x)), x)).toBeLessThan(1e-9);
        for (const x of geometric(1e-4, 10, 801)) expect(relErr(denormalize(nz, Math.fround(normalize(nz, x))), x)).toBeLessThan(1e-5);
      });
    } else {
      it(`${spec.name} (signed-odds): x in −1000..1000 back to < 1e-9 relative (float64); float32: < 1e-5 relative for 0.01 ≤ |x| ≤ 10, < 1e-7 absolute below`, () => {
        // Around x = 0, n ≈ 0.5 + x/2 sits where float32 steps are 2^-24 = 6e-8, so x is kept to ~6e-8
        // ABSOLUTE (a trend of 0.0000001 per day): relative precision only from |x| ≈ 0.01 (6e-6) up.
        expect(denormalize(nz, normalize(nz, 0))).toBe(0);
        for (const m of geometric(1e-4, 1000, 801)) {
          for (const x of [m, -m]) expect(relErr(denormalize(nz, normalize(nz, x)), x)).toBeLessThan(1e-9);
        }
        for (const m of geometric(1e-2, 10, 801)) {
          for (const x of [m, -m]) expect(relErr(denormalize(nz, Math.fround(normalize(nz, x))), x)).toBeLessThan(1e-5);
        }
        for (const m of geometric(1e-6, 1e-2, 401)) {
          for (const x of [m, -m]) expect(Math.abs(denormalize(nz, Math.fround(normalize(nz, x))) - x)).toBeLessThan(1e-7);
        }
      });
    }
  }

  it('normalizeOutputs → denormalizeOutputs gives the real outputs back (float32 storage), as multiples of the row\'s scales', () => {
    // 0.25 cores request, 1.5 cores limit, 512 MiB request, 1 GiB limit, confidence 0.8; scales cpu_p99 0.8
    // cores, mem_p99 900 MiB, mem_p50 300 MiB (below the request: the request floor does not bind)
    const inputs = [0.1, 0.5, 0.8, 300 * MiB, 800 * MiB, 900 * MiB, 0.5, 0, 0, 12, 3, 100];
    const n = normalizeOutputs([0.25, 1.5, 512 * MiB, GiB, 0.8], inputs);
    const r = denormalizeOutputs(n, 0, inputs);
    expect(relErr(r.cpuRequestCores, 0.25)).toBeLessThan(1e-6);
    expect(relErr(r.cpuLimitCores, 1.5)).toBeLessThan(1e-6);
    expect(relErr(r.memRequestBytes, 512 * MiB)).toBeLessThan(1e-6);
    expect(relErr(r.memLimitBytes, GiB)).toBeLessThan(1e-6);
    expect(r.confidence).toBeCloseTo(0.8, 6);
    // offset: the same 5 values placed after 3 others
    const padded = new Float32Array(8);
    normalizeOutputs([0.25, 1.5, 512 * MiB, GiB, 0.8], inputs, padded, 3);
    expect(denormalizeOutputs(padded, 3, inputs)).toEqual(r);
    // the memory request is never below mem_p50, the window's median daily peak
    const busy = [...inputs];
    busy[3] = 700 * MiB;
    expect(denormalizeOutputs(n, 0, busy).memRequestBytes).toBe(700 * MiB);
  });
});

describe('relative precision: the log scale keeps it everywhere, a linear min-max map does not', () => {
  for (const spec of ALL.filter((s) => s.normalization.type === 'log')) {
    const nz = spec.normalization as Extract<Normalization, { type: 'log' }>;
    it(`${spec.name}: adjacent float32 values of n are < 1e-5 apart in x (relative), from n = 0 to 1`, () => {
      // x(n') / x(n) − 1 = (max/min)^(n' − n) − 1 ≈ ln(max/min)·(n' − n); the largest float32 step below 1
      // is 2^-24 = 5.96e-8, so the worst ratio is ln(max/min)·2^-24 ≈ 5.2e-7 (CPU) .. 5.8e-7 (age)
      let worst = 0;
      for (let i = 0; i < 10000; i++) {
        const f = Math.fround(i / 10000);
        const x0 = denormalize(nz, f);
        const x1 = denormalize(nz, nextFloat32Up(f));
        worst = Math.max(worst, x1 / x0 - 1);
      }
      expect(worst).toBeLessThan(1e-5);
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(Math.log(nz.max / nz.min) * 2 ** -24 * 1.01);
    });
  }

  it('a fixed error δ in n costs δ·ln(max/min) relative on the log scale, but δ·(max − min)/x on a linear one', () => {
    const log: Normalization = { type: 'log', ...CPU_RANGE };
    const lin: Normalization = { type: 'linear', ...CPU_RANGE };
    // δ = 1/255 (an 8-bit step, the module comment's example):
    //   linear: one step is 63.99/255 = 0.2509 cores: at 10m that is 25× the value itself
    //   log:    one step multiplies x by 6400^(1/255) = e^(8.764/255) = 1.0350: 3.5% at 10m and at 64 cores
    const step = 1 / 255;
    const linAt10m = denormalize(lin, normalize(lin, 0.01) + step) - 0.01;
    expect(linAt10m).toBeCloseTo(0.2509, 4);
    expect(linAt10m / 0.01).toBeGreaterThan(25);
    const logAt10m = denormalize(log, normalize(log, 0.01) + step) / 0.01 - 1;
    const logAt64 = 1 - denormalize(log, normalize(log, 64) - step) / 64;
    expect(logAt10m).toBeCloseTo(0.035, 3);
    expect(1 / (1 - logAt64) - 1).toBeCloseTo(logAt10m, 9); // the same ratio at both ends
    // δ = 1e-6 (a small model error in n):
    //   log:    8.764e-6 relative at 10m and at 64 cores (< 1e-5)
    //   linear: 63.99e-6 cores absolute → 6.4e-3 relative at 10m (640× worse), 1.0e-6 at 64 cores
    const d = 1e-6;
    const logRel = denormalize(log, normalize(log, 0.01) + d) / 0.01 - 1;
    const linRel10m = denormalize(lin, normalize(lin, 0.01) + d) / 0.01 - 1;
    const linRel64 = 1 - denormalize(lin, normalize(lin, 64) - d) / 64;
    expect(logRel).toBeCloseTo(8.764e-6, 8);
    expect(logRel).toBeLessThan(1e-5);
    expect(linRel10m).toBeCloseTo(6.399e-3, 6);
    expect(linRel10m).toBeGreaterThan(1e-5);
    expect(linRel64).toBeCloseTo(1.0e-6, 8);
  });
});

describe('clamping below min and above max', () => {
  const cpu: Normalization = { type: 'log', ...CPU_RANGE };
  const mem: Normalization = { type: 'log', ...MEM_RANGE };
  const hour: Normalization = { type: 'linear', min: 0, max: 23 };

  it('log: 1 millicore, 0 and −1 cores → 0; 100 cores → 1; 1 MiB → 0; 1 TiB → 1', () => {
    expect(normalize(cpu, 0.001)).toBe(0);
    expect(normalize(cpu, 0)).toBe(0);
    expect(normalize(cpu, -1)).toBe(0);
    expect(normalize(cpu, 100)).toBe(1);
    expect(normalize(mem, MiB)).toBe(0);
    expect(normalize(mem, 1024 * GiB)).toBe(1);
  });

  it('linear: hour −1 → 0, 30 → 1', () => {
    expect(normalize(hour, -1)).toBe(0);
    expect(normalize(hour, 30)).toBe(1);
  });

  it('denormalize clamps n first: −0.5 → min, 1.5 → max', () => {
    expect(denormalize(cpu, -0.5)).toBe(0.01);
    expect(denormalize(cpu, 1.5)).toBeCloseTo(64, 9);
    expect(denormalize(hour, -0.5)).toBe(0);
    expect(denormalize(hour, 1.5)).toBe(23);
  });
});

describe('worked examples from the module comments', () => {
  it('CPU: ln(64/0.01) = ln 6400 = 8.764; 0.25 cores → ln 25 / 8.764 = 3.2189/8.764 = 0.3673', () => {
    const cpu: Normalization = { type: 'log', ...CPU_RANGE };
    expect(Math.log(64 / 0.01)).toBeCloseTo(8.764, 3);
    expect(normalize(cpu, 0.25)).toBeCloseTo(0.3673, 4);
    expect(normalize(cpu, 0.01)).toBe(0);
    expect(normalize(cpu, 64)).toBeCloseTo(1, 12);
  });

  it('memory: 32 MiB · 2^k → k/13 exactly (256 GiB / 32 MiB = 2^13): 1 GiB = 2^5 → 5/13 = 0.384615', () => {
    const mem: Normalization = { type: 'log', ...MEM_RANGE };
    expect(normalize(mem, GiB)).toBeCloseTo(5 / 13, 12);
    expect(normalize(mem, 64 * MiB)).toBeCloseTo(1 / 13, 12);
    expect(normalize(mem, 256 * GiB)).toBeCloseTo(1, 12);
  });

  it('ratio: 2 GiB against mem_p99 4 GiB on 1/64..64 → ln 32 / ln 4096 = 0.4167; 8 GiB against 16 GiB gives the same', () => {
    const spec: Normalization = { type: 'ratio', of: 5, floor: MiB, min: 1 / 64, max: 64 };
    const row = [0, 0, 0, 0, 0, 4 * GiB, 0, 0, 0, 0, 0, 0];
    expect(normalize(spec, 2 * GiB, row)).toBeCloseTo(Math.log(32) / Math.log(4096), 12);
    expect(normalize(spec, 2 * GiB, row)).toBeCloseTo(0.4167, 4);
    expect(normalize(spec, 8 * GiB, row.map((x) => 4 * x))).toBeCloseTo(0.4167, 4);
    expect(denormalize(spec, 0.5, row)).toBeCloseTo(4 * GiB, 0); // 4 GiB · (1/64) · 4096^0.5 = 4 GiB
  });

  it('odds: 0 → 0, 1 → 0.5, 3 → 0.75; inverse n/(1 − n): 0.75 → 3, 0.5 → 1; n = 1 → Infinity', () => {
    const odds: Normalization = { type: 'odds' };
    expect(normalize(odds, 0)).toBe(0);
    expect(normalize(odds, 1)).toBe(0.5);
    expect(normalize(odds, 3)).toBe(0.75);
    expect(normalize(odds, -2)).toBe(0); // a negative ratio cannot happen; it maps to 0
    expect(denormalize(odds, 0.75)).toBe(3);
    expect(denormalize(odds, 0.5)).toBe(1);
    expect(denormalize(odds, 1)).toBe(Infinity);
  });

  it('signed-odds: −1 → 0.25, 0 → 0.5, 1 → 0.75, 3 → 0.875, −3 → 0.125; inverse by cases; ends → ±Infinity', () => {
    const so: Normalization = { type: 'signed-odds' };
    expect(normalize(so, -1)).toBe(0.25);
    expect(normalize(so, 0)).toBe(0.5);
    expect(normalize(so, 1)).toBe(0.75);
    expect(normalize(so, 3)).toBe(0.875); // 0.5 + 0.5 · 3/4
    expect(normalize(so, -3)).toBe(0.125);
    // s = 2(n − 0.5), x = s / (1 − |s|): 0.875 → s 0.75 → 3; 0.125 → s −0.75 → −3; 0.25 → s −0.5 → −1
    expect(denormalize(so, 0.875)).toBe(3);
    expect(denormalize(so, 0.125)).toBe(-3);
    expect(denormalize(so, 0.25)).toBe(-1);
    expect(denormalize(so, 0.5)).toBe(0);
    expect(denormalize(so, 1)).toBe(Infinity);
    expect(denormalize(so, 0)).toBe(-Infinity);
  });
});

describe('units: converters and Kubernetes quantity strings', () => {
  it('millicoresFromCores(0.25) = 250, coresFromMillicores(250) = 0.25', () => {
    expect(millicoresFromCores(0.25)).toBe(250);
    expect(coresFromMillicores(250)).toBe(0.25);
    expect(KiB).toBe(1024);
    expect(MiB).toBe(1048576);
    expect(GiB).toBe(1073741824);
  });

  it('cpuQuantity: 250 → "250m", 2000 → "2", 1000 → "1", 1500 → "1500m"', () => {
    expect(cpuQuantity(250)).toBe('250m');
    expect(cpuQuantity(2000)).toBe('2');
    expect(cpuQuantity(1000)).toBe('1');
    expect(cpuQuantity(1500)).toBe('1500m');
  });

  it('cpuQuantity rounds up: 250.2 → "251m", 0.1 → "1m", 1999.5 → "2"; float noise 250.0000000001 stays "250m"', () => {
    expect(cpuQuantity(250.2)).toBe('251m');
    expect(cpuQuantity(0.1)).toBe('1m');
    expect(cpuQuantity(1999.5)).toBe('2');
    expect(cpuQuantity(250.0000000001)).toBe('250m');
    expect(cpuQuantity(millicoresFromCores(0.1 + 0.2))).toBe('300m'); // 300.00000000000006
  });

  it('memoryQuantity: 512 MiB → "512Mi", 2 GiB → "2Gi", 1536 KiB → "1536Ki" (not 1.5Mi), 1 TiB → "1Ti"', () => {
    expect(memoryQuantity(512 * MiB)).toBe('512Mi');
    expect(memoryQuantity(2 * GiB)).toBe('2Gi');
    expect(memoryQuantity(1536 * KiB)).toBe('1536Ki');
    expect(memoryQuantity(1024 * GiB)).toBe('1Ti');
    expect(memoryQuantity(1536 * MiB)).toBe('1536Mi');
  });

  it('memoryQuantity rounds up to whole bytes and falls back to plain bytes: 1000.2 → "1001", 1023.5 → "1Ki", 1000 → "1000"', () => {
    expect(memoryQuantity(1000.2)).toBe('1001');
    expect(memoryQuantity(1023.5)).toBe('1Ki');
    expect(memoryQuantity(1000)).toBe('1000');
    expect(memoryQuantity(512 * MiB + 1)).toBe(String(512 * MiB + 1));
  });
});
