/**
 * registry: the one list of model families. Adding a family is one folder under src/families/ and one
 * line in FAMILIES below; every CLI (--family), the store and the agent find it here (the agent also
 * finds a family's hooks here: registeredOf).
 */
import type { ModelFamily } from '../core/family.js';
import { InputError } from '../util/errors.js';
import { containerResources } from './container-resources/index.js';
import { jobMemory } from './job-memory/index.js';

/**
 * FAMILIES: every registered family; the first is the default. job-memory stands for all its members
 * (job-memory/<data set>): each is read from its model file, none is listed here.
 */
export const FAMILIES: readonly ModelFamily[] = [
  containerResources,
  jobMemory,
];

export const DEFAULT_FAMILY_NAME = FAMILIES[0]!.name;

/** parentOf: the registered family whose members are named `<its name>/…` that `name` belongs to, if any. */
export function parentOf(name: string, families: readonly ModelFamily[] = FAMILIES): ModelFamily | undefined {
  return families.find((x) => x.member && name.startsWith(`${x.name}/`) && name.length > x.name.length + 1);
}

/**
 * registeredOf: the registered family `name` is, or is a member of (job-memory/bowtie2 → job-memory), or
 * undefined. The agent reads a family's hooks (workloads, replay, reports) from its served family object,
 * else from here.
 */
export function registeredOf(name: string, families: readonly ModelFamily[] = FAMILIES): ModelFamily | undefined {
  return families.find((x) => x.name === name) ?? parentOf(name, families);
}

/** isFamilyName: a registered family, or a member of one (job-memory/<any data set>). */
export function isFamilyName(name: string): boolean {
  return FAMILIES.some((x) => x.name === name) || parentOf(name) !== undefined;
}

/**
 * getFamily returns a registered family, or the CLI entry of a member of one (job-memory/bowtie2), or
 * throws an InputError naming the ones there are.
 */
export function getFamily(name: string = DEFAULT_FAMILY_NAME): ModelFamily {
  const f = FAMILIES.find((x) => x.name === name) ?? parentOf(name)?.member!(name);
  if (!f) throw new InputError(`--family ${name} is not a registered model family (registered: ${FAMILIES.map((x) => (x.member ? `${x.name}, ${x.name}/<data set>` : x.name)).join(', ')})`);
  return f;
}
