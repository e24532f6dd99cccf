/**
 * kube-configmap: a retraining INSIDE the cluster on the read-only ConfigMap store (the default
 * deployment). The agents cannot write that store, so the retraining CronJob of
 * deploy/overlays/configmap-store-retrain does it through the Kubernetes API, with a ServiceAccount whose
 * Role allows `get` and `update` of that one ConfigMap (resourceNames) and nothing else:
 *
 *   read      GET the ConfigMap; its keys (manifest.json, the model files) become a store folder in the
 *             work folder, with the kustomization.yaml that makes export treat it as a ConfigMap store
 *             (flat, checked against the 900 KiB budget);
 *   retrain   as on any store (run.ts): the candidate is exported into that folder, decided, and
 *             promoted only when it is better;
 *   write     PUT the folder back as the ConfigMap (manifest.json as data, the models as binaryData),
 *             carrying the resourceVersion that was read: if anyone changed the ConfigMap in between (a
 *             `kubectl apply -k` from a checkout), the API server answers 409 and nothing is overwritten.
 *
 * The agents mount the ConfigMap as a volume; the kubelet swaps its `..data` link within its sync period
 * (about a minute) and the agents reload the manifest by themselves (resource-agent/watch.ts).
 * In a pod the API server, token and CA are the in-cluster ones (KUBERNETES_SERVICE_HOST/PORT and the
 * mounted service account files); tests give them explicitly.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { configMapStoreOf, writeKustomization } from '../store/configmap.js';
import { readManifest } from '../store/manifest.js';
import { UserError } from '../util/errors.js';

/** SA_DIR: where Kubernetes mounts a pod's service account token, CA and namespace. */
export const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** KubeAccess: how to reach the API server. */
export interface KubeAccess {
  /** https://10.96.0.1:443 (or http://… in tests) */
  api: string;
  token: string | null;
  ca: Buffer | null;
}

/** ConfigMapRef: namespace and name of the store's ConfigMap. */
export interface ConfigMapRef {
  namespace: string;
  name: string;
}

/** ConfigMapObject: the parts of a ConfigMap this module reads and writes back. */
export interface ConfigMapObject {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string; resourceVersion: string; [k: string]: unknown };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  [k: string]: unknown;
}

const readIf = (p: string | undefined) => (p && existsSync(p) ? readFileSync(p) : null);

/**
 * kubeAccess: the API server and credentials: the given ones, else the pod's own (in-cluster).
 * Example: in a pod with KUBERNETES_SERVICE_HOST=10.96.0.1 → { api: 'https://10.96.0.1:443', token, ca }.
 */
export function kubeAccess(o: { api?: string; tokenFile?: string; caFile?: string }, env: NodeJS.ProcessEnv = process.env): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const api = o.api ?? (host ? `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}` : undefined);
  if (!api) throw new UserError('--configmap needs the Kubernetes API: run it in a pod (KUBERNETES_SERVICE_HOST is set there), or give --kube-api URL with --kube-token-file');
  const token = readIf(o.tokenFile ?? join(SA_DIR, 'token'))?.toString('utf8').trim() ?? null;
  if (o.tokenFile && token === null) throw new UserError(`--kube-token-file ${o.tokenFile} does not exist`);
  const ca = readIf(o.caFile ?? (api.startsWith('https:') ? join(SA_DIR, 'ca.crt') : undefined));
  if (o.caFile && ca === null) throw new UserError(`--kube-ca-file ${o.caFile} does not exist`);
  return { api: api.replace(/\/+$/, ''), token, ca };
}

/** parseConfigMapRef: "NAME" (the pod's own namespace) or "NAMESPACE/NAME". */
export function parseConfigMapRef(s: string, defaultNamespace: () => string | null = () => readIf(join(SA_DIR, 'namespace'))?.toString('utf8').trim() ?? null): ConfigMapRef {
  const dns = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  const [a, b] = s.split('/');
  const ref = b === undefined ? { namespace: defaultNamespace() ?? '', name: a! } : { namespace: a!, name: b };
  if (!dns.test(ref.name) || s.split('/').length > 2) throw new UserError(`--configmap '${s}' is not NAME or NAMESPACE/NAME (lower-case letters, digits, '-' and '.')`);
  if (!dns.test(ref.namespace)) throw new UserError(`--configmap '${s}': no namespace; give NAMESPACE/NAME (outside a pod the service account's namespace file is missing)`);
  return ref;
}

/** call: one JSON request to the API server; rejects with what the status means for this use. */
function call(k: KubeAccess, method: 'GET' | 'PUT', ref: ConfigMapRef, body?: object): Promise<ConfigMapObject> {
  const url = new URL(`${k.api}/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/configmaps/${encodeURIComponent(ref.name)}`);
  const text = body ? JSON.stringify(body) : undefined;
  const headers: Record<string, string> = { accept: 'application/json', ...(k.token ? { authorization: `Bearer ${k.token}` } : {}), ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}) };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const what = `${method} ConfigMap ${ref.namespace}/${ref.name}`;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, ...(k.ca ? { ca: k.ca } : {}), timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const raw = Buffer.concat(chunks).toString('utf8');
        if (status === 200 || status === 201) {
          try {
            return resolve(JSON.parse(raw) as ConfigMapObject);
          } catch {
            return reject(new UserError(`${what}: the API server answered ${status} with no JSON`, 1));
          }
        }
        let message = raw.slice(0, 300);
        try {
          message = (JSON.parse(raw) as { message?: string }).message ?? message;
        } catch {
          // not a Status object
        }
        const fix =
          status === 401 ? 'the service account token was refused'
          : status === 403 ? `the service account may not ${method === 'GET' ? 'get' : 'update'} it: apply deploy/overlays/configmap-store-retrain, whose Role grants get and update of this one ConfigMap`
          : status === 404 ? 'it does not exist: --configmap must name the ConfigMap the agents mount as /store (resource-agent-store in the namespace of the deployment)'
          : status === 409 ? 'it was changed while this run retrained (a kubectl apply -k of another store?); nothing was overwritten: the next run retrains against the new store'
          : 'the API server refused it';
        reject(new UserError(`${what}: ${status} ${message}; ${fix}`, 1));
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (e) => reject(new UserError(`${what}: ${e.message} (the Kubernetes API at ${k.api})`, 1)));
    req.end(text);
  });
}

/** KEY: a ConfigMap key that is a plain file name (never a path, never the volume's own `..data`). */
const KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * fetchConfigMapStore GETs the ConfigMap and writes its keys into `dir` as a store folder; returns the
 * object as read (its resourceVersion is the one putConfigMapStore sends back).
 */
export async function fetchConfigMapStore(k: KubeAccess, ref: ConfigMapRef, dir: string): Promise<ConfigMapObject> {
  const cm = await call(k, 'GET', ref);
  const files: [string, Buffer][] = [...Object.entries(cm.data ?? {}).map(([key, v]) => [key, Buffer.from(v, 'utf8')] as [string, Buffer]), ...Object.entries(cm.binaryData ?? {}).map(([key, v]) => [key, Buffer.from(v, 'base64')] as [string, Buffer])];
  if (!files.some(([key]) => key === 'manifest.json')) throw new UserError(`ConfigMap ${ref.namespace}/${ref.name} has no manifest.json (keys: ${files.map(([key]) => key).join(', ') || 'none'}); --configmap must name the model store's ConfigMap`);
  mkdirSync(dir, { recursive: true });
  for (const [key, bytes] of files) {
    if (!KEY.test(key) || key.startsWith('..')) throw new UserError(`ConfigMap ${ref.namespace}/${ref.name} has a key '${key}' that is not a file name of a store`);
    writeFileSync(join(dir, key), bytes);
  }
  writeKustomization(join(dir, 'manifest.json'), readManifest(join(dir, 'manifest.json')));
  return cm;
}

/**
 * putConfigMapStore PUTs the store folder `dir` back as the ConfigMap read before (`cm`: its metadata,
 * resourceVersion included, and its other fields are kept): manifest.json as data, every model the
 * manifest retains as binaryData (verified, flat, within the budget: configMapStoreOf). Returns the new
 * resourceVersion.
 */
export async function putConfigMapStore(k: KubeAccess, ref: ConfigMapRef, cm: ConfigMapObject, dir: string): Promise<string> {
  const files = configMapStoreOf(join(dir, 'manifest.json'));
  const binaryData: Record<string, string> = {};
  for (const [key, bytes] of files) if (key !== 'manifest.json' && key !== 'kustomization.yaml') binaryData[key] = bytes.toString('base64');
  const next: ConfigMapObject = { ...cm, data: { 'manifest.json': files.get('manifest.json')!.toString('utf8') }, binaryData };
  const written = await call(k, 'PUT', ref, next);
  return written.metadata.resourceVersion;
}
