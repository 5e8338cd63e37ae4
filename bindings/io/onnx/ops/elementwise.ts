// Elementwise operators with numpy broadcasting (Add, Sub, Mul, Div, Equal, Where) and activations (Sigmoid, Tanh, Relu).
// Float results are computed in float64 and rounded once to float32, which equals float32 arithmetic for + − × ÷.

import { OnnxError } from '../errors.js';
import { required, type Operator } from '../node.js';
import { allocate, broadcastIndex, broadcastShapes, type DType, type Value } from '../tensors.js';

/** The broadcast output shape and, per input, the element each output element reads (null: same shape, same index). */
function broadcast(values: readonly Value[]): { shape: number[]; index: Array<Int32Array | null> } {
  const shape = broadcastShapes(values.map((value) => value.shape));
  const same = (value: Value) => value.shape.length === shape.length && value.shape.every((dim, i) => dim === shape[i]);
  return { shape, index: values.map((value) => (same(value) ? null : broadcastIndex(shape, value.shape))) };
}

function sameDtype(a: Value, b: Value): void {
  if (a.dtype !== b.dtype) throw new OnnxError(`inputs have different types, ${a.dtype} and ${b.dtype}`);
}

function binary(compute: (a: number, b: number, dtype: DType) => number, resultType?: DType): Operator {
  return (node) => {
    node.inputs(2);
    return (inputs) => {
      const a = required(inputs, 0), b = required(inputs, 1);
      sameDtype(a, b);
      const { shape, index: [ia, ib] } = broadcast([a, b]);
      const out = allocate(resultType ?? a.dtype, shape);
      for (let i = 0; i < out.data.length; i++) {
        out.data[i] = compute(a.data[ia ? ia[i] : i], b.data[ib ? ib[i] : i], a.dtype);
      }
      return [out];
    };
  };
}

function divide(a: number, b: number, dtype: DType): number {
  if (dtype === 'float32') return a / b;
  if (b === 0) throw new OnnxError('integer division by zero');
  return Math.trunc(a / b);
}

const where: Operator = (node) => {
  node.inputs(3);
  return (inputs) => {
    const condition = required(inputs, 0), x = required(inputs, 1), y = required(inputs, 2);
    if (condition.dtype !== 'bool') throw new OnnxError(`the condition must be bool, got ${condition.dtype}`);
    sameDtype(x, y);
    const { shape, index: [ic, ix, iy] } = broadcast([condition, x, y]);
    const out = allocate(x.dtype, shape);
    for (let i = 0; i < out.data.length; i++) {
      out.data[i] = condition.data[ic ? ic[i] : i] ? x.data[ix ? ix[i] : i] : y.data[iy ? iy[i] : i];
    }
    return [out];
  };
};

function unary(compute: (x: number) => number, integers = false): Operator {
  return (node) => {
    node.inputs(1);
    return (inputs) => {
      const x = required(inputs, 0);
      if (x.dtype === 'bool' || (x.dtype !== 'float32' && !integers)) throw new OnnxError(`expected a float tensor, got ${x.dtype}`);
      const out = allocate(x.dtype, x.shape);
      for (let i = 0; i < out.data.length; i++) out.data[i] = compute(x.data[i]);
      return [out];
    };
  };
}

export const ELEMENTWISE: Record<string, Operator> = {
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary(divide),
  Equal: binary((a, b) => (a === b ? 1 : 0), 'bool'),
  Where: where,
  Sigmoid: unary((x) => 1 / (1 + Math.exp(-x))),
  Tanh: unary(Math.tanh),
  Relu: unary((x) => (x < 0 ? 0 : x), true),
};
