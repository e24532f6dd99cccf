/**
 * prometheus-cli: the command-line flags that reach a Prometheus (or Thanos / Mimir behind its HTTP API),
 * shared by `npm run recommend` and `npm run retrain`: extra headers (a tenant header), bearer token,
 * basic auth, CA, and the per-request timeout, and the connection they make.
 *   npm run recommend -- --prometheus https://mimir.example/prometheus -H 'X-Scope-OrgID: team-a' --bearer-token-file /var/run/token
 */
import type { Argv } from 'yargs';
import { UserError } from '../util/errors.js';
import { parseDuration } from './prometheus.js';

/** withConnectionFlags adds --header/-H, --bearer-token-file, --basic-auth-file, --ca-file and --timeout to `cli`, in their own --help group. */
export function withConnectionFlags<T>(cli: Argv<T>) {
  return cli
    .option('header', { alias: 'H', type: 'string', array: true, describe: "extra HTTP header to Prometheus, 'Name: value' (e.g. 'X-Scope-OrgID: team-a' for Mimir)" })
    .option('bearer-token-file', { type: 'string', describe: 'file with a bearer token for Prometheus' })
    .option('basic-auth-file', { type: 'string', describe: "file with 'user:password' for Prometheus" })
    .option('ca-file', { type: 'string', describe: "PEM file of the CA of Prometheus' TLS certificate" })
    .option('timeout', { type: 'string', default: '60s', describe: 'per Prometheus request' })
    .group(['header', 'bearer-token-file', 'basic-auth-file', 'ca-file', 'timeout'], 'Reaching Prometheus (Thanos, Mimir):');
}

/** ConnectionFlags: what withConnectionFlags parses. */
export interface ConnectionFlags {
  header?: string[];
  bearerTokenFile?: string;
  basicAuthFile?: string;
  caFile?: string;
  timeout: string;
}

/**
 * parseHeaders reads --header values, 'Name: value' each (the value may hold colons), or throws naming the bad one.
 * parseHeaders(['X-Scope-OrgID: team-a']) → { 'X-Scope-OrgID': 'team-a' }
 */
export function parseHeaders(list: readonly string[] | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of list ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UserError(`--header '${h}' is not 'Name: value'`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  return headers;
}

/** connectionOf: the request settings of readPrometheus from the parsed flags. */
export function connectionOf(argv: ConnectionFlags): { headers: Record<string, string>; bearerTokenFile?: string; basicAuthFile?: string; caFile?: string; timeoutMs: number } {
  return { headers: parseHeaders(argv.header), bearerTokenFile: argv.bearerTokenFile, basicAuthFile: argv.basicAuthFile, caFile: argv.caFile, timeoutMs: parseDuration(argv.timeout, '--timeout') * 1000 };
}
