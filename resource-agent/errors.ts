/**
 * errors: the agent's one list of error codes, each with its HTTP status and what it means. Every error
 * response has the same body:
 *
 *   { "error": { "code": "INVALID_FIELD", "status": 400, "field": "features.cpu_p95",
 *                "message": "features.cpu_p95: is -1; usage cannot be negative" } }
 *
 * Routes throw AgentError; the one error handler in app.ts turns it (and fastify's own errors, mapped by
 * `fromFastifyError`) into that body. A family's serving code, which lives in src/ and cannot import the
 * agent, throws RequestFieldError (src/core/family.ts) instead; input.ts maps it to INVALID_FIELD.
 * Anything else is a bug: 500 INTERNAL, logged with its stack.
 */

/** ERRORS: code → HTTP status and a one-line meaning (shown in the README and the OpenAPI document). */
export const ERRORS = {
  BAD_REQUEST: { status: 400, meaning: 'the request could not be read (a malformed URL or a broken body stream)' },
  BAD_JSON: { status: 400, meaning: 'the body is empty or not valid JSON' },
  INVALID_FIELD: { status: 400, meaning: 'a field is missing, unknown, of the wrong type, not finite, negative or out of range; `field` names it' },
  TOO_MANY_ITEMS: { status: 400, meaning: 'a batch has more items than the agent accepts (10,000 by default)' },
  UNAUTHORIZED: { status: 401, meaning: 'an admin call without an `Authorization: Bearer <token>` header' },
  FORBIDDEN: { status: 403, meaning: 'an admin call with a wrong token' },
  ADMIN_DISABLED: { status: 403, meaning: 'admin calls are off: the agent was started without --admin-token-file' },
  ROUTE_NOT_FOUND: { status: 404, meaning: 'no such route (or method), or a model family this agent does not serve' },
  VERSION_NOT_FOUND: { status: 404, meaning: 'the model version is not retained in the manifest' },
  JOB_NOT_FOUND: { status: 404, meaning: 'no training job with that id in this store' },
  VERSION_NOT_VERIFIED: { status: 409, meaning: 'the version failed its checksum or could not be loaded, so it cannot be activated' },
  NO_PREVIOUS_VERSION: { status: 409, meaning: 'rollback: the manifest has no retained previously active version' },
  JOB_FINISHED: { status: 409, meaning: 'cancel: the training job has already succeeded, failed or been cancelled' },
  MANIFEST_INVALID: { status: 409, meaning: 'the manifest on disk does not read or check; fix it before activating' },
  STORE_READ_ONLY: { status: 409, meaning: 'activate/rollback or a training job on a read-only model store (a ConfigMap): the message names the kubectl way (npm run rollback, the retraining CronJob, kubectl apply -k)' },
  TRAINING_UNAVAILABLE: { status: 409, meaning: "a training job on an agent whose runtime cannot train (the agent's image has no TensorFlow.js): the message names the trainer image and the retraining CronJob" },
  REQUEST_TIMEOUT: { status: 408, meaning: 'the request (headers and body) did not arrive within --request-timeout-ms, or its headers within --headers-timeout-ms' },
  BODY_TOO_LARGE: { status: 413, meaning: 'the body is over the size limit of the route' },
  BODY_TOO_COMPLEX: { status: 413, meaning: "the body's shape would take more memory to parse than a call may use (4 × the route's body limit; an item of a batch 4 × the single route's): far more objects, arrays or strings than any valid request has" },
  TOO_MANY_SAMPLES: { status: 413, meaning: "a batch's items carry more samples (window series) than --max-batch-samples" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the body is not `application/json`' },
  TOO_BUSY: { status: 429, meaning: 'the bodies in flight (received and parsed) would exceed --max-inflight-body-bytes (the memory budget); retry after the Retry-After seconds' },
  HEADERS_TOO_LARGE: { status: 431, meaning: "the request's headers are over Node's limit (16 KiB)" },
  INTERNAL: { status: 500, meaning: 'a bug; the log has the details' },
  MANIFEST_WRITE_FAILED: { status: 500, meaning: 'the manifest could not be written (read-only store?); nothing changed' },
  NOT_READY: { status: 503, meaning: 'no verified model is loaded yet (see /readyz for why)' },
  SHUTTING_DOWN: { status: 503, meaning: 'the agent is shutting down and its body was still arriving; retry (another replica answers)' },
  ADMIN_TOKEN_UNAVAILABLE: { status: 503, meaning: 'the admin token file cannot be read or is empty' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** ErrorBody is what every error response carries. */
export interface ErrorBody {
  error: { code: ErrorCode; status: number; message: string; field?: string };
}

/** AgentError: an expected failure with a stable code; `field` names the offending input, if any. */
export class AgentError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCode, message: string, readonly field?: string) {
    super(message);
    this.name = 'AgentError';
    this.status = ERRORS[code].status;
  }

  /** body returns the JSON error body. */
  body(): ErrorBody {
    return { error: { code: this.code, status: this.status, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) } };
  }
}

/** fieldError: INVALID_FIELD naming the field, message "field: what; fix". */
export function fieldError(field: string, problem: string): AgentError {
  return new AgentError('INVALID_FIELD', `${field}: ${problem}`, field);
}

/** FASTIFY_CODES maps fastify's own error codes onto ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
};

/** fromFastifyError turns any error reaching the error handler into an AgentError (INTERNAL if unknown). */
export function fromFastifyError(e: unknown, maxBodyBytes: () => number): AgentError {
  if (e instanceof AgentError) return e;
  const code = (e as { code?: string }).code;
  const mapped = code ? FASTIFY_CODES[code] : undefined;
  if (mapped === 'BODY_TOO_LARGE') return new AgentError(mapped, `the body is over this route's limit of ${maxBodyBytes()} bytes`);
  if (mapped === 'UNSUPPORTED_MEDIA_TYPE') return new AgentError(mapped, 'send the body as JSON with Content-Type: application/json');
  if (mapped === 'BAD_REQUEST') return new AgentError(mapped, `the URL is not valid (${(e as Error).message})`);
  if (mapped === 'BAD_JSON') return new AgentError(mapped, code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' ? 'the body is shorter or longer than its Content-Length' : 'the body is empty; send a JSON object');
  // A client that closes the connection mid-body, or a malformed request line: still the client's fault.
  const status = (e as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new AgentError('BAD_REQUEST', `the request could not be read (${(e as Error).message})`);
  return new AgentError('INTERNAL', 'internal error; the agent log has the details');
}
