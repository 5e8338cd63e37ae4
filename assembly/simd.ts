// Shared @inline helpers for the SIMD kernels; the only place that differs between the two builds.

/** a * b + c on four lanes: fused `relaxed_madd` in the relaxed build, mul then add in the baseline build. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** c − a * b on four lanes: fused `relaxed_nmadd` in the relaxed build, mul then sub in the baseline build. */
@inline export function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_nmadd(a, b, c);
  return f32x4.sub(c, f32x4.mul(a, b));
}

/** True when batch row `b` is still inside its sequence at step `t` (`lengths` = 0 means every row is). */
@inline export function rowActive(lengths: usize /* [B] i32 */, b: i32, t: i32): bool {
  return lengths == 0 || t < load<i32>(lengths + (<usize>b << 2));
}

/** 1 in the relaxed-SIMD build, 0 in the baseline build (reported by backendInfo()). */
export function simdFlavor(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
