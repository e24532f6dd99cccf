/**
 * units: the types that carry a unit, their named converters and Kubernetes quantity strings.
 *
 * CPU is carried as cores (a float) inside the maths and as millicores at the API edge; memory always in
 * bytes. The converters are the only place where a factor of 1000 or 1024 appears.
 */

/**
 * The unit a number carries, as a "flavour": an optional phantom property, so a plain number literal or
 * arithmetic result flows into any of them without a cast, but a value of one unit does not flow into
 * another (`const m: Millicores = bytes` fails to compile, as does passing Millicores where Bytes are
 * wanted). test/units.test.ts holds the compile-time proof.
 */
declare const unit: unique symbol;
/** Cores of CPU (1 core = 1000 millicores). */
export type Cores = number & { readonly [unit]?: 'cores' };
/** Millicores of CPU. */
export type Millicores = number & { readonly [unit]?: 'millicores' };
/** Bytes of memory. */
export type Bytes = number & { readonly [unit]?: 'bytes' };

export const KiB: Bytes = 1024;
export const MiB: Bytes = 1024 * KiB;
export const GiB: Bytes = 1024 * MiB;

/** millicoresFromCores(0.25) === 250 */
export function millicoresFromCores(cores: Cores): Millicores {
  return cores * 1000;
}

/** coresFromMillicores(250) === 0.25 */
export function coresFromMillicores(m: Millicores): Cores {
  return m / 1000;
}

/**
 * cpuQuantity renders millicores as a Kubernetes quantity: whole cores as "2", otherwise "250m".
 * Non-integer millicores are rounded up (a request is never made smaller by rendering).
 */
export function cpuQuantity(m: Millicores): string {
  const whole = Math.ceil(m - 1e-9);
  return whole % 1000 === 0 ? String(whole / 1000) : `${whole}m`;
}

/**
 * memoryQuantity renders bytes as a Kubernetes quantity in the largest binary unit that divides it
 * exactly ("512Mi", "2Gi", "1536Ki"), else in plain bytes. Fractions of a byte are rounded up.
 */
export function memoryQuantity(bytes: Bytes): string {
  const b = Math.ceil(bytes - 1e-6);
  for (const [suffix, unit] of [['Ti', 1024 * GiB], ['Gi', GiB], ['Mi', MiB], ['Ki', KiB]] as const) {
    if (b >= unit && b % unit === 0) return `${b / unit}${suffix}`;
  }
  return String(b);
}
