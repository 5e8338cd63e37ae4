// One time step of each recurrent cell over a batch, after the gate pre-activations are summed:
// activations, state update and output write fused in one pass. SIMD over the hidden axis with a
// scalar tail of the same formulas. Scalar references: test/reference/cells.ts.
//
// Shapes: B batch, H hidden, G gate rows (RNN 1, LSTM 4 in order i f g o, GRU 3 in order r z n).
// Rows whose sequence has ended (`lengths`, see rowActive) keep their state and write 0 to `out`.
// `out` may be 0 (no output write); `outStride` is the output's row stride in floats.

import { sigmoidS, sigmoidV, tanhS, tanhV } from './activations';
import { rowActive } from './simd';

@inline function zeroRow(out: usize, width: i32): void {
  if (out != 0) memory.fill(out, 0, <usize>width << 2);
}

/** Vanilla RNN: h' = act(gates), act = tanh or relu. */
export function rnnCellForward(h: usize /* [B, H] */, out: usize /* row 0 of [B, outStride] */, gates: usize /* [B, H] */,
                               lengths: usize, t: i32, batch: i32, hidden: i32, outStride: i32, relu: bool): void {
  for (let b = 0; b < batch; b++) {
    const outRow = out == 0 ? <usize>0 : out + (<usize>(b * outStride) << 2);
    if (!rowActive(lengths, b, t)) { zeroRow(outRow, hidden); continue; }
    const g = gates + (<usize>(b * hidden) << 2);
    const hRow = h + (<usize>(b * hidden) << 2);
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const offset = <usize>j << 2;
      const pre = v128.load(g + offset);
      const value = relu ? f32x4.max(pre, f32x4.splat(0)) : tanhV(pre);
      v128.store(hRow + offset, value);
      if (outRow != 0) v128.store(outRow + offset, value);
    }
    for (; j < hidden; j++) {
      const offset = <usize>j << 2;
      const pre = load<f32>(g + offset);
      const value: f32 = relu ? max(pre, 0) : tanhS(pre);
      store<f32>(hRow + offset, value);
      if (outRow != 0) store<f32>(outRow + offset, value);
    }
  }
}

/** LSTM: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'). Writes h' to `h` (row stride H) and `out`. */
export function lstmCellForward(h: usize /* [B, H] */, c: usize /* [B, H] */, out: usize, gates: usize /* [B, 4H] */,
                                lengths: usize, t: i32, batch: i32, hidden: i32, outStride: i32): void {
  const gateBytes = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const outRow = out == 0 ? <usize>0 : out + (<usize>(b * outStride) << 2);
    if (!rowActive(lengths, b, t)) { zeroRow(outRow, hidden); continue; }
    const gi = gates + (<usize>(b * 4 * hidden) << 2);
    const gf = gi + gateBytes, gg = gf + gateBytes, go = gg + gateBytes;
    const cRow = c + (<usize>(b * hidden) << 2);
    const hRow = h + (<usize>(b * hidden) << 2);
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const cNew = f32x4.add(
        f32x4.mul(sigmoidV(v128.load(gf + o)), v128.load(cRow + o)),
        f32x4.mul(sigmoidV(v128.load(gi + o)), tanhV(v128.load(gg + o))));
      const hNew = f32x4.mul(sigmoidV(v128.load(go + o)), tanhV(cNew));
      v128.store(cRow + o, cNew);
      v128.store(hRow + o, hNew);
      if (outRow != 0) v128.store(outRow + o, hNew);
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const cNew = sigmoidS(load<f32>(gf + o)) * load<f32>(cRow + o) + sigmoidS(load<f32>(gi + o)) * tanhS(load<f32>(gg + o));
      const hNew = sigmoidS(load<f32>(go + o)) * tanhS(cNew);
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
                               hiddenBiasN: usize /* [H] */, lengths: usize, t: i32, batch: i32, hidden: i32, outStride: i32): void {
  const gateBytes = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const outRow = out == 0 ? <usize>0 : out + (<usize>(b * outStride) << 2);
    if (!rowActive(lengths, b, t)) { zeroRow(outRow, hidden); continue; }
    const xr = inputGates + (<usize>(b * 3 * hidden) << 2), xz = xr + gateBytes, xn = xz + gateBytes;
    const hr = hiddenGates + (<usize>(b * 3 * hidden) << 2), hz = hr + gateBytes, hn = hz + gateBytes;
    const hRow = h + (<usize>(b * hidden) << 2);
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const r = sigmoidV(f32x4.add(v128.load(xr + o), v128.load(hr + o)));
      const z = sigmoidV(f32x4.add(v128.load(xz + o), v128.load(hz + o)));
      const n = tanhV(f32x4.add(v128.load(xn + o), f32x4.mul(r, f32x4.add(v128.load(hn + o), v128.load(hiddenBiasN + o)))));
      const hNew = f32x4.add(n, f32x4.mul(z, f32x4.sub(v128.load(hRow + o), n)));
      v128.store(hRow + o, hNew);
      if (outRow != 0) v128.store(outRow + o, hNew);
    }
    for (; j < hidden; j++) {
      const o = <usize>j << 2;
      const r = sigmoidS(load<f32>(xr + o) + load<f32>(hr + o));
      const z = sigmoidS(load<f32>(xz + o) + load<f32>(hz + o));
      const n = tanhS(load<f32>(xn + o) + r * (load<f32>(hn + o) + load<f32>(hiddenBiasN + o)));
      const hNew = n + z * (load<f32>(hRow + o) - n);
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
