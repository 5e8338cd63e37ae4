// Fused Tree-LSTM and TreeRNN cells: one level's gates and state update (forward), and their gradients
// (backward), SIMD over the hidden axis with scalar tails of the same formulas. The level loop that calls
// them, and the plan, are in tree.ts. Scalar float64 reference: test/reference/tree.ts.
//
// Shapes: N nodes of all trees, N0 leaves, H hidden; rows are in schedule order (see tree.ts).

import { sigmoidS, sigmoidV, tanhS, tanhV } from './activations';

@inline export function entry(array: usize /* i32 */, index: i32): i32 {
  return load<i32>(array + (<usize>index << 2));
}

/** Address of row `row` of a row-major matrix of `width` floats per row. */
@inline export function rowAt(base: usize, row: i32, width: i32): usize {
  return base + ((<usize>row * width) << 2);
}

/** dst[0 .. width) += src[0 .. width). */
@inline export function addRow(dst: usize, src: usize, width: i32): void {
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
export function childSumCellForward(h: usize /* [N, H] */, c: usize /* [N, H] */, forget: usize /* [N, H] */, gates: usize /* [N, 3H] */,
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
export function childSumCellBackward(dGates: usize /* [N, 3H] */, dInputForget: usize /* [N − N0, H] */, dForget: usize /* [N, H] */,
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
export function binaryCellForward(h: usize /* [N, H] */, c: usize /* [N, H] */, gates: usize /* [N, 5H] */,
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
export function binaryCellBackward(dGates: usize /* [N, 5H] */, dc: usize /* [N, H] */, dh: usize /* [N, H] */,
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
export function tanhBackward(d: usize /* [n] */, h: usize /* [n] */, n: i32): void {
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
