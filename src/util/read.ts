/**
 * read: reading a file a user named, or throwing one line that names the file, why it cannot be read (the
 * system's code: ENOENT, EISDIR, EACCES, …) and the fix, as the caller's own error type.
 *
 *   readBytesOrThrow('runs/x.onnx', { what: 'model', fix: 'train one with npm run train', error: OnnxModelError })
 *   → OnnxModelError("cannot read model runs/x.onnx (ENOENT); train one with npm run train")
 */
import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';

/** How a failed read is reported: what the file is, the fix, and the error type (UserError by default). */
export interface ReadFailure {
  /** what the file is, before its path in the message ("model", "manifest", "data file"); nothing by default */
  what?: string;
  /** the fix, after a "; " */
  fix?: string;
  /** the error type thrown */
  error?: new (message: string) => Error;
}

/** errorCode is a failed system call's code (ENOENT, EISDIR, …), or the error as text. */
export function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/** readFailure is the message of a failed read: `cannot read <what> <path> (<code>)[; <fix>]`. */
export function readFailure(path: string, e: unknown, o: ReadFailure = {}): string {
  return `cannot read ${o.what ? `${o.what} ` : ''}${path} (${errorCode(e)})${o.fix ? `; ${o.fix}` : ''}`;
}

/** readBytesOrThrow reads a whole file, or throws `o.error` with readFailure's message. */
export function readBytesOrThrow(path: string, o: ReadFailure = {}): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new (o.error ?? UserError)(readFailure(path, e, o));
  }
}

/** readTextOrThrow reads a whole UTF-8 file, or throws `o.error` with readFailure's message. */
export function readTextOrThrow(path: string, o: ReadFailure = {}): string {
  return readBytesOrThrow(path, o).toString('utf8');
}
