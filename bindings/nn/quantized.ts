// Dynamic int8 quantization (PyTorch's quantize_dynamic, onnxruntime's DynamicQuantizeLSTM): inference-only copies of
// RNN, LSTM, GRU and Linear whose weights are int8 per output row (w ≈ code · scale, f32 scales), multiplied by the
// integer kernels of assembly/quantized.ts with activations quantized per row on every step; biases and cells stay f32.
// The recurrent ones run the same sequence driver and cells as their f32 classes (the plan's INT8 flag picks the GEMM).
// Their state dict: each weight as its int8 codes (`weight_ih_l0`, integers in [−127, 127]) and its row scales
// (`weight_ih_l0.scale` [rows]); everything else as in the f32 module. saveQuantized / loadQuantized: safetensors.

import { ArgumentError, StateDictError } from '../errors.js';
import { describe, optionKeys, strictOptions } from '../options.js';
import { Layout, kernels, readF32, reserveArena, writeF32, heapF32 } from '../runtime.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
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

/** The suffix of a weight's scales in a quantized state dict: `weight_ih_l0.scale`. */
export const SCALE_SUFFIX = '.scale';

/** A weight [rows, columns] quantized per row: w[r, c] ≈ codes[r·columns + c] · scales[r]. */
export interface Int8Weight {
  /** The int8 codes, row-major [rows, columns], in [−127, 127]. */
  codes: Int8Array;
  /** One f32 scale per row: w ≈ code · scale. */
  scales: Float32Array;
  /** Rows of the weight (output features). */
  rows: number;
  /** Columns of the weight (input features). */
  columns: number;
}

/** Round half to even, as the kernels' f32x4.nearest. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x), rest = x - floor;
  return rest > 0.5 ? floor + 1 : rest < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Symmetric per-row int8 quantization of a row-major f32 weight: scale = max|w_r| / 127 (f32), code =
 * round(w · (127 / max|w_r|)) (the product in f32, rounded half to even), a zero row has scale 0 and codes 0.
 */
export function quantizeRows(w: Float32Array, rows: number, columns: number): Int8Weight {
  const codes = new Int8Array(rows * columns), scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let largest = 0;
    for (let c = 0; c < columns; c++) largest = Math.max(largest, Math.abs(w[r * columns + c]));
    const inverse = largest > 0 ? Math.fround(127 / largest) : 0;
    scales[r] = largest / 127;
    for (let c = 0; c < columns; c++) {
      codes[r * columns + c] = Math.min(127, Math.max(-127, roundHalfEven(Math.fround(w[r * columns + c] * inverse))));
    }
  }
  return { codes, scales, rows, columns };
}

/** codes · scale as f32 (the weights the quantized module computes with). */
function dequantize(weight: Int8Weight): Float32Array {
  const out = new Float32Array(weight.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = weight.codes[i] * weight.scales[Math.floor(i / weight.columns)];
  return out;
}

/** The rows [first, first + count) of a quantized weight. */
function sliceRows(weight: Int8Weight, first: number, count: number): Int8Weight {
  const { columns } = weight;
  return { codes: weight.codes.slice(first * columns, (first + count) * columns), scales: weight.scales.slice(first, first + count), rows: count, columns };
}

/** Packs a quantized weight for gemmInt8 into `dst` (kernels().quantizedWeightBytes(rows, columns) bytes). */
function packInt8(dst: number, weight: Int8Weight): void {
  const layout = new Layout();
  const codesAt = layout.take(weight.codes.length);
  const scalesAt = layout.take(weight.rows * 4);
  const base = reserveArena(layout.size);
  new Int8Array(heapF32().buffer, base + codesAt, weight.codes.length).set(weight.codes);
  writeF32(base + scalesAt, weight.scales);
  kernels().packInt8Weight(dst, base + codesAt, base + scalesAt, weight.rows, weight.columns);
}

/**
 * A quantized state dict split back into int8 weights and f32 tensors: every `name` with a `name.scale` entry
 * must hold integers in [−127, 127] of shape [rows, columns] and its scales [rows] finite and ≥ 0.
 */
function splitQuantizedDict(where: string, dict: Record<string, TensorLike>, weightNames: readonly string[]):
  { weights: Map<string, Int8Weight>; floats: Record<string, TensorLike> } {
  if (typeof dict !== 'object' || dict === null) throw new StateDictError(`${where}: the state dict must be an object, got ${describe(dict)}`);
  const weights = new Map<string, Int8Weight>();
  const floats: Record<string, TensorLike> = {};
  for (const [name, value] of Object.entries(dict)) {
    if (name.endsWith(SCALE_SUFFIX) && weightNames.includes(name.slice(0, -SCALE_SUFFIX.length))) continue;
    if (!weightNames.includes(name)) {
      floats[name] = value;
      continue;
    }
    if (!Object.hasOwn(dict, name + SCALE_SUFFIX)) throw new StateDictError(`${where}: ${name} needs its row scales ${name}${SCALE_SUFFIX} (int8 weights)`);
    const codes = toTensor(value, `${where}: ${name}`);
    const scales = toTensor(dict[name + SCALE_SUFFIX], `${where}: ${name}${SCALE_SUFFIX}`);
    if (codes.shape.length !== 2) throw new StateDictError(`${where}: ${name} must be a matrix [rows, columns] of int8 codes, got shape [${codes.shape.join(', ')}]`);
    const [rows, columns] = codes.shape;
    if (scales.shape.length !== 1 || scales.shape[0] !== rows) {
      throw new StateDictError(`${where}: ${name}${SCALE_SUFFIX} must have shape [${rows}], got [${scales.shape.join(', ')}]`);
    }
    const bad = codes.data.findIndex((q) => !Number.isInteger(q) || q < -127 || q > 127);
    if (bad >= 0) throw new StateDictError(`${where}: ${name} must hold integers in [−127, 127], got ${codes.data[bad]} at index ${bad}`);
    const badScale = scales.data.findIndex((s) => !(s >= 0) || !Number.isFinite(s));
    if (badScale >= 0) throw new StateDictError(`${where}: ${name}${SCALE_SUFFIX} must hold finite scales ≥ 0, got ${scales.data[badScale]} at index ${badScale}`);
    weights.set(name, { codes: Int8Array.from(codes.data), scales: Float32Array.from(scales.data), rows, columns });
  }
  return { weights, floats };
}

/** The quantized state dict: int8 weights as codes + `.scale`, the rest of `floats` as is. */
function quantizedDict(floats: Record<string, Tensor>, weights: ReadonlyMap<string, Int8Weight>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(floats)) {
    const weight = weights.get(name);
    if (!weight) {
      out[name] = tensor;
      continue;
    }
    out[name] = new Tensor(Float32Array.from(weight.codes), [weight.rows, weight.columns]);
    out[name + SCALE_SUFFIX] = new Tensor(weight.scales.slice(), [weight.rows]);
  }
  return out;
}

const inferenceOnly = (name: string, what: string) => new ArgumentError(`${name}.${what}: a quantized module is inference-only (int8 weights); train the f32 module and quantize it again`);

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
    return quantizedDict(super.stateDict(), this.int8.weights);
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
    return quantizedDict(super.stateDict(), this.int8.weights);
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
    return quantizedDict(super.stateDict(), this.int8.weights);
  }
  override loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    return loadRecurrent(this, dict, (floats) => super.loadStateDict(floats, opts));
  }
  /** @internal */
  relink(): void {
    this.relinkWeights();
  }
}

type AnyQuantizedRecurrent = QuantizedRNN | QuantizedLSTM | QuantizedGRU;

/** Any module quantizeDynamic returns: the int8 RNN, LSTM, GRU or Linear. */
export type QuantizedModule = QuantizedRNN | QuantizedLSTM | QuantizedGRU | QuantizedLinear;

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
    const scratchAt = layout.take(kernels().int8ScratchBytes(rows, this.inFeatures));
    const base = reserveArena(layout.size);
    writeF32(base + xAt, x.data);
    const bias = this.bias ? this.store.get('bias').ptr : 0;
    kernels().gemmInt8(base + yAt, base + xAt, this.blob, bias, rows, this.outFeatures, this.inFeatures, false, base + scratchAt);
    return new Tensor(readF32(base + yAt, rows * this.outFeatures), [...x.shape.slice(0, -1), this.outFeatures]);
  }
  override backward(): never {
    throw inferenceOnly('QuantizedLinear', 'backward');
  }
  override stateDict(): Record<string, Tensor> {
    return quantizedDict(super.stateDict(), new Map(this.int8 ? [['weight', this.int8]] : []));
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

/** Quantizes every weight of an f32 state dict named in `weightNames` and returns the quantized state dict. */
function quantizeStateDict(dict: Record<string, Tensor>, weightNames: readonly string[]): Record<string, Tensor> {
  const weights = new Map<string, Int8Weight>();
  for (const name of weightNames) {
    const [rows, columns] = dict[name].shape;
    weights.set(name, quantizeRows(dict[name].data, rows, columns));
  }
  return quantizedDict(dict, weights);
}

/**
 * Dynamic quantization (PyTorch's `torch.ao.quantization.quantize_dynamic(model, dtype=torch.qint8)`): a new,
 * inference-only module with the same API (forward with every option, stream, stateDict, dispose) whose weights are
 * int8, symmetric per output row with f32 scales; activations are quantized per row on every step (int8 too),
 * products summed exactly in int32 (`i32x4.dot_i16x8_s`), then dequantized, biased and fed to the same f32 cells. The module given is left untouched. Supports RNN, LSTM, GRU and Linear.
 * Throws ArgumentError for other modules, training calls on the result, or options other than `{ dtype: 'int8' }`.
 * @example const small = quantizeDynamic(lstm, { dtype: 'int8' }); const { output } = small.forward(x);
 */
export function quantizeDynamic(module: RNN, options: QuantizeOptions): QuantizedRNN;
export function quantizeDynamic(module: LSTM, options: QuantizeOptions): QuantizedLSTM;
export function quantizeDynamic(module: GRU, options: QuantizeOptions): QuantizedGRU;
export function quantizeDynamic(module: Linear, options: QuantizeOptions): QuantizedLinear;
export function quantizeDynamic(module: RecurrentModule, options: QuantizeOptions): QuantizedRNN | QuantizedLSTM | QuantizedGRU;
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
  return module instanceof QuantizedLinear ? ['weight'] : module.int8.names;
}

/** A quantized module of `module`'s kind and options, its weights still unset. */
function emptyQuantized(module: Module): QuantizedModule {
  if (isQuantized(module)) throw new ArgumentError(`quantizeDynamic: ${module.constructor.name} is already quantized`);
  if (module instanceof LSTM) return new QuantizedLSTM(module.options());
  if (module instanceof GRU) return new QuantizedGRU(module.options());
  if (module instanceof RNN) return new QuantizedRNN(module.options());
  if (module instanceof Linear) return new QuantizedLinear({ inFeatures: module.inFeatures, outFeatures: module.outFeatures, bias: module.bias });
  throw new ArgumentError(`quantizeDynamic: module must be an RNN, LSTM, GRU or Linear, got ${describe(module)}`);
}

/** Whether `module` is one of the int8 modules of quantizeDynamic. */
export function isQuantized(module: unknown): module is QuantizedModule {
  return module instanceof QuantizedRNN || module instanceof QuantizedLSTM || module instanceof QuantizedGRU || module instanceof QuantizedLinear;
}

/** A quantized module of the given kind and options with the weights of a quantized state dict (loadQuantized). */
export function quantizedModule(kind: 'RNN' | 'LSTM' | 'GRU' | 'Linear', options: object, dict: Record<string, TensorLike>): QuantizedModule {
  const module = kind === 'LSTM' ? new QuantizedLSTM(options as LSTMOptions) : kind === 'GRU' ? new QuantizedGRU(options as GRUOptions)
    : kind === 'RNN' ? new QuantizedRNN(options as RNNOptions) : new QuantizedLinear(options as LinearOptions);
  try {
    module.loadStateDict(dict);
  } catch (error) {
    module.dispose();
    throw error;
  }
  return module;
}
