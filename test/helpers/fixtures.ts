// Test helper: loads fixture JSON (format: test/fixtures/README.md) and compares tensors with a tolerance.

import { readFileSync, readdirSync } from 'node:fs';
import { expect } from 'vitest';

export interface FixtureTensor {
  shape: number[];
  data: number[];
  dtype?: string;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

export const fixtureDir = (family: string): string => new URL(`../fixtures/${family}/`, import.meta.url).pathname;

export function listFixtures(family: string, extension = '.json'): string[] {
  return readdirSync(fixtureDir(family)).filter((name) => name.endsWith(extension)).sort();
}

export function loadFixture<T = any>(family: string, name: string): T {
  return JSON.parse(readFileSync(fixtureDir(family) + name, 'utf8')) as T;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| element-wise, with matching shapes. On failure the
 * message gives the first offending index, both values and the largest difference.
 */
export function expectClose(what: string, actual: { shape: readonly number[]; data: ArrayLike<number> },
                            expected: FixtureTensor, tolerance: Tolerance): void {
  expect([...actual.shape], `${what}: shape`).toEqual(expected.shape);
  let worst = 0;
  let firstBad = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const diff = Math.abs(actual.data[i] - expected.data[i]);
    if (!(diff <= tolerance.atol + tolerance.rtol * Math.abs(expected.data[i])) && firstBad < 0) firstBad = i;
    if (!(diff <= worst)) worst = diff;
  }
  if (firstBad >= 0) {
    const head = Array.from({ length: Math.min(4, expected.data.length) }, (_, i) => `${actual.data[i]} vs ${expected.data[i]}`);
    expect.fail(`${what}: index ${firstBad} is ${actual.data[firstBad]}, expected ${expected.data[firstBad]} ` +
      `(largest |diff| ${worst}, atol ${tolerance.atol}, rtol ${tolerance.rtol}); first values: ${head.join(', ')}`);
  }
  expect(actual.data.length, `${what}: length`).toBe(expected.data.length);
}

/** The SIMD build this test project runs (set by vitest.config.ts); a missing value is an error, not a skip. */
export function simdUnderTest(): 'baseline' | 'relaxed' {
  const simd = process.env.LOOPTREE_SIMD;
  if (simd !== 'baseline' && simd !== 'relaxed') throw new Error(`LOOPTREE_SIMD must be 'baseline' or 'relaxed', got ${simd}`);
  return simd;
}
