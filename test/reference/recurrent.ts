// scalar reference, used only by tests: a complete forward of PyTorch's nn.RNN / nn.LSTM / nn.GRU in float64,
// one batch element and one step at a time, from a PyTorch-named state dict.
//
// Shapes: T steps, B batch, I input, H hidden, P = projSize || H (the h width), L layers, D directions,
// G gate rows per unit (RNN 1, LSTM 4 in order i f g o, GRU 3 in order r z n).
// Semantics (test/fixtures/README.md, torch): lengths follow pack_padded_sequence(enforce_sorted=False):
// steps t ≥ lengths[b] are skipped and output 0; h/c are the state after the last valid step; the reverse
// direction runs x[len−1], …, x[0]. The output keeps all T steps.
// Cell variants (config.variant): Keras' and ONNX's activations, GRU reset-before, LSTM peepholes, clip and
// input_forget (ONNX semantics: clip bounds every gate pre-activation and c before its activation), a
// Keras-style mask [B, T] (a masked step keeps the state and outputs 0; the reverse direction runs the
// mask backwards), and the merge modes of a bidirectional last layer.

import { activate, type ActivationSpec } from './cell-activations.js';

export type CellMode = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

export interface RecurrentConfig {
  mode: CellMode;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  bias: boolean;
  /** 0 = no projection (LSTM only). */
  projSize: number;
  variant?: CellVariant;
  /**
   * Int8 modules (quantizeDynamic): each vector a weight multiplies (x, h, LSTM's h before projection) replaced by
   * its per-row quantization, dequantized (reference/quantized.ts); the weights given are the dequantized ones.
   */
  quantizeVector?: (x: ArrayLike<number>) => ArrayLike<number>;
}

export interface CellVariant {
  activation?: ActivationSpec;
  recurrentActivation?: ActivationSpec;
  outputActivation?: ActivationSpec;
  resetAfter?: boolean;
  peepholes?: boolean;
  clip?: number;
  inputForget?: boolean;
  mergeMode?: 'concat' | 'sum' | 'mul' | 'ave' | 'none';
}

export interface RecurrentInputs {
  input: ArrayLike<number>; // [T, B, I], or [B, T, I] with batchFirst
  steps: number;
  batch: number;
  h0?: ArrayLike<number>; // [L·D, B, P]
  c0?: ArrayLike<number>; // [L·D, B, H]
  lengths?: ArrayLike<number>; // [B]
  mask?: ArrayLike<number | boolean>; // [B, T]
}

export interface RecurrentResult {
  output: Float64Array; // [T, B, D·P], or [B, T, D·P] with batchFirst
  h: Float64Array; // [L·D, B, P]
  c?: Float64Array; // [L·D, B, H] (LSTM)
}

/** PyTorch state_dict names (weight_ih_l0, bias_hh_l1_reverse, weight_hr_l0, …) to row-major values. */
export type StateDict = Record<string, { data: ArrayLike<number> }>;

const GATE_ROWS: Record<CellMode, number> = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 };

/** The parameters of one (layer, direction); absent biases and projection are null. */
interface CellParameters {
  weightIH: ArrayLike<number>; // [G·H, in]
  weightHH: ArrayLike<number>; // [G·H, P]
  biasIH: ArrayLike<number> | null; // [G·H]
  biasHH: ArrayLike<number> | null; // [G·H]
  weightHR: ArrayLike<number> | null; // [P, H]
  peephole: ArrayLike<number> | null; // [3H] rows i, f, o
}

function cellParameters(config: RecurrentConfig, params: StateDict, layer: number, direction: number): CellParameters {
  const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
  const get = (name: string) => {
    const value = params[name + suffix];
    if (!value) throw new Error(`reference: missing parameter ${name + suffix}`);
    return value.data;
  };
  return {
    weightIH: get('weight_ih'),
    weightHH: get('weight_hh'),
    biasIH: config.bias ? get('bias_ih') : null,
    biasHH: config.bias ? get('bias_hh') : null,
    weightHR: config.projSize > 0 ? get('weight_hr') : null,
    peephole: config.variant?.peepholes ? get('weight_peephole') : null,
  };
}

/** W[rows, columns] · x (+ bias). */
function affine(weight: ArrayLike<number>, bias: ArrayLike<number> | null, x: ArrayLike<number>, rows: number, columns: number): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = bias ? bias[r] : 0;
    for (let k = 0; k < columns; k++) sum += weight[r * columns + k] * x[k];
    y[r] = sum;
  }
  return y;
}

/** One step of one batch element: returns the new h [P] and c [H] (c is unused outside LSTM). */
function cellStep(mode: CellMode, p: CellParameters, x: ArrayLike<number>, h: Float64Array, c: Float64Array,
                  inputSize: number, H: number, P: number, variant: CellVariant,
                  quantize: (x: ArrayLike<number>) => ArrayLike<number> = (v) => v): { h: Float64Array; c: Float64Array } {
  const G = GATE_ROWS[mode];
  const fromInput = affine(p.weightIH, p.biasIH, quantize(x), G * H, inputSize);
  const fromHidden = affine(p.weightHH, p.biasHH, quantize(h), G * H, P);
  const clip = (value: number) => (variant.clip ? Math.min(Math.max(value, -variant.clip), variant.clip) : value);
  const candidate = variant.activation ?? (mode === 'rnn_relu' ? 'relu' : 'tanh');
  const act = (value: number) => activate(candidate, clip(value));
  const gateAct = (value: number) => activate(variant.recurrentActivation ?? 'sigmoid', clip(value));
  const outputAct = (value: number) => activate(variant.outputActivation ?? candidate, value); // c is not clipped (as onnxruntime)
  const hNew = new Float64Array(H);
  const cNew = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const gate = (index: number) => fromInput[index * H + j] + fromHidden[index * H + j];
    if (mode === 'rnn_tanh' || mode === 'rnn_relu') hNew[j] = act(gate(0));
    else if (mode === 'lstm') {
      const peephole = (row: number, cell: number) => (p.peephole ? p.peephole[row * H + j] * cell : 0);
      const i = gateAct(gate(0) + peephole(0, c[j]));
      const f = variant.inputForget ? 1 - i : gateAct(gate(1) + peephole(1, c[j]));
      cNew[j] = f * c[j] + i * act(gate(2));
      hNew[j] = gateAct(gate(3) + peephole(2, cNew[j])) * outputAct(cNew[j]);
    } else {
      const r = gateAct(gate(0));
      const z = gateAct(gate(1));
      let n: number;
      if (variant.resetAfter === false) {
        // W_hn (r ⊙ h) + b_hn: the n rows of weight_hh applied to r ⊙ h, which needs every r_k first.
        let product = p.biasHH ? p.biasHH[2 * H + j] : 0;
        for (let k = 0; k < P; k++) product += p.weightHH[(2 * H + j) * P + k] * gateAct(gate0At(k)) * h[k];
        n = act(fromInput[2 * H + j] + product);
      } else {
        n = act(fromInput[2 * H + j] + r * fromHidden[2 * H + j]);
      }
      hNew[j] = (1 - z) * n + z * h[j];
    }
  }
  function gate0At(k: number): number {
    return fromInput[k] + fromHidden[k];
  }
  return { h: p.weightHR ? affine(p.weightHR, null, quantize(hNew), P, H) : hNew, c: cNew };
}

/** `count` values of `values` from `start`. */
function range(values: ArrayLike<number>, start: number, count: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => values[start + i]);
}

/** dst [b, a, width] = src [a, b, width] (also the reference of the swapLeadingAxes kernel, assembly/sequence.ts). */
export function swapLeadingAxes(src: ArrayLike<number>, a: number, b: number, width: number): Float64Array {
  const dst = new Float64Array(a * b * width);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let k = 0; k < width; k++) dst[(j * a + i) * width + k] = src[(i * b + j) * width + k];
    }
  }
  return dst;
}

export function recurrentForward(config: RecurrentConfig, params: StateDict, inputs: RecurrentInputs): RecurrentResult {
  const { mode, inputSize: I, hiddenSize: H, numLayers: L } = config;
  const T = inputs.steps, B = inputs.batch, D = config.bidirectional ? 2 : 1;
  const P = config.projSize > 0 ? config.projSize : H;
  const hN = new Float64Array(L * D * B * P);
  const cN = new Float64Array(L * D * B * H);
  const variant = config.variant ?? {};
  const masked = (b: number, t: number) => inputs.mask !== undefined && !inputs.mask[b * T + t];
  let layerInput = config.batchFirst ? swapLeadingAxes(inputs.input, B, T, I) : Float64Array.from(inputs.input);
  for (let layer = 0; layer < L; layer++) {
    const inputSize = layer === 0 ? I : D * P;
    const layerOutput = new Float64Array(T * B * D * P);
    for (let direction = 0; direction < D; direction++) {
      const entry = layer * D + direction;
      const p = cellParameters(config, params, layer, direction);
      for (let b = 0; b < B; b++) {
        const length = inputs.lengths ? inputs.lengths[b] : T;
        const stateAt = (entry * B + b) * P, cellAt = (entry * B + b) * H;
        let h = inputs.h0 ? range(inputs.h0, stateAt, P) : new Float64Array(P);
        let c = inputs.c0 ? range(inputs.c0, cellAt, H) : new Float64Array(H);
        for (let step = 0; step < length; step++) {
          const t = direction === 0 ? step : length - 1 - step;
          const x = layerInput.subarray((t * B + b) * inputSize, (t * B + b + 1) * inputSize);
          if (masked(b, t)) continue;
          ({ h, c } = cellStep(mode, p, x, h, c, inputSize, H, P, variant, config.quantizeVector));
          layerOutput.set(h, (t * B + b) * D * P + direction * P);
        }
        hN.set(h, stateAt);
        cN.set(c, cellAt);
      }
    }
    layerInput = layerOutput;
  }
  const concatenated = config.batchFirst ? swapLeadingAxes(layerInput, T, B, D * P) : layerInput;
  const output = D === 2 ? mergeDirections(concatenated, P, variant.mergeMode ?? 'concat') : concatenated;
  return mode === 'lstm' ? { output, h: hN, c: cN } : { output, h: hN };
}

/** A bidirectional output [rows, 2P] merged as Keras' merge_mode ('concat' and 'none' keep it as it is). */
function mergeDirections(output: Float64Array, P: number, mode: NonNullable<CellVariant['mergeMode']>): Float64Array {
  if (mode === 'concat' || mode === 'none') return output;
  const rows = output.length / (2 * P);
  const merged = new Float64Array(rows * P);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < P; j++) {
      const forward = output[2 * r * P + j], reverse = output[(2 * r + 1) * P + j];
      merged[r * P + j] = mode === 'sum' ? forward + reverse : mode === 'mul' ? forward * reverse : (forward + reverse) / 2;
    }
  }
  return merged;
}
