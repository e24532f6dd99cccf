/**
 * retrain-deploy: the nightly retraining CronJob (deploy/retrain, in overlays/pvc-store-retrain) and its
 * image (resource-agent/Dockerfile.trainer). The CronJob as written and the whole overlay as
 * `kubectl kustomize` renders it validate against the Kubernetes schemas (npm kubernetes-models); then:
 * nightly, one run at a time, never retried, a deadline; the same pod hardening as the agent (non-root,
 * read-only root filesystem, all capabilities dropped, RuntimeDefault seccomp, no service account token);
 * it mounts the agent's claim as /store and runs retrain with --promote against /store/manifest.json and
 * the agent's Prometheus (the generated config map, by its hashed name); its heap cap is below its memory
 * limit; deploy/image names its image. The trainer Dockerfile copies only what its allow-list lets in.
 * On the ConfigMap store (overlays/configmap-store-retrain) the same CronJob writes the store's ConfigMap
 * through the Kubernetes API: its own ServiceAccount (the agents' has no Role), a Role that allows get and
 * update of exactly that ConfigMap (resourceNames, no other verb or resource), the store's ConfigMap with
 * one fixed name the Role, the agents' volume and the CronJob's --configmap all use, no store volume in the
 * CronJob. Without kubectl the rendering tests skip with the reason (CI fails instead).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { REPO } from './helpers/env.js';
import { kubectl, parseYaml, validateAll } from './helpers/kube.js';

const DEPLOY = join(REPO, 'resource-agent', 'deploy');
/** checkCronJob: the properties of the module header. */
function checkCronJob(cj: InstanceType<typeof CronJob>, config: string, image: string): void {
  const spec = cj.spec!;
  expect(spec.schedule).toBe('30 2 * * *');
  expect(spec.concurrencyPolicy).toBe('Forbid');
  expect(spec.jobTemplate.spec!.backoffLimit).toBe(0);
  expect(spec.jobTemplate.spec!.activeDeadlineSeconds).toBe(10800);
  const pod = spec.jobTemplate.spec!.template.spec!;
  expect(pod.restartPolicy).toBe('Never');
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
  expect(pod.containers).toHaveLength(1);
  const c = pod.containers[0]!;
  expect(c.image).toBe(image);
  expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
  expect(c.args).toEqual(expect.arrayContaining(['--prometheus=$(RESOURCE_AGENT_PROMETHEUS)', '--manifest=/store/manifest.json', '--promote']));
  expect(c.envFrom).toEqual([{ configMapRef: { name: config } }]);
  // the heap cap (MiB) is below the memory limit (2Gi)
  const heap = Number(c.args!.find((a) => a.startsWith('--max-old-space-size='))!.split('=')[1]);
  expect(c.resources!.limits!.memory).toBe('2Gi');
  expect(heap * 2 ** 20).toBeLessThan(2 * 2 ** 30);
  const mounts = Object.fromEntries(c.volumeMounts!.map((m) => [m.name, m.mountPath]));
  expect(mounts).toEqual({ store: '/store', work: '/work', tmp: '/tmp' });
  expect(c.args).toContain('--work-dir=/work');
  expect(pod.volumes!.find((v) => v.name === 'store')!.persistentVolumeClaim!.claimName).toBe('resource-agent-store');
}

describe('the retraining CronJob', () => {
  it('validates as written (no kubectl needed)', () => {
    const objs = parseYaml(readFileSync(join(DEPLOY, 'retrain', 'cronjob.yaml'), 'utf8'), 'retrain/cronjob.yaml');
    expect(objs.map((o) => o.kind)).toEqual(['CronJob']);
    validateAll(objs);
    checkCronJob(objs[0] as unknown as InstanceType<typeof CronJob>, 'resource-agent-config', 'resource-agent-trainer');
  });

  it('kubectl kustomize overlays/pvc-store-retrain renders the agent on its claim and the CronJob on the same claim, every object valid', (ctx) => {
    const reason = kubectl();
    if (reason) ctx.skip(reason);
    const objs = parseYaml(execFileSync('kubectl', ['kustomize', join(DEPLOY, 'overlays/pvc-store-retrain')], { encoding: 'utf8' }), 'kubectl kustomize overlays/pvc-store-retrain');
    validateAll(objs);
    const config = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('resource-agent-config-'))!.metadata.name;
    const cj = objs.find((o) => o.kind === 'CronJob') as unknown as InstanceType<typeof CronJob>;
    expect(cj.metadata!.namespace).toBe('resource-agent');
    checkCronJob(cj, config, 'resource-agent-trainer:0.1.0');
    const dep = objs.find((o) => o.kind === 'Deployment') as unknown as InstanceType<typeof Deployment>;
    expect(dep.spec!.template.spec!.volumes!.find((v) => v.name === 'store')!.persistentVolumeClaim!.claimName).toBe('resource-agent-store');
    expect(objs.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name)).toEqual(['resource-agent-store']);
  });
});

describe('the retraining CronJob on the ConfigMap store (overlays/configmap-store-retrain)', () => {
  it('kubectl kustomize renders every object valid; the CronJob may get and update the store\'s ConfigMap and nothing else', (ctx) => {
    const reason = kubectl();
    if (reason) ctx.skip(reason);
    const objs = parseYaml(execFileSync('kubectl', ['kustomize', join(DEPLOY, 'overlays/configmap-store-retrain')], { encoding: 'utf8' }), 'kubectl kustomize overlays/configmap-store-retrain');
    validateAll(objs);
    const of = (kind: string) => objs.filter((o) => o.kind === kind);
    // the store's ConfigMap keeps its plain name (no content hash) so that the Role can name it
    const store = of('ConfigMap').find((o) => o.metadata.name.startsWith('resource-agent-store'))!;
    expect(store.metadata.name).toBe('resource-agent-store');
    expect(Object.keys((store as unknown as { data: Record<string, string> }).data)).toContain('manifest.json');
    const dep = of('Deployment')[0] as unknown as InstanceType<typeof Deployment>;
    expect(dep.spec!.template.spec!.volumes!.find((v) => v.name === 'store')!.configMap!.name).toBe('resource-agent-store');
    // the agents: their own ServiceAccount, no token; the CronJob: its own, with a token
    expect(dep.spec!.template.spec!.serviceAccountName).toBe('resource-agent');
    expect(dep.spec!.template.spec!.automountServiceAccountToken).toBe(false);
    const role = of('Role') as unknown as InstanceType<typeof Role>[];
    expect(role).toHaveLength(1);
    expect(role[0]!.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['resource-agent-store'], verbs: ['get', 'update'] }]);
    const binding = of('RoleBinding') as unknown as InstanceType<typeof RoleBinding>[];
    expect(binding).toHaveLength(1);
    expect(binding[0]!.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role[0]!.metadata!.name });
    expect(binding[0]!.subjects).toEqual([{ kind: 'ServiceAccount', name: 'resource-agent-retrain', namespace: 'resource-agent' }]);
    expect(of('ServiceAccount').map((o) => o.metadata.name).sort()).toEqual(['resource-agent', 'resource-agent-retrain']);
    const cj = of('CronJob')[0] as unknown as InstanceType<typeof CronJob>;
    const pod = cj.spec!.jobTemplate.spec!.template.spec!;
    expect(pod.serviceAccountName).toBe('resource-agent-retrain');
    expect(pod.automountServiceAccountToken).toBe(true);
    const c = pod.containers[0]!;
    expect(c.image).toBe('resource-agent-trainer:0.1.0');
    expect(c.args).toEqual(expect.arrayContaining(['--prometheus=$(RESOURCE_AGENT_PROMETHEUS)', '--configmap=resource-agent-store', '--promote', '--work-dir=/work']));
    expect(c.args!.some((a) => a.startsWith('--manifest'))).toBe(false);
    // no store volume: the store comes from the API, into the work folder
    expect(pod.volumes!.map((v) => v.name).sort()).toEqual(['tmp', 'work']);
    expect(c.volumeMounts!.map((m) => m.mountPath).sort()).toEqual(['/tmp', '/work']);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(cj.spec!.schedule).toBe('30 2 * * *');
    expect(cj.spec!.concurrencyPolicy).toBe('Forbid');
  });
});

describe('Dockerfile.trainer', () => {
  const text = readFileSync(join(REPO, 'resource-agent', 'Dockerfile.trainer'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('builds on the agent image, adds TensorFlow.js and the two commands, runs retrain as PID 1, copies only what its allow-list lets in', () => {
    expect(lines.filter((l) => /^FROM\s/.test(l))).toEqual(['FROM ${AGENT_IMAGE}']);
    expect(lines).toContain('COPY node_modules/@tensorflow ./node_modules/@tensorflow');
    expect(lines.find((l) => l.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["node", "--import", "tsx", "retrain.ts"]');
    // no USER line: it keeps the agent image's user 1000
    expect(lines.some((l) => /^USER\s/.test(l))).toBe(false);
    const allow = readFileSync(join(REPO, 'resource-agent', 'Dockerfile.trainer.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const copied = lines.filter((l) => /^COPY\s/.test(l) && !l.includes('--from')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const c of copied) expect(allow, c).toContain(c);
  });
});
