// expArray / sigmoidArray / tanhArray against float64 over the whole float range, through both the SIMD
// body and the scalar tail. Bounds: sigmoid and tanh absolute error ≤ 2e-7, and relative error ≤ 4 ulp of
// float32 wherever the float64 result is a normal float32 (tiny x included: tanh(1e-8) = 1e-8, not 0); exp
// relative error ≤ 2e-7 on [-87, 88], where every result is a normal float32.
//
// Outside [-87, 88] the kernel clamps its input (assembly/activations.ts, EXP_LO / EXP_HI), so
//   exp(x > 88)  = exp(88) ≈ 1.6516e38 (also for +Inf: finite, not Inf),
//   exp(x < -87) = exp(-87) ≈ 1.6458e-38 (also for -Inf: not 0, but within 2e-38 of it),
// hence sigmoid(-Inf) = 1 / (1 + e^88) ≈ 6.05e-39 (a denormal, not exactly 0), sigmoid(+Inf) = 1 and
// tanh(±Inf) = ±1 exactly. NaN gives NaN, and tanh keeps the sign of zero.

import { describe, it, expect } from 'vitest';
import { expectClose, floatBits } from '../helpers/compare.js';
import { allocF32, core, expectRequestedBuild, free, readF32, writeF32 } from '../helpers/kernels.js';
import { exp, sigmoid, tanh } from '../reference/activations.js';

type ArrayKernel = (dst: number, src: number, n: number) => void;

const EXP_LO = -87;
const EXP_HI = 88;
const SENTINEL = -123.25;
const GUARD = 8;
const RELAXED_TAIL_ULPS = 8;
const RELATIVE_ULPS = 4;
const MIN_NORMAL = 2 ** -126;

interface Activation {
  name: 'exp' | 'sigmoid' | 'tanh';
  kernel: ArrayKernel;
  reference: (x: number) => number;
}

const activations: Activation[] = [
  { name: 'exp', kernel: core.expArray, reference: exp },
  { name: 'sigmoid', kernel: core.sigmoidArray, reference: sigmoid },
  { name: 'tanh', kernel: core.tanhArray, reference: tanh },
];

/** Runs `kernel` over `inputs` in one call; fails if it writes into the GUARD floats after the end. */
function runKernel(kernel: ArrayKernel, inputs: ArrayLike<number>): Float32Array {
  const n = inputs.length;
  const src = writeF32(inputs);
  const dst = allocF32(n + GUARD, SENTINEL);
  kernel(dst, src, n);
  const result = readF32(dst, n + GUARD);
  free(src, dst);
  expect(Array.from(result.subarray(n)), `the ${GUARD} floats after dst[${n}]`).toEqual(new Array(GUARD).fill(SENTINEL));
  return result.subarray(0, n);
}

/** Runs each input alone (n = 1), so it takes the scalar tail. */
function runScalarTail(kernel: ArrayKernel, inputs: ArrayLike<number>): Float32Array {
  const n = inputs.length;
  const src = writeF32(inputs);
  const dst = allocF32(n, SENTINEL);
  for (let i = 0; i < n; i++) kernel(dst + 4 * i, src + 4 * i, 1);
  const result = readF32(dst, n);
  free(src, dst);
  return result;
}

function sweep(from: number, to: number, points: number): Float32Array {
  return Float32Array.from({ length: points }, (_, i) => from + ((to - from) * i) / (points - 1));
}

/** ±m·2^e for every exponent from the smallest denormal to the largest finite float, and a few mantissas. */
function exponentBands(): Float32Array {
  const values: number[] = [];
  for (let e = -149; e <= 127; e++) {
    for (const mantissa of [1, 1.2345678, 1.5, 1.9999999]) values.push(mantissa * 2 ** e, -mantissa * 2 ** e);
  }
  return Float32Array.from(values);
}

const SPECIALS = Float32Array.of(0, -0, Infinity, -Infinity, NaN, 1000, -1000, EXP_HI, EXP_LO, 88.5, -87.3, 3.4028235e38, -3.4028235e38);

const TINY = Float32Array.of(1e-8, -1e-8, 1e-6, -1e-6, 1e-3, -1e-3, 1e-30, -1e-30);

/** One float32 ulp at |y|, y a normal float32. */
function ulpAt(y: number): number {
  let exponent = Math.floor(Math.log2(Math.abs(y)));
  if (2 ** exponent > Math.abs(y)) exponent--;
  return 2 ** (exponent - 23);
}

const denseSweep = sweep(-30, 30, (1 << 21) + 1);
const wideSweep = sweep(-120, 120, 200_001);
const bands = exponentBands();
const allInputs = Float32Array.from([...denseSweep, ...wideSweep, ...bands, ...TINY, ...SPECIALS]);
const sparseInputs = Float32Array.from([...denseSweep.filter((_, i) => i % 61 === 0), ...wideSweep.filter((_, i) => i % 7 === 0), ...bands, ...TINY, ...SPECIALS]);

/** The inputs and results where `keep(x)` holds. */
function select(inputs: Float32Array, results: Float32Array, keep: (x: number) => boolean) {
  const selected = { inputs: [] as number[], results: [] as number[] };
  inputs.forEach((x, i) => {
    if (keep(x)) { selected.inputs.push(x); selected.results.push(results[i]); }
  });
  return selected;
}

/** Checks results against float64: exp relative on [EXP_LO, EXP_HI] and clamped outside, the others absolute and relative. */
function expectAccurate(activation: Activation, inputs: Float32Array, results: Float32Array): void {
  const { name, reference } = activation;
  if (name !== 'exp') {
    const numbers = select(inputs, results, (x) => !Number.isNaN(x));
    expectClose(`${name} (absolute)`, numbers.results, numbers.inputs.map(reference), 2e-7);
    const normal = select(inputs, results, (x) => Math.abs(reference(x)) >= MIN_NORMAL);
    const expected = normal.inputs.map(reference);
    expectClose(`${name} (relative, ≤ ${RELATIVE_ULPS} ulp where normal)`, normal.results, expected, (i) => RELATIVE_ULPS * ulpAt(expected[i]));
    return;
  }
  const inDomain = select(inputs, results, (x) => x >= EXP_LO && x <= EXP_HI);
  const expected = inDomain.inputs.map(reference);
  expectClose(`exp on [${EXP_LO}, ${EXP_HI}] (relative)`, inDomain.results, expected, (i) => 2e-7 * expected[i]);
  const [atHigh, atLow] = runKernel(core.expArray, [EXP_HI, EXP_LO]);
  const above = select(inputs, results, (x) => x > EXP_HI);
  expect(above.results.every((y) => y === atHigh), `exp(x > ${EXP_HI}) is clamped to exp(${EXP_HI}) = ${atHigh}`).toBe(true);
  const below = select(inputs, results, (x) => x < EXP_LO);
  expect(below.results.every((y) => y === atLow), `exp(x < ${EXP_LO}) is clamped to exp(${EXP_LO}) = ${atLow}`).toBe(true);
  expect(atLow).toBeLessThanOrEqual(2e-38);
}

describe(`activations (${core.simdFlavor() ? 'relaxed' : 'baseline'} build)`, () => {
  it('runs the build named by LOOPTREE_SIMD', () => {
    expectRequestedBuild();
  });

  it(`covers ≥ 2 million points of [-30, 30] and every float32 exponent from 2^-149 to 2^127`, () => {
    expect(denseSweep.length).toBeGreaterThanOrEqual(2_000_000);
    expect(Math.min(...bands.filter((x) => x > 0))).toBe(2 ** -149);
    expect(Math.max(...bands)).toBeGreaterThan(3e38);
  });

  for (const activation of activations) {
    const { name, kernel, reference } = activation;
    describe(name, () => {
      it('is within bounds of float64 through the SIMD body (one call over every input)', () => {
        expectAccurate(activation, allInputs, runKernel(kernel, allInputs));
      }, 60_000);   // millions of float64 comparisons: ~2 s alone, far longer on a loaded 2-core machine

      // The baseline build's tails repeat the SIMD formulas operation for operation; the relaxed build
      // fuses the SIMD multiply-adds (Wasm has no scalar fused multiply-add), a few ulps of difference.
      const ulps = core.simdFlavor() ? RELAXED_TAIL_ULPS : 0;
      it(`is within bounds of float64 through the scalar tail, within ${ulps} ulp of the SIMD lanes`, () => {
        const scalar = runScalarTail(kernel, sparseInputs);
        expectAccurate(activation, sparseInputs, scalar);
        expectClose(`${name} bits, scalar tail vs SIMD body`, floatBits(scalar), floatBits(runKernel(kernel, sparseInputs)), ulps);
      });

      for (const n of [1, 3, 5, 17, 33]) {
        it(`writes exactly n = ${n} values`, () => {
          const inputs = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + n) * 10);
          const expected = Array.from(inputs, reference);
          const bound = name === 'exp' ? (i: number) => 2e-7 * expected[i] : 2e-7;
          expectClose(`${name}, n = ${n}`, runKernel(kernel, inputs), expected, bound);
        });
      }
    });
  }

  describe('special values, through the SIMD body and the scalar tail', () => {
    const paths = [
      ['SIMD body', (kernel: ArrayKernel, x: number) => runKernel(kernel, [x, x, x, x])[0]],
      ['scalar tail', (kernel: ArrayKernel, x: number) => runKernel(kernel, [x])[0]],
    ] as const;
    for (const [path, evaluate] of paths) {
      it(`${path}: NaN → NaN`, () => {
        for (const { name, kernel } of activations) expect(evaluate(kernel, NaN), name).toBeNaN();
      });

      it(`${path}: exp(±0) = 1, exp(+Inf) = exp(${EXP_HI}), exp(-Inf) = exp(${EXP_LO}) ≤ 2e-38`, () => {
        expect(evaluate(core.expArray, 0)).toBe(1);
        expect(evaluate(core.expArray, -0)).toBe(1);
        expect(evaluate(core.expArray, Infinity)).toBe(evaluate(core.expArray, EXP_HI));
        expect(Math.abs(evaluate(core.expArray, Infinity) / Math.exp(EXP_HI) - 1)).toBeLessThanOrEqual(2e-7);
        expect(evaluate(core.expArray, -Infinity)).toBe(evaluate(core.expArray, EXP_LO));
        expect(evaluate(core.expArray, -Infinity)).toBeGreaterThan(0);
        expect(evaluate(core.expArray, -Infinity)).toBeLessThanOrEqual(2e-38);
      });

      it(`${path}: sigmoid(+Inf) = 1, sigmoid(-Inf) = 1/(1 + e^${EXP_HI}) < 1e-38, sigmoid(±0) = 0.5`, () => {
        expect(evaluate(core.sigmoidArray, Infinity)).toBe(1);
        expect(evaluate(core.sigmoidArray, -Infinity)).toBeGreaterThanOrEqual(0);
        expect(evaluate(core.sigmoidArray, -Infinity)).toBeLessThan(1e-38);
        expect(evaluate(core.sigmoidArray, 0)).toBe(0.5);
        expect(evaluate(core.sigmoidArray, -0)).toBe(0.5);
      });

      it(`${path}: tanh(±Inf) = ±1, tanh(±0) = ±0`, () => {
        expect(evaluate(core.tanhArray, Infinity)).toBe(1);
        expect(evaluate(core.tanhArray, -Infinity)).toBe(-1);
        expect(Object.is(evaluate(core.tanhArray, 0), 0), 'tanh(+0) is +0').toBe(true);
        expect(Object.is(evaluate(core.tanhArray, -0), -0), 'tanh(-0) is -0').toBe(true);
      });
    }
  });
});
