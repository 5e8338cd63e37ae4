// The i32 "plan" that describes one whole-sequence run (forward or backward) to the Wasm core; mirrors assembly/sequence.ts.

export const PLAN = {
  CELL: 0,
  STEPS: 1,
  BATCH: 2,
  INPUT: 3,
  HIDDEN: 4,
  HOUT: 5,
  LAYERS: 6,
  DIRECTIONS: 7,
  BATCH_FIRST: 8,
  X: 9,
  Y: 10,
  H0: 11,
  C0: 12,
  HN: 13,
  CN: 14,
  LENGTHS: 15,
  SCRATCH: 16,
  TAPE: 17,
  DY: 18,
  DHN: 19,
  DCN: 20,
  DX: 21,
  DH0: 22,
  DC0: 23,
  LAYER_TABLE: 24,
} as const;

/** Slots of one (layer, direction) entry of the layer table. */
export const LAYER_ENTRY = {
  W_IH: 0, W_HH: 1, W_HR: 2, BIAS_X: 3, BIAS_HN: 4,
  RAW_W_IH: 5, RAW_W_HH: 6, RAW_W_HR: 7,
  GRAD_W_IH: 8, GRAD_W_HH: 9, GRAD_B_IH: 10, GRAD_B_HH: 11, GRAD_W_HR: 12,
  SLOTS: 16,
} as const;

export const CELL_CODE = { rnn_tanh: 0, rnn_relu: 1, lstm: 2, gru: 3 } as const;
export type CellKind = keyof typeof CELL_CODE;

/** Bytes of a plan for `entries` (layer, direction) pairs. */
export function planBytes(entries: number): number {
  return (PLAN.LAYER_TABLE + entries * LAYER_ENTRY.SLOTS) * 4;
}
