/**
 * agent-render: the answer writer: the agent's envelope and JsonWriter (resource-agent/render.ts) with the
 * container family's answer fields (src/families/container-resources/serving/render.ts). The JSON bytes
 * parse back to the objects written out here, names with quotes, backslashes and non-ASCII characters
 * survive, and the writer grows past its first buffer.
 */
import { describe, expect, it } from 'vitest';
import { GiB, MiB } from '../src/core/units.js';
import type { PodResources } from '../src/families/container-resources/postprocess.js';
import { JsonWriter, renderBatch, renderSingle } from '../resource-agent/render.js';
import { writeRecommendation } from '../src/families/container-resources/serving/render.js';

const rec: PodResources = { cpuRequestMillicores: 250, cpuLimitMillicores: 2000, memRequestBytes: 512 * MiB, memLimitBytes: 1088 * MiB, confidence: 0.823849 };
/** an item's real-unit features: the writer does not echo them, so any 12 numbers do */
const NO_INPUTS = new Float64Array(12);
const item = {
  cpu: { request: { millicores: 250, quantity: '250m' }, limit: { millicores: 2000, quantity: '2' } },
  memory: { request: { bytes: 536870912, quantity: '512Mi' }, limit: { bytes: 1140850688, quantity: '1088Mi' } },
  confidence: 0.8238,
};

describe('render', () => {
  it('a single answer: model version, names, quantities, confidence to 4 decimals', () => {
    const out = renderSingle('1.2.0', (w) => writeRecommendation(w, rec, { container: 'api', workload: 'checkout', namespace: 'shop', inputs: NO_INPUTS }));
    expect(JSON.parse(out.toString('utf8'))).toEqual({ modelVersion: '1.2.0', container: 'api', workload: 'checkout', namespace: 'shop', ...item });
    const conf = (c: number) => JSON.parse(renderSingle('1.0.0', (w) => writeRecommendation(w, { ...rec, confidence: c }, { inputs: NO_INPUTS })).toString()).confidence;
    expect([conf(0.9), conf(1), conf(0.00004), conf(0.99996)]).toEqual([0.9, 1, 0, 1]);
  });

  it('names are escaped and UTF-8 encoded', () => {
    const name = 'we"ird\\name\n — 容器 🚀';
    const out = renderSingle('1.0.0', (w) => writeRecommendation(w, rec, { container: name, inputs: NO_INPUTS }));
    expect(JSON.parse(out.toString('utf8')).container).toBe(name);
  });

  it('a batch answer in order, growing past the first buffer (3 names of 253 characters per item)', () => {
    const long = 'x'.repeat(253);
    const recs = [rec, { ...rec, cpuRequestMillicores: 15, memLimitBytes: 2 * GiB, confidence: 0.5 }];
    const metas = Array.from({ length: 200 }, (_, i) => ({ container: `${long}${i}`.slice(-253), workload: long, namespace: long }));
    const withInputs = metas.map((m) => ({ ...m, inputs: NO_INPUTS }));
    const out = JSON.parse(renderBatch('1.0.0', 200, (w, i) => writeRecommendation(w, recs[i % 2]!, withInputs[i]!)).toString('utf8'));
    expect([out.modelVersion, out.count, out.items.length]).toEqual(['1.0.0', 200, 200]);
    expect(out.items[0]).toEqual({ ...metas[0], ...item });
    expect(out.items[1].cpu.request).toEqual({ millicores: 15, quantity: '15m' });
    expect(out.items[1].memory.limit).toEqual({ bytes: 2147483648, quantity: '2Gi' });
    expect(out.items[199].container).toBe(metas[199]!.container);
  });

  it('JsonWriter: bytes, ascii, strings, and 4-decimal fractions printed as String() does', () => {
    const w = new JsonWriter(4);
    w.ascii('[');
    w.string('é"');
    w.byte(44);
    w.ascii(String(274877906944));
    w.bytes(Buffer.from(']'));
    expect(w.result().toString('utf8')).toBe('["é\\"",274877906944]');
    // every k in 0..10000: "0", "0.0001" … "0.9999", "1"
    for (let k = 0; k <= 10_000; k++) {
      const f = new JsonWriter(1);
      f.fraction4(k);
      if (f.result().toString() !== String(k / 10_000)) expect(f.result().toString(), `k = ${k}`).toBe(String(k / 10_000));
    }
  });
});
