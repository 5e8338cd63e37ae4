// Operators that move or select elements without arithmetic: Transpose, Slice, Expand and Gather copy through a strided
// index; Squeeze, Unsqueeze, Reshape, Flatten and Identity only change the shape (values are never mutated, so they
// share data); Concat copies blocks; Shape reads the shape. Axes arguments moved from attributes to inputs at opset 13
// (Squeeze, Unsqueeze) and 10 (Slice).

import { OnnxError } from '../errors.js';
import { required, type Inputs, type NodeContext, type Operator } from '../node.js';
import {
  allocate, broadcastIndex, broadcastShapes, formatShape, gather, integers, normalizeAxis, sizeOf, stridedIndex, stridesOf,
  type Value,
} from '../tensors.js';

function reshaped(value: Value, shape: readonly number[]): Value {
  if (sizeOf(shape) !== value.data.length) throw new OnnxError(`cannot reshape ${formatShape(value.shape)} to ${formatShape(shape)}`);
  return { dtype: value.dtype, shape, data: value.data };
}

/** Axes given as an attribute (before `inputSince`) or as the input at `index` (from `inputSince`); undefined when absent. */
function axesArgument(node: NodeContext, inputSince: number, index: number): (inputs: Inputs) => number[] | undefined {
  if (node.opset >= inputSince) return (inputs) => (inputs[index] ? integers(inputs[index]!, 'axes') : undefined);
  const attribute = node.has('axes') ? node.ints('axes') : undefined;
  return () => attribute;
}

function uniqueAxes(axes: readonly number[], rank: number): Set<number> {
  const set = new Set(axes.map((axis) => normalizeAxis(axis, rank, 'axes entry')));
  if (set.size !== axes.length) throw new OnnxError(`axes ${formatShape(axes)} repeat an axis`);
  return set;
}

const transpose: Operator = (node) => {
  node.inputs(1);
  const perm = node.has('perm') ? node.ints('perm') : undefined;
  return (inputs) => {
    const x = required(inputs, 0), rank = x.shape.length;
    const order = perm ?? [...x.shape.keys()].reverse();
    if (order.length !== rank || new Set(order).size !== rank || order.some((axis) => !(axis >= 0 && axis < rank))) {
      throw new OnnxError(`perm ${formatShape(order)} is not a permutation of the ${rank} axes of ${formatShape(x.shape)}`);
    }
    const strides = stridesOf(x.shape);
    const shape = order.map((axis) => x.shape[axis]);
    return [gather(x, shape, stridedIndex(shape, order.map((axis) => strides[axis])))];
  };
};

const squeeze: Operator = (node) => {
  node.inputs(1, node.opset >= 13 ? 2 : 1);
  const axesOf = axesArgument(node, 13, 1);
  return (inputs) => {
    const x = required(inputs, 0);
    const given = axesOf(inputs);
    const axes = given ? uniqueAxes(given, x.shape.length) : new Set([...x.shape.keys()].filter((axis) => x.shape[axis] === 1));
    for (const axis of axes) {
      if (x.shape[axis] !== 1) throw new OnnxError(`cannot squeeze axis ${axis} of ${formatShape(x.shape)}: its size is not 1`);
    }
    return [reshaped(x, x.shape.filter((_, axis) => !axes.has(axis)))];
  };
};

const unsqueeze: Operator = (node) => {
  node.inputs(node.opset >= 13 ? 2 : 1);
  const axesOf = axesArgument(node, 13, 1);
  return (inputs) => {
    const x = required(inputs, 0);
    const given = axesOf(inputs);
    if (!given) throw new OnnxError('axes are required');
    const rank = x.shape.length + given.length;
    const axes = uniqueAxes(given, rank);
    const shape: number[] = [];
    for (let axis = 0, source = 0; axis < rank; axis++) shape.push(axes.has(axis) ? 1 : x.shape[source++]);
    return [reshaped(x, shape)];
  };
};

const slice: Operator = (node) => {
  const fromInputs = node.opset >= 10;
  node.inputs(fromInputs ? 3 : 1, fromInputs ? 5 : 1);
  const attributes = fromInputs ? undefined
    : { starts: node.ints('starts'), ends: node.ints('ends'), axes: node.has('axes') ? node.ints('axes') : undefined };
  return (inputs) => {
    const x = required(inputs, 0), rank = x.shape.length;
    const starts = attributes?.starts ?? integers(required(inputs, 1), 'starts');
    const ends = attributes?.ends ?? integers(required(inputs, 2), 'ends');
    const axes = (attributes ? attributes.axes : inputs[3] && integers(inputs[3], 'axes')) ?? starts.map((_, i) => i);
    const steps = (!attributes && inputs[4] && integers(inputs[4], 'steps')) || starts.map(() => 1);
    if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
      throw new OnnxError(`starts, ends, axes and steps must have the same length, got ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`);
    }
    const begin = new Array<number>(rank).fill(0), step = new Array<number>(rank).fill(1), shape = [...x.shape];
    [...uniqueAxes(axes, rank)].forEach((axis, i) => {
      const dim = x.shape[axis], by = steps[i];
      if (by === 0) throw new OnnxError('steps must not be 0');
      const clamp = (v: number, low: number, high: number) => Math.min(Math.max(v < 0 ? v + dim : v, low), high);
      const start = by > 0 ? clamp(starts[i], 0, dim) : clamp(starts[i], 0, dim - 1);
      const end = by > 0 ? clamp(ends[i], 0, dim) : clamp(ends[i], -1, dim - 1);
      begin[axis] = start;
      step[axis] = by;
      shape[axis] = Math.max(0, Math.ceil((end - start) / by));
    });
    const strides = stridesOf(x.shape);
    const offset = begin.reduce((sum, start, axis) => sum + start * strides[axis], 0);
    return [gather(x, shape, stridedIndex(shape, strides.map((stride, axis) => stride * step[axis]), offset))];
  };
};

const concat: Operator = (node) => {
  node.inputs(1, Infinity);
  const axisAttribute = node.int('axis');
  return (inputs) => {
    const parts = inputs.map((_, i) => required(inputs, i));
    const first = parts[0], rank = first.shape.length;
    const axis = normalizeAxis(axisAttribute, rank);
    for (const part of parts) {
      if (part.dtype !== first.dtype || part.shape.length !== rank || part.shape.some((dim, i) => i !== axis && dim !== first.shape[i])) {
        throw new OnnxError(`cannot concatenate ${parts.map((p) => `${p.dtype} ${formatShape(p.shape)}`).join(', ')} on axis ${axis}`);
      }
    }
    const shape = [...first.shape];
    shape[axis] = parts.reduce((sum, part) => sum + part.shape[axis], 0);
    const out = allocate(first.dtype, shape);
    const outer = sizeOf(first.shape.slice(0, axis));
    let at = 0;
    for (let o = 0; o < outer; o++) {
      for (const part of parts) {
        const block = part.data.length / outer;
        out.data.set(part.data.subarray(o * block, (o + 1) * block), at);
        at += block;
      }
    }
    return [out];
  };
};

const reshape: Operator = (node) => {
  node.inputs(2);
  const allowZero = node.int('allowzero', 0) !== 0;
  return (inputs) => {
    const x = required(inputs, 0), requested = integers(required(inputs, 1), 'shape');
    const shape = requested.map((dim, i) => {
      if (dim === 0 && !allowZero) {
        if (i >= x.shape.length) throw new OnnxError(`shape ${formatShape(requested)} copies dimension ${i}, which ${formatShape(x.shape)} does not have`);
        return x.shape[i];
      }
      return dim;
    });
    const inferred = shape.indexOf(-1);
    if (inferred >= 0) {
      const known = shape.reduce((product, dim, i) => (i === inferred ? product : product * dim), 1);
      if (shape.indexOf(-1, inferred + 1) >= 0 || known <= 0 || x.data.length % known !== 0) {
        throw new OnnxError(`cannot reshape ${formatShape(x.shape)} to ${formatShape(requested)}`);
      }
      shape[inferred] = x.data.length / known;
    }
    return [reshaped(x, shape)];
  };
};

const flatten: Operator = (node) => {
  node.inputs(1);
  const axisAttribute = node.int('axis', 1);
  return (inputs) => {
    const x = required(inputs, 0), rank = x.shape.length;
    const axis = axisAttribute === rank ? rank : normalizeAxis(axisAttribute, rank);
    const rows = sizeOf(x.shape.slice(0, axis));
    return [reshaped(x, [rows, rows === 0 ? 0 : x.data.length / rows])];
  };
};

const shapeOp: Operator = (node) => {
  node.inputs(1);
  const start = node.int('start', 0), end = node.has('end') ? node.int('end') : undefined;
  return (inputs) => {
    const x = required(inputs, 0), rank = x.shape.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    const dims = x.shape.slice(clamp(start), clamp(end ?? rank));
    return [{ dtype: 'int64', shape: [dims.length], data: Float64Array.from(dims) }];
  };
};

const expand: Operator = (node) => {
  node.inputs(2);
  return (inputs) => {
    const x = required(inputs, 0), requested = integers(required(inputs, 1), 'shape');
    if (requested.some((dim) => !Number.isInteger(dim) || dim < 0)) throw new OnnxError(`invalid shape ${formatShape(requested)}`);
    const shape = broadcastShapes([x.shape, requested]);
    return [gather(x, shape, broadcastIndex(shape, x.shape))];
  };
};

const gatherOp: Operator = (node) => {
  node.inputs(2);
  const axisAttribute = node.int('axis', 0);
  return (inputs) => {
    const data = required(inputs, 0), indices = integers(required(inputs, 1), 'indices');
    const axis = normalizeAxis(axisAttribute, data.shape.length);
    const dim = data.shape[axis];
    const shape = [...data.shape.slice(0, axis), ...inputs[1]!.shape, ...data.shape.slice(axis + 1)];
    const inner = sizeOf(data.shape.slice(axis + 1));
    const outer = sizeOf(data.shape.slice(0, axis));
    const out = allocate(data.dtype, shape);
    let at = 0;
    for (let o = 0; o < outer; o++) {
      for (const index of indices) {
        if (!(index >= -dim && index < dim)) throw new OnnxError(`index ${index} is out of range for axis ${axis} of size ${dim}`);
        const from = (o * dim + (index < 0 ? index + dim : index)) * inner;
        out.data.set(data.data.subarray(from, from + inner), at);
        at += inner;
      }
    }
    return [out];
  };
};

const identity: Operator = (node) => {
  node.inputs(1);
  return (inputs) => [required(inputs, 0)];
};

export const SHAPE: Record<string, Operator> = {
  Transpose: transpose, Squeeze: squeeze, Unsqueeze: unsqueeze, Slice: slice, Concat: concat, Reshape: reshape,
  Flatten: flatten, Shape: shapeOp, Expand: expand, Gather: gatherOp, Identity: identity,
};
