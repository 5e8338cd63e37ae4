// tensor() and Tensor: construction from flat and nested data, shape checks, conversion back to arrays.

import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError, Tensor, tensor } from '../dist/index.js';

describe('tensor', () => {
  it('builds from flat data with a shape, and from nested arrays with the shape inferred', () => {
    const flat = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(flat.shape).toEqual([2, 3]);
    expect(flat.data).toEqual(Float32Array.of(1, 2, 3, 4, 5, 6));
    const nested = tensor([[[1, 2]], [[3, 4]]]);
    expect(nested.shape).toEqual([2, 1, 2]);
    expect([...nested.data]).toEqual([1, 2, 3, 4]);
    expect(nested.toArray()).toEqual([[[1, 2]], [[3, 4]]]);
    expect(tensor([0.1]).data[0]).toBe(Math.fround(0.1));
    expect(tensor(7).shape).toEqual([]);
    expect(Object.isFrozen(flat.shape)).toBe(true);
  });

  it('copies its input so later changes to the source do not leak in', () => {
    const source = [1, 2];
    const t = tensor(source);
    source[0] = 9;
    expect(t.data[0]).toBe(1);
  });

  it('rejects mismatched sizes, ragged nesting, bad dimensions and non-numbers', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow('Tensor of shape [2, 2] needs 4 values, got 3');
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow('expected 2 entries at [1]');
    expect(() => tensor([1, 2], [-1, -2])).toThrow('non-negative integers');
    expect(() => tensor([[1, 'a' as any]])).toThrow(ArgumentError);
    expect(() => tensor(null as any)).toThrow(ArgumentError);
    expect(() => new Tensor(new Float32Array(3), [2, 2])).toThrow(ShapeError);
  });
});
