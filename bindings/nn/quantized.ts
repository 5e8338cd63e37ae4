// Dynamic int8 quantization (PyTorch's quantize_dynamic, onnxruntime's DynamicQuantizeLSTM): inference-only copies of
// RNN, LSTM, GRU, Linear and the tree models whose weights are int8 per output row (w ≈ code · scale, f32 scales), multiplied by the
// integer kernels of assembly/quantized.ts with activations quantized per row on every step; biases and cells stay f32.
// The recurrent ones run the same sequence driver and cells as their f32 classes (the plan's INT8 flag picks the GEMM),
// the tree ones the same level loop (TreePlan.INT8). The int8 weights' own code (quantize, pack, state dict): int8-weights.ts.
// Their state dict: each weight as its int8 codes (`weight_ih_l0`, integers in [−127, 127]) and its row scales
// (`weight_ih_l0.scale` [rows]); everything else as in the f32 module. saveQuantized / loadQuantized: safetensors.

import { ArgumentError, StateDictError } from '../errors.js';
import { describe, optionKeys, strictOptions } from '../options.js';
import { Layout, kernels, readF32, reserveArena, writeF32 } from '../runtime.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
import {
  SCALE_SUFFIX, inferenceOnly, packInt8, quantizeRows, quantizedDict, sliceRows, splitQuantizedDict, type Int8Weight,
} from './int8-weights.js';
import { TreeModule, type TreeModelKind, type TreeModuleOptions } from './tree/modules.js';
import { Linear, type LinearOptions } from './linear.js';
import type { LoadReport, Module } from './module.js';
import type { LoadOptions } from './parameters.js';
import { GRU, LSTM, RNN, type GRUOptions, type Int8Entry, type LSTMOptions, type RNNOptions, type RecurrentModule } from './recurrent.js';
import { VariantFlag } from '../../assembly/abi.js';

/** Options of quantizeDynamic. */
export interface QuantizeOptions {
  /** The weight type: 'int8' (symmetric, per output row). */
  dtype: 'int8';
}

const QUANTIZE_KEYS = optionKeys<QuantizeOptions>({ dtype: true });

export { SCALE_SUFFIX, quantizeRows, type Int8Weight } from './int8-weights.js';

/** codes · scale as f32 (the weights the quantized module computes with). */
function dequantize(weight: Int8Weight): Float32Array {
  const out = new Float32Array(weight.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = weight.codes[i] * weight.scales[Math.floor(i / weight.columns)];
  return out;
}

/** The int8 side of a quantized RNN / LSTM / GRU: its weights, their packed blobs and the plan's table of them. */
class RecurrentInt8 {
  weights = new Map<string, Int8Weight>();
  entries: Int8Entry[] | null = null;

  constructor(readonly names: readonly string[]) {}

  /** Packs the weights into blobs from `alloc` (once) and returns the table; `resetBefore`: GRU's n rows apart. */
  pack(alloc: (bytes: number) => number, layers: number, directions: number, resetBefore: boolean): Int8Entry[] {
    const { quantizedWeightBytes } = kernels();
    const blob = (weight: Int8Weight) => ({ weight, bytes: quantizedWeightBytes(weight.rows, weight.columns) });
    const plan: Array<Array<{ weight: Int8Weight; bytes: number } | null>> = [];
    for (let layer = 0; layer < layers; layer++) {
      for (const suffix of ['', '_reverse'].slice(0, directions)) {
        const ih = this.weights.get(`weight_ih_l${layer}${suffix}`)!, hh = this.weights.get(`weight_hh_l${layer}${suffix}`)!;
        const hr = this.weights.get(`weight_hr_l${layer}${suffix}`);
        const hidden = resetBefore ? hh.rows / 3 : 0;
        plan.push([blob(ih), blob(resetBefore ? sliceRows(hh, 0, 2 * hidden) : hh), hr ? blob(hr) : null,
          resetBefore ? blob(sliceRows(hh, 2 * hidden, hidden)) : null]);
      }
    }
    if (!this.entries) {
      // One block for every blob of the module (allocation may grow memory: before any packing).
      const layout = new Layout();
      const offsets = plan.map((parts) => parts.map((part) => (part ? layout.take(part.bytes) : -1)));
      const block = alloc(layout.size);
      this.entries = offsets.map(([ih, hh, hr, hn]) => ({ ih: block + ih, hh: block + hh, hr: hr < 0 ? 0 : block + hr, hn: hn < 0 ? 0 : block + hn }));
    }
    plan.forEach((parts, index) => {
      const entry = this.entries![index];
      [entry.ih, entry.hh, entry.hr, entry.hn].forEach((ptr, part) => {
        if (parts[part]) packInt8(ptr, parts[part]!.weight);
      });
    });
    return this.entries;
  }
}

/** The weight names of a recurrent module's state dict (those quantized). */
const recurrentWeightNames = (names: readonly string[]) => names.filter((name) => /^weight_(ih|hh|hr)_l\d+(_reverse)?$/.test(name));

// One quantized class per f32 class (so that `instanceof LSTM`, options() and the rest keep working); their shared
// body is repackRecurrent and loadRecurrent below.

/** Int8 RNN (see quantizeDynamic): the API of RNN for inference; its state dict holds int8 codes and `.scale`s. */
export class QuantizedRNN extends RNN {
  /** @internal */
  readonly int8 = new RecurrentInt8(recurrentWeightNames(Object.keys(this.parameterShapes())));
  constructor(options: RNNOptions) {
    super(options);
  }
  protected override int8Entries(): readonly Int8Entry[] | null {
    return this.int8?.entries ?? null;
  }
  /** @internal */
  override parametersChanged(): void {
    super.parametersChanged();
    repackRecurrent(this, (bytes) => this.allocOwned(bytes), false);
  }
  override backward(): never {
    throw inferenceOnly(this.constructor.name, 'backward');
  }
  override stateDict(): Record<string, Tensor> {
    return withInt8(super.stateDict(), this.int8.weights);
  }
  override loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    return loadRecurrent(this, dict, (floats) => super.loadStateDict(floats, opts));
  }
  /** @internal */
  relink(): void {
    this.relinkWeights();
  }
}

/** Int8 LSTM (see quantizeDynamic): the API of LSTM for inference; its state dict holds int8 codes and `.scale`s. */
export class QuantizedLSTM extends LSTM {
  /** @internal */
  readonly int8 = new RecurrentInt8(recurrentWeightNames(Object.keys(this.parameterShapes())));
  constructor(options: LSTMOptions) {
    super(options);
  }
  protected override int8Entries(): readonly Int8Entry[] | null {
    return this.int8?.entries ?? null;
  }
  /** @internal */
  override parametersChanged(): void {
    super.parametersChanged();
    repackRecurrent(this, (bytes) => this.allocOwned(bytes), false);
  }
  override backward(): never {
    throw inferenceOnly(this.constructor.name, 'backward');
  }
  override stateDict(): Record<string, Tensor> {
    return withInt8(super.stateDict(), this.int8.weights);
  }
  override loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    return loadRecurrent(this, dict, (floats) => super.loadStateDict(floats, opts));
  }
  /** @internal */
  relink(): void {
    this.relinkWeights();
  }
}

/** Int8 GRU (see quantizeDynamic): the API of GRU for inference; its state dict holds int8 codes and `.scale`s. */
export class QuantizedGRU extends GRU {
  /** @internal */
  readonly int8 = new RecurrentInt8(recurrentWeightNames(Object.keys(this.parameterShapes())));
  constructor(options: GRUOptions) {
    super(options);
  }
  protected override int8Entries(): readonly Int8Entry[] | null {
    return this.int8?.entries ?? null;
  }
  /** @internal */
  override parametersChanged(): void {
    super.parametersChanged();
    repackRecurrent(this, (bytes) => this.allocOwned(bytes), (this.variant.flags & VariantFlag.GRU_RESET_BEFORE) !== 0);
  }
  override backward(): never {
    throw inferenceOnly(this.constructor.name, 'backward');
  }
  override stateDict(): Record<string, Tensor> {
    return withInt8(super.stateDict(), this.int8.weights);
  }
  override loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    return loadRecurrent(this, dict, (floats) => super.loadStateDict(floats, opts));
  }
  /** @internal */
  relink(): void {
    this.relinkWeights();
  }
}

/** An f32 state dict with its int8 weights as codes + `.scale` in their places. */
function withInt8(floats: Record<string, Tensor>, weights: ReadonlyMap<string, Int8Weight>): Record<string, Tensor> {
  return quantizedDict(Object.keys(floats), floats, weights);
}

type AnyQuantizedRecurrent = QuantizedRNN | QuantizedLSTM | QuantizedGRU;

/** Any module quantizeDynamic returns: the int8 RNN, LSTM, GRU, Linear or tree model. */
export type QuantizedModule = QuantizedRNN | QuantizedLSTM | QuantizedGRU | QuantizedLinear | QuantizedTreeModule;

/** After the f32 parameters changed (loading): packs the int8 weights, once they exist, and points the plan at them. */
function repackRecurrent(module: AnyQuantizedRecurrent, alloc: (bytes: number) => number, resetBefore: boolean): void {
  // parametersChanged runs in the f32 constructor too, before the int8 side exists.
  if (!module.int8 || module.int8.weights.size === 0) return;
  const fresh = module.int8.entries === null;
  module.int8.pack(alloc, module.numLayers, module.directions, resetBefore);
  if (fresh) module.relink();
}

/** loadStateDict of a quantized recurrent module: int8 codes + scales for the weights, f32 for the rest. */
function loadRecurrent(module: AnyQuantizedRecurrent, dict: Record<string, TensorLike>, loadFloats: (floats: Record<string, TensorLike>) => LoadReport): LoadReport {
  const where = `${module.constructor.name}.loadStateDict`;
  const { weights, floats } = splitQuantizedDict(where, dict, module.int8.names);
  const previous = module.int8.weights;
  // The f32 parameters hold the dequantized weights (loadFloats checks every name and shape, strict or not).
  for (const [name, weight] of weights) floats[name] = new Tensor(dequantize(weight), [weight.rows, weight.columns]);
  module.int8.weights = new Map([...previous, ...weights]);
  const missing = module.int8.names.filter((name) => !module.int8.weights.has(name));
  if (missing.length > 0) {
    module.int8.weights = previous;
    throw new StateDictError(`${where}: missing the int8 weights ${missing.join(', ')} (each with its ${SCALE_SUFFIX})`);
  }
  try {
    return loadFloats(floats);
  } catch (error) {
    module.int8.weights = previous;
    throw error;
  }
}

/** Int8 Linear (see quantizeDynamic): y = x·Wᵀ + b with W int8 per output row; inference only. */
export class QuantizedLinear extends Linear {
  /** @internal */
  int8: Int8Weight | null = null;
  private blob = 0;
  constructor(options: LinearOptions) {
    super(options);
  }
  /** @internal */
  override parametersChanged(): void {
    super.parametersChanged();
    if (!this.int8) return;
    if (this.blob === 0) this.blob = this.allocOwned(kernels().quantizedWeightBytes(this.outFeatures, this.inFeatures));
    packInt8(this.blob, this.int8);
  }
  /** [..., in] → [..., out]. */
  override forward(input: TensorLike, options?: { train?: boolean }): Tensor {
    this.checkAlive();
    const opts = strictOptions(options, ['train'], 'QuantizedLinear.forward');
    if (opts.train) throw inferenceOnly('QuantizedLinear', 'forward');
    const x = toTensor(input, 'QuantizedLinear.forward: input');
    if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== this.inFeatures) return super.forward(x); // its ShapeError
    const rows = x.data.length / this.inFeatures;
    const layout = new Layout();
    const xAt = layout.take(x.data.length * 4);
    const yAt = layout.take(rows * this.outFeatures * 4);
    const base = reserveArena(layout.size);
    writeF32(base + xAt, x.data);
    const bias = this.bias ? this.store.get('bias').ptr : 0;
    kernels().gemmInt8(base + yAt, base + xAt, this.blob, bias, rows, this.outFeatures, this.inFeatures, false);
    return new Tensor(readF32(base + yAt, rows * this.outFeatures), [...x.shape.slice(0, -1), this.outFeatures]);
  }
  override backward(): never {
    throw inferenceOnly('QuantizedLinear', 'backward');
  }
  override stateDict(): Record<string, Tensor> {
    return withInt8(super.stateDict(), new Map(this.int8 ? [['weight', this.int8]] : []));
  }
  override loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    const { weights, floats } = splitQuantizedDict('QuantizedLinear.loadStateDict', dict, ['weight']);
    const previous = this.int8;
    const weight = weights.get('weight');
    if (weight) {
      floats.weight = new Tensor(dequantize(weight), [weight.rows, weight.columns]);
      this.int8 = weight;
    }
    try {
      return super.loadStateDict(floats, opts);
    } catch (error) {
      this.int8 = previous;
      throw error;
    }
  }
}

/**
 * Base of the int8 tree models (see quantizeDynamic): the forward of TreeModule, every option, over int8 weight
 * matrices (per output row, f32 scales; each node's x and children's states quantized per row in every product) and
 * f32 biases and cells. Holds no f32 copy of the weights. Its state dict: each weight matrix as int8 codes under
 * its name (`W_iou`) and its row scales (`W_iou.scale`), the biases in f32. Inference only: backward() and
 * forward with `train: true` throw ArgumentError.
 */
export abstract class QuantizedTreeModule extends TreeModule {
  protected constructor(kind: TreeModelKind, options: TreeModuleOptions) {
    super(kind, options, 'int8');
  }

  /** @internal The names of the weight matrices, held in int8. */
  get int8Names(): string[] {
    return this.modelParameters.filter((param) => param.shape.length === 2).map((param) => param.name);
  }

  /** The int8 codes and `.scale` of each weight matrix and the f32 biases, in PyTorch's parameter order. */
  override stateDict(): Record<string, Tensor> {
    const floats = super.stateDict();
    return quantizedDict(this.modelParameters.map((param) => param.name), floats, this.int8Weights ?? new Map());
  }

  /**
   * Loads a quantized state dict (as stateDict() gives): codes in [−127, 127] and finite scales ≥ 0 of the
   * model's shapes for every weight matrix, f32 biases; nothing changes unless all of it is valid. Throws
   * StateDictError otherwise (a missing or unexpected key only with `strict`, the default).
   */
  override loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    const where = `${this.constructor.name}.loadStateDict`;
    const names = this.int8Names;
    const { weights, floats } = splitQuantizedDict(where, dict, names);
    for (const [name, weight] of weights) {
      const expected = this.modelParameters.find((param) => param.name === name)!.shape;
      if (weight.rows !== expected[0] || weight.columns !== expected[1]) {
        throw new StateDictError(`${where}: size mismatch for "${name}": expected [${expected.join(', ')}], got [${weight.rows}, ${weight.columns}]`);
      }
    }
    // Strict: every weight given; not strict: the ones not given kept from an earlier load (none yet: all given).
    const merged = new Map([...(opts?.strict === false ? this.int8Weights ?? [] : []), ...weights]);
    const missing = names.filter((name) => !merged.has(name));
    if (missing.length > 0) throw new StateDictError(`${where}: missing the int8 weights ${missing.join(', ')} (each with its ${SCALE_SUFFIX})`);
    const previous = this.int8Weights;
    this.int8Weights = merged;
    try {
      const report = super.loadStateDict(floats, opts);
      return { missingKeys: [...names.filter((name) => !weights.has(name)), ...report.missingKeys], unexpectedKeys: report.unexpectedKeys };
    } catch (error) {
      this.int8Weights = previous;
      throw error;
    }
  }
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
  return withInt8(dict, weights);
}

/**
 * Dynamic quantization (PyTorch's `torch.ao.quantization.quantize_dynamic(model, dtype=torch.qint8)`): a new,
 * inference-only module with the same API (forward with every option, stream, stateDict, dispose) whose weights are
 * int8, symmetric per output row with f32 scales; activations are quantized per row on every step (int8 too),
 * products summed exactly in int32 (`i32x4.dot_i16x8_s`), then dequantized, biased and fed to the same f32 cells.
 * The module given is left untouched. Supports RNN, LSTM, GRU, Linear and the tree models (TreeRNN,
 * ChildSumTreeLSTM, BinaryTreeLSTM: each level's products in int8).
 * Throws ArgumentError for other modules, training calls on the result, or options other than `{ dtype: 'int8' }`.
 * @example const small = quantizeDynamic(lstm, { dtype: 'int8' }); const { output } = small.forward(x);
 */
export function quantizeDynamic(module: RNN, options: QuantizeOptions): QuantizedRNN;
export function quantizeDynamic(module: LSTM, options: QuantizeOptions): QuantizedLSTM;
export function quantizeDynamic(module: GRU, options: QuantizeOptions): QuantizedGRU;
export function quantizeDynamic(module: Linear, options: QuantizeOptions): QuantizedLinear;
export function quantizeDynamic(module: RecurrentModule, options: QuantizeOptions): QuantizedRNN | QuantizedLSTM | QuantizedGRU;
export function quantizeDynamic(module: TreeModule, options: QuantizeOptions): QuantizedTreeModule;
export function quantizeDynamic(module: Module, options: QuantizeOptions): Module;
export function quantizeDynamic(module: Module, options: QuantizeOptions): Module {
  const checked = strictOptions(options, QUANTIZE_KEYS, 'quantizeDynamic');
  if (checked.dtype !== 'int8') throw new ArgumentError(`quantizeDynamic: dtype must be 'int8', got ${describe(checked.dtype)}`);
  const quantized = emptyQuantized(module);
  try {
    quantized.loadStateDict(quantizeStateDict(module.stateDict(), quantizedWeightNames(quantized)));
  } catch (error) {
    quantized.dispose();
    throw error;
  }
  return quantized;
}

/** The names of the weights a quantized module holds in int8. */
export function quantizedWeightNames(module: QuantizedModule): readonly string[] {
  if (module instanceof QuantizedLinear) return ['weight'];
  if (module instanceof QuantizedTreeModule) return module.int8Names;
  return module.int8.names;
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
  return module instanceof QuantizedRNN || module instanceof QuantizedLSTM || module instanceof QuantizedGRU || module instanceof QuantizedLinear
    || module instanceof QuantizedTreeModule;
}

/** The classes of the quantized modules by the name of their f32 class (loadQuantized). */
export type QuantizedKind = 'RNN' | 'LSTM' | 'GRU' | 'Linear' | TreeModelKind;

/** A quantized module of the given kind and options with the weights of a quantized state dict (loadQuantized). */
export function quantizedModule(kind: QuantizedKind, options: object, dict: Record<string, TensorLike>): QuantizedModule {
  const module = kind === 'LSTM' ? new QuantizedLSTM(options as LSTMOptions) : kind === 'GRU' ? new QuantizedGRU(options as GRUOptions)
    : kind === 'RNN' ? new QuantizedRNN(options as RNNOptions) : kind === 'Linear' ? new QuantizedLinear(options as LinearOptions)
      : new QUANTIZED_TREES[kind](options as TreeModuleOptions);
  try {
    module.loadStateDict(dict);
  } catch (error) {
    module.dispose();
    throw error;
  }
  return module;
}
