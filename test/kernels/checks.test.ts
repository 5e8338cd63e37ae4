// firstNonFinite (assembly/checks.ts) against JS's own answer, findIndex(!Number.isFinite), for NaN,
// ±Infinity and extreme finite values at every position of arrays that exercise the 16-float SIMD body
// and the scalar tail.

import { describe, expect, it } from 'vitest';
import { core, expectRequestedBuild, free, writeF32 } from '../helpers/kernels.js';

const reference = (values: Float32Array) => values.findIndex((v) => !Number.isFinite(v));

function check(values: Float32Array): number {
  const ptr = writeF32(values);
  try {
    return core.firstNonFinite(ptr, values.length);
  } finally {
    free(ptr);
  }
}

describe('firstNonFinite', () => {
  it('runs the requested build', () => expectRequestedBuild());

  it('is −1 for finite arrays, extremes included, and for the empty array', () => {
    const extremes = Float32Array.from([0, -0, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, 1.17549435e-38]);
    for (const n of [0, 1, 7, 16, 33]) {
      const values = Float32Array.from({ length: n }, (_, i) => extremes[i % extremes.length]);
      expect(check(values)).toBe(-1);
    }
  });

  it('finds the first NaN or ±Infinity wherever it is', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const n of [1, 15, 16, 17, 40]) {
        for (let at = 0; at < n; at++) {
          const values = Float32Array.from({ length: n }, (_, i) => (i % 5) - 2.5);
          values[at] = bad;
          if (at + 3 < n) values[at + 3] = NaN; // a later one must not win
          expect(check(values), `${bad} at ${at} of ${n}`).toBe(reference(values));
          expect(check(values)).toBe(at);
        }
      }
    }
  });
});
