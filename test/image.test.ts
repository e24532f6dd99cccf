/**
 * image: `npm run image` builds the agent's OCI image with buildah from scratch (no Docker daemon, no base
 * image pulled), and podman starts the image's own entrypoint as the Deployment runs it (user 1000, read-only
 * root filesystem, every capability dropped, no privilege escalation, /tmp a tmpfs): /readyz is 200 on the
 * store shipped in the image, a raw usage window is answered, SIGTERM stops it cleanly; and the pvc-store
 * overlay's init container script, read from its YAML, seeds an empty volume with that store.
 * Needs root, buildah, podman and busybox-static (need('image'); .ci/run installs them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { need, REPO } from './helpers/env.js';
import { freePort } from './helpers/prometheus.js';

const skip = need('image');
const TAG = `resource-agent-test:${process.pid}`;
const NAME = `resource-agent-test-${process.pid}`;

/**
 * RUN_FLAGS: how the test starts the container. Hybrid cgroups (v1 controllers plus an empty cgroup2
 * mount, as on this CI machine) are refused by crun, Debian's default runtime; runc handles them. podman
 * raises the open-files and process limits by default, which a root without CAP_SYS_RESOURCE (this CI's
 * sandbox) may not: ask for limits under the usual ones instead.
 */
function runFlags(): string[] {
  const hybrid = existsSync('/sys/fs/cgroup/unified') && !existsSync('/sys/fs/cgroup/cgroup.controllers');
  return [...(hybrid ? ['--runtime', 'runc'] : []), '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
}

/** SECURE: the Deployment's container securityContext, as podman flags. */
const SECURE = ['--user', '1000:1000', '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];

function podman(args: string[]): string {
  return execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}


describe.skipIf(skip !== '')(`npm run image${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let built: { tag: string; id: string; node: string; debian: Record<string, string> };

  beforeAll(() => {
    // what `npm run image -- --tag …` runs
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'resource-agent/image/build.ts', '--tag', TAG], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run image failed (${r.status}): ${r.stderr}`);
    built = JSON.parse(r.stdout.trim().split('\n').pop()!);
  });

  afterAll(() => {
    spawnSync('podman', ['rm', '-f', NAME], { stdio: 'ignore' });
    spawnSync('podman', ['rmi', '-f', TAG], { stdio: 'ignore' });
  });

  it('is built from scratch: one layer, node as PID 1 running the agent as user 1000, the Debian packages it holds named', () => {
    expect(built.tag).toBe(TAG);
    const cfg = JSON.parse(podman(['image', 'inspect', TAG]))[0] as { Config: { User: string; Entrypoint: string[]; Cmd: string[]; WorkingDir: string; Labels: Record<string, string> }; RootFS: { Layers: string[] } };
    expect(cfg.RootFS.Layers).toHaveLength(1);
    expect(cfg.Config.User).toBe('1000:1000');
    expect(cfg.Config.Entrypoint).toEqual(['/usr/bin/node', '--import', 'tsx', 'resource-agent/main.ts']);
    expect(cfg.Config.Cmd).toEqual(['--host', '0.0.0.0']);
    expect(cfg.Config.WorkingDir).toBe('/app');
    expect(cfg.Config.Labels['org.opencontainers.image.base.name']).toBe('scratch');
    expect(cfg.Config.Labels['io.container-resource-predictor.node']).toBe(process.version);
    expect(Object.keys(built.debian).sort()).toEqual(expect.arrayContaining(['libc6', 'libgcc-s1', 'libstdc++6']));
  });

  it('its entrypoint serves the shipped store: /readyz 200, a raw window answered, GET / to the dashboard; SIGTERM ends it with 0', async () => {
    const port = await freePort();
    // --network host: the agent listens on 127.0.0.1 of this machine (no bridge, no port mapping needed)
    podman(['run', '-d', '--name', NAME, '--network', 'host', ...runFlags(), ...SECURE, TAG, '--host', '127.0.0.1', '--port', String(port)]);
    const base = `http://127.0.0.1:${port}`;
    type Ready = { status: number; body: { ready: boolean; serving: string } };
    let ready: Ready | null = null;
    for (let i = 0; i < 240 && ready?.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const state = podman(['inspect', '--format', '{{.State.Status}}', NAME]);
      if (state !== 'running') throw new Error(`the container stopped (${state}): ${spawnSync('podman', ['logs', NAME], { encoding: 'utf8' }).stderr}`);
      ready = await fetch(`${base}/readyz`).then(async (r): Promise<Ready> => ({ status: r.status, body: (await r.json()) as Ready['body'] }), () => null);
    }
    expect(ready?.status).toBe(200);
    const manifest = JSON.parse(readFileSync(join(REPO, 'manifest.json'), 'utf8')) as { families: Record<string, { active: string }> };
    expect(ready!.body.serving).toBe(manifest.families['container-resources']!.active);

    // a raw usage window of 3 days at 5 minutes: the features are computed in the image, as in the repository
    const n = 864;
    const t0 = 1_748_736_000;
    const window = {
      timestampsSec: Array.from({ length: n }, (_, i) => t0 + 300 * i),
      cpuCores: Array.from({ length: n }, (_, i) => 0.2 + 0.1 * Math.sin(i / 20)),
      memoryBytes: Array.from({ length: n }, (_, i) => 300e6 + 50e6 * Math.sin(i / 50)),
    };
    const r = await fetch(`${base}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ container: 'api', window }) });
    const answer = (await r.json()) as { modelVersion: string; memory: { request: { bytes: number } } };
    expect(r.status).toBe(200);
    expect(answer.modelVersion).toBe(ready!.body.serving);
    // the memory request is never below the window's median daily peak (≥ 300 MB here)
    expect(answer.memory.request.bytes).toBeGreaterThanOrEqual(300e6);

    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/ui']);

    podman(['stop', '--time', '30', NAME]);
    expect(podman(['inspect', '--format', '{{.State.ExitCode}}', NAME])).toBe('0');
  });

  it("the pvc-store init container's script (from its YAML) seeds an empty volume with the image's store, and leaves a seeded one alone", () => {
    const k = parse(readFileSync(join(REPO, 'resource-agent/deploy/overlays/pvc-store/writable/kustomization.yaml'), 'utf8')) as { patches: { patch: string }[] };
    const init = (parse(k.patches[0]!.patch) as { spec: { template: { spec: { initContainers: { name: string; command: string[] }[] } } } }).spec.template.spec.initContainers.find((c) => c.name === 'seed-store')!;
    const store = mkdtempSync(join(tmpdir(), 'image-store-'));
    try {
      execFileSync('chown', ['1000:1000', store]);
      const seed = () => podman(['run', '--rm', '--network', 'none', ...runFlags(), ...SECURE, '-v', `${store}:/store`, '--entrypoint', init.command[0]!, TAG, ...init.command.slice(1)]);
      expect(seed()).toBe('store seeded from the image');
      const repoManifest = readFileSync(join(REPO, 'manifest.json'), 'utf8');
      expect(readFileSync(join(store, 'manifest.json'), 'utf8')).toBe(repoManifest);
      const files = Object.values((JSON.parse(repoManifest) as { families: Record<string, { versions: { file: string }[] }> }).families).flatMap((f) => f.versions.map((v) => v.file));
      for (const f of files) expect(readFileSync(join(store, f)).equals(readFileSync(join(REPO, f))), f).toBe(true);
      expect(readdirSync(store).sort()).toEqual(['manifest.json', 'models']);
      expect(seed()).toBe('store has a manifest; leaving it');
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });
});
