// scalar reference, used only by tests and bench/kernels.mjs: one time step of the fused cells of
// assembly/cells.ts in float64, forward and backward, with the same arguments (arrays instead of pointers)
// and the same masking.
//
// Shapes: B batch, H hidden, W row width (commitRows, passEndedRows, addActiveRows). Gate rows: LSTM 4H in
// order i f g o, GRU 3H in order r z n. Forward: rows whose sequence has ended (t ≥ lengths[b]) keep their
// state and write 0 to `out`; `saved`, where given, receives what the kernels' `save` keeps for backward
// (the activated gates, in place of the pre-activations) and is left alone for ended rows. Backward, from
// what forward saved: ended rows get zero gate gradients.

import { sigmoid, tanh } from './activations.js';

/** Output rows: row b starts at `data[offset + b·stride]`; entries outside the rows are never touched. */
export interface OutputRows {
  data: Float64Array;
  offset: number;
  stride: number;
}

function rowActive(lengths: ArrayLike<number> | null, b: number, t: number): boolean {
  return lengths === null || t < lengths[b];
}

function writeRow(out: OutputRows | null, b: number, values: ArrayLike<number>): void {
  if (out) for (let j = 0; j < values.length; j++) out.data[out.offset + b * out.stride + j] = values[j];
}

function zeroRow(out: OutputRows | null, b: number, width: number): void {
  writeRow(out, b, new Float64Array(width));
}

/** Vanilla RNN: h' = act(gates), act = tanh or relu. `saved` gets h'. */
export function rnnCell(h: Float64Array /* [B, H] */, out: OutputRows | null, gates: ArrayLike<number> /* [B, H] */,
                        lengths: ArrayLike<number> | null, t: number, batch: number, hidden: number, relu: boolean,
                        saved: Float64Array | null /* [B, H] */ = null): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) { zeroRow(out, b, hidden); continue; }
    for (let j = 0; j < hidden; j++) {
      const pre = gates[b * hidden + j];
      h[b * hidden + j] = relu ? Math.max(pre, 0) : tanh(pre);
    }
    const row = h.subarray(b * hidden, (b + 1) * hidden);
    saved?.set(row, b * hidden);
    writeRow(out, b, row);
  }
}

/** LSTM: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'). `saved` gets σ(i), σ(f), tanh(g), σ(o). */
export function lstmCell(h: Float64Array /* [B, H] */, c: Float64Array /* [B, H] */, out: OutputRows | null,
                         gates: ArrayLike<number> /* [B, 4H] */, lengths: ArrayLike<number> | null,
                         t: number, batch: number, hidden: number, saved: Float64Array | null /* [B, 4H] */ = null): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) { zeroRow(out, b, hidden); continue; }
    const at = (index: number, j: number) => (b * 4 + index) * hidden + j;
    for (let j = 0; j < hidden; j++) {
      const i = sigmoid(gates[at(0, j)]), f = sigmoid(gates[at(1, j)]), g = tanh(gates[at(2, j)]), o = sigmoid(gates[at(3, j)]);
      const cNew = f * c[b * hidden + j] + i * g;
      c[b * hidden + j] = cNew;
      h[b * hidden + j] = o * tanh(cNew);
      if (saved) [saved[at(0, j)], saved[at(1, j)], saved[at(2, j)], saved[at(3, j)]] = [i, f, g, o];
    }
    writeRow(out, b, h.subarray(b * hidden, (b + 1) * hidden));
  }
}

/** What a GRU training forward keeps: r, z, n in place of the input gates, and hn = h_n + b_hn. */
export interface GruSaved {
  gates: Float64Array; // [B, 3H]
  hn: Float64Array; // [B, H]
}

/**
 * GRU (PyTorch form): r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·(h_n + b_hn)), h' = (1 − z)·n + z·h.
 * `inputGates` = W_ih x + b_ih (+ b_hh for r, z), `hiddenGates` = W_hh h without bias.
 */
export function gruCell(h: Float64Array /* [B, H] */, out: OutputRows | null, inputGates: ArrayLike<number> /* [B, 3H] */,
                        hiddenGates: ArrayLike<number> /* [B, 3H] */, hiddenBiasN: ArrayLike<number> /* [H] */,
                        lengths: ArrayLike<number> | null, t: number, batch: number, hidden: number, saved: GruSaved | null = null): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) { zeroRow(out, b, hidden); continue; }
    const at = (index: number, j: number) => (b * 3 + index) * hidden + j;
    for (let j = 0; j < hidden; j++) {
      const r = sigmoid(inputGates[at(0, j)] + hiddenGates[at(0, j)]);
      const z = sigmoid(inputGates[at(1, j)] + hiddenGates[at(1, j)]);
      const hn = hiddenGates[at(2, j)] + hiddenBiasN[j];
      const n = tanh(inputGates[at(2, j)] + r * hn);
      h[b * hidden + j] = (1 - z) * n + z * h[b * hidden + j];
      if (saved) {
        [saved.gates[at(0, j)], saved.gates[at(1, j)], saved.gates[at(2, j)]] = [r, z, n];
        saved.hn[b * hidden + j] = hn;
      }
    }
    writeRow(out, b, h.subarray(b * hidden, (b + 1) * hidden));
  }
}

/** Copies each active row of `src` into the state `h` and `out`; ended rows write 0 to `out`. */
export function commitRows(h: Float64Array /* [B, W] */, out: OutputRows | null, src: ArrayLike<number> /* [B, W] */,
                           lengths: ArrayLike<number> | null, t: number, batch: number, width: number): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) { zeroRow(out, b, width); continue; }
    for (let j = 0; j < width; j++) h[b * width + j] = src[b * width + j];
    writeRow(out, b, h.subarray(b * width, (b + 1) * width));
  }
}

// ---- Backward ----

/** σ'(pre) from s = σ(pre). */
const sigmoidSlope = (s: number): number => s * (1 - s);
/** tanh'(pre) from y = tanh(pre). */
const tanhSlope = (y: number): number => 1 - y * y;

/** Vanilla RNN: dGates = dh ⊙ act'(pre), from the saved activation h' (tanh: 1 − h'²; relu: 1 where h' > 0, else 0). */
export function rnnCellBackward(dGates: Float64Array /* [B, H] */, dh: ArrayLike<number> /* [B, H] */, activated: ArrayLike<number> /* [B, H] */,
                                lengths: ArrayLike<number> | null, t: number, batch: number, hidden: number, relu: boolean): void {
  for (let b = 0; b < batch; b++) {
    const active = rowActive(lengths, b, t);
    for (let j = b * hidden; j < (b + 1) * hidden; j++) {
      const slope = relu ? (activated[j] > 0 ? 1 : 0) : tanhSlope(activated[j]);
      dGates[j] = active ? dh[j] * slope : 0;
    }
  }
}

/**
 * LSTM, from the saved gates i f g o, c_{t−1} and c_t. With dc_t = dc + dh ⊙ o ⊙ tanh'(c_t): dGates =
 * [dc_t ⊙ g ⊙ σ'(i), dc_t ⊙ c_{t−1} ⊙ σ'(f), dc_t ⊙ i ⊙ tanh'(g), dh ⊙ tanh(c_t) ⊙ σ'(o)], then dc ← dc_t ⊙ f
 * (the gradient of c_{t−1}). Ended rows keep dc.
 */
export function lstmCellBackward(dGates: Float64Array /* [B, 4H] */, dc: Float64Array /* [B, H] in/out */, dh: ArrayLike<number> /* [B, H] */,
                                 gates: ArrayLike<number> /* [B, 4H] */, cPrev: ArrayLike<number> /* [B, H] */, cNew: ArrayLike<number> /* [B, H] */,
                                 lengths: ArrayLike<number> | null, t: number, batch: number, hidden: number): void {
  for (let b = 0; b < batch; b++) {
    const active = rowActive(lengths, b, t);
    const at = (index: number, j: number) => (b * 4 + index) * hidden + j;
    for (let j = 0; j < hidden; j++) {
      const row = b * hidden + j;
      const [i, f, g, o] = [gates[at(0, j)], gates[at(1, j)], gates[at(2, j)], gates[at(3, j)]];
      const tc = tanh(cNew[row]);
      const dcTotal = dc[row] + dh[row] * o * tanhSlope(tc);
      const gradients = [
        dcTotal * g * sigmoidSlope(i), dcTotal * cPrev[row] * sigmoidSlope(f), dcTotal * i * tanhSlope(g), dh[row] * tc * sigmoidSlope(o),
      ];
      gradients.forEach((value, index) => { dGates[at(index, j)] = active ? value : 0; });
      if (active) dc[row] = dcTotal * f;
    }
  }
}

/**
 * GRU, from the saved r z n, hn = W_hn h + b_hn and h_{t−1} (h' = (1 − z)·n + z·h): dn = dh ⊙ (1 − z) ⊙ tanh'(n),
 * dz = dh ⊙ (h − n) ⊙ σ'(z), dr = dn ⊙ hn ⊙ σ'(r). dInputGates = [dr, dz, dn], dHiddenGates = [dr, dz, dn ⊙ r],
 * dhPrev = dh ⊙ z (the part of dh_{t−1} that does not go through W_hh). Ended rows: all three zero.
 */
export function gruCellBackward(dInputGates: Float64Array /* [B, 3H] */, dHiddenGates: Float64Array /* [B, 3H] */, dhPrev: Float64Array /* [B, H] */,
                                dh: ArrayLike<number> /* [B, H] */, gates: ArrayLike<number> /* [B, 3H] */, savedHn: ArrayLike<number> /* [B, H] */,
                                hPrev: ArrayLike<number> /* [B, H] */, lengths: ArrayLike<number> | null, t: number, batch: number, hidden: number): void {
  for (let b = 0; b < batch; b++) {
    const active = rowActive(lengths, b, t);
    const at = (index: number, j: number) => (b * 3 + index) * hidden + j;
    for (let j = 0; j < hidden; j++) {
      const row = b * hidden + j;
      const [r, z, n] = [gates[at(0, j)], gates[at(1, j)], gates[at(2, j)]];
      const dn = dh[row] * (1 - z) * tanhSlope(n);
      const dz = dh[row] * (hPrev[row] - n) * sigmoidSlope(z);
      const dr = dn * savedHn[row] * sigmoidSlope(r);
      [dInputGates[at(0, j)], dInputGates[at(1, j)], dInputGates[at(2, j)]] = active ? [dr, dz, dn] : [0, 0, 0];
      [dHiddenGates[at(0, j)], dHiddenGates[at(1, j)], dHiddenGates[at(2, j)]] = active ? [dr, dz, dn * r] : [0, 0, 0];
      dhPrev[row] = active ? dh[row] * z : 0;
    }
  }
}

/** Rows whose sequence has ended at step t get src's row in dst (the state gradient passes through); active rows are left alone. */
export function passEndedRows(dst: Float64Array /* [B, W] */, src: ArrayLike<number> /* [B, W] */, lengths: ArrayLike<number> | null,
                              t: number, batch: number, width: number): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) for (let j = b * width; j < (b + 1) * width; j++) dst[j] = src[j];
  }
}

/** dh[b] += the output gradient's row b (`outStride` floats apart) for the rows active at step t. */
export function addActiveRows(dh: Float64Array /* [B, W] */, dOut: ArrayLike<number> /* [B, outStride] */, lengths: ArrayLike<number> | null,
                              t: number, batch: number, width: number, outStride: number): void {
  for (let b = 0; b < batch; b++) {
    if (rowActive(lengths, b, t)) for (let j = 0; j < width; j++) dh[b * width + j] += dOut[b * outStride + j];
  }
}
