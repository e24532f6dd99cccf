/**
 * prometheus-client: the HTTP half of the Prometheus source. Speaks Prometheus' standard HTTP API
 * (POST /api/v1/query, /api/v1/query_range, GET /api/v1/label/<name>/values), so Thanos and Mimir work too.
 * Range queries are split so no series exceeds `maxPointsPerQuery` points (Prometheus refuses more than
 * 11,000); at most `concurrency` requests are in flight, each with a timeout and retried (network errors,
 * 429 and 5xx) with exponential back-off. Authentication: extra headers (a tenant header such as
 * X-Scope-OrgID), a bearer token file or a basic-auth file ("user:password"), and a CA file for TLS.
 * It knows no metric names: the queries are built in promql.ts and assembled in prometheus.ts.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { InputError } from '../util/errors.js';

/** PrometheusError: Prometheus could not be reached or refused a query; one line naming the URL. */
export class PrometheusError extends InputError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
  }
}

/** Connection: where Prometheus is and how to talk to it. */
export interface Connection {
  /** base URL: http://localhost:9090, https://thanos.example/ or http://mimir/prometheus */
  url: string;
  /** extra request headers, e.g. { 'X-Scope-OrgID': 'team-a' } */
  headers?: Record<string, string>;
  bearerTokenFile?: string | null;
  /** a file holding "user:password" */
  basicAuthFile?: string | null;
  /** PEM file of the CA that signed Prometheus' certificate */
  caFile?: string | null;
  /** per request, default 60 s */
  timeoutMs?: number;
  /** retries after the first try, default 3 */
  retries?: number;
  /** requests in flight at once, default 4 */
  concurrency?: number;
  /** most points per series in one range query, default 10,000 */
  maxPointsPerQuery?: number;
}

/** Sample: one series of an instant query's answer. */
export type Sample = { metric: Record<string, string>; value: [number, string] };
/** Series: one series of a range query's answer. */
export type Series = { metric: Record<string, string>; values: [number, string][] };

/** PrometheusClient: the HTTP half. query/queryRange/labelValues return Prometheus' data, parsed. */
export class PrometheusClient {
  readonly base: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  readonly maxPoints: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly concurrency: number;
  /** requests made (for reports and the bench) */
  requests = 0;
  bytes = 0;

  constructor(c: Connection) {
    let u: URL;
    try {
      u = new URL(c.url.endsWith('/') ? c.url : `${c.url}/`);
    } catch {
      throw new InputError(`--prometheus ${c.url} is not a URL; give e.g. http://localhost:9090`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InputError(`--prometheus ${c.url}: use an http:// or https:// URL`);
    this.base = u;
    this.concurrency = c.concurrency ?? 4;
    this.timeoutMs = c.timeoutMs ?? 60_000;
    this.retries = c.retries ?? 3;
    this.maxPoints = c.maxPointsPerQuery ?? 10_000;
    const ca = c.caFile ? readOrFail(c.caFile, '--ca-file') : undefined;
    this.agent = u.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: this.concurrency, ca }) : new http.Agent({ keepAlive: true, maxSockets: this.concurrency });
    this.headers = { accept: 'application/json', ...(c.headers ?? {}) };
    if (c.bearerTokenFile) this.headers.authorization = `Bearer ${readOrFail(c.bearerTokenFile, '--bearer-token-file').trim()}`;
    if (c.basicAuthFile) this.headers.authorization = `Basic ${Buffer.from(readOrFail(c.basicAuthFile, '--basic-auth-file').trim()).toString('base64')}`;
    // Credentials in the URL (http://user:pass@host) become a Basic header and leave the URL, which is
    // shown in messages, /readyz and /v1/workloads.
    if (u.username || u.password) {
      this.headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
  }

  /** close releases the keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  /** query runs an instant query at `timeSec`. */
  async query(promql: string, timeSec: number): Promise<Sample[]> {
    return (await this.api('api/v1/query', { query: promql, time: String(timeSec) })) as Sample[];
  }

  /**
   * queryRange runs a range query, split into pieces of at most maxPoints points per series, and joins
   * each series' points back in time order. Example: 30 days at 60 s = 43,201 points → 5 queries.
   */
  async queryRange(promql: string, startSec: number, endSec: number, stepSec: number): Promise<Series[]> {
    const parts = await Promise.all(splitRange(startSec, endSec, stepSec, this.maxPoints).map(([s, e]) => this.api('api/v1/query_range', { query: promql, start: String(s), end: String(e), step: String(stepSec) }) as Promise<Series[]>));
    if (parts.length === 1) return parts[0]!;
    const byKey = new Map<string, Series>();
    for (const part of parts) {
      for (const s of part) {
        const key = JSON.stringify(Object.entries(s.metric).sort());
        const have = byKey.get(key);
        if (have) have.values.push(...s.values);
        else byKey.set(key, { metric: s.metric, values: [...s.values] });
      }
    }
    return [...byKey.values()];
  }

  /** labelValues lists a label's values on series matching `match` in [start, end] (the index only: cheap). */
  async labelValues(label: string, match: string, startSec: number, endSec: number): Promise<string[]> {
    return (await this.api(`api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match, start: String(startSec), end: String(endSec) }, 'GET')) as string[];
  }

  /** raw POSTs (or GETs) form parameters to an API path and returns the body, after retries. */
  async raw(path: string, params: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Promise<{ status: number; body: Buffer }> {
    await this.slot();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await this.once(path, params, method);
          if ((r.status === 429 || r.status >= 500) && attempt < this.retries) {
            await sleep(250 * 2 ** attempt);
            continue;
          }
          return r;
        } catch (e) {
          if (attempt >= this.retries) throw new PrometheusError(`cannot reach Prometheus at ${this.base.href}: ${errorText(e)}`);
          await sleep(250 * 2 ** attempt);
        }
      }
    } finally {
      this.release();
    }
  }

  private async api(path: string, params: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Promise<unknown> {
    const { status, body } = await this.raw(path, params, method);
    let parsed: { status?: string; data?: unknown; error?: string; errorType?: string; resultType?: string };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new PrometheusError(`Prometheus at ${this.base.href} answered ${path} with HTTP ${status} and no JSON (${body.toString('utf8', 0, 120).replace(/\s+/g, ' ')}); is this the Prometheus API URL?`);
    }
    if (parsed.status !== 'success') throw new PrometheusError(`Prometheus at ${this.base.href} refused ${path} (HTTP ${status}, ${parsed.errorType ?? 'error'}): ${parsed.error ?? 'no message'}`);
    const data = parsed.data as { result?: unknown } | unknown[];
    return Array.isArray(data) ? data : data?.result;
  }

  private once(path: string, params: Record<string, string>, method: 'GET' | 'POST'): Promise<{ status: number; body: Buffer }> {
    const form = new URLSearchParams(params).toString();
    const url = new URL(path, this.base);
    if (method === 'GET') url.search = form;
    const mod = url.protocol === 'https:' ? https : http;
    this.requests++;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, agent: this.agent, headers: method === 'POST' ? { ...this.headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) } : this.headers, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          this.bytes += body.length;
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', reject);
      if (method === 'POST') req.end(form);
      else req.end();
    });
  }

  private slot(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * splitRange cuts [start, end] at `step` into pieces of at most `maxPoints` points that never repeat a
 * point. splitRange(0, 900, 300, 2) → [[0, 300], [600, 900]].
 */
export function splitRange(startSec: number, endSec: number, stepSec: number, maxPoints: number): [number, number][] {
  const out: [number, number][] = [];
  const per = Math.max(1, Math.floor(maxPoints));
  for (let s = startSec; s <= endSec; s += per * stepSec) out.push([s, Math.min(s + (per - 1) * stepSec, endSec)]);
  return out;
}

/** redactUrl: a URL as it may be shown: without user and password. redactUrl('http://a:b@h:9090/') === 'http://h:9090/'. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/** errorText: a network error in one line (Node's AggregateError for ::1 and 127.0.0.1 has no message of its own). */
function errorText(e: unknown): string {
  const x = e as Error & { code?: string; errors?: Error[] };
  if (x.message) return x.message;
  if (x.errors?.length) return x.errors.map((y) => y.message).join('; ');
  return x.code ?? String(e);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** readOrFail reads a credentials file named by `flag`, or throws an InputError naming the flag and the path. */
function readOrFail(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${flag} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}
