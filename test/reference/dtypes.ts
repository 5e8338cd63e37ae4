// scalar reference, used only by tests: the number formats of assembly/dtypes.ts from their definitions, in float64.
// Widening evaluates (−1)^s · 2^(e − bias) · (1 + f / 2^m) (subnormals 2^(1 − bias) · f / 2^m); narrowing picks the
// nearest representable value from the sorted table of every non-negative finite value of the format, ties to the
// one with an even last bit, ±Infinity past the largest finite value plus half its ulp.

/** IEEE half: 5 exponent bits, 10 fraction bits. bfloat16: 8 exponent bits, 7 fraction bits. */
const FORMATS = {
  f16: { exponentBits: 5, fractionBits: 10 },
  bf16: { exponentBits: 8, fractionBits: 7 },
} as const;

export type Narrow = keyof typeof FORMATS;

/** The number that 16-bit pattern `bits` of `format` encodes (NaN for every NaN pattern). */
export function decode16(format: Narrow, bits: number): number {
  const { exponentBits, fractionBits } = FORMATS[format];
  const bias = 2 ** (exponentBits - 1) - 1;
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> fractionBits) & (2 ** exponentBits - 1);
  const fraction = bits & (2 ** fractionBits - 1);
  if (exponent === 2 ** exponentBits - 1) return fraction === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * 2 ** (1 - bias) * (fraction / 2 ** fractionBits);
  return sign * 2 ** (exponent - bias) * (1 + fraction / 2 ** fractionBits);
}

/** f16 widened to float32 (exact): the reference of float16ToFloat32Array. */
export function float16ToFloat32(bits: number): number {
  return decode16('f16', bits);
}

/** bf16 widened to float32 (exact): the reference of bfloat16ToFloat32Array. */
export function bfloat16ToFloat32(bits: number): number {
  return decode16('bf16', bits);
}

/** Every non-negative finite value of a format, ascending: index = bit pattern (0 … largest finite). */
const positiveValues = new Map<Narrow, Float64Array>();
function valuesOf(format: Narrow): Float64Array {
  let values = positiveValues.get(format);
  if (!values) {
    const infinityBits = (2 ** FORMATS[format].exponentBits - 1) << FORMATS[format].fractionBits;
    values = Float64Array.from({ length: infinityBits }, (_, bits) => decode16(format, bits));
    positiveValues.set(format, values);
  }
  return values;
}

/**
 * The bit pattern of `format` nearest to `x`, ties to even; ±Infinity from the largest finite value plus half an ulp
 * on; NaN → undefined (the kernels' NaN payload rule is checked separately).
 */
export function encode16(format: Narrow, x: number): number | undefined {
  if (Number.isNaN(x)) return undefined;
  const signBit = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(x);
  const values = valuesOf(format);
  const largest = values[values.length - 1];
  const infinityBits = values.length;
  const ulpOfLargest = largest - values[values.length - 2];
  if (magnitude >= largest + ulpOfLargest / 2) return signBit | infinityBits;
  // Binary search: the first value ≥ magnitude.
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle] < magnitude) low = middle + 1;
    else high = middle;
  }
  if (low === 0 || values[low] === magnitude) return signBit | low;
  const below = low - 1;
  const distanceBelow = magnitude - values[below];
  const distanceAbove = values[low] - magnitude;
  if (distanceBelow < distanceAbove) return signBit | below;
  if (distanceAbove < distanceBelow) return signBit | low;
  return signBit | (below % 2 === 0 ? below : low);
}

/** float32 `x` rounded to f16 bits: the reference of float32ToFloat16Array (NaN → undefined). */
export function float32ToFloat16(x: number): number | undefined {
  return encode16('f16', x);
}

/** float32 `x` rounded to bf16 bits: the reference of float32ToBfloat16Array (NaN → undefined). */
export function float32ToBfloat16(x: number): number | undefined {
  return encode16('bf16', x);
}
