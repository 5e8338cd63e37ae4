// Recurrent plans from the bindings' side: the cell codes and a plan's size. The slot layout itself is
// assembly/abi.ts, shared with the kernels.

import { Cell, RnnLayerSlot, RnnPlan } from '../../assembly/abi.js';

export const CELL_CODE = { rnn_tanh: Cell.RNN_TANH, rnn_relu: Cell.RNN_RELU, lstm: Cell.LSTM, gru: Cell.GRU } as const;
export type CellKind = keyof typeof CELL_CODE;

/** Bytes of a plan for `entries` (layer, direction) pairs. */
export function planBytes(entries: number): number {
  return (RnnPlan.LAYER_TABLE + entries * RnnLayerSlot.SLOTS) * 4;
}
