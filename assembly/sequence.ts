// Whole-sequence forward and backward of a multi-layer, optionally bidirectional RNN / LSTM / GRU, each
// in one call. Forward, per layer and direction: one GEMM projects every timestep's input (biases folded
// in), then each step runs the recurrent GEMM into that step's gate slice and the fused cell. A training
// forward also saves what the backward needs on a tape. Backward: only dh is sequential; dW_ih, dW_hh,
// the biases and dX are single GEMMs (or sums) after the reverse loop. The plan layout is mirrored in
// bindings/plan.ts.
//
// Shapes: T steps, B batch, I input, H hidden, P = projSize || H (the h width), L layers, D directions,
// G gate rows per unit (RNN 1, LSTM 4, GRU 3). Sequences are time-major inside; batch-first input and
// output are transposed at the edges.

import { Cell, RnnLayerSlot, RnnPlan, VariantFlag } from './abi';
import { resetCellVariant, setCellPeepholes, setCellVariant } from './cell-variant';
import {
  addActiveRows, commitRows, gruCellBackward, gruCellForward, gruCellForwardUnits, gruResetBackward, gruResetCandidate,
  gruResetCandidateBackward, gruResetGates, lstmCellBackward, lstmCellForward, lstmCellForwardUnits, passEndedRows, rnnCellBackward,
  rnnCellForward,
} from './cells';
import { gemmColumns, gemmPacked, gemvColumns, NR, packedSize, packWeightStrided, ROW_ALIGN } from './gemm';
import { accumulateColumnSums, accumulateWeightGradient, transpose } from './linalg';
import { gemmInt8, int8ScratchBytes } from './quantized';
import { rowActive } from './simd';
import { barrier, rowsStart, threadCount, threadIndex } from './threads';

@inline function slot(plan: usize, index: i32): i32 {
  return load<i32>(plan + (<usize>index << 2));
}

@inline function layerSlot(plan: usize, layerDirection: i32, index: i32): usize {
  return <usize>slot(plan, RnnPlan.LAYER_TABLE + layerDirection * RnnLayerSlot.SLOTS + index);
}

@inline function gateRows(cell: i32): i32 {
  return cell == Cell.LSTM ? 4 : cell == Cell.GRU ? 3 : 1;
}

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~<usize>15;
}

@inline function floats(count: i32): usize {
  return align16(<usize>count << 2);
}

// Byte counts the bindings ask for (rnnScratchBytes, rnnTapeBytes, rnnBackwardScratchBytes) are computed in u64 and
// returned as f64, exact: in 32 bits, T·B·G·H·4 past 2³² would wrap to a small size that the call then overruns.
// The bindings refuse any block past 1 GiB before the call, so once a call runs every offset carved in usize
// below is under 2³⁰ and the i32 products of sizes cannot wrap.

/** Bytes of `count` floats, 16-byte aligned, in 64 bits. */
@inline function floatBytes(count: u64): u64 {
  return (count * 4 + 15) & ~<u64>15;
}

/** packedSize(n, k) in 64 bits: ceil(n / NR)·NR·k floats. */
@inline function packedCount(n: i32, k: u64): u64 {
  return <u64>((n + NR - 1) / NR) * NR * k;
}

// The structs below are module-level singletons refilled per call (kernels are never re-entrant), so
// no call allocates.

/** Sizes read from a plan. */
class Shape {
  cell: i32 = 0; T: i32 = 0; B: i32 = 0; I: i32 = 0; H: i32 = 0; P: i32 = 0; L: i32 = 0; D: i32 = 0; G: i32 = 0;
  batchFirst: bool = false; projected: bool = false; resetBefore: bool = false; int8: bool = false;
  read(plan: usize): Shape {
    this.cell = slot(plan, RnnPlan.CELL);
    this.T = slot(plan, RnnPlan.STEPS); this.B = slot(plan, RnnPlan.BATCH); this.I = slot(plan, RnnPlan.INPUT);
    this.H = slot(plan, RnnPlan.HIDDEN); this.P = slot(plan, RnnPlan.HOUT); this.L = slot(plan, RnnPlan.LAYERS);
    this.D = slot(plan, RnnPlan.DIRECTIONS); this.G = gateRows(this.cell);
    this.batchFirst = slot(plan, RnnPlan.BATCH_FIRST) != 0;
    this.projected = this.P != this.H;
    this.resetBefore = this.cell == Cell.GRU && (slot(plan, RnnPlan.VARIANT_FLAGS) & VariantFlag.GRU_RESET_BEFORE) != 0;
    this.int8 = (slot(plan, RnnPlan.VARIANT_FLAGS) & VariantFlag.INT8) != 0;
    return this;
  }
  @inline get lstm(): bool { return this.cell == Cell.LSTM; }
  @inline get gru(): bool { return this.cell == Cell.GRU; }
  @inline get rows(): i32 { return this.T * this.B; }
  /** T·B in 64 bits, for byte counts. */
  @inline get rows64(): u64 { return <u64>this.T * <u64>this.B; }
  @inline inputSize(layer: i32): i32 { return layer == 0 ? this.I : this.D * this.P; }
}

// ---- The tape: what a training forward saves for the backward ----
// xTime [T, B, I]; the output of every layer [T, B, D·P]; per (layer, direction): gates [T, B, G·H]
// (activated), hPrev [T, B, P] (the state each step started from); LSTM: cPrev and cNew [T, B, H], and
// with projection hRaw [T, B, H] (o ⊙ tanh c before W_hr); GRU: hn [T, B, H] (W_hn h + b_hn).

@inline function entryTapeBytes(s: Shape): u64 {
  const n = s.rows64;
  let bytes = floatBytes(n * s.G * s.H) + floatBytes(n * s.P);
  if (s.lstm) bytes += 2 * floatBytes(n * s.H) + (s.projected ? floatBytes(n * s.H) : 0);
  if (s.gru) bytes += floatBytes(n * s.H);
  return bytes;
}

/** Offset of a layer's output on the tape (u64: rnnTapeBytes asks it for layer L). */
@inline function layerOutputOffset(s: Shape, layer: i32): u64 {
  return floatBytes(s.rows64 * s.I) + <u64>layer * floatBytes(s.rows64 * s.D * s.P);
}

@inline function layerOutputOnTape(tape: usize, s: Shape, layer: i32): usize {
  return tape + <usize>layerOutputOffset(s, layer);
}

/** Saved buffers of one (layer, direction). */
class EntryTape {
  gates: usize = 0; hPrev: usize = 0; cPrev: usize = 0; cNew: usize = 0; hRaw: usize = 0; hn: usize = 0;
  locate(tape: usize, s: Shape, entry: i32): EntryTape {
    const n = s.rows;
    let at = layerOutputOnTape(tape, s, s.L) + <usize>(<u64>entry * entryTapeBytes(s));
    this.gates = at; at += floats(n * s.G * s.H);
    this.hPrev = at; at += floats(n * s.P);
    this.cPrev = 0; this.cNew = 0; this.hRaw = 0; this.hn = 0;
    if (s.lstm) {
      this.cPrev = at; at += floats(n * s.H);
      this.cNew = at; at += floats(n * s.H);
      if (s.projected) { this.hRaw = at; at += floats(n * s.H); }
    }
    if (s.gru) this.hn = at;
    return this;
  }
}

/** Bytes of tape a training forward of this plan writes. */
export function rnnTapeBytes(plan: usize): f64 {
  const s = shape.read(plan);
  return <f64>(layerOutputOffset(s, s.L) + <u64>(s.L * s.D) * entryTapeBytes(s));
}

/** Bytes of scratch `rnnForward` needs for this plan. */
export function rnnScratchBytes(plan: usize): f64 {
  const s = shape.read(plan);
  const n = s.rows64;
  const timeMajorInput = s.batchFirst ? floatBytes(n * s.I) : 0;
  return <f64>(timeMajorInput + 2 * floatBytes(n * s.D * s.P) + directionCopies(s) * forwardDirectionScratchBytes(s) + int8Scratch(s));
}

/** Copies of a direction's buffers in rnnForward's scratch: the threads builds keep one per direction (both may run at once). */
@inline function directionCopies(s: Shape): u64 {
  return ASC_FEATURE_THREADS ? <u64>s.D : 1;
}

/**
 * An INT8 plan's quantized-activation scratch (gemmInt8's): enough for its largest call, the input projection of
 * all T·B rows over the widest input (I, D·P, or H: W_hr and W_hn read [B, H]). One copy: int8 plans run on one
 * thread (the bindings).
 */
@inline function int8Scratch(s: Shape): u64 {
  return s.int8 ? <u64>int8ScratchBytes(s.rows, max(max(s.I, s.D * s.P), s.H)) : 0;
}

/** Scratch of one direction's run in rnnForward: its gates [T·B, G·H], hidden gates, raw hidden and projected rows, step lengths. */
@inline function forwardDirectionScratchBytes(s: Shape): u64 {
  const B = <u64>s.B;
  return floatBytes(s.rows64 * s.G * s.H) + floatBytes(B * s.G * s.H) + floatBytes(B * s.H) + floatBytes(B * s.P) + floatBytes(B);
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

/** Copies (or, batch-first, transposes) a [T, B, width] sequence between the user's layout and time-major. */
@inline function toTimeMajor(dst: usize, src: usize, s: Shape, width: i32): void {
  if (s.batchFirst) swapLeadingAxes(dst, src, s.B, s.T, width);
  else memory.copy(dst, src, <usize>s.rows * width * 4);
}

@inline function f32Slot(plan: usize, index: i32): f32 {
  return load<f32>(plan + (<usize>index << 2));
}

/** Points the cells at the plan's variant (activations, clip, flags); resetCellVariant() undoes it. */
function applyCellVariant(plan: usize): void {
  setCellVariant(slot(plan, RnnPlan.GATE_ACTIVATION), f32Slot(plan, RnnPlan.GATE_ALPHA), f32Slot(plan, RnnPlan.GATE_BETA),
    slot(plan, RnnPlan.CANDIDATE_ACTIVATION), f32Slot(plan, RnnPlan.CANDIDATE_ALPHA), f32Slot(plan, RnnPlan.CANDIDATE_BETA),
    slot(plan, RnnPlan.OUTPUT_ACTIVATION), f32Slot(plan, RnnPlan.OUTPUT_ALPHA), f32Slot(plan, RnnPlan.OUTPUT_BETA),
    f32Slot(plan, RnnPlan.CLIP), slot(plan, RnnPlan.VARIANT_FLAGS));
}

/**
 * Which of the rows [first, first + count) run at step t, in the form the cells read (rowActive) for row
 * `first` on: the plan's LENGTHS, or with a MASK [T, B] this step's row of it written as lengths into `into` [B]
 * (t + 1 where active, 0 where masked).
 */
function stepActivity(lengths: usize, mask: usize, t: i32, batch: i32, into: usize, first: i32, count: i32): usize {
  if (mask == 0) return lengths == 0 ? 0 : lengths + (<usize>first << 2);
  const row = mask + (<usize>(t * batch) << 2);
  for (let b = first; b < first + count; b++) store<i32>(into + (<usize>b << 2), load<i32>(row + (<usize>b << 2)) != 0 ? t + 1 : 0);
  return into + (<usize>first << 2);
}

/** x[i] *= factors[i] for i < n (dropout between layers). */
function multiplyInPlace(x: usize, factors: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(x + at, f32x4.mul(v128.load(x + at), v128.load(factors + at)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(x + at, load<f32>(x + at) * load<f32>(factors + at));
  }
}

/**
 * A forward GEMM on the plan's weights: f32 packed (gemmPacked) or, in an INT8 plan (int8Scratch ≠ 0: the
 * plan's quantized-activation scratch), quantized (gemmInt8).
 */
@inline function weightGemm(int8Scratch: usize, c: usize, a: usize, w: usize, bias: usize, m: i32, n: i32, k: i32, accumulate: bool): void {
  if (int8Scratch != 0) gemmInt8(c, a, w, bias, m, n, k, accumulate, int8Scratch);
  else gemmPacked(c, a, w, bias, m, n, k, accumulate);
}

/** Runs the plan: fills Y, HN and (LSTM) CN; with a TAPE, also saves what rnnBackward needs. */
export function rnnForward(plan: usize): void {
  const s = shape.read(plan);
  const T = s.T, B = s.B, H = s.H, P = s.P, L = s.L, D = s.D, G = s.G, GH = G * H;
  const x = <usize>slot(plan, RnnPlan.X), y = <usize>slot(plan, RnnPlan.Y);
  const h0 = <usize>slot(plan, RnnPlan.H0), c0 = <usize>slot(plan, RnnPlan.C0);
  const hN = <usize>slot(plan, RnnPlan.HN), cN = <usize>slot(plan, RnnPlan.CN);
  const lengths = <usize>slot(plan, RnnPlan.LENGTHS), mask = <usize>slot(plan, RnnPlan.MASK);
  const tape = <usize>slot(plan, RnnPlan.TAPE);
  const training = tape != 0;
  const dropout = training ? <usize>slot(plan, RnnPlan.DROPOUT) : 0;
  applyCellVariant(plan);

  // Carve the scratch in the order rnnScratchBytes counts it.
  let cursor = <usize>slot(plan, RnnPlan.SCRATCH);
  const timeMajorInput = cursor;
  if (s.batchFirst) cursor += floats(s.rows * s.I);
  const layerOutput0 = cursor; cursor += floats(s.rows * D * P);
  const layerOutput1 = cursor; cursor += floats(s.rows * D * P);
  const directionScratch = cursor;

  const stateBytes = <usize>B * P * 4;
  const cellBytes = <usize>B * H * 4;
  let layerInput = training ? tape : s.batchFirst ? timeMajorInput : x;
  if (threadIndex == 0) {
    if (h0 == 0) memory.fill(hN, 0, stateBytes * L * D); else if (h0 != hN) memory.copy(hN, h0, stateBytes * L * D);
    if (s.lstm) {
      if (c0 == 0) memory.fill(cN, 0, cellBytes * L * D); else if (c0 != cN) memory.copy(cN, c0, cellBytes * L * D);
    }
    if (training) toTimeMajor(layerInput, x, s, s.I);
    else if (s.batchFirst) swapLeadingAxes(timeMajorInput, x, B, T, s.I);
  }
  barrier();

  // With threads: a bidirectional layer runs its directions side by side (thread groups), and within a
  // group the members split the input projection's rows, then the batch rows of the recurrence (each
  // row's steps depend on that row alone); at batch 1, both by hidden units. Every thread passes the same barriers.
  const groups = D == 2 && threadCount >= 2 ? 2 : 1;
  const group = threadIndex % groups;
  const members = (threadCount - group + groups - 1) / groups;
  const member = threadIndex / groups;
  const firstRow = rowsStart(s.rows, member, members, ROW_ALIGN), endRow = rowsStart(s.rows, member + 1, members, ROW_ALIGN);
  const first = rowsStart(B, member, members, ROW_ALIGN), count = rowsStart(B, member + 1, members, ROW_ALIGN) - first;
  const scratch = directionScratch + (groups == 2 ? <usize>group * <usize>forwardDirectionScratchBytes(s) : 0);
  const scratchGates = scratch;
  const hiddenGates = scratchGates + floats(s.rows * GH);
  const scratchRawHidden = hiddenGates + floats(B * GH);
  const projected = scratchRawHidden + floats(B * H);
  const stepLengths = projected + floats(B * P);
  // Past every direction's copy (rnnScratchBytes' order); 0 for an f32 plan.
  const int8Scratch = s.int8 ? directionScratch + <usize>(directionCopies(s) * forwardDirectionScratchBytes(s)) : 0;

  const stepGateBytes = <usize>B * GH * 4;
  const outStride = D * P;
  for (let layer = 0; layer < L; layer++) {
    const lastLayer = layer == L - 1;
    const layerOutput = training ? layerOutputOnTape(tape, s, layer)
      : lastLayer && !s.batchFirst ? y : (layer & 1) == 0 ? layerOutput0 : layerOutput1;
    const inputSize = s.inputSize(layer);
    for (let direction = group; direction < D; direction += groups) {
      const entry = layer * D + direction;
      const saved = training ? entryTape.locate(tape, s, entry) : null;
      const gates = training ? saved!.gates : scratchGates;
      const weightHR = layerSlot(plan, entry, RnnLayerSlot.W_HR);
      // Batch 1 (the inference forward's plain variants): one row, nothing to split by rows; the members split the
      // hidden units instead, each its units' gate columns of the input projection and of every step.
      const unitsSplit = ASC_FEATURE_THREADS && B == 1 && D == 1 && members > 1 && !training && !s.projected && !s.resetBefore && !s.int8
        && mask == 0 && layerSlot(plan, entry, RnnLayerSlot.PEEPHOLE) == 0;
      if (unitsSplit) {
        projectUnits(gates, layerInput, layerSlot(plan, entry, RnnLayerSlot.W_IH), layerSlot(plan, entry, RnnLayerSlot.BIAS_X), s, inputSize,
                     member, members);
      } else {
        weightGemm(int8Scratch, gates + <usize>firstRow * GH * 4, layerInput + <usize>firstRow * inputSize * 4, layerSlot(plan, entry, RnnLayerSlot.W_IH),
                   layerSlot(plan, entry, RnnLayerSlot.BIAS_X), endRow - firstRow, GH, inputSize, false);
      }
      // Rows that end early never write their raw hidden state; keep the saved copy finite for the backward GEMM.
      if (training && weightHR != 0 && (lengths != 0 || mask != 0)) {
        memory.fill(saved!.hRaw + <usize>firstRow * H * 4, 0, <usize>(endRow - firstRow) * H * 4);
      }
      barrier();
      const weightHH = layerSlot(plan, entry, RnnLayerSlot.W_HH);
      setCellPeepholes(layerSlot(plan, entry, RnnLayerSlot.PEEPHOLE));
      // This thread's batch rows [first, first + count): every per-row buffer below starts at row `first`.
      const h = hN + <usize>entry * stateBytes + <usize>first * P * 4;
      const c = cN + <usize>entry * cellBytes + <usize>first * H * 4;
      const hiddenRows = hiddenGates + <usize>first * GH * 4;
      const rawHiddenRows = scratchRawHidden + <usize>first * H * 4;
      const projectedRows = projected + <usize>first * (s.resetBefore ? H : P) * 4;
      const rowBytes = <usize>count * P * 4, cellRowBytes = <usize>count * H * 4;
      if (unitsSplit) {
        recurrenceOverUnits(s, hN + <usize>entry * stateBytes, cN + <usize>entry * cellBytes, projected, gates, layerOutput, weightHH,
                            layerSlot(plan, entry, RnnLayerSlot.BIAS_HN), hiddenGates, lengths, member, members);
        barrier();
        continue;
      }
      for (let step = 0; step < T && count > 0; step++) {
        const t = direction == 0 ? step : T - 1 - step;
        const active = stepActivity(lengths, mask, t, B, stepLengths, first, count);
        const stepGates = gates + <usize>t * stepGateBytes + <usize>first * GH * 4;
        const out = layerOutput + ((<usize>(t * B + first) * outStride + <usize>direction * P) << 2);
        if (training) {
          memory.copy(saved!.hPrev + <usize>t * stateBytes + <usize>first * P * 4, h, rowBytes);
          if (s.lstm) memory.copy(saved!.cPrev + <usize>t * cellBytes + <usize>first * H * 4, c, cellRowBytes);
        }
        if (s.resetBefore) {
          // r ⊙ h goes to the tape (the n rows' weight gradient multiplies it) or to scratch.
          const resetHidden = training ? saved!.hn + <usize>t * cellBytes + <usize>first * H * 4 : rawHiddenRows;
          weightGemm(int8Scratch, hiddenRows, h, weightHH, 0, count, 2 * H, P, false);
          gruResetGates(resetHidden, stepGates, hiddenRows, h, active, t, count, H);
          weightGemm(int8Scratch, projectedRows, resetHidden, layerSlot(plan, entry, RnnLayerSlot.W_HN), 0, count, H, H, false);
          gruResetCandidate(h, out, stepGates, projectedRows, active, t, count, H, outStride);
        } else if (s.gru) {
          weightGemm(int8Scratch, hiddenRows, h, weightHH, 0, count, GH, P, false);
          const savedHn = training ? saved!.hn + <usize>t * cellBytes + <usize>first * H * 4 : 0;
          gruCellForward(h, out, stepGates, hiddenRows, layerSlot(plan, entry, RnnLayerSlot.BIAS_HN), active, t, count, H, outStride, savedHn);
        } else {
          weightGemm(int8Scratch, stepGates, h, weightHH, 0, count, GH, P, true);
          if (s.lstm) {
            if (weightHR == 0) {
              lstmCellForward(h, c, out, stepGates, active, t, count, H, outStride, training);
            } else {
              const rawHidden = training ? saved!.hRaw + <usize>t * cellBytes + <usize>first * H * 4 : rawHiddenRows;
              lstmCellForward(rawHidden, c, 0, stepGates, active, t, count, H, H, training);
              weightGemm(int8Scratch, projectedRows, rawHidden, weightHR, 0, count, P, H, false);
              commitRows(h, out, projectedRows, active, t, count, P, outStride);
            }
            if (training) memory.copy(saved!.cNew + <usize>t * cellBytes + <usize>first * H * 4, c, cellRowBytes);
          } else {
            rnnCellForward(h, out, stepGates, active, t, count, H, outStride, s.cell == Cell.RNN_RELU, training);
          }
        }
      }
      barrier();
    }
    if (dropout != 0 && layer < L - 1) {
      if (threadIndex == 0) multiplyInPlace(layerOutput, dropout + ((<usize>layer * s.rows * D * P) << 2), s.rows * D * P);
      barrier();
    }
    layerInput = layerOutput;
  }
  if (threadIndex == 0) {
    if (training) {
      if (s.batchFirst) swapLeadingAxes(y, layerInput, T, B, D * P);
      else memory.copy(y, layerInput, <usize>s.rows * D * P * 4);
    } else if (s.batchFirst) {
      swapLeadingAxes(y, layerInput, T, B, D * P);
    }
  }
  resetCellVariant();
}

// Batch 1 with threads: member `member` of `members` takes the hidden units [unitsStart(member), unitsStart(member + 1)),
// cut at multiples of 4 so that each unit runs through the same SIMD lane or scalar tail of the cells as on one thread.
const UNIT_ALIGN: i32 = 4;

@inline function unitsStart(H: i32, member: i32, members: i32): i32 {
  return rowsStart(H, member, members, UNIT_ALIGN);
}

/**
 * The input projection of a batch-1 layer split over hidden units: for every gate g, this member's columns
 * [g·H + u0, g·H + u1) of all T rows (gemmColumns: gemmPacked's bits), so that each step's gate values a thread reads
 * are the ones its own core wrote (split by rows, half the steps' gates came from the other core's cache, on the
 * critical path of every step).
 */
function projectUnits(gates: usize, input: usize, weightIH: usize, biasX: usize, s: Shape, inputSize: i32, member: i32, members: i32): void {
  const H = s.H, GH = s.G * H;
  const u0 = unitsStart(H, member, members), u1 = unitsStart(H, member + 1, members);
  for (let g = 0; g < s.G; g++) gemmColumns(gates, input, weightIH, biasX, s.T, GH, inputSize, false, g * H + u0, g * H + u1);
}

/**
 * The recurrence of one unidirectional layer at batch 1, split over hidden units: member `member` of `members`
 * takes units [u0, u1) (unitsStart), computes their gate rows of W_hh·h (gemvColumns: each a whole-K sum in k order, never split over K,
 * so bitwise the single-thread product) and their cell, and meets the others at one barrier per step. h alternates
 * between `state` and `spare` [H] so that a step's h is written while the others still read the last one.
 * Inference only (no tape), no projection, peepholes, reset-before or int8: the caller checks.
 */
function recurrenceOverUnits(s: Shape, state: usize, cell: usize, spare: usize, gates: usize, layerOutput: usize, weightHH: usize,
                             biasHN: usize, hiddenGates: usize, lengths: usize, member: i32, members: i32): void {
  const T = s.T, H = s.H, G = s.G;
  const u0 = unitsStart(H, member, members), u1 = unitsStart(H, member + 1, members), units = u1 - u0;
  const unitsAt = <usize>u0 << 2, unitBytes = <usize>units << 2;
  let current = state, next = spare;
  for (let t = 0; t < T; t++) {
    const stepGates = gates + <usize>t * G * H * 4;
    const out = layerOutput + <usize>t * H * 4;
    // The gate pre-activations of these units: LSTM/RNN add W_hh·h to the input projection, GRU keeps it apart.
    const target = s.gru ? hiddenGates : stepGates;
    for (let g = 0; g < G; g++) {
      const column = g * H + u0;
      gemvColumns(target, current, weightHH, 0, H, column, column + units, !s.gru);
    }
    // The GRU's cell updates h in place and an ended row keeps it: start from the last h.
    memory.copy(next + unitsAt, current + unitsAt, unitBytes);
    if (s.lstm) {
      lstmCellForwardUnits(next + unitsAt, cell + unitsAt, out + unitsAt, stepGates + unitsAt, lengths, t, 1, units, H, false, H);
    } else if (s.gru) {
      gruCellForwardUnits(next + unitsAt, out + unitsAt, stepGates + unitsAt, hiddenGates + unitsAt, biasHN + unitsAt, lengths, t, 1, units, H, 0, H);
    } else {
      rnnCellForward(next + unitsAt, out + unitsAt, stepGates + unitsAt, lengths, t, 1, units, H, s.cell == Cell.RNN_RELU, false);
    }
    barrier();
    const last = current;
    current = next;
    next = last;
  }
  if (current != state) memory.copy(state + unitsAt, current + unitsAt, unitBytes);
}

// ---- Backward ----

/** Scratch buffers of rnnBackward, carved in one order for both the size and the run. */
class BackwardScratch {
  gradOutput: usize = 0;   // [T, B, D·P]: dLoss/d(this layer's output)
  gradInput: usize = 0;    // [T, B, max(I, D·P)]: dLoss/d(this layer's input), summed over directions
  dGates: usize = 0;       // [T, B, G·H]: input-side gate gradients
  dHiddenGates: usize = 0; // [T, B, G·H]: hidden-side gate gradients (GRU; otherwise the same as dGates)
  transposed: usize = 0;   // [max(G·H, P), T·B]: a transposed gradient, the A of a weight-gradient GEMM
  packedRows: usize = 0;   // packed [max(in, P, H), T·B]: the transposed activations of a weight-gradient GEMM
  packedWeight: usize = 0; // packed Wᵀ of weight_ih, or of weight_hh followed by weight_hr, for the data-gradient GEMMs
  dProjected: usize = 0;   // [T, B, P]: gradient of the projected h at each step (LSTM with projection)
  dh: usize = 0; dhPrev: usize = 0; dc: usize = 0; dhRaw: usize = 0;
  packedResetWeight: usize = 0; // GRU reset-before: packed W_hnᵀ, for d(r ⊙ h) = da · W_hn
  dResetHidden: usize = 0;      // GRU reset-before: [B, H] d(r ⊙ h)
  dCandidate: usize = 0;        // GRU reset-before: [B, H] da, the n pre-activation's gradient, gathered for the GEMM
  stepLengths: usize = 0;       // [B] i32: a masked plan's activity at the current step
  bytes: u64 = 0;
  /** Carves from `base`, counting in u64 (rnnBackwardScratchBytes carves from 0 to learn the size). */
  carve(base: usize, s: Shape): BackwardScratch {
    const n = s.rows64, B = <u64>s.B, GH = s.G * s.H, widest = max(s.I, s.D * s.P);
    let at = <u64>base;
    this.gradOutput = <usize>at; at += floatBytes(n * s.D * s.P);
    this.gradInput = <usize>at; at += floatBytes(n * widest);
    this.dGates = <usize>at; at += floatBytes(n * GH);
    this.dHiddenGates = this.dGates;
    if (s.gru) { this.dHiddenGates = <usize>at; at += floatBytes(n * GH); }
    this.transposed = <usize>at; at += floatBytes(n * max(GH, s.P));
    this.packedRows = <usize>at; at += floatBytes(packedCount(max(widest, s.H), n));
    this.packedWeight = <usize>at;
    at += max(floatBytes(packedCount(widest, GH)), floatBytes(packedCount(s.P, GH)) + floatBytes(packedCount(s.H, s.P)));
    this.dProjected = <usize>at; if (s.projected) at += floatBytes(n * s.P);
    this.dh = <usize>at; at += floatBytes(B * s.P);
    this.dhPrev = <usize>at; at += floatBytes(B * s.P);
    this.dc = <usize>at; at += floatBytes(B * s.H);
    this.dhRaw = <usize>at; at += floatBytes(B * s.H);
    this.packedResetWeight = <usize>at; if (s.resetBefore) at += floatBytes(packedCount(s.P, s.H));
    this.dResetHidden = <usize>at; if (s.resetBefore) at += floatBytes(B * s.H);
    this.dCandidate = <usize>at; if (s.resetBefore) at += floatBytes(B * s.H);
    this.stepLengths = <usize>at; at += floatBytes(B);
    this.bytes = at - base;
    return this;
  }
}

let shape = new Shape();
let entryTape = new EntryTape();
let backwardScratch = new BackwardScratch();

@inline function objectBytes<T>(): usize {
  return (offsetof<T>() + 15) & ~<usize>15;
}

/** Bytes of a thread's sequence objects; with `place`, this instance's move to `at` (assembly/threads.ts). */
export function placeSequenceScratch(at: usize, place: bool): usize {
  if (place) {
    shape = changetype<Shape>(at);
    entryTape = changetype<EntryTape>(at + objectBytes<Shape>());
    backwardScratch = changetype<BackwardScratch>(at + objectBytes<Shape>() + objectBytes<EntryTape>());
  }
  return objectBytes<Shape>() + objectBytes<EntryTape>() + objectBytes<BackwardScratch>();
}

/** Bytes of scratch `rnnBackward` needs for this plan. */
export function rnnBackwardScratchBytes(plan: usize): f64 {
  return <f64>backwardScratch.carve(0, shape.read(plan)).bytes;
}

/**
 * Backpropagates through a training forward of the same plan (its TAPE): from DY, DHN, DCN, writes
 * DX, DH0, DC0 and adds every parameter's gradient into the GRAD_* accumulators. With threads, the reverse
 * loop splits the batch rows (each row's dh and dc depend on that row alone) and every GEMM after it its
 * output rows (weightGradientSplit, gemmRowsSplit): no sum changes order.
 */
export function rnnBackward(plan: usize): void {
  const s = shape.read(plan);
  const T = s.T, B = s.B, H = s.H, P = s.P, L = s.L, D = s.D, G = s.G, GH = G * H;
  const n = s.rows;
  const lengths = <usize>slot(plan, RnnPlan.LENGTHS), mask = <usize>slot(plan, RnnPlan.MASK);
  const tape = <usize>slot(plan, RnnPlan.TAPE);
  applyCellVariant(plan);
  const dY = <usize>slot(plan, RnnPlan.DY), dHN = <usize>slot(plan, RnnPlan.DHN), dCN = <usize>slot(plan, RnnPlan.DCN);
  const scratch = backwardScratch.carve(<usize>slot(plan, RnnPlan.SCRATCH), s);
  const stateBytes = <usize>B * P * 4, cellBytes = <usize>B * H * 4;
  const outStride = D * P;
  const first = rowsStart(B, threadIndex, threadCount, ROW_ALIGN), count = rowsStart(B, threadIndex + 1, threadCount, ROW_ALIGN) - first;
  const rowBytes = <usize>count * P * 4, cellRowBytes = <usize>count * H * 4;
  const rowsAt = <usize>first * P * 4, cellRowsAt = <usize>first * H * 4;

  if (threadIndex == 0) {
    if (dY == 0) memory.fill(scratch.gradOutput, 0, <usize>n * outStride * 4);
    else toTimeMajor(scratch.gradOutput, dY, s, outStride);
  }

  for (let layer = L - 1; layer >= 0; layer--) {
    const inputSize = s.inputSize(layer);
    const layerInput = layer == 0 ? tape : layerOutputOnTape(tape, s, layer - 1);
    if (threadIndex == 0) memory.fill(scratch.gradInput, 0, <usize>n * inputSize * 4);
    for (let direction = 0; direction < D; direction++) {
      const entry = layer * D + direction;
      const saved = entryTape.locate(tape, s, entry);
      // This thread's batch rows [first, first + count) of every [B, ·] state buffer.
      const dh = scratch.dh + rowsAt, dhPrev = scratch.dhPrev + rowsAt, dc = scratch.dc + cellRowsAt;
      if (dHN == 0) memory.fill(dh, 0, rowBytes); else memory.copy(dh, dHN + <usize>entry * stateBytes + rowsAt, rowBytes);
      if (s.lstm) {
        if (dCN == 0) memory.fill(dc, 0, cellRowBytes); else memory.copy(dc, dCN + <usize>entry * cellBytes + cellRowsAt, cellRowBytes);
      }
      // Wᵀ of the recurrent weight, for dh_{t−1} = dGates · W_hh.
      const weightHRT = scratch.packedWeight + floats(packedSize(P, GH));
      const rawHiddenN = layerSlot(plan, entry, RnnLayerSlot.RAW_W_HH) + (<usize>(2 * H * P) << 2);
      if (threadIndex == 0) {
        packWeightStrided(scratch.packedWeight, layerSlot(plan, entry, RnnLayerSlot.RAW_W_HH), P, GH, 1, P);
        if (s.projected) packWeightStrided(weightHRT, layerSlot(plan, entry, RnnLayerSlot.RAW_W_HR), H, P, 1, H);
        if (s.resetBefore) packWeightStrided(scratch.packedResetWeight, rawHiddenN, P, H, 1, P);
      }
      barrier();

      if (ASC_FEATURE_THREADS && threadCount > 1 && s.lstm && !s.projected) lstmReverseOverColumns(s, scratch, saved, direction, lengths, mask, first, count);
      else for (let step = 0; step < T && count > 0; step++) {
        const t = direction == 0 ? T - 1 - step : step; // the forward's order, reversed
        const active = stepActivity(lengths, mask, t, B, scratch.stepLengths, first, count);
        addActiveRows(dh, scratch.gradOutput + ((<usize>(t * B + first) * outStride + <usize>direction * P) << 2), active, t, count, P, outStride);
        const dStep = scratch.dGates + (<usize>(t * B + first) * GH) * 4;
        const gatesStep = saved.gates + (<usize>(t * B + first) * GH) * 4;
        if (s.lstm) {
          let dCell = dh;
          if (s.projected) {
            memory.copy(scratch.dProjected + <usize>t * stateBytes + rowsAt, dh, rowBytes);
            gemmPacked(scratch.dhRaw + cellRowsAt, dh, weightHRT, 0, count, H, P, false);
            dCell = scratch.dhRaw + cellRowsAt;
          }
          lstmCellBackward(dStep, dc, dCell, gatesStep, saved.cPrev + <usize>t * cellBytes + cellRowsAt, saved.cNew + <usize>t * cellBytes + cellRowsAt,
                           active, t, count, H);
          gemmPacked(dhPrev, dStep, scratch.packedWeight, 0, count, P, GH, false);
        } else if (s.resetBefore) {
          const dHiddenStep = scratch.dHiddenGates + (<usize>(t * B + first) * GH) * 4;
          const hPrevStep = saved.hPrev + <usize>t * stateBytes + rowsAt;
          gruResetCandidateBackward(dStep, dHiddenStep, dh, gatesStep, hPrevStep, active, t, count, H);
          const dCandidate = scratch.dCandidate + cellRowsAt;
          for (let b = 0; b < count; b++) {
            memory.copy(dCandidate + (<usize>(b * H) << 2), dStep + ((<usize>(b * GH + 2 * H)) << 2), <usize>H << 2);
          }
          gemmPacked(scratch.dResetHidden + cellRowsAt, dCandidate, scratch.packedResetWeight, 0, count, P, H, false);
          gruResetBackward(dStep, dHiddenStep, dhPrev, dh, scratch.dResetHidden + cellRowsAt, gatesStep, hPrevStep, active, t, count, H);
          gemmPacked(dhPrev, dHiddenStep, scratch.packedWeight, 0, count, P, GH, true);
        } else if (s.gru) {
          const dHiddenStep = scratch.dHiddenGates + (<usize>(t * B + first) * GH) * 4;
          gruCellBackward(dStep, dHiddenStep, dhPrev, dh, gatesStep, saved.hn + <usize>t * cellBytes + cellRowsAt,
                          saved.hPrev + <usize>t * stateBytes + rowsAt, active, t, count, H);
          gemmPacked(dhPrev, dHiddenStep, scratch.packedWeight, 0, count, P, GH, true);
        } else {
          rnnCellBackward(dStep, dh, gatesStep, active, t, count, H, s.cell == Cell.RNN_RELU);
          gemmPacked(dhPrev, dStep, scratch.packedWeight, 0, count, P, GH, false);
        }
        passEndedRows(dhPrev, dh, active, t, count, P);
        memory.copy(dh, dhPrev, rowBytes);
        if (s.projected && active != 0) {
          // Ended rows contribute nothing to dW_hr.
          for (let b = 0; b < count; b++) {
            if (t >= load<i32>(active + (<usize>b << 2))) memory.fill(scratch.dProjected + <usize>t * stateBytes + <usize>(first + b) * P * 4, 0, <usize>P * 4);
          }
        }
      }
      if (count > 0) {
        memory.copy(<usize>slot(plan, RnnPlan.DH0) + <usize>entry * stateBytes + rowsAt, dh, rowBytes);
        if (s.lstm) memory.copy(<usize>slot(plan, RnnPlan.DC0) + <usize>entry * cellBytes + cellRowsAt, dc, cellRowBytes);
      }
      barrier();

      // The weight and input gradients: one GEMM (or column sum) each over all timesteps.
      weightGradientSplit(layerSlot(plan, entry, RnnLayerSlot.GRAD_W_IH), scratch.dGates, GH, layerInput, inputSize, n, GH, inputSize,
                          scratch.transposed, scratch.packedRows);
      weightGradientSplit(layerSlot(plan, entry, RnnLayerSlot.GRAD_W_HH), scratch.dHiddenGates, GH, saved.hPrev, P, n, GH, P,
                          scratch.transposed, scratch.packedRows);
      if (s.resetBefore) {
        // The n rows of weight_hh multiply r ⊙ h (on the tape): dW_hn += daᵀ · (r ⊙ h), da in the n slots of dGates.
        const gradHiddenN = layerSlot(plan, entry, RnnLayerSlot.GRAD_W_HH) + (<usize>(2 * H * P) << 2);
        weightGradientSplit(gradHiddenN, scratch.dGates + (<usize>(2 * H) << 2), GH, saved.hn, H, n, H, P, scratch.transposed, scratch.packedRows);
      }
      const gradBiasIH = layerSlot(plan, entry, RnnLayerSlot.GRAD_B_IH);
      if (gradBiasIH != 0) {
        // Each thread sums its columns over every row, in row order.
        const c0 = rowsStart(GH, threadIndex, threadCount, 4), c1 = rowsStart(GH, threadIndex + 1, threadCount, 4);
        const columnsAt = <usize>c0 << 2;
        accumulateColumnSums(gradBiasIH + columnsAt, scratch.dGates + columnsAt, n, c1 - c0, GH);
        // Reset-before folds b_hn beside b_in, so all of bias_hh gets the input side's gradients.
        accumulateColumnSums(layerSlot(plan, entry, RnnLayerSlot.GRAD_B_HH) + columnsAt, (s.resetBefore ? scratch.dGates : scratch.dHiddenGates) + columnsAt,
                             n, c1 - c0, GH);
      }
      if (s.projected) {
        weightGradientSplit(layerSlot(plan, entry, RnnLayerSlot.GRAD_W_HR), scratch.dProjected, P, saved.hRaw, H, n, P, H,
                            scratch.transposed, scratch.packedRows);
      }
      packSplit(scratch.packedWeight, layerSlot(plan, entry, RnnLayerSlot.RAW_W_IH), inputSize, GH, 1, inputSize);
      barrier();
      gemmRowsSplit(scratch.gradInput, scratch.dGates, scratch.packedWeight, n, inputSize, GH, true);
      barrier();
    }
    const dropout = <usize>slot(plan, RnnPlan.DROPOUT);
    if (threadIndex == 0) {
      memory.copy(scratch.gradOutput, scratch.gradInput, <usize>n * inputSize * 4);
      // Into the layer below through its dropout: the same factors scale the gradient.
      if (dropout != 0 && layer > 0) multiplyInPlace(scratch.gradOutput, dropout + ((<usize>(layer - 1) * n * inputSize) << 2), n * inputSize);
    }
    barrier();
  }
  if (threadIndex == 0) {
    const dX = <usize>slot(plan, RnnPlan.DX);
    if (s.batchFirst) swapLeadingAxes(dX, scratch.gradOutput, T, B, s.I);
    else memory.copy(dX, scratch.gradOutput, <usize>n * s.I * 4);
  }
  resetCellVariant();
}

/**
 * The LSTM's reverse loop with threads (no projection), two phases a step: the cell backward on this thread's batch
 * rows [first, first + count), then, after a barrier, dh_{t−1} = dGates_t · W_hh on this thread's columns of dh for
 * every row (whole panels of the packed W_hhᵀ, each column the same kernel over the same rows and K slices as one
 * call on all rows: bitwise the single-thread loop). Split by rows alone, every thread streamed all of W_hhᵀ (W2's
 * 1 MiB, past a core's L2) each step for half the rows; by columns each streams its half. Two barriers a step.
 */
function lstmReverseOverColumns(s: Shape, scratch: BackwardScratch, saved: EntryTape, direction: i32, lengths: usize, mask: usize,
                                first: i32, count: i32): void {
  const T = s.T, B = s.B, H = s.H, P = s.P, GH = s.G * H, outStride = s.D * P;
  const cellBytes = <usize>B * H * 4;
  const dh = scratch.dh + (<usize>first * P << 2), dc = scratch.dc + (<usize>first * H << 2), cellRowsAt = <usize>first * H * 4;
  const panels = (P + NR - 1) / NR;
  const q0 = rowsStart(panels, threadIndex, threadCount, 1), q1 = rowsStart(panels, threadIndex + 1, threadCount, 1);
  const c0 = min(q0 * NR, P), width = min(q1 * NR, P) - c0;
  // This thread's [B, width] block of dh_{t−1}, in dhRaw [B, H] (unused without projection; P = H).
  const columns = scratch.dhRaw + (<usize>B * c0 << 2);
  for (let step = 0; step < T; step++) {
    const t = direction == 0 ? T - 1 - step : step; // the forward's order, reversed
    const dGates = scratch.dGates + (<usize>(t * B) * GH << 2);
    if (count > 0) {
      const active = stepActivity(lengths, mask, t, B, scratch.stepLengths, first, count);
      addActiveRows(dh, scratch.gradOutput + ((<usize>(t * B + first) * outStride + <usize>direction * P) << 2), active, t, count, P, outStride);
      const gatesAt = (<usize>(t * B + first) * GH) << 2;
      lstmCellBackward(dGates + (<usize>first * GH << 2), dc, dh, saved.gates + gatesAt, saved.cPrev + <usize>t * cellBytes + cellRowsAt,
                       saved.cNew + <usize>t * cellBytes + cellRowsAt, active, t, count, H);
    }
    barrier();
    if (width > 0) {
      gemmPacked(columns, dGates, scratch.packedWeight + (<usize>q0 * GH * NR << 2), 0, B, width, GH, false);
      // A row whose sequence has ended at t keeps its dh (passEndedRows on one thread).
      const maskRow = mask + (<usize>(t * B) << 2);
      for (let b = 0; b < B; b++) {
        const runs = mask != 0 ? load<i32>(maskRow + (<usize>b << 2)) != 0 : rowActive(lengths, b, t);
        if (runs) memory.copy(scratch.dh + ((<usize>b * P + c0) << 2), columns + (<usize>b * width << 2), <usize>width << 2);
      }
    }
    barrier();
  }
}

/**
 * This thread's share of packWeightStrided(dst, src, n, k, rowStride, colStride): whole panels of NR rows
 * of the packed matrix (a panel is a copy: any split gives the same bits).
 */
function packSplit(dst: usize, src: usize, n: i32, k: i32, rowStride: i32, colStride: i32): void {
  const panels = (n + NR - 1) / NR;
  const p0 = rowsStart(panels, threadIndex, threadCount, 1), p1 = rowsStart(panels, threadIndex + 1, threadCount, 1);
  if (p1 <= p0) return;
  const firstRow = p0 * NR, rows = min(p1 * NR, n) - firstRow;
  packWeightStrided(dst + (<usize>firstRow * k << 2), src + (<usize>firstRow * rowStride << 2), rows, k, rowStride, colStride);
}

/** This thread's rows of gemmPacked(c, a, w, 0, m, n, k, accumulate), cut at the row blocks (bitwise as one call). */
function gemmRowsSplit(c: usize, a: usize, w: usize, m: i32, n: i32, k: i32, accumulate: bool): void {
  const r0 = rowsStart(m, threadIndex, threadCount, ROW_ALIGN), r1 = rowsStart(m, threadIndex + 1, threadCount, ROW_ALIGN);
  if (r1 > r0) gemmPacked(c + (<usize>r0 * n << 2), a + (<usize>r0 * k << 2), w, 0, r1 - r0, n, k, accumulate);
}

/**
 * accumulateWeightGradient split over the threads: each transposes its share of d's columns and packs its
 * panels of the activations, then, after a barrier, accumulates its rows of the gradient (each a sum over all
 * rows in row order, as on one thread); a barrier again before the scratch is reused.
 */
function weightGradientSplit(gradient: usize, d: usize, dStride: i32, activations: usize, activationStride: i32,
                             rows: i32, outSize: i32, inSize: i32, transposed: usize, packed: usize): void {
  if (threadCount == 1) {
    accumulateWeightGradient(gradient, d, dStride, activations, activationStride, rows, outSize, inSize, transposed, packed);
    return;
  }
  const c0 = rowsStart(outSize, threadIndex, threadCount, 4), c1 = rowsStart(outSize, threadIndex + 1, threadCount, 4);
  if (c1 > c0) transpose(transposed + (<usize>c0 * rows << 2), d + (<usize>c0 << 2), rows, c1 - c0, dStride);
  packSplit(packed, activations, inSize, rows, 1, activationStride);
  barrier();
  gemmRowsSplit(gradient, transposed, packed, outSize, inSize, rows, true);
  barrier();
}
