// RNN, LSTM and GRU nodes on looptree modules: attributes → module options, W/R/B/P → PyTorch-named parameters (gate
// blocks i,o,f,c → i,f,g,o for LSTM, z,r,h → r,z,n for GRU, B = [Wb, Rb] → bias_ih, bias_hh, peepholes i,o,f → i,f,o),
// one module forward per node, and the results written in ONNX's layouts.
// Shapes (layout 0 / layout 1): X [T, N, I] / [N, T, I]; Y [T, D, N, H] / [N, T, D, H]; initial_h, Y_h [D, N, H] / [N, D, H].
// Direction "reverse" runs a forward module on each sequence reversed within its length, then reverses the output back.

import { ArgumentError, GRU, LSTM, RNN, ShapeError, StateDictError, Tensor, type RecurrentModule } from '../../index.js';
import { OnnxError } from './errors.js';
import { required, type Inputs, type NodeContext } from './node.js';
import { formatShape, integers, type Value } from './tensors.js';

type RecurrentOp = 'RNN' | 'LSTM' | 'GRU';
type Direction = 'forward' | 'reverse' | 'bidirectional';

const MODULES = { RNN, LSTM, GRU };
const GATES = { RNN: 1, LSTM: 4, GRU: 3 };
/** PyTorch's gate blocks, in its order, as ONNX block indices. */
const TORCH_GATES = { RNN: [0], LSTM: [0, 2, 3, 1], GRU: [1, 0, 2] };
/** PyTorch's peephole order i, f, o as ONNX block indices (ONNX: i, o, f). */
const TORCH_PEEPHOLES = [0, 2, 1];
const DEFAULT_ACTIVATIONS = { RNN: ['Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'] };
const MAX_INPUTS = { RNN: 6, LSTM: 8, GRU: 6 };

/** An activation as the module options take it. */
type Activation = 'tanh' | 'sigmoid' | 'relu' | { name: string; alpha?: number; beta?: number };

/** ONNX activation names (case-insensitive, as onnxruntime) → looptree's, with the defaults of the ONNX operators. */
const ACTIVATIONS: Record<string, { name: string; alpha?: number; beta?: number }> = {
  relu: { name: 'relu' }, tanh: { name: 'tanh' }, sigmoid: { name: 'sigmoid' }, affine: { name: 'affine', alpha: 1, beta: 0 },
  leakyrelu: { name: 'leaky_relu', alpha: 0.01 }, thresholdedrelu: { name: 'thresholded_relu', alpha: 1 },
  scaledtanh: { name: 'scaled_tanh', alpha: 1, beta: 1 }, hardsigmoid: { name: 'hard_sigmoid', alpha: 0.2, beta: 0.5 },
  elu: { name: 'elu', alpha: 1 }, softsign: { name: 'softsign' }, softplus: { name: 'softplus' },
};

/** activation_alpha / activation_beta are consumed in order by the functions that take them (onnxruntime's rule). */
function resolveActivations(names: string[], alphas: number[], betas: number[]): Activation[] {
  let nextAlpha = 0, nextBeta = 0;
  return names.map((name) => {
    const known = ACTIVATIONS[name.toLowerCase()];
    if (!known) throw new OnnxError(`activation '${name}' is not one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus`);
    const resolved = { ...known };
    if (resolved.alpha !== undefined && nextAlpha < alphas.length) resolved.alpha = alphas[nextAlpha++];
    if (resolved.beta !== undefined && nextBeta < betas.length) resolved.beta = betas[nextBeta++];
    return resolved.name === 'tanh' || resolved.name === 'sigmoid' || resolved.name === 'relu' ? resolved.name : resolved;
  });
}

const sameActivation = (a: Activation, b: Activation) => JSON.stringify(a) === JSON.stringify(b);

/** The module options (beyond sizes) for one direction's activations and the node's settings; defaults are left out. */
function variantOptions(op: RecurrentOp, activations: Activation[], node: RecurrentNode): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  const [f, g, h] = activations;
  if (op === 'RNN') {
    if (f === 'relu') options.nonlinearity = 'relu';
    else if (f !== 'tanh') options.activation = f;
  } else {
    if (f !== 'sigmoid') options.recurrentActivation = f;
    if (g !== 'tanh') options.activation = g;
    if (op === 'LSTM' && !sameActivation(h, g)) options.outputActivation = h;
  }
  if (op === 'GRU' && !node.linearBeforeReset) options.resetAfter = false;
  if (node.clip !== undefined) options.clip = node.clip;
  if (node.inputForget) options.inputForget = true;
  return options;
}

/** A module and the ONNX directions it runs (in its own direction order), fed reversed sequences or not. */
interface DirectionGroup {
  module: RecurrentModule;
  directions: number[];
  reversed: boolean;
}

/** Copy of `data` [rows of `width`] with each sequence reversed within its length (rows past it are zero). */
function reverseWithinLengths(data: Float32Array, T: number, N: number, width: number, lengths: Int32Array | undefined, batchFirst: boolean): Float32Array {
  const out = new Float32Array(data.length);
  const row = (t: number, n: number) => (batchFirst ? n * T + t : t * N + n) * width;
  for (let n = 0; n < N; n++) {
    const length = lengths ? lengths[n] : T;
    for (let t = 0; t < length; t++) out.set(data.subarray(row(length - 1 - t, n), row(length - 1 - t, n) + width), row(t, n));
  }
  return out;
}

export class RecurrentNode {
  readonly op: RecurrentOp;
  readonly direction: Direction;
  readonly layout: 0 | 1;
  readonly clip?: number;
  readonly inputForget: boolean;
  readonly linearBeforeReset: boolean;
  private readonly hiddenSize?: number;
  /** Activations per ONNX direction. */
  private readonly activations: Activation[][];
  /** Whether the node's Y output is used (Y_h and Y_c come with the module's result anyway). */
  private readonly wantsY: boolean;
  private groups: DirectionGroup[] = [];
  /** Weights last loaded from graph inputs (copies, to notice when a run feeds other weights); null for initializers. */
  private loaded: { data: Float32Array[]; config: string } | null = null;
  private constantWeights = false;

  constructor(node: NodeContext) {
    this.op = node.opType as RecurrentOp;
    const op = this.op;
    node.inputs(3, MAX_INPUTS[op]);
    if (node.node.outputs.length > (op === 'LSTM' ? 3 : 2)) throw new OnnxError(`expected at most ${op === 'LSTM' ? 3 : 2} outputs, got ${node.node.outputs.length}`);
    this.wantsY = (node.node.outputs[0] ?? '') !== '';
    const direction = node.string('direction', 'forward');
    if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
      throw new OnnxError(`direction must be forward, reverse or bidirectional, got '${direction}'`);
    }
    this.direction = direction;
    const layout = node.int('layout', 0);
    if (layout !== 0 && layout !== 1) throw new OnnxError(`layout must be 0 or 1, got ${layout}`);
    this.layout = layout;
    if (node.has('hidden_size')) {
      this.hiddenSize = node.int('hidden_size');
      if (this.hiddenSize < 1) throw new OnnxError(`hidden_size must be positive, got ${this.hiddenSize}`);
    }
    if (node.has('clip')) {
      this.clip = node.float('clip');
      if (!(this.clip > 0)) throw new OnnxError(`clip must be positive, got ${this.clip}`);
    }
    this.inputForget = op === 'LSTM' && node.int('input_forget', 0) !== 0;
    this.linearBeforeReset = op === 'GRU' && node.int('linear_before_reset', 0) !== 0;
    const D = direction === 'bidirectional' ? 2 : 1, count = DEFAULT_ACTIVATIONS[op].length;
    let names = node.strings('activations', []);
    if (names.length === 0) names = DEFAULT_ACTIVATIONS[op];
    if (names.length === count && D === 2) names = [...names, ...names];
    if (names.length !== count * D) throw new OnnxError(`expected ${count * D} activations, got ${names.length}`);
    const all = resolveActivations(names, node.floats('activation_alpha', []), node.floats('activation_beta', []));
    this.activations = D === 2 ? [all.slice(0, count), all.slice(count)] : [all];
    node.checkAllRead();
  }

  get directions(): number {
    return this.direction === 'bidirectional' ? 2 : 1;
  }

  /**
   * The modules running this node, with PyTorch's parameter names and gate orders: one (bidirectional for a
   * bidirectional node; for "reverse", a forward module fed each sequence reversed within its length), or forward
   * and reverse modules when a bidirectional node's directions have different activations. None before the first
   * run when the weights are graph inputs.
   */
  modules(): RecurrentModule[] {
    return this.groups.map((group) => group.module);
  }

  /** Called once at load time with W, R, B and P when they are initializers or constants: builds the modules now. */
  loadConstantWeights(inputs: Inputs): void {
    this.loadWeights(inputs);
    this.loaded = null;
    this.constantWeights = true;
  }

  /** Builds the modules, or reloads their parameters when the weights differ from the ones last loaded. */
  private loadWeights(inputs: Inputs): void {
    const W = required(inputs, 1), R = required(inputs, 2), B = inputs[3], P = this.op === 'LSTM' ? inputs[7] : undefined;
    const G = GATES[this.op], D = this.directions;
    for (const [what, value] of [['W', W], ['R', R], ['B', B], ['P', P]] as const) {
      if (value && value.dtype !== 'float32') throw new OnnxError(`${what} must be a float tensor, got ${value.dtype}`);
    }
    const H = this.hiddenSize ?? (R.shape.length === 3 ? R.shape[2] : 0);
    const I = W.shape.length === 3 ? W.shape[2] : 0;
    const expect = (what: string, value: Value | undefined, shape: number[]) => {
      if (value && (value.shape.length !== shape.length || value.shape.some((dim, i) => dim !== shape[i]))) {
        throw new OnnxError(`${what} must have shape ${formatShape(shape)} (${D} direction${D > 1 ? 's' : ''}, hidden_size ${H}), got ${formatShape(value.shape)}`);
      }
    };
    if (H < 1 || I < 1) throw new OnnxError(`W and R must be [${D}, ${G}·hidden_size, input_size] and [${D}, ${G}·hidden_size, hidden_size], got ${formatShape(W.shape)} and ${formatShape(R.shape)}`);
    expect('W', W, [D, G * H, I]);
    expect('R', R, [D, G * H, H]);
    expect('B', B, [D, 2 * G * H]);
    expect('P', P, [D, 3 * H]);
    const weights = [W, R, B, P].filter((value): value is Value => value !== undefined).map((value) => value.data as Float32Array);
    const config = JSON.stringify([I, H, !!B, !!P]);
    const loaded = this.loaded;
    if (loaded && loaded.config === config && weights.every((data, i) => sameValues(data, loaded.data[i]))) return;
    this.loaded = null;
    try {
      if (!loaded || loaded.config !== config) this.createModules(I, H, !!B, !!P);
      for (const group of this.groups) group.module.loadStateDict(this.stateDict(group, W, R, B, P, H));
    } catch (error) {
      if (error instanceof StateDictError || error instanceof ArgumentError || error instanceof ShapeError) throw new OnnxError(error.message);
      throw error;
    }
    this.loaded = { data: weights.map((data) => data.slice()), config };
  }

  private createModules(inputSize: number, hiddenSize: number, bias: boolean, peepholes: boolean): void {
    this.disposeModules();
    const [forward, reverse] = this.activations;
    const make = (activations: Activation[], bidirectional: boolean) => new MODULES[this.op]({
      inputSize, hiddenSize, bias, bidirectional, batchFirst: this.layout === 1,
      ...variantOptions(this.op, activations, this), ...(peepholes ? { peepholes: true } : {}),
    } as ConstructorParameters<typeof LSTM>[0]);
    if (this.direction !== 'bidirectional') this.groups = [{ module: make(forward, false), directions: [0], reversed: this.direction === 'reverse' }];
    else if (forward.every((activation, i) => sameActivation(activation, reverse[i]))) {
      this.groups = [{ module: make(forward, true), directions: [0, 1], reversed: false }];
    } else {
      this.groups = [{ module: make(forward, false), directions: [0], reversed: false }];
      this.groups.push({ module: make(reverse, false), directions: [1], reversed: true });
    }
  }

  /** PyTorch-named parameters of one module from the ONNX weights of its directions. */
  private stateDict(group: DirectionGroup, W: Value, R: Value, B: Value | undefined, P: Value | undefined, H: number): Record<string, Tensor> {
    const G = GATES[this.op], gates = TORCH_GATES[this.op], I = W.shape[2];
    const blocks = (source: Value, offset: number, order: number[], size: number) => {
      const out = new Float32Array(order.length * size);
      order.forEach((block, k) => out.set(source.data.subarray(offset + block * size, offset + (block + 1) * size), k * size));
      return out;
    };
    const dict: Record<string, Tensor> = {};
    group.directions.forEach((d, k) => {
      const suffix = k === 1 ? '_l0_reverse' : '_l0';
      dict[`weight_ih${suffix}`] = new Tensor(blocks(W, d * G * H * I, gates, H * I), [G * H, I]);
      dict[`weight_hh${suffix}`] = new Tensor(blocks(R, d * G * H * H, gates, H * H), [G * H, H]);
      if (B) {
        dict[`bias_ih${suffix}`] = new Tensor(blocks(B, d * 2 * G * H, gates, H), [G * H]);
        dict[`bias_hh${suffix}`] = new Tensor(blocks(B, (d * 2 + 1) * G * H, gates, H), [G * H]);
      }
      if (P) dict[`weight_peephole${suffix}`] = new Tensor(blocks(P, d * 3 * H, TORCH_PEEPHOLES, H), [3 * H]);
    });
    return dict;
  }

  /** Runs the node: [Y, Y_h, (Y_c)]. */
  run(inputs: Inputs): Array<Value | undefined> {
    if (!this.constantWeights) this.loadWeights(inputs);
    const X = required(inputs, 0);
    const { inputSize: I, hiddenSize: H } = this.groups[0].module;
    if (X.dtype !== 'float32' || X.shape.length !== 3 || X.shape[2] !== I || X.shape[0] < 1 || X.shape[1] < 1) {
      throw new OnnxError(`X must be a float tensor ${this.layout ? '[batch, seq_length' : '[seq_length, batch'}, ${I}] with non-zero sizes, got ${X.dtype} ${formatShape(X.shape)}`);
    }
    const batchFirst = this.layout === 1, D = this.directions;
    const [T, N] = batchFirst ? [X.shape[1], X.shape[0]] : [X.shape[0], X.shape[1]];
    const lengths = this.lengths(inputs[4], T, N);
    const stateShape = batchFirst ? [N, D, H] : [D, N, H];
    const stateAt = (d: number, n: number) => (batchFirst ? n * D + d : d * N + n) * H;
    const initialH = this.state(inputs[5], 'initial_h', stateShape);
    const initialC = this.op === 'LSTM' ? this.state(inputs[6], 'initial_c', stateShape) : undefined;
    const Y = this.wantsY ? new Float32Array(T * D * N * H) : undefined;
    const Yh = new Float32Array(D * N * H);
    const Yc = this.op === 'LSTM' ? new Float32Array(D * N * H) : undefined;
    for (const { module, directions, reversed } of this.groups) {
      const K = directions.length;
      // Initial states of this module's directions, as its [K, N, H].
      const initial = (state: Value | undefined) => {
        if (!state) return undefined;
        const out = new Float32Array(K * N * H);
        directions.forEach((d, k) => {
          for (let n = 0; n < N; n++) out.set(state.data.subarray(stateAt(d, n), stateAt(d, n) + H), (k * N + n) * H);
        });
        return new Tensor(out, [K, N, H]);
      };
      const x = reversed ? reverseWithinLengths(X.data as Float32Array, T, N, I, lengths, batchFirst) : X.data as Float32Array;
      const result = module.forward(new Tensor(x, X.shape), { h0: initial(initialH), c0: initial(initialC), lengths });
      const output = reversed ? reverseWithinLengths(result.output.data, T, N, K * H, lengths, batchFirst) : result.output.data;
      directions.forEach((d, k) => {
        for (let n = 0; n < N; n++) {
          const from = (k * N + n) * H;
          Yh.set(result.h.data.subarray(from, from + H), stateAt(d, n));
          Yc?.set(result.c!.data.subarray(from, from + H), stateAt(d, n));
          if (!Y) continue;
          for (let t = 0; t < T; t++) {
            const source = ((batchFirst ? n * T + t : t * N + n) * K + k) * H;
            Y.set(output.subarray(source, source + H), (batchFirst ? ((n * T + t) * D + d) : ((t * D + d) * N + n)) * H);
          }
        }
      });
    }
    const outputs: Array<Value | undefined> = [
      Y && { dtype: 'float32', shape: batchFirst ? [N, T, D, H] : [T, D, N, H], data: Y },
      { dtype: 'float32', shape: stateShape, data: Yh },
    ];
    if (Yc) outputs.push({ dtype: 'float32', shape: stateShape, data: Yc });
    return outputs;
  }

  /** sequence_lens as module lengths (undefined when absent or all equal to T). */
  private lengths(value: Value | undefined, T: number, N: number): Int32Array | undefined {
    if (!value) return undefined;
    const lengths = integers(value, 'sequence_lens');
    if (value.shape.length !== 1 || lengths.length !== N) throw new OnnxError(`sequence_lens must have shape [${N}], got ${formatShape(value.shape)}`);
    const bad = lengths.findIndex((length) => !(length >= 1 && length <= T));
    if (bad >= 0) throw new OnnxError(`sequence_lens[${bad}] is ${lengths[bad]}; lengths must be in 1..${T}`);
    return lengths.every((length) => length === T) ? undefined : Int32Array.from(lengths);
  }

  private state(value: Value | undefined, what: string, shape: number[]): Value | undefined {
    if (value && (value.dtype !== 'float32' || value.shape.length !== 3 || value.shape.some((dim, i) => dim !== shape[i]))) {
      throw new OnnxError(`${what} must be a float tensor of shape ${formatShape(shape)}, got ${value.dtype} ${formatShape(value.shape)}`);
    }
    return value;
  }

  private disposeModules(): void {
    for (const group of this.groups) group.module.dispose();
    this.groups = [];
  }

  dispose(): void {
    this.disposeModules();
    this.loaded = null;
  }
}

function sameValues(a: Float32Array, b: Float32Array | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
