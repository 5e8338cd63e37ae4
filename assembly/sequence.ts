// Whole-sequence forward of a multi-layer, optionally bidirectional RNN / LSTM / GRU in one call.
// Per layer and direction: one GEMM projects every timestep's input (biases folded in), then each step
// runs the recurrent GEMM into that step's gate slice and the fused cell. The plan layout is mirrored
// in bindings/plan.ts.
//
// Shapes: T steps, B batch, I input, H hidden, P = projSize || H (the h width), L layers, D directions,
// G gate rows per unit (RNN 1, LSTM 4, GRU 3). Sequences are time-major inside; batch-first input and
// output are transposed at the edges.

import { commitRows, gruCellForward, lstmCellForward, rnnCellForward } from './cells';
import { gemmPacked } from './gemm';

// Plan: i32 slots. Pointers are byte offsets in linear memory; 0 means "absent".
const CELL = 0;         // CELL_RNN_TANH | CELL_RNN_RELU | CELL_LSTM | CELL_GRU
const STEPS = 1;        // T
const BATCH = 2;        // B
const INPUT = 3;        // I
const HIDDEN = 4;       // H
const HOUT = 5;         // P
const LAYERS = 6;       // L
const DIRECTIONS = 7;   // D
const BATCH_FIRST = 8;  // 1 if x and y are [B, T, ·]
const X = 9;            // [T, B, I] (or [B, T, I])
const Y = 10;           // [T, B, D·P] (or [B, T, D·P])
const H0 = 11;          // [L·D, B, P] or 0 for zeros
const C0 = 12;          // [L·D, B, H] or 0 for zeros (LSTM)
const HN = 13;          // [L·D, B, P]: the working h state, final h on return (may equal H0)
const CN = 14;          // [L·D, B, H]: the working c state (LSTM; may equal C0)
const LENGTHS = 15;     // [B] i32 or 0
const SCRATCH = 16;     // rnnScratchBytes(plan) bytes
const LAYER_TABLE = 20; // LAYER_SLOTS slots per (layer, direction), index layer·D + direction:
const W_IH = 0;         //   packed weight_ih [G·H, in]
const W_HH = 1;         //   packed weight_hh [G·H, P]
const W_HR = 2;         //   packed weight_hr [P, H] or 0
const BIAS_X = 3;       //   bias added to the input projection [G·H padded to 8]: b_ih + b_hh (GRU: b_hh only for r, z)
const BIAS_HN = 4;      //   GRU: b_hh of the n gate [H]
const LAYER_SLOTS = 8;

const CELL_RNN_TANH = 0;
const CELL_RNN_RELU = 1;
const CELL_LSTM = 2;
const CELL_GRU = 3;

@inline function slot(plan: usize, index: i32): i32 {
  return load<i32>(plan + (<usize>index << 2));
}

@inline function layerSlot(plan: usize, layerDirection: i32, index: i32): usize {
  return <usize>slot(plan, LAYER_TABLE + layerDirection * LAYER_SLOTS + index);
}

@inline function gateRows(cell: i32): i32 {
  return cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1;
}

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~<usize>15;
}

/** Bytes of scratch `rnnForward` needs for this plan. */
export function rnnScratchBytes(plan: usize): usize {
  const T = slot(plan, STEPS), B = slot(plan, BATCH), I = slot(plan, INPUT), H = slot(plan, HIDDEN);
  const P = slot(plan, HOUT), D = slot(plan, DIRECTIONS), G = gateRows(slot(plan, CELL));
  const timeMajorInput = slot(plan, BATCH_FIRST) ? align16(<usize>T * B * I * 4) : 0;
  const layerOutput = align16(<usize>T * B * D * P * 4);
  const gates = align16(<usize>T * B * G * H * 4);
  const hiddenGates = align16(<usize>B * G * H * 4);
  const projection = align16(<usize>B * H * 4) + align16(<usize>B * P * 4);
  return timeMajorInput + 2 * layerOutput + gates + hiddenGates + projection;
}

/** dst [b, a, width] = src [a, b, width]: swaps the first two axes. */
export function swapLeadingAxes(dst: usize, src: usize, a: i32, b: i32, width: i32): void {
  const rowBytes = <usize>width << 2;
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      memory.copy(dst + (<usize>j * a + i) * rowBytes, src + (<usize>i * b + j) * rowBytes, rowBytes);
    }
  }
}

/** Runs the plan: fills Y, HN and (LSTM) CN. */
export function rnnForward(plan: usize): void {
  const cell = slot(plan, CELL);
  const T = slot(plan, STEPS), B = slot(plan, BATCH), I = slot(plan, INPUT), H = slot(plan, HIDDEN);
  const P = slot(plan, HOUT), L = slot(plan, LAYERS), D = slot(plan, DIRECTIONS), G = gateRows(cell);
  const batchFirst = slot(plan, BATCH_FIRST) != 0;
  const x = <usize>slot(plan, X), y = <usize>slot(plan, Y);
  const h0 = <usize>slot(plan, H0), c0 = <usize>slot(plan, C0);
  const hN = <usize>slot(plan, HN), cN = <usize>slot(plan, CN);
  const lengths = <usize>slot(plan, LENGTHS);

  // Carve the scratch in the order rnnScratchBytes counts it.
  let cursor = <usize>slot(plan, SCRATCH);
  const timeMajorInput = cursor;
  if (batchFirst) cursor += align16(<usize>T * B * I * 4);
  const layerOutput0 = cursor; cursor += align16(<usize>T * B * D * P * 4);
  const layerOutput1 = cursor; cursor += align16(<usize>T * B * D * P * 4);
  const gates = cursor; cursor += align16(<usize>T * B * G * H * 4);
  const hiddenGates = cursor; cursor += align16(<usize>B * G * H * 4);
  const rawHidden = cursor; cursor += align16(<usize>B * H * 4);
  const projected = cursor;

  const stateBytes = <usize>B * P * 4;
  const cellBytes = <usize>B * H * 4;
  if (h0 == 0) memory.fill(hN, 0, stateBytes * L * D); else if (h0 != hN) memory.copy(hN, h0, stateBytes * L * D);
  if (cell == CELL_LSTM) {
    if (c0 == 0) memory.fill(cN, 0, cellBytes * L * D); else if (c0 != cN) memory.copy(cN, c0, cellBytes * L * D);
  }

  let layerInput = x;
  if (batchFirst) {
    swapLeadingAxes(timeMajorInput, x, B, T, I);
    layerInput = timeMajorInput;
  }
  const stepGateBytes = <usize>B * G * H * 4;
  const outStride = D * P;
  for (let layer = 0; layer < L; layer++) {
    const inputSize = layer == 0 ? I : D * P;
    const lastLayer = layer == L - 1;
    const layerOutput = lastLayer && !batchFirst ? y : (layer & 1) == 0 ? layerOutput0 : layerOutput1;
    for (let direction = 0; direction < D; direction++) {
      const entry = layer * D + direction;
      const weightHR = layerSlot(plan, entry, W_HR);
      const h = hN + <usize>entry * stateBytes;
      const c = cN + <usize>entry * cellBytes;
      gemmPacked(gates, layerInput, layerSlot(plan, entry, W_IH), layerSlot(plan, entry, BIAS_X), T * B, G * H, inputSize, false);
      const weightHH = layerSlot(plan, entry, W_HH);
      for (let step = 0; step < T; step++) {
        const t = direction == 0 ? step : T - 1 - step;
        const stepGates = gates + <usize>t * stepGateBytes;
        const out = layerOutput + ((<usize>t * B * outStride + <usize>direction * P) << 2);
        if (cell == CELL_GRU) {
          gemmPacked(hiddenGates, h, weightHH, 0, B, G * H, P, false);
          gruCellForward(h, out, stepGates, hiddenGates, layerSlot(plan, entry, BIAS_HN), lengths, t, B, H, outStride);
        } else {
          gemmPacked(stepGates, h, weightHH, 0, B, G * H, P, true);
          if (cell == CELL_LSTM) {
            if (weightHR == 0) {
              lstmCellForward(h, c, out, stepGates, lengths, t, B, H, outStride);
            } else {
              lstmCellForward(rawHidden, c, 0, stepGates, lengths, t, B, H, H);
              gemmPacked(projected, rawHidden, weightHR, 0, B, P, H, false);
              commitRows(h, out, projected, lengths, t, B, P, outStride);
            }
          } else {
            rnnCellForward(h, out, stepGates, lengths, t, B, H, outStride, cell == CELL_RNN_RELU);
          }
        }
      }
    }
    layerInput = layerOutput;
  }
  if (batchFirst) swapLeadingAxes(y, layerInput, T, B, D * P);
}
