// Recursive networks over a batch of trees, forward and backward, each in one call from an i32 plan:
// TreeRNN (Socher), Child-Sum Tree-LSTM and binary (N-ary, N = 2) Tree-LSTM (Tai et al. 2015).
// All trees of a call are merged and run level by level, a level being every node of one height (leaves
// are height 0): one GEMM projects every node's input (child-sum: a second one projects W_f x, which only
// internal nodes use), then per level the children's states are gathered, one GEMM applies the recurrent
// weights, and fused SIMD passes compute the gates and the new state.
// Backward mirrors it from the top level down; weight gradients are single GEMMs after the level loop.
// SIMD over the hidden axis with scalar tails of the same formulas (sigmoidS/tanhS).
// Scalar float64 reference: test/reference/tree.ts. The plan layout is mirrored in bindings/tree.ts.
//
// Shapes: N nodes of all trees, N0 leaves, L levels, X input, H hidden.
// "Caller order" is the trees' nodes concatenated (tree by tree, node index order); "schedule order"
// (position p) sorts them by height, so every level is a contiguous block of rows [start, end) and
// positions 0 .. N0 − 1 are the leaves. Children of a node are in ascending node index (binary: left, right).

import { TreeModel, TreePlan } from './abi';
import { sigmoidS, sigmoidV, tanhArray, tanhS, tanhV } from './activations';
import { gemmPacked } from './gemm';
import { gemmTransposedAccumulate } from './gemm-backward';
import { accumulateColumnSums } from './linalg';

@inline function slot(plan: usize, index: i32): i32 {
  return load<i32>(plan + (<usize>index << 2));
}

@inline function pointer(plan: usize, index: i32): usize {
  return <usize>load<i32>(plan + (<usize>index << 2));
}

@inline function entry(array: usize /* i32 */, index: i32): i32 {
  return load<i32>(array + (<usize>index << 2));
}

/** Address of row `row` of a row-major matrix of `width` floats per row. */
@inline function rowAt(base: usize, row: i32, width: i32): usize {
  return base + ((<usize>row * width) << 2);
}

/** dst[0 .. width) += src[0 .. width). */
@inline function addRow(dst: usize, src: usize, width: i32): void {
  let j = 0;
  for (; j + 4 <= width; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; j < width; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
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

// ---------------------------------------------------------------------------------------------------
// Fused cells: one level's gates and state update (forward), and their gradients (backward).

/** First pass of a Tree-LSTM node: i = σ(i), u = tanh(u) (kept for backward), c = i ⊙ u. */
@inline function inputAndCandidatePass(gi: usize /* [H] */, gu: usize /* [H] */, cRow: usize /* [H] */, hidden: i32): void {
  const vectorEnd = hidden & ~3;
  let j = 0;
  for (; j < vectorEnd; j += 4) {
    const o = <usize>j << 2;
    const i = sigmoidV(v128.load(gi + o)), u = tanhV(v128.load(gu + o));
    v128.store(gi + o, i); v128.store(gu + o, u);
    v128.store(cRow + o, f32x4.mul(i, u));
  }
  for (; j < hidden; j++) {
    const o = <usize>j << 2;
    const i = sigmoidS(load<f32>(gi + o)), u = tanhS(load<f32>(gu + o));
    store<f32>(gi + o, i); store<f32>(gu + o, u);
    store<f32>(cRow + o, i * u);
  }
}

/** Last pass of a Tree-LSTM node: o = σ(o) (kept for backward), h = o ⊙ tanh(c). */
@inline function outputPass(go: usize /* [H] */, hRow: usize /* [H] */, cRow: usize /* [H] */, hidden: i32): void {
  const vectorEnd = hidden & ~3;
  let j = 0;
  for (; j < vectorEnd; j += 4) {
    const o = <usize>j << 2;
    const out = sigmoidV(v128.load(go + o));
    v128.store(go + o, out);
    v128.store(hRow + o, f32x4.mul(out, tanhV(v128.load(cRow + o))));
  }
  for (; j < hidden; j++) {
    const o = <usize>j << 2;
    const out = sigmoidS(load<f32>(go + o));
    store<f32>(go + o, out);
    store<f32>(hRow + o, out * tanhS(load<f32>(cRow + o)));
  }
}

/**
 * Child-Sum Tree-LSTM, positions [start, end): gates hold W_iou x + b_iou + U_iou h̃ and become σ(i), σ(o),
 * tanh(u); f_k = σ(W_f x + b_f + U_f h_k) for each child k (kept in `forget` at k's row);
 * c = i ⊙ u + Σ_k f_k ⊙ c_k, h = o ⊙ tanh(c). Leaves (p < N0) have no children.
 * Per node in three passes over H (i, u and i ⊙ u; each child's f; o and h): short loop bodies with few
 * transcendentals each run faster than one fused body.
 */
function childSumCellForward(h: usize /* [N, H] */, c: usize /* [N, H] */, forget: usize /* [N, H] */, gates: usize /* [N, 3H] */,
                             inputForget: usize /* [N − N0, H] */, hiddenForget: usize /* [N, H] */,
                             childStart: usize, children: usize, start: i32, end: i32, leaves: i32, hidden: i32): void {
  const gateBytes = <usize>hidden << 2;
  const vectorEnd = hidden & ~3;
  for (let p = start; p < end; p++) {
    const gi = rowAt(gates, p, 3 * hidden), go = gi + gateBytes, gu = go + gateBytes;
    const hRow = rowAt(h, p, hidden), cRow = rowAt(c, p, hidden);
    const xf: usize = p >= leaves ? rowAt(inputForget, p - leaves, hidden) : 0;
    inputAndCandidatePass(gi, gu, cRow, hidden);
    let j = 0;
    for (let e = entry(childStart, p); e < entry(childStart, p + 1); e++) {
      const k = entry(children, e);
      const hf = rowAt(hiddenForget, k, hidden), f = rowAt(forget, k, hidden), cChild = rowAt(c, k, hidden);
      j = 0;
      for (; j < vectorEnd; j += 4) {
        const o = <usize>j << 2;
        const fk = sigmoidV(f32x4.add(v128.load(xf + o), v128.load(hf + o)));
        v128.store(f + o, fk);
        v128.store(cRow + o, f32x4.add(v128.load(cRow + o), f32x4.mul(fk, v128.load(cChild + o))));
      }
      for (; j < hidden; j++) {
        const o = <usize>j << 2;
        const fk = sigmoidS(load<f32>(xf + o) + load<f32>(hf + o));
        store<f32>(f + o, fk);
        store<f32>(cRow + o, load<f32>(cRow + o) + fk * load<f32>(cChild + o));
      }
    }
    outputPass(go, hRow, cRow, hidden);
  }
}

/**
 * Backward of a Tree-LSTM node's i, o, u (4 lanes at byte offset o): from dh and the saved σ(i), σ(o),
 * tanh(u) and c, stores d(pre-activation) of i, o, u and returns dc + dh ⊙ o ⊙ (1 − tanh²c).
 */
@inline function iouGradientsV(di: usize, dO: usize, du: usize, gi: usize, go: usize, gu: usize,
                               cRow: usize, dcRow: usize, dhRow: usize, o: usize, one: v128): v128 {
  const i = v128.load(gi + o), out = v128.load(go + o), u = v128.load(gu + o);
  const tc = tanhV(v128.load(cRow + o));
  const dhv = v128.load(dhRow + o);
  const dcv = f32x4.add(v128.load(dcRow + o), f32x4.mul(f32x4.mul(dhv, out), f32x4.sub(one, f32x4.mul(tc, tc))));
  v128.store(di + o, f32x4.mul(f32x4.mul(dcv, u), f32x4.mul(i, f32x4.sub(one, i))));
  v128.store(dO + o, f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(out, f32x4.sub(one, out))));
  v128.store(du + o, f32x4.mul(f32x4.mul(dcv, i), f32x4.sub(one, f32x4.mul(u, u))));
  return dcv;
}

/** Scalar twin of iouGradientsV for the tail. */
@inline function iouGradientsS(di: usize, dO: usize, du: usize, gi: usize, go: usize, gu: usize,
                               cRow: usize, dcRow: usize, dhRow: usize, o: usize): f32 {
  const i = load<f32>(gi + o), out = load<f32>(go + o), u = load<f32>(gu + o);
  const tc = tanhS(load<f32>(cRow + o));
  const dhv = load<f32>(dhRow + o);
  const dcv = load<f32>(dcRow + o) + dhv * out * (1 - tc * tc);
  store<f32>(di + o, dcv * u * (i * (1 - i)));
  store<f32>(dO + o, dhv * tc * (out * (1 - out)));
  store<f32>(du + o, dcv * i * (1 - u * u));
  return dcv;
}

/**
 * Gradients of childSumCellForward for positions [start, end), whose dh and dc are complete: writes the
 * i, o, u pre-activation gradients to dGates, each child's forget pre-activation gradient to dForget (its
 * row) and their sum to dInputForget; adds f_k ⊙ dc to each child's dc.
 */
function childSumCellBackward(dGates: usize /* [N, 3H] */, dInputForget: usize /* [N − N0, H] */, dForget: usize /* [N, H] */,
                              dc: usize /* [N, H] */, dh: usize /* [N, H] */, gates: usize /* [N, 3H] */, c: usize /* [N, H] */,
                              forget: usize /* [N, H] */, childStart: usize, children: usize,
                              start: i32, end: i32, leaves: i32, hidden: i32): void {
  const gateBytes = <usize>hidden << 2;
  const one = f32x4.splat(1);
  for (let p = start; p < end; p++) {
    const gi = rowAt(gates, p, 3 * hidden), go = gi + gateBytes, gu = go + gateBytes;
    const di = rowAt(dGates, p, 3 * hidden), dO = di + gateBytes, du = dO + gateBytes;
    const cRow = rowAt(c, p, hidden), dcRow = rowAt(dc, p, hidden), dhRow = rowAt(dh, p, hidden);
    const first = entry(childStart, p), last = entry(childStart, p + 1);
    const dxf: usize = p >= leaves ? rowAt(dInputForget, p - leaves, hidden) : 0;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const dcv = iouGradientsV(di, dO, du, gi, go, gu, cRow, dcRow, dhRow, o, one);
      let dxfSum = f32x4.splat(0);
      for (let e = first; e < last; e++) {
        const k = entry(children, e);
        const f = v128.load(rowAt(forget, k, hidden) + o);
        const df = f32x4.mul(f32x4.mul(dcv, v128.load(rowAt(c, k, hidden) + o)), f32x4.mul(f, f32x4.sub(one, f)));
        v128.store(rowAt(dForget, k, hidden) + o, df);
        dxfSum = f32x4.add(dxfSum, df);
        const dcChild = rowAt(dc, k, hidden) + o;
        v128.store(dcChild, f32x4.add(v128.load(dcChild), f32x4.mul(dcv, f)));
      }
      if (dxf != 0) v128.store(dxf + o, dxfSum);
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const dcv = iouGradientsS(di, dO, du, gi, go, gu, cRow, dcRow, dhRow, o);
      let dxfSum: f32 = 0;
      for (let e = first; e < last; e++) {
        const k = entry(children, e);
        const f = load<f32>(rowAt(forget, k, hidden) + o);
        const df = dcv * load<f32>(rowAt(c, k, hidden) + o) * (f * (1 - f));
        store<f32>(rowAt(dForget, k, hidden) + o, df);
        dxfSum += df;
        const dcChild = rowAt(dc, k, hidden) + o;
        store<f32>(dcChild, load<f32>(dcChild) + dcv * f);
      }
      if (dxf != 0) store<f32>(dxf + o, dxfSum);
    }
  }
}

/**
 * Binary Tree-LSTM, positions [start, end): gates hold [W_iou; W_f; W_f] x + bias + [U_iou; U_f] [h_L; h_R]
 * and become σ(i), σ(o), tanh(u), σ(f_L), σ(f_R); c = i ⊙ u + f_L ⊙ c_L + f_R ⊙ c_R, h = o ⊙ tanh(c).
 * A leaf has no f terms (its f columns are left as they are). Three passes per node, as in the child-sum cell.
 */
function binaryCellForward(h: usize /* [N, H] */, c: usize /* [N, H] */, gates: usize /* [N, 5H] */,
                           childStart: usize, children: usize, start: i32, end: i32, hidden: i32): void {
  const gateBytes = <usize>hidden << 2;
  const vectorEnd = hidden & ~3;
  for (let p = start; p < end; p++) {
    const gi = rowAt(gates, p, 5 * hidden), go = gi + gateBytes, gu = go + gateBytes, gfl = gu + gateBytes, gfr = gfl + gateBytes;
    const hRow = rowAt(h, p, hidden), cRow = rowAt(c, p, hidden);
    inputAndCandidatePass(gi, gu, cRow, hidden);
    let j = 0;
    const first = entry(childStart, p);
    if (first != entry(childStart, p + 1)) {
      const cl = rowAt(c, entry(children, first), hidden), cr = rowAt(c, entry(children, first + 1), hidden);
      j = 0;
      for (; j < vectorEnd; j += 4) {
        const o = <usize>j << 2;
        const fl = sigmoidV(v128.load(gfl + o)), fr = sigmoidV(v128.load(gfr + o));
        v128.store(gfl + o, fl); v128.store(gfr + o, fr);
        const cNew = f32x4.add(v128.load(cRow + o), f32x4.add(f32x4.mul(fl, v128.load(cl + o)), f32x4.mul(fr, v128.load(cr + o))));
        v128.store(cRow + o, cNew);
      }
      for (; j < hidden; j++) {
        const o = <usize>j << 2;
        const fl = sigmoidS(load<f32>(gfl + o)), fr = sigmoidS(load<f32>(gfr + o));
        store<f32>(gfl + o, fl); store<f32>(gfr + o, fr);
        store<f32>(cRow + o, load<f32>(cRow + o) + (fl * load<f32>(cl + o) + fr * load<f32>(cr + o)));
      }
    }
    outputPass(go, hRow, cRow, hidden);
  }
}

/**
 * Gradients of binaryCellForward for positions [start, end), whose dh and dc are complete: writes the five
 * pre-activation gradients to dGates (zero f columns for leaves) and adds f_L ⊙ dc, f_R ⊙ dc to the
 * children's dc.
 */
function binaryCellBackward(dGates: usize /* [N, 5H] */, dc: usize /* [N, H] */, dh: usize /* [N, H] */,
                            gates: usize /* [N, 5H] */, c: usize /* [N, H] */, childStart: usize, children: usize,
                            start: i32, end: i32, hidden: i32): void {
  const gateBytes = <usize>hidden << 2;
  const one = f32x4.splat(1);
  for (let p = start; p < end; p++) {
    const gi = rowAt(gates, p, 5 * hidden), go = gi + gateBytes, gu = go + gateBytes, gfl = gu + gateBytes, gfr = gfl + gateBytes;
    const di = rowAt(dGates, p, 5 * hidden), dO = di + gateBytes, du = dO + gateBytes, dfl = du + gateBytes, dfr = dfl + gateBytes;
    const cRow = rowAt(c, p, hidden), dcRow = rowAt(dc, p, hidden), dhRow = rowAt(dh, p, hidden);
    const first = entry(childStart, p);
    const leaf = first == entry(childStart, p + 1);
    const left = leaf ? 0 : entry(children, first), right = leaf ? 0 : entry(children, first + 1);
    const cl = rowAt(c, left, hidden), cr = rowAt(c, right, hidden);
    const dcl = rowAt(dc, left, hidden), dcr = rowAt(dc, right, hidden);
    if (leaf) memory.fill(dfl, 0, 2 * gateBytes);
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const dcv = iouGradientsV(di, dO, du, gi, go, gu, cRow, dcRow, dhRow, o, one);
      if (!leaf) {
        const fl = v128.load(gfl + o), fr = v128.load(gfr + o);
        v128.store(dfl + o, f32x4.mul(f32x4.mul(dcv, v128.load(cl + o)), f32x4.mul(fl, f32x4.sub(one, fl))));
        v128.store(dfr + o, f32x4.mul(f32x4.mul(dcv, v128.load(cr + o)), f32x4.mul(fr, f32x4.sub(one, fr))));
        v128.store(dcl + o, f32x4.add(v128.load(dcl + o), f32x4.mul(dcv, fl)));
        v128.store(dcr + o, f32x4.add(v128.load(dcr + o), f32x4.mul(dcv, fr)));
      }
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const dcv = iouGradientsS(di, dO, du, gi, go, gu, cRow, dcRow, dhRow, o);
      if (!leaf) {
        const fl = load<f32>(gfl + o), fr = load<f32>(gfr + o);
        store<f32>(dfl + o, dcv * load<f32>(cl + o) * (fl * (1 - fl)));
        store<f32>(dfr + o, dcv * load<f32>(cr + o) * (fr * (1 - fr)));
        store<f32>(dcl + o, load<f32>(dcl + o) + dcv * fl);
        store<f32>(dcr + o, load<f32>(dcr + o) + dcv * fr);
      }
    }
  }
}

/** d[i] ← d[i] · (1 − h[i]²): the gradient through h = tanh(pre), in place. */
function tanhBackward(d: usize /* [n] */, h: usize /* [n] */, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const hv = v128.load(h + o);
    v128.store(d + o, f32x4.mul(v128.load(d + o), f32x4.sub(one, f32x4.mul(hv, hv))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const hv = load<f32>(h + o);
    store<f32>(d + o, load<f32>(d + o) * (1 - hv * hv));
  }
}

// ---------------------------------------------------------------------------------------------------
// Whole-batch passes per model.

function childSumForward(plan: usize, nodes: i32, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), h = pointer(plan, TreePlan.HS), c = pointer(plan, TreePlan.CS), gates = pointer(plan, TreePlan.GATES);
  const inputForget = pointer(plan, TreePlan.INPUT_FORGET), hiddenForget = pointer(plan, TreePlan.HIDDEN_FORGET);
  const forget = pointer(plan, TreePlan.FORGET), childSums = pointer(plan, TreePlan.CHILD_STATE);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  const G = 3 * hidden;
  gemmPacked(gates, xs, pointer(plan, TreePlan.W_IN), pointer(plan, TreePlan.B_IN), nodes, G, input, false);
  if (nodes > leaves) {
    gemmPacked(inputForget, rowAt(xs, leaves, input), pointer(plan, TreePlan.W_IN_F), pointer(plan, TreePlan.B_IN_F), nodes - leaves, hidden, input, false);
  }
  for (let level = 0; level < levels; level++) {
    const start = entry(levelStart, level), end = entry(levelStart, level + 1), count = end - start;
    if (level > 0) {
      const sums = rowAt(childSums, start - leaves, hidden);
      sumChildStates(sums, h, childStart, children, start, end, hidden);
      gemmPacked(rowAt(gates, start, G), sums, pointer(plan, TreePlan.W_REC), 0, count, G, hidden, true);
    }
    childSumCellForward(h, c, forget, gates, inputForget, hiddenForget, childStart, children, start, end, leaves, hidden);
    if (level + 1 < levels) {
      gemmPacked(rowAt(hiddenForget, start, hidden), rowAt(h, start, hidden), pointer(plan, TreePlan.W_REC_F), 0, count, hidden, hidden, false);
    }
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
  gemmTransposedAccumulate(pointer(plan, TreePlan.G_IN), dGates, xs, nodes, G, input, G, input);
  accumulateColumnSums(pointer(plan, TreePlan.G_B_IN), dGates, nodes, G, G);
  const dxs = pointer(plan, TreePlan.DXS);
  gemmPacked(dxs, dGates, pointer(plan, TreePlan.WT_IN), 0, nodes, input, G, false);
  if (internal > 0) {
    const internalX = rowAt(xs, leaves, input);
    gemmTransposedAccumulate(pointer(plan, TreePlan.G_IN_F), dInputForget, internalX, internal, hidden, input, hidden, input);
    accumulateColumnSums(pointer(plan, TreePlan.G_B_IN_F), dInputForget, internal, hidden, hidden);
    gemmTransposedAccumulate(pointer(plan, TreePlan.G_REC), rowAt(dGates, leaves, G), childSums, internal, G, hidden, G, hidden);
    gemmTransposedAccumulate(pointer(plan, TreePlan.G_REC_F), dForget, h, nodes, hidden, hidden, hidden, hidden);
    gemmPacked(rowAt(dxs, leaves, input), dInputForget, pointer(plan, TreePlan.WT_IN_F), 0, internal, input, hidden, true);
  }
}

function binaryForward(plan: usize, nodes: i32, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), h = pointer(plan, TreePlan.HS), c = pointer(plan, TreePlan.CS), gates = pointer(plan, TreePlan.GATES);
  const childPairs = pointer(plan, TreePlan.CHILD_STATE);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  const G = 5 * hidden;
  gemmPacked(gates, xs, pointer(plan, TreePlan.W_IN), pointer(plan, TreePlan.B_IN), nodes, G, input, false);
  for (let level = 0; level < levels; level++) {
    const start = entry(levelStart, level), end = entry(levelStart, level + 1), count = end - start;
    if (level > 0) {
      const pairs = rowAt(childPairs, start - leaves, 2 * hidden);
      gatherChildPairs(pairs, h, childStart, children, start, end, hidden);
      gemmPacked(rowAt(gates, start, G), pairs, pointer(plan, TreePlan.W_REC), 0, count, G, 2 * hidden, true);
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
  gemmTransposedAccumulate(pointer(plan, TreePlan.G_IN), dGates, xs, nodes, 3 * hidden, input, G, input);
  accumulateColumnSums(pointer(plan, TreePlan.G_B_IN), dGates, nodes, 3 * hidden, G);
  if (internal > 0) {
    const dInternal = rowAt(dGates, leaves, G), internalX = rowAt(xs, leaves, input);
    gemmTransposedAccumulate(pointer(plan, TreePlan.G_IN_F), dInternal + fLeftColumn, internalX, internal, hidden, input, G, input);
    gemmTransposedAccumulate(pointer(plan, TreePlan.G_IN_F), dInternal + fRightColumn, internalX, internal, hidden, input, G, input);
    accumulateColumnSums(pointer(plan, TreePlan.G_B_IN_F), dInternal + fLeftColumn, internal, hidden, G);
    accumulateColumnSums(pointer(plan, TreePlan.G_B_IN_F), dInternal + fRightColumn, internal, hidden, G);
    gemmTransposedAccumulate(pointer(plan, TreePlan.G_REC), dInternal, childPairs, internal, 3 * hidden, 2 * hidden, G, 2 * hidden);
    gemmTransposedAccumulate(pointer(plan, TreePlan.G_REC_F), dInternal + fLeftColumn, childPairs, internal, 2 * hidden, 2 * hidden, G, 2 * hidden);
  }
  gemmPacked(pointer(plan, TreePlan.DXS), dGates, pointer(plan, TreePlan.WT_IN), 0, nodes, input, G, false);
}

function treeRnnForward(plan: usize, leaves: i32, levels: i32, input: i32, hidden: i32): void {
  const xs = pointer(plan, TreePlan.XS), h = pointer(plan, TreePlan.HS), childPairs = pointer(plan, TreePlan.CHILD_STATE);
  const levelStart = pointer(plan, TreePlan.LEVEL_START), childStart = pointer(plan, TreePlan.CHILD_START), children = pointer(plan, TreePlan.CHILDREN);
  gemmPacked(h, xs, pointer(plan, TreePlan.W_IN), pointer(plan, TreePlan.B_IN), leaves, hidden, input, false);
  tanhArray(h, h, leaves * hidden);
  for (let level = 1; level < levels; level++) {
    const start = entry(levelStart, level), end = entry(levelStart, level + 1), count = end - start;
    const pairs = rowAt(childPairs, start - leaves, 2 * hidden);
    const hLevel = rowAt(h, start, hidden);
    gatherChildPairs(pairs, h, childStart, children, start, end, hidden);
    gemmPacked(hLevel, pairs, pointer(plan, TreePlan.W_REC), pointer(plan, TreePlan.B_REC), count, hidden, 2 * hidden, false);
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
  gemmTransposedAccumulate(pointer(plan, TreePlan.G_IN), dh, xs, leaves, hidden, input, hidden, input);
  accumulateColumnSums(pointer(plan, TreePlan.G_B_IN), dh, leaves, hidden, hidden);
  gemmPacked(dxs, dh, pointer(plan, TreePlan.WT_IN), 0, leaves, input, hidden, false);
  if (internal > 0) {
    const dInternal = rowAt(dh, leaves, hidden);
    gemmTransposedAccumulate(pointer(plan, TreePlan.G_REC), dInternal, childPairs, internal, hidden, 2 * hidden, hidden, 2 * hidden);
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
  gatherRows(pointer(plan, TreePlan.XS), pointer(plan, TreePlan.X), order, nodes, input);
  if (model == TreeModel.CHILD_SUM) childSumForward(plan, nodes, leaves, levels, input, hidden);
  else if (model == TreeModel.BINARY) binaryForward(plan, nodes, leaves, levels, input, hidden);
  else treeRnnForward(plan, leaves, levels, input, hidden);
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
