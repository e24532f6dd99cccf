/**
 * watch: calls back when a file may have changed, by two means:
 * - fs.watch on the file's FOLDER (not the file: an atomic write renames a new file over the old one, and
 *   a Kubernetes ConfigMap volume swaps its `..data` symlink; a watch on the old inode would miss both);
 * - a poll of the file's stat (mtime, size, inode) every `pollMs`, for filesystems where fs.watch is
 *   silent (NFS and other network volumes, some container overlays).
 * Events are debounced (`debounceMs`) so a burst of writes gives one callback. The callback must be
 * idempotent: the store compares the manifest's content and ignores an unchanged one.
 */
import { statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WatchOptions {
  /** stat poll interval; 0 turns polling off */
  pollMs: number;
  debounceMs?: number;
  onError?: (e: Error) => void;
}

/** Watcher: close() stops both the fs.watch and the poll. */
export interface Watcher {
  close(): void;
}

function signature(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (e) {
    return `error:${(e as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}

/** debounce: fire() calls fn once, ms after the first of a burst of calls; cancel() drops a pending call. */
function debounce(fn: () => void, ms: number): { fire: () => void; cancel: () => void } {
  let timer: NodeJS.Timeout | null = null;
  return {
    fire() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
      timer.unref();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** watchFile calls onChange (debounced) when `path` may have changed. */
export function watchFile(path: string, onChange: () => void, o: WatchOptions): Watcher {
  const name = basename(path);
  const { fire, cancel } = debounce(onChange, o.debounceMs ?? 50);

  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      // `..data` is the symlink a ConfigMap volume swaps; a null filename means "something changed".
      if (filename === null || filename === name || filename === '..data') fire();
    });
    watcher.on('error', (e) => o.onError?.(e));
  } catch (e) {
    o.onError?.(e as Error);
  }

  let last = signature(path);
  const poll =
    o.pollMs > 0
      ? setInterval(() => {
          const s = signature(path);
          if (s !== last) {
            last = s;
            fire();
          }
        }, o.pollMs)
      : null;
  poll?.unref();

  return {
    close() {
      watcher?.close();
      if (poll) clearInterval(poll);
      cancel();
    },
  };
}

/** DirWatcher: fs.watch on a changing set of folders; `sync(dirs)` adds and drops watches. */
export interface DirWatcher {
  sync(dirs: readonly string[]): void;
  close(): void;
}

/**
 * watchDirs calls onChange (debounced) when anything in one of the folders given to sync() changes: the
 * agent watches the folders of its loaded model files, so a file changed under it is re-verified at once
 * rather than at the next scheduled check.
 */
export function watchDirs(onChange: () => void, o: { debounceMs?: number; onError?: (e: Error) => void } = {}): DirWatcher {
  const watchers = new Map<string, FSWatcher>();
  const { fire, cancel } = debounce(onChange, o.debounceMs ?? 100);
  return {
    sync(dirs) {
      const want = new Set(dirs);
      for (const [d, w] of watchers) {
        if (!want.has(d)) {
          w.close();
          watchers.delete(d);
        }
      }
      for (const d of want) {
        if (watchers.has(d)) continue;
        try {
          const w = watch(d, { persistent: false }, fire);
          w.on('error', (e) => o.onError?.(e));
          watchers.set(d, w);
        } catch (e) {
          o.onError?.(e as Error);
        }
      }
    },
    close() {
      for (const w of watchers.values()) w.close();
      watchers.clear();
      cancel();
    },
  };
}
