// scalar reference, used only by tests: exp, sigmoid and tanh in float64 (Math.*), the targets of
// assembly/activations.ts.

export function exp(x: number): number {
  return Math.exp(x);
}

/** σ(x) = 1 / (1 + e^−x). */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function tanh(x: number): number {
  return Math.tanh(x);
}
