/**
 * errors: the one error type the CLIs print as a single line (`error: <message>`) and exit with code 2;
 * anything else is a bug and keeps its stack.
 */

/** UserError is bad input from the user: a message that names the field or file and the fix. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}

/** GateError is a model that misses a validation gate (exit code 3). */
export class GateError extends UserError {
  constructor(message: string, readonly gates: string[]) {
    super(message, 3);
    this.name = 'GateError';
  }
}
