// Scalar reference, used only by tests: the activation functions of the cell variants (Keras' and ONNX's) in
// float64, by the names the modules take, with ONNX's alpha and beta and the same defaults as the library.

import { sigmoid, tanh } from './activations.js';

export type ActivationSpec = string | { name: string; alpha?: number; beta?: number };

const DEFAULTS: Record<string, [number, number]> = {
  linear: [1, 0], affine: [1, 0], hard_sigmoid: [0.2, 0.5], leaky_relu: [0.01, 0], thresholded_relu: [1, 0],
  scaled_tanh: [1, 1], elu: [1, 0],
};

/** act(x) for an activation spec ('tanh', { name: 'leaky_relu', alpha: 0.2 }, …). */
export function activate(spec: ActivationSpec, x: number): number {
  const name = typeof spec === 'string' ? spec : spec.name;
  const [alphaDefault, betaDefault] = DEFAULTS[name] ?? [0, 0];
  const alpha = typeof spec === 'object' && spec.alpha !== undefined ? spec.alpha : alphaDefault;
  const beta = typeof spec === 'object' && spec.beta !== undefined ? spec.beta : betaDefault;
  switch (name) {
    case 'tanh': return tanh(x);
    case 'sigmoid': return sigmoid(x);
    case 'relu': return Math.max(x, 0);
    case 'linear': case 'affine': return alpha * x + beta;
    case 'hard_sigmoid': return Math.min(Math.max(alpha * x + beta, 0), 1);
    case 'leaky_relu': return x >= 0 ? x : alpha * x;
    case 'thresholded_relu': return x > alpha ? x : 0;
    case 'scaled_tanh': return alpha * Math.tanh(beta * x);
    case 'elu': return x >= 0 ? x : alpha * (Math.exp(x) - 1);
    case 'softsign': return x / (1 + Math.abs(x));
    case 'softplus': return Math.log1p(Math.exp(x));
    default: throw new Error(`reference: unknown activation ${name}`);
  }
}
