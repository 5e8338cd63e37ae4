// The model's boundary with the caller: feeds (Tensors, typed arrays with a shape) converted to graph values of the
// inputs' declared types and checked against their declared shapes, and graph values returned as Tensors or IntegerTensors.

import { Tensor } from '../../index.js';
import { OnnxError } from './errors.js';
import { castInto, dtypeOf, formatShape, sizeOf, type DType, type IntegerDType, type Value } from './tensors.js';

/** An integer or bool output of a model (bool as 0/1 bytes). int64 values are BigInts, as onnxruntime gives them. */
export interface IntegerTensor {
  /** The element type: 'int64', 'int32', 'int8', 'uint8' or 'bool'. */
  readonly dtype: IntegerDType;
  /** The dimensions. */
  readonly shape: readonly number[];
  /** The values, row-major: BigInt64Array for int64, Int32Array, Int8Array, Uint8Array (uint8 and bool). */
  readonly data: BigInt64Array | Int32Array | Int8Array | Uint8Array;
}

/** What run() accepts for a graph input: a Tensor, or typed data with a shape (integer inputs: Int32Array or BigInt64Array). */
export interface TensorFeed {
  /** The dimensions; checked against the input's declared shape. */
  readonly shape: readonly number[];
  /** The values, row-major; converted to the input's declared type. */
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array | Int8Array | Uint8Array | ArrayLike<number>;
  /** Only needed when the model does not declare the input's type and the data's array type does not tell it. */
  readonly dtype?: DType;
}

/** A graph input's declared type: elem_type code (0 = not declared) and dims (number, symbolic name, or null = unknown). */
export interface DeclaredType {
  elemType: number;
  shape?: ReadonlyArray<number | string | null>;
}

const ARRAY_DTYPES: ReadonlyArray<[new (...args: any[]) => ArrayLike<number | bigint>, DType]> = [
  [BigInt64Array, 'int64'], [Int32Array, 'int32'], [Int8Array, 'int8'], [Uint8Array, 'uint8'],
];

/** Converts a feed to a value of the input's declared type (or the type its data implies), checking shape and values. */
export function feedToValue(feed: unknown, declared: DeclaredType | undefined, name: string): Value {
  const what = `input '${name}'`;
  if (feed === null || typeof feed !== 'object' || !Array.isArray((feed as TensorFeed).shape) || typeof (feed as TensorFeed).data?.length !== 'number') {
    throw new OnnxError(`${what}: expected a Tensor or { data, shape }, got ${feed === null ? 'null' : typeof feed}`);
  }
  const { shape, data, dtype: given } = feed as TensorFeed;
  const size = sizeOf(shape);
  if (data.length !== size) throw new OnnxError(`${what}: shape ${formatShape(shape)} needs ${size} values, got ${data.length}`);
  if (declared?.shape) {
    const fits = declared.shape.length === shape.length && declared.shape.every((dim, i) => typeof dim !== 'number' || dim === shape[i]);
    if (!fits) throw new OnnxError(`${what}: expected shape ${formatShape(declared.shape)}, got ${formatShape(shape)}`);
  }
  const dtype = declared?.elemType ? dtypeOf(declared.elemType, what)
    : given ?? ARRAY_DTYPES.find(([type]) => data instanceof type)?.[1] ?? 'float32';
  if (dtype === 'float32' && data instanceof Float32Array) return { dtype, shape: [...shape], data };
  const numbers = data instanceof BigInt64Array ? Array.from(data, Number) : (data as ArrayLike<number>);
  for (let i = 0; i < numbers.length; i++) {
    const v = numbers[i];
    if (typeof v !== 'number' || (dtype !== 'float32' && !Number.isInteger(v))) {
      throw new OnnxError(`${what} is ${dtype}: element ${i} is ${String(v)}`);
    }
  }
  return { dtype, shape: [...shape], data: castInto(dtype, numbers) };
}

const INT64_MAX = 2n ** 63n - 1n;

/** A graph output for the caller: a Tensor for floats, an IntegerTensor otherwise. `copy` when the data is not fresh. */
export function toOutput(value: Value, copy: boolean): Tensor | IntegerTensor {
  if (value.dtype === 'float32') return new Tensor(copy ? value.data.slice() as Float32Array : value.data as Float32Array, value.shape);
  const { data, shape, dtype } = value;
  switch (dtype) {
    case 'int64':
      return { dtype, shape, data: BigInt64Array.from(data, (v) => (v >= 2 ** 63 ? INT64_MAX : v < -(2 ** 63) ? -INT64_MAX - 1n : BigInt(v))) };
    case 'int32':
      return { dtype, shape, data: Int32Array.from(data) };
    case 'int8':
      return { dtype, shape, data: Int8Array.from(data) };
    default:
      return { dtype, shape, data: Uint8Array.from(data) };
  }
}
