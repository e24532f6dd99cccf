/**
 * serving: how the agent (resource-agent/) serves the container family. POST /v1/recommend takes one
 * item (input.ts: 12 features by name or in order, or a raw usage window) and answers CPU and memory
 * request and limit with a confidence (render.ts), after the post-processing pipeline of
 * ../postprocess.ts for the operator's bounds; POST /v1/recommend/batch takes up to 10,000 items.
 */
import type { FamilyServing, ServingAdapter } from '../../types.js';
import { denormalizeOutputs, N_FEATURES } from '../features.js';
import { DEFAULT_POLICY, pipeline, postProcess } from '../postprocess.js';
import { readContainerItem } from './input.js';
import type { ItemMeta } from './input.js';
import { writeRecommendation } from './render.js';
import { ANSWER, EXAMPLE, ITEM } from './schemas.js';

export const containerServing: FamilyServing = {
  path: '/v1/recommend',
  summary: 'Recommend requests and limits for one container',
  defaultBounds: DEFAULT_POLICY,
  adapter(bounds): ServingAdapter<ItemMeta> {
    const policy = { ...bounds };
    const steps = pipeline(policy);
    // Scratch space for one item's real-unit features: items are read one after another, synchronously.
    const row = new Float64Array(N_FEATURES);
    return {
      readItem: (v, out, offset) => readContainerItem(v, out, offset, row),
      writeItem: (w, y, offset, meta) => writeRecommendation(w, postProcess(denormalizeOutputs(y, offset), policy, steps), meta),
    };
  },
  schemas: { item: ITEM, answer: ANSWER },
  example: EXAMPLE,
};
