// RNN, LSTM and GRU: PyTorch's options, parameter names, layouts and semantics over the Wasm core.
// One base class; the cell kind (gate count G) and its variant are the only differences it needs to know.
// (Over 500 lines: forward, backward, streaming plans and packing share the module's private layout, so they
// stay in one class; its options and Stream live in recurrent-options.ts and stream.ts.)

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { MAX_DIMENSION, booleanOption, checkKeys, choiceOption, describe, expectShape, optionsObject, positiveInteger, sequenceLengths, strictOptions } from '../options.js';
import { Job, RnnLayerSlot, RnnPlan, VariantFlag } from '../../assembly/abi.js';
import { CELL_CODE, activationOption, cellVariant, planBytes, type CellKind, type CellVariant } from './recurrent-plan.js';
import {
  BACKWARD_KEYS, FORWARD_KEYS, OPTION_KEYS, STREAM_KEYS, checkedOptions, mergeDirections, recurrentConfig, splitDirections, timeMajorMask, unmergeGradient,
  type BackwardGradients, type BackwardResult, type ForwardOptions, type ForwardResult, type GRUOptions, type LSTMOptions, type MergeMode,
  type RecurrentOptions, type RNNOptions, type StreamOptions,
} from './recurrent-options.js';
import type { LayerContext, StackLayer } from './module.js';
import { ParameterizedModule, type ParameterSlot } from './parameters.js';
import { random } from '../random.js';
import { Layout, allocBytes, checkedBytes, heapF32, heapI32, kernels, packedFloats, padToPanels, readF32, reserveArena, runJob, writeF32 } from '../runtime.js';
import { Stream } from './stream.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
import { inferenceOnly, packInt8, sliceRows } from './int8-weights.js';

export { Stream } from './stream.js';
export type {
  BackwardGradients, BackwardResult, ForwardOptions, ForwardResult, GRUOptions, LSTMOptions, MergeMode, RecurrentOptions, RNNOptions, StreamOptions,
} from './recurrent-options.js';

interface LayerDirection {
  inputSize: number;
  /** The parameters' name suffix: `_l0`, `_l0_reverse`, … */
  suffix: string;
  /** The weight matrices (absent in a quantized class: int8, in int8Weights). */
  weightIH?: ParameterSlot;
  weightHH?: ParameterSlot;
  biasIH?: ParameterSlot;
  biasHH?: ParameterSlot;
  weightHR?: ParameterSlot;
  peephole?: ParameterSlot;
  /** The weights as the kernels read them: packed f32 (packWeight) or, in a quantized class, packInt8Weight blobs. */
  packedIH: number;
  packedHH: number;
  packedHR: number;
  /** GRU reset-before: weight_hh's n rows, packed apart (packedHH then holds the r, z rows). */
  packedHN: number;
  biasX: number;
  biasHN: number;
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
  /** The dropout factors the forward applied between layers. */
  dropout?: Float32Array;
  /** mergeMode 'mul': the two directions' outputs [rows, P] each, for the product rule. */
  directions?: [Float32Array, Float32Array];
}

/**
 * Base of RNN, LSTM and GRU (like torch.nn.RNNBase). Owns one Wasm block (the plan, PyTorch-layout parameters and
 * packed copies) and, once training starts, a gradient block mirroring the parameters and a tape for backward().
 * Shapes: T steps, B batch, I input, H hidden, P = projSize or H, L layers, D = 2 if bidirectional else 1.
 */
/**
 * Whether a forward (or backward) gains from threads: they split the batch rows (a block of 3–4 rows each at
 * least) or, forward, take one direction each; and the call must outweigh waking the pool (tens of µs).
 * `weightsPerStep` counts the multiply-adds of one step of one batch row (all layers). Batch 1 stays on one
 * thread (W1, W5). The backward splits batch rows only: call it with D = 1 and the directions in weightsPerStep.
 */
function forwardWorthThreads(T: number, B: number, D: number, weightsPerStep: number): boolean {
  return (B >= 6 || D === 2) && T * B * D * weightsPerStep >= 1 << 20;
}

/**
 * Whether a batch-1 inference forward gains from threads splitting the hidden units of every step (the core's
 * recurrenceOverUnits: unidirectional, no projection, peepholes, mask or GRU reset-before). Each step then costs
 * one barrier and the exchange of h between cores, a fixed cost that follows the host's cross-core latency, which on
 * this machine's 2 vCPUs (AMD EPYC) changes from minute to minute: a SharedArrayBuffer ping-pong between two threads
 * takes ~200 ns or ~850 ns. bench/threads.mjs --batch1 (min of 40 runs, T = 100, I = 64, relaxed, Node 22), 1 → 2
 * threads: at ~850 ns ~1.3 µs a step more than half the work, so G·H·H = 2^16 breaks even (RNN H 256 4.1 → 3.9 µs,
 * 1.03–1.07×; LSTM H 128 5.0 → 5.0, 0.96–1.0×; GRU H 128 1.0–1.04×), 2^15.2 loses (RNN H 192, LSTM H 96: 0.84–0.91×)
 * and 2^16.7 up gains (LSTM/GRU H 192 1.31–1.38×, H 256 1.44–1.55×); at ~200 ns 2^16 gains ~1.6× (RNN H 256 1.64×,
 * LSTM H 128 1.58×). A gated cell carries more of that fixed cost at equal G·H·H (G column ranges a step, each
 * with partial panels at both cuts): through a 2^16 gate W5 (RNN H 256) measured 1.10–1.14× at ~850 ns but W1
 * (LSTM H 128) 0.88–1.01×. So the vanilla RNN splits from 2^16 and the gated cells (G ≥ 3) from 2^17: never
 * slower than one thread at ~850 ns, ~1.6× for W5 at ~200 ns (bench/NOTES.md, Batch 1 on 2 threads).
 * `gates` is G; T ≥ 8 steps cover waking the pool.
 */
function batchOneWorthThreads(T: number, gates: number, hidden: number): boolean {
  return T >= 8 && gates * hidden * hidden >= (gates === 1 ? 1 << 16 : 1 << 17);
}

export abstract class RecurrentModule extends ParameterizedModule implements StackLayer {
  /** Features per input step (I). */
  readonly inputSize: number;
  /** Features of the hidden state (H). */
  readonly hiddenSize: number;
  /** Stacked layers (L). */
  readonly numLayers: number;
  /** Whether the module has bias_ih / bias_hh. */
  readonly bias: boolean;
  /** Input and output are [B, T, ·] rather than [T, B, ·] (states stay [L·D, B, ·]). */
  readonly batchFirst: boolean;
  /** Whether a reverse direction runs too (D = 2). */
  readonly bidirectional: boolean;
  /** Width of h: projSize if set, else hiddenSize. */
  readonly outputSize: number;
  /** How the last layer of a bidirectional module merges its directions ('concat' unless set). */
  readonly mergeMode: MergeMode;
  /** Dropout probability between layers in training forwards (PyTorch's `dropout`). */
  readonly dropout: number;
  /** The cell's activations, clip and flags (PyTorch's cell unless options say otherwise). */
  protected readonly variant: CellVariant;

  protected readonly cell: CellKind;
  private readonly gates: number;
  private readonly entries: LayerDirection[] = [];
  private readonly plan: number;
  private readonly streams = new Set<Stream>();
  /** The tape of the last training forward, for backward(); grown to the largest so far. */
  private readonly tape = this.growingBlock();
  private pending: PendingBackward | null = null;

  protected constructor(cell: CellKind, options: RecurrentOptions, projSize: number, variant: CellVariant) {
    const config = recurrentConfig(new.target.name, cell, options, projSize, variant);
    super(config.specs);
    this.cell = cell;
    this.variant = variant;
    ({ inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers, bias: this.bias,
      batchFirst: this.batchFirst, bidirectional: this.bidirectional, mergeMode: this.mergeMode, dropout: this.dropout, gates: this.gates,
      outputSize: this.outputSize } = config);
    const H = this.hiddenSize, P = this.outputSize, G = this.gates;
    const shapes = config.entries;
    // The second block: the plan, then per (layer, direction) the packed weights and folded biases. A quantized
    // class (weight matrices in int8, nn/quantized.ts) packs them as int8 blobs for gemmInt8 and has no f32 copy.
    const int8 = this.int8Names.length > 0;
    const weightBytes = (rows: number, columns: number) => (int8 ? kernels().quantizedWeightBytes(rows, columns) : packedFloats(rows, columns) * 4);
    const layout = new Layout();
    const planOffset = layout.take(planBytes(this.numLayers * this.directions));
    const offsets = shapes.map(({ inputSize }) => [
      layout.take(weightBytes(G * H, inputSize)),
      // GRU reset-before: the r, z rows (the n rows are W_HN); an int8 blob holds just those, the f32 block keeps its
      // historical room for all G·H (test/helpers/memory-exhaustion.mjs's half-built GRU is sized on it).
      layout.take(weightBytes(int8 && this.resetBefore ? 2 * H : G * H, P)),
      projSize > 0 ? layout.take(weightBytes(P, H)) : -1,
      layout.take(padToPanels(G * H) * 4),
      layout.take(padToPanels(H) * 4),
      this.resetBefore ? layout.take(weightBytes(H, P)) : -1,
    ]);
    const block = this.allocOwned(layout.size);
    heapF32().fill(0, block >>> 2, (block + layout.size) >>> 2);
    this.plan = block + planOffset;
    const optional = (name: string) => (this.store.has(name) ? this.store.get(name) : undefined);
    shapes.forEach(({ inputSize, suffix }, index) => {
      const [ih, hh, hr, bx, bhn, hn] = offsets[index];
      this.entries.push({
        inputSize, suffix,
        weightIH: optional(`weight_ih${suffix}`), weightHH: optional(`weight_hh${suffix}`),
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
    if (this.dropout > 0) options.dropout = this.dropout;
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

  /** Whether the weight matrices are int8 (a quantized class, nn/quantized.ts): forward only, through gemmInt8. */
  private get int8(): boolean {
    return this.int8Names.length > 0;
  }

  /** Packs the weights of one (layer, direction) for the kernels: f32 from the parameters. */
  private packF32(entry: LayerDirection): void {
    const { packWeight } = kernels();
    const H = this.hiddenSize, G = this.gates, P = this.outputSize;
    packWeight(entry.packedIH, entry.weightIH!.ptr, G * H, entry.inputSize);
    if (this.resetBefore) {
      packWeight(entry.packedHH, entry.weightHH!.ptr, 2 * H, P);
      packWeight(entry.packedHN, entry.weightHH!.ptr + 2 * H * P * 4, H, P);
    } else {
      packWeight(entry.packedHH, entry.weightHH!.ptr, G * H, P);
    }
    if (entry.weightHR) packWeight(entry.packedHR, entry.weightHR.ptr, P, H);
  }

  /** Packs the weights of one (layer, direction) for the kernels: int8 blobs from int8Weights (a quantized class). */
  private packInt8(entry: LayerDirection): void {
    const weight = (name: string) => this.int8Weights!.get(`${name}${entry.suffix}`)!;
    const H = this.hiddenSize;
    packInt8(entry.packedIH, weight('weight_ih'));
    if (this.resetBefore) {
      packInt8(entry.packedHH, sliceRows(weight('weight_hh'), 0, 2 * H));
      packInt8(entry.packedHN, sliceRows(weight('weight_hh'), 2 * H, H));
    } else {
      packInt8(entry.packedHH, weight('weight_hh'));
    }
    if (entry.packedHR) packInt8(entry.packedHR, weight('weight_hr'));
  }

  /** Re-derives the packed weights and folded biases from the PyTorch-layout parameters (or the int8 weights). */
  private repack(): void {
    const H = this.hiddenSize, G = this.gates;
    for (const entry of this.entries) {
      if (!this.int8) this.packF32(entry);
      else if (this.int8Weights) this.packInt8(entry);
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
   * Runs the whole sequence (all layers, both directions) in one Wasm call, like calling a torch.nn.LSTM / GRU / RNN.
   * input: [T, B, I] ([B, T, I] with batchFirst), or unbatched [T, I]; returns output [T, B, D·P] (batch-first
   * [B, T, D·P]), h [L·D, B, P] and, for LSTM, c [L·D, B, H].
   * Throws ShapeError for an input of another rank or width, or a wrongly shaped h0 / c0; ArgumentError for a bad
   * or unknown option (see ForwardOptions); DisposedError after dispose(); OutOfMemoryError if Wasm memory cannot
   * hold the call.
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
    if (opts.lengths !== undefined && unbatched) throw new ArgumentError(`${name}.forward: lengths needs batched input [T, B, I]`);
    const lengths = opts.lengths === undefined ? undefined : sequenceLengths(opts.lengths, B, T, `${name}.forward`, 'one per batch element');
    if (opts.mask !== undefined && lengths) throw new ArgumentError(`${name}.forward: give lengths or mask, not both`);
    const mask = opts.mask === undefined ? undefined : timeMajorMask(opts.mask, B, T, unbatched, name);
    const train = opts.train ?? false;
    if (typeof train !== 'boolean') throw new ArgumentError(`${name}.forward: train must be a boolean, got ${String(train)}`);
    if (train) this.checkTrainable(name);
    this.checkInt8Loaded(`${name}.forward`);

    const lstm = this.cell === 'lstm';
    const layout = new Layout();
    const xAt = layout.take(T * B * I * 4);
    const yAt = layout.take(T * B * D * P * 4);
    const hAt = layout.take(L * D * B * P * 4);
    const cAt = lstm ? layout.take(L * D * B * H * 4) : -1;
    const lengthsAt = lengths ? layout.take(B * 4) : -1;
    const maskAt = mask ? layout.take(T * B * 4) : -1;
    const dropout = train ? this.dropoutFactors(T * B * D * P) : undefined;
    const dropoutAt = dropout ? layout.take(dropout.length * 4) : -1;
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
    if (dropout) writeF32(base + dropoutAt, dropout);
    const plan = heapI32(), p = this.plan >>> 2;
    plan[p + RnnPlan.MASK] = mask ? base + maskAt : 0;
    plan[p + RnnPlan.DROPOUT] = dropout ? base + dropoutAt : 0;
    plan[p + RnnPlan.X] = base + xAt;
    plan[p + RnnPlan.Y] = base + yAt;
    plan[p + RnnPlan.H0] = h0 ? base + hAt : 0;
    plan[p + RnnPlan.HN] = base + hAt;
    plan[p + RnnPlan.C0] = c0 ? base + cAt : 0;
    plan[p + RnnPlan.CN] = lstm ? base + cAt : 0;
    plan[p + RnnPlan.LENGTHS] = lengths ? base + lengthsAt : 0;
    plan[p + RnnPlan.SCRATCH] = base + scratchAt;
    plan[p + RnnPlan.TAPE] = tape;
    // Int8 plans run on one thread: their quantized-activation scratch in the plan's scratch is one (assembly/sequence.ts).
    if (this.int8) kernels().rnnForward(this.plan);
    else {
      const unitsSplit = B === 1 && D === 1 && !train && !mask && P === H && !this.resetBefore && !(this.variant.flags & VariantFlag.PEEPHOLES);
      const worthThreads = unitsSplit ? batchOneWorthThreads(T, this.gates, H) : forwardWorthThreads(T, B, D, L * this.gates * H * (I + P));
      runJob(Job.RNN_FORWARD, this.plan, worthThreads, () => kernels().rnnForward(this.plan));
    }

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
      this.pending = { T, B, inputShape: x.shape, outputShape: result.output.shape, unbatched, lengths, mask, dropout,
        directions: this.mergeMode === 'mul' ? directions : undefined };
    }
    return result;
  }

  /**
   * The dropout factors of one training forward: [L − 1, T, B, D·P] time-major, each 0 (probability p) or
   * 1/(1 − p), from the seeded generator; undefined without dropout or with one layer.
   */
  private dropoutFactors(perLayer: number): Float32Array | undefined {
    if (this.dropout === 0 || this.numLayers === 1) return undefined;
    const keep = 1 / (1 - this.dropout);
    return Float32Array.from({ length: (this.numLayers - 1) * perLayer }, () => (random() < this.dropout ? 0 : keep));
  }

  /** Throws unless backward() supports this module's variant (clip, peepholes and inputForget are inference only). */
  private checkTrainable(name: string): void {
    const inferenceOnly = [
      this.int8 && 'int8 weights (quantizeDynamic)',
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
    return this.tape.reserve(kernels().rnnTapeBytes(this.plan));
  }

  /**
   * Backpropagates through the last `forward(x, { train: true })`: takes the loss gradients with respect
   * to its output, h and c, adds every parameter's gradient into grads() (accumulating like PyTorch until
   * zeroGrad()), and returns the gradients with respect to the input, h0 and c0. One backward per
   * training forward; changing the parameters in between invalidates it. Like PyTorch's `loss.backward()` with
   * the gradients of output, h_n and c_n given explicitly. Throws ArgumentError without a pending training forward
   * (or `c` on a non-LSTM), ShapeError for a gradient whose shape differs from what forward returned.
   */
  backward(gradients?: BackwardGradients): BackwardResult {
    this.checkAlive();
    const name = this.constructor.name;
    if (this.int8) throw inferenceOnly(name, 'backward');
    gradients = strictOptions(gradients, BACKWARD_KEYS, `${name}.backward`);
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
    const dropoutAt = pending.dropout ? layout.take(pending.dropout.length * 4) : -1;
    this.writeHeader(this.plan, T, B);
    const scratchAt = layout.take(kernels().rnnBackwardScratchBytes(this.plan));
    const base = reserveArena(layout.size);
    if (dOutput) writeF32(base + dyAt, dOutput.data);
    if (dH) writeF32(base + dhnAt, dH.data);
    if (dC) writeF32(base + dcnAt, dC.data);
    if (pending.lengths) heapI32().set(pending.lengths, (base + lengthsAt) >>> 2);
    if (pending.mask) heapI32().set(pending.mask, (base + maskAt) >>> 2);
    if (pending.dropout) writeF32(base + dropoutAt, pending.dropout);
    const plan = heapI32(), p = this.plan >>> 2;
    plan[p + RnnPlan.MASK] = pending.mask ? base + maskAt : 0;
    plan[p + RnnPlan.DROPOUT] = pending.dropout ? base + dropoutAt : 0;
    plan[p + RnnPlan.DY] = dOutput ? base + dyAt : 0;
    plan[p + RnnPlan.DHN] = dH ? base + dhnAt : 0;
    plan[p + RnnPlan.DCN] = dC ? base + dcnAt : 0;
    plan[p + RnnPlan.DX] = base + dxAt;
    plan[p + RnnPlan.DH0] = base + dh0At;
    plan[p + RnnPlan.DC0] = base + dc0At;
    plan[p + RnnPlan.LENGTHS] = pending.lengths ? base + lengthsAt : 0;
    plan[p + RnnPlan.SCRATCH] = base + scratchAt;
    plan[p + RnnPlan.TAPE] = this.tape.ptr;
    const worthThreads = forwardWorthThreads(T, B, 1, L * D * this.gates * H * (I + P));
    runJob(Job.RNN_BACKWARD, this.plan, worthThreads, () => kernels().rnnBackward(this.plan));
    this.pending = null;

    const result: BackwardResult = {
      input: new Tensor(readF32(base + dxAt, T * B * I), pending.inputShape),
      h0: new Tensor(readF32(base + dh0At, L * D * B * P), stateShape(P)),
    };
    if (lstm) result.c0 = new Tensor(readF32(base + dc0At, L * D * B * H), stateShape(H));
    return result;
  }

  /**
   * @internal The StackLayer contract (batch-first x [B, T, I]): runs from the context's initial state for this
   * layer, appends the final state, and tells LastStep the directions of the output.
   */
  forwardLayer(x: Tensor, context: LayerContext): Tensor {
    const start = context.initialState?.[context.finalState.length];
    const { output, h, c } = this.forward(x, { train: context.train, lengths: context.lengths, h0: start?.h, c0: start?.c });
    context.finalState.push(c ? { h, c } : { h });
    context.directions = this.bidirectional ? 2 : 1;
    return output;
  }

  /** @internal dLoss/d(output) of the last training forwardLayer → dLoss/d(input). */
  backwardLayer(grad: Tensor): Tensor {
    return this.backward({ output: grad }).input;
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
    view[p + RnnPlan.VARIANT_FLAGS] = variant.flags | (this.int8 ? VariantFlag.INT8 : 0);
  }

  /**
   * A step-by-step runner with carried state: `step(x [B, I])` returns the last layer's h [B, P] and
   * equals `forward` over the same steps. Unidirectional modules only (a bidirectional one throws ArgumentError);
   * a wrongly shaped h0 / c0 throws ShapeError. The stream uses the module's current weights and is disposed with it.
   */
  stream(opts?: StreamOptions): Stream {
    this.checkAlive();
    const name = this.constructor.name;
    opts = optionsObject(opts, `${name}.stream`);
    checkKeys(opts, STREAM_KEYS, `${name}.stream`);
    if (this.bidirectional) {
      throw new ArgumentError(`${name}.stream(): a bidirectional module needs the whole sequence; use forward()`);
    }
    this.checkInt8Loaded(`${name}.stream`);
    const L = this.numLayers, P = this.outputSize, H = this.hiddenSize;
    const h0 = opts.h0 === undefined ? undefined : toTensor(opts.h0, `${name}.stream: h0`);
    const batch = positiveInteger(opts.batch ?? (h0 && h0.shape.length === 3 ? h0.shape[1] : 1), 'stream batch', undefined, MAX_DIMENSION);
    checkedBytes(4 * L * batch * Math.max(H, P) * (this.cell === 'lstm' ? 2 : 1)); // the state, before any array of it
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
      view[at + RnnLayerSlot.RAW_W_IH] = entry.weightIH?.ptr ?? 0;
      view[at + RnnLayerSlot.RAW_W_HH] = entry.weightHH?.ptr ?? 0;
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

/**
 * Elman RNN, like torch.nn.RNN (Keras SimpleRNN, tf.layers.simpleRNN): h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
 * Parameters: weight_ih_l{k}[_reverse] [H, in_k], weight_hh_l{k} [H, H], bias_ih_l{k}, bias_hh_l{k} [H].
 * @example const rnn = new RNN({ inputSize: 8, hiddenSize: 16 }); const { output, h } = rnn.forward(x);
 */
export class RNN extends RecurrentModule {
  /** torch.nn.RNN's `nonlinearity`: 'relu' when the cell's activation is relu, else 'tanh'. */
  readonly nonlinearity: 'tanh' | 'relu';
  /**
   * Allocates the parameters in Wasm memory, initialized like PyTorch's from the seeded generator (call `init()` first).
   * Throws ArgumentError for a missing, invalid or unknown option (with did-you-mean), or both nonlinearity and activation.
   */
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
 * LSTM, like torch.nn.LSTM (Keras LSTM, tf.layers.lstm): i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh) (rows in that order, 4H);
 * c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'), then h' = W_hr h' when projSize > 0.
 * Parameters: weight_ih_l{k} [4H, in_k], weight_hh_l{k} [4H, P], biases [4H], weight_hr_l{k} [P, H].
 * @example const lstm = new LSTM({ inputSize: 64, hiddenSize: 128 }); const { output, h, c } = lstm.forward(x);
 */
export class LSTM extends RecurrentModule {
  /** Width P of the projected h (torch.nn.LSTM's `proj_size`); 0 without projection. */
  readonly projSize: number;
  /**
   * Allocates the parameters in Wasm memory, initialized like PyTorch's from the seeded generator (call `init()` first).
   * Throws ArgumentError for a missing, invalid or unknown option (with did-you-mean), or projSize ≥ hiddenSize.
   */
  constructor(options: LSTMOptions) {
    options = checkedOptions(options, 'LSTM', OPTION_KEYS.LSTM);
    const projSize = options.projSize === undefined ? 0 : options.projSize;
    if (!Number.isInteger(projSize) || projSize < 0) {
      throw new ArgumentError(`LSTM: projSize must be a non-negative integer, got ${describe(projSize)}`);
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
 * GRU, like torch.nn.GRU (Keras GRU, tf.layers.gru; PyTorch form): r, z = σ(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}),
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h. Rows r, z, n (3H).
 * With resetAfter: false, n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn) (Keras reset_after=False).
 * @example const gru = new GRU({ inputSize: 32, hiddenSize: 64, bidirectional: true });
 */
export class GRU extends RecurrentModule {
  /** true: PyTorch's GRU, reset applied after W_hn h (Keras reset_after=True); false: Cho et al.'s form. */
  readonly resetAfter: boolean;
  /**
   * Allocates the parameters in Wasm memory, initialized like PyTorch's from the seeded generator (call `init()` first).
   * Throws ArgumentError for a missing, invalid or unknown option (with did-you-mean).
   */
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
