// Test helper: runs the same work at 1 thread and at 2 (every call split, however small) and compares bitwise.

import { expect } from 'vitest';
import { setNumThreads } from '../../dist/index.js';

/** `run()` at 1 thread, then at 2 threads splitting every call; the setting is left at 2 (everyCall). */
export function acrossThreadCounts<T>(run: () => T): { one: T; two: T } {
  setNumThreads(1);
  const one = run();
  setNumThreads(2, { everyCall: true });
  const two = run();
  return { one, two };
}

/** Every array of `a` and `b` (records of Float32Arrays, or undefined) equal bit for bit. */
export function expectBitwiseEqual(a: Record<string, ArrayLike<number> | undefined>, b: Record<string, ArrayLike<number> | undefined>): void {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const key of Object.keys(a)) {
    const x = a[key], y = b[key];
    if (x === undefined || y === undefined) {
      expect(y, key).toBe(x);
      continue;
    }
    expect(y.length, `${key}: length`).toBe(x.length);
    const bitsA = new Uint32Array(Float32Array.from(x).buffer), bitsB = new Uint32Array(Float32Array.from(y).buffer);
    const first = bitsA.findIndex((bits, i) => bits !== bitsB[i]);
    expect(first, `${key}: first element that differs (${x[first]} at 1 thread, ${y[first]} at 2)`).toBe(-1);
  }
}
