// scalar reference, used only by tests and bench: the int8 quantization and GEMM of assembly/quantized.ts in plain
// loops, with every f32 rounding spelled out (Math.fround), so that the kernel's results must agree exactly.
// Symmetric per-row quantization: weights q ∈ [−127, 127]; activations q ∈ [−levels, levels], the build's levels
// (core.int8ActivationLevels(): 63 in the relaxed build, whose dot product takes a 7-bit operand; 127 baseline).
// The integers here are Σ w·q: the relaxed kernel's offset activations (q + 64) and its correction cancel exactly.

const f = Math.fround;

/** Round half to even (f32x4.nearest), on a value already in f32. */
function roundEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** round(x · inverse) clamped to ±levels, as the kernel: x · inverse in f32, then round half to even. */
function quantizeOne(x: number, inverse: number, levels: number): number {
  const scaled = roundEven(f(x * inverse));
  return Number.isNaN(scaled) ? 0 : Math.min(levels, Math.max(-levels, scaled));
}

/** Symmetric quantization of one row: scale = max|x| / levels (f32) and the integers. */
export function quantizeRow(x: ArrayLike<number>, levels: number): { scale: number; q: Int32Array } {
  let largest = 0;
  for (let i = 0; i < x.length; i++) largest = Math.max(largest, Math.abs(x[i]));
  largest = f(largest);
  const inverse = largest > 0 ? f(levels / largest) : 0;
  const q = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = quantizeOne(x[i], inverse, levels);
  return { scale: f(largest / levels), q };
}

/** A weight [n, k] quantized per output row to int8 (±127): scales [n], q [n·k]. */
export function quantizeWeight(w: ArrayLike<number>, n: number, k: number): { scales: Float32Array; q: Int32Array } {
  const scales = new Float32Array(n), q = new Int32Array(n * k);
  for (let o = 0; o < n; o++) {
    const row = quantizeRow(Array.prototype.slice.call(w, o * k, (o + 1) * k) as number[], 127);
    scales[o] = row.scale;
    q.set(row.q, o * k);
  }
  return { scales, q };
}

/**
 * C[m, n] = A[m, k] · Wᵀ (+ bias) (+ C when `accumulate`) as gemmInt8: A's rows quantized per row to ±activationLevels,
 * the integer dot products exact, then f32(acc) · f32(rowScale · weightScale) + bias + C, each step rounded to f32.
 * Returns the integer accumulators too (acc [m·n]) for tests that check them directly.
 */
export function gemmInt8(c: Float32Array /* [m, n] */, a: ArrayLike<number> /* [m, k] */, w: ArrayLike<number> /* [n, k] */,
                         bias: ArrayLike<number> | null, m: number, n: number, k: number, accumulate: boolean,
                         activationLevels: number): Int32Array {
  const weight = quantizeWeight(w, n, k);
  const acc = new Int32Array(m * n);
  for (let r = 0; r < m; r++) {
    const row = quantizeRow(Array.prototype.slice.call(a, r * k, (r + 1) * k) as number[], activationLevels);
    for (let o = 0; o < n; o++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += row.q[i] * weight.q[o * k + i];
      acc[r * n + o] = sum;
      let value = f(f(sum) * f(row.scale * weight.scales[o]));
      if (bias) value = f(value + bias[o]);
      c[r * n + o] = accumulate ? f(c[r * n + o] + value) : value;
    }
  }
  return acc;
}
