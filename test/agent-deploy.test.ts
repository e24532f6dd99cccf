/**
 * agent-deploy: the Kubernetes manifests and the Dockerfile. Every object is validated against the
 * Kubernetes OpenAPI schemas (npm kubernetes-models), once as written (each YAML file parsed directly)
 * and once as `kubectl kustomize resource-agent/deploy` renders it (skipped, with the reason, when
 * kubectl is absent). Then the properties the issue asks for: 2 replicas, probes on /readyz and
 * /healthz, requests and limits, non-root, read-only root filesystem, all capabilities dropped, no
 * privilege escalation, a Secret reference, a ServiceAccount without a token, a PDB, a PVC; the Service
 * and PDB select the pods; a multi-stage, non-root Dockerfile with production dependencies only.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { REPO } from './helpers/env.js';
import { kubectl, parseYaml, validateAll } from './helpers/kube.js';
import type { Obj } from './helpers/kube.js';
import { createHash } from 'node:crypto';
import { CONFIGMAP_BUDGET_BYTES } from '../src/store/configmap.js';

const DEPLOY = join(REPO, 'resource-agent', 'deploy');

/** checkRendered: the properties the issue lists, on the objects kustomize renders. */
function checkRendered(objs: Obj[], store: 'configmap' | 'pvc'): void {
  const byKind = (k: string) => objs.filter((o) => o.kind === k);
  // the default overlay has no PersistentVolumeClaim: its store is a second ConfigMap
  expect(objs.map((o) => o.kind).sort()).toEqual(store === 'pvc' ? ['ConfigMap', 'Deployment', 'Namespace', 'NetworkPolicy', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service', 'ServiceAccount'] : ['ConfigMap', 'ConfigMap', 'Deployment', 'Namespace', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  for (const o of objs) if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind} namespace`).toBe('resource-agent');

  const d = byKind('Deployment')[0] as unknown as InstanceType<typeof Deployment>;
  const spec = d.spec!;
  const pod = spec.template.spec!;
  const podLabels = spec.template.metadata!.labels!;
  expect(spec.replicas).toBe(2);
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(pod.serviceAccountName).toBe('resource-agent');
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
  const containers: IContainer[] = [...(pod.initContainers ?? []), ...pod.containers];
  for (const c of containers) {
    expect(c.securityContext, c.name).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.cpu && c.resources.limits.memory, `${c.name} requests and limits`).toBeTruthy();
    expect(c.image).toBe('resource-agent:0.1.0');
  }
  const agent = pod.containers.find((c) => c.name === 'agent')!;
  expect(agent.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
  expect(agent.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
  expect(agent.args).toEqual(expect.arrayContaining(['--host=0.0.0.0', '--manifest=/store/manifest.json']));

  // The admin token: only the writable store has admin calls, so only the pvc overlay mounts the Secret
  // (referenced, never created: its value never lives in git); the default overlay needs no Secret.
  const secretVols = pod.volumes!.filter((v) => v.secret);
  const tokenEnv = agent.env?.find((e) => e.name === 'RESOURCE_AGENT_ADMIN_TOKEN_FILE');
  expect(agent.args!.some((a) => a.startsWith('--admin-token-file'))).toBe(false);
  if (store === 'pvc') {
    expect(secretVols).toHaveLength(1);
    expect(secretVols[0]!.secret).toMatchObject({ secretName: 'resource-agent-admin', items: [{ key: 'token', path: 'token' }] });
    expect(agent.volumeMounts!.find((m) => m.name === secretVols[0]!.name)).toMatchObject({ mountPath: '/var/run/secrets/resource-agent', readOnly: true });
    expect(tokenEnv?.value).toBe('/var/run/secrets/resource-agent/token');
  } else {
    expect(secretVols).toEqual([]);
    expect(tokenEnv).toBeUndefined();
  }
  expect(byKind('Secret')).toHaveLength(0);

  // The store (a PVC, or the generated store ConfigMap with its hashed name, mounted read-only) and the
  // generated settings ConfigMap are the ones the pod uses.
  const storeVol = pod.volumes!.find((v) => v.name === 'store')!;
  const storeMount = agent.volumeMounts!.find((m) => m.name === 'store')!;
  expect(storeMount.mountPath).toBe('/store');
  if (store === 'pvc') {
    const pvc = byKind('PersistentVolumeClaim')[0]!;
    expect(storeVol.persistentVolumeClaim!.claimName).toBe(pvc.metadata.name);
    expect(pod.initContainers!.map((c) => c.name)).toEqual(['seed-store']);
  } else {
    const storeCm = byKind('ConfigMap').find((o) => o.metadata.name.startsWith('resource-agent-store-'))! as Obj & { data: Record<string, string>; binaryData: Record<string, string> };
    expect(storeCm.metadata.name).toMatch(/^resource-agent-store-[a-z0-9]{10}$/);
    expect(storeVol.configMap!.name).toBe(storeCm.metadata.name);
    expect(storeMount.readOnly).toBe(true);
    expect(pod.initContainers ?? []).toEqual([]);
    // manifest.json as text, every model it retains as binaryData, byte for byte the store folder's
    const m = JSON.parse(storeCm.data['manifest.json']!) as { families: Record<string, { active: string; versions: { file: string; sha256: string }[] }> };
    const files = Object.values(m.families).flatMap((f) => f.versions);
    expect(Object.keys(storeCm.binaryData).sort()).toEqual(files.map((v) => v.file).sort());
    for (const v of files) expect(createHash('sha256').update(Buffer.from(storeCm.binaryData[v.file]!, 'base64')).digest('hex'), v.file).toBe(v.sha256);
    const size = Buffer.byteLength(storeCm.data['manifest.json']!) + Object.values(storeCm.binaryData).reduce((n, b) => n + Buffer.from(b, 'base64').length, 0);
    expect(size).toBeLessThan(CONFIGMAP_BUDGET_BYTES);
  }
  const cm = byKind('ConfigMap').find((o) => o.metadata.name.startsWith('resource-agent-config-'))!;
  expect(cm.metadata.name).toMatch(/^resource-agent-config-[a-z0-9]{10}$/);
  expect(agent.envFrom![0]!.configMapRef!.name).toBe(cm.metadata.name);
  expect(Object.keys(cm.data as object).filter((k) => k.startsWith('RESOURCE_AGENT_'))).toContain('RESOURCE_AGENT_LOG_LEVEL');

  const sa = byKind('ServiceAccount')[0]!;
  expect([sa.metadata.name, sa.automountServiceAccountToken]).toEqual(['resource-agent', false]);
  // The Service and the PDB select exactly the pods.
  const svc = byKind('Service')[0] as { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } } & Obj;
  const pdb = byKind('PodDisruptionBudget')[0] as { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } } & Obj;
  for (const sel of [svc.spec.selector, pdb.spec.selector.matchLabels, spec.selector.matchLabels!]) for (const [k, v] of Object.entries(sel)) expect(podLabels[k], k).toBe(v);
  expect(svc.spec.ports[0]!.targetPort).toBe('http');
  expect(pdb.spec.minAvailable).toBe(1);
}

describe('Kubernetes manifests', () => {
  it('every YAML file parses and each object validates against the Kubernetes schema (no kubectl needed)', () => {
    const BASE = join(DEPLOY, 'base');
    const files = readdirSync(BASE).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    const kustomization = parseYaml(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8'), 'kustomization.yaml')[0] as unknown as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    const objs = [...files.map((f) => join(BASE, f)), join(DEPLOY, 'overlays/pvc-store/pvc.yaml')].flatMap((f) => parseYaml(readFileSync(f, 'utf8'), f));
    validateAll(objs);
  });

  // deploy/ itself is the default overlay (configmap-store)
  for (const [dir, store] of [['', 'configmap'], ['overlays/configmap-store', 'configmap'], ['overlays/pvc-store', 'pvc']] as const) {
    it(`kubectl kustomize ${dir || 'deploy'} renders objects that validate and have the required properties (${store} store)`, (ctx) => {
      const reason = kubectl();
      if (reason) ctx.skip(reason);
      const out = execFileSync('kubectl', ['kustomize', join(DEPLOY, dir)], { encoding: 'utf8' });
      const objs = parseYaml(out, 'kubectl kustomize');
      validateAll(objs);
      checkRendered(objs, store);
    });
  }
});

describe('the image is set in one place', () => {
  // deploy/image is a component every overlay includes last: a registry image set there names every
  // container that runs the agent's image, the pvc-store overlay's init container included (issue 22:
  // it used to keep rendering resource-agent:0.1.0).
  it('a new name and tag in deploy/image/kustomization.yaml reach every container of both overlays', (ctx) => {
    const reason = kubectl();
    if (reason) ctx.skip(reason);
    const root = mkdtempSync(join(tmpdir(), 'deploy-image-'));
    const tmp = join(root, 'resource-agent', 'deploy');
    try {
      // the default overlay takes the store's ConfigMap from models/ (the view beside the model files)
      cpSync(DEPLOY, tmp, { recursive: true });
      cpSync(join(DEPLOY, '..', '..', 'models'), join(root, 'models'), { recursive: true });
      const file = join(tmp, 'image', 'kustomization.yaml');
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/newName: resource-agent\n\s+newTag: "0\.1\.0"/);
      writeFileSync(file, text.replace('newName: resource-agent', 'newName: registry.example.com/team/resource-agent').replace('newTag: "0.1.0"', 'newTag: "9.9.9"'));
      for (const dir of ['', 'overlays/configmap-store', 'overlays/pvc-store']) {
        const objs = parseYaml(execFileSync('kubectl', ['kustomize', join(tmp, dir)], { encoding: 'utf8' }), dir);
        const pod = (objs.find((o) => o.kind === 'Deployment') as unknown as InstanceType<typeof Deployment>).spec!.template.spec!;
        const images = [...(pod.initContainers ?? []), ...pod.containers].map((c) => `${c.name}=${c.image}`);
        expect(images, dir || 'deploy').toEqual(dir === 'overlays/pvc-store' ? ['seed-store=registry.example.com/team/resource-agent:9.9.9', 'agent=registry.example.com/team/resource-agent:9.9.9'] : ['agent=registry.example.com/team/resource-agent:9.9.9']);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('no other kustomization sets an image', () => {
    const files = execFileSync('find', [DEPLOY, '-name', 'kustomization.yaml'], { encoding: 'utf8' }).trim().split('\n');
    const setting = files.filter((f) => /^images:/m.test(readFileSync(f, 'utf8'))).map((f) => f.slice(DEPLOY.length + 1));
    expect(setting).toEqual(['image/kustomization.yaml']);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(REPO, 'resource-agent', 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('is multi-stage, installs production dependencies only and runs as a non-root user', () => {
    expect(lines.filter((l) => /^FROM\s/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(lines.some((l) => /^COPY --from=deps \/app\/node_modules/.test(l))).toBe(true);
    const users = lines.filter((l) => /^USER\s/.test(l));
    expect(users).toHaveLength(1);
    expect(users[0]).toMatch(/^USER\s+1000(:1000)?$/);
    // the last stage's entrypoint is node itself, so SIGTERM reaches the agent
    expect(lines.find((l) => l.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["node", "--import", "tsx", "resource-agent/main.ts"]');
  });

  it('its build-context allow-list admits everything it copies, and nothing from data/ or training', () => {
    const ignore = readFileSync(join(REPO, 'resource-agent', 'Dockerfile.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const copied = lines.filter((l) => /^COPY\s/.test(l) && !l.includes('--from')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const c of copied) expect(ignore.some((i) => i === c || i === c + '/' || (i.endsWith('/') && c.startsWith(i))), c).toBe(true);
    expect(ignore.some((i) => i.startsWith('data') || i.includes('weights.bin'))).toBe(false);
  });
});
