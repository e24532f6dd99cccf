/**
 * agent-options: configuration in three steps: defaults (npm start serves ./manifest.json on
 * 127.0.0.1:8080), then RESOURCE_AGENT_* variables, then flags (a flag beats its variable), then one
 * validation that names the flag and the variable to fix.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AGENT_DEFAULTS, envName, flagName, parseOptions, policyOf } from '../resource-agent/options.js';
import type { AgentOptions } from '../resource-agent/options.js';
import { REPO } from './helpers/env.js';

const run = (argv: string[], env: Record<string, string> = {}): AgentOptions => {
  const r = parseOptions(argv, env);
  if (!('options' in r)) throw new Error('expected options');
  return r.options;
};
const fails = (argv: string[], env: Record<string, string> = {}) => () => parseOptions(argv, env);

describe('agent options', () => {
  it('defaults: the repo-root manifest, 127.0.0.1:8080, admin off, 10m / 32Mi minimums, no caps', () => {
    const o = run([]);
    expect(o).toEqual(AGENT_DEFAULTS);
    expect(o.manifest).toBe(resolve(REPO, 'manifest.json'));
    expect([o.host, o.port, o.adminTokenFile, o.logLevel, o.maxBatchItems]).toEqual(['127.0.0.1', 8080, null, 'info', 10_000]);
    expect(policyOf(o)).toEqual({ minCpuMillicores: 10, minMemoryBytes: 33554432, maxCpuMillicores: null, maxMemoryBytes: null });
  });

  it('flag and variable names derive from the option: adminTokenFile ⇔ --admin-token-file ⇔ RESOURCE_AGENT_ADMIN_TOKEN_FILE', () => {
    expect(flagName('adminTokenFile')).toBe('admin-token-file');
    expect(envName('adminTokenFile')).toBe('RESOURCE_AGENT_ADMIN_TOKEN_FILE');
  });

  it('variables override defaults and flags override variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crp-opt-'));
    const token = join(dir, 'token');
    writeFileSync(token, 's3cret\n');
    const o = run(['--port', '9001', '--no-docs', '--max-cpu-millicores', '4000'], {
      RESOURCE_AGENT_PORT: '9000',
      RESOURCE_AGENT_HOST: '0.0.0.0',
      RESOURCE_AGENT_LOG_LEVEL: 'debug',
      RESOURCE_AGENT_ADMIN_TOKEN_FILE: token,
      RESOURCE_AGENT_MANIFEST: join(dir, 'manifest.json'),
      RESOURCE_AGENT_MAX_MEMORY_BYTES: String(8 * 1024 ** 3),
      RESOURCE_AGENT_DOCS: 'true',
    });
    expect([o.port, o.host, o.logLevel, o.adminTokenFile, o.manifest, o.docs]).toEqual([9001, '0.0.0.0', 'debug', token, join(dir, 'manifest.json'), false]);
    expect([o.maxCpuMillicores, o.maxMemoryBytes]).toEqual([4000, 8589934592]);
  });

  it('--family is a comma-separated list of registered families; unset (null) serves every registered family the manifest names', () => {
    expect(run([]).family).toBeNull();
    expect(run(['--family', 'container-resources']).family).toEqual(['container-resources']);
    expect(run([], { RESOURCE_AGENT_FAMILY: ' container-resources ' }).family).toEqual(['container-resources']);
    expect(run([], { RESOURCE_AGENT_FAMILY: '' }).family).toBeNull();
    expect(fails(['--family', 'no-such-family'])).toThrow(/^--family \(RESOURCE_AGENT_FAMILY\): 'no-such-family' is not a registered model family \(registered: container-resources[,)]/);
    expect(fails(['--family', 'container-resources,container-resources'])).toThrow('--family (RESOURCE_AGENT_FAMILY): names a family twice');
  });

  it('--help returns the help text with every flag and its variable', () => {
    const r = parseOptions(['--help'], {});
    expect('help' in r).toBe(true);
    const text = (r as { help: string }).help;
    for (const f of ['--manifest PATH', '--host TEXT', '--port N', '--admin-token-file PATH', '--log-level LEVEL', 'RESOURCE_AGENT_MANIFEST']) expect(text).toContain(f);
  });

  it('EXPECTED FAILURE - bad values name the flag (or variable) and the fix', () => {
    expect(fails(['--port', 'http'])).toThrow("--port: 'http' is not a whole number");
    expect(fails([], { RESOURCE_AGENT_PORT: 'x' })).toThrow("RESOURCE_AGENT_PORT: 'x' is not a whole number");
    expect(fails(['--port', '70000'])).toThrow('--port (RESOURCE_AGENT_PORT): is 70000; use 0..65535');
    expect(fails(['--log-level', 'loud'])).toThrow(/'loud' is not a log level; use one of fatal, error/);
    expect(fails(['--bogus'])).toThrow(/Unknown argument: bogus/);
    expect(fails(['--port'])).toThrow(/Not enough arguments following: port/);
    expect(fails(['--manifest', '/nonexistent-dir/manifest.json'])).toThrow('--manifest (RESOURCE_AGENT_MANIFEST): its folder /nonexistent-dir does not exist');
    expect(fails(['--admin-token-file', '/nonexistent-token'])).toThrow(/--admin-token-file \(RESOURCE_AGENT_ADMIN_TOKEN_FILE\): the admin token file \/nonexistent-token cannot be read \(ENOENT\)/);
    expect(fails(['--max-cpu-millicores', '5'])).toThrow('--max-cpu-millicores (RESOURCE_AGENT_MAX_CPU_MILLICORES): is 5, below the minimum 10');
    expect(fails(['--poll-interval-ms', '10'])).toThrow(/use 0 \(off\) or 100..3600000/);
    expect(fails(['--port', '1', '--port', '2'])).toThrow('--port: given 2 times; give it once');
  });

  it('EXPECTED FAILURE - an empty admin token file is refused at start-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crp-opt-'));
    writeFileSync(join(dir, 'token'), '\n');
    expect(fails(['--admin-token-file', join(dir, 'token')])).toThrow(/token file .* is empty/);
  });
});
