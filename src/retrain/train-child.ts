/**
 * train-child: runs the real `train` command (train.ts, the pipeline every shipped model was made with)
 * in a child process with a heap cap (node --max-old-space-size), and turns its progress lines into
 * events: "train: epoch 12/300 loss … ETA ≤ 40s" → { epoch: 12, epochs: 300, etaSec: 40 }. The child's
 * last stdout line is its JSON summary. Cancelled through an AbortSignal (SIGTERM, then SIGKILL after 5 s).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { InputError } from '../util/errors.js';

/** REPO: the repository root (train.ts lives there; tsx resolves from it). */
export const REPO = resolve(import.meta.dirname, '../..');

export interface TrainChildOptions {
  /** train.ts arguments after the script, e.g. ['--data', 'w/train.npz', '--output', 'w/model'] */
  args: string[];
  /** the child's V8 heap cap, MiB */
  maxOldSpaceMb: number;
  signal?: AbortSignal;
  /** every stderr line of the child */
  onLine?: (line: string) => void;
  onEpoch?: (e: { epoch: number; epochs: number; etaSec: number | null }) => void;
}

/** TrainSummary: train.ts's JSON line (output, backend, bestEpoch, valLoss, seconds, int8 size and deviation). */
export type TrainSummary = Record<string, unknown> & { output: string; bestEpoch: number; seconds: number };

/** CancelledError: the run was cancelled (the caller asked); not a failure of the input. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

const EPOCH = /^train: epoch (\d+)\/(\d+) .*ETA ≤ (\d+)s/;

/** parseEpochLine: "train: epoch 3/60 loss 0.1 val_loss 0.2 1.5s ETA ≤ 28s" → { epoch 3, epochs 60, etaSec 28 }, else null. */
export function parseEpochLine(line: string): { epoch: number; epochs: number; etaSec: number } | null {
  const m = EPOCH.exec(line);
  return m ? { epoch: Number(m[1]), epochs: Number(m[2]), etaSec: Number(m[3]) } : null;
}

/** runTrainChild runs train.ts and resolves with its summary; a non-zero exit rejects with its last error line. */
export function runTrainChild(o: TrainChildOptions): Promise<TrainSummary> {
  return new Promise((resolvePromise, reject) => {
    if (o.signal?.aborted) return reject(new CancelledError());
    const child = spawn(process.execPath, [`--max-old-space-size=${Math.round(o.maxOldSpaceMb)}`, '--import', 'tsx', resolve(REPO, 'train.ts'), ...o.args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stdout = '';
    let pending = '';
    const tail: string[] = [];
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        o.onLine?.(line);
        const e = parseEpochLine(line);
        if (e) o.onEpoch?.(e);
      }
    });
    let killTimer: NodeJS.Timeout | null = null;
    const abort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      killTimer.unref();
    };
    o.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (e) => reject(e));
    child.on('close', (code, sig) => {
      o.signal?.removeEventListener('abort', abort);
      if (killTimer) clearTimeout(killTimer);
      if (pending) tail.push(pending);
      if (o.signal?.aborted) return reject(new CancelledError());
      if (code !== 0) {
        const err = tail.filter((l) => l.startsWith('error:')).at(-1) ?? tail.filter(Boolean).at(-1) ?? '';
        const heap = /heap out of memory|Allocation failed/i.test(tail.join('\n')) ? ` (out of memory: the training process is capped at ${o.maxOldSpaceMb} MiB of heap; raise --max-old-space-size)` : '';
        return reject(new InputError(`training failed (exit ${code ?? sig})${heap}: ${err.replace(/^error: /, '')}`, 1));
      }
      try {
        resolvePromise(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as TrainSummary);
      } catch {
        reject(new InputError(`training finished but printed no summary (stdout: ${stdout.slice(0, 200)})`, 1));
      }
    });
  });
}
