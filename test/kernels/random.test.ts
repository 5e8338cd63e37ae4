// fillUniform (assembly/random.ts) against the JS generator of the bindings (seededRandom, bindings/random.ts):
// from the same state, the same mulberry32 draws u and the same values (u·2 − 1)·bound rounded to float32,
// bit for bit; and the state it returns continues the sequence where the first call stopped.

import { describe, expect, it } from 'vitest';
import { expectClose, floatBits } from '../helpers/compare.js';
import { allocF32, core, expectRequestedBuild, free, readF32 } from '../helpers/kernels.js';
import { seededRandom } from '../helpers/random.js';

const SEEDS = [0, 1, 0x9e3779b9, 0xffffffff];
const BOUND = 0.37;

/** fillUniform's `count` values from `state`, and the state it returns. */
function fill(count: number, state: number): { values: Float32Array; state: number } {
  const ptr = allocF32(count);
  const next = core.fillUniform(ptr, count, BOUND, state);
  const values = readF32(ptr, count);
  free(ptr);
  return { values, state: next };
}

describe(`fillUniform (${core.simdFlavor() ? 'relaxed' : 'baseline'} build)`, () => {
  it('runs the build named by LOOPTREE_SIMD', () => {
    expectRequestedBuild();
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}: two calls (17 then 33 values) = the first 50 draws of seededRandom(${seed})`, () => {
      const random = seededRandom(seed);
      const expected = Float32Array.from({ length: 50 }, () => (random() * 2 - 1) * BOUND);
      const first = fill(17, seed);
      const second = fill(33, first.state);
      const actual = Float32Array.from([...first.values, ...second.values]);
      expectClose('value bits', floatBits(actual), floatBits(expected), 0);
    });
  }
});
