/**
 * cli-family: the one reader of --family (util/cli.ts familyArg) that train, validate and search use before
 * their own flags: both spellings, the default, and an unknown name refused by the registry naming the
 * registered families.
 */
import { describe, expect, it } from 'vitest';
import { familyArg } from '../src/util/cli.js';
import { getFamily } from '../src/families/registry.js';

describe('familyArg', () => {
  it('reads --family NAME and --family=NAME, anywhere among the flags', () => {
    expect(familyArg('container-resources', ['--data', 'x.csv', '--family', 'job-memory/bowtie2'])).toBe('job-memory/bowtie2');
    expect(familyArg('container-resources', ['--family=job-memory', '--data', 'x.csv'])).toBe('job-memory');
  });

  it('gives the default when the flag is absent or has no value', () => {
    expect(familyArg('container-resources', ['--data', 'x.csv'])).toBe('container-resources');
    expect(familyArg('container-resources', ['--family'])).toBe('container-resources');
    expect(familyArg('container-resources', ['--family='])).toBe('container-resources');
    expect(familyArg(undefined, ['--data', 'x.csv'])).toBeUndefined();
  });

  it('EXPECTED FAILURE - an unknown name is refused by the registry, which names the registered families', () => {
    expect(() => getFamily(familyArg('container-resources', ['--family', 'nope']))).toThrow(/--family nope is not a registered model family \(registered: container-resources.*job-memory/);
  });
});
