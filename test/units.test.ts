/**
 * units: the converters' numbers, the Kubernetes quantities, and (checked by `tsc --noEmit`, which
 * `npm test` runs first) that the unit types do not mix: each `@ts-expect-error` line below must fail to
 * compile, or tsc reports the directive as unused. Plain numbers still flow into every unit without a cast.
 */
import { describe, expect, it } from 'vitest';
import { coresFromMillicores, cpuQuantity, GiB, KiB, memoryQuantity, MiB, millicoresFromCores } from '../src/core/units.js';
import type { Bytes, Cores, Millicores } from '../src/core/units.js';
import { roundCpuMillicores, roundMemoryBytes } from '../src/core/rounding.js';

/** Compile-time only: never called. */
export function unitsDoNotMix(bytes: Bytes, millicores: Millicores, cores: Cores): void {
  const takesBytes = (b: Bytes) => b;
  const takesMillicores = (m: Millicores) => m;
  // @ts-expect-error Bytes → Millicores
  const m1: Millicores = bytes;
  // @ts-expect-error Millicores → Bytes
  const b1: Bytes = millicores;
  // @ts-expect-error Cores → Millicores (convert with millicoresFromCores)
  const m2: Millicores = cores;
  // @ts-expect-error Millicores passed where Bytes are wanted
  takesBytes(millicores);
  // @ts-expect-error Cores passed where Millicores are wanted
  takesMillicores(cores);
  // @ts-expect-error Millicores given to the memory rounding
  roundMemoryBytes(millicores);
  // @ts-expect-error Bytes given to the CPU quantity
  cpuQuantity(bytes);
  // Plain numbers and the named converters need no cast.
  const b2: Bytes = 5 * MiB;
  const m3: Millicores = millicoresFromCores(cores);
  const m4: Millicores = 250;
  void [m1, b1, m2, b2, m3, m4];
}

describe('units', () => {
  it('converts cores and millicores: 0.25 cores = 250m, 1500m = 1.5 cores', () => {
    expect(millicoresFromCores(0.25)).toBe(250);
    expect(coresFromMillicores(1500)).toBe(1.5);
    expect(coresFromMillicores(millicoresFromCores(2))).toBe(2);
  });

  it('binary sizes: KiB 1024, MiB 1,048,576, GiB 1,073,741,824', () => {
    expect([KiB, MiB, GiB]).toEqual([1024, 1_048_576, 1_073_741_824]);
  });

  it('renders Kubernetes quantities: whole cores, millicores rounded up, the largest exact binary unit', () => {
    expect([cpuQuantity(2000), cpuQuantity(250), cpuQuantity(248.1)]).toEqual(['2', '250m', '249m']);
    expect([memoryQuantity(512 * MiB), memoryQuantity(2 * GiB), memoryQuantity(1536 * KiB), memoryQuantity(1000)]).toEqual(['512Mi', '2Gi', '1536Ki', '1000']);
  });

  it('rounds on the documented steps: 11m → 15m, 1001m → 1100m; 33.2Mi → 34Mi, 1Gi + 1 byte → 1088Mi', () => {
    expect([roundCpuMillicores(11), roundCpuMillicores(1001)]).toEqual([15, 1100]);
    expect([roundMemoryBytes(33.2 * MiB), roundMemoryBytes(GiB + 1)]).toEqual([34 * MiB, 1088 * MiB]);
  });
});
