// The kernels of the training path against their float64 references (test/reference): the forward cells with
// `save` (the activated gates they keep), rnnCellBackward tanh / relu, lstmCellBackward, gruCellBackward,
// passEndedRows, addActiveRows (cells.ts); transpose (dense and strided rows), swapLeadingAxes and linearBackward
// (linalg.ts, recurrent.ts); sgdStep, adamStep, scaleArray, clampArray, sumOfSquares (optim.ts). The weight
// gradient alone, strided as the backward passes read it, is test/kernels/weight-gradient.test.ts's.
// Sizes 1, 3, 5, 7, 17, 33 reach the SIMD bodies and the scalar tails; cells run batch 1 and 3, with and
// without lengths (rows that have ended at the step). Cell backward inputs are what the float64 forward
// saves, rounded to float32 as the kernels keep them; the backward references are themselves checked against
// central differences of the forward references. Bounds: cells and optimizers absolute 1e-6; linearBackward
// 1e-5·(1 + |expected| + Σ|products|); data movement and scaleArray exact (correctly rounded).
// Every call also checks that nothing outside the kernel's outputs and scratch (and static data) was written.

import { describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { allocF32, core, expectRequestedBuild, free, readF32, snapshotMemory, strayWrites, writeF32, writeI32 } from '../helpers/kernels.js';
import { seededRandom, uniformArray } from '../helpers/random.js';
import {
  addActiveRows, gruCell, gruCellBackward, lstmCell, lstmCellBackward, passEndedRows, rnnCell, rnnCellBackward,
} from '../reference/cells.js';
import { linearBackward, transpose } from '../reference/linalg.js';
import { adamStep, clampArray, scaleArray, sgdStep, sumOfSquares } from '../reference/optim.js';
import { swapLeadingAxes } from '../reference/recurrent.js';

const SIZES = [1, 3, 5, 7, 17, 33];
const STEP = 2; // the time step t passed to the cells
const GATE_SCALE = 6; // pre-activations in [-6, 6): saturated and linear regions both
const BOUND = 1e-6;
const OUT_GAP = 3; // addActiveRows reads output-gradient rows H + OUT_GAP floats apart

type Arrays = Record<string, Float32Array | Int32Array>;
type Pointers = Record<string, number>;
type Bound = number | ((i: number) => number);

/**
 * One kernel under test, for sizes of type S: the arrays it reads (int32 arrays are written as such), the
 * arrays it updates (with their values before the call) and its scratch (floats it may overwrite); how to
 * call it on their pointers (scratch pointers come with the inputs'); its reference on the arrays; and the
 * bound on |kernel − reference| of an output (BOUND unless given).
 */
interface KernelCase<S> {
  data(size: S, random: () => number): { inputs: Arrays; outputs: Record<string, Float32Array>; scratch?: Record<string, number> };
  kernel(inputs: Pointers, outputs: Pointers, size: S): void;
  reference(inputs: Arrays, outputs: Record<string, Float64Array>, size: S): void;
  bound?(output: string, expected: Float64Array, inputs: Arrays, size: S): Bound;
}

/**
 * The first heap block: below it lie the module's static data, where gemm.ts keeps its own scratch (the tail
 * tile of partial panels), which the GEMM-based kernels may write.
 */
const HEAP_START = (() => {
  const ptr = allocF32(1);
  free(ptr);
  return ptr;
})();

const mapValues = <T, U>(record: Record<string, T>, map: (value: T, name: string) => U): Record<string, U> =>
  Object.fromEntries(Object.entries(record).map(([name, value]) => [name, map(value, name)]));

function checkKernel<S>(kernelCase: KernelCase<S>, size: S, seed: number): void {
  const { inputs, outputs, scratch = {} } = kernelCase.data(size, seededRandom(seed));
  const inputPtrs = mapValues(inputs, (values) => (values instanceof Int32Array ? writeI32(values) : writeF32(values)));
  const scratchPtrs = mapValues(scratch, (floats) => allocF32(floats));
  const outputPtrs = mapValues(outputs, writeF32);
  const written: Array<[number, number]> = [
    [0, HEAP_START],
    ...Object.entries(outputPtrs).map(([name, ptr]): [number, number] => [ptr, 4 * outputs[name].length]),
    ...Object.entries(scratchPtrs).map(([name, ptr]): [number, number] => [ptr, 4 * Math.max(4, scratch[name])]),
  ];
  const before = snapshotMemory();
  kernelCase.kernel({ ...inputPtrs, ...scratchPtrs }, outputPtrs, size);
  const stray = strayWrites(before, written);
  const actual = mapValues(outputPtrs, (ptr, name) => readF32(ptr, outputs[name].length));
  free(...Object.values(inputPtrs), ...Object.values(scratchPtrs), ...Object.values(outputPtrs));

  const expected = mapValues(outputs, (values) => Float64Array.from(values));
  kernelCase.reference(inputs, expected, size);
  expect(stray.slice(0, 8), 'bytes written outside the outputs and scratch').toEqual([]);
  for (const name of Object.keys(outputs)) {
    expectClose(name, actual[name], expected[name], kernelCase.bound?.(name, expected[name], inputs, size) ?? BOUND);
  }
}

// ---- Cells ----

interface CellSize {
  B: number;
  H: number;
  /** Lengths per batch row, or none (every row runs). */
  masked: boolean;
}

/** Lengths at STEP: for B = 3 the middle row has ended (STEP ≥ its length), the others run; for B = 1 it has ended. */
function lengthsAtStep(B: number): Int32Array {
  return B === 1 ? Int32Array.of(STEP) : Int32Array.of(STEP + 1, STEP, STEP + 5);
}

/** The cells' `lengths` input: present only when masked (its pointer is then non-zero). */
const lengthsInput = ({ B, masked }: CellSize): Arrays => (masked ? { lengths: lengthsAtStep(B) } : {});

/** What an RNN training forward keeps (the activation h'), from the float64 forward on random pre-activations. */
function rnnSaved(B: number, H: number, relu: boolean, random: () => number): Float32Array {
  const saved = new Float64Array(B * H);
  rnnCell(new Float64Array(B * H), null, uniformArray(random, B * H, GATE_SCALE), null, STEP, B, H, relu, saved);
  return Float32Array.from(saved);
}

/** What an LSTM training forward keeps: the activated gates, c before the step and after it. */
function lstmSaved(B: number, H: number, random: () => number): Arrays {
  const cPrev = uniformArray(random, B * H);
  const c = Float64Array.from(cPrev), gates = new Float64Array(4 * B * H);
  lstmCell(new Float64Array(B * H), c, null, uniformArray(random, 4 * B * H, GATE_SCALE), null, STEP, B, H, gates);
  return { gates: Float32Array.from(gates), cPrev, cNew: Float32Array.from(c) };
}

/** What a GRU training forward keeps: r z n, hn = W_hn h + b_hn, and h before the step. */
function gruSaved(B: number, H: number, random: () => number): Arrays {
  const hPrev = uniformArray(random, B * H);
  const saved = { gates: new Float64Array(3 * B * H), hn: new Float64Array(B * H) };
  gruCell(Float64Array.from(hPrev), null, uniformArray(random, 3 * B * H, GATE_SCALE), uniformArray(random, 3 * B * H, GATE_SCALE),
          uniformArray(random, H), null, STEP, B, H, saved);
  return { gates: Float32Array.from(saved.gates), hn: Float32Array.from(saved.hn), hPrev };
}

const rnnForwardSaving = (relu: boolean): KernelCase<CellSize> => ({
  data: (size, random) => ({
    inputs: lengthsInput(size),
    outputs: { h: uniformArray(random, size.B * size.H), gates: uniformArray(random, size.B * size.H, GATE_SCALE) },
  }),
  kernel: (i, o, { B, H }) => core.rnnCellForward(o.h, 0, o.gates, i.lengths ?? 0, STEP, B, H, H, relu, true),
  reference: (i, o, { B, H }) => rnnCell(o.h, null, Float64Array.from(o.gates), i.lengths ?? null, STEP, B, H, relu, o.gates),
});

const rnnBackward = (relu: boolean): KernelCase<CellSize> => ({
  data: (size, random) => ({
    inputs: { ...lengthsInput(size), dh: uniformArray(random, size.B * size.H), activated: rnnSaved(size.B, size.H, relu, random) },
    outputs: { dGates: uniformArray(random, size.B * size.H) },
  }),
  kernel: (i, o, { B, H }) => core.rnnCellBackward(o.dGates, i.dh, i.activated, i.lengths ?? 0, STEP, B, H, relu),
  reference: (i, o, { B, H }) => rnnCellBackward(o.dGates, i.dh, i.activated, i.lengths ?? null, STEP, B, H, relu),
});

const cellCases: Record<string, KernelCase<CellSize>> = {
  'rnnCellForward tanh, save': rnnForwardSaving(false),
  'rnnCellForward relu, save': rnnForwardSaving(true),
  'lstmCellForward, save': {
    data: (size, random) => ({
      inputs: lengthsInput(size),
      outputs: {
        h: uniformArray(random, size.B * size.H), c: uniformArray(random, size.B * size.H),
        gates: uniformArray(random, 4 * size.B * size.H, GATE_SCALE),
      },
    }),
    kernel: (i, o, { B, H }) => core.lstmCellForward(o.h, o.c, 0, o.gates, i.lengths ?? 0, STEP, B, H, H, true),
    reference: (i, o, { B, H }) => lstmCell(o.h, o.c, null, Float64Array.from(o.gates), i.lengths ?? null, STEP, B, H, o.gates),
  },
  'gruCellForward, save': {
    data: (size, random) => ({
      inputs: { ...lengthsInput(size), hiddenGates: uniformArray(random, 3 * size.B * size.H, GATE_SCALE), hiddenBiasN: uniformArray(random, size.H) },
      outputs: {
        h: uniformArray(random, size.B * size.H), inputGates: uniformArray(random, 3 * size.B * size.H, GATE_SCALE),
        savedHn: uniformArray(random, size.B * size.H),
      },
    }),
    kernel: (i, o, { B, H }) => core.gruCellForward(o.h, 0, o.inputGates, i.hiddenGates, i.hiddenBiasN, i.lengths ?? 0, STEP, B, H, H, o.savedHn),
    reference: (i, o, { B, H }) => gruCell(o.h, null, Float64Array.from(o.inputGates), i.hiddenGates, i.hiddenBiasN, i.lengths ?? null, STEP, B, H,
                                           { gates: o.inputGates, hn: o.savedHn }),
  },
  'rnnCellBackward tanh': rnnBackward(false),
  'rnnCellBackward relu': rnnBackward(true),
  lstmCellBackward: {
    data: (size, random) => ({
      inputs: { ...lengthsInput(size), dh: uniformArray(random, size.B * size.H), ...lstmSaved(size.B, size.H, random) },
      outputs: { dGates: uniformArray(random, 4 * size.B * size.H), dc: uniformArray(random, size.B * size.H) },
    }),
    kernel: (i, o, { B, H }) => core.lstmCellBackward(o.dGates, o.dc, i.dh, i.gates, i.cPrev, i.cNew, i.lengths ?? 0, STEP, B, H),
    reference: (i, o, { B, H }) => lstmCellBackward(o.dGates, o.dc, i.dh, i.gates, i.cPrev, i.cNew, i.lengths ?? null, STEP, B, H),
  },
  gruCellBackward: {
    data: (size, random) => ({
      inputs: { ...lengthsInput(size), dh: uniformArray(random, size.B * size.H), ...gruSaved(size.B, size.H, random) },
      outputs: {
        dInputGates: uniformArray(random, 3 * size.B * size.H), dHiddenGates: uniformArray(random, 3 * size.B * size.H),
        dhPrev: uniformArray(random, size.B * size.H),
      },
    }),
    kernel: (i, o, { B, H }) =>
      core.gruCellBackward(o.dInputGates, o.dHiddenGates, o.dhPrev, i.dh, i.gates, i.hn, i.hPrev, i.lengths ?? 0, STEP, B, H),
    reference: (i, o, { B, H }) =>
      gruCellBackward(o.dInputGates, o.dHiddenGates, o.dhPrev, i.dh, i.gates, i.hn, i.hPrev, i.lengths ?? null, STEP, B, H),
  },
  passEndedRows: {
    data: (size, random) => ({
      inputs: { ...lengthsInput(size), src: uniformArray(random, size.B * size.H) },
      outputs: { dst: uniformArray(random, size.B * size.H) },
    }),
    kernel: (i, o, { B, H }) => core.passEndedRows(o.dst, i.src, i.lengths ?? 0, STEP, B, H),
    reference: (i, o, { B, H }) => passEndedRows(o.dst, i.src, i.lengths ?? null, STEP, B, H),
  },
  addActiveRows: {
    data: (size, random) => ({
      inputs: { ...lengthsInput(size), dOut: uniformArray(random, size.B * (size.H + OUT_GAP)) },
      outputs: { dh: uniformArray(random, size.B * size.H) },
    }),
    kernel: (i, o, { B, H }) => core.addActiveRows(o.dh, i.dOut, i.lengths ?? 0, STEP, B, H, H + OUT_GAP),
    reference: (i, o, { B, H }) => addActiveRows(o.dh, i.dOut, i.lengths ?? null, STEP, B, H, H + OUT_GAP),
  },
};

// ---- Dense backward helpers and data movement ----

interface DenseSize {
  rows: number;
  inSize: number;
  outSize: number;
  withBias: boolean;
  withDx: boolean;
}

const absolute = (values: ArrayLike<number>) => Float64Array.from(values, Math.abs);

/** 1e-5·(1 + |expected| + Σ|products|), the sums of |products| from the reference run on absolute values. */
function productBound(expected: Float64Array, magnitude: Float64Array): (i: number) => number {
  return (i) => 1e-5 * (1 + Math.abs(expected[i]) + magnitude[i]);
}

/** Scratch of linearBackward: dY transposed, and the larger of its two packs. */
const denseScratch = ({ rows, inSize, outSize }: DenseSize) => ({
  transposed: outSize * rows,
  packed: Math.max(core.packedSize(inSize, rows), core.packedSize(inSize, outSize)),
});

/** transpose's source row stride: dense when inSize = 1, otherwise rows of a wider matrix (a column block read in place). */
const transposeStride = ({ inSize, outSize }: DenseSize) => outSize + inSize - 1;

const denseCases: Record<string, KernelCase<DenseSize>> = {
  linearBackward: {
    data: (size, random) => {
      const { rows, inSize, outSize } = size;
      const outputs: Record<string, Float32Array> = { gradWeight: uniformArray(random, outSize * inSize) };
      if (size.withBias) outputs.gradBias = uniformArray(random, outSize);
      if (size.withDx) outputs.dX = uniformArray(random, rows * inSize);
      const inputs = { dY: uniformArray(random, rows * outSize), x: uniformArray(random, rows * inSize), weight: uniformArray(random, outSize * inSize) };
      return { inputs, outputs, scratch: denseScratch(size) };
    },
    kernel: (i, o, { rows, inSize, outSize }) =>
      core.linearBackward(o.dX ?? 0, o.gradWeight, o.gradBias ?? 0, i.dY, i.x, i.weight, rows, inSize, outSize, i.transposed, i.packed),
    reference: (i, o, { rows, inSize, outSize }) =>
      linearBackward(o.dX ?? null, o.gradWeight, o.gradBias ?? null, i.dY, i.x, i.weight, rows, inSize, outSize),
    bound: (output, expected, i, { rows, inSize, outSize }) => {
      const magnitudes = { gradWeight: new Float64Array(outSize * inSize), gradBias: new Float64Array(outSize), dX: new Float64Array(rows * inSize) };
      linearBackward(magnitudes.dX, magnitudes.gradWeight, magnitudes.gradBias, absolute(i.dY), absolute(i.x), absolute(i.weight), rows, inSize, outSize);
      return productBound(expected, magnitudes[output as keyof typeof magnitudes]);
    },
  },
  // rows × outSize → outSize × rows, so every 4×4 block and both tails are reached.
  transpose: {
    data: (size, random) => ({
      inputs: { src: uniformArray(random, size.rows * transposeStride(size)) }, outputs: { dst: uniformArray(random, size.rows * size.outSize) },
    }),
    kernel: (i, o, size) => core.transpose(o.dst, i.src, size.rows, size.outSize, transposeStride(size)),
    reference: (i, o, size) => o.dst.set(transpose(i.src, size.rows, size.outSize, transposeStride(size))),
    bound: () => 0,
  },
  // [rows, inSize, outSize] → [inSize, rows, outSize].
  swapLeadingAxes: {
    data: ({ rows, inSize, outSize }, random) => {
      const count = rows * inSize * outSize;
      return { inputs: { src: uniformArray(random, count) }, outputs: { dst: uniformArray(random, count) } };
    },
    kernel: (i, o, { rows, inSize, outSize }) => core.swapLeadingAxes(o.dst, i.src, rows, inSize, outSize),
    reference: (i, o, { rows, inSize, outSize }) => o.dst.set(swapLeadingAxes(i.src, rows, inSize, outSize)),
    bound: () => 0,
  },
};

// ---- Optimizers and clipping ----

interface SgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  firstStep: boolean;
}

interface AdamOptions {
  stepSize: number;
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  eps: number;
  biasCorrection2Sqrt: number;
  l2: number;
  decay: number;
}

// Hyperparameters cross into Wasm as float32: the references get the same float32 values.
const float32 = <T extends object>(options: T): T =>
  mapValues(options as Record<string, unknown>, (value) => (typeof value === 'number' ? Math.fround(value) : value)) as T;

const sgdVariants: Record<string, SgdOptions> = {
  plain: { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, firstStep: false },
  'momentum, first step, weight decay': { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0.01, firstStep: true },
  'momentum with dampening': { lr: 0.1, momentum: 0.9, dampening: 0.25, nesterov: false, weightDecay: 0, firstStep: false },
  'nesterov, weight decay': { lr: 0.05, momentum: 0.8, dampening: 0, nesterov: true, weightDecay: 0.01, firstStep: false },
};

// Step 3 of lr 1e-3, betas (0.9, 0.999), eps 1e-8: stepSize = lr / (1 − β1³), biasCorrection2Sqrt = √(1 − β2³);
// 1 − β taken in float64, as the bindings pass it.
const adamStep3 = {
  stepSize: 1e-3 / (1 - 0.9 ** 3), oneMinusBeta1: 1 - 0.9, oneMinusBeta2: 1 - 0.999, eps: 1e-8,
  biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 3),
};
const adamVariants: Record<string, AdamOptions> = {
  Adam: { ...adamStep3, l2: 0, decay: 1 },
  'Adam, L2 weight decay 0.01': { ...adamStep3, l2: 0.01, decay: 1 },
  'AdamW, decay 1 − lr·0.01': { ...adamStep3, l2: 0, decay: 1 - 1e-3 * 0.01 },
};

interface OptimSize<O> {
  n: number;
  options: O;
}

const sgdCase: KernelCase<OptimSize<SgdOptions>> = {
  data: ({ n, options }, random) => ({
    inputs: { grad: uniformArray(random, n) },
    outputs: { value: uniformArray(random, n), ...(options.momentum !== 0 && { buffer: uniformArray(random, n) }) },
  }),
  kernel: (i, o, { n, options: { lr, momentum, dampening, nesterov, weightDecay, firstStep } }) =>
    core.sgdStep(o.value, i.grad, o.buffer ?? 0, n, lr, momentum, dampening, nesterov, weightDecay, firstStep),
  reference: (i, o, { n, options: { lr, momentum, dampening, nesterov, weightDecay, firstStep } }) =>
    sgdStep(o.value, i.grad, o.buffer ?? null, n, lr, momentum, dampening, nesterov, weightDecay, firstStep),
};

const adamCase: KernelCase<OptimSize<AdamOptions>> = {
  data: ({ n }, random) => ({
    inputs: { grad: uniformArray(random, n) },
    outputs: { value: uniformArray(random, n), m: uniformArray(random, n, 0.1), v: uniformArray(random, n).map(Math.abs) },
  }),
  kernel: (i, o, { n, options: { stepSize, oneMinusBeta1, oneMinusBeta2, eps, biasCorrection2Sqrt, l2, decay } }) =>
    core.adamStep(o.value, i.grad, o.m, o.v, n, stepSize, oneMinusBeta1, oneMinusBeta2, eps, biasCorrection2Sqrt, l2, decay),
  reference: (i, o, { n, options: { stepSize, oneMinusBeta1, oneMinusBeta2, eps, biasCorrection2Sqrt, l2, decay } }) =>
    adamStep(o.value, i.grad, o.m, o.v, n, stepSize, oneMinusBeta1, oneMinusBeta2, eps, biasCorrection2Sqrt, l2, decay),
};

const FACTOR = Math.fround(-0.37), LIMIT = Math.fround(0.5);

const clippingCases: Record<string, KernelCase<number>> = {
  scaleArray: {
    data: (n, random) => ({ inputs: {}, outputs: { x: uniformArray(random, n) } }),
    kernel: (_, o, n) => core.scaleArray(o.x, n, FACTOR),
    reference: (_, o) => o.x.set(scaleArray(o.x, FACTOR)),
    bound: (_, expected) => (i) => Math.abs(expected[i]) * 2 ** -24, // one float32 rounding
  },
  clampArray: {
    data: (n, random) => ({ inputs: {}, outputs: { x: uniformArray(random, n) } }),
    kernel: (_, o, n) => core.clampArray(o.x, n, LIMIT),
    reference: (_, o) => o.x.set(clampArray(o.x, LIMIT)),
    bound: () => 0,
  },
};

describe(`training kernels vs the float64 references (${core.simdFlavor() ? 'relaxed' : 'baseline'} build)`, () => {
  it('runs the build named by LOOPTREE_SIMD', () => {
    expectRequestedBuild();
  });

  let seed = 1;
  for (const [name, cellCase] of Object.entries(cellCases)) {
    describe(name, () => {
      for (const H of SIZES) {
        for (const B of [1, 3]) {
          const caseSeed = seed++;
          it(`H=${H} B=${B}: without lengths, and with ended rows`, () => {
            for (const masked of [false, true]) checkKernel(cellCase, { B, H, masked }, caseSeed);
          });
        }
      }
    });
  }

  for (const [name, denseCase] of Object.entries(denseCases)) {
    describe(name, () => {
      for (const rows of SIZES) {
        const caseSeed = seed++;
        const options = name === 'linearBackward' ? [[true, true], [false, false], [true, false], [false, true]] : [[false, false]];
        it(`rows=${rows}, every in and out size${options.length > 1 ? ', with and without bias and dX' : ''}`, () => {
          for (const inSize of SIZES) {
            for (const outSize of SIZES) {
              for (const [withBias, withDx] of options) checkKernel(denseCase, { rows, inSize, outSize, withBias, withDx }, caseSeed);
            }
          }
        });
      }
    });
  }

  it('linearBackward across the GEMM row block (rows 130, in 70, out 40)', () => {
    checkKernel(denseCases.linearBackward, { rows: 130, inSize: 70, outSize: 40, withBias: true, withDx: true }, seed);
  });

  for (const [name, options] of Object.entries(sgdVariants)) {
    it(`sgdStep, ${name}: n in ${SIZES.join(', ')}`, () => {
      for (const n of SIZES) checkKernel(sgdCase, { n, options: float32(options) }, n);
    });
  }

  for (const [name, options] of Object.entries(adamVariants)) {
    it(`adamStep, ${name}: n in ${SIZES.join(', ')}`, () => {
      for (const n of SIZES) checkKernel(adamCase, { n, options: float32(options) }, n);
    });
  }

  for (const [name, clippingCase] of Object.entries(clippingCases)) {
    it(`${name}: n in ${SIZES.join(', ')}`, () => {
      for (const n of SIZES) checkKernel(clippingCase, n, n);
    });
  }

  it('sumOfSquares accumulates float32 squares in float64, in order: exactly the reference', () => {
    for (const n of SIZES) {
      const x = uniformArray(seededRandom(n), n, 100);
      const ptr = writeF32(x);
      const sum = core.sumOfSquares(ptr, n);
      free(ptr);
      expect(sum, `n = ${n}`).toBe(sumOfSquares(x));
    }
  });
});

// ---- The cell backward references against central differences of the forward references (float64) ----

const B = 2, H = 3, EPSILON = 1e-6, DIFFERENCE_BOUND = 1e-8;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, value, i) => sum + value * b[i], 0);
const randomF64 = (random: () => number, count: number, scale = 1) => Float64Array.from(uniformArray(random, count, scale));

/** (f(x + ε·e_i) − f(x − ε·e_i)) / 2ε for every i. */
function centralDifferences(f: (x: Float64Array) => number, x: Float64Array): Float64Array {
  return x.map((_, i) => {
    const shifted = (delta: number) => f(x.map((value, k) => (k === i ? value + delta : value)));
    return (shifted(EPSILON) - shifted(-EPSILON)) / (2 * EPSILON);
  });
}

describe('cell backward references = central differences of the forward references', () => {
  it('rnnCellBackward, tanh and relu: d(Σ dh·h′)/d pre', () => {
    const random = seededRandom(101);
    const pre = randomF64(random, B * H, 2), dh = randomF64(random, B * H);
    for (const relu of [false, true]) {
      const loss = (x: Float64Array) => {
        const h = new Float64Array(B * H);
        rnnCell(h, null, x, null, STEP, B, H, relu);
        return dot(dh, h);
      };
      const activated = new Float64Array(B * H);
      rnnCell(new Float64Array(B * H), null, pre, null, STEP, B, H, relu, activated);
      const dGates = new Float64Array(B * H);
      rnnCellBackward(dGates, dh, activated, null, STEP, B, H, relu);
      expectClose(`dGates (relu ${relu})`, dGates, centralDifferences(loss, pre), DIFFERENCE_BOUND);
    }
  });

  it('lstmCellBackward: d(Σ dh·h′ + dc·c′)/d pre and /d c', () => {
    const random = seededRandom(102);
    const pre = randomF64(random, 4 * B * H, 2), c = randomF64(random, B * H), dh = randomF64(random, B * H), dcOut = randomF64(random, B * H);
    const loss = (x: Float64Array, cPrev: Float64Array) => {
      const h = new Float64Array(B * H), cNew = Float64Array.from(cPrev);
      lstmCell(h, cNew, null, x, null, STEP, B, H);
      return dot(dh, h) + dot(dcOut, cNew);
    };
    const gates = new Float64Array(4 * B * H), cNew = Float64Array.from(c);
    lstmCell(new Float64Array(B * H), cNew, null, pre, null, STEP, B, H, gates);
    const dGates = new Float64Array(4 * B * H), dc = Float64Array.from(dcOut);
    lstmCellBackward(dGates, dc, dh, gates, c, cNew, null, STEP, B, H);
    expectClose('dGates', dGates, centralDifferences((x) => loss(x, c), pre), DIFFERENCE_BOUND);
    expectClose('dc', dc, centralDifferences((x) => loss(pre, x), c), DIFFERENCE_BOUND);
  });

  it('gruCellBackward: d(Σ dh·h′)/d input gates, /d hidden gates and /d h (gates held)', () => {
    const random = seededRandom(103);
    const inputGates = randomF64(random, 3 * B * H, 2), hiddenGates = randomF64(random, 3 * B * H, 2);
    const biasN = randomF64(random, H), h = randomF64(random, B * H), dh = randomF64(random, B * H);
    const loss = (x: Float64Array, hidden: Float64Array, state: Float64Array) => {
      const hNew = Float64Array.from(state);
      gruCell(hNew, null, x, hidden, biasN, null, STEP, B, H);
      return dot(dh, hNew);
    };
    const saved = { gates: new Float64Array(3 * B * H), hn: new Float64Array(B * H) };
    gruCell(Float64Array.from(h), null, inputGates, hiddenGates, biasN, null, STEP, B, H, saved);
    const dInputGates = new Float64Array(3 * B * H), dHiddenGates = new Float64Array(3 * B * H), dhPrev = new Float64Array(B * H);
    gruCellBackward(dInputGates, dHiddenGates, dhPrev, dh, saved.gates, saved.hn, h, null, STEP, B, H);
    expectClose('dInputGates', dInputGates, centralDifferences((x) => loss(x, hiddenGates, h), inputGates), DIFFERENCE_BOUND);
    expectClose('dHiddenGates', dHiddenGates, centralDifferences((x) => loss(inputGates, x, h), hiddenGates), DIFFERENCE_BOUND);
    expectClose('dhPrev', dhPrev, centralDifferences((x) => loss(inputGates, hiddenGates, x), h), DIFFERENCE_BOUND);
  });
});
