/**
 * training-runtime: whether this agent's runtime can train at all. A training job's child runs `retrain`,
 * which needs TensorFlow.js (src/model/tf.ts: @tensorflow/tfjs with the wasm backend); the agent's image
 * drops those packages to stay small (resource-agent/image/build.ts, Dockerfile), so there a job would
 * fail at its training stage after minutes of reading history. POST /v1/training-jobs asks first and
 * refuses at once, naming the CronJob that trains in the trainer image (resource-agent/Dockerfile.trainer).
 */
import { createRequire } from 'node:module';

/** TRAINING_PACKAGES: what the training child imports that the agent itself never loads. */
export const TRAINING_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] as const;

const requireHere = createRequire(import.meta.url);

/**
 * missingTrainingRuntime returns null when every training package resolves from here, else the refusal:
 * which package is missing and the two ways to train instead (the nightly CronJob in the trainer image, or
 * `npm run retrain` from a checkout). `resolve` is Node's module resolution (a parameter for tests).
 */
export function missingTrainingRuntime(resolve: (id: string) => string = (id) => requireHere.resolve(id)): string | null {
  const missing = TRAINING_PACKAGES.filter((p) => {
    try {
      resolve(p);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return null;
  return `this agent cannot train: its runtime has no ${missing.join(' or ')} (the agent's image leaves TensorFlow.js out to stay small); retrain with the nightly CronJob, which runs the trainer image (resource-agent/Dockerfile.trainer) on the same store: kubectl apply -k resource-agent/deploy/overlays/pvc-store-retrain, then kubectl -n resource-agent create job --from=cronjob/resource-agent-retrain retrain-now; or from a checkout: npm run retrain -- --prometheus URL --manifest <the store's manifest.json> --promote; nothing was queued`;
}
