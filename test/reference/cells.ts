// scalar reference, used only by tests: one time step of the fused cells of assembly/cells.ts in float64,
// with the same arguments (arrays instead of pointers) and the same masking.
//
// Shapes: B batch, H hidden, W row width (commitRows). Gate rows: LSTM 4H in order i f g o, GRU 3H in
// order r z n. Rows whose sequence has ended (t ≥ lengths[b]) keep their state and write 0 to `out`.

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

/** Vanilla RNN: h' = act(gates), act = tanh or relu. */
export function rnnCell(h: Float64Array /* [B, H] */, out: OutputRows | null, gates: ArrayLike<number> /* [B, H] */,
                        lengths: ArrayLike<number> | null, t: number, batch: number, hidden: number, relu: boolean): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) { zeroRow(out, b, hidden); continue; }
    for (let j = 0; j < hidden; j++) {
      const pre = gates[b * hidden + j];
      h[b * hidden + j] = relu ? Math.max(pre, 0) : tanh(pre);
    }
    writeRow(out, b, h.subarray(b * hidden, (b + 1) * hidden));
  }
}

/** LSTM: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'). */
export function lstmCell(h: Float64Array /* [B, H] */, c: Float64Array /* [B, H] */, out: OutputRows | null,
                         gates: ArrayLike<number> /* [B, 4H] */, lengths: ArrayLike<number> | null,
                         t: number, batch: number, hidden: number): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) { zeroRow(out, b, hidden); continue; }
    const gate = (index: number, j: number) => gates[(b * 4 + index) * hidden + j];
    for (let j = 0; j < hidden; j++) {
      const cNew = sigmoid(gate(1, j)) * c[b * hidden + j] + sigmoid(gate(0, j)) * tanh(gate(2, j));
      c[b * hidden + j] = cNew;
      h[b * hidden + j] = sigmoid(gate(3, j)) * tanh(cNew);
    }
    writeRow(out, b, h.subarray(b * hidden, (b + 1) * hidden));
  }
}

/**
 * GRU (PyTorch form): r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·(h_n + b_hn)), h' = (1 − z)·n + z·h.
 * `inputGates` = W_ih x + b_ih (+ b_hh for r, z), `hiddenGates` = W_hh h without bias.
 */
export function gruCell(h: Float64Array /* [B, H] */, out: OutputRows | null, inputGates: ArrayLike<number> /* [B, 3H] */,
                        hiddenGates: ArrayLike<number> /* [B, 3H] */, hiddenBiasN: ArrayLike<number> /* [H] */,
                        lengths: ArrayLike<number> | null, t: number, batch: number, hidden: number): void {
  for (let b = 0; b < batch; b++) {
    if (!rowActive(lengths, b, t)) { zeroRow(out, b, hidden); continue; }
    const x = (index: number, j: number) => inputGates[(b * 3 + index) * hidden + j];
    const hh = (index: number, j: number) => hiddenGates[(b * 3 + index) * hidden + j];
    for (let j = 0; j < hidden; j++) {
      const r = sigmoid(x(0, j) + hh(0, j));
      const z = sigmoid(x(1, j) + hh(1, j));
      const n = tanh(x(2, j) + r * (hh(2, j) + hiddenBiasN[j]));
      h[b * hidden + j] = (1 - z) * n + z * h[b * hidden + j];
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
