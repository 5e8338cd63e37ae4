// scalar reference, used only by tests and bench/kernels.mjs: the gradient GEMMs of assembly/gemm-backward.ts in float64 plain loops.
// Shapes: M rows summed over, N rows of dW, K columns of dW; dY [M, N] at row stride ldy, X [M, K] at stride ldx.

/** dW[n, k] += dY[m, n]ᵀ · X[m, k]. */
export function gemmTransposedAccumulate(dw: Float64Array /* [n, k] */, dy: ArrayLike<number>, x: ArrayLike<number>,
                                         m: number, n: number, k: number, ldy: number, ldx: number): void {
  for (let o = 0; o < n; o++) {
    for (let j = 0; j < k; j++) {
      let sum = 0;
      for (let r = 0; r < m; r++) sum += dy[r * ldy + o] * x[r * ldx + j];
      dw[o * k + j] += sum;
    }
  }
}

/** db[n] += Σ_r dY[r, 0..n−1]. */
export function accumulateColumnSums(db: Float64Array /* [n] */, dy: ArrayLike<number>, m: number, n: number, ldy: number): void {
  for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) db[j] += dy[r * ldy + j];
}
