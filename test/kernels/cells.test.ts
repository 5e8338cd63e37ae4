// The fused cells (rnnCellForward tanh/relu, lstmCellForward, gruCellForward, commitRows) against the
// float64 references of test/reference/cells.ts: hidden 1, 3, 5, 17, 33 (SIMD body + scalar tail),
// batch 1 and 3, with and without lengths masking, and three outputs: none (out = 0), dense rows, and
// strided rows inside a wider buffer whose gaps must stay untouched. Bound: absolute error ≤ 1e-6.
// Every case also checks that nothing outside the state and output buffers was written.

import { describe, it, expect } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { allocF32, core, expectRequestedBuild, free, readF32, snapshotMemory, strayWrites, writeF32, writeI32 } from '../helpers/kernels.js';
import { seededRandom, uniformArray } from '../helpers/random.js';
import { commitRows, gruCell, lstmCell, rnnCell, type OutputRows } from '../reference/cells.js';

const STEP = 2; // the time step t passed to the kernels
const SENTINEL = -555.25;
const GUARD = 4;
const GATE_SCALE = 6; // pre-activations in [-6, 6): saturated and linear regions both

/**
 * One kernel under test: its state buffers (updated in place), its read-only inputs, and how to call the
 * kernel (on pointers) and the reference (on arrays) for batch B and hidden (row width) H.
 */
interface CellCase {
  states(B: number, H: number): number[];
  inputs(B: number, H: number): Array<[count: number, scale: number]>;
  kernel(states: number[], inputs: number[], out: number, lengths: number, B: number, H: number, outStride: number): void;
  reference(states: Float64Array[], inputs: Float32Array[], out: OutputRows | null, lengths: Int32Array | null, B: number, H: number): void;
}

const cellCases: Record<string, CellCase> = {
  'rnnCellForward tanh': {
    states: (B, H) => [B * H],
    inputs: (B, H) => [[B * H, GATE_SCALE]],
    kernel: ([h], [gates], out, lengths, B, H, outStride) => core.rnnCellForward(h, out, gates, lengths, STEP, B, H, outStride, false, false),
    reference: ([h], [gates], out, lengths, B, H) => rnnCell(h, out, gates, lengths, STEP, B, H, false),
  },
  'rnnCellForward relu': {
    states: (B, H) => [B * H],
    inputs: (B, H) => [[B * H, GATE_SCALE]],
    kernel: ([h], [gates], out, lengths, B, H, outStride) => core.rnnCellForward(h, out, gates, lengths, STEP, B, H, outStride, true, false),
    reference: ([h], [gates], out, lengths, B, H) => rnnCell(h, out, gates, lengths, STEP, B, H, true),
  },
  lstmCellForward: {
    states: (B, H) => [B * H, B * H],
    inputs: (B, H) => [[B * 4 * H, GATE_SCALE]],
    kernel: ([h, c], [gates], out, lengths, B, H, outStride) => core.lstmCellForward(h, c, out, gates, lengths, STEP, B, H, outStride, false),
    reference: ([h, c], [gates], out, lengths, B, H) => lstmCell(h, c, out, gates, lengths, STEP, B, H),
  },
  gruCellForward: {
    states: (B, H) => [B * H],
    inputs: (B, H) => [[B * 3 * H, GATE_SCALE], [B * 3 * H, GATE_SCALE], [H, 1]],
    kernel: ([h], [inputGates, hiddenGates, hiddenBiasN], out, lengths, B, H, outStride) =>
      core.gruCellForward(h, out, inputGates, hiddenGates, hiddenBiasN, lengths, STEP, B, H, outStride, 0),
    reference: ([h], [inputGates, hiddenGates, hiddenBiasN], out, lengths, B, H) =>
      gruCell(h, out, inputGates, hiddenGates, hiddenBiasN, lengths, STEP, B, H),
  },
  commitRows: {
    states: (B, H) => [B * H],
    inputs: (B, H) => [[B * H, 2]],
    kernel: ([h], [src], out, lengths, B, H, outStride) => core.commitRows(h, out, src, lengths, STEP, B, H, outStride),
    reference: ([h], [src], out, lengths, B, H) => commitRows(h, out, src, lengths, STEP, B, H),
  },
};

type OutputKind = 'none' | 'dense' | 'strided';

/** Where the output rows sit in the output buffer; `strided` leaves a gap before and after each row. */
function outputLayout(kind: OutputKind, B: number, H: number): { offset: number; stride: number; floats: number } | null {
  if (kind === 'none') return null;
  const offset = kind === 'dense' ? 0 : H + 1;
  const stride = kind === 'dense' ? H : 2 * H + 3;
  return { offset, stride, floats: offset + (B - 1) * stride + H + GUARD };
}

/** Lengths at STEP: for B = 3 the middle row has ended (STEP ≥ its length), the others run; for B = 1 it has ended. */
function lengthsAtStep(B: number): Int32Array {
  return B === 1 ? Int32Array.of(STEP) : Int32Array.of(STEP + 1, STEP, STEP + 5);
}

function checkCell(cell: CellCase, B: number, H: number, masked: boolean, outputKind: OutputKind, seed: number): void {
  const random = seededRandom(seed);
  const states = cell.states(B, H).map((count) => uniformArray(random, count));
  const inputs = cell.inputs(B, H).map(([count, scale]) => uniformArray(random, count, scale));
  const lengths = masked ? lengthsAtStep(B) : null;
  const layout = outputLayout(outputKind, B, H);

  const statePtrs = states.map(writeF32);
  const inputPtrs = inputs.map(writeF32);
  const lengthsPtr = lengths ? writeI32(lengths) : 0;
  const outBlock = layout ? allocF32(layout.floats, SENTINEL) : 0;
  const before = snapshotMemory();
  cell.kernel(statePtrs, inputPtrs, layout ? outBlock + 4 * layout.offset : 0, lengthsPtr, B, H, layout?.stride ?? H);
  const allowed: Array<[number, number]> = statePtrs.map((ptr, i) => [ptr, 4 * states[i].length]);
  if (layout) allowed.push([outBlock, 4 * layout.floats]);
  const stray = strayWrites(before, allowed);
  const actualStates = statePtrs.map((ptr, i) => readF32(ptr, states[i].length));
  const actualOut = layout ? readF32(outBlock, layout.floats) : null;
  free(...statePtrs, ...inputPtrs, lengthsPtr, outBlock);

  const expectedStates = states.map((values) => Float64Array.from(values));
  const expectedOut = layout ? { data: new Float64Array(layout.floats).fill(SENTINEL), offset: layout.offset, stride: layout.stride } : null;
  cell.reference(expectedStates, inputs, expectedOut, lengths, B, H);

  const label = `${outputKind} output`;
  expect(stray.slice(0, 8), `bytes written outside the state and output buffers (${label})`).toEqual([]);
  actualStates.forEach((actual, i) => expectClose(`state ${i === 0 ? 'h' : 'c'} (${label})`, actual, expectedStates[i], 1e-6));
  if (actualOut && expectedOut) expectClose(`${label} buffer (rows, gaps and guard)`, actualOut, expectedOut.data, 1e-6);
}

describe(`cells (${core.simdFlavor() ? 'relaxed' : 'baseline'} build)`, () => {
  it('runs the build named by LOOPTREE_SIMD', () => {
    expectRequestedBuild();
  });

  let seed = 1;
  for (const [name, cell] of Object.entries(cellCases)) {
    describe(name, () => {
      for (const H of [1, 3, 5, 17, 33]) {
        for (const B of [1, 3]) {
          for (const masked of [false, true]) {
            const caseSeed = seed++;
            it(`H=${H} B=${B} ${masked ? 'masked by lengths' : 'no lengths'}: output none, dense and strided`, () => {
              for (const outputKind of ['none', 'dense', 'strided'] as const) {
                checkCell(cell, B, H, masked, outputKind, caseSeed);
              }
            });
          }
        }
      }
    });
  }
});
