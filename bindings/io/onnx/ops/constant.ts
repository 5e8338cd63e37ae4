// Operators that make or retype values: Constant (every value_* form but strings and sparse), ConstantOfShape, Cast.

import { OnnxError } from '../errors.js';
import { required, type Operator } from '../node.js';
import { allocate, castInto, dtypeOf, formatShape, integers, type Value } from '../tensors.js';

const constant: Operator = (node) => {
  node.inputs(0);
  const forms: Array<[string, () => Value]> = [
    ['value', () => node.tensor('value')!],
    ['value_float', () => ({ dtype: 'float32', shape: [], data: Float32Array.of(node.float('value_float')) })],
    ['value_floats', () => { const v = node.floats('value_floats'); return { dtype: 'float32', shape: [v.length], data: Float32Array.from(v) }; }],
    ['value_int', () => ({ dtype: 'int64', shape: [], data: Float64Array.of(node.int('value_int')) })],
    ['value_ints', () => { const v = node.ints('value_ints'); return { dtype: 'int64', shape: [v.length], data: Float64Array.from(v) }; }],
  ];
  const given = forms.filter(([name]) => node.has(name));
  if (given.length !== 1) {
    const names = [...node.node.attributes.keys()];
    throw new OnnxError(`expected exactly one of ${forms.map(([name]) => name).join(', ')}, got ${names.length ? names.join(', ') : 'none'}`);
  }
  const value = given[0][1]();
  return () => [value];
};

const constantOfShape: Operator = (node) => {
  node.inputs(1);
  const fill = node.tensor('value') ?? { dtype: 'float32', shape: [1], data: Float32Array.of(0) };
  if (fill.data.length !== 1) throw new OnnxError(`value must hold one element, got shape ${formatShape(fill.shape)}`);
  return (inputs) => {
    const shape = integers(required(inputs, 0), 'shape');
    const out = allocate(fill.dtype, shape);
    out.data.fill(fill.data[0]);
    return [out];
  };
};

const cast: Operator = (node) => {
  node.inputs(1);
  const dtype = dtypeOf(node.int('to'), 'the target of Cast');
  node.int('saturate', 1); // only affects float8 targets, which are not supported
  return (inputs) => {
    const x = required(inputs, 0);
    return [x.dtype === dtype ? x : { dtype, shape: x.shape, data: castInto(dtype, x.data) }];
  };
};

export const CONSTANT: Record<string, Operator> = { Constant: constant, ConstantOfShape: constantOfShape, Cast: cast };
