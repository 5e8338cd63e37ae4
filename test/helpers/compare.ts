// Test helper: element-wise comparison with a per-element bound, reporting the first differing index,
// both values and the largest difference on failure.

import { expect } from 'vitest';

/**
 * Asserts |actual[i] − expected[i]| ≤ bound(i) for every i (a number is the same bound everywhere). Equal
 * values pass, including infinities; NaN matches only NaN.
 */
export function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>,
                            bound: number | ((i: number) => number)): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const boundAt = typeof bound === 'number' ? () => bound : bound;
  let firstBad = -1;
  let failures = 0;
  let largest = 0;
  let largestAt = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const diff = a === e || (Number.isNaN(a) && Number.isNaN(e)) ? 0 : Math.abs(a - e);
    if (!(diff <= largest)) { largest = diff; largestAt = i; }
    if (!(diff <= boundAt(i))) {
      failures++;
      if (firstBad < 0) firstBad = i;
    }
  }
  if (firstBad >= 0) {
    expect.fail(`${what}: ${failures} of ${expected.length} values out of bounds; first at index ${firstBad}: ` +
      `got ${actual[firstBad]}, expected ${expected[firstBad]} (|diff| ${Math.abs(actual[firstBad] - expected[firstBad])}, ` +
      `bound ${boundAt(firstBad)}); largest |diff| ${largest} at index ${largestAt} ` +
      `(got ${actual[largestAt]}, expected ${expected[largestAt]})`);
  }
}

/** The raw bits of float32 values, to compare bitwise with expectClose(…, 0). */
export function floatBits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}
