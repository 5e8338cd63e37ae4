// Int8 GEMM for dynamically quantized inference: C[M, N] (+)= A[M, K] · Wᵀ (+ bias), W a PyTorch weight [N, K]
// quantized once per output row (symmetric int8, ±127, f32 scale), A quantized per row on every call (symmetric,
// ±ACTIVATION_LEVELS: 63 in the relaxed build, 127 in the baseline one).
// Scalar reference: test/reference/quantized.ts (the same integers, the same f32 epilogue).
//
// The integer dot product differs per build:
// - relaxed: `i32x4.relaxed_dot_i8x16_i7x16_add_s(weights, activations, acc)` — 16 multiply-adds and the add in one
//   instruction, on i8 weights (half the bytes). Its second operand is 7-bit (the spec leaves the 8th bit
//   implementation-defined), so the activations are quantized to ±63 and stored as q + 64 ∈ [1, 127]; the dot then
//   gives Σ w·(q + 64), and the epilogue subtracts 64·Σ_k w (each output's correction, computed at pack time),
//   leaving exactly Σ w·q. No saturation anywhere (V8 without VNNI: pmaddubsw's pair sums ≤ 2·127·127 < 32768).
//   Why (kernel lab, `bench/kernels.mjs --build relaxed`, Zen 4, against dot_i16x8_s): where V8 lowers it to
//   AVX-VNNI's vpdpbusd (Node 24, Chromium) every int8 GEMM is ~2× faster (W2's input projection 4.9 → 2.6 ms, the
//   W1 matrix-vector 1.9 → 1.1 µs); under Node 22's pmaddubsw + pmaddwd + add (V8 rebuilds the constant of ones
//   before each one: 5 instructions) the matrix-vector is 6–14% faster and the 4-row kernel 6–8% slower.
//   The cost: 2× the activation quantization step (README's int8 accuracy figures give both builds').
//   V8 11.3 (Node 20 behind --experimental-wasm-relaxed-simd) computes the instruction wrong: relaxedDotExact()
//   probes it once and gemmInt8 then runs the same integers from SIMD128 (dotAdd<i16>).
// - baseline: `i32x4.dot_i16x8_s` (8 multiply-adds, 2 per lane, into i32; one pmaddwd, exact everywhere) and an
//   add, on int8 values held as i16 (weights packed so, activations quantized so).
// A 16-byte weight vector holds 4 outputs × GROUP consecutive k (4 i8 or 2 i16), and one 4-byte broadcast of the
// quantized row (GROUP k) feeds it. Accumulation is exact in i32 (|Σ| ≤ 127·127·K), then
// out = f32(acc) · f32(rowScale·weightScale) + bias.
//
// Quantized weight layout (packInt8Weight; quantizedWeightBytes(n, k) bytes), with n' = ceil(n/8)·8 and K' = K
// rounded up to a multiple of GROUP:
//   scales       f32 [n']   weight scale of each output row (max |w| / 127; 0 for a zero row or padding)
//   corrections  i32 [n']   relaxed build only: ACTIVATION_OFFSET · Σ_k code of each output row (0 for padding)
//   panels       ceil(n/8) panels of 8 outputs; panel p holds, per group of GROUP k, two vectors (outputs 8p..8p+3
//                and 8p+4..8p+7), each the group's GROUP codes (i8 relaxed, i16 baseline) of those 4 outputs in turn;
//                zeros past n and K.
// Quantized activation row (quantizeRows): K' elements, u8 q + 64 (relaxed; padding 64) or i16 q (baseline; padding 0).

/** K elements per dot-product lane: 4 i8 (relaxed) or 2 i16 (baseline). */
const GROUP: i32 = ASC_FEATURE_RELAXED_SIMD ? 4 : 2;
/** Bytes per quantized element: i8 (relaxed) or i16 (baseline). */
const ELEMENT: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 2;
/** Largest |q| of an activation: the relaxed dot's second operand is 7-bit (q + 64 ∈ [1, 127]). */
const ACTIVATION_LEVELS: f32 = ASC_FEATURE_RELAXED_SIMD ? 63 : 127;
/** Added to an activation's q where it is stored (relaxed: unsigned 7-bit), subtracted back in the epilogue. */
const ACTIVATION_OFFSET: i32 = ASC_FEATURE_RELAXED_SIMD ? 64 : 0;
/** Outputs per panel (two vectors of 4). */
const PANEL: i32 = 8;
/** Rows of A per register block: 4 rows × 8 outputs = 8 accumulators. */
const ROWS: i32 = 4;

@inline function paddedK(k: i32): i32 {
  return (k + GROUP - 1) / GROUP * GROUP;
}

@inline function paddedN(n: i32): i32 {
  return (n + PANEL - 1) / PANEL * PANEL;
}

/** Bytes of one quantized row of K' elements. */
@inline function rowBytes(k: i32): usize {
  return <usize>paddedK(k) * ELEMENT;
}

/** Bytes of the per-output header before the panels: the scales, and the corrections in the relaxed build. */
@inline function headerBytes(rows: i32): usize {
  return <usize>rows * (ASC_FEATURE_RELAXED_SIMD ? 8 : 4);
}

/** Bytes `packInt8Weight` writes for a [n, k] weight (see the layout above). */
export function quantizedWeightBytes(n: i32, k: i32): usize {
  const rows = paddedN(n);
  return headerBytes(rows) + <usize>rows * rowBytes(k);
}

/** Largest |q| of a quantized activation in this build (63 relaxed, 127 baseline); tests and bench read it. */
export function int8ActivationLevels(): i32 {
  return <i32>ACTIVATION_LEVELS;
}

/** What quantizeRows adds to an activation's q where it stores it (64 relaxed, 0 baseline). */
export function int8ActivationOffset(): i32 {
  return ACTIVATION_OFFSET;
}

/**
 * round(x · inverse) clamped to ±levels, as an integer: the vector path on one lane, so that the scalar tails
 * agree with it bit for bit (round half to even; NaN → 0 instead of a trap).
 */
@inline function quantizeOne(x: f32, inverse: f32, levels: f32): i32 {
  const scaled = f32x4.nearest(f32x4.mul(f32x4.splat(x), f32x4.splat(inverse)));
  const clamped = f32x4.min(f32x4.splat(levels), f32x4.max(f32x4.splat(-levels), scaled));
  return i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(clamped), 0);
}

/**
 * Packs an int8 weight quantized per output row (codes [n, k] i8, scales [n] f32: w ≈ code · scale; the bindings
 * quantize, or read both from a file) into the layout above at `dst` (quantizedWeightBytes(n, k), 16-byte aligned).
 */
export function packInt8Weight(dst: usize, codes: usize /* [n, k] i8 */, scales: usize /* [n] f32 */, n: i32, k: i32): void {
  const rows = paddedN(n), kp = paddedK(k);
  const panels = dst + headerBytes(rows);
  memory.fill(dst, 0, quantizedWeightBytes(n, k));
  memory.copy(dst, scales, <usize>n << 2);
  for (let o = 0; o < n; o++) {
    const row = codes + <usize>o * k;
    // Element (o, i) sits in panel o/8, group i/GROUP, vector (o%8)/4, lane o%4, position i%GROUP.
    const panel = panels + <usize>(o / PANEL) * <usize>kp * PANEL * ELEMENT;
    const lane = <usize>((o % PANEL) / 4 * 16 + (o % 4) * GROUP * ELEMENT);
    let sum = 0; // Σ_k code (relaxed: the correction)
    for (let i = 0; i < k; i++) {
      const code = <i32>load<i8>(row + <usize>i);
      const at = panel + <usize>(i / GROUP) * 32 + lane + <usize>(i % GROUP) * ELEMENT;
      if (ASC_FEATURE_RELAXED_SIMD) {
        store<i8>(at, code);
        sum += code;
      } else {
        store<i16>(at, code);
      }
    }
    if (ASC_FEATURE_RELAXED_SIMD) store<i32>(dst + (<usize>(rows + o) << 2), ACTIVATION_OFFSET * sum);
  }
}

// Constants of the vector quantizer (16-byte lanes, loaded: V8 would rebuild a v128.const in the loop).
const QUANTIZE_CONSTANTS = memory.data<i32>([
  0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, // |x| mask
  0x4b400000, 0x4b400000, 0x4b400000, 0x4b400000, // 1.5·2^23: adding it rounds to an integer (half to even) in the low bits
], 16);

/**
 * round(y) of 4 lanes of y = x·inverse, plus `offset`, as i32: NaN → 0, clamped to ±ACTIVATION_LEVELS, rounded half
 * to even — quantizeOne's result — by adding 1.5·2^23 + offset (`adder`: the FPU's own rounding to nearest even
 * leaves the integer in the low mantissa bits; the offset is even, so the rounding is the same) and subtracting the
 * bits of 1.5·2^23 (`rounder`): 8 cheap instructions where nearest + min + max + trunc_sat take ~25 under V8.
 */
@inline function quantizeQuad(y: v128, levels: v128, negativeLevels: v128, adder: v128, rounder: v128): v128 {
  const finite = v128.and(y, f32x4.eq(y, y));
  const clamped = f32x4.pmax(f32x4.pmin(finite, levels), negativeLevels);
  return i32x4.sub(f32x4.add(clamped, adder), rounder);
}

/**
 * Quantizes rows of A [m, k] (row stride `lda` floats) per row: scales[r] = max|a_r| / ACTIVATION_LEVELS, the
 * elements q = round(a·ACTIVATION_LEVELS/max|a_r|) (the product in f32, rounded half to even) stored as
 * q + ACTIVATION_OFFSET (relaxed: u8; baseline: i16), the K' − K padding elements as q = 0. A NaN in a row makes
 * its scale NaN (its outputs NaN) as in the reference.
 * dst: m rows of rowBytes(k) bytes.
 */
export function quantizeRows(dst: usize, scales: usize /* [m] f32 */, a: usize, m: i32, k: i32, lda: i32): void {
  const stride = rowBytes(k);
  const levels = f32x4.splat(ACTIVATION_LEVELS), negativeLevels = f32x4.splat(-ACTIVATION_LEVELS);
  const magnitudeMask = v128.load(QUANTIZE_CONSTANTS), rounder = v128.load(QUANTIZE_CONSTANTS, 16);
  // 1.5·2^23 + 64 is a float too (its bits are the rounder's + 64: the unit in the last place is 1 there).
  const adder = ASC_FEATURE_RELAXED_SIMD ? i32x4.add(rounder, i32x4.splat(ACTIVATION_OFFSET)) : rounder;
  for (let r = 0; r < m; r++) {
    const row = a + ((<usize>r * lda) << 2);
    // max |a| on the bits: non-negative floats order as integers, and a NaN's bits exceed infinity's, so the
    // largest is NaN whenever the row holds one (Math.max's answer); two chains to halve the dependency.
    let largestA = i32x4.splat(0), largestB = i32x4.splat(0);
    let i = 0;
    for (; i + 8 <= k; i += 8) {
      largestA = i32x4.max_s(largestA, v128.and(v128.load(row + (<usize>i << 2)), magnitudeMask));
      largestB = i32x4.max_s(largestB, v128.and(v128.load(row + (<usize>i << 2), 16), magnitudeMask));
    }
    for (; i + 4 <= k; i += 4) largestA = i32x4.max_s(largestA, v128.and(v128.load(row + (<usize>i << 2)), magnitudeMask));
    largestA = i32x4.max_s(largestA, largestB);
    let largestBits = max(max(i32x4.extract_lane(largestA, 0), i32x4.extract_lane(largestA, 1)),
                          max(i32x4.extract_lane(largestA, 2), i32x4.extract_lane(largestA, 3)));
    for (; i < k; i++) largestBits = max(largestBits, load<i32>(row + (<usize>i << 2)) & 0x7fffffff);
    const largest = reinterpret<f32>(largestBits);
    const inverse: f32 = largest > 0 ? ACTIVATION_LEVELS / largest : 0;
    store<f32>(scales + (<usize>r << 2), largest / ACTIVATION_LEVELS);
    const out = dst + <usize>r * stride;
    const inverse4 = f32x4.splat(inverse);
    i = 0;
    for (; i + 8 <= k; i += 8) {
      const low = quantizeQuad(f32x4.mul(v128.load(row + (<usize>i << 2)), inverse4), levels, negativeLevels, adder, rounder);
      const high = quantizeQuad(f32x4.mul(v128.load(row + (<usize>i << 2), 16), inverse4), levels, negativeLevels, adder, rounder);
      const packed = i16x8.narrow_i32x4_s(low, high);
      // Relaxed: q + 64 ∈ [1, 127] narrows to bytes unchanged; 8 bytes stored.
      if (ASC_FEATURE_RELAXED_SIMD) v128.store64_lane(out + <usize>i, i8x16.narrow_i16x8_u(packed, packed), 0);
      else v128.store(out + (<usize>i << 1), packed);
    }
    for (; i < k; i++) {
      const q = quantizeOne(load<f32>(row + (<usize>i << 2)), inverse, ACTIVATION_LEVELS) + ACTIVATION_OFFSET;
      if (ASC_FEATURE_RELAXED_SIMD) store<u8>(out + <usize>i, q);
      else store<i16>(out + (<usize>i << 1), q);
    }
    for (; i < paddedK(k); i++) {
      if (ASC_FEATURE_RELAXED_SIMD) store<u8>(out + <usize>i, ACTIVATION_OFFSET);
      else store<i16>(out + (<usize>i << 1), 0);
    }
  }
}

/**
 * acc + Σ over each lane's group of w·x, the products computed at the width `Lane`:
 * - i8, relaxed build: one relaxed_dot_i8x16_i7x16_add_s (4 i8 pairs a lane, x the 7-bit operand);
 * - i16, relaxed build where the engine computes that instruction wrong (see relaxedDotExact): the same integers
 *   from SIMD128 — both halves widened to i16, dot_i16x8_s, adjacent lanes summed;
 * - i16, baseline build: one pmaddwd on the i16 codes (2 pairs a lane) and an add.
 * `Lane` is a type argument so that each variant compiles to its own kernel loops (no test inside them).
 */
@inline function dotAdd<Lane>(w: v128, x: v128, acc: v128): v128 {
  if (!ASC_FEATURE_RELAXED_SIMD) return i32x4.add(acc, i32x4.dot_i16x8_s(w, x));
  if (sizeof<Lane>() == 1) return i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, acc);
  // Lanes [o0 k0+k1, o0 k2+k3, o1 …, o1 …] and [o2 …, o3 …]: the even and odd lanes of the two added.
  const low = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), i16x8.extend_low_i8x16_u(x));
  const high = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), i16x8.extend_high_i8x16_u(x));
  return i32x4.add(acc, i32x4.add(v128.shuffle<i32>(low, high, 0, 2, 4, 6), v128.shuffle<i32>(low, high, 1, 3, 5, 7)));
}

/** 0 until probed, then 1 if relaxed_dot_i8x16_i7x16_add_s is exact on this engine, 2 if not. */
let relaxedDotState: i32 = 0;

/**
 * Whether this engine computes relaxed_dot_i8x16_i7x16_add_s as the spec says for a 7-bit second operand (the dot
 * plus the accumulator), probed on the first call. V8 11.3 (Node 20 behind --experimental-wasm-relaxed-simd)
 * returns twice the dot and drops the accumulator; there the kernels use the SIMD128 sequence instead (exact; on
 * Node 20 the int8 GEMMs then take 1.0–1.5× the time dot_i16x8_s took, `npm run bench:kernels`). Node 22's V8 and
 * later are exact. Always false in the baseline build, which does not use the instruction.
 */
export function relaxedDotExact(): bool {
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (relaxedDotState == 0) relaxedDotState = probeRelaxedDot() ? 1 : 2;
    return relaxedDotState == 1;
  }
  return false; // the baseline build does not use the instruction
}

/** relaxed_dot_i8x16_i7x16_add_s on a = [−127, 2, 3, 4] and b = [127, 1, 1, 1] in every lane, plus 1000: −15120 in every lane? */
function probeRelaxedDot(): bool {
  const probe = memory.data<i8>([
    -127, 2, 3, 4, -127, 2, 3, 4, -127, 2, 3, 4, -127, 2, 3, 4,
    127, 1, 1, 1, 127, 1, 1, 1, 127, 1, 1, 1, 127, 1, 1, 1,
    -24, 3, 0, 0, -24, 3, 0, 0, -24, 3, 0, 0, -24, 3, 0, 0, // 1000 as i32
  ], 16);
  const dot = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(probe), v128.load(probe, 16), v128.load(probe, 32));
  return i32x4.all_true(i32x4.eq(dot, i32x4.splat(-127 * 127 + 2 + 3 + 4 + 1000)));
}

// Staging for the last, partial panel of a row.
const tail = memory.data(16 * 2, 16);

/**
 * Dequantizes 4 outputs (column `column` on) of one row and stores them: f32(acc) · f32(rowScale · weightScale)
 * + bias (+ C when `accumulate`); only `columns` (≤ 4) lanes are written. Relaxed: acc − the outputs' corrections
 * first (the offset of the activations), so that acc is Σ w·q as in the baseline build.
 */
@inline function storeQuad(c: usize, column: i32, acc: v128, rowScale: v128, weights: usize, corrections: usize, bias: usize,
                           accumulate: bool, columns: i32): void {
  const at = <usize>column << 2;
  if (ASC_FEATURE_RELAXED_SIMD) acc = i32x4.sub(acc, v128.load(corrections + at));
  let value = f32x4.mul(f32x4.convert_i32x4_s(acc), f32x4.mul(rowScale, v128.load(weights + at)));
  if (bias != 0) {
    if (columns == 4) value = f32x4.add(value, v128.load(bias + at));
    else {
      v128.store(tail, value);
      for (let j = 0; j < columns; j++) store<f32>(tail + (<usize>j << 2), load<f32>(tail + (<usize>j << 2)) + load<f32>(bias + at + (<usize>j << 2)));
      value = v128.load(tail);
    }
  }
  if (columns == 4) {
    if (accumulate) value = f32x4.add(value, v128.load(c + at));
    v128.store(c + at, value);
  } else {
    v128.store(tail, value);
    for (let j = 0; j < columns; j++) {
      const out = c + at + (<usize>j << 2);
      const v = load<f32>(tail + (<usize>j << 2));
      store<f32>(out, accumulate ? load<f32>(out) + v : v);
    }
  }
}

/** Stores one panel (8 outputs from `column`) of one row; `weights` is the packed weight (its header). */
@inline function storePanel(c: usize, column: i32, lo: v128, hi: v128, rowScale: v128, weights: usize, bias: usize, accumulate: bool, n: i32): void {
  const left = n - column;
  const corrections = weights + (<usize>paddedN(n) << 2);
  storeQuad(c, column, lo, rowScale, weights, corrections, bias, accumulate, min(4, left));
  if (left > 4) storeQuad(c, column + 4, hi, rowScale, weights, corrections, bias, accumulate, min(4, left - 4));
}

/** One quantized row × every panel, three panels (six accumulators) at a time, then the last one or two. */
@inline function gemvInt8<Lane>(c: usize, x: usize, rowScale: f32, w: usize, bias: usize, n: i32, k: i32, accumulate: bool): void {
  const rows = paddedN(n), panels = rows / PANEL, groups = paddedK(k) / GROUP;
  const panelBytes = <usize>groups * 32;
  const first = w + headerBytes(rows);
  const scale = f32x4.splat(rowScale);
  const xEnd = x + (<usize>groups << 2);
  let p = 0;
  for (; p + 3 <= panels; p += 3) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), b0 = i32x4.splat(0), b1 = i32x4.splat(0), c0 = i32x4.splat(0), c1 = i32x4.splat(0);
    let w0 = first + <usize>p * panelBytes;
    for (let at = x; at < xEnd; at += 4) {
      const s = v128.load32_splat(at);
      a0 = dotAdd<Lane>(v128.load(w0), s, a0); a1 = dotAdd<Lane>(v128.load(w0, 16), s, a1);
      b0 = dotAdd<Lane>(v128.load(w0 + panelBytes), s, b0); b1 = dotAdd<Lane>(v128.load(w0 + panelBytes, 16), s, b1);
      c0 = dotAdd<Lane>(v128.load(w0 + 2 * panelBytes), s, c0); c1 = dotAdd<Lane>(v128.load(w0 + 2 * panelBytes, 16), s, c1);
      w0 += 32;
    }
    storePanel(c, p * PANEL, a0, a1, scale, w, bias, accumulate, n);
    storePanel(c, (p + 1) * PANEL, b0, b1, scale, w, bias, accumulate, n);
    storePanel(c, (p + 2) * PANEL, c0, c1, scale, w, bias, accumulate, n);
  }
  for (; p < panels; p++) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
    let w0 = first + <usize>p * panelBytes;
    for (let at = x; at < xEnd; at += 4) {
      const s = v128.load32_splat(at);
      a0 = dotAdd<Lane>(v128.load(w0), s, a0); a1 = dotAdd<Lane>(v128.load(w0, 16), s, a1);
      w0 += 32;
    }
    storePanel(c, p * PANEL, a0, a1, scale, w, bias, accumulate, n);
  }
}

/** Four quantized rows × one panel: 8 accumulators over the whole K. */
@inline function kernel4x8<Lane>(c: usize, ldc: usize, x: usize, stride: usize, scales: usize, panel: usize, column: i32, w: usize,
                           bias: usize, n: i32, groups: i32, accumulate: bool): void {
  let r00 = i32x4.splat(0), r01 = i32x4.splat(0), r10 = i32x4.splat(0), r11 = i32x4.splat(0);
  let r20 = i32x4.splat(0), r21 = i32x4.splat(0), r30 = i32x4.splat(0), r31 = i32x4.splat(0);
  let x0 = x;
  const end = x + (<usize>groups << 2);
  let b = panel;
  while (x0 < end) {
    const lo = v128.load(b), hi = v128.load(b, 16);
    let s = v128.load32_splat(x0);
    r00 = dotAdd<Lane>(lo, s, r00); r01 = dotAdd<Lane>(hi, s, r01);
    s = v128.load32_splat(x0 + stride);
    r10 = dotAdd<Lane>(lo, s, r10); r11 = dotAdd<Lane>(hi, s, r11);
    s = v128.load32_splat(x0 + 2 * stride);
    r20 = dotAdd<Lane>(lo, s, r20); r21 = dotAdd<Lane>(hi, s, r21);
    s = v128.load32_splat(x0 + 3 * stride);
    r30 = dotAdd<Lane>(lo, s, r30); r31 = dotAdd<Lane>(hi, s, r31);
    x0 += 4;
    b += 32;
  }
  storePanel(c, column, r00, r01, v128.load32_splat(scales), w, bias, accumulate, n);
  storePanel(c + ldc, column, r10, r11, v128.load32_splat(scales + 4), w, bias, accumulate, n);
  storePanel(c + 2 * ldc, column, r20, r21, v128.load32_splat(scales + 8), w, bias, accumulate, n);
  storePanel(c + 3 * ldc, column, r30, r31, v128.load32_splat(scales + 12), w, bias, accumulate, n);
}

/** Bytes of A's quantized copy for m rows of k (in 64 bits: the plan asks it for T·B rows): the rows, then m f32 scales. */
@inline function activationBytes(m: u64, k: i32): u64 {
  return m * ((<u64>rowBytes(k) + 15) & ~<u64>15) + ((m << 2) + 15 & ~<u64>15);
}

/**
 * Bytes of the scratch a gemmInt8 call of m rows of k needs (A's quantized copy), 16-byte aligned; the caller
 * reserves it (the bindings through their one allocation gate, rnnForward in its plan's scratch): the kernel
 * never allocates, so a refused memory.grow is a typed error before the call, not a trap inside it.
 */
export function int8ScratchBytes(m: i32, k: i32): f64 {
  return <f64>activationBytes(<u64>m, k);
}

// Rows of A per block: their quantized K stays in L1 while every panel streams past it.
const ROW_BLOCK: i32 = 16 * ROWS;

/**
 * C[m, n] = A[m, k] · Wᵀ (+ bias[n]) (+ C when `accumulate`), W packed by `packInt8Weight`, A quantized
 * here per row (see the file comment) into `scratch` (int8ScratchBytes(m, k) bytes, 16-byte aligned, from the
 * caller). `bias` may be 0; it is read for n floats.
 */
export function gemmInt8(c: usize /* [m, n] */, a: usize /* [m, k] */, w: usize /* packInt8Weight([n, k]) */, bias: usize /* [n] or 0 */,
                         m: i32, n: i32, k: i32, accumulate: bool, scratch: usize /* int8ScratchBytes(m, k) */): void {
  const stride = (rowBytes(k) + 15) & ~<usize>15;
  const rowsQ = scratch, scales = scratch + <usize>m * stride;
  quantizeRowsStrided(rowsQ, stride, scales, a, m, k);
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (relaxedDotExact()) multiplyQuantized<i8>(c, rowsQ, stride, scales, w, bias, m, n, k, accumulate);
    else multiplyQuantized<i16>(c, rowsQ, stride, scales, w, bias, m, n, k, accumulate);
  } else {
    multiplyQuantized<i16>(c, rowsQ, stride, scales, w, bias, m, n, k, accumulate);
  }
}

/**
 * C (+)= the quantized rows (`stride` bytes apart, their scales at `scales`) · Wᵀ (+ bias): blocks of 4 rows, then
 * single rows; the products at the width `Lane` (dotAdd).
 */
@inline function multiplyQuantized<Lane>(c: usize, rowsQ: usize, stride: usize, scales: usize, w: usize, bias: usize,
                                         m: i32, n: i32, k: i32, accumulate: bool): void {
  const rows = paddedN(n), panels = rows / PANEL, groups = paddedK(k) / GROUP;
  const panelBytes = <usize>groups * 32;
  const first = w + headerBytes(rows);
  const ldc = <usize>n << 2;
  const tiled = m - m % ROWS;
  for (let start = 0; start < tiled; start += ROW_BLOCK) {
    const end = min(start + ROW_BLOCK, tiled);
    for (let p = 0; p < panels; p++) {
      const panel = first + <usize>p * panelBytes;
      for (let r = start; r < end; r += ROWS) {
        kernel4x8<Lane>(c + <usize>r * ldc, ldc, rowsQ + <usize>r * stride, stride, scales + (<usize>r << 2), panel, p * PANEL, w, bias, n, groups, accumulate);
      }
    }
  }
  for (let r = tiled; r < m; r++) {
    gemvInt8<Lane>(c + <usize>r * ldc, rowsQ + <usize>r * stride, load<f32>(scales + (<usize>r << 2)), w, bias, n, k, accumulate);
  }
}

/** quantizeRows with a destination row stride of `stride` bytes (16-byte aligned rows in the scratch). */
function quantizeRowsStrided(dst: usize, stride: usize, scales: usize, a: usize, m: i32, k: i32): void {
  if (stride == rowBytes(k)) {
    quantizeRows(dst, scales, a, m, k, k);
    return;
  }
  for (let r = 0; r < m; r++) quantizeRows(dst + <usize>r * stride, scales + (<usize>r << 2), a + ((<usize>r * k) << 2), 1, k, k);
}
