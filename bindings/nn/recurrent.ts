// RNN, LSTM and GRU: PyTorch's options, parameter names, layouts and semantics over the Wasm core.
// One base class; the cell kind (gate count G) is the only difference it needs to know.

import { ArgumentError, DisposedError, ShapeError, formatShape } from '../errors.js';
import { booleanOption, checkKeys, choiceOption, describe, expectShape, optionsObject, positiveInteger } from '../options.js';
import { RnnLayerSlot, RnnPlan, VariantFlag } from '../../assembly/abi.js';
import { CELL_CODE, activationOption, cellVariant, planBytes, type Activation, type CellKind, type CellVariant } from './recurrent-plan.js';
import { ParameterizedModule, type ParameterSlot, type ParameterSpec } from './parameters.js';
import {
  Layout, allocBytes, freeBytes, heapF32, heapI32, kernels, leakGuard, padToPanels, readF32, reserveArena, writeF32,
} from '../runtime.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';

/** Options shared by RNN, LSTM and GRU (PyTorch names and defaults). */
export interface RecurrentOptions {
  /** Features per input step (I). */
  inputSize: number;
  /** Features of the hidden state (H). */
  hiddenSize: number;
  /** Stacked layers (L), default 1. */
  numLayers?: number;
  /** Use bias_ih / bias_hh, default true. */
  bias?: boolean;
  /** Input and output as [B, T, ·] instead of [T, B, ·], default false. h0/h/c keep [L·D, B, ·]. */
  batchFirst?: boolean;
  /** Run a reverse direction too (D = 2) and concatenate [forward, reverse], default false. */
  bidirectional?: boolean;
  /**
   * How a bidirectional module's last layer gives its two directions (Keras' merge_mode; inner layers
   * always concatenate): 'concat' (default) [.., 2P], 'sum', 'mul', 'ave' [.., P], or 'none': `output` stays
   * concatenated and `outputs` holds [forward, reverse].
   */
  mergeMode?: MergeMode;
  /** The cell's main activation: RNN h (as nonlinearity), LSTM g (and c's, unless outputActivation), GRU n. Default 'tanh'. */
  activation?: Activation;
  /** LSTM i, f, o and GRU r, z (Keras' recurrent_activation, TF.js defaults to 'hard_sigmoid'). Default 'sigmoid'. */
  recurrentActivation?: Activation;
  /** Clamp every gate pre-activation to ±clip (ONNX `clip`; LSTM: c too, before its activation). Inference only. */
  clip?: number;
}

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | 'none';

export interface RNNOptions extends Omit<RecurrentOptions, 'recurrentActivation'> {
  /** 'tanh' (default) or 'relu'; `activation` takes any Activation. Give one of the two. */
  nonlinearity?: 'tanh' | 'relu';
}

export interface LSTMOptions extends RecurrentOptions {
  /** Project h to this size with weight_hr (P); 0 (default) means no projection. */
  projSize?: number;
  /** ONNX's third activation h, applied to c before o ⊙ ·; default: `activation`. */
  outputActivation?: Activation;
  /** Peephole connections (ONNX `P`): parameters weight_peephole_l{k} [3H], rows i, f, o. Inference only. */
  peepholes?: boolean;
  /** Couple the gates: f = 1 − i (ONNX `input_forget`). Inference only. */
  inputForget?: boolean;
}

export interface GRUOptions extends RecurrentOptions {
  /**
   * true (default): PyTorch's n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) (Keras reset_after=True, ONNX
   * linear_before_reset=1); false: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn) (Cho et al. 2014).
   */
  resetAfter?: boolean;
}

const RECURRENT_KEYS = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'mergeMode', 'activation', 'clip'] as const;
const OPTION_KEYS = {
  RNN: [...RECURRENT_KEYS, 'nonlinearity'],
  LSTM: [...RECURRENT_KEYS, 'recurrentActivation', 'projSize', 'outputActivation', 'peepholes', 'inputForget'],
  GRU: [...RECURRENT_KEYS, 'recurrentActivation', 'resetAfter'],
} as const;
const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave', 'none'];

export interface ForwardOptions {
  /** Save what backward() needs (like autograd recording in PyTorch); default false. */
  train?: boolean;
  /** Initial hidden state [L·D, B, P] ([L·D, P] for unbatched input); zeros when absent. */
  h0?: TensorLike;
  /** Initial cell state [L·D, B, H] (LSTM only); zeros when absent. */
  c0?: TensorLike;
  /** Valid length of each batch element (pack_padded_sequence semantics, any order, 1..T). */
  lengths?: ArrayLike<number>;
  /**
   * Keras-style mask [B, T] (unbatched: [T]), batch-major whatever batchFirst says: 0/false marks a masked
   * step, which keeps the state and outputs 0; the reverse direction runs the same mask backwards in time.
   * Not together with `lengths`.
   */
  mask?: ArrayLike<number | boolean>;
}

const FORWARD_KEYS = ['train', 'h0', 'c0', 'lengths', 'mask'] as const;
const STREAM_KEYS = ['batch', 'h0', 'c0'] as const;

export interface ForwardResult {
  /** [T, B, D·P] (or [B, T, D·P] with batchFirst; [T, D·P] for unbatched input); [.., P] with mergeMode sum, mul, ave. */
  output: Tensor;
  /** mergeMode 'none': the forward and reverse directions' outputs, each [.., P]. */
  outputs?: [Tensor, Tensor];
  /** Final hidden state of every layer and direction: [L·D, B, P]. */
  h: Tensor;
  /** Final cell state (LSTM only): [L·D, B, H]. */
  c?: Tensor;
}

/** Gradients of the loss with respect to forward()'s results; absent ones are zero. */
export interface BackwardGradients {
  output?: TensorLike;
  h?: TensorLike;
  c?: TensorLike;
}

/** Gradients with respect to forward()'s inputs (h0 and c0 are returned even when forward had zeros). */
export interface BackwardResult {
  input: Tensor;
  h0: Tensor;
  c0?: Tensor;
}

export interface StreamOptions {
  /** Batch size B of each step; default 1, or taken from h0. */
  batch?: number;
  /** Initial hidden state [L, B, P]; zeros when absent. */
  h0?: TensorLike;
  /** Initial cell state [L, B, H] (LSTM only). */
  c0?: TensorLike;
}

interface LayerDirection {
  inputSize: number;
  weightIH: ParameterSlot;
  weightHH: ParameterSlot;
  biasIH?: ParameterSlot;
  biasHH?: ParameterSlot;
  weightHR?: ParameterSlot;
  peephole?: ParameterSlot;
  packedIH: number;
  packedHH: number;
  packedHR: number;
  /** GRU reset-before: weight_hh's n rows, packed apart (packedHH then holds the r, z rows). */
  packedHN: number;
  biasX: number;
  biasHN: number;
}

/** Validated options, the parameter specs in PyTorch's state_dict order, and each (layer, direction)'s input. */
function recurrentConfig(name: string, cell: CellKind, options: RecurrentOptions, projSize: number, variant: CellVariant) {
  const inputSize = positiveInteger(options.inputSize, 'inputSize', name);
  const hiddenSize = positiveInteger(options.hiddenSize, 'hiddenSize', name);
  const numLayers = positiveInteger(options.numLayers ?? 1, 'numLayers', name);
  const bias = booleanOption(options.bias, 'bias', true, name);
  const batchFirst = booleanOption(options.batchFirst, 'batchFirst', false, name);
  const bidirectional = booleanOption(options.bidirectional, 'bidirectional', false, name);
  const mergeMode = choiceOption(options.mergeMode, 'mergeMode', MERGE_MODES, 'concat', name);
  if (mergeMode !== 'concat' && !bidirectional) throw new ArgumentError(`${name}: mergeMode applies to bidirectional modules, got mergeMode '${mergeMode}' with bidirectional false`);
  const gates = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const outputSize = projSize > 0 ? projSize : hiddenSize;
  const H = hiddenSize, P = outputSize, G = gates, D = bidirectional ? 2 : 1;
  const specs: ParameterSpec[] = [];
  const entries: Array<{ inputSize: number; suffix: string }> = [];
  for (let layer = 0; layer < numLayers; layer++) {
    for (let direction = 0; direction < D; direction++) {
      const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
      const layerInput = layer === 0 ? inputSize : D * P;
      entries.push({ inputSize: layerInput, suffix });
      specs.push({ name: `weight_ih${suffix}`, shape: [G * H, layerInput] }, { name: `weight_hh${suffix}`, shape: [G * H, P] });
      if (bias) specs.push({ name: `bias_ih${suffix}`, shape: [G * H] }, { name: `bias_hh${suffix}`, shape: [G * H] });
      if (projSize > 0) specs.push({ name: `weight_hr${suffix}`, shape: [P, H] });
      if (variant.flags & VariantFlag.PEEPHOLES) specs.push({ name: `weight_peephole${suffix}`, shape: [3 * H] });
    }
  }
  return { inputSize, hiddenSize, numLayers, bias, batchFirst, bidirectional, mergeMode, gates, outputSize, specs, entries };
}

/** What a training forward leaves for backward(). */
interface PendingBackward {
  T: number;
  B: number;
  inputShape: readonly number[];
  outputShape: readonly number[];
  unbatched: boolean;
  lengths?: Int32Array;
  mask?: Int32Array;
  /** mergeMode 'mul': the two directions' outputs [rows, P] each, for the product rule. */
  directions?: [Float32Array, Float32Array];
}

/**
 * Base of RNN, LSTM and GRU. Owns one Wasm block (the plan, PyTorch-layout parameters and packed copies)
 * and, once training starts, a gradient block mirroring the parameters and a tape for backward().
 */
export abstract class RecurrentModule extends ParameterizedModule {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly bidirectional: boolean;
  /** Width of h: projSize if set, else hiddenSize. */
  readonly outputSize: number;
  readonly mergeMode: MergeMode;
  /** The cell's activations, clip and flags (PyTorch's cell unless options say otherwise). */
  protected readonly variant: CellVariant;

  protected readonly cell: CellKind;
  private readonly gates: number;
  private readonly entries: LayerDirection[] = [];
  private readonly plan: number;
  private readonly streams = new Set<Stream>();
  private tape = 0;
  private tapeBytes = 0;
  private pending: PendingBackward | null = null;

  protected constructor(cell: CellKind, options: RecurrentOptions, projSize: number, variant: CellVariant) {
    const config = recurrentConfig(new.target.name, cell, options, projSize, variant);
    super(config.specs);
    this.cell = cell;
    this.variant = variant;
    ({ inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers, bias: this.bias,
      batchFirst: this.batchFirst, bidirectional: this.bidirectional, mergeMode: this.mergeMode, gates: this.gates,
      outputSize: this.outputSize } = config);
    const H = this.hiddenSize, P = this.outputSize, G = this.gates;
    const shapes = config.entries;
    // The second block: the plan, then per (layer, direction) the packed weights and folded biases.
    const packedSize = kernels().packedSize;
    const layout = new Layout();
    const planOffset = layout.take(planBytes(this.numLayers * this.directions));
    const offsets = shapes.map(({ inputSize }) => [
      layout.take(packedSize(G * H, inputSize) * 4),
      layout.take(packedSize(G * H, P) * 4),
      projSize > 0 ? layout.take(packedSize(P, H) * 4) : -1,
      layout.take(padToPanels(G * H) * 4),
      layout.take(padToPanels(H) * 4),
      this.resetBefore ? layout.take(packedSize(H, P) * 4) : -1,
    ]);
    const block = this.allocOwned(layout.size);
    heapF32().fill(0, block >>> 2, (block + layout.size) >>> 2);
    this.plan = block + planOffset;
    const optional = (name: string) => (this.store.slots.some((slot) => slot.name === name) ? this.store.get(name) : undefined);
    shapes.forEach(({ inputSize, suffix }, index) => {
      const [ih, hh, hr, bx, bhn, hn] = offsets[index];
      this.entries.push({
        inputSize,
        weightIH: this.store.get(`weight_ih${suffix}`), weightHH: this.store.get(`weight_hh${suffix}`),
        biasIH: optional(`bias_ih${suffix}`), biasHH: optional(`bias_hh${suffix}`), weightHR: optional(`weight_hr${suffix}`),
        peephole: optional(`weight_peephole${suffix}`),
        packedIH: block + ih, packedHH: block + hh, packedHR: hr < 0 ? 0 : block + hr, packedHN: hn < 0 ? 0 : block + hn,
        biasX: block + bx, biasHN: block + bhn,
      });
    });
    this.writeLayerTable(this.plan);
    this.resetParameters();
  }

  /** The constructor options that rebuild this module (variant options only where they are not the defaults). */
  protected commonOptions(): RecurrentOptions {
    const options: RecurrentOptions = {
      inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers, bias: this.bias,
      batchFirst: this.batchFirst, bidirectional: this.bidirectional,
    };
    if (this.mergeMode !== 'concat') options.mergeMode = this.mergeMode;
    if (this.variant.candidate.name !== 'tanh' && this.cell !== 'rnn_relu') options.activation = activationOption(this.variant.candidate);
    if (this.variant.gate.name !== 'sigmoid' && (this.cell === 'lstm' || this.cell === 'gru')) options.recurrentActivation = activationOption(this.variant.gate);
    if (this.variant.clip > 0) options.clip = this.variant.clip;
    return options;
  }

  /** GRU in its reset-before form (resetAfter: false). */
  private get resetBefore(): boolean {
    return (this.variant.flags & VariantFlag.GRU_RESET_BEFORE) !== 0;
  }

  /** 2 if bidirectional, else 1 (D). */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** PyTorch's default initialization: every parameter ~ U(−1/√H, 1/√H), from the seeded generator. */
  resetParameters(): void {
    this.resetUniform(1 / Math.sqrt(this.hiddenSize));
  }

  /** Re-derives the packed weights and folded biases from the PyTorch-layout parameters. */
  private repack(): void {
    const { packWeight } = kernels();
    const H = this.hiddenSize, G = this.gates, P = this.outputSize;
    for (const entry of this.entries) {
      packWeight(entry.packedIH, entry.weightIH.ptr, G * H, entry.inputSize);
      if (this.resetBefore) {
        packWeight(entry.packedHH, entry.weightHH.ptr, 2 * H, P);
        packWeight(entry.packedHN, entry.weightHH.ptr + 2 * H * P * 4, H, P);
      } else {
        packWeight(entry.packedHH, entry.weightHH.ptr, G * H, P);
      }
      if (entry.weightHR) packWeight(entry.packedHR, entry.weightHR.ptr, P, H);
      const heap = heapF32();
      const biasX = entry.biasX >>> 2, biasHN = entry.biasHN >>> 2;
      heap.fill(0, biasX, biasX + G * H);
      heap.fill(0, biasHN, biasHN + H);
      if (!entry.biasIH || !entry.biasHH) continue;
      const ih = entry.biasIH.ptr >>> 2, hh = entry.biasHH.ptr >>> 2;
      // The recurrent bias of the GRU's n gate sits inside r ⊙ (W_hn h + b_hn), so it cannot be folded
      // (in the reset-before form it sits outside, and folds like the others).
      const splitBias = this.cell === 'gru' && !this.resetBefore;
      const foldedRows = splitBias ? 2 * H : G * H;
      for (let j = 0; j < G * H; j++) heap[biasX + j] = heap[ih + j] + (j < foldedRows ? heap[hh + j] : 0);
      if (splitBias) for (let j = 0; j < H; j++) heap[biasHN + j] = heap[hh + 2 * H + j];
    }
  }

  /**
   * Runs the whole sequence (all layers, both directions) in one Wasm call.
   * input: [T, B, I] ([B, T, I] with batchFirst), or unbatched [T, I].
   */
  forward(input: TensorLike, opts?: ForwardOptions): ForwardResult {
    this.checkAlive();
    const name = this.constructor.name;
    opts = optionsObject(opts, `${name}.forward`);
    checkKeys(opts, FORWARD_KEYS, `${name}.forward`);
    const x = toTensor(input, `${name}.forward: input`);
    if (x.shape.length !== 2 && x.shape.length !== 3) {
      throw new ShapeError(`${name}.forward: expected input of rank 3 ([T, B, I] or [B, T, I] with batchFirst) or 2 (unbatched [T, I]), got shape ${formatShape(x.shape)}`);
    }
    const unbatched = x.shape.length === 2;
    const T = unbatched ? x.shape[0] : this.batchFirst ? x.shape[1] : x.shape[0];
    const B = unbatched ? 1 : this.batchFirst ? x.shape[0] : x.shape[1];
    const I = this.inputSize, H = this.hiddenSize, P = this.outputSize, L = this.numLayers, D = this.directions;
    const expectedInput = unbatched ? [T, I] : this.batchFirst ? [B, T, I] : [T, B, I];
    if (x.shape[x.shape.length - 1] !== I || T < 1 || B < 1) {
      throw new ShapeError(`${name}.forward: expected input of shape ${formatShape(expectedInput.map((d, i) => (i === expectedInput.length - 1 ? I : Math.max(d, 1))))} (input size ${I}, T ≥ 1, B ≥ 1), got ${formatShape(x.shape)}`);
    }
    const stateShape = (width: number) => (unbatched ? [L * D, width] : [L * D, B, width]);
    const h0 = opts.h0 === undefined ? undefined : toTensor(opts.h0, `${name}.forward: h0`);
    if (h0) expectShape(h0, stateShape(P), 'h0');
    let c0: Tensor | undefined;
    if (opts.c0 !== undefined) {
      if (this.cell !== 'lstm') throw new ArgumentError(`${name}.forward: c0 is only for LSTM`);
      c0 = toTensor(opts.c0, `${name}.forward: c0`);
      expectShape(c0, stateShape(H), 'c0');
    }
    const lengths = opts.lengths === undefined ? undefined : checkLengths(opts.lengths, B, T, unbatched, name);
    if (opts.mask !== undefined && lengths) throw new ArgumentError(`${name}.forward: give lengths or mask, not both`);
    const mask = opts.mask === undefined ? undefined : timeMajorMask(opts.mask, B, T, unbatched, name);
    const train = opts.train ?? false;
    if (typeof train !== 'boolean') throw new ArgumentError(`${name}.forward: train must be a boolean, got ${String(train)}`);
    if (train) this.checkTrainable(name);

    const lstm = this.cell === 'lstm';
    const layout = new Layout();
    const xAt = layout.take(T * B * I * 4);
    const yAt = layout.take(T * B * D * P * 4);
    const hAt = layout.take(L * D * B * P * 4);
    const cAt = lstm ? layout.take(L * D * B * H * 4) : -1;
    const lengthsAt = lengths ? layout.take(B * 4) : -1;
    const maskAt = mask ? layout.take(T * B * 4) : -1;
    this.writeHeader(this.plan, T, B);
    const scratchAt = layout.take(kernels().rnnScratchBytes(this.plan));
    // Every allocation (may grow memory) comes before the views below.
    const tape = train ? this.reserveTape() : 0;
    const base = reserveArena(layout.size);
    writeF32(base + xAt, x.data);
    if (h0) writeF32(base + hAt, h0.data);
    if (c0) writeF32(base + cAt, c0.data);
    if (lengths) heapI32().set(lengths, (base + lengthsAt) >>> 2);
    if (mask) heapI32().set(mask, (base + maskAt) >>> 2);
    const plan = heapI32(), p = this.plan >>> 2;
    plan[p + RnnPlan.MASK] = mask ? base + maskAt : 0;
    plan[p + RnnPlan.X] = base + xAt;
    plan[p + RnnPlan.Y] = base + yAt;
    plan[p + RnnPlan.H0] = h0 ? base + hAt : 0;
    plan[p + RnnPlan.HN] = base + hAt;
    plan[p + RnnPlan.C0] = c0 ? base + cAt : 0;
    plan[p + RnnPlan.CN] = lstm ? base + cAt : 0;
    plan[p + RnnPlan.LENGTHS] = lengths ? base + lengthsAt : 0;
    plan[p + RnnPlan.SCRATCH] = base + scratchAt;
    plan[p + RnnPlan.TAPE] = tape;
    kernels().rnnForward(this.plan);

    const outputShape = unbatched ? [T, D * P] : this.batchFirst ? [B, T, D * P] : [T, B, D * P];
    const output = readF32(base + yAt, T * B * D * P);
    const result: ForwardResult = {
      output: new Tensor(output, outputShape),
      h: new Tensor(readF32(base + hAt, L * D * B * P), stateShape(P)),
    };
    if (lstm) result.c = new Tensor(readF32(base + cAt, L * D * B * H), stateShape(H));
    let directions: [Float32Array, Float32Array] | undefined;
    if (this.mergeMode !== 'concat') {
      directions = splitDirections(output, P);
      const directionShape = [...outputShape.slice(0, -1), P];
      if (this.mergeMode === 'none') result.outputs = [new Tensor(directions[0], directionShape), new Tensor(directions[1], directionShape)];
      else result.output = new Tensor(mergeDirections(directions, this.mergeMode), directionShape);
    }
    if (train) {
      this.pending = { T, B, inputShape: x.shape, outputShape: result.output.shape, unbatched, lengths, mask,
        directions: this.mergeMode === 'mul' ? directions : undefined };
    }
    return result;
  }

  /** Throws unless backward() supports this module's variant (clip, peepholes and inputForget are inference only). */
  private checkTrainable(name: string): void {
    const inferenceOnly = [
      this.variant.clip > 0 && 'clip',
      (this.variant.flags & VariantFlag.PEEPHOLES) && 'peepholes',
      (this.variant.flags & VariantFlag.INPUT_FORGET) && 'inputForget',
    ].filter(Boolean);
    if (inferenceOnly.length > 0) {
      throw new ArgumentError(`${name}.forward: train: true is not supported with ${inferenceOnly.join(', ')} (inference only)`);
    }
  }

  /** Grows the module's tape to what the plan in this.plan needs; returns its pointer. */
  private reserveTape(): number {
    this.ensureGradients();
    const bytes = kernels().rnnTapeBytes(this.plan);
    if (bytes > this.tapeBytes) {
      this.freeOwned(this.tape);
      this.tape = this.allocOwned(bytes);
      this.tapeBytes = bytes;
    }
    return this.tape;
  }

  /**
   * Backpropagates through the last `forward(x, { train: true })`: takes the loss gradients with respect
   * to its output, h and c, adds every parameter's gradient into grads() (accumulating like PyTorch until
   * zeroGrad()), and returns the gradients with respect to the input, h0 and c0. One backward per
   * training forward; changing the parameters in between invalidates it.
   */
  backward(gradients: BackwardGradients = {}): BackwardResult {
    this.checkAlive();
    const name = this.constructor.name;
    const pending = this.pending;
    if (!pending) {
      throw new ArgumentError(`${name}.backward(): call forward(input, { train: true }) first (one backward per training forward, and none after the parameters changed)`);
    }
    const { T, B, unbatched } = pending;
    const H = this.hiddenSize, P = this.outputSize, L = this.numLayers, D = this.directions, I = this.inputSize;
    const stateShape = (width: number) => (unbatched ? [L * D, width] : [L * D, B, width]);
    const given = (value: TensorLike | undefined, shape: readonly number[], what: string): Tensor | undefined => {
      if (value === undefined) return undefined;
      const t = toTensor(value, `${name}.backward: ${what}`);
      expectShape(t, shape, `gradient of ${what}`);
      return t;
    };
    const dMerged = given(gradients.output, pending.outputShape, 'output');
    const dOutput = dMerged && this.mergeMode !== 'concat' && this.mergeMode !== 'none'
      ? new Tensor(unmergeGradient(dMerged.data, P, this.mergeMode, pending.directions), [...pending.outputShape.slice(0, -1), D * P])
      : dMerged;
    const dH = given(gradients.h, stateShape(P), 'h');
    if (gradients.c !== undefined && this.cell !== 'lstm') throw new ArgumentError(`${name}.backward: c is only for LSTM`);
    const dC = given(gradients.c, stateShape(H), 'c');
    const lstm = this.cell === 'lstm';

    const layout = new Layout();
    const dyAt = layout.take(T * B * D * P * 4);
    const dhnAt = layout.take(L * D * B * P * 4);
    const dcnAt = layout.take(L * D * B * H * 4);
    const dxAt = layout.take(T * B * I * 4);
    const dh0At = layout.take(L * D * B * P * 4);
    const dc0At = layout.take(L * D * B * H * 4);
    const lengthsAt = pending.lengths ? layout.take(B * 4) : -1;
    const maskAt = pending.mask ? layout.take(T * B * 4) : -1;
    this.writeHeader(this.plan, T, B);
    const scratchAt = layout.take(kernels().rnnBackwardScratchBytes(this.plan));
    const base = reserveArena(layout.size);
    if (dOutput) writeF32(base + dyAt, dOutput.data);
    if (dH) writeF32(base + dhnAt, dH.data);
    if (dC) writeF32(base + dcnAt, dC.data);
    if (pending.lengths) heapI32().set(pending.lengths, (base + lengthsAt) >>> 2);
    if (pending.mask) heapI32().set(pending.mask, (base + maskAt) >>> 2);
    const plan = heapI32(), p = this.plan >>> 2;
    plan[p + RnnPlan.MASK] = pending.mask ? base + maskAt : 0;
    plan[p + RnnPlan.DY] = dOutput ? base + dyAt : 0;
    plan[p + RnnPlan.DHN] = dH ? base + dhnAt : 0;
    plan[p + RnnPlan.DCN] = dC ? base + dcnAt : 0;
    plan[p + RnnPlan.DX] = base + dxAt;
    plan[p + RnnPlan.DH0] = base + dh0At;
    plan[p + RnnPlan.DC0] = base + dc0At;
    plan[p + RnnPlan.LENGTHS] = pending.lengths ? base + lengthsAt : 0;
    plan[p + RnnPlan.SCRATCH] = base + scratchAt;
    plan[p + RnnPlan.TAPE] = this.tape;
    kernels().rnnBackward(this.plan);
    this.pending = null;

    const result: BackwardResult = {
      input: new Tensor(readF32(base + dxAt, T * B * I), pending.inputShape),
      h0: new Tensor(readF32(base + dh0At, L * D * B * P), stateShape(P)),
    };
    if (lstm) result.c0 = new Tensor(readF32(base + dc0At, L * D * B * H), stateShape(H));
    return result;
  }

  /** Allocates the gradients (zeros) on first use; the layer table then points at them. */
  private ensureGradients(): void {
    if (!this.store.hasGradients) this.store.gradientPtr(this.store.slots[0]);
  }

  protected gradientsAllocated(): void {
    this.writeLayerTable(this.plan);
  }

  /** @internal Called after parameters changed in place (loading, optimizers): re-derive packed weights. */
  parametersChanged(): void {
    this.repack();
    this.pending = null;
  }

  /** Writes the size fields of a plan (pointers are filled by the caller). */
  private writeHeader(plan: number, T: number, B: number): void {
    const view = heapI32(), p = plan >>> 2;
    view[p + RnnPlan.CELL] = CELL_CODE[this.cell];
    view[p + RnnPlan.STEPS] = T;
    view[p + RnnPlan.BATCH] = B;
    view[p + RnnPlan.INPUT] = this.inputSize;
    view[p + RnnPlan.HIDDEN] = this.hiddenSize;
    view[p + RnnPlan.HOUT] = this.outputSize;
    view[p + RnnPlan.LAYERS] = this.numLayers;
    view[p + RnnPlan.DIRECTIONS] = this.directions;
    view[p + RnnPlan.BATCH_FIRST] = this.batchFirst ? 1 : 0;
    const variant = this.variant, floats = heapF32();
    view[p + RnnPlan.GATE_ACTIVATION] = variant.gate.code;
    floats[p + RnnPlan.GATE_ALPHA] = variant.gate.alpha;
    floats[p + RnnPlan.GATE_BETA] = variant.gate.beta;
    view[p + RnnPlan.CANDIDATE_ACTIVATION] = variant.candidate.code;
    floats[p + RnnPlan.CANDIDATE_ALPHA] = variant.candidate.alpha;
    floats[p + RnnPlan.CANDIDATE_BETA] = variant.candidate.beta;
    view[p + RnnPlan.OUTPUT_ACTIVATION] = variant.output.code;
    floats[p + RnnPlan.OUTPUT_ALPHA] = variant.output.alpha;
    floats[p + RnnPlan.OUTPUT_BETA] = variant.output.beta;
    floats[p + RnnPlan.CLIP] = variant.clip;
    view[p + RnnPlan.VARIANT_FLAGS] = variant.flags;
  }

  /**
   * A step-by-step runner with carried state: `step(x [B, I])` returns the last layer's h [B, P] and
   * equals `forward` over the same steps. Unidirectional modules only.
   */
  stream(opts?: StreamOptions): Stream {
    this.checkAlive();
    const name = this.constructor.name;
    opts = optionsObject(opts, `${name}.stream`);
    checkKeys(opts, STREAM_KEYS, `${name}.stream`);
    if (this.bidirectional) {
      throw new ArgumentError(`${name}.stream(): a bidirectional module needs the whole sequence; use forward()`);
    }
    const L = this.numLayers, P = this.outputSize, H = this.hiddenSize;
    const h0 = opts.h0 === undefined ? undefined : toTensor(opts.h0, `${name}.stream: h0`);
    const batch = positiveInteger(opts.batch ?? (h0 && h0.shape.length === 3 ? h0.shape[1] : 1), 'stream batch');
    if (h0) expectShape(h0, [L, batch, P], 'h0');
    let c0: Tensor | undefined;
    if (opts.c0 !== undefined) {
      if (this.cell !== 'lstm') throw new ArgumentError(`${name}.stream: c0 is only for LSTM`);
      c0 = toTensor(opts.c0, `${name}.stream: c0`);
      expectShape(c0, [L, batch, H], 'c0');
    }
    const initial = {
      h: h0?.data ?? new Float32Array(L * batch * P),
      c: this.cell === 'lstm' ? (c0?.data ?? new Float32Array(L * batch * H)) : undefined,
    };
    const stream = new Stream(this, batch, initial);
    this.streams.add(stream);
    return stream;
  }

  /** @internal Used by Stream: allocates and fills a T = 1 plan sharing this module's weights. */
  createStepPlan(batch: number): { block: number; plan: number; x: number; y: number; h: number; c: number } {
    this.checkAlive();
    const L = this.numLayers, P = this.outputSize, H = this.hiddenSize, I = this.inputSize;
    const layout = new Layout();
    const planAt = layout.take(planBytes(L));
    const xAt = layout.take(batch * I * 4);
    const yAt = layout.take(batch * P * 4);
    const hAt = layout.take(L * batch * P * 4);
    const cAt = layout.take(L * batch * H * 4);
    // The scratch size depends only on the plan header; the module's own plan is free between calls.
    this.writeHeader(this.plan, 1, batch);
    heapI32()[(this.plan >>> 2) + RnnPlan.BATCH_FIRST] = 0;
    const scratchAt = layout.take(kernels().rnnScratchBytes(this.plan));
    const block = allocBytes(layout.size);
    const plan = block + planAt;
    heapI32().fill(0, plan >>> 2, (plan + planBytes(L)) >>> 2);
    this.writeHeader(plan, 1, batch);
    const view = heapI32(), p = plan >>> 2;
    view[p + RnnPlan.BATCH_FIRST] = 0;
    view[p + RnnPlan.X] = block + xAt;
    view[p + RnnPlan.Y] = block + yAt;
    view[p + RnnPlan.H0] = block + hAt;
    view[p + RnnPlan.HN] = block + hAt;
    view[p + RnnPlan.C0] = block + cAt;
    view[p + RnnPlan.CN] = block + cAt;
    view[p + RnnPlan.SCRATCH] = block + scratchAt;
    this.writeLayerTable(plan);
    return { block, plan, x: block + xAt, y: block + yAt, h: block + hAt, c: block + cAt };
  }

  /** Points a plan's layer table at this module's packed weights, raw weights and (if any) gradients. */
  private writeLayerTable(plan: number): void {
    const gradient = (slot: ParameterSlot | undefined) => (slot && this.store.hasGradients ? this.store.gradientPtr(slot) : 0);
    const view = heapI32();
    this.entries.forEach((entry, index) => {
      const at = (plan >>> 2) + RnnPlan.LAYER_TABLE + index * RnnLayerSlot.SLOTS;
      view[at + RnnLayerSlot.W_IH] = entry.packedIH;
      view[at + RnnLayerSlot.W_HH] = entry.packedHH;
      view[at + RnnLayerSlot.W_HR] = entry.packedHR;
      view[at + RnnLayerSlot.BIAS_X] = entry.biasX;
      view[at + RnnLayerSlot.BIAS_HN] = entry.biasHN;
      view[at + RnnLayerSlot.RAW_W_IH] = entry.weightIH.ptr;
      view[at + RnnLayerSlot.RAW_W_HH] = entry.weightHH.ptr;
      view[at + RnnLayerSlot.RAW_W_HR] = entry.weightHR?.ptr ?? 0;
      view[at + RnnLayerSlot.GRAD_W_IH] = gradient(entry.weightIH);
      view[at + RnnLayerSlot.GRAD_W_HH] = gradient(entry.weightHH);
      view[at + RnnLayerSlot.GRAD_B_IH] = gradient(entry.biasIH);
      view[at + RnnLayerSlot.GRAD_B_HH] = gradient(entry.biasHH);
      view[at + RnnLayerSlot.GRAD_W_HR] = gradient(entry.weightHR);
      view[at + RnnLayerSlot.PEEPHOLE] = entry.peephole?.ptr ?? 0;
      view[at + RnnLayerSlot.W_HN] = entry.packedHN;
    });
  }

  /** @internal */
  forgetStream(stream: Stream): void {
    this.streams.delete(stream);
  }

  /** @internal */
  get cellKind(): CellKind {
    return this.cell;
  }

  /** Frees the Wasm memory of this module and of its streams. Idempotent. */
  override dispose(): void {
    for (const stream of [...this.streams]) stream.dispose();
    this.pending = null;
    super.dispose();
  }
}

function checkLengths(lengths: ArrayLike<number>, B: number, T: number, unbatched: boolean, name: string): Int32Array {
  if (unbatched) throw new ArgumentError(`${name}.forward: lengths needs batched input [T, B, I]`);
  if (lengths === null || typeof lengths !== 'object' || typeof lengths.length !== 'number') {
    throw new ArgumentError(`${name}.forward: lengths must be an array of ${B} integers, got ${lengths === null ? 'null' : typeof lengths}`);
  }
  if (lengths.length !== B) {
    throw new ShapeError(`${name}.forward: expected ${B} lengths (one per batch element), got ${lengths.length}`);
  }
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const value = lengths[b];
    if (!Number.isInteger(value) || value < 1 || value > T) {
      throw new ArgumentError(`${name}.forward: lengths[${b}] must be an integer in 1..${T}, got ${value}`);
    }
    out[b] = value;
  }
  return out;
}

/** A [B, T] (unbatched: [T]) mask, batch-major, as time-major i32 [T, B] (1 = step runs, 0 = masked). */
function timeMajorMask(mask: ArrayLike<number | boolean>, B: number, T: number, unbatched: boolean, name: string): Int32Array {
  if (mask === null || typeof mask !== 'object' || typeof mask.length !== 'number') {
    throw new ArgumentError(`${name}.forward: mask must be an array of ${B * T} booleans or 0/1 ([B, T] batch-major), got ${describe(mask)}`);
  }
  if (mask.length !== B * T) {
    throw new ShapeError(`${name}.forward: expected a mask of ${unbatched ? `[${T}]` : `[${B}, ${T}]`} = ${B * T} values, got ${mask.length}`);
  }
  const out = new Int32Array(T * B);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const value = mask[b * T + t];
      if (value !== true && value !== false && value !== 0 && value !== 1) {
        throw new ArgumentError(`${name}.forward: mask[${b * T + t}] must be a boolean or 0/1, got ${describe(value)}`);
      }
      out[t * B + b] = value ? 1 : 0;
    }
  }
  return out;
}

/** The two directions of a concatenated output [rows, 2P]: forward and reverse, [rows, P] each. */
function splitDirections(output: Float32Array, P: number): [Float32Array, Float32Array] {
  const rows = output.length / (2 * P);
  const forward = new Float32Array(rows * P), reverse = new Float32Array(rows * P);
  for (let r = 0; r < rows; r++) {
    forward.set(output.subarray(2 * r * P, (2 * r + 1) * P), r * P);
    reverse.set(output.subarray((2 * r + 1) * P, (2 * r + 2) * P), r * P);
  }
  return [forward, reverse];
}

function mergeDirections([forward, reverse]: [Float32Array, Float32Array], mode: 'sum' | 'mul' | 'ave'): Float32Array {
  const merged = new Float32Array(forward.length);
  for (let i = 0; i < merged.length; i++) {
    merged[i] = mode === 'sum' ? forward[i] + reverse[i] : mode === 'mul' ? forward[i] * reverse[i] : (forward[i] + reverse[i]) / 2;
  }
  return merged;
}

/** The gradient of the concatenated output [rows, 2P] from that of the merged one [rows, P]. */
function unmergeGradient(gradient: Float32Array, P: number, mode: 'sum' | 'mul' | 'ave', directions?: [Float32Array, Float32Array]): Float32Array {
  const out = new Float32Array(2 * gradient.length);
  const scale = mode === 'ave' ? 0.5 : 1;
  for (let i = 0; i < gradient.length; i++) {
    const row = Math.floor(i / P), at = 2 * row * P + (i - row * P);
    out[at] = mode === 'mul' ? gradient[i] * directions![1][i] : gradient[i] * scale;
    out[at + P] = mode === 'mul' ? gradient[i] * directions![0][i] : gradient[i] * scale;
  }
  return out;
}

/** Step-by-step inference with carried state (see RecurrentModule.stream). */
export class Stream {
  readonly batch: number;
  private readonly module: RecurrentModule;
  private readonly initial: { h: Float32Array; c?: Float32Array };
  private buffers: ReturnType<RecurrentModule['createStepPlan']> | null;

  /** @internal Use module.stream(). */
  constructor(module: RecurrentModule, batch: number, initial: { h: Float32Array; c?: Float32Array }) {
    this.module = module;
    this.batch = batch;
    this.initial = initial;
    this.buffers = module.createStepPlan(batch);
    leakGuard.register(this, [this.buffers.block], this);
    this.reset();
  }

  private alive(): NonNullable<Stream['buffers']> {
    if (!this.buffers) throw new DisposedError('Stream');
    this.module.checkAlive();
    return this.buffers;
  }

  /** Runs one step on x [B, I] and returns the last layer's new h [B, P]. */
  step(x: TensorLike): Tensor {
    const buffers = this.alive();
    const input = x instanceof Tensor ? x : toTensor(x, 'Stream.step: x');
    const { inputSize, outputSize } = this.module;
    if (input.shape.length !== 2 || input.shape[0] !== this.batch || input.shape[1] !== inputSize) {
      throw new ShapeError(`Stream.step: expected x of shape ${formatShape([this.batch, inputSize])}, got ${formatShape(input.shape)}`);
    }
    writeF32(buffers.x, input.data);
    kernels().rnnForward(buffers.plan);
    return new Tensor(readF32(buffers.y, this.batch * outputSize), [this.batch, outputSize]);
  }

  /** Copies of the current state: h [L, B, P] and (LSTM) c [L, B, H]. */
  state(): { h: Tensor; c?: Tensor } {
    const buffers = this.alive();
    const { numLayers: L, outputSize: P, hiddenSize: H } = this.module;
    const state: { h: Tensor; c?: Tensor } = { h: new Tensor(readF32(buffers.h, L * this.batch * P), [L, this.batch, P]) };
    if (this.initial.c) state.c = new Tensor(readF32(buffers.c, L * this.batch * H), [L, this.batch, H]);
    return state;
  }

  /** Restores the initial state given to stream() (zeros by default). */
  reset(): void {
    const buffers = this.alive();
    writeF32(buffers.h, this.initial.h);
    if (this.initial.c) writeF32(buffers.c, this.initial.c);
  }

  dispose(): void {
    if (!this.buffers) return;
    leakGuard.unregister(this);
    freeBytes(this.buffers.block);
    this.buffers = null;
    this.module.forgetStream(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Elman RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
 * Parameters: weight_ih_l{k}[_reverse] [H, in_k], weight_hh_l{k} [H, H], bias_ih_l{k}, bias_hh_l{k} [H].
 * @example const rnn = new RNN({ inputSize: 8, hiddenSize: 16 }); const { output, h } = rnn.forward(x);
 */
export class RNN extends RecurrentModule {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(options: RNNOptions) {
    options = checkedOptions(options, 'RNN', OPTION_KEYS.RNN);
    const nonlinearity = choiceOption(options.nonlinearity, 'nonlinearity', ['tanh', 'relu'] as const, 'tanh', 'RNN');
    if (options.nonlinearity !== undefined && options.activation !== undefined) {
      throw new ArgumentError(`RNN: give nonlinearity or activation, not both (got nonlinearity '${nonlinearity}' and activation ${describe(options.activation)})`);
    }
    const variant = cellVariant('RNN', { ...options, activation: options.activation ?? nonlinearity });
    // relu runs the relu cell itself: the variant then stays PyTorch's (standard) cell.
    const relu = variant.candidate.name === 'relu';
    super(relu ? 'rnn_relu' : 'rnn_tanh', options, 0, relu ? cellVariant('RNN', {}) : variant);
    this.nonlinearity = relu ? 'relu' : 'tanh';
  }

  /** The constructor options that rebuild this module. */
  options(): RNNOptions {
    const { activation, ...options } = this.commonOptions();
    return activation === undefined ? { ...options, nonlinearity: this.nonlinearity } : { ...options, activation };
  }
}

/**
 * LSTM: i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh) (rows in that order, 4H);
 * c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'), then h' = W_hr h' when projSize > 0.
 * Parameters: weight_ih_l{k} [4H, in_k], weight_hh_l{k} [4H, P], biases [4H], weight_hr_l{k} [P, H].
 * @example const lstm = new LSTM({ inputSize: 64, hiddenSize: 128 }); const { output, h, c } = lstm.forward(x);
 */
export class LSTM extends RecurrentModule {
  readonly projSize: number;
  constructor(options: LSTMOptions) {
    options = checkedOptions(options, 'LSTM', OPTION_KEYS.LSTM);
    const projSize = options.projSize ?? 0;
    if (!Number.isInteger(projSize) || projSize < 0) {
      throw new ArgumentError(`LSTM: projSize must be a non-negative integer, got ${String(projSize)}`);
    }
    if (projSize > 0 && projSize >= options.hiddenSize) {
      throw new ArgumentError(`LSTM: projSize must be smaller than hiddenSize (${options.hiddenSize}), got ${projSize}`);
    }
    super('lstm', options, projSize, cellVariant('LSTM', options));
    this.projSize = projSize;
  }

  /** The constructor options that rebuild this module. */
  options(): LSTMOptions {
    const options: LSTMOptions = { ...this.commonOptions(), projSize: this.projSize };
    if (this.variant.output !== this.variant.candidate) options.outputActivation = activationOption(this.variant.output);
    if (this.variant.flags & VariantFlag.PEEPHOLES) options.peepholes = true;
    if (this.variant.flags & VariantFlag.INPUT_FORGET) options.inputForget = true;
    return options;
  }
}

/**
 * GRU (PyTorch form): r, z = σ(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}),
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h. Rows r, z, n (3H).
 * With resetAfter: false, n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn) (Keras reset_after=False).
 * @example const gru = new GRU({ inputSize: 32, hiddenSize: 64, bidirectional: true });
 */
export class GRU extends RecurrentModule {
  readonly resetAfter: boolean;
  constructor(options: GRUOptions) {
    options = checkedOptions(options, 'GRU', OPTION_KEYS.GRU);
    super('gru', options, 0, cellVariant('GRU', options));
    this.resetAfter = booleanOption(options.resetAfter, 'resetAfter', true, 'GRU');
  }

  /** The constructor options that rebuild this module. */
  options(): GRUOptions {
    return this.resetAfter ? this.commonOptions() : { ...this.commonOptions(), resetAfter: false };
  }
}

/** The options object of a recurrent constructor, with every key known (PyTorch's spellings are pointed to ours). */
function checkedOptions<T extends object>(options: T, name: string, keys: readonly string[]): T {
  if (options === undefined) throw new ArgumentError(`${name}: expected an options object with inputSize and hiddenSize, got undefined`);
  const checked = optionsObject(options, name);
  checkKeys(checked, keys, name);
  return checked;
}
