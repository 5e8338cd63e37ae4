// Number formats of weight files: IEEE half (f16) and bfloat16 (bf16) to float32 and back, over arrays in
// linear memory (safetensors F16/BF16 tensors). Plain scalar loops: they run once per file load or save.
// Widening is exact (every half and bfloat16 value is a float32). Narrowing rounds to nearest, ties to even;
// values past the largest finite value round to ±Infinity as IEEE 754 does (half: |x| ≥ 65520); NaN stays
// NaN with its sign and the top bits of its payload, made quiet (as x86's F16C does; PyTorch writes one
// canonical NaN); float32 subnormals and values below half's normal range become half subnormals, correctly rounded.
// Scalar float64 references: test/reference/dtypes.ts; tests over all 65,536 bit patterns: test/kernels/dtypes.test.ts.

// The float32 of half bits, exactly.
@inline function halfToFloatBits(half: u32): u32 {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent == 0x1f) return sign | 0x7f800000 | (fraction << 13); // ±Infinity, or NaN keeping its payload
  if (exponent != 0) return sign | ((exponent + (127 - 15)) << 23) | (fraction << 13);
  // ±0 and subnormals: fraction · 2^-24, exact in float32 (fraction < 2^10).
  return sign | reinterpret<u32>(<f32>fraction * 5.9604644775390625e-8);
}

// Half bits of a float32 (bits), rounded to nearest, ties to even.
@inline function floatBitsToHalf(bits: u32): u32 {
  const sign = (bits >> 16) & 0x8000;
  const magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) return sign | 0x7e00 | ((magnitude >> 13) & 0x3ff); // NaN: quiet, payload's top bits
  if (magnitude >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 (65504 + half an ulp; the tie goes up to even): ±Infinity
  if (magnitude >= 0x38800000) {
    // Normal half (≥ 2^-14): drop 13 fraction bits rounding to nearest even; a carry runs into the exponent.
    const rounded = magnitude + 0xfff + ((magnitude >> 13) & 1);
    return sign | ((rounded - ((127 - 15) << 23)) >> 13);
  }
  // Below 2^-14: a half subnormal (or 0) counts units of 2^-24. Scaling by 2^24 is exact, and f32.nearest rounds
  // ties to even; 1024 units is the smallest normal half, whose bits 0x400 are the same number.
  return sign | <u32>nearest(reinterpret<f32>(magnitude) * 16777216.0);
}

// Bfloat16 bits of a float32 (bits): its top 16 bits, rounded to nearest, ties to even.
@inline function floatBitsToBfloat(bits: u32): u32 {
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >> 16) | 0x40; // NaN: quiet, payload's top bits
  return (bits + 0x7fff + ((bits >> 16) & 1)) >> 16; // the carry may reach the exponent, up to ±Infinity
}

/** Widens `n` IEEE half values (little-endian u16 at `src`) to float32 at `dst`, exactly. */
export function float16ToFloat32Array(dst: usize /* [n] f32 */, src: usize /* [n] u16 */, n: i32): void {
  for (let i = 0; i < n; i++) store<u32>(dst + (<usize>i << 2), halfToFloatBits(load<u16>(src + (<usize>i << 1))));
}

/** Widens `n` bfloat16 values (u16 at `src`) to float32 at `dst`, exactly: the bits become the top half. */
export function bfloat16ToFloat32Array(dst: usize /* [n] f32 */, src: usize /* [n] u16 */, n: i32): void {
  for (let i = 0; i < n; i++) store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
}

/** Narrows `n` float32 values at `src` to IEEE half (u16 at `dst`), rounding to nearest even. */
export function float32ToFloat16Array(dst: usize /* [n] u16 */, src: usize /* [n] f32 */, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>floatBitsToHalf(load<u32>(src + (<usize>i << 2))));
}

/** Narrows `n` float32 values at `src` to bfloat16 (u16 at `dst`), rounding to nearest even. */
export function float32ToBfloat16Array(dst: usize /* [n] u16 */, src: usize /* [n] f32 */, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>floatBitsToBfloat(load<u32>(src + (<usize>i << 2))));
}
