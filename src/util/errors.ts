/**
 * errors: the base class of every error that is bad input rather than a bug. The CLIs (util/cli.ts) print
 * an InputError as one line (`error: <message>`) and exit with its exitCode (2, or 3 for a failed gate);
 * anything else is a bug and keeps its stack. Each module's own error type (FeatureError, DatasetError,
 * ManifestError, …) extends InputError, and callers check with `instanceof`, never by name.
 */

/** InputError is bad input: a message that names the field or file and the fix. */
export class InputError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = new.target.name;
  }
}

/** UserError: bad input from the command line or a file a user named. */
export class UserError extends InputError {}

/** GateError is a model that misses a validation gate (exit code 3). */
export class GateError extends InputError {
  constructor(message: string, readonly gates: string[]) {
    super(message, 3);
  }
}
