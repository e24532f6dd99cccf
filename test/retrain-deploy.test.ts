/**
 * retrain-deploy: the nightly retraining CronJob (deploy/retrain, in overlays/pvc-store-retrain) and its
 * image (resource-agent/Dockerfile.trainer). The CronJob as written and the whole overlay as
 * `kubectl kustomize` renders it validate against the Kubernetes schemas (npm kubernetes-models); then:
 * nightly, one run at a time, never retried, a deadline; the same pod hardening as the agent (non-root,
 * read-only root filesystem, all capabilities dropped, RuntimeDefault seccomp, no service account token);
 * it mounts the agent's claim as /store and runs retrain with --promote against /store/manifest.json and
 * the agent's Prometheus (the generated config map, by its hashed name); its heap cap is below its memory
 * limit; deploy/image names its image. The trainer Dockerfile copies only what its allow-list lets in.
 * Without kubectl the rendering test skips with the reason (CI fails instead).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { REPO } from './helpers/env.js';

const DEPLOY = join(REPO, 'resource-agent', 'deploy');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const MODELS: Record<string, new (o: never) => { validate(): void }> = { CronJob, Deployment, Namespace, Service, ServiceAccount, ConfigMap, PersistentVolumeClaim, PodDisruptionBudget, NetworkPolicy };

const parse = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter((o) => o !== null);
function validateAll(objs: Obj[]): void {
  for (const o of objs) {
    expect(MODELS[o.kind], `no validator for kind ${o.kind}`).toBeDefined();
    expect(() => new MODELS[o.kind]!(o as never).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
  }
}

/** kubectl: '' when kubectl can render, else the reason to skip (in CI a missing kubectl is a failure). */
function kubectl(): string {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return '';
  } catch {
    const reason = 'kubectl is not installed (it is not in Debian; see https://kubernetes.io/docs/tasks/tools/)';
    if (process.env.CI) throw new Error(`${reason}: CI must render the manifests with kubectl kustomize`);
    return reason;
  }
}

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
    const objs = parse(readFileSync(join(DEPLOY, 'retrain', 'cronjob.yaml'), 'utf8'));
    expect(objs.map((o) => o.kind)).toEqual(['CronJob']);
    validateAll(objs);
    checkCronJob(objs[0] as unknown as InstanceType<typeof CronJob>, 'resource-agent-config', 'resource-agent-trainer');
  });

  it('kubectl kustomize overlays/pvc-store-retrain renders the agent on its claim and the CronJob on the same claim, every object valid', (ctx) => {
    const reason = kubectl();
    if (reason) ctx.skip(reason);
    const objs = parse(execFileSync('kubectl', ['kustomize', join(DEPLOY, 'overlays/pvc-store-retrain')], { encoding: 'utf8' }));
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
