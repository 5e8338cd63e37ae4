// Losses with PyTorch's semantics, each returning the loss and its gradient with respect to the input.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { choiceOption, describe, integerId, optionKeys, sameShape, strictOptions } from '../options.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
import { logSoftmax } from './layers.js';

/** How a loss reduces its terms (PyTorch's `reduction`; 'none' is not offered). */
export type Reduction = 'mean' | 'sum';

/** What every loss returns: the value and its gradient, so no autograd is needed (pass `grad` to a backward()). */
export interface LossResult {
  /** The loss value. */
  loss: number;
  /** dLoss/d(input), shaped like the input. */
  grad: Tensor;
}

/** The options of crossEntropy and nllLoss. */
export interface ClassLossOptions {
  /** 'mean' (default) over the non-ignored rows, or 'sum'. */
  reduction?: Reduction;
  /** Rows with this target are left out of the loss (PyTorch's ignore_index), default −100. */
  ignoreIndex?: number;
}

const CLASS_LOSS_KEYS = optionKeys<ClassLossOptions>({ reduction: true, ignoreIndex: true });
/** Options of PyTorch's losses that these do not have. */
const WEIGHTS = { weight: 'weights on the terms of the loss are not implemented' };
const UNSUPPORTED_CLASS_LOSS = { ...WEIGHTS, labelSmoothing: 'label smoothing is not implemented' };

function reductionOption(reduction: unknown, where: string): Reduction {
  return choiceOption(reduction, 'reduction', ['mean', 'sum'] as const, 'mean', where);
}

/** Class ids of the N rows of an [N, C] input: shape [N], integers in [0, C) or ignoreIndex. */
function classTargets(targets: TensorLike, input: Tensor, ignoreIndex: number, where: string): Int32Array {
  const [N, C] = input.shape;
  const ids = toTensor(targets, `${where}: targets`);
  if (!sameShape(ids.shape, [N])) {
    throw new ShapeError(`${where}: expected targets of shape ${formatShape([N])} (one class id per row of the input ${formatShape(input.shape)}), got ${formatShape(ids.shape)}`);
  }
  const extra = { value: ignoreIndex, meaning: 'ignoreIndex' };
  return Int32Array.from(ids.data, (id, i) => integerId(id, `targets[${i}]`, C, where, extra));
}

function rowsOf(x: Tensor, where: string): [number, number] {
  if (x.shape.length !== 2) throw new ShapeError(`${where}: expected input of shape [N, C], got ${formatShape(x.shape)}`);
  return [x.shape[0], x.shape[1]];
}

/** nll_loss of log-probabilities x [N, C]; `where` names the public function in messages. */
function negativeLogLikelihood(x: Tensor, targets: TensorLike, options: ClassLossOptions | undefined, where: string): LossResult {
  const [N, C] = rowsOf(x, where);
  const opts = strictOptions(options, CLASS_LOSS_KEYS, where, UNSUPPORTED_CLASS_LOSS);
  const reduction = reductionOption(opts.reduction, where);
  const ignoreIndex = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new ArgumentError(`${where}: ignoreIndex must be an integer, got ${describe(ignoreIndex)}`);
  const t = classTargets(targets, x, ignoreIndex, where);
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
 * Negative log-likelihood of log-probabilities [N, C] at class ids [N] (like torch.nn.functional.nll_loss).
 * Throws ShapeError for an input that is not [N, C] or targets that are not [N], ArgumentError for a target that
 * is not an integer in [0, C) or ignoreIndex, or for an unknown or unsupported option (`weight`, `labelSmoothing`).
 */
export function nllLoss(logProbs: TensorLike, targets: TensorLike, opts?: ClassLossOptions): LossResult {
  return negativeLogLikelihood(toTensor(logProbs, 'nllLoss: input'), targets, opts, 'nllLoss');
}

/**
 * Cross-entropy of logits [N, C] against class ids [N] (like torch.nn.functional.cross_entropy = log_softmax +
 * nll_loss; Keras' sparse categorical cross-entropy from logits): mean over the non-ignored rows by default.
 * grad = (softmax − onehot) · scale. Throws as nllLoss does.
 */
export function crossEntropy(logits: TensorLike, targets: TensorLike, opts?: ClassLossOptions): LossResult {
  const x = toTensor(logits, 'crossEntropy: input');
  const [N, C] = rowsOf(x, 'crossEntropy');
  const logProbs = logSoftmax(x);
  const { loss, grad } = negativeLogLikelihood(logProbs, targets, opts, 'crossEntropy');
  // d(nll)/d(logits) = softmax · Σ_j d(nll)/d(logp_j) − ... = softmax·(−Σ g) + g for g = d(nll)/d(logp).
  const out = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    let sum = 0;
    for (let j = 0; j < C; j++) sum += grad.data[i * C + j];
    for (let j = 0; j < C; j++) out[i * C + j] = grad.data[i * C + j] - Math.exp(logProbs.data[i * C + j]) * sum;
  }
  return { loss, grad: new Tensor(out, x.shape) };
}

/** The input and target of a loss over values, validated: same shape. */
function valuePair(input: TensorLike, target: TensorLike, where: string): [Tensor, Tensor] {
  const x = toTensor(input, `${where}: input`);
  const y = toTensor(target, `${where}: target`);
  if (!sameShape(x.shape, y.shape)) throw new ShapeError(`${where}: expected target of shape ${formatShape(x.shape)}, got ${formatShape(y.shape)}`);
  return [x, y];
}

/** Options of `mse`. */
export interface MseOptions {
  /** 'mean' (default) over all elements, or 'sum'. */
  reduction?: Reduction;
}

const MSE_KEYS = optionKeys<MseOptions>({ reduction: true });

/**
 * Mean squared error of input against target, any shape (like torch.nn.functional.mse_loss, Keras 'mse').
 * Throws ShapeError when the shapes differ, ArgumentError for an unknown option.
 */
export function mse(input: TensorLike, target: TensorLike, opts?: MseOptions): LossResult {
  const [x, y] = valuePair(input, target, 'mse');
  const reduction = reductionOption(strictOptions(opts, MSE_KEYS, 'mse').reduction, 'mse');
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

/** Options of `bceWithLogits` (`weight` is rejected: per-element weights are not implemented). */
export interface BceOptions {
  /** 'mean' (default) over all elements, or 'sum'. */
  reduction?: Reduction;
  /** Weight of the positive class' term (PyTorch's pos_weight, one number for every element), default 1. */
  posWeight?: number;
}

const BCE_KEYS = optionKeys<BceOptions>({ reduction: true, posWeight: true });

/**
 * Binary cross-entropy on logits of any shape against targets in [0, 1] of the same shape (like
 * torch.nn.functional.binary_cross_entropy_with_logits; Keras binary cross-entropy from logits), stable form
 * max(x, 0) − x·y + log(1 + e^−|x|); grad = (σ(x) − y) · scale, with an optional positive-class weight.
 * Throws ShapeError when the shapes differ, ArgumentError for a non-finite posWeight or an unknown option.
 */
export function bceWithLogits(input: TensorLike, target: TensorLike, options?: BceOptions): LossResult {
  const [x, y] = valuePair(input, target, 'bceWithLogits');
  const opts = strictOptions(options, BCE_KEYS, 'bceWithLogits', WEIGHTS);
  const reduction = reductionOption(opts.reduction, 'bceWithLogits');
  const posWeight = opts.posWeight ?? 1;
  if (typeof posWeight !== 'number' || !Number.isFinite(posWeight)) throw new ArgumentError(`bceWithLogits: posWeight must be a finite number, got ${describe(posWeight)}`);
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
