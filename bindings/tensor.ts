// Tensor: a JS-owned Float32Array with a row-major shape; the only data type crossing the public API.

import { ArgumentError, ShapeError, formatShape } from './errors.js';
import { describe } from './options.js';

/** Nested arrays of numbers, as in `[[1, 2], [3, 4]]`. */
export type NestedArray = number | readonly NestedArray[];

/** A float32 tensor. `data` is row-major and owned by JS, never a view on Wasm memory. */
export class Tensor {
  /** The values, row-major (the last axis varies fastest). */
  readonly data: Float32Array;
  /** The dimensions (frozen), e.g. [T, B, I]; [] for a scalar. */
  readonly shape: readonly number[];

  /** Wraps `data` (not copied) with `shape`. Throws ShapeError when `data.length` is not the product of `shape`. */
  constructor(data: Float32Array, shape: readonly number[]) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(`Tensor of shape ${formatShape(shape)} needs ${size} values, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** The values as nested arrays (for printing and tests). */
  toArray(): NestedArray {
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.shape.length) return this.data[offset];
      const stride = shapeSize(this.shape.slice(axis + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[axis]; i++) out.push(build(axis + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }
}

/** Product of the dimensions; validates that each is a non-negative integer. */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new ShapeError(`Shape dimensions must be non-negative integers, got ${formatShape(shape)}`);
    }
    size *= dim;
  }
  return size;
}

function inferShape(value: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = (level as readonly NestedArray[])[0];
  }
  return shape;
}

function flattenInto(value: NestedArray, shape: readonly number[], axis: number, out: number[], path: string, where: string): void {
  if (axis === shape.length) {
    if (typeof value !== 'number') throw new ArgumentError(`${where}: expected a number at ${path || 'top level'}, got ${describe(value)}`);
    out.push(value);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[axis]) {
    throw new ShapeError(`${where}: ragged nested array: expected ${shape[axis]} entries at ${path || 'top level'}, got ${describe(value)}`);
  }
  for (let i = 0; i < value.length; i++) flattenInto(value[i], shape, axis + 1, out, `${path}[${i}]`, where);
}

/** tensor() with `where` starting its messages. */
function fromArray(data: ArrayLike<number> | NestedArray, shape: readonly number[] | undefined, where: string): Tensor {
  if (typeof data === 'number') return new Tensor(Float32Array.of(data), shape ?? []);
  const nested = Array.isArray(data) && data.some((entry) => Array.isArray(entry));
  if (nested) {
    const inferred = inferShape(data as NestedArray);
    const flat: number[] = [];
    flattenInto(data as NestedArray, inferred, 0, flat, '', where);
    if (shape && shapeSize(shape) !== flat.length) {
      throw new ShapeError(`${where}: shape ${formatShape(shape)} needs ${shapeSize(shape)} values, the nested array holds ${flat.length} (shape ${formatShape(inferred)})`);
    }
    return new Tensor(Float32Array.from(flat), shape ?? inferred);
  }
  if (!isArrayLike(data)) throw new ArgumentError(`${where}: expected an array-like of numbers or nested arrays, got ${describe(data)}`);
  const flat = float32(data, undefined, where);
  return new Tensor(flat, shape ?? [flat.length]);
}

/** An array or a typed array of numbers (not a BigInt64Array, a string or an object with a length). */
const isNumberArray = (value: unknown): value is ArrayLike<number> =>
  Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array));

/**
 * `data` as float32 (the same array when it is one): an array or typed array of numbers, else an ArgumentError
 * naming what came — a BigInt array, a string, an object with a length (`size`, when known, is in the message).
 */
function float32(data: unknown, size: number | undefined, where: string): Float32Array {
  if (!isNumberArray(data)) {
    const bigint = data instanceof BigInt64Array || data instanceof BigUint64Array ? ' (BigInt arrays are not accepted: convert them to numbers)' : '';
    throw new ArgumentError(`${where}: data must be an array or typed array of ${size === undefined ? '' : `${size} `}numbers${bigint}, got ${describe(data)}`);
  }
  if (data instanceof Float32Array) return data;
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') throw new ArgumentError(`${where}: data[${i}] must be a number, got ${describe(data[i])}`);
    }
  }
  return Float32Array.from(data);
}

const isArrayLike = (value: unknown): value is ArrayLike<unknown> =>
  value !== null && typeof value === 'object' && typeof (value as ArrayLike<unknown>).length === 'number';

/**
 * Makes a Tensor from flat data with a shape, or from nested arrays (shape inferred), like torch.tensor.
 * `tensor([1, 2, 3, 4], [2, 2])`, `tensor([[1, 2], [3, 4]])`. Data is copied as float32. Throws ShapeError when
 * the data does not fill the shape or nested arrays are ragged, ArgumentError for values that are not numbers.
 */
export function tensor(data: ArrayLike<number> | NestedArray, shape?: readonly number[]): Tensor {
  return fromArray(data, shape, 'tensor()');
}

/**
 * What every API taking a tensor accepts: a Tensor, the plain `{ shape, data }` form of JSON state dicts, nested
 * arrays (shape inferred, `[[1, 2], [3, 4]]` is [2, 2]), or a flat array or typed array (shape [length]).
 */
export type TensorLike = Tensor | { readonly shape: readonly number[]; readonly data: ArrayLike<number> } | NestedArray | ArrayLike<number>;

/** Any TensorLike as a Tensor (copying only when needed); `what` starts the messages: 'LSTM.forward: input'. */
export function toTensor(value: TensorLike, what: string): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value === 'number' || isArrayLike(value)) return fromArray(value as ArrayLike<number> | NestedArray, undefined, what);
  if (value === null || typeof value !== 'object' || !Array.isArray(value.shape)) {
    throw new ArgumentError(`${what}: expected a Tensor, { shape, data } or nested arrays, got ${describe(value)}`);
  }
  const size = shapeSize(value.shape);
  const data = float32(value.data, size, what);
  if (data.length !== size) {
    throw new ShapeError(`${what}: shape ${formatShape(value.shape)} needs ${size} values, got ${data.length}`);
  }
  return new Tensor(data, value.shape);
}
