/**
 * registry: the one list of model families. Adding a family is one folder under src/families/ and one
 * line in FAMILIES below; every CLI (--family), the store and the agent find it here.
 */
import type { ModelFamily } from './types.js';
import { InputError } from '../util/errors.js';
import { containerResources } from './container-resources/index.js';
import { JOB_FAMILIES, jobMemory } from './job-memory/index.js';

/** FAMILIES: every registered family; the first is the default. */
export const FAMILIES: readonly ModelFamily[] = [
  containerResources,
  ...JOB_FAMILIES, jobMemory,
];

export const DEFAULT_FAMILY_NAME = FAMILIES[0]!.name;

/** getFamily returns a registered family or throws an InputError naming the ones there are. */
export function getFamily(name: string = DEFAULT_FAMILY_NAME): ModelFamily {
  const f = FAMILIES.find((x) => x.name === name);
  if (!f) throw new InputError(`--family ${name} is not a registered model family (registered: ${FAMILIES.map((x) => x.name).join(', ')})`);
  return f;
}
