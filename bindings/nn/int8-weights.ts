// Int8 weights of the quantized modules (quantizeDynamic, nn/quantized.ts): symmetric per-output-row quantization,
// packing for the integer kernels (assembly/quantized.ts), and the state-dict form every quantized module shares —
// a weight's int8 codes under its own name, its f32 row scales under `name.scale` — with its validation.

import { ArgumentError, StateDictError } from '../errors.js';
import { describe } from '../options.js';
import { Layout, heapF32, kernels, reserveArena, writeF32 } from '../runtime.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';

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

/** The rows [first, first + count) of a quantized weight. */
export function sliceRows(weight: Int8Weight, first: number, count: number): Int8Weight {
  const { columns } = weight;
  return { codes: weight.codes.slice(first * columns, (first + count) * columns), scales: weight.scales.slice(first, first + count), rows: count, columns };
}

/** Quantized weights of equal width stacked by rows (per-row quantization commutes with stacking). */
export function stackRows(parts: readonly Int8Weight[]): Int8Weight {
  if (parts.length === 1) return parts[0];
  const rows = parts.reduce((sum, part) => sum + part.rows, 0), columns = parts[0].columns;
  const codes = new Int8Array(rows * columns), scales = new Float32Array(rows);
  let row = 0;
  for (const part of parts) {
    codes.set(part.codes, row * columns);
    scales.set(part.scales, row);
    row += part.rows;
  }
  return { codes, scales, rows, columns };
}

/** Packs a quantized weight for gemmInt8 into `dst` (kernels().quantizedWeightBytes(rows, columns) bytes). */
export function packInt8(dst: number, weight: Int8Weight): void {
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
export function splitQuantizedDict(where: string, dict: Record<string, TensorLike>, weightNames: readonly string[]):
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

/**
 * The quantized state dict in the order of `names`: an int8 weight as its codes [rows, columns] and `name.scale`
 * [rows], anything else from `floats`.
 */
export function quantizedDict(names: readonly string[], floats: Record<string, Tensor>, weights: ReadonlyMap<string, Int8Weight>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of names) {
    const weight = weights.get(name);
    if (!weight) {
      if (Object.hasOwn(floats, name)) out[name] = floats[name];
      continue;
    }
    out[name] = new Tensor(Float32Array.from(weight.codes), [weight.rows, weight.columns]);
    out[name + SCALE_SUFFIX] = new Tensor(weight.scales.slice(), [weight.rows]);
  }
  return out;
}

/**
 * How a quantized class's int8 weights go out of and into state dicts (ParameterizedModule's static `quantized`;
 * nn/quantized.ts gives its classes { stateDict: quantizedDict, split: splitQuantizedDict }).
 */
export interface Int8Codec {
  /** The state dict in the order of `names`, the int8 weights as codes + `.scale` (quantizedDict). */
  stateDict(names: readonly string[], floats: Record<string, Tensor>, weights: ReadonlyMap<string, Int8Weight>): Record<string, Tensor>;
  /** A state dict split into validated int8 weights and the rest (splitQuantizedDict). */
  split(where: string, dict: Record<string, TensorLike>, weightNames: readonly string[]): { weights: Map<string, Int8Weight>; floats: Record<string, TensorLike> };
}

/** The error of a training call on a quantized module. */
export function inferenceOnly(name: string, what: string): ArgumentError {
  return new ArgumentError(`${name}.${what}: a quantized module is inference-only (int8 weights); train the f32 module and quantize it again`);
}
