// scalar reference, used only by tests and bench/kernels.mjs: the GEMM of assembly/gemm.ts in float64 plain loops.
// Shapes: M rows of A, N output columns (rows of the PyTorch weight W), K the shared axis.

/** C[m, n] = A[m, k] · Wᵀ (+ bias[n]) (+ C when `accumulate`), with W a row-major PyTorch weight [n, k]. */
export function gemm(c: Float64Array /* [m, n] */, a: ArrayLike<number> /* [m, k] */, w: ArrayLike<number> /* [n, k] */,
                     bias: ArrayLike<number> | null /* [n] */, m: number, n: number, k: number, accumulate: boolean): void {
  for (let row = 0; row < m; row++) {
    for (let column = 0; column < n; column++) {
      let sum = bias ? bias[column] : 0;
      for (let i = 0; i < k; i++) sum += a[row * k + i] * w[column * k + i];
      c[row * n + column] = accumulate ? c[row * n + column] + sum : sum;
    }
  }
}
