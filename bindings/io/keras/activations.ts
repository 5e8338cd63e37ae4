// Keras activations by name: in place on a Dense output (float64 math, TF.js definitions), and the ones looptree's
// recurrent cells run.

import type { RecurrentOptions } from '../../index.js';
import type { LayerConfig } from './config.js';

/** The activations looptree's recurrent cells run, by their Keras names (the modules' `activation` / `recurrentActivation`). */
export const CELL_ACTIVATIONS = ['tanh', 'sigmoid', 'relu', 'linear', 'hard_sigmoid', 'elu', 'softsign', 'softplus'] as const satisfies
  ReadonlyArray<RecurrentOptions['activation']>;
export type CellActivation = (typeof CELL_ACTIVATIONS)[number];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** erf by its everywhere-convergent series 2/√π·e^(−x²)·Σ (2x²)ⁿ x / (1·3·…·(2n+1)), to double precision (±1 beyond |x| = 6). */
function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a <= 6)) return Number.isNaN(x) ? x : Math.sign(x);
  let term = a;
  let sum = a;
  for (let n = 1; term > 1e-17 * sum; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}

/** Element-wise activations of TF.js (`activation` of Dense and the Activation layer); softmax is over the last axis. */
const ELEMENTWISE: Record<string, (x: number) => number> = {
  linear: (x) => x,
  relu: (x) => (x < 0 ? 0 : x),
  sigmoid,
  tanh: Math.tanh,
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  selu: (x) => (x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x)),
  softplus: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  softsign: (x) => x / (1 + Math.abs(x)),
  hard_sigmoid: (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)),
  swish: (x) => x * sigmoid(x),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
};

/** Activation names a Dense or Activation layer accepts. */
export const DENSE_ACTIVATIONS = [...Object.keys(ELEMENTWISE), 'softmax'];

/** Reads option `key` as an activation name from `names` (default `fallback`), naming the layer if it is not one. */
export function activationOption<T extends string>(layer: LayerConfig, key: string, fallback: T, names: readonly T[]): T {
  const name = layer.string(key, fallback);
  if (!names.includes(name as T)) throw layer.error(`option ${key} = "${name}" is not a supported activation (${names.join(', ')})`);
  return name as T;
}

/** Applies a Dense activation in place to `values` whose last axis has `width` entries. */
export function applyActivation(name: string, values: Float32Array, width: number): void {
  if (name === 'linear') return;
  if (name === 'softmax') {
    for (let row = 0; row < values.length; row += width) {
      let max = -Infinity;
      for (let j = row; j < row + width; j++) max = Math.max(max, values[j]);
      let sum = 0;
      for (let j = row; j < row + width; j++) sum += Math.exp(values[j] - max);
      for (let j = row; j < row + width; j++) values[j] = Math.exp(values[j] - max) / sum;
    }
    return;
  }
  const f = ELEMENTWISE[name];
  for (let i = 0; i < values.length; i++) values[i] = f(values[i]);
}
