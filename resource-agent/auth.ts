/**
 * auth: the bearer token that guards activate and rollback. The token lives in a file (a Kubernetes
 * Secret mounted as a volume) and is read on every admin call, so a rotated Secret takes effect without a
 * restart. Tokens are compared in constant time: both sides are hashed with sha256 and the digests
 * compared with crypto.timingSafeEqual, which also hides the token's length.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import { AgentError } from './errors.js';
import type { AgentMetrics } from './metrics.js';

/** readToken reads a token file; surrounding whitespace (a trailing newline) is not part of the token. */
export function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AgentError('ADMIN_TOKEN_UNAVAILABLE', `the admin token file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const token = text.trim();
  if (!token) throw new AgentError('ADMIN_TOKEN_UNAVAILABLE', `the admin token file ${path} is empty`);
  return token;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** tokensEqual compares two tokens in time independent of where they differ and of their lengths. */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * checkAdmin throws unless `authorization` is "Bearer <the token in tokenFile>":
 * no token file configured → 403 ADMIN_DISABLED; no or malformed header → 401; wrong token → 403.
 */
export function checkAdmin(authorization: string | undefined, tokenFile: string | null): void {
  if (tokenFile === null) throw new AgentError('ADMIN_DISABLED', 'admin calls are disabled: start the agent with --admin-token-file (or RESOURCE_AGENT_ADMIN_TOKEN_FILE)');
  const m = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!m) throw new AgentError('UNAUTHORIZED', 'this call needs an "Authorization: Bearer <token>" header with the admin token');
  if (!tokensEqual(m[1]!, readToken(tokenFile))) throw new AgentError('FORBIDDEN', 'the bearer token is not the admin token');
}

/**
 * adminGuard: checkAdmin for a route handler. A refused call is logged at warn (never the token) and
 * counted (admin_auth_failures_total{reason}); an unreadable token file is logged with its path, which the
 * caller is not shown. Used by every admin route (models, training jobs).
 */
export function adminGuard(tokenFile: string | null, metrics: AgentMetrics): (req: FastifyRequest) => void {
  return (req) => {
    try {
      checkAdmin(req.headers.authorization, tokenFile);
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') {
        metrics.adminAuthFailures.inc({ reason: e.code });
        req.log.warn({ reason: e.code, method: req.method, url: req.url, remote: req.ip }, `admin call refused (${e.code === 'FORBIDDEN' ? 'wrong token' : 'no bearer token'})`);
      } else if (e.code === 'ADMIN_TOKEN_UNAVAILABLE') {
        req.log.error({ tokenFile, reason: e.message }, 'admin token file unavailable');
        throw new AgentError('ADMIN_TOKEN_UNAVAILABLE', 'the admin token file cannot be read or is empty; the agent log names it');
      }
      throw e;
    }
  };
}
