// Parameter-free layers with forward and backward: Dropout (inverted, seeded), ReLU, Tanh, Sigmoid, LogSoftmax.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { seededRandom } from '../random.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
import { optionKeys, strictOptions } from '../options.js';
import { ParameterFreeLayer, TRAIN_OPTION_KEYS, type LayerContext, type TrainOptions } from './module.js';

/** A layer without parameters that remembers what its backward needs from the last training forward. */
abstract class ElementwiseLayer extends ParameterFreeLayer {
  protected saved: Float32Array | null = null;
  protected savedShape: readonly number[] = [];

  /** Applies the layer elementwise (LogSoftmax: over the last axis); any shape → the same shape. With `train`, keeps what backward() needs. */
  forward(input: TensorLike, options?: TrainOptions): Tensor {
    const opts = strictOptions(options, TRAIN_OPTION_KEYS, `${this.constructor.name}.forward`);
    const x = toTensor(input, `${this.constructor.name}.forward: input`);
    const y = this.compute(x, opts.train ?? false);
    if (opts.train) this.savedShape = x.shape;
    return y;
  }

  /**
   * dLoss/dy → dLoss/dx, for the last training forward (same shape). Throws ArgumentError without a pending
   * training forward, ShapeError for a gradient of another size.
   */
  backward(gradOutput: TensorLike): Tensor {
    const d = toTensor(gradOutput, `${this.constructor.name}.backward: gradient`);
    if (!this.saved) throw new ArgumentError(`${this.constructor.name}.backward(): call forward(x, { train: true }) first`);
    if (d.data.length !== this.saved.length) {
      throw new ShapeError(`${this.constructor.name}.backward: expected a gradient of shape ${formatShape(this.savedShape)}, got ${formatShape(d.shape)}`);
    }
    const dx = this.gradient(d.data, this.saved);
    this.saved = null;
    return new Tensor(dx, d.shape);
  }

  /** @internal The StackLayer contract. */
  forwardLayer(x: Tensor, context: LayerContext): Tensor {
    return this.forward(x, { train: context.train });
  }

  /** @internal */
  backwardLayer(grad: Tensor): Tensor {
    return this.backward(grad);
  }

  protected abstract compute(x: Tensor, train: boolean): Tensor;
  protected abstract gradient(dy: Float32Array, saved: Float32Array): Float32Array;
}

/** ReLU: max(x, 0), like torch.nn.ReLU (Keras Activation('relu')). */
export class ReLU extends ElementwiseLayer {
  protected compute(x: Tensor, train: boolean): Tensor {
    const y = x.data.map((v) => (v > 0 ? v : 0));
    if (train) this.saved = y;
    return new Tensor(y, x.shape);
  }
  protected gradient(dy: Float32Array, y: Float32Array): Float32Array {
    return dy.map((d, i) => (y[i] > 0 ? d : 0));
  }
}

/** Hyperbolic tangent, like torch.nn.Tanh (Keras Activation('tanh')). */
export class Tanh extends ElementwiseLayer {
  protected compute(x: Tensor, train: boolean): Tensor {
    const y = x.data.map(Math.tanh);
    if (train) this.saved = y;
    return new Tensor(y, x.shape);
  }
  protected gradient(dy: Float32Array, y: Float32Array): Float32Array {
    return dy.map((d, i) => d * (1 - y[i] * y[i]));
  }
}

/** Logistic sigmoid 1 / (1 + e^−x), like torch.nn.Sigmoid (Keras Activation('sigmoid')). */
export class Sigmoid extends ElementwiseLayer {
  protected compute(x: Tensor, train: boolean): Tensor {
    const y = x.data.map((v) => 1 / (1 + Math.exp(-v)));
    if (train) this.saved = y;
    return new Tensor(y, x.shape);
  }
  protected gradient(dy: Float32Array, y: Float32Array): Float32Array {
    return dy.map((d, i) => d * y[i] * (1 - y[i]));
  }
}

/** Options of `new Dropout(…)` (torch.nn.Dropout's `p`; `inplace` is rejected: outputs are always new tensors). */
export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1); default 0.5. */
  p?: number;
  /** Seed of this layer's own mask generator (a fixed default, so runs repeat). */
  seed?: number;
}

const DROPOUT_KEYS = optionKeys<DropoutOptions>({ p: true, seed: true });

/**
 * Inverted dropout, like torch.nn.Dropout (Keras Dropout): in training, zeroes each element with probability p and scales the rest by 1/(1 − p);
 * the identity outside training. Masks come from this layer's own seeded generator.
 */
export class Dropout extends ElementwiseLayer {
  /** Probability of zeroing an element in training. */
  readonly p: number;
  private readonly uniform: () => number;

  /** Throws ArgumentError for p outside [0, 1) or an unknown option. */
  constructor(options?: DropoutOptions) {
    super();
    const checked = strictOptions(options, DROPOUT_KEYS, 'Dropout', { inplace: 'outputs are always new tensors' });
    const p = checked.p ?? 0.5;
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new ArgumentError(`Dropout: p must be in [0, 1), got ${String(p)}`);
    this.p = p;
    this.uniform = seededRandom(checked.seed ?? 0x2545f491);
  }

  protected compute(x: Tensor, train: boolean): Tensor {
    if (!train || this.p === 0) {
      if (train) this.saved = new Float32Array(x.data.length).fill(1);
      return new Tensor(x.data.slice(), x.shape);
    }
    const scale = 1 / (1 - this.p);
    const mask = new Float32Array(x.data.length);
    for (let i = 0; i < mask.length; i++) mask[i] = this.uniform() < this.p ? 0 : scale;
    this.saved = mask;
    return new Tensor(x.data.map((v, i) => v * mask[i]), x.shape);
  }

  protected gradient(dy: Float32Array, mask: Float32Array): Float32Array {
    return dy.map((d, i) => d * mask[i]);
  }
}

/**
 * log_softmax over the last axis, computed stably in float64 (like torch.nn.functional.log_softmax(x, -1)):
 * [..., C] → [..., C]. Throws ShapeError for an empty last axis.
 */
export function logSoftmax(input: TensorLike): Tensor {
  const x = toTensor(input, 'logSoftmax: input');
  const C = x.shape[x.shape.length - 1];
  if (!(C >= 1)) throw new ShapeError(`logSoftmax: expected at least one class on the last axis, got shape ${formatShape(x.shape)}`);
  const out = new Float32Array(x.data.length);
  for (let row = 0; row < x.data.length; row += C) {
    let max = -Infinity;
    for (let j = 0; j < C; j++) max = Math.max(max, x.data[row + j]);
    let sum = 0;
    for (let j = 0; j < C; j++) sum += Math.exp(x.data[row + j] - max);
    const logSum = max + Math.log(sum);
    for (let j = 0; j < C; j++) out[row + j] = x.data[row + j] - logSum;
  }
  return new Tensor(out, x.shape);
}

/** log_softmax over the last axis as a layer, like torch.nn.LogSoftmax(dim=-1): backward dx = dy − softmax · Σ dy. */
export class LogSoftmax extends ElementwiseLayer {
  protected compute(x: Tensor, train: boolean): Tensor {
    const y = logSoftmax(x);
    if (train) this.saved = y.data;
    this.savedShape = x.shape;
    return y;
  }
  protected gradient(dy: Float32Array, logProbs: Float32Array): Float32Array {
    const C = this.savedShape[this.savedShape.length - 1];
    const dx = new Float32Array(dy.length);
    for (let row = 0; row < dy.length; row += C) {
      let sum = 0;
      for (let j = 0; j < C; j++) sum += dy[row + j];
      for (let j = 0; j < C; j++) dx[row + j] = dy[row + j] - Math.exp(logProbs[row + j]) * sum;
    }
    return dx;
  }
}
