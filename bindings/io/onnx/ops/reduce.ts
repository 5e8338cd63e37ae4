// Reductions along axes: Softmax and LogSoftmax (opset < 13: over the input flattened to 2-D at `axis`; ≥ 13: over one
// axis), ReduceMean and ReduceMax (axes as attribute before opset 18, as input from 18).

import { OnnxError } from '../errors.js';
import { required, type Operator } from '../node.js';
import { allocate, broadcastIndex, castInto, integers, normalizeAxis, sizeOf } from '../tensors.js';

function softmax(log: boolean): Operator {
  return (node) => {
    node.inputs(1);
    const coerced = node.opset < 13;
    const axisAttribute = node.int('axis', coerced ? 1 : -1);
    return (inputs) => {
      const x = required(inputs, 0);
      if (x.dtype !== 'float32') throw new OnnxError(`expected a float tensor, got ${x.dtype}`);
      const rank = x.shape.length;
      const axis = normalizeAxis(axisAttribute, Math.max(rank, 1));
      // Each softmax runs over `length` elements `stride` apart; there are outer × stride of them.
      const length = coerced ? sizeOf(x.shape.slice(axis)) : (x.shape[axis] ?? 1);
      const stride = coerced ? 1 : sizeOf(x.shape.slice(axis + 1));
      const outer = sizeOf(x.shape.slice(0, axis));
      const out = allocate('float32', x.shape);
      for (let o = 0; o < outer; o++) {
        for (let s = 0; s < stride; s++) {
          const base = o * length * stride + s;
          let max = -Infinity, sum = 0;
          for (let k = 0; k < length; k++) max = Math.max(max, x.data[base + k * stride]);
          for (let k = 0; k < length; k++) sum += Math.exp(x.data[base + k * stride] - max);
          for (let k = 0; k < length; k++) {
            const shifted = x.data[base + k * stride] - max;
            out.data[base + k * stride] = log ? shifted - Math.log(sum) : Math.exp(shifted) / sum;
          }
        }
      }
      return [out];
    };
  };
}

function reduce(kind: 'mean' | 'max'): Operator {
  return (node) => {
    const axesAsInput = node.opset >= 18;
    node.inputs(1, axesAsInput ? 2 : 1);
    const keepDims = node.int('keepdims', 1) !== 0;
    const noopWithEmptyAxes = node.int('noop_with_empty_axes', 0) !== 0;
    const axesAttribute = axesAsInput ? undefined : node.ints('axes', []);
    return (inputs) => {
      const x = required(inputs, 0);
      if (x.dtype === 'bool') throw new OnnxError('cannot reduce a bool tensor');
      const given = axesAttribute ?? (inputs[1] ? integers(inputs[1], 'axes') : []);
      if (given.length === 0 && noopWithEmptyAxes) return [x];
      const rank = x.shape.length;
      const axes = new Set(given.length === 0 ? x.shape.keys() : given.map((axis) => normalizeAxis(axis, rank, 'axes entry')));
      const kept = x.shape.map((dim, axis) => (axes.has(axis) ? 1 : dim));
      const shape = keepDims ? kept : x.shape.filter((_, axis) => !axes.has(axis));
      const sums = new Float64Array(sizeOf(shape)).fill(kind === 'max' ? -Infinity : 0);
      const target = broadcastIndex(x.shape, kept);
      for (let i = 0; i < x.data.length; i++) {
        const at = target[i], v = x.data[i];
        sums[at] = kind === 'mean' ? sums[at] + v : v > sums[at] || Number.isNaN(v) ? v : sums[at];
      }
      const count = x.data.length / Math.max(sums.length, 1);
      if (kind === 'mean') for (let i = 0; i < sums.length; i++) sums[i] /= count;
      return [{ dtype: x.dtype, shape, data: castInto(x.dtype, sums) }];
    };
  };
}

export const REDUCE: Record<string, Operator> = {
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
  ReduceMean: reduce('mean'),
  ReduceMax: reduce('max'),
};
