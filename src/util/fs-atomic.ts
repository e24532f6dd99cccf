/**
 * fs-atomic: every file this project writes goes through here: write to a temp file in the same folder,
 * fsync it, rename it over the target, then fsync the folder. A crash at any point leaves either the old
 * file or the new one, never a torn one.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeFileSync, writeSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from './errors.js';

/** fsyncDir flushes a directory entry (after a rename). Not all filesystems allow it; errors are ignored. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some filesystems refuse fsync on directories */
  }
}

/** tempPathFor returns a unique temp path beside `path` (same filesystem, so rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.tmp-${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** FileWriteError: a file that cannot be written (its folder is a file, no permission, disk full …). */
export class FileWriteError extends InputError {
  constructor(readonly path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super(`cannot write ${path}${code ? ` (${code})` : ''}: ${code === 'EEXIST' || code === 'ENOTDIR' ? 'a part of its folder path is a file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOSPC' ? 'the disk is full' : (cause as Error)?.message ?? String(cause)}; choose another path`);
  }
}

/** checkWritable fails fast (before long work) when `path` could not be written: FileWriteError. */
export function checkWritable(path: string): void {
  const probe = tempPathFor(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path) && statSync(path).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    writeFileSync(probe, '');
  } catch (e) {
    throw new FileWriteError(path, e);
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch {
      /* the probe was never created */
    }
  }
}

/** writeFileAtomic writes data to a temp file, fsyncs it and renames it over path. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  try {
    writeFileAtomicRaw(path, data);
  } catch (e) {
    throw new FileWriteError(path, e);
  }
}

function writeFileAtomicRaw(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}
