/**
 * registry: the one list of usage sources. A new source is one file in src/sources/ implementing
 * UsageSource (types.ts) plus one line here; `--trace NAME` on the CLIs finds it.
 */
import type { UsageSource } from './types.js';
import { InputError } from '../util/errors.js';
import { bitbrains } from './bitbrains.js';
import { prometheus } from './prometheus.js';

export const SOURCES: readonly UsageSource[] = [
  bitbrains,
  prometheus,
];

/** getSource returns a registered source or throws naming the ones there are. */
export function getSource(name: string): UsageSource {
  const s = SOURCES.find((x) => x.name === name);
  if (!s) throw new InputError(`--trace ${name} is not a known usage source (known: ${SOURCES.map((x) => x.name).join(', ')})`);
  return s;
}
