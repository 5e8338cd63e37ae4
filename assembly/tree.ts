// Recursive networks over a batch of trees, forward and backward, each in one call from an i32 plan:
// TreeRNN (Socher), Child-Sum Tree-LSTM and binary (N-ary, N = 2) Tree-LSTM (Tai et al. 2015).
// All trees of a call are merged and run level by level, a level being every node of one height (leaves
// are height 0): one GEMM projects every node's input (child-sum: a second one projects W_f x, which only
// internal nodes use), then per level the children's states are gathered, one GEMM applies the recurrent
// weights, and fused SIMD passes compute the gates and the new state.
// Backward mirrors it from the top level down; weight gradients are single GEMMs after the level loop
// (linalg.ts's accumulateWeightGradient, reading gate-gradient column blocks in place at their row stride).
// SIMD over the hidden axis with scalar tails of the same formulas (sigmoidS/tanhS).
// An INT8 plan (quantizeDynamic's tree modules, forward only) multiplies by int8 weights (quantized.ts: gemmInt8)
// wherever the f32 one uses its packed weights; the cells stay f32.
// Scalar float64 reference: test/reference/tree.ts. The plan layout is assembly/abi.ts's TreePlan; the fused cells are tree-cells.ts.
//
// Shapes: N nodes of all trees, N0 leaves, L levels, X input, H hidden.
// "Caller order" is the trees' nodes concatenated (tree by tree, node index order); "schedule order"
// (position p) sorts them by height, so every level is a contiguous block of rows [start, end) and
// positions 0 .. N0 − 1 are the leaves. Children of a node are in ascending node index (binary: left, right).

import { TreeModel, TreePlan } from './abi';
import { tanhArray } from './activations';
import { gemmPacked, ROW_ALIGN } from './gemm';
import { gemmInt8 } from './quantized';
import { accumulateColumnSums, accumulateWeightGradient } from './linalg';
import {
  addRow, binaryCellBackward, binaryCellForward, childSumCellBackward, childSumCellForward, entry, rowAt, tanhBackward,
} from './tree-cells';
import { barrier, rowsStart, threadCount, threadIndex } from './threads';

@inline function slot(plan: usize, index: i32): i32 {
  return load<i32>(plan + (<usize>index << 2));
}

@inline function pointer(plan: usize, index: i32): usize {
  return <usize>load<i32>(plan + (<usize>index << 2));
}

/** dst[p] = src[order[p]]: caller order into schedule order. */
function gatherRows(dst: usize /* [count, width] */, src: usize /* [count, width] */, order: usize /* [count] i32 */, count: i32, width: i32): void {
  const bytes = <usize>width << 2;
  for (let p = 0; p < count; p++) memory.copy(rowAt(dst, p, width), rowAt(src, entry(order, p), width), bytes);
}

/** dst[order[p]] = src[p]: schedule order back into caller order. */
function scatterRows(dst: usize /* [count, width] */, src: usize /* [count, width] */, order: usize /* [count] i32 */, count: i32, width: i32): void {
  const bytes = <usize>width << 2;
  for (let p = 0; p < count; p++) memory.copy(rowAt(dst, entry(order, p), width), rowAt(src, p, width), bytes);
}

/** sums[p − start] = Σ_k h[child k of p], for the level's positions [start, end) (all internal). */
function sumChildStates(sums: usize /* [end − start, H] */, h: usize /* [N, H] */, childStart: usize, children: usize,
                        start: i32, end: i32, hidden: i32): void {
  const bytes = <usize>hidden << 2;
  for (let p = start; p < end; p++) {
    const sum = rowAt(sums, p - start, hidden);
    const first = entry(childStart, p), last = entry(childStart, p + 1);
    memory.copy(sum, rowAt(h, entry(children, first), hidden), bytes);
    for (let e = first + 1; e < last; e++) addRow(sum, rowAt(h, entry(children, e), hidden), hidden);
  }
}

/** pairs[p − start] = [h_L; h_R] of the level's positions [start, end) (all with two children). */
function gatherChildPairs(pairs: usize /* [end − start, 2H] */, h: usize /* [N, H] */, childStart: usize, children: usize,
                          start: i32, end: i32, hidden: i32): void {
  const bytes = <usize>hidden << 2;
  for (let p = start; p < end; p++) {
    const pair = rowAt(pairs, p - start, 2 * hidden);
    const first = entry(childStart, p);
    memory.copy(pair, rowAt(h, entry(children, first), hidden), bytes);
    memory.copy(pair + bytes, rowAt(h, entry(children, first + 1), hidden), bytes);
  }
}

/** dh[child k of p] += dSum[p − start]: the gradient of Σ_k h_k reaches every child. */
function spreadToChildren(dh: usize /* [N, H] */, dSums: usize /* [end − start, H] */, childStart: usize, children: usize,
                          start: i32, end: i32, hidden: i32): void {
  for (let p = start; p < end; p++) {
    const dSum = rowAt(dSums, p - start, hidden);
    for (let e = entry(childStart, p); e < entry(childStart, p + 1); e++) addRow(rowAt(dh, entry(children, e), hidden), dSum, hidden);
  }
}

/** dh[h_L] += dPair[:, 0 .. H), dh[h_R] += dPair[:, H .. 2H). */
function spreadToChildPairs(dh: usize /* [N, H] */, dPairs: usize /* [end − start, 2H] */, childStart: usize, children: usize,
                            start: i32, end: i32, hidden: i32): void {
  for (let p = start; p < end; p++) {
    const dPair = rowAt(dPairs, p - start, 2 * hidden);
    const first = entry(childStart, p);
    addRow(rowAt(dh, entry(children, first), hidden), dPair, hidden);
    addRow(rowAt(dh, entry(children, first + 1), hidden), dPair + (<usize>hidden << 2), hidden);
  }
}

/**
 * The plan's gradient at `gradientSlot` [out, in] += dᵀ · activations over `rows` rows, d [rows, out] and
 * activations [rows, in] read at row strides dStride and activationStride, through the plan's scratch.
 */
function weightGradient(plan: usize, gradientSlot: i32, d: usize, dStride: i32, activations: usize, activationStride: i32,
                        rows: i32, outSize: i32, inSize: i32): void {
  accumulateWeightGradient(pointer(plan, gradientSlot), d, dStride, activations, activationStride, rows, outSize, inSize,
                           pointer(plan, TreePlan.WG_TRANSPOSED), pointer(plan, TreePlan.WG_PACKED));
}

/**
 * C[m, n] (+)= A[m, k] · Wᵀ (+ bias) for a forward product by the plan's weight at `weightSlot`: packed f32
 * (gemmPacked) or, in an INT8 plan, an int8 blob (gemmInt8).
 */
function weightGemm(plan: usize, c: usize, a: usize, weightSlot: i32, bias: usize, m: i32, n: i32, k: i32, accumulate: bool): void {
  if (slot(plan, TreePlan.INT8) != 0) gemmInt8(c, a, pointer(plan, weightSlot), bias, m, n, k, accumulate, pointer(plan, TreePlan.INT8));
  else gemmPacked(c, a, pointer(plan, weightSlot), bias, m, n, k, accumulate);
}

// ---------------------------------------------------------------------------------------------------
// Whole-batch passes per model.

/**
 * With threads, every GEMM and each level's nodes split by rows, cut at the GEMM's row blocks from the start of the
 * call (rowsStart): each row takes the same micro-kernel as in the one-thread call, so results are bitwise the same.
 * The nodes of a level depend only on the levels below: one barrier per level.
 */
function childSumForward(plan: usize, nodes: i32, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), h = pointer(plan, TreePlan.HS), c = pointer(plan, TreePlan.CS), gates = pointer(plan, TreePlan.GATES);
  const inputForget = pointer(plan, TreePlan.INPUT_FORGET), hiddenForget = pointer(plan, TreePlan.HIDDEN_FORGET);
  const forget = pointer(plan, TreePlan.FORGET), childSums = pointer(plan, TreePlan.CHILD_STATE);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  const G = 3 * hidden;
  let r0 = rowsStart(nodes, threadIndex, threadCount, ROW_ALIGN), r1 = rowsStart(nodes, threadIndex + 1, threadCount, ROW_ALIGN);
  if (r1 > r0) weightGemm(plan, rowAt(gates, r0, G), rowAt(xs, r0, input), TreePlan.W_IN, pointer(plan, TreePlan.B_IN), r1 - r0, G, input, false);
  r0 = rowsStart(nodes - leaves, threadIndex, threadCount, ROW_ALIGN);
  r1 = rowsStart(nodes - leaves, threadIndex + 1, threadCount, ROW_ALIGN);
  if (r1 > r0) {
    weightGemm(plan, rowAt(inputForget, r0, hidden), rowAt(xs, leaves + r0, input), TreePlan.W_IN_F, pointer(plan, TreePlan.B_IN_F),
               r1 - r0, hidden, input, false);
  }
  barrier();
  for (let level = 0; level < levels; level++) {
    const start = entry(levelStart, level), count = entry(levelStart, level + 1) - start;
    // This thread's nodes [first, last) of the level.
    const first = start + rowsStart(count, threadIndex, threadCount, ROW_ALIGN), last = start + rowsStart(count, threadIndex + 1, threadCount, ROW_ALIGN);
    if (last > first) {
      if (level > 0) {
        const sums = rowAt(childSums, first - leaves, hidden);
        sumChildStates(sums, h, childStart, children, first, last, hidden);
        weightGemm(plan, rowAt(gates, first, G), sums, TreePlan.W_REC, 0, last - first, G, hidden, true);
      }
      childSumCellForward(h, c, forget, gates, inputForget, hiddenForget, childStart, children, first, last, leaves, hidden);
      if (level + 1 < levels) {
        weightGemm(plan, rowAt(hiddenForget, first, hidden), rowAt(h, first, hidden), TreePlan.W_REC_F, 0, last - first, hidden, hidden, false);
      }
    }
    barrier();
  }
}

function childSumBackward(plan: usize, nodes: i32, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), h = pointer(plan, TreePlan.HS), c = pointer(plan, TreePlan.CS), gates = pointer(plan, TreePlan.GATES);
  const forget = pointer(plan, TreePlan.FORGET), childSums = pointer(plan, TreePlan.CHILD_STATE);
  const dh = pointer(plan, TreePlan.DH), dc = pointer(plan, TreePlan.DC), dGates = pointer(plan, TreePlan.DGATES);
  const dInputForget = pointer(plan, TreePlan.DINPUT_FORGET), dForget = pointer(plan, TreePlan.DFORGET), dChild = pointer(plan, TreePlan.DCHILD);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  const G = 3 * hidden, internal = nodes - leaves;
  memory.fill(dForget, 0, <usize>nodes * hidden * 4); // roots are nobody's child
  for (let level = levels - 1; level >= 0; level--) {
    const start = entry(levelStart, level), end = entry(levelStart, level + 1), count = end - start;
    // The forget gates of the parents (all above) reach these nodes' h through U_f.
    if (level + 1 < levels) {
      gemmPacked(rowAt(dh, start, hidden), rowAt(dForget, start, hidden), pointer(plan, TreePlan.WT_REC_F), 0, count, hidden, hidden, true);
    }
    childSumCellBackward(dGates, dInputForget, dForget, dc, dh, gates, c, forget, childStart, children, start, end, leaves, hidden);
    if (level > 0) {
      gemmPacked(dChild, rowAt(dGates, start, G), pointer(plan, TreePlan.WT_REC), 0, count, hidden, G, false);
      spreadToChildren(dh, dChild, childStart, children, start, end, hidden);
    }
  }
  weightGradient(plan, TreePlan.G_IN, dGates, G, xs, input, nodes, G, input);
  accumulateColumnSums(pointer(plan, TreePlan.G_B_IN), dGates, nodes, G, G);
  const dxs = pointer(plan, TreePlan.DXS);
  gemmPacked(dxs, dGates, pointer(plan, TreePlan.WT_IN), 0, nodes, input, G, false);
  if (internal > 0) {
    const internalX = rowAt(xs, leaves, input);
    weightGradient(plan, TreePlan.G_IN_F, dInputForget, hidden, internalX, input, internal, hidden, input);
    accumulateColumnSums(pointer(plan, TreePlan.G_B_IN_F), dInputForget, internal, hidden, hidden);
    weightGradient(plan, TreePlan.G_REC, rowAt(dGates, leaves, G), G, childSums, hidden, internal, G, hidden);
    weightGradient(plan, TreePlan.G_REC_F, dForget, hidden, h, hidden, nodes, hidden, hidden);
    gemmPacked(rowAt(dxs, leaves, input), dInputForget, pointer(plan, TreePlan.WT_IN_F), 0, internal, input, hidden, true);
  }
}

function binaryForward(plan: usize, nodes: i32, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), h = pointer(plan, TreePlan.HS), c = pointer(plan, TreePlan.CS), gates = pointer(plan, TreePlan.GATES);
  const childPairs = pointer(plan, TreePlan.CHILD_STATE);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  const G = 5 * hidden;
  weightGemm(plan, gates, xs, TreePlan.W_IN, pointer(plan, TreePlan.B_IN), nodes, G, input, false);
  for (let level = 0; level < levels; level++) {
    const start = entry(levelStart, level), end = entry(levelStart, level + 1), count = end - start;
    if (level > 0) {
      const pairs = rowAt(childPairs, start - leaves, 2 * hidden);
      gatherChildPairs(pairs, h, childStart, children, start, end, hidden);
      weightGemm(plan, rowAt(gates, start, G), pairs, TreePlan.W_REC, 0, count, G, 2 * hidden, true);
    }
    binaryCellForward(h, c, gates, childStart, children, start, end, hidden);
  }
}

function binaryBackward(plan: usize, nodes: i32, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), c = pointer(plan, TreePlan.CS), gates = pointer(plan, TreePlan.GATES), childPairs = pointer(plan, TreePlan.CHILD_STATE);
  const dh = pointer(plan, TreePlan.DH), dc = pointer(plan, TreePlan.DC), dGates = pointer(plan, TreePlan.DGATES), dChild = pointer(plan, TreePlan.DCHILD);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  const G = 5 * hidden, internal = nodes - leaves;
  for (let level = levels - 1; level >= 0; level--) {
    const start = entry(levelStart, level), end = entry(levelStart, level + 1), count = end - start;
    binaryCellBackward(dGates, dc, dh, gates, c, childStart, children, start, end, hidden);
    if (level > 0) {
      gemmPacked(dChild, rowAt(dGates, start, G), pointer(plan, TreePlan.WT_REC), 0, count, 2 * hidden, G, false);
      spreadToChildPairs(dh, dChild, childStart, children, start, end, hidden);
    }
  }
  // Gate columns: i o u (W_iou, U_iou, b_iou) at 0, f_L at 3H and f_R at 4H (both W_f, b_f; U_f rows 0..H, H..2H).
  const fLeftColumn = <usize>(3 * hidden) << 2, fRightColumn = <usize>(4 * hidden) << 2;
  weightGradient(plan, TreePlan.G_IN, dGates, G, xs, input, nodes, 3 * hidden, input);
  accumulateColumnSums(pointer(plan, TreePlan.G_B_IN), dGates, nodes, 3 * hidden, G);
  if (internal > 0) {
    const dInternal = rowAt(dGates, leaves, G), internalX = rowAt(xs, leaves, input);
    weightGradient(plan, TreePlan.G_IN_F, dInternal + fLeftColumn, G, internalX, input, internal, hidden, input);
    weightGradient(plan, TreePlan.G_IN_F, dInternal + fRightColumn, G, internalX, input, internal, hidden, input);
    accumulateColumnSums(pointer(plan, TreePlan.G_B_IN_F), dInternal + fLeftColumn, internal, hidden, G);
    accumulateColumnSums(pointer(plan, TreePlan.G_B_IN_F), dInternal + fRightColumn, internal, hidden, G);
    weightGradient(plan, TreePlan.G_REC, dInternal, G, childPairs, 2 * hidden, internal, 3 * hidden, 2 * hidden);
    weightGradient(plan, TreePlan.G_REC_F, dInternal + fLeftColumn, G, childPairs, 2 * hidden, internal, 2 * hidden, 2 * hidden);
  }
  gemmPacked(pointer(plan, TreePlan.DXS), dGates, pointer(plan, TreePlan.WT_IN), 0, nodes, input, G, false);
}

function treeRnnForward(plan: usize, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), h = pointer(plan, TreePlan.HS), childPairs = pointer(plan, TreePlan.CHILD_STATE);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  weightGemm(plan, h, xs, TreePlan.W_IN, pointer(plan, TreePlan.B_IN), leaves, hidden, input, false);
  tanhArray(h, h, leaves * hidden);
  for (let level = 1; level < levels; level++) {
    const start = entry(levelStart, level), end = entry(levelStart, level + 1), count = end - start;
    const pairs = rowAt(childPairs, start - leaves, 2 * hidden);
    const hLevel = rowAt(h, start, hidden);
    gatherChildPairs(pairs, h, childStart, children, start, end, hidden);
    weightGemm(plan, hLevel, pairs, TreePlan.W_REC, pointer(plan, TreePlan.B_REC), count, hidden, 2 * hidden, false);
    tanhArray(hLevel, hLevel, count * hidden);
  }
}

function treeRnnBackward(plan: usize, nodes: i32, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), h = pointer(plan, TreePlan.HS), childPairs = pointer(plan, TreePlan.CHILD_STATE);
  const dh = pointer(plan, TreePlan.DH), dChild = pointer(plan, TreePlan.DCHILD), dxs = pointer(plan, TreePlan.DXS);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  const internal = nodes - leaves;
  for (let level = levels - 1; level >= 0; level--) {
    const start = entry(levelStart, level), end = entry(levelStart, level + 1), count = end - start;
    tanhBackward(rowAt(dh, start, hidden), rowAt(h, start, hidden), count * hidden);
    if (level > 0) {
      gemmPacked(dChild, rowAt(dh, start, hidden), pointer(plan, TreePlan.WT_REC), 0, count, 2 * hidden, hidden, false);
      spreadToChildPairs(dh, dChild, childStart, children, start, end, hidden);
    }
  }
  // dh now holds the pre-activation gradients: leaves' of W_leaf x + b_leaf, internal nodes' of W [h_L; h_R] + b.
  weightGradient(plan, TreePlan.G_IN, dh, hidden, xs, input, leaves, hidden, input);
  accumulateColumnSums(pointer(plan, TreePlan.G_B_IN), dh, leaves, hidden, hidden);
  gemmPacked(dxs, dh, pointer(plan, TreePlan.WT_IN), 0, leaves, input, hidden, false);
  if (internal > 0) {
    const dInternal = rowAt(dh, leaves, hidden);
    weightGradient(plan, TreePlan.G_REC, dInternal, hidden, childPairs, 2 * hidden, internal, hidden, 2 * hidden);
    accumulateColumnSums(pointer(plan, TreePlan.G_B_REC), dInternal, internal, hidden, hidden);
    memory.fill(rowAt(dxs, leaves, input), 0, <usize>internal * input * 4); // internal nodes' x is not used
  }
}

// ---------------------------------------------------------------------------------------------------
// Entry points.

/** Runs the plan forward: fills the schedule-order state and, where given, H_OUT and C_OUT (LSTMs). */
export function treeForward(plan: usize): void {
  const model = slot(plan, TreePlan.MODEL);
  const nodes = slot(plan, TreePlan.NODES), leaves = slot(plan, TreePlan.LEAVES), levels = slot(plan, TreePlan.LEVELS);
  const input = slot(plan, TreePlan.INPUT), hidden = slot(plan, TreePlan.HIDDEN);
  const order = pointer(plan, TreePlan.ORDER);
  if (threadIndex == 0) gatherRows(pointer(plan, TreePlan.XS), pointer(plan, TreePlan.X), order, nodes, input);
  barrier();
  // With threads (Job.TREE_FORWARD) only child-sum models run here: the bindings keep the others on one thread.
  if (model == TreeModel.CHILD_SUM) childSumForward(plan, nodes, leaves, levels, input, hidden);
  else if (model == TreeModel.BINARY) binaryForward(plan, nodes, leaves, levels, input, hidden);
  else treeRnnForward(plan, leaves, levels, input, hidden);
  if (threadIndex != 0) return;
  const hOut = pointer(plan, TreePlan.H_OUT), cOut = pointer(plan, TreePlan.C_OUT);
  if (hOut != 0) scatterRows(hOut, pointer(plan, TreePlan.HS), order, nodes, hidden);
  if (cOut != 0) scatterRows(cOut, pointer(plan, TreePlan.CS), order, nodes, hidden);
}

/**
 * Runs the plan backward after its training forward (same plan, schedule-order state intact): accumulates
 * every parameter gradient and writes DX_OUT.
 */
export function treeBackward(plan: usize): void {
  const model = slot(plan, TreePlan.MODEL);
  const nodes = slot(plan, TreePlan.NODES), leaves = slot(plan, TreePlan.LEAVES), levels = slot(plan, TreePlan.LEVELS);
  const input = slot(plan, TreePlan.INPUT), hidden = slot(plan, TreePlan.HIDDEN);
  const order = pointer(plan, TreePlan.ORDER);
  gatherRows(pointer(plan, TreePlan.DH), pointer(plan, TreePlan.DH_IN), order, nodes, hidden);
  if (model != TreeModel.TREE_RNN) {
    const dcIn = pointer(plan, TreePlan.DC_IN), dc = pointer(plan, TreePlan.DC);
    if (dcIn != 0) gatherRows(dc, dcIn, order, nodes, hidden);
    else memory.fill(dc, 0, <usize>nodes * hidden * 4);
  }
  if (model == TreeModel.CHILD_SUM) childSumBackward(plan, nodes, leaves, levels, input, hidden);
  else if (model == TreeModel.BINARY) binaryBackward(plan, nodes, leaves, levels, input, hidden);
  else treeRnnBackward(plan, nodes, leaves, levels, input, hidden);
  scatterRows(pointer(plan, TreePlan.DX_OUT), pointer(plan, TreePlan.DXS), order, nodes, input);
}
