// Small validators shared by the modules: option types and shapes, each error naming what was expected and what came.

import { ArgumentError, ShapeError, formatShape } from './errors.js';
import type { Tensor } from './tensor.js';

export function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** An optional boolean option: `fallback` when undefined. */
export function booleanOption(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ArgumentError(`${what} must be a boolean, got ${String(value)}`);
  return value;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

export function expectShape(value: Tensor, expected: readonly number[], what: string): void {
  if (!sameShape(value.shape, expected)) {
    throw new ShapeError(`Expected ${what} of shape ${formatShape(expected)}, got ${formatShape(value.shape)}`);
  }
}
