// Losses with PyTorch's semantics, each returning the loss and its gradient with respect to the input.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
import { logSoftmax } from './layers.js';

export type Reduction = 'mean' | 'sum';

export interface LossResult {
  /** The loss value. */
  loss: number;
  /** dLoss/d(input), shaped like the input. */
  grad: Tensor;
}

function checkReduction(reduction: unknown, where: string): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum') throw new ArgumentError(`${where}: reduction must be 'mean' or 'sum', got ${JSON.stringify(reduction)}`);
  return reduction;
}

function classTargets(targets: ArrayLike<number>, rows: number, classes: number, ignoreIndex: number, where: string): Int32Array {
  if (targets === null || typeof targets !== 'object' || typeof targets.length !== 'number') throw new ArgumentError(`${where}: targets must be an array of class ids, got ${targets === null ? 'null' : typeof targets}`);
  if (targets.length !== rows) throw new ShapeError(`${where}: expected ${rows} targets (one per row), got ${targets.length}`);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const t = targets[i];
    if (!Number.isInteger(t) || (t !== ignoreIndex && (t < 0 || t >= classes))) {
      throw new ArgumentError(`${where}: targets[${i}] = ${t} is not a class id in [0, ${classes}) or ignoreIndex (${ignoreIndex})`);
    }
    out[i] = t;
  }
  return out;
}

function rowsOf(x: Tensor, where: string): [number, number] {
  if (x.shape.length !== 2) throw new ShapeError(`${where}: expected input of shape [N, C], got ${formatShape(x.shape)}`);
  return [x.shape[0], x.shape[1]];
}

/** Negative log-likelihood of log-probabilities [N, C] at class ids (PyTorch nll_loss). */
export function nllLoss(logProbs: TensorLike, targets: ArrayLike<number>,
                        opts: { reduction?: Reduction; ignoreIndex?: number } = {}): LossResult {
  const x = toTensor(logProbs, 'nllLoss: input');
  const [N, C] = rowsOf(x, 'nllLoss');
  const reduction = checkReduction(opts.reduction ?? 'mean', 'nllLoss');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const t = classTargets(targets, N, C, ignoreIndex, 'nllLoss');
  let counted = 0;
  let total = 0;
  for (let i = 0; i < N; i++) {
    if (t[i] === ignoreIndex) continue;
    counted++;
    total -= x.data[i * C + t[i]];
  }
  const scale = reduction === 'mean' ? 1 / counted : 1;
  const grad = new Float32Array(N * C);
  for (let i = 0; i < N; i++) if (t[i] !== ignoreIndex) grad[i * C + t[i]] = -scale;
  return { loss: total * scale, grad: new Tensor(grad, x.shape) };
}

/**
 * Cross-entropy of logits [N, C] against class ids (PyTorch cross_entropy = log_softmax + nll_loss):
 * mean over the non-ignored rows by default. grad = (softmax − onehot) · scale.
 */
export function crossEntropy(logits: TensorLike, targets: ArrayLike<number>,
                             opts: { reduction?: Reduction; ignoreIndex?: number } = {}): LossResult {
  const x = toTensor(logits, 'crossEntropy: input');
  const [N, C] = rowsOf(x, 'crossEntropy');
  const logProbs = logSoftmax(x);
  const { loss, grad } = nllLoss(logProbs, targets, opts);
  // d(nll)/d(logits) = softmax · Σ_j d(nll)/d(logp_j) − ... = softmax·(−Σ g) + g for g = d(nll)/d(logp).
  const out = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    let sum = 0;
    for (let j = 0; j < C; j++) sum += grad.data[i * C + j];
    for (let j = 0; j < C; j++) out[i * C + j] = grad.data[i * C + j] - Math.exp(logProbs.data[i * C + j]) * sum;
  }
  return { loss, grad: new Tensor(out, x.shape) };
}

function sameShape(a: Tensor, b: Tensor, where: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${where}: expected target of shape ${formatShape(a.shape)}, got ${formatShape(b.shape)}`);
  }
}

/** Mean squared error (PyTorch mse_loss). */
export function mse(input: TensorLike, target: TensorLike, opts: { reduction?: Reduction } = {}): LossResult {
  const x = toTensor(input, 'mse: input');
  const y = toTensor(target, 'mse: target');
  sameShape(x, y, 'mse');
  const reduction = checkReduction(opts.reduction ?? 'mean', 'mse');
  const scale = reduction === 'mean' ? 1 / x.data.length : 1;
  let total = 0;
  const grad = new Float32Array(x.data.length);
  for (let i = 0; i < grad.length; i++) {
    const diff = x.data[i] - y.data[i];
    total += diff * diff;
    grad[i] = 2 * diff * scale;
  }
  return { loss: total * scale, grad: new Tensor(grad, x.shape) };
}

/**
 * Binary cross-entropy on logits (PyTorch binary_cross_entropy_with_logits), stable form
 * max(x, 0) − x·y + log(1 + e^−|x|); grad = (σ(x) − y) · scale, with an optional positive-class weight.
 */
export function bceWithLogits(input: TensorLike, target: TensorLike, opts: { reduction?: Reduction; posWeight?: number } = {}): LossResult {
  const x = toTensor(input, 'bceWithLogits: input');
  const y = toTensor(target, 'bceWithLogits: target');
  sameShape(x, y, 'bceWithLogits');
  const reduction = checkReduction(opts.reduction ?? 'mean', 'bceWithLogits');
  const posWeight = opts.posWeight ?? 1;
  const scale = reduction === 'mean' ? 1 / x.data.length : 1;
  let total = 0;
  const grad = new Float32Array(x.data.length);
  for (let i = 0; i < grad.length; i++) {
    const v = x.data[i], t = y.data[i];
    const logSigmoidNeg = Math.max(-v, 0) + Math.log1p(Math.exp(-Math.abs(v))); // −log σ(x)
    const weight = 1 + (posWeight - 1) * t;
    total += (1 - t) * v + weight * logSigmoidNeg;
    const sigmoid = 1 / (1 + Math.exp(-v));
    grad[i] = (weight * (sigmoid - 1) + (1 - t)) * scale;
  }
  return { loss: total * scale, grad: new Tensor(grad, x.shape) };
}
