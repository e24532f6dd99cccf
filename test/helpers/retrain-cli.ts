/**
 * retrain-cli: `npm run retrain` (tsx retrain.ts) as a real child process, for the retraining tests.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './env.js';

const TSX = join(REPO, 'node_modules/.bin/tsx');

/** retrainCli runs retrain.ts with `args` and resolves with its exit code and output (never rejects). */
export function retrainCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [join(REPO, 'retrain.ts'), ...args], { cwd: REPO, maxBuffer: 1 << 26, timeout: 300_000, env: { ...process.env, FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
