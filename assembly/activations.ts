// Activation functions: SIMD (f32x4) approximations of exp, sigmoid and tanh, and their scalar twins
// (same formulas, lane for lane; the relaxed build fuses the SIMD multiply-adds, so its lanes may differ
// from the tails by a rounding) used for tails. Against float64 on all floats: absolute error ≤ 2e-7, and
// sigmoid and tanh relative error ≤ 3 ulp wherever the result is a normal float (tanh through e^x − 1, so
// that tanh(1e-8) keeps all its digits).
// Scalar float64 references live in test/reference/activations.ts.

import { madd, nmadd } from './simd';

// exp(x) = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 (Cody–Waite split), e^r by a degree-7
// polynomial (Cephes expf). x is clamped so that 2^n stays a normal float; NaN propagates (pmin/pmax
// return their first operand when a comparison is false). n is rounded by adding 1.5·2^23, which
// leaves n in the low mantissa bits: no float→int conversion is needed.
const EXP_HI: f32 = 88.0;
const EXP_LO: f32 = -87.0;
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const ROUNDER: f32 = 12582912.0; // 1.5 · 2^23
const ROUNDER_BITS: i32 = 0x4b400000;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

// The SIMD constants live in memory, 4 lanes each: V8 would otherwise rebuild every v128.const inside the
// loop with three instructions; a load is one (and often folds into the arithmetic). 16-byte aligned: a
// vector load that straddles a cache line costs more, and where the static data lands moves with the code.
const EXP_CONSTANTS = memory.data<f32>([
  EXP_HI, EXP_HI, EXP_HI, EXP_HI, EXP_LO, EXP_LO, EXP_LO, EXP_LO, LOG2E, LOG2E, LOG2E, LOG2E,
  ROUNDER, ROUNDER, ROUNDER, ROUNDER, LN2_HI, LN2_HI, LN2_HI, LN2_HI, LN2_LO, LN2_LO, LN2_LO, LN2_LO,
  P0, P0, P0, P0, P1, P1, P1, P1, P2, P2, P2, P2, P3, P3, P3, P3, P4, P4, P4, P4, P5, P5, P5, P5,
  1, 1, 1, 1, -2, -2, -2, -2,
], 16);
const INTEGER_CONSTANTS = memory.data<i32>([
  127, 127, 127, 127, ROUNDER_BITS, ROUNDER_BITS, ROUNDER_BITS, ROUNDER_BITS,
  0x80000000, 0x80000000, 0x80000000, 0x80000000, // the sign bit
], 16);

@inline function constant(index: i32): v128 {
  return v128.load(EXP_CONSTANTS + (<usize>index << 4));
}

/** 1.0 in every lane (from the constant table). */
@inline export function onesV(): v128 {
  return constant(12);
}

// expV and expm1V share the reduction: clampExpV, then n in `shifted`, expm1ReducedV = e^r − 1 and expScaleV = 2^n.
@inline function clampExpV(x: v128): v128 {
  return f32x4.pmax(f32x4.pmin(x, constant(0)), constant(1));
}

/** e^r − 1 = r + r²·P(r), r = x − n·ln 2 with n = `shifted` − 1.5·2^23. */
@inline function expm1ReducedV(x: v128, shifted: v128): v128 {
  const n = f32x4.sub(shifted, constant(3));
  let r = nmadd(n, constant(4), x);
  r = nmadd(n, constant(5), r);
  let p = madd(constant(6), r, constant(7));
  p = madd(p, r, constant(8));
  p = madd(p, r, constant(9));
  p = madd(p, r, constant(10));
  p = madd(p, r, constant(11));
  return madd(p, f32x4.mul(r, r), r);
}

/** 2^n, built in the exponent bits from n in the low mantissa bits of `shifted`. */
@inline function expScaleV(shifted: v128): v128 {
  return i32x4.shl(i32x4.add(i32x4.sub(shifted, v128.load(INTEGER_CONSTANTS, 16)), v128.load(INTEGER_CONSTANTS)), 23);
}

/** e^x on four lanes. The multiply-adds are `madd`/`nmadd`: fused in the relaxed build (one instruction, one rounding). */
@inline export function expV(x: v128): v128 {
  x = clampExpV(x);
  const shifted = madd(x, constant(2), constant(3));
  return f32x4.mul(f32x4.add(expm1ReducedV(x, shifted), onesV()), expScaleV(shifted));
}

/** e^x − 1 = 2^n · (e^r − 1) + (2^n − 1): relative accuracy near x = 0, where 1 − e^x would cancel. */
@inline function expm1V(x: v128): v128 {
  x = clampExpV(x);
  const shifted = madd(x, constant(2), constant(3));
  const scale = expScaleV(shifted);
  return madd(scale, expm1ReducedV(x, shifted), f32x4.sub(scale, onesV()));
}

@inline function clampExpS(x: f32): f32 {
  x = x > EXP_HI ? EXP_HI : x; // comparisons with NaN are false: NaN passes through
  return x < EXP_LO ? EXP_LO : x;
}

@inline function expm1ReducedS(x: f32, shifted: f32): f32 {
  const n = shifted - ROUNDER;
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  return p * (r * r) + r;
}

@inline function expScaleS(shifted: f32): f32 {
  return reinterpret<f32>((reinterpret<i32>(shifted) - ROUNDER_BITS + 127) << 23);
}

@inline export function expS(x: f32): f32 {
  x = clampExpS(x);
  const shifted = x * LOG2E + ROUNDER;
  return (expm1ReducedS(x, shifted) + 1.0) * expScaleS(shifted);
}

@inline function expm1S(x: f32): f32 {
  x = clampExpS(x);
  const shifted = x * LOG2E + ROUNDER;
  const scale = expScaleS(shifted);
  return scale * expm1ReducedS(x, shifted) + (scale - 1.0);
}

/** σ(x) = 1 / (1 + e^−x). */
@inline export function sigmoidV(x: v128): v128 {
  return f32x4.div(onesV(), f32x4.add(onesV(), expV(f32x4.neg(x))));
}

@inline export function sigmoidS(x: f32): f32 {
  return 1.0 / (1.0 + expS(-x));
}

/**
 * tanh(x) = sign(x) · |m / (m + 2)| with m = e^−2|x| − 1 (= −(1 − e^−2|x|), computed without cancellation by
 * expm1V): relative error ≤ 3 ulp from the smallest floats up, saturating to exactly ±1.
 */
@inline export function tanhV(x: v128): v128 {
  const m = expm1V(f32x4.mul(f32x4.abs(x), constant(13)));
  const magnitude = f32x4.abs(f32x4.div(m, f32x4.sub(m, constant(13))));
  return v128.or(magnitude, v128.and(x, v128.load(INTEGER_CONSTANTS, 32)));
}

@inline export function tanhS(x: f32): f32 {
  const m = expm1S(abs(x) * -2.0);
  return copysign<f32>(abs(m / (m + 2.0)), x);
}

// Whole-array versions: the kernels' building blocks exposed for tests and element-wise layers.

export function expArray(dst: usize /* [n] */, src: usize /* [n] */, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), expV(v128.load(src + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), expS(load<f32>(src + (<usize>i << 2))));
}

export function sigmoidArray(dst: usize /* [n] */, src: usize /* [n] */, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), sigmoidV(v128.load(src + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), sigmoidS(load<f32>(src + (<usize>i << 2))));
}

export function tanhArray(dst: usize /* [n] */, src: usize /* [n] */, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), tanhV(v128.load(src + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), tanhS(load<f32>(src + (<usize>i << 2))));
}
