// The options, inputs and results of RNN, LSTM and GRU: their types and known keys, the validated
// configuration with its parameter specs, Keras-style masks, and the merge of a bidirectional output.

import { ArgumentError, ShapeError } from '../errors.js';
import { booleanOption, choiceOption, describe, positiveInteger, strictOptions } from '../options.js';
import { VariantFlag } from '../../assembly/abi.js';
import type { Activation, CellKind, CellVariant } from './recurrent-plan.js';
import type { ParameterSpec } from './parameters.js';
import type { Tensor, TensorLike } from '../tensor.js';

/** Options shared by RNN, LSTM and GRU (PyTorch names and defaults). */
export interface RecurrentOptions {
  /** Features per input step (I). */
  inputSize: number;
  /** Features of the hidden state (H). */
  hiddenSize: number;
  /** Stacked layers (L), default 1. */
  numLayers?: number;
  /** Use bias_ih / bias_hh, default true. */
  bias?: boolean;
  /** Input and output as [B, T, ·] instead of [T, B, ·], default false. h0/h/c keep [L·D, B, ·]. */
  batchFirst?: boolean;
  /** Run a reverse direction too (D = 2) and concatenate [forward, reverse], default false. */
  bidirectional?: boolean;
  /**
   * How a bidirectional module's last layer gives its two directions (Keras' merge_mode; inner layers
   * always concatenate): 'concat' (default) [.., 2P], 'sum', 'mul', 'ave' [.., P], or 'none': `output` stays
   * concatenated and `outputs` holds [forward, reverse].
   */
  mergeMode?: MergeMode;
  /**
   * PyTorch's dropout: in training forwards (train: true), each layer's output but the last is zeroed with
   * this probability and the rest scaled by 1/(1 − p), from the generator seeded by manualSeed(). Default 0.
   */
  dropout?: number;
  /** The cell's main activation: RNN h (as nonlinearity), LSTM g (and c's, unless outputActivation), GRU n. Default 'tanh'. */
  activation?: Activation;
  /** LSTM i, f, o and GRU r, z (Keras' recurrent_activation, TF.js defaults to 'hard_sigmoid'). Default 'sigmoid'. */
  recurrentActivation?: Activation;
  /** Clamp every gate pre-activation to ±clip (ONNX `clip`, as onnxruntime: an LSTM's c is not clipped). Inference only. */
  clip?: number;
}

/** How a bidirectional module's last layer combines its two directions (Keras' `merge_mode`); see RecurrentOptions.mergeMode. */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | 'none';

/** Options of `new RNN(…)`, like torch.nn.RNN's arguments: the shared RecurrentOptions plus `nonlinearity`. */
export interface RNNOptions extends Omit<RecurrentOptions, 'recurrentActivation'> {
  /** 'tanh' (default) or 'relu'; `activation` takes any Activation. Give one of the two. */
  nonlinearity?: 'tanh' | 'relu';
}

/** Options of `new LSTM(…)`, like torch.nn.LSTM's arguments (`projSize` = `proj_size`), plus ONNX's LSTM variants. */
export interface LSTMOptions extends RecurrentOptions {
  /** Project h to this size with weight_hr (P); 0 (default) means no projection. */
  projSize?: number;
  /** ONNX's third activation h, applied to c before o ⊙ ·; default: `activation`. */
  outputActivation?: Activation;
  /** Peephole connections (ONNX `P`): parameters weight_peephole_l{k} [3H], rows i, f, o. Inference only. */
  peepholes?: boolean;
  /** Couple the gates: f = 1 − i (ONNX `input_forget`). Inference only. */
  inputForget?: boolean;
}

/** Options of `new GRU(…)`, like torch.nn.GRU's arguments, plus Keras' `reset_after`. */
export interface GRUOptions extends RecurrentOptions {
  /**
   * true (default): PyTorch's n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) (Keras reset_after=True, ONNX
   * linear_before_reset=1); false: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn) (Cho et al. 2014).
   */
  resetAfter?: boolean;
}

/** The most layers a recurrent module may stack (Sequential files allow fewer: MAX_CONFIG_LAYERS). */
export const MAX_LAYERS = 10_000;

const RECURRENT_KEYS = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'mergeMode', 'activation', 'clip', 'dropout'] as const;
export const OPTION_KEYS = {
  RNN: [...RECURRENT_KEYS, 'nonlinearity'],
  LSTM: [...RECURRENT_KEYS, 'recurrentActivation', 'projSize', 'outputActivation', 'peepholes', 'inputForget'],
  GRU: [...RECURRENT_KEYS, 'recurrentActivation', 'resetAfter'],
} as const;
const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave', 'none'];

/**
 * Options of `forward(input, options)` of RNN, LSTM and GRU. Unknown keys throw ArgumentError; a wrongly shaped
 * h0 / c0 throws ShapeError; `lengths` out of 1..T, c0 on a non-LSTM, lengths with unbatched input or with `mask`,
 * and `train: true` with an inference-only variant (clip, peepholes, inputForget, outputActivation) throw ArgumentError.
 */
export interface ForwardOptions {
  /** Save what backward() needs (like autograd recording in PyTorch); default false. */
  train?: boolean;
  /** Initial hidden state [L·D, B, P] ([L·D, P] for unbatched input); zeros when absent. */
  h0?: TensorLike;
  /** Initial cell state [L·D, B, H] (LSTM only); zeros when absent. */
  c0?: TensorLike;
  /** Valid length of each batch element (pack_padded_sequence semantics, any order, 1..T). */
  lengths?: ArrayLike<number>;
  /**
   * Keras-style mask [B, T] (unbatched: [T]), batch-major whatever batchFirst says: 0/false marks a masked
   * step, which keeps the state and outputs 0; the reverse direction runs the same mask backwards in time.
   * Not together with `lengths`.
   */
  mask?: ArrayLike<number | boolean>;
}

export const FORWARD_KEYS = ['train', 'h0', 'c0', 'lengths', 'mask'] as const;
export const STREAM_KEYS = ['batch', 'h0', 'c0'] as const;
export const BACKWARD_KEYS = ['output', 'h', 'c'] as const;

/** What `forward` returns, like PyTorch's `(output, h_n)` / `(output, (h_n, c_n))`. */
export interface ForwardResult {
  /** [T, B, D·P] (or [B, T, D·P] with batchFirst; [T, D·P] for unbatched input); [.., P] with mergeMode sum, mul, ave. */
  output: Tensor;
  /** mergeMode 'none': the forward and reverse directions' outputs, each [.., P]. */
  outputs?: [Tensor, Tensor];
  /** Final hidden state of every layer and direction: [L·D, B, P]. */
  h: Tensor;
  /** Final cell state (LSTM only): [L·D, B, H]. */
  c?: Tensor;
}

/** Gradients of the loss with respect to forward()'s results; absent ones are zero. */
export interface BackwardGradients {
  /** dLoss/d(output), the shape of forward()'s `output` (after mergeMode). */
  output?: TensorLike;
  /** dLoss/d(h), [L·D, B, P] ([L·D, P] unbatched). */
  h?: TensorLike;
  /** dLoss/d(c), [L·D, B, H] (LSTM only). */
  c?: TensorLike;
}

/** Gradients with respect to forward()'s inputs (h0 and c0 are returned even when forward had zeros). */
export interface BackwardResult {
  /** dLoss/d(input), the shape of forward()'s input. */
  input: Tensor;
  /** dLoss/d(h0), [L·D, B, P] ([L·D, P] unbatched). */
  h0: Tensor;
  /** dLoss/d(c0), [L·D, B, H] (LSTM only). */
  c0?: Tensor;
}

/** Options of `module.stream(options)` (unidirectional RNN, LSTM, GRU). Shapes use L layers, B batch, P = projSize or H. */
export interface StreamOptions {
  /** Batch size B of each step; default 1, or taken from h0. */
  batch?: number;
  /** Initial hidden state [L, B, P]; zeros when absent. */
  h0?: TensorLike;
  /** Initial cell state [L, B, H] (LSTM only). */
  c0?: TensorLike;
}

/** Validated options, the parameter specs in PyTorch's state_dict order, and each (layer, direction)'s input. */
export function recurrentConfig(name: string, cell: CellKind, options: RecurrentOptions, projSize: number, variant: CellVariant) {
  const inputSize = positiveInteger(options.inputSize, 'inputSize', name);
  const hiddenSize = positiveInteger(options.hiddenSize, 'hiddenSize', name);
  // null is an error, not the default; past MAX_LAYERS construction alone takes seconds (2²⁰ layers: minutes).
  const numLayers = positiveInteger(options.numLayers === undefined ? 1 : options.numLayers, 'numLayers', name, MAX_LAYERS);
  const bias = booleanOption(options.bias, 'bias', true, name);
  const batchFirst = booleanOption(options.batchFirst, 'batchFirst', false, name);
  const bidirectional = booleanOption(options.bidirectional, 'bidirectional', false, name);
  const mergeMode = choiceOption(options.mergeMode, 'mergeMode', MERGE_MODES, 'concat', name);
  if (mergeMode !== 'concat' && !bidirectional) throw new ArgumentError(`${name}: mergeMode applies to bidirectional modules, got mergeMode '${mergeMode}' with bidirectional false`);
  const dropout = options.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new ArgumentError(`${name}: dropout must be a number in [0, 1), got ${describe(dropout)}`);
  const gates = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const outputSize = projSize > 0 ? projSize : hiddenSize;
  const H = hiddenSize, P = outputSize, G = gates, D = bidirectional ? 2 : 1;
  const specs: ParameterSpec[] = [];
  const entries: Array<{ inputSize: number; suffix: string }> = [];
  for (let layer = 0; layer < numLayers; layer++) {
    for (let direction = 0; direction < D; direction++) {
      const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
      const layerInput = layer === 0 ? inputSize : D * P;
      entries.push({ inputSize: layerInput, suffix });
      specs.push({ name: `weight_ih${suffix}`, shape: [G * H, layerInput] }, { name: `weight_hh${suffix}`, shape: [G * H, P] });
      if (bias) specs.push({ name: `bias_ih${suffix}`, shape: [G * H] }, { name: `bias_hh${suffix}`, shape: [G * H] });
      if (projSize > 0) specs.push({ name: `weight_hr${suffix}`, shape: [P, H] });
      if (variant.flags & VariantFlag.PEEPHOLES) specs.push({ name: `weight_peephole${suffix}`, shape: [3 * H] });
    }
  }
  return { inputSize, hiddenSize, numLayers, bias, batchFirst, bidirectional, mergeMode, dropout, gates, outputSize, specs, entries };
}

/** The options object of a recurrent constructor, with every key known (PyTorch's spellings are pointed to ours). */
export function checkedOptions<T extends object>(options: T, name: string, keys: readonly string[]): T {
  if (options === undefined) throw new ArgumentError(`${name}: expected an options object with inputSize and hiddenSize, got undefined`);
  return strictOptions(options, keys, name);
}

/** A [B, T] (unbatched: [T]) mask, batch-major, as time-major i32 [T, B] (1 = step runs, 0 = masked). */
export function timeMajorMask(mask: ArrayLike<number | boolean>, B: number, T: number, unbatched: boolean, name: string): Int32Array {
  if (mask === null || typeof mask !== 'object' || typeof mask.length !== 'number') {
    throw new ArgumentError(`${name}.forward: mask must be an array of ${B * T} booleans or 0/1 ([B, T] batch-major), got ${describe(mask)}`);
  }
  if (mask.length !== B * T) {
    throw new ShapeError(`${name}.forward: expected a mask of ${unbatched ? `[${T}]` : `[${B}, ${T}]`} = ${B * T} values, got ${mask.length}`);
  }
  const out = new Int32Array(T * B);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const value = mask[b * T + t];
      if (value !== true && value !== false && value !== 0 && value !== 1) {
        throw new ArgumentError(`${name}.forward: mask[${b * T + t}] must be a boolean or 0/1, got ${describe(value)}`);
      }
      out[t * B + b] = value ? 1 : 0;
    }
  }
  return out;
}

/** The two directions of a concatenated output [rows, 2P]: forward and reverse, [rows, P] each. */
export function splitDirections(output: Float32Array, P: number): [Float32Array, Float32Array] {
  const rows = output.length / (2 * P);
  const forward = new Float32Array(rows * P), reverse = new Float32Array(rows * P);
  for (let r = 0; r < rows; r++) {
    forward.set(output.subarray(2 * r * P, (2 * r + 1) * P), r * P);
    reverse.set(output.subarray((2 * r + 1) * P, (2 * r + 2) * P), r * P);
  }
  return [forward, reverse];
}

export function mergeDirections([forward, reverse]: [Float32Array, Float32Array], mode: 'sum' | 'mul' | 'ave'): Float32Array {
  const merged = new Float32Array(forward.length);
  for (let i = 0; i < merged.length; i++) {
    merged[i] = mode === 'sum' ? forward[i] + reverse[i] : mode === 'mul' ? forward[i] * reverse[i] : (forward[i] + reverse[i]) / 2;
  }
  return merged;
}

/** The gradient of the concatenated output [rows, 2P] from that of the merged one [rows, P]. */
export function unmergeGradient(gradient: Float32Array, P: number, mode: 'sum' | 'mul' | 'ave', directions?: [Float32Array, Float32Array]): Float32Array {
  const out = new Float32Array(2 * gradient.length);
  const scale = mode === 'ave' ? 0.5 : 1;
  for (let i = 0; i < gradient.length; i++) {
    const row = Math.floor(i / P), at = 2 * row * P + (i - row * P);
    out[at] = mode === 'mul' ? gradient[i] * directions![1][i] : gradient[i] * scale;
    out[at + P] = mode === 'mul' ? gradient[i] * directions![0][i] : gradient[i] * scale;
  }
  return out;
}
