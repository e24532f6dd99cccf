/** hash: sha256 helpers (file checksums, data-set hashes). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** sha256Hex of bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256File of a file on disk. */
export function sha256File(path: string): string {
  return sha256Hex(readFileSync(path));
}
