/**
 * select: the trace selector of --vms. "1-150" keeps traces whose name ends in a number from 1 to 150
 * (vm1 … vm150); "1-150,201,vm7" mixes ranges, numbers and whole names. Used to split VMs, never windows:
 * train on 1-150, choose on 151-200, report on 201-250.
 */
import { InputError } from '../util/errors.js';

/** parseSelector returns a predicate over trace names. parseSelector('1-3,vm9')('vm2') === true. */
export function parseSelector(spec: string, flag = '--vms'): (name: string) => boolean {
  const ranges: [number, number][] = [];
  const names = new Set<string>();
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m) {
      const a = Number(m[1]);
      const b = m[2] === undefined ? a : Number(m[2]);
      if (b < a) throw new InputError(`${flag} ${spec}: the range ${part} runs backwards; write ${b}-${a}`);
      ranges.push([a, b]);
    } else if (/^[\w.\-/]+$/.test(part)) {
      names.add(part);
    } else {
      throw new InputError(`${flag} ${spec}: '${part}' is neither a number, a range like 1-150, nor a trace name`);
    }
  }
  if (!ranges.length && !names.size) throw new InputError(`${flag} is empty; give e.g. 1-150`);
  return (name: string) => {
    if (names.has(name)) return true;
    const m = /(\d+)$/.exec(name);
    if (!m) return false;
    const k = Number(m[1]);
    return ranges.some(([a, b]) => k >= a && k <= b);
  };
}
