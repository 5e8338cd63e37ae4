// Tensor values inside the ONNX executor: dtypes and ONNX data_type codes, shape and broadcasting helpers, and the
// decoding of TensorProto payloads.
// Floats are computed as float32 (float16 and float64 are read into float32); integer and bool tensors are kept as
// integers in a Float64Array (exact within ±2^53; int64 extremes such as Slice's INT64_MAX only need their order).

import { float16ToFloat32 } from '../../index.js';
import { OnnxError } from './errors.js';

/** The element types a value can have while the graph runs. */
export type DType = 'float32' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';
export type IntegerDType = Exclude<DType, 'float32'>;

/** A tensor flowing through the graph: float32 data for 'float32', integer values in a Float64Array otherwise. */
export interface Value {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** Largest tensor (in elements) a node may create: malformed shapes fail here instead of exhausting memory. */
const MAX_ELEMENTS = 2 ** 27;

/** ONNX TensorProto.DataType names by code (for messages), and how the supported ones are read. */
const DATA_TYPE_NAMES = [
  'UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16', 'DOUBLE', 'UINT32',
  'UINT64', 'COMPLEX64', 'COMPLEX128', 'BFLOAT16', 'FLOAT8E4M3FN', 'FLOAT8E4M3FNUZ', 'FLOAT8E5M2', 'FLOAT8E5M2FNUZ', 'UINT4',
  'INT4', 'FLOAT4E2M1',
];
const SUPPORTED: Record<number, { dtype: DType; bytes: number }> = {
  1: { dtype: 'float32', bytes: 4 }, 2: { dtype: 'uint8', bytes: 1 }, 3: { dtype: 'int8', bytes: 1 }, 6: { dtype: 'int32', bytes: 4 },
  7: { dtype: 'int64', bytes: 8 }, 9: { dtype: 'bool', bytes: 1 }, 10: { dtype: 'float32', bytes: 2 }, 11: { dtype: 'float32', bytes: 8 },
};
const FLOAT16 = 10, DOUBLE = 11;

function dataTypeName(code: number): string {
  return DATA_TYPE_NAMES[code] ?? `${code} (unknown)`;
}

/** The dtype a data_type code is computed in; OnnxError for the types this importer does not run. */
export function dtypeOf(code: number, what: string): DType {
  const entry = SUPPORTED[code];
  if (!entry) {
    throw new OnnxError(`${what} has data type ${dataTypeName(code)}; supported: FLOAT, FLOAT16, DOUBLE (computed as float32), INT64, INT32, INT8, UINT8, BOOL`);
  }
  return entry.dtype;
}

export function formatShape(shape: readonly (number | string | null)[]): string {
  return `[${shape.map((dim) => dim ?? '?').join(', ')}]`;
}

/** Number of elements; OnnxError for a dimension that is not a non-negative integer or a size above MAX_ELEMENTS. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) throw new OnnxError(`invalid shape ${formatShape(shape)}`);
    size *= dim;
  }
  if (size > MAX_ELEMENTS) throw new OnnxError(`a tensor of shape ${formatShape(shape)} has ${size} elements, more than the ${MAX_ELEMENTS} allowed`);
  return size;
}

/** A zero-filled value. */
export function allocate(dtype: DType, shape: readonly number[]): Value {
  const size = sizeOf(shape);
  return { dtype, shape, data: dtype === 'float32' ? new Float32Array(size) : new Float64Array(size) };
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

/** An axis in [-rank, rank) as a non-negative index. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new OnnxError(`${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** The numpy broadcast of several shapes. */
export function broadcastShapes(shapes: ReadonlyArray<readonly number[]>): number[] {
  const rank = Math.max(...shapes.map((shape) => shape.length));
  const out = new Array<number>(rank).fill(1);
  for (const shape of shapes) {
    for (let i = 0; i < shape.length; i++) {
      const axis = rank - shape.length + i, dim = shape[i];
      if (dim === out[axis] || dim === 1) continue;
      if (out[axis] !== 1) throw new OnnxError(`shapes ${shapes.map((s) => formatShape(s)).join(' and ')} do not broadcast`);
      out[axis] = dim;
    }
  }
  return out;
}

/**
 * For each element of a strided view of `shape`, the flat index it reads: element (i₀, …, iₙ) reads
 * offset + Σ iₖ·strides[k]. Transpose, Slice and broadcasting are such views.
 */
export function stridedIndex(shape: readonly number[], strides: readonly number[], offset = 0): Int32Array {
  const size = sizeOf(shape), rank = shape.length;
  const index = new Int32Array(size);
  const counter = new Array<number>(rank).fill(0);
  let source = offset;
  for (let i = 0; i < size; i++) {
    index[i] = source;
    for (let axis = rank - 1; axis >= 0; axis--) {
      source += strides[axis];
      if (++counter[axis] < shape[axis]) break;
      source -= strides[axis] * shape[axis];
      counter[axis] = 0;
    }
  }
  return index;
}

/** For each element of `outShape`, the flat index of the element of `shape` that broadcasts to it. */
export function broadcastIndex(outShape: readonly number[], shape: readonly number[]): Int32Array {
  const offset = outShape.length - shape.length, strides = stridesOf(shape);
  return stridedIndex(outShape, outShape.map((_, axis) => (axis < offset || shape[axis - offset] === 1 ? 0 : strides[axis - offset])));
}

/** A copy of `value` read through a flat index (see stridedIndex), with the given shape. */
export function gather(value: Value, shape: readonly number[], index: Int32Array): Value {
  const out = allocate(value.dtype, shape);
  for (let i = 0; i < index.length; i++) out.data[i] = value.data[index[i]];
  return out;
}

/** The values of an integer tensor (indices, shapes, axes) as numbers. */
export function integers(value: Value, what: string): number[] {
  if (value.dtype === 'float32' || value.dtype === 'bool') throw new OnnxError(`${what} must be an integer tensor, got ${value.dtype}`);
  return Array.from(value.data);
}

/** Converts numbers to a dtype as a C cast does: float32 rounding, truncation toward zero and wrapping for integers. */
export function castInto(dtype: DType, values: ArrayLike<number>): Float32Array | Float64Array {
  if (dtype === 'float32') return Float32Array.from(values);
  const out = new Float64Array(values.length);
  const wrap = dtype === 'int32' ? (v: number) => v | 0 : dtype === 'int8' ? (v: number) => (v << 24) >> 24
    : dtype === 'uint8' ? (v: number) => v & 0xff : (v: number) => v;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = dtype === 'bool' ? (v !== 0 ? 1 : 0) : Number.isNaN(v) ? 0 : wrap(Math.trunc(v));
  }
  return out;
}

/** The fields of a TensorProto that carry its value (see model.ts). */
export interface TensorFields {
  name: string;
  dims: number[];
  dataType: number;
  raw?: Uint8Array;
  floats: number[];
  ints: number[];
  doubles: number[];
  external: boolean;
}

/** Decodes a TensorProto's payload (raw_data or the typed field) into a value; sizes are checked against the bytes first. */
export function decodeTensor(fields: TensorFields): Value {
  const what = `tensor '${fields.name}'`;
  if (fields.external) {
    throw new OnnxError(`${what} keeps its data in an external file (external data), which loadOnnx cannot read; save the model with the weights inside: onnx.save_model(model, path, save_as_external_data=False)`);
  }
  const dtype = dtypeOf(fields.dataType, what);
  const { bytes } = SUPPORTED[fields.dataType];
  for (const dim of fields.dims) {
    if (!Number.isInteger(dim) || dim < 0) throw new OnnxError(`${what} has invalid dims ${formatShape(fields.dims)}`);
  }
  const count = fields.dims.reduce((a, b) => a * b, 1);
  let values: ArrayLike<number>;
  if (fields.raw) {
    if (fields.raw.length !== count * bytes) {
      throw new OnnxError(`${what} of shape ${formatShape(fields.dims)} and type ${dataTypeName(fields.dataType)} needs ${count * bytes} bytes of raw_data, got ${fields.raw.length}`);
    }
    values = readRaw(fields.raw, fields.dataType, count);
  } else {
    values = fields.dataType === 1 ? fields.floats : fields.dataType === DOUBLE ? fields.doubles
      : fields.dataType === FLOAT16 ? fields.ints.map(float16ToFloat32) : fields.ints;
    if (values.length !== count) {
      throw new OnnxError(`${what} of shape ${formatShape(fields.dims)} needs ${count} values, got ${values.length}`);
    }
  }
  return { dtype, shape: fields.dims, data: castInto(dtype, values) };
}

function readRaw(raw: Uint8Array, code: number, count: number): ArrayLike<number> {
  if (code === 1) return new Float32Array(new Uint8Array(raw).buffer); // a copy: aligned, and never a Buffer pool view
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const read: (at: number) => number = {
    2: (at: number) => view.getUint8(at), 3: (at: number) => view.getInt8(at), 6: (at: number) => view.getInt32(at, true),
    7: (at: number) => view.getInt32(at + 4, true) * 4294967296 + view.getUint32(at, true), 9: (at: number) => view.getUint8(at),
    10: (at: number) => float16ToFloat32(view.getUint16(at, true)), 11: (at: number) => view.getFloat64(at, true),
  }[code]!;
  const width = SUPPORTED[code].bytes;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = read(i * width);
  return out;
}


