/**
 * retrain-configmap: `npm run retrain --configmap` (src/retrain/kube-configmap.ts), the in-cluster
 * retraining on the read-only ConfigMap store, run as a REAL child process with a real retraining (train.ts
 * child, 3 epochs on Bitbrains VMs 1–60), against a stand-in of the Kubernetes API: a real HTTP server that
 * holds one ConfigMap and answers GET and PUT as the API server does (bearer token required, 409 Conflict
 * when the PUT carries another resourceVersion than the stored one). No API server runs on this machine;
 * the RBAC that limits the CronJob to this one ConfigMap is checked in test/retrain-deploy.test.ts.
 *
 * What it checks:
 * - the run reads the ConfigMap (the shipped store's ConfigMap: v2.0.0 active), retrains, and PUTs the store
 *   back once, with the resourceVersion it read: manifest.json as data with the candidate 2.1.0 and its
 *   decided shadow record, every retained model as binaryData whose sha256 is the manifest's;
 * - a ConfigMap changed while the run retrained (the stand-in bumps resourceVersion after the GET, as a
 *   `kubectl apply -k` would) is not overwritten: exit 1, the message says so, the stored object is unchanged;
 * - a token without the Role's permission (403) fails before any work, naming the overlay that grants it.
 * Without ../shared/data the file skips with one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { need, SHARED_DATA } from './helpers/env.js';
import { retrainCli } from './helpers/retrain-cli.js';
import { copyStore } from './helpers/store-copy.js';
import { configMapStoreOf } from '../src/store/configmap.js';
import { checkManifest } from '../src/store/manifest.js';
import type { Manifest } from '../src/store/manifest.js';

const skip = need('shared-data');
const TOKEN = 'retrain-configmap-test-token';
const PATH = '/api/v1/namespaces/resource-agent/configmaps/resource-agent-store';

type ConfigMap = { apiVersion: string; kind: string; metadata: { name: string; namespace: string; resourceVersion: string; labels?: Record<string, string> }; data: Record<string, string>; binaryData: Record<string, string> };

/** StandIn: the stand-in API server's state and what it was asked. */
interface StandIn {
  url: string;
  server: Server;
  stored: ConfigMap;
  calls: { method: string; path: string; auth: string | undefined; body: ConfigMap | null }[];
  /** 'ok'; 'apply-between': bump resourceVersion after each GET; 'forbidden': 403 to everything */
  mode: 'ok' | 'apply-between' | 'forbidden';
}

/** shippedConfigMap: the shipped container model's store as a ConfigMap, as kustomize makes it (resourceVersion 100). */
function shippedConfigMap(dir: string): ConfigMap {
  const files = configMapStoreOf(join(dir, 'manifest.json'), ['container-resources']);
  const binaryData: Record<string, string> = {};
  for (const [k, b] of files) if (k !== 'manifest.json' && k !== 'kustomization.yaml') binaryData[k] = b.toString('base64');
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'resource-agent-store', namespace: 'resource-agent', resourceVersion: '100', labels: { 'app.kubernetes.io/name': 'resource-agent' } }, data: { 'manifest.json': files.get('manifest.json')!.toString('utf8') }, binaryData };
}

function startStandIn(stored: ConfigMap): Promise<StandIn> {
  const s: StandIn = { url: '', server: null as unknown as Server, stored, calls: [], mode: 'ok' };
  const status = (code: number, reason: string, message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
  s.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConfigMap) : null;
      s.calls.push({ method: req.method!, path: req.url!, auth: req.headers.authorization, body });
      const send = (code: number, text: string) => res.writeHead(code, { 'content-type': 'application/json' }).end(text);
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
      if (s.mode === 'forbidden') return send(403, status(403, 'Forbidden', `configmaps "resource-agent-store" is forbidden: User "system:serviceaccount:resource-agent:default" cannot ${req.method === 'GET' ? 'get' : 'update'} resource "configmaps" in API group "" in the namespace "resource-agent"`));
      if (req.url !== PATH) return send(404, status(404, 'NotFound', 'configmaps not found'));
      if (req.method === 'GET') {
        send(200, JSON.stringify(s.stored));
        if (s.mode === 'apply-between') s.stored = { ...s.stored, metadata: { ...s.stored.metadata, resourceVersion: String(Number(s.stored.metadata.resourceVersion) + 1) } };
        return;
      }
      if (req.method === 'PUT' && body) {
        if (body.metadata.resourceVersion !== s.stored.metadata.resourceVersion) return send(409, status(409, 'Conflict', 'Operation cannot be fulfilled on configmaps "resource-agent-store": the object has been modified; please apply your changes to the latest version and try again'));
        s.stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(Number(body.metadata.resourceVersion) + 1) } };
        return send(200, JSON.stringify(s.stored));
      }
      send(405, status(405, 'MethodNotAllowed', 'method not allowed'));
    });
  });
  return new Promise((resolve) => s.server.listen(0, '127.0.0.1', () => {
    s.url = `http://127.0.0.1:${(s.server.address() as { port: number }).port}`;
    resolve(s);
  }));
}

const cli = retrainCli;

describe.skipIf(skip)('retrain --configmap against a stand-in Kubernetes API', () => {
  let tmp: string;
  let store: string;
  let api: StandIn;
  let tokenFile: string;
  const common = () => ['--configmap', 'resource-agent/resource-agent-store', '--kube-api', api.url, '--kube-token-file', tokenFile, '--input', join(SHARED_DATA, 'bitbrains-250'), '--vms', '1-60'];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'crp-retrain-cm-'));
    store = copyStore(undefined, 'crp-retrain-cm-store-');
    tokenFile = join(tmp, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    api = await startStandIn(shippedConfigMap(store));
  });

  afterAll(async () => {
    if (api) await new Promise((r) => api.server.close(r));
    for (const d of [tmp, store]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('reads the ConfigMap, retrains, and writes the decided store back once with the resourceVersion it read', async () => {
    const r = await cli([...common(), '--epochs', '3', '--patience', '3', '--promote']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({ version: '2.1.0', against: '2.0.0', configMap: { name: 'resource-agent/resource-agent-store', resourceVersion: '101' } });
    expect(out.next).toMatch(/^written to ConfigMap resource-agent\/resource-agent-store \(resourceVersion 101\)/);
    // one GET, one PUT, both with the token; the PUT carries the resourceVersion that was read
    expect(api.calls.map((c) => `${c.method} ${c.path} ${c.auth}`)).toEqual([`GET ${PATH} Bearer ${TOKEN}`, `PUT ${PATH} Bearer ${TOKEN}`]);
    const put = api.calls[1]!.body!;
    expect(put.metadata).toMatchObject({ name: 'resource-agent-store', namespace: 'resource-agent', resourceVersion: '100', labels: { 'app.kubernetes.io/name': 'resource-agent' } });
    expect(Object.keys(put.data)).toEqual(['manifest.json']);
    const m: Manifest = checkManifest(JSON.parse(put.data['manifest.json']!), 'the PUT manifest.json');
    const fam = m.families['container-resources']!;
    expect(fam.active).toBe(out.active);
    const cand = fam.versions.find((v) => v.version === '2.1.0')!;
    expect(cand.shadow).toMatchObject({ state: 'decided', decision: out.decision, against: '2.0.0' });
    expect((cand.shadow as { rules: unknown[] }).rules).toHaveLength(10);
    // every model the manifest retains is in binaryData with the manifest's sha256; nothing else is
    const files = Object.values(m.families).flatMap((f) => f.versions);
    expect(Object.keys(put.binaryData).sort()).toEqual([...new Set(files.map((v) => v.file))].sort());
    for (const v of files) expect(createHash('sha256').update(Buffer.from(put.binaryData[v.file]!, 'base64')).digest('hex'), v.file).toBe(v.sha256);
    expect(api.stored.metadata.resourceVersion).toBe('101');
  }, 300_000);

  it('EXPECTED FAILURE - the ConfigMap changed while the run retrained: 409, nothing overwritten', async () => {
    // the candidate trained above, judged again without training (--candidate)
    const model = join(tmp, 'candidate.onnx');
    writeFileSync(model, Buffer.from(api.stored.binaryData['predictor_v2.1.0.onnx']!, 'base64'));
    const before = JSON.stringify({ data: api.stored.data, binaryData: api.stored.binaryData });
    api.calls.length = 0;
    api.mode = 'apply-between';
    const r = await cli([...common(), '--candidate', model]);
    api.mode = 'ok';
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PUT ConfigMap resource-agent\/resource-agent-store: 409 .*it was changed while this run retrained .*nothing was overwritten/);
    expect(api.calls.map((c) => c.method)).toEqual(['GET', 'PUT']);
    expect(JSON.stringify({ data: api.stored.data, binaryData: api.stored.binaryData })).toBe(before);
  }, 300_000);

  it('EXPECTED FAILURE - a service account without the Role (403) fails at once, naming the overlay that grants it', async () => {
    api.calls.length = 0;
    api.mode = 'forbidden';
    const r = await cli([...common(), '--epochs', '3']);
    api.mode = 'ok';
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GET ConfigMap resource-agent\/resource-agent-store: 403 .*apply deploy\/overlays\/configmap-store-retrain/);
    expect(api.calls.map((c) => c.method)).toEqual(['GET']);
  }, 60_000);

  it('BAD CALL - --kube-api without --configmap, and a --configmap that is not NAME or NAMESPACE/NAME', async () => {
    const a = await cli(['--input', join(SHARED_DATA, 'bitbrains-250'), '--kube-api', api.url]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--kube-api only applies with --configmap/);
    const b = await cli([...common().map((x) => (x === 'resource-agent/resource-agent-store' ? 'a/b/c' : x))]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--configmap 'a\/b\/c' is not NAME or NAMESPACE\/NAME/);
  }, 60_000);
});
