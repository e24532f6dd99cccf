/**
 * kube: what the manifest tests share (test/agent-deploy.test.ts, test/retrain-deploy.test.ts): YAML
 * documents parsed into objects, every object validated against the Kubernetes OpenAPI schemas (npm
 * kubernetes-models), and whether kubectl is here to render the kustomize overlays.
 */
import { expect } from 'vitest';
import { execFileSync } from 'node:child_process';
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
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';

/** Obj: a Kubernetes object as parsed, read field by field by the tests. */
export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

/** MODELS: the class that validates each kind the deployment uses. */
const MODELS: Record<string, new (o: never) => { validate(): void }> = { CronJob, Deployment, Namespace, Service, ServiceAccount, ConfigMap, PersistentVolumeClaim, PodDisruptionBudget, NetworkPolicy, Role, RoleBinding };

/** parseYaml: the objects of a multi-document YAML text; a syntax error names `where` and the document. */
export function parseYaml(text: string, where: string): Obj[] {
  return parseAllDocuments(text).map((d, i) => {
    if (d.errors.length) throw new Error(`${where} document ${i}: ${d.errors[0]!.message}`);
    return d.toJS() as Obj;
  }).filter((o) => o !== null);
}

/** validateAll: every object has a validator for its kind and passes it (the error names the schema path). */
export function validateAll(objs: Obj[]): void {
  for (const o of objs) {
    const M = MODELS[o.kind];
    expect(M, `no validator for kind ${o.kind}`).toBeDefined();
    // kustomize folds binaryData's base64 into lines, which the API server (Go's base64) ignores
    const bin = (o as { binaryData?: Record<string, string> }).binaryData;
    const checked = bin ? { ...o, binaryData: Object.fromEntries(Object.entries(bin).map(([k, v]) => [k, v.replace(/\s+/g, '')])) } : o;
    expect(() => new M!(checked as never).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
  }
}

/** kubectl: '' when kubectl can render, else the reason to skip (in CI a missing kubectl is a failure). */
export function kubectl(): string {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return '';
  } catch {
    const reason = 'kubectl is not installed (it is not in Debian; see https://kubernetes.io/docs/tasks/tools/)';
    // CI runs on this project's machine image, which has kubectl: there a missing kubectl is a failure.
    if (process.env.CI) throw new Error(`${reason}: CI must render the manifests with kubectl kustomize`);
    return reason;
  }
}
