import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { bitbrains, loadBitbrainsDir, parseBitbrains, TraceParseError } from '../src/sources/bitbrains.js';
import { summarizeReport } from '../src/sources/types.js';

const STRICT = { strict: true };
import { SHARED_DATA, need } from './helpers/env.js';

/** The shared trace folder sits beside the repo: <repo>/../shared/data/bitbrains. */
const DATA_DIR = path.join(SHARED_DATA, 'bitbrains');

const HEADER =
  'Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\t' +
  'Memory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t' +
  'Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork transmitted throughput [KB/s]';
const ROW1 = '1372629804;\t2;\t5851.9989;\t87.7799835;\t1.5;\t8218624.0;\t1034592.8;\t160.86;\t21.73;\t0.26;\t1.46';
const ROW2 = '1372630104;\t2;\t5851.9989;\t29.259994499999998;\t0.5;\t8388608.0;\t458575.4666666667;\t0.0;\t2.33;\t0.2;\t1.0';
const ROW3 = '1372630404;\t2;\t5851.9989;\t27.309328199999996;\t0.46;\t8388608.0;\t184548.0;\t32.06;\t4.2;\t0.13;\t1.06';

/** csv joins lines with '\n' and ends with the trailing newline every GWA-T-12 file has. */
const csv = (...lines: string[]) => lines.join('\n') + '\n';

/** thrown runs f and returns the TraceParseError it throws. */
function thrown(f: () => unknown): TraceParseError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TraceParseError);
    return e as TraceParseError;
  }
  throw new Error('expected a TraceParseError');
}

describe('parseBitbrains', () => {
  it('converts MHz to cores, KB to bytes, and keeps timestamps as epoch seconds', () => {
    const vm = parseBitbrains(csv(HEADER, ROW1, ROW2, ROW3), 'vm1');
    expect(vm.name).toBe('vm1');
    expect([...vm.timestampsSec]).toEqual([1372629804, 1372630104, 1372630404]);
    // MHz per core = 5851.9989 / 2 = 2925.99945; 87.7799835 MHz / 2925.99945 = 0.0300000 cores
    expect(vm.cpuCores[0]).toBeCloseTo(87.7799835 / 2925.99945, 12);
    expect(vm.cpuCores[0]).toBeCloseTo(0.03, 6);
    // 29.2599945 MHz / 2925.99945 = 0.0100000 cores
    expect(vm.cpuCores[1]).toBeCloseTo(0.01, 6);
    // 1034592.8 KB × 1024 = 1 059 423 027.2 B
    expect(vm.memoryBytes[0]).toBeCloseTo(1_059_423_027.2, 3);
    expect(vm.memoryBytes[2]).toBe(184548 * 1024);
    // provisioned: 2 cores; memory capacity is 8388608 KB in 2 rows of 3 (the mode) → × 1024 = 8 GiB
    expect(vm.provisioned).toEqual({ cpuCores: 2, memoryBytes: 8 * 1024 ** 3 });
    expect(vm.report).toMatchObject({ rows: 3, samples: 3, skipped: {}, merged: 0, reordered: 0, gaps: 0 });
  });

  it('accepts a file without the trailing newline and with CRLF line ends', () => {
    const vm = parseBitbrains([HEADER, ROW1, ROW2].join('\r\n'), 'vm1');
    expect(vm.timestampsSec.length).toBe(2);
  });

  it('repeated timestamp: merges the rows, CPU averaged and memory the maximum, and counts it (also in strict mode)', () => {
    const dup = ROW2.replace('1372630104', '1372629804');
    for (const strict of [false, true]) {
      const vm = parseBitbrains(csv(HEADER, ROW1, dup, ROW3), 'vm1', 'vm1', { strict });
      expect(vm.timestampsSec.length).toBe(2);
      expect(vm.cpuCores[0]).toBeCloseTo((0.03 + 0.01) / 2, 6); // mean of 0.03 and 0.01 cores
      expect(vm.memoryBytes[0]).toBeCloseTo(1034592.8 * 1024, 3); // max(1034592.8, 458575.47) KB
      expect(vm.report.merged).toBe(1);
    }
  });

  it('dirty rows are skipped and counted by reason, never a refusal of the whole file', () => {
    const off = ROW2.replace(';\t2;', ';\t0;').replace('1372630104', '1372630704');
    const offCapacity = ROW2.replace('5851.9989', '0').replace('1372630104', '1372631004');
    const short = '1372631304;\t2;\t5851.9989';
    const bad = ROW2.replace('458575.4666666667', 'n/a').replace('1372630104', '1372631604');
    // ROW3 before ROW2: out of time order, sorted back; a 2-hour gap after ROW3.
    const late = ROW1.replace('1372629804', '1372638000');
    const vm = parseBitbrains(csv(HEADER, ROW1, ROW3, ROW2, off, offCapacity, '', short, bad, late), 'vm1', 'vm1.csv');
    expect([...vm.timestampsSec]).toEqual([1372629804, 1372630104, 1372630404, 1372638000]);
    expect(vm.report.skipped).toEqual({ 'switched off': 2, blank: 1, malformed: 1, 'invalid value': 1 });
    expect(vm.report).toMatchObject({ rows: 9, samples: 4, reordered: 1, gaps: 1, longestGapSec: 1372638000 - 1372630404 });
    expect(vm.report.examples[0]).toEqual({ line: 5, reason: 'switched off: column "CPU cores" is "0", expected a number > 0 (the VM is switched off in this row); delete the row' });
    expect(summarizeReport(vm.report)).toBe('vm1.csv: 9 rows → 4 samples; skipped 2 switched off, 1 blank, 1 malformed, 1 invalid value; sorted 1 rows out of time order; 1 gaps (longest 2.1 h)');
  });

  it('a file whose VM is always off gives an empty trace, not an error', () => {
    const vm = parseBitbrains(csv(HEADER, ROW1.replace(';\t2;', ';\t0;')), 'vm9');
    expect(vm.timestampsSec.length).toBe(0);
    expect(vm.provisioned).toBeNull();
    expect(vm.report.skipped).toEqual({ 'switched off': 1 });
  });

  // --strict: the first bad row refuses the file, naming the file, the line, the column and the fix.
  it('EXPECTED FAILURE - strict: a row with too few fields names the file and the line', () => {
    const e = thrown(() => parseBitbrains(csv(HEADER, ROW1, '1372630104;\t2;\t5851.9989', ROW3), 'vm1', 'data/vm1.csv', STRICT));
    expect(e.file).toBe('data/vm1.csv');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^data\/vm1\.csv:3: expected 11 fields .* found 3/);
    expect(e.message).toMatch(/repair or delete it/);
  });

  it('EXPECTED FAILURE - a non-numeric value names the column', () => {
    const e = thrown(() => parseBitbrains(csv(HEADER, ROW1, ROW2.replace('458575.4666666667', 'n/a')), 'vm1', 'vm1', STRICT));
    expect(e.line).toBe(3);
    expect(e.field).toBe('Memory usage [KB]');
    expect(e.message).toContain('column "Memory usage [KB]" is "n/a"');
  });

  it('EXPECTED FAILURE - a negative or empty value is rejected', () => {
    expect(thrown(() => parseBitbrains(csv(HEADER, ROW1.replace('87.7799835', '-1')), 'vm1', 'vm1', STRICT)).field).toBe('CPU usage [MHZ]');
    expect(thrown(() => parseBitbrains(csv(HEADER, ROW1.replace('87.7799835', '')), 'vm1', 'vm1', STRICT)).field).toBe('CPU usage [MHZ]');
    expect(thrown(() => parseBitbrains(csv(HEADER, ROW1.replace(';\t2;', ';\t0;')), 'vm1', 'vm1', STRICT)).field).toBe('CPU cores');
  });

  it('EXPECTED FAILURE - rows out of time order, an empty line inside, a missing header column', () => {
    const e = thrown(() => parseBitbrains(csv(HEADER, ROW2, ROW1), 'vm1', 'vm1', STRICT));
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/sort the rows/);
    expect(thrown(() => parseBitbrains(csv(HEADER, ROW1, '', ROW2), 'vm1', 'vm1', STRICT)).line).toBe(3);
    const h = thrown(() => parseBitbrains(csv(HEADER.replace('Memory usage [KB]', 'Mem'), ROW1), 'vm1'));
    expect(h.line).toBe(1);
    expect(h.field).toBe('Memory usage [KB]');
  });
});

// need() skips with a reason on a user's machine but throws in CI, where ../shared/data must be present.
const sharedMissing = need('shared-data');
describe.skipIf(!!sharedMissing)('loadBitbrainsDir on the shared GWA-T-12 traces', () => {
  it(`loads 10 VMs of ~8,250 rows in natural order (needs ${DATA_DIR})`, () => {
    const vms = loadBitbrainsDir(DATA_DIR);
    expect(vms.map((v) => v.name)).toEqual(['vm1', 'vm2', 'vm3', 'vm4', 'vm5', 'vm6', 'vm7', 'vm8', 'vm9', 'vm10']);
    for (const vm of vms) {
      expect(vm.timestampsSec.length).toBeGreaterThan(8200);
      expect(vm.timestampsSec.length).toBeLessThan(8300);
      // 5-minute rows over July 2013: ~30 days
      const spanDays = (vm.timestampsSec[vm.timestampsSec.length - 1]! - vm.timestampsSec[0]!) / 86400;
      expect(spanDays).toBeGreaterThan(29);
      expect(spanDays).toBeLessThan(31);
      expect(vm.provisioned!.cpuCores).toBeGreaterThanOrEqual(1);
      // usage never exceeds what was provisioned (1 % slack for capacity changes mid-trace)
      expect(Math.max(...vm.cpuCores)).toBeLessThanOrEqual(vm.provisioned!.cpuCores * 1.01);
      expect(Math.max(...vm.memoryBytes)).toBeLessThanOrEqual(vm.provisioned!.memoryBytes * 1.01);
      expect(Math.min(...vm.cpuCores, ...vm.memoryBytes)).toBeGreaterThanOrEqual(0);
    }
    const vm1 = vms[0]!;
    expect(vm1.provisioned).toEqual({ cpuCores: 2, memoryBytes: 8388608 * 1024 }); // 8 GiB, the mode (7 962 of 8 260 rows)
    const sorted = Float64Array.from(vm1.memoryBytes).sort();
    const medianGiB = sorted[sorted.length >> 1]! / 1024 ** 3;
    expect(medianGiB).toBeGreaterThan(0.8); // SOURCE.txt: 0.85 GiB median use
    expect(medianGiB).toBeLessThan(0.9);
  });
});

describe.skipIf(!!sharedMissing)('the 250 gzipped VMs, dirt included', () => {
  const DIR250 = path.join(SHARED_DATA, 'bitbrains-250');
  it('reads vm20 (switched off from line 4,478 on) and counts what it skipped; --strict refuses it', () => {
    const lines: string[] = [];
    const [vm20] = bitbrains.read([path.join(DIR250, 'vm20.csv.gz')], { log: (l) => lines.push(l) });
    expect(vm20!.report.skipped['switched off']).toBeGreaterThan(1000);
    expect(vm20!.timestampsSec.length).toBeGreaterThan(4000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^.*vm20\.csv\.gz: [\d,]+ rows → [\d,]+ samples; skipped [\d,]+ switched off/);
    expect(() => bitbrains.read([path.join(DIR250, 'vm20.csv.gz')], { strict: true })).toThrow(/vm20\.csv\.gz:4478: column "CPU cores" is "0"/);
  });
});
