/**
 * prometheus-auth: credentials written in the Prometheus URL (http://user:pass@host) are sent as a Basic
 * header and never shown: not in the client's URL (used in messages, /readyz, /v1/workloads), nor in errors.
 * A plain HTTP server on 127.0.0.1 stands in for Prometheus' query endpoint (no Debian package needed).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusClient, redactUrl } from '../src/sources/prometheus.js';

const seen: (string | undefined)[] = [];
const server = createServer((req, res) => {
  seen.push(req.headers.authorization);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('Prometheus URL credentials', () => {
  it('are sent as Basic auth and removed from the URL the client shows', async () => {
    const c = new PrometheusClient({ url: `http://alice:s3cr%40t@127.0.0.1:${port}` });
    expect(c.base.href).toBe(`http://127.0.0.1:${port}/`);
    await c.query('up', 1_700_000_000);
    c.close();
    // alice:s3cr@t (the %40 decoded) in base64
    expect(seen.at(-1)).toBe(`Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
  });

  it('EXPECTED FAILURE - an unreachable Prometheus is named without its password', async () => {
    const c = new PrometheusClient({ url: 'http://bob:hunter2@127.0.0.1:1', retries: 0, timeoutMs: 2000 });
    const e = await c.query('up', 1_700_000_000).then(() => null, (x: Error) => x);
    c.close();
    expect(e?.message).toMatch(/cannot reach Prometheus at http:\/\/127\.0\.0\.1:1\//);
    expect(e?.message).not.toMatch(/hunter2|bob/);
  });

  it('redactUrl drops user and password and leaves other URLs alone', () => {
    expect(redactUrl('http://a:b@prom:9090/x')).toBe('http://prom:9090/x');
    expect(redactUrl('https://thanos.example/api')).toBe('https://thanos.example/api');
  });
});
