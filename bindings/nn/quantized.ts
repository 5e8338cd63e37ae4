// Dynamic int8 quantization (PyTorch's quantize_dynamic, onnxruntime's DynamicQuantizeLSTM): inference-only copies of
// RNN, LSTM, GRU, Linear and the tree models whose weights are int8 per output row (w ≈ code · scale, f32 scales), multiplied by the
// integer kernels of assembly/quantized.ts with activations quantized per row on every step; biases and cells stay f32.
// The recurrent ones run the same sequence driver and cells as their f32 classes (the plan's INT8 flag picks the GEMM),
// the tree ones the same level loop (TreePlan.INT8). The int8 weights' own code (quantize, pack, state dict): int8-weights.ts.
// Their state dict: each weight as its int8 codes (`weight_ih_l0`, integers in [−127, 127]) and its row scales
// (`weight_ih_l0.scale` [rows]); everything else as in the f32 module. They hold no f32 copy of the weights
// (ParameterizedModule.quantized). saveQuantized / loadQuantized: safetensors.

import { ArgumentError } from '../errors.js';
import { describe, optionKeys, strictOptions } from '../options.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { quantizeRows, quantizedDict, splitQuantizedDict, type Int8Codec, type Int8Weight } from './int8-weights.js';
import { TreeModule, type TreeModelKind, type TreeModuleOptions } from './tree/modules.js';
import { Linear, type LinearOptions } from './linear.js';
import type { Module } from './module.js';
import { ParameterizedModule, withStateDict } from './parameters.js';
import { GRU, LSTM, RNN, type GRUOptions, type LSTMOptions, type RNNOptions, type RecurrentModule } from './recurrent.js';
import type { TreeClassifier } from './tree/classifier.js';

/** A model made of modules that makes its own int8 copy (Sequential, TreeClassifier): quantizeDynamic calls it. */
interface Quantizable {
  quantize(options: QuantizeOptions): Module;
}

/** Options of quantizeDynamic. */
export interface QuantizeOptions {
  /** The weight type: 'int8' (symmetric, per output row). */
  dtype: 'int8';
}

const QUANTIZE_KEYS = optionKeys<QuantizeOptions>({ dtype: true });

export { SCALE_SUFFIX, quantizeRows, type Int8Weight } from './int8-weights.js';

/** The int8 state-dict code of every quantized class (ParameterizedModule.quantized). */
const INT8: Int8Codec = { stateDict: quantizedDict, split: splitQuantizedDict };

// One quantized class per f32 class (so that `instanceof LSTM`, options() and the rest keep working): the static
// `quantized` (the int8 state-dict codec) is their whole difference — ParameterizedModule then holds the weight
// matrices as int8 codes and scales (state dict, loading), and each f32 class packs them for gemmInt8 and runs
// forward only.

/** Int8 RNN (see quantizeDynamic): the API of RNN for inference; its state dict holds int8 codes and `.scale`s. */
export class QuantizedRNN extends RNN {
  static override readonly quantized = INT8;
}

/** Int8 LSTM (see quantizeDynamic): the API of LSTM for inference; its state dict holds int8 codes and `.scale`s. */
export class QuantizedLSTM extends LSTM {
  static override readonly quantized = INT8;
}

/** Int8 GRU (see quantizeDynamic): the API of GRU for inference; its state dict holds int8 codes and `.scale`s. */
export class QuantizedGRU extends GRU {
  static override readonly quantized = INT8;
}

/** Int8 Linear (see quantizeDynamic): y = x·Wᵀ + b with W int8 per output row and x quantized per row; inference only. */
export class QuantizedLinear extends Linear {
  static override readonly quantized = INT8;
}

/** Any module quantizeDynamic returns: the int8 RNN, LSTM, GRU, Linear or tree model. */
export type QuantizedModule = QuantizedRNN | QuantizedLSTM | QuantizedGRU | QuantizedLinear | QuantizedTreeModule;

/**
 * Base of the int8 tree models (see quantizeDynamic): the forward of TreeModule, every option, over int8 weight
 * matrices (per output row, f32 scales; each node's x and children's states quantized per row in every product) and
 * f32 biases and cells. Holds no f32 copy of the weights. Its state dict: each weight matrix as int8 codes under
 * its name (`W_iou`) and its row scales (`W_iou.scale`), the biases in f32. Inference only: backward() and
 * forward with `train: true` throw ArgumentError.
 */
export abstract class QuantizedTreeModule extends TreeModule {
  static override readonly quantized = INT8;
}

/** Int8 TreeRNN (see quantizeDynamic and QuantizedTreeModule): W_leaf and W in int8, b_leaf and b in f32. */
export class QuantizedTreeRNN extends QuantizedTreeModule {
  /** An int8 TreeRNN without weights yet (load them with loadStateDict); quantizeDynamic(treeRnn) makes one from a trained model. */
  constructor(options: TreeModuleOptions) {
    super('TreeRNN', options);
  }
}

/** Int8 ChildSumTreeLSTM (see quantizeDynamic and QuantizedTreeModule): W_iou, U_iou, W_f, U_f in int8, biases in f32. */
export class QuantizedChildSumTreeLSTM extends QuantizedTreeModule {
  /** An int8 ChildSumTreeLSTM without weights yet (load them with loadStateDict); quantizeDynamic makes one from a trained model. */
  constructor(options: TreeModuleOptions) {
    super('ChildSumTreeLSTM', options);
  }
}

/** Int8 BinaryTreeLSTM (see quantizeDynamic and QuantizedTreeModule): W_iou, U_iou, W_f, U_f in int8, biases in f32. */
export class QuantizedBinaryTreeLSTM extends QuantizedTreeModule {
  /** An int8 BinaryTreeLSTM without weights yet (load them with loadStateDict); quantizeDynamic makes one from a trained model. */
  constructor(options: TreeModuleOptions) {
    super('BinaryTreeLSTM', options);
  }
}

const QUANTIZED_TREES: Record<TreeModelKind, new (options: TreeModuleOptions) => QuantizedTreeModule> = {
  TreeRNN: QuantizedTreeRNN, ChildSumTreeLSTM: QuantizedChildSumTreeLSTM, BinaryTreeLSTM: QuantizedBinaryTreeLSTM,
};

/** Quantizes every weight of an f32 state dict named in `weightNames` and returns the quantized state dict. */
function quantizeStateDict(dict: Record<string, Tensor>, weightNames: readonly string[]): Record<string, Tensor> {
  const weights = new Map<string, Int8Weight>();
  for (const name of weightNames) {
    const [rows, columns] = dict[name].shape;
    weights.set(name, quantizeRows(dict[name].data, rows, columns));
  }
  return quantizedDict(Object.keys(dict), dict, weights);
}

/**
 * Dynamic quantization (PyTorch's `torch.ao.quantization.quantize_dynamic(model, dtype=torch.qint8)`): a new,
 * inference-only module with the same API (forward with every option, stream, stateDict, dispose) whose weights are
 * int8, symmetric per output row with f32 scales; activations are quantized per row on every step (int8 too),
 * products summed exactly in int32 (`i32x4.dot_i16x8_s`), then dequantized, biased and fed to the same f32 cells.
 * The module given is left untouched. Supports RNN, LSTM, GRU, Linear and the tree models (TreeRNN,
 * ChildSumTreeLSTM, BinaryTreeLSTM: each level's products in int8); for a Sequential or a TreeClassifier it returns
 * their `quantize(options)`.
 * Throws ArgumentError for other modules, training calls on the result, or options other than `{ dtype: 'int8' }`.
 * @example const small = quantizeDynamic(lstm, { dtype: 'int8' }); const { output } = small.forward(x);
 */
export function quantizeDynamic(module: RNN, options: QuantizeOptions): QuantizedRNN;
export function quantizeDynamic(module: LSTM, options: QuantizeOptions): QuantizedLSTM;
export function quantizeDynamic(module: GRU, options: QuantizeOptions): QuantizedGRU;
export function quantizeDynamic(module: Linear, options: QuantizeOptions): QuantizedLinear;
export function quantizeDynamic(module: RecurrentModule, options: QuantizeOptions): QuantizedRNN | QuantizedLSTM | QuantizedGRU;
export function quantizeDynamic(module: TreeModule, options: QuantizeOptions): QuantizedTreeModule;
export function quantizeDynamic(module: TreeClassifier, options: QuantizeOptions): TreeClassifier;
export function quantizeDynamic(module: Module, options: QuantizeOptions): Module;
export function quantizeDynamic(module: Module, options: QuantizeOptions): Module {
  const checked = strictOptions(options, QUANTIZE_KEYS, 'quantizeDynamic');
  if (checked.dtype !== 'int8') throw new ArgumentError(`quantizeDynamic: dtype must be 'int8', got ${describe(checked.dtype)}`);
  // Models made of modules (Sequential, TreeClassifier) quantize their parts themselves.
  const model = module as Partial<Quantizable>;
  if (!(module instanceof ParameterizedModule) && typeof model.quantize === 'function') return model.quantize(checked);
  const quantized = emptyQuantized(module);
  return withStateDict(quantized, quantizeStateDict(module.stateDict(), quantizedWeightNames(quantized)));
}

/** The names of the weights a quantized module holds in int8. */
export function quantizedWeightNames(module: QuantizedModule): readonly string[] {
  return module.int8WeightNames();
}

/** A quantized module of `module`'s kind and options, its weights still unset. */
function emptyQuantized(module: Module): QuantizedModule {
  if (isQuantized(module)) throw new ArgumentError(`quantizeDynamic: ${module.constructor.name} is already quantized`);
  if (module instanceof LSTM) return new QuantizedLSTM(module.options());
  if (module instanceof GRU) return new QuantizedGRU(module.options());
  if (module instanceof RNN) return new QuantizedRNN(module.options());
  if (module instanceof Linear) return new QuantizedLinear({ inFeatures: module.inFeatures, outFeatures: module.outFeatures, bias: module.bias });
  if (module instanceof TreeModule) return new QUANTIZED_TREES[module.kind]({ inputSize: module.inputSize, hiddenSize: module.hiddenSize });
  throw new ArgumentError(`quantizeDynamic: module must be an RNN, LSTM, GRU, Linear, TreeRNN, ChildSumTreeLSTM or BinaryTreeLSTM, got ${describe(module)}`);
}

/** Whether `module` is one of the int8 modules of quantizeDynamic. */
export function isQuantized(module: unknown): module is QuantizedModule {
  return module instanceof ParameterizedModule && (module.constructor as typeof ParameterizedModule).quantized !== null;
}

/** The classes of the quantized modules by the name of their f32 class (loadQuantized). */
export type QuantizedKind = 'RNN' | 'LSTM' | 'GRU' | 'Linear' | TreeModelKind;

/** A quantized module of the given kind and options with the weights of a quantized state dict (loadQuantized). */
export function quantizedModule(kind: QuantizedKind, options: object, dict: Record<string, TensorLike>): QuantizedModule {
  const module = kind === 'LSTM' ? new QuantizedLSTM(options as LSTMOptions) : kind === 'GRU' ? new QuantizedGRU(options as GRUOptions)
    : kind === 'RNN' ? new QuantizedRNN(options as RNNOptions) : kind === 'Linear' ? new QuantizedLinear(options as LinearOptions)
      : new QUANTIZED_TREES[kind](options as TreeModuleOptions);
  return withStateDict(module, dict);
}
