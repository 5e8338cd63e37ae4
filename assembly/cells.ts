// One time step of each recurrent cell over a batch, forward and backward side by side. Forward: after
// the gate pre-activations are summed, activations, state update and output write fused in one pass;
// with `save`, the activated gates overwrite the pre-activations for the backward pass. Backward: from
// the gradient of the new state, the gradients of the gate pre-activations and of the old state.
// SIMD over the hidden axis with a scalar tail of the same formulas. Scalar references: test/reference/cells.ts.
//
// Shapes: B batch, H hidden, G gate rows (RNN 1, LSTM 4 in order i f g o, GRU 3 in order r z n).
// Rows whose sequence has ended (`lengths`, see rowActive) keep their state and write 0 to `out`.
// `out` may be 0 (no output write); `outStride` is the output's row stride in floats.
// Cell variants (Keras' and ONNX's activations, clip, peepholes, input_forget: cell-variant.ts) run through
// the same loops; the GRU's reset-before form has two passes of its own below.

import { VariantFlag } from './abi';
import {
  candidateS, candidateSlopeS, candidateSlopeV, candidateV, gateS, gateSlopeS, gateSlopeV, gateV, outputS, outputSlopeS, outputSlopeV,
  outputV, variant,
} from './cell-variant';
import { rowActive } from './simd';
import { sigmoidV, tanhV } from './activations';

@inline function zeroRow(out: usize, width: i32): void {
  if (out != 0) memory.fill(out, 0, <usize>width << 2);
}

/** Vanilla RNN: h' = act(gates), act = relu, or the variant's candidate activation (tanh by default). */
export function rnnCellForward(h: usize /* [B, H] */, out: usize /* row 0 of [B, outStride] */, gates: usize /* [B, H] */,
                               lengths: usize, t: i32, batch: i32, hidden: i32, outStride: i32, relu: bool, save: bool): void {
  const standard = variant.standard;
  for (let b = 0; b < batch; b++) {
    const outRow = out == 0 ? <usize>0 : out + (<usize>(b * outStride) << 2);
    if (!rowActive(lengths, b, t)) { zeroRow(outRow, hidden); continue; }
    const g = gates + (<usize>(b * hidden) << 2);
    const hRow = h + (<usize>(b * hidden) << 2);
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const offset = <usize>j << 2;
      const pre = v128.load(g + offset);
      const value = relu ? f32x4.max(pre, f32x4.splat(0)) : candidateV(standard, pre);
      v128.store(hRow + offset, value);
      if (save) v128.store(g + offset, value);
      if (outRow != 0) v128.store(outRow + offset, value);
    }
    for (; j < hidden; j++) {
      const offset = <usize>j << 2;
      const pre = load<f32>(g + offset);
      const value: f32 = relu ? max(pre, 0) : candidateS(standard, pre);
      store<f32>(hRow + offset, value);
      if (save) store<f32>(g + offset, value);
      if (outRow != 0) store<f32>(outRow + offset, value);
    }
  }
}

/**
 * LSTM: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'). Writes h' to `h` (row stride H) and `out`.
 * Variants: other activations, clip, peepholes (i and f see c, o sees c'), input_forget (f = 1 − i).
 */
export function lstmCellForward(h: usize /* [B, H] */, c: usize /* [B, H] */, out: usize, gates: usize /* [B, 4H] */,
                                lengths: usize, t: i32, batch: i32, hidden: i32, outStride: i32, save: bool): void {
  lstmCellForwardUnits(h, c, out, gates, lengths, t, batch, hidden, outStride, save, hidden);
}

/**
 * lstmCellForward on `hidden` units of gate blocks `gateStride` apart (a batch row's gates span 4·gateStride):
 * with batch 1, one thread's units [u0, u1) of a wider cell (gates + u0, hidden = u1 − u0, gateStride = H).
 * Inlined, so that lstmCellForward compiles to the same loop as before it had a gate stride (W1 relaxed, one
 * thread: a shared out-of-line body measured 2–4% slower).
 */
@inline export function lstmCellForwardUnits(h: usize, c: usize, out: usize, gates: usize, lengths: usize, t: i32, batch: i32, hidden: i32,
                                     outStride: i32, save: bool, gateStride: i32): void {
  const standard = variant.standard;
  const gateBytes = <usize>gateStride << 2;
  const peephole = variant.peephole;
  const inputForget = (variant.flags & VariantFlag.INPUT_FORGET) != 0;
  for (let b = 0; b < batch; b++) {
    const outRow = out == 0 ? <usize>0 : out + (<usize>(b * outStride) << 2);
    if (!rowActive(lengths, b, t)) { zeroRow(outRow, hidden); continue; }
    const gi = gates + (<usize>(b * 4 * gateStride) << 2);
    const gf = gi + gateBytes, gg = gf + gateBytes, go = gg + gateBytes;
    const cRow = c + (<usize>(b * hidden) << 2);
    const hRow = h + (<usize>(b * hidden) << 2);
    let j = 0;
    // PyTorch's cell has a SIMD loop of its own: written once with the variant's branches, the loop keeps the
    // spills of the (never taken) calls and runs ~45% slower (B32 H256, baseline: 51 → 74 µs a step).
    if (standard) {
      for (; j + 4 <= hidden; j += 4) {
        const o = <usize>j << 2;
        const i = sigmoidV(v128.load(gi + o)), f = sigmoidV(v128.load(gf + o));
        const g = tanhV(v128.load(gg + o)), og = sigmoidV(v128.load(go + o));
        const cNew = f32x4.add(f32x4.mul(f, v128.load(cRow + o)), f32x4.mul(i, g));
        const hNew = f32x4.mul(og, tanhV(cNew));
        if (save) {
          v128.store(gi + o, i); v128.store(gf + o, f); v128.store(gg + o, g); v128.store(go + o, og);
        }
        v128.store(cRow + o, cNew);
        v128.store(hRow + o, hNew);
        if (outRow != 0) v128.store(outRow + o, hNew);
      }
    } else {
      for (; j + 4 <= hidden; j += 4) {
        const o = <usize>j << 2;
        const cOld = v128.load(cRow + o);
        let preI = v128.load(gi + o), preF = v128.load(gf + o), preO = v128.load(go + o);
        if (peephole != 0) {
          preI = f32x4.add(preI, f32x4.mul(v128.load(peephole + o), cOld));
          preF = f32x4.add(preF, f32x4.mul(v128.load(peephole + gateBytes + o), cOld));
        }
        const i = gateV(standard, preI);
        const f = inputForget ? f32x4.sub(f32x4.splat(1.0), i) : gateV(standard, preF);
        const g = candidateV(standard, v128.load(gg + o));
        const cNew = f32x4.add(f32x4.mul(f, cOld), f32x4.mul(i, g));
        if (peephole != 0) preO = f32x4.add(preO, f32x4.mul(v128.load(peephole + 2 * gateBytes + o), cNew));
        const og = gateV(standard, preO);
        const hNew = f32x4.mul(og, outputV(standard, cNew));
        if (save) {
          v128.store(gi + o, i); v128.store(gf + o, f); v128.store(gg + o, g); v128.store(go + o, og);
        }
        v128.store(cRow + o, cNew);
        v128.store(hRow + o, hNew);
        if (outRow != 0) v128.store(outRow + o, hNew);
      }
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const cOld = load<f32>(cRow + o);
      let preI = load<f32>(gi + o), preF = load<f32>(gf + o), preO = load<f32>(go + o);
      if (peephole != 0) {
        preI += load<f32>(peephole + o) * cOld;
        preF += load<f32>(peephole + gateBytes + o) * cOld;
      }
      const i = gateS(standard, preI);
      const f: f32 = inputForget ? 1.0 - i : gateS(standard, preF);
      const g = candidateS(standard, load<f32>(gg + o));
      const cNew = f * cOld + i * g;
      if (peephole != 0) preO += load<f32>(peephole + 2 * gateBytes + o) * cNew;
      const og = gateS(standard, preO);
      const hNew = og * outputS(standard, cNew);
      if (save) {
        store<f32>(gi + o, i); store<f32>(gf + o, f); store<f32>(gg + o, g); store<f32>(go + o, og);
      }
      store<f32>(cRow + o, cNew);
      store<f32>(hRow + o, hNew);
      if (outRow != 0) store<f32>(outRow + o, hNew);
    }
  }
}

/**
 * GRU (PyTorch form): r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·(h_n + b_hn)), h' = n + z·(h − n).
 * `inputGates` hold W_ih x + b_ih (+ b_hh for r, z); `hiddenGates` hold W_hh h without bias.
 */
export function gruCellForward(h: usize /* [B, H] */, out: usize, inputGates: usize /* [B, 3H] */, hiddenGates: usize /* [B, 3H] */,
                               hiddenBiasN: usize /* [H] */, lengths: usize, t: i32, batch: i32, hidden: i32, outStride: i32,
                               savedHn: usize /* [B, H]: W_hn h + b_hn, or 0 */): void {
  gruCellForwardUnits(h, out, inputGates, hiddenGates, hiddenBiasN, lengths, t, batch, hidden, outStride, savedHn, hidden);
}

/** gruCellForward on `hidden` units of gate blocks `gateStride` apart (see lstmCellForwardUnits). */
@inline export function gruCellForwardUnits(h: usize, out: usize, inputGates: usize, hiddenGates: usize, hiddenBiasN: usize, lengths: usize, t: i32,
                                    batch: i32, hidden: i32, outStride: i32, savedHn: usize, gateStride: i32): void {
  const standard = variant.standard;
  const gateBytes = <usize>gateStride << 2;
  for (let b = 0; b < batch; b++) {
    const outRow = out == 0 ? <usize>0 : out + (<usize>(b * outStride) << 2);
    if (!rowActive(lengths, b, t)) { zeroRow(outRow, hidden); continue; }
    const xr = inputGates + (<usize>(b * 3 * gateStride) << 2), xz = xr + gateBytes, xn = xz + gateBytes;
    const hr = hiddenGates + (<usize>(b * 3 * gateStride) << 2), hz = hr + gateBytes, hn = hz + gateBytes;
    const hRow = h + (<usize>(b * hidden) << 2);
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const r = gateV(standard, f32x4.add(v128.load(xr + o), v128.load(hr + o)));
      const z = gateV(standard, f32x4.add(v128.load(xz + o), v128.load(hz + o)));
      const hiddenN = f32x4.add(v128.load(hn + o), v128.load(hiddenBiasN + o));
      const n = candidateV(standard, f32x4.add(v128.load(xn + o), f32x4.mul(r, hiddenN)));
      const hNew = f32x4.add(n, f32x4.mul(z, f32x4.sub(v128.load(hRow + o), n)));
      if (savedHn != 0) {
        v128.store(xr + o, r); v128.store(xz + o, z); v128.store(xn + o, n);
        v128.store(savedHn + (<usize>(b * hidden) << 2) + o, hiddenN);
      }
      v128.store(hRow + o, hNew);
      if (outRow != 0) v128.store(outRow + o, hNew);
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const r = gateS(standard, load<f32>(xr + o) + load<f32>(hr + o));
      const z = gateS(standard, load<f32>(xz + o) + load<f32>(hz + o));
      const hiddenN = load<f32>(hn + o) + load<f32>(hiddenBiasN + o);
      const n = candidateS(standard, load<f32>(xn + o) + r * hiddenN);
      const hNew = n + z * (load<f32>(hRow + o) - n);
      if (savedHn != 0) {
        store<f32>(xr + o, r); store<f32>(xz + o, z); store<f32>(xn + o, n);
        store<f32>(savedHn + (<usize>(b * hidden) << 2) + o, hiddenN);
      }
      store<f32>(hRow + o, hNew);
      if (outRow != 0) store<f32>(outRow + o, hNew);
    }
  }
}

// GRU in its reset-before form (Cho et al. 2014, Keras reset_after=False, ONNX linear_before_reset=0):
// n = act(W_in x + b_in + W_hn (r ⊙ h) + b_hn). The recurrent product of n needs r first, so a step is two
// passes around one more GEMM: gruResetGates (r, z and r ⊙ h), the GEMM (r ⊙ h) · W_hnᵀ, gruResetCandidate.
// Every bias is folded into `inputGates`.

/** r = σ(x_r + h_r), z = σ(x_z + h_z) into inputGates' r and z slots, and r ⊙ h into `resetHidden`. */
export function gruResetGates(resetHidden: usize /* [B, H] */, inputGates: usize /* [B, 3H] */, hiddenGates: usize /* [B, 2H]: W_hr h, W_hz h */,
                              h: usize /* [B, H] */, lengths: usize, t: i32, batch: i32, hidden: i32): void {
  const standard = variant.standard;
  const gateBytes = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) continue;
    const xr = inputGates + <usize>b * 3 * gateBytes, xz = xr + gateBytes;
    const hr = hiddenGates + <usize>b * 2 * gateBytes, hz = hr + gateBytes;
    const hRow = h + <usize>b * gateBytes, rh = resetHidden + <usize>b * gateBytes;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const r = gateV(standard, f32x4.add(v128.load(xr + o), v128.load(hr + o)));
      v128.store(xr + o, r);
      v128.store(xz + o, gateV(standard, f32x4.add(v128.load(xz + o), v128.load(hz + o))));
      v128.store(rh + o, f32x4.mul(r, v128.load(hRow + o)));
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const r = gateS(standard, load<f32>(xr + o) + load<f32>(hr + o));
      store<f32>(xr + o, r);
      store<f32>(xz + o, gateS(standard, load<f32>(xz + o) + load<f32>(hz + o)));
      store<f32>(rh + o, r * load<f32>(hRow + o));
    }
  }
}

/** n = act(x_n + W_hn (r ⊙ h)), h' = n + z·(h − n), from gruResetGates' r and z; n overwrites its pre-activation. */
export function gruResetCandidate(h: usize /* [B, H] */, out: usize, inputGates: usize /* [B, 3H]: r, z, x_n */, resetProduct: usize /* [B, H] */,
                                  lengths: usize, t: i32, batch: i32, hidden: i32, outStride: i32): void {
  const standard = variant.standard;
  const gateBytes = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const outRow = out == 0 ? <usize>0 : out + (<usize>(b * outStride) << 2);
    if (!rowActive(lengths, b, t)) { zeroRow(outRow, hidden); continue; }
    const xz = inputGates + <usize>b * 3 * gateBytes + gateBytes, xn = xz + gateBytes;
    const hRow = h + <usize>b * gateBytes, product = resetProduct + <usize>b * gateBytes;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const n = candidateV(standard, f32x4.add(v128.load(xn + o), v128.load(product + o)));
      const hNew = f32x4.add(n, f32x4.mul(v128.load(xz + o), f32x4.sub(v128.load(hRow + o), n)));
      v128.store(xn + o, n);
      v128.store(hRow + o, hNew);
      if (outRow != 0) v128.store(outRow + o, hNew);
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const n = candidateS(standard, load<f32>(xn + o) + load<f32>(product + o));
      const hNew = n + load<f32>(xz + o) * (load<f32>(hRow + o) - n);
      store<f32>(xn + o, n);
      store<f32>(hRow + o, hNew);
      if (outRow != 0) store<f32>(outRow + o, hNew);
    }
  }
}

/** Copies each active row of `src` [B, width] into the state `h` and `out`; ended rows write 0 to `out`. */
export function commitRows(h: usize /* [B, width] */, out: usize, src: usize /* [B, width] */,
                           lengths: usize, t: i32, batch: i32, width: i32, outStride: i32): void {
  const rowBytes = <usize>width << 2;
  for (let b = 0; b < batch; b++) {
    const outRow = out == 0 ? <usize>0 : out + (<usize>(b * outStride) << 2);
    if (!rowActive(lengths, b, t)) { zeroRow(outRow, width); continue; }
    memory.copy(h + <usize>b * rowBytes, src + <usize>b * rowBytes, rowBytes);
    if (outRow != 0) memory.copy(outRow, src + <usize>b * rowBytes, rowBytes);
  }
}

// ---- Backward ----
// Rows whose sequence has ended at step t get zero gate gradients and keep their state gradient (the
// caller passes dh through for them).

/** Vanilla RNN: dPre = dh ⊙ act'(h'), from the saved activation h' (relu, or the candidate activation). */
export function rnnCellBackward(dGates: usize /* [B, H] */, dh: usize /* [B, H] */, activated: usize /* [B, H] */,
                                lengths: usize, t: i32, batch: i32, hidden: i32, relu: bool): void {
  const standard = variant.standard;
  const rowBytes = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const dg = dGates + <usize>b * rowBytes, dhRow = dh + <usize>b * rowBytes, a = activated + <usize>b * rowBytes;
    if (!rowActive(lengths, b, t)) { memory.fill(dg, 0, rowBytes); continue; }
    let j = 0;
    if (standard) { // PyTorch's cell apart, as in lstmCellForward: a call in the loop, even untaken, costs 2.5×
      for (; j + 4 <= hidden; j += 4) {
        const o = <usize>j << 2;
        const y = v128.load(a + o), d = v128.load(dhRow + o);
        const slope = relu ? v128.and(f32x4.gt(y, f32x4.splat(0)), f32x4.splat(1.0)) : f32x4.sub(f32x4.splat(1.0), f32x4.mul(y, y));
        v128.store(dg + o, f32x4.mul(d, slope));
      }
    } else {
      for (; j + 4 <= hidden; j += 4) {
        const o = <usize>j << 2;
        const y = v128.load(a + o), d = v128.load(dhRow + o);
        const slope = relu ? v128.and(f32x4.gt(y, f32x4.splat(0)), f32x4.splat(1.0)) : candidateSlopeV(standard, y);
        v128.store(dg + o, f32x4.mul(d, slope));
      }
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const y = load<f32>(a + o);
      const slope: f32 = relu ? (y > 0 ? 1.0 : 0.0) : candidateSlopeS(standard, y);
      store<f32>(dg + o, load<f32>(dhRow + o) * slope);
    }
  }
}

/**
 * LSTM, from the saved gates i f g o, c_{t−1} and c_t: with tc = tanh(c_t), dc += dh ⊙ o ⊙ (1 − tc²);
 * d(pre) = [dc⊙g⊙i(1−i), dc⊙c_{t−1}⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tc⊙o(1−o)]; then dc ← dc ⊙ f (for c_{t−1}).
 * Other activations use their slopes (from the saved values); clip, peepholes and input_forget are forward only.
 */
export function lstmCellBackward(dGates: usize /* [B, 4H] */, dc: usize /* [B, H] in/out */, dh: usize /* [B, H] */,
                                 gates: usize /* [B, 4H] saved i f g o */, cPrev: usize /* [B, H] */, cNew: usize /* [B, H] */,
                                 lengths: usize, t: i32, batch: i32, hidden: i32): void {
  const standard = variant.standard;
  const gateBytes = <usize>hidden << 2;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < batch; b++) {
    const gi = gates + <usize>b * 4 * gateBytes, gf = gi + gateBytes, gg = gf + gateBytes, go = gg + gateBytes;
    const di = dGates + <usize>b * 4 * gateBytes, df = di + gateBytes, dg = df + gateBytes, dout = dg + gateBytes;
    if (!rowActive(lengths, b, t)) { memory.fill(di, 0, 4 * gateBytes); continue; }
    const row = <usize>b * gateBytes;
    let j = 0;
    if (standard) { // PyTorch's cell apart, as in lstmCellForward
      for (; j + 4 <= hidden; j += 4) {
        const o = <usize>j << 2;
        const i = v128.load(gi + o), f = v128.load(gf + o), g = v128.load(gg + o), og = v128.load(go + o);
        const tc = tanhV(v128.load(cNew + row + o));
        const dhv = v128.load(dh + row + o);
        const dcTotal = f32x4.add(v128.load(dc + row + o), f32x4.mul(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc))));
        v128.store(di + o, f32x4.mul(f32x4.mul(dcTotal, g), f32x4.mul(i, f32x4.sub(one, i))));
        v128.store(df + o, f32x4.mul(f32x4.mul(dcTotal, v128.load(cPrev + row + o)), f32x4.mul(f, f32x4.sub(one, f))));
        v128.store(dg + o, f32x4.mul(f32x4.mul(dcTotal, i), f32x4.sub(one, f32x4.mul(g, g))));
        v128.store(dout + o, f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(og, f32x4.sub(one, og))));
        v128.store(dc + row + o, f32x4.mul(dcTotal, f));
      }
    } else {
      for (; j + 4 <= hidden; j += 4) {
        const o = <usize>j << 2;
        const i = v128.load(gi + o), f = v128.load(gf + o), g = v128.load(gg + o), og = v128.load(go + o);
        const tc = outputV(standard, v128.load(cNew + row + o));
        const dhv = v128.load(dh + row + o);
        const dcTotal = f32x4.add(v128.load(dc + row + o), f32x4.mul(f32x4.mul(dhv, og), outputSlopeV(standard, tc)));
        v128.store(di + o, f32x4.mul(f32x4.mul(dcTotal, g), gateSlopeV(standard, i)));
        v128.store(df + o, f32x4.mul(f32x4.mul(dcTotal, v128.load(cPrev + row + o)), gateSlopeV(standard, f)));
        v128.store(dg + o, f32x4.mul(f32x4.mul(dcTotal, i), candidateSlopeV(standard, g)));
        v128.store(dout + o, f32x4.mul(f32x4.mul(dhv, tc), gateSlopeV(standard, og)));
        v128.store(dc + row + o, f32x4.mul(dcTotal, f));
      }
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const i = load<f32>(gi + o), f = load<f32>(gf + o), g = load<f32>(gg + o), og = load<f32>(go + o);
      const tc = outputS(standard, load<f32>(cNew + row + o));
      const dhv = load<f32>(dh + row + o);
      const dcTotal = load<f32>(dc + row + o) + dhv * og * outputSlopeS(standard, tc);
      store<f32>(di + o, dcTotal * g * gateSlopeS(standard, i));
      store<f32>(df + o, dcTotal * load<f32>(cPrev + row + o) * gateSlopeS(standard, f));
      store<f32>(dg + o, dcTotal * i * candidateSlopeS(standard, g));
      store<f32>(dout + o, dhv * tc * gateSlopeS(standard, og));
      store<f32>(dc + row + o, dcTotal * f);
    }
  }
}

/**
 * GRU, from the saved r z n, hn = W_hn h + b_hn and h_{t−1}: dn = dh⊙(1−z)⊙(1−n²), dz = dh⊙(h−n)⊙z(1−z),
 * dr = dn⊙hn⊙r(1−r). Input-side gradients [dr, dz, dn], hidden-side [dr, dz, dn⊙r], and the direct
 * part of dh_{t−1}: dh⊙z (the caller adds the hidden-side gradients times W_hh).
 */
export function gruCellBackward(dInputGates: usize /* [B, 3H] */, dHiddenGates: usize /* [B, 3H] */, dhPrev: usize /* [B, H] */,
                                dh: usize /* [B, H] */, gates: usize /* [B, 3H] saved r z n */, savedHn: usize /* [B, H] */,
                                hPrev: usize /* [B, H] */, lengths: usize, t: i32, batch: i32, hidden: i32): void {
  const standard = variant.standard;
  const gateBytes = <usize>hidden << 2;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < batch; b++) {
    const gr = gates + <usize>b * 3 * gateBytes, gz = gr + gateBytes, gn = gz + gateBytes;
    const xr = dInputGates + <usize>b * 3 * gateBytes, xz = xr + gateBytes, xn = xz + gateBytes;
    const hr = dHiddenGates + <usize>b * 3 * gateBytes, hz = hr + gateBytes, hn = hz + gateBytes;
    const row = <usize>b * gateBytes;
    if (!rowActive(lengths, b, t)) {
      memory.fill(xr, 0, 3 * gateBytes);
      memory.fill(hr, 0, 3 * gateBytes);
      memory.fill(dhPrev + row, 0, gateBytes);
      continue;
    }
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const r = v128.load(gr + o), z = v128.load(gz + o), n = v128.load(gn + o);
      const dhv = v128.load(dh + row + o);
      const dn = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), candidateSlopeV(standard, n));
      const dz = f32x4.mul(f32x4.mul(dhv, f32x4.sub(v128.load(hPrev + row + o), n)), gateSlopeV(standard, z));
      const dr = f32x4.mul(f32x4.mul(dn, v128.load(savedHn + row + o)), gateSlopeV(standard, r));
      v128.store(xr + o, dr); v128.store(xz + o, dz); v128.store(xn + o, dn);
      v128.store(hr + o, dr); v128.store(hz + o, dz); v128.store(hn + o, f32x4.mul(dn, r));
      v128.store(dhPrev + row + o, f32x4.mul(dhv, z));
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const r = load<f32>(gr + o), z = load<f32>(gz + o), n = load<f32>(gn + o);
      const dhv = load<f32>(dh + row + o);
      const dn = dhv * (1.0 - z) * candidateSlopeS(standard, n);
      const dz = dhv * (load<f32>(hPrev + row + o) - n) * gateSlopeS(standard, z);
      const dr = dn * load<f32>(savedHn + row + o) * gateSlopeS(standard, r);
      store<f32>(xr + o, dr); store<f32>(xz + o, dz); store<f32>(xn + o, dn);
      store<f32>(hr + o, dr); store<f32>(hz + o, dz); store<f32>(hn + o, dn * r);
      store<f32>(dhPrev + row + o, dhv * z);
    }
  }
}

/**
 * GRU reset-before backward, first pass, from the saved r z n and h_{t−1}: da = dh⊙(1−z)⊙act'(n) (a: n's
 * pre-activation) and dz = dh⊙(h−n)⊙σ'(z) into both gate gradients' z and n slots (the hidden side's n slot
 * is 0: W_hn multiplies r ⊙ h, whose gradient gruResetBackward finishes after d(r ⊙ h) = da · W_hn).
 */
export function gruResetCandidateBackward(dInputGates: usize /* [B, 3H] */, dHiddenGates: usize /* [B, 3H] */, dh: usize /* [B, H] */,
                                          gates: usize /* [B, 3H] saved r z n */, hPrev: usize /* [B, H] */,
                                          lengths: usize, t: i32, batch: i32, hidden: i32): void {
  const standard = variant.standard;
  const gateBytes = <usize>hidden << 2;
  const one = f32x4.splat(1.0);
  for (let b = 0; b < batch; b++) {
    const gz = gates + <usize>b * 3 * gateBytes + gateBytes, gn = gz + gateBytes;
    const xr = dInputGates + <usize>b * 3 * gateBytes, xz = xr + gateBytes, xn = xz + gateBytes;
    const hr = dHiddenGates + <usize>b * 3 * gateBytes, hz = hr + gateBytes, hn = hz + gateBytes;
    const row = <usize>b * gateBytes;
    memory.fill(hn, 0, gateBytes);
    if (!rowActive(lengths, b, t)) {
      memory.fill(xr, 0, 3 * gateBytes);
      memory.fill(hr, 0, 2 * gateBytes);
      continue;
    }
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const z = v128.load(gz + o), n = v128.load(gn + o), dhv = v128.load(dh + row + o);
      const da = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), candidateSlopeV(standard, n));
      const dz = f32x4.mul(f32x4.mul(dhv, f32x4.sub(v128.load(hPrev + row + o), n)), gateSlopeV(standard, z));
      v128.store(xz + o, dz); v128.store(xn + o, da); v128.store(hz + o, dz);
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const z = load<f32>(gz + o), n = load<f32>(gn + o), dhv = load<f32>(dh + row + o);
      const da = dhv * (1.0 - z) * candidateSlopeS(standard, n);
      const dz = dhv * (load<f32>(hPrev + row + o) - n) * gateSlopeS(standard, z);
      store<f32>(xz + o, dz); store<f32>(xn + o, da); store<f32>(hz + o, dz);
    }
  }
}

/**
 * GRU reset-before backward, second pass, from d(r ⊙ h) = da · W_hn: dr = d(r⊙h)⊙h⊙σ'(r) into both r slots,
 * and the direct part of dh_{t−1}: dh⊙z + d(r⊙h)⊙r (the caller adds the r, z gradients times W_hr, W_hz).
 */
export function gruResetBackward(dInputGates: usize /* [B, 3H] */, dHiddenGates: usize /* [B, 3H] */, dhPrev: usize /* [B, H] */,
                                 dh: usize /* [B, H] */, dResetHidden: usize /* [B, H] */, gates: usize /* [B, 3H] saved r z n */,
                                 hPrev: usize /* [B, H] */, lengths: usize, t: i32, batch: i32, hidden: i32): void {
  const standard = variant.standard;
  const gateBytes = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gr = gates + <usize>b * 3 * gateBytes, gz = gr + gateBytes;
    const xr = dInputGates + <usize>b * 3 * gateBytes, hr = dHiddenGates + <usize>b * 3 * gateBytes;
    const row = <usize>b * gateBytes;
    if (!rowActive(lengths, b, t)) { memory.fill(dhPrev + row, 0, gateBytes); continue; }
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const r = v128.load(gr + o), d = v128.load(dResetHidden + row + o);
      const dr = f32x4.mul(f32x4.mul(d, v128.load(hPrev + row + o)), gateSlopeV(standard, r));
      v128.store(xr + o, dr); v128.store(hr + o, dr);
      v128.store(dhPrev + row + o, f32x4.add(f32x4.mul(v128.load(dh + row + o), v128.load(gz + o)), f32x4.mul(d, r)));
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const r = load<f32>(gr + o), d = load<f32>(dResetHidden + row + o);
      const dr = d * load<f32>(hPrev + row + o) * gateSlopeS(standard, r);
      store<f32>(xr + o, dr); store<f32>(hr + o, dr);
      store<f32>(dhPrev + row + o, load<f32>(dh + row + o) * load<f32>(gz + o) + d * r);
    }
  }
}

/** Rows whose sequence has ended at step t: dst gets src's row (the state gradient passes through). */
export function passEndedRows(dst: usize /* [B, width] */, src: usize /* [B, width] */, lengths: usize, t: i32, batch: i32, width: i32): void {
  if (lengths == 0) return;
  const rowBytes = <usize>width << 2;
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) memory.copy(dst + <usize>b * rowBytes, src + <usize>b * rowBytes, rowBytes);
  }
}

/** Adds out-gradient rows (stride outStride) into dh for rows active at step t. */
export function addActiveRows(dh: usize /* [B, width] */, dOut: usize /* row 0 of [B, outStride] */, lengths: usize, t: i32,
                              batch: i32, width: i32, outStride: i32): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) continue;
    const dst = dh + (<usize>(b * width) << 2), src = dOut + (<usize>(b * outStride) << 2);
    let j = 0;
    for (; j + 4 <= width; j += 4) v128.store(dst + (<usize>j << 2), f32x4.add(v128.load(dst + (<usize>j << 2)), v128.load(src + (<usize>j << 2))));
    for (; j < width; j++) store<f32>(dst + (<usize>j << 2), load<f32>(dst + (<usize>j << 2)) + load<f32>(src + (<usize>j << 2)));
  }
}
