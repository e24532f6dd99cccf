/**
 * render: writes one container answer's fields as JSON bytes into the agent's writer (a JsonSink); the
 * agent adds the braces, "modelVersion" and, for a batch, "count" and "items". A 10,000-item batch
 * answer is ~2.3 MB, so nothing here builds objects or strings per item beyond the two quantities.
 *
 * One item (the shape of schemas.ts answer):
 *   "container":"api","cpu":{"request":{"millicores":250,"quantity":"250m"},"limit":{…}},
 *   "memory":{"request":{"bytes":536870912,"quantity":"512Mi"},"limit":{…}},"confidence":0.9
 * Names are escaped by the sink; every other value is a number or a Kubernetes quantity (digits and
 * letters), written as ASCII.
 */
import { cpuQuantity, memoryQuantity } from '../../../core/units.js';
import type { PodResources } from '../postprocess.js';
import type { JsonSink } from '../../../core/family.js';
import type { ItemMeta } from './input.js';

// Constant fragments, pre-encoded: Buffer#copy of 30 bytes is ~3× faster than writing them char by char.
const frag = (s: string) => Buffer.from(s, 'latin1');
const CPU_REQ = frag('"cpu":{"request":{"millicores":');
const QTY = frag(',"quantity":"');
const CPU_LIM = frag('"},"limit":{"millicores":');
const MEM_REQ = frag('"}},"memory":{"request":{"bytes":');
const MEM_LIM = frag('"},"limit":{"bytes":');
const CONF = frag('"}},"confidence":');
const NAME_KEYS = ['container', 'workload', 'namespace'] as const;
const NAME_FRAGS = NAME_KEYS.map((k) => frag(`"${k}":`));
const COMMA = 44;

/**
 * AppliedRisk: the hold rates an item asked for, the calibrated targets and factors used, and where they
 * came from; target, factor and calibration are null when the serving version has no calibration (the
 * agent then answers with the model's own limits), and `warnings` says what was degraded.
 */
export interface AppliedRisk {
  memory: { requested: number; target: number | null; factor: number | null } | null;
  cpu: { requested: number; target: number | null; factor: number | null } | null;
  calibration: string | null;
  warnings?: string[];
}

/** writeAmount writes one amount after its key fragment: `<key>250,"quantity":"250m` (the next fragment closes it). */
function writeAmount(w: JsonSink, key: Buffer, amount: number, quantity: string): void {
  w.bytes(key);
  w.ascii(String(amount));
  w.bytes(QTY);
  w.ascii(quantity);
}

/**
 * writeRecommendation writes an answer's fields, without braces: the names the item gave, then CPU and
 * memory request and limit (number and quantity), then confidence to 4 decimals (0.823849 → 0.8238).
 */
export function writeRecommendation(w: JsonSink, r: PodResources, meta: ItemMeta, risk: AppliedRisk | null = null): void {
  for (let k = 0; k < NAME_KEYS.length; k++) {
    const v = meta[NAME_KEYS[k]!];
    if (v === undefined) continue;
    w.bytes(NAME_FRAGS[k]!);
    w.string(v);
    w.byte(COMMA);
  }
  writeAmount(w, CPU_REQ, r.cpuRequestMillicores, cpuQuantity(r.cpuRequestMillicores));
  writeAmount(w, CPU_LIM, r.cpuLimitMillicores, cpuQuantity(r.cpuLimitMillicores));
  writeAmount(w, MEM_REQ, r.memRequestBytes, memoryQuantity(r.memRequestBytes));
  writeAmount(w, MEM_LIM, r.memLimitBytes, memoryQuantity(r.memLimitBytes));
  w.bytes(CONF);
  w.fraction4(Math.round(Math.min(Math.max(r.confidence, 0), 1) * 10_000));
  if (risk) {
    // rare (only items that ask for a hold rate): plain JSON is fine here
    w.ascii(',"risk":');
    const json = JSON.stringify({ memory: risk.memory, cpu: risk.cpu });
    w.bytes(Buffer.from(json.slice(0, -1), 'utf8'));
    w.ascii(',"calibration":');
    if (risk.calibration === null) w.ascii('null');
    else w.string(risk.calibration);
    w.ascii('}');
  }
  const warnings = risk?.warnings ? [...(meta.warnings ?? []), ...risk.warnings] : meta.warnings;
  if (warnings) {
    w.ascii(',"warnings":[');
    warnings.forEach((m, i) => {
      if (i > 0) w.byte(COMMA);
      w.string(m);
    });
    w.ascii(']');
  }
}
