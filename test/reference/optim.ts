// scalar reference, used only by tests: the optimizer updates and gradient-clipping helpers of
// assembly/optim.ts in float64, with the kernels' arguments (arrays instead of pointers; the bindings turn
// PyTorch's lr, betas and step count into stepSize, 1 − β and biasCorrection2Sqrt). Arrays are updated in place.

/** SGD: g = grad + wd·p; with momentum, buf = first ? g : μ·buf + (1 − dampening)·g, g = nesterov ? g + μ·buf : buf; p −= lr·g. */
export function sgdStep(value: Float64Array, grad: ArrayLike<number>, buffer: Float64Array | null, n: number, lr: number, momentum: number,
                        dampening: number, nesterov: boolean, weightDecay: number, firstStep: boolean): void {
  for (let i = 0; i < n; i++) {
    let g = grad[i] + weightDecay * value[i];
    if (momentum !== 0 && buffer) {
      buffer[i] = firstStep ? g : momentum * buffer[i] + (1 - dampening) * g;
      g = nesterov ? g + momentum * buffer[i] : buffer[i];
    }
    value[i] -= lr * g;
  }
}

/**
 * Adam / AdamW: g = grad + l2·p; p ← p·decay; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
 * p −= stepSize · m / (√v / biasCorrection2Sqrt + eps), from 1 − β1 and 1 − β2 (β = 1 − (1 − β)).
 */
export function adamStep(value: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, n: number, stepSize: number,
                         oneMinusBeta1: number, oneMinusBeta2: number, eps: number, biasCorrection2Sqrt: number, l2: number,
                         decay: number): void {
  for (let i = 0; i < n; i++) {
    const g = grad[i] + l2 * value[i];
    m[i] = (1 - oneMinusBeta1) * m[i] + oneMinusBeta1 * g;
    v[i] = (1 - oneMinusBeta2) * v[i] + oneMinusBeta2 * g * g;
    value[i] = value[i] * decay - stepSize * (m[i] / (Math.sqrt(v[i]) / biasCorrection2Sqrt + eps));
  }
}

/** Σ x². */
export function sumOfSquares(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  return sum;
}

/** x · factor. */
export function scaleArray(x: ArrayLike<number>, factor: number): Float64Array {
  return Float64Array.from(x, (value) => value * factor);
}

/** clamp(x, −limit, limit). */
export function clampArray(x: ArrayLike<number>, limit: number): Float64Array {
  return Float64Array.from(x, (value) => Math.min(Math.max(value, -limit), limit));
}
