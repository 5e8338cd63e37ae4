// SimpleRNN, LSTM, GRU and Bidirectional → looptree RNN / LSTM / GRU modules (Keras gate columns become PyTorch
// gate rows), run with Keras' call semantics: go_backwards, masks (the previous output carried over masked steps),
// stateful state across predict() calls, return_sequences, return_state and every merge_mode.
//
// Shapes: B batch, T steps, I input features, U units (= H = P), D directions (2 for Bidirectional).

import { GRU, LSTM, RNN, ShapeError, Tensor, withStateDict, type RecurrentModule } from '../../index.js';
import { CELL_ACTIVATIONS, activationOption, type CellActivation } from './activations.js';
import { LayerConfig, isObject } from './config.js';
import { KerasLayer, expectRank, knownDim, type LayerInput, type LayerResult, type Values } from './layer.js';
import { carryOverMaskedSteps, reverseSteps, type Mask } from './masking.js';
import { LayerWeights, type KerasWeight } from './weights.js';

/** For each PyTorch gate row block, the Keras gate column block it comes from. */
const GATE_ORDER = {
  SimpleRNN: [0],
  LSTM: [0, 1, 2, 3], // Keras i f c o = PyTorch i f g o
  GRU: [1, 0, 2], // PyTorch r z n ← Keras z r h
} as const;
type CellClass = keyof typeof GATE_ORDER;
const isCellClass = (name: unknown): name is CellClass => typeof name === 'string' && Object.hasOwn(GATE_ORDER, name);

type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;
const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave', null];

/** The options of a SimpleRNN / LSTM / GRU config that change what looptree computes. */
interface CellOptions {
  kind: CellClass;
  units: number;
  activation: CellActivation;
  recurrentActivation: CellActivation;
  useBias: boolean;
  resetAfter: boolean;
  returnSequences: boolean;
  /** Masked steps output zeros instead of the previous output (Python Keras; its Bidirectional sets it with return_sequences). */
  zeroOutputForMask: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
}

function readCell(kind: CellClass, config: LayerConfig): CellOptions {
  config.unsupportedUnless('time_major', false);
  return {
    kind,
    units: config.dim('units'),
    activation: activationOption(config, 'activation', 'tanh', CELL_ACTIVATIONS),
    // TF.js's default (Python Keras' is sigmoid; converted files always name it).
    recurrentActivation: kind === 'SimpleRNN' ? 'sigmoid' : activationOption(config, 'recurrent_activation', 'hard_sigmoid', CELL_ACTIVATIONS),
    useBias: config.boolean('use_bias', true),
    resetAfter: kind === 'GRU' && config.boolean('reset_after', false),
    returnSequences: config.boolean('return_sequences', false),
    zeroOutputForMask: config.boolean('zero_output_for_mask', false),
    returnState: config.boolean('return_state', false),
    goBackwards: config.boolean('go_backwards', false),
    stateful: config.boolean('stateful', false),
  };
}

/** Keras [rows, G·U] (x @ kernel, gate column blocks in Keras order) → PyTorch [G·U, rows] (gate row blocks in PyTorch order). */
function torchGateRows(kernel: Float32Array, rows: number, units: number, order: readonly number[]): Float32Array {
  const G = order.length;
  const out = new Float32Array(G * units * rows);
  order.forEach((gate, row) => {
    for (let j = 0; j < units; j++) {
      for (let i = 0; i < rows; i++) out[(row * units + j) * rows + i] = kernel[i * G * units + gate * units + j];
    }
  });
  return out;
}

/**
 * One direction's weights as PyTorch state-dict entries. Keras' single bias goes to bias_ih (bias_hh zeros);
 * GRU reset_after's [2, 3U] bias is [input bias; recurrent bias] = [bias_ih; bias_hh].
 */
function directionStateDict(cell: CellOptions, inputSize: number, weights: LayerWeights, suffix: string): Record<string, Tensor> {
  const order = GATE_ORDER[cell.kind];
  const U = cell.units, G = order.length;
  const kernel = weights.get('kernel', [inputSize, G * U]);
  const recurrent = weights.get('recurrent_kernel', [U, G * U]);
  const dict: Record<string, Tensor> = {
    [`weight_ih${suffix}`]: new Tensor(torchGateRows(kernel.data, inputSize, U, order), [G * U, inputSize]),
    [`weight_hh${suffix}`]: new Tensor(torchGateRows(recurrent.data, U, U, order), [G * U, U]),
  };
  if (cell.useBias) {
    const bias = weights.get('bias', cell.resetAfter ? [2, G * U] : [G * U]).data;
    dict[`bias_ih${suffix}`] = new Tensor(torchGateRows(bias.subarray(0, G * U), 1, U, order), [G * U]);
    dict[`bias_hh${suffix}`] = new Tensor(cell.resetAfter ? torchGateRows(bias.subarray(G * U), 1, U, order) : new Float32Array(G * U), [G * U]);
  }
  weights.expectOnly('kernel', 'recurrent_kernel', ...(cell.useBias ? ['bias'] : []));
  return dict;
}

/** The carried state of a stateful layer: the module's h and c ([D, B, U]). */
interface State {
  h: Tensor;
  c?: Tensor;
}

/** A SimpleRNN / LSTM / GRU layer, or a Bidirectional wrapper of one, on one looptree module (bidirectional when D = 2). */
export class RecurrentLayer extends KerasLayer {
  private readonly module: RecurrentModule;
  private state: State | null = null;

  private constructor(layer: LayerConfig, input: LayerInput, private readonly cell: CellOptions,
                      private readonly mergeMode: MergeMode | undefined, directionWeights: LayerWeights[]) {
    super(layer, input, ...directionWeights);
    expectRank(layer, input, 2, '(None, steps, features)');
    const inputSize = knownDim(layer, input.shape[1], 'number of input features');
    const D = directionWeights.length, U = cell.units;
    const dicts = directionWeights.map((weights, d) => directionStateDict(cell, inputSize, weights, `_l0${d === 1 ? '_reverse' : ''}`));
    const options = { inputSize, hiddenSize: U, bias: cell.useBias, batchFirst: true, bidirectional: D === 2, activation: cell.activation };
    const { recurrentActivation, resetAfter } = cell;
    const module = cell.kind === 'SimpleRNN' ? new RNN(options)
      : cell.kind === 'LSTM' ? new LSTM({ ...options, recurrentActivation }) : new GRU({ ...options, recurrentActivation, resetAfter });
    this.module = withStateDict(module, Object.assign({}, ...dicts));
    const steps = cell.returnSequences ? [input.shape[0]] : [];
    const outputs = D === 2 && mergeMode === null ? [[...steps, U], [...steps, U]] : [[...steps, D === 2 && mergeMode === 'concat' ? 2 * U : U]];
    const states = cell.returnState ? Array.from({ length: D * (cell.kind === 'LSTM' ? 2 : 1) }, () => [U]) : [];
    this.outputShapes = [...outputs, ...states];
    this.outputMasked = input.masked && cell.returnSequences;
  }

  /** A SimpleRNN, LSTM or GRU layer. */
  static cell(layer: LayerConfig, input: LayerInput, weights: readonly KerasWeight[]): RecurrentLayer {
    const cell = readCell(layer.spec.className as CellClass, layer);
    return new RecurrentLayer(layer, input, cell, undefined, [new LayerWeights(layer, weights)]);
  }

  /** A Bidirectional wrapper: the wrapped layer's weights `forward_*` then `backward_*`, on one bidirectional module. */
  static bidirectional(layer: LayerConfig, input: LayerInput, weights: readonly KerasWeight[]): RecurrentLayer {
    layer.unsupportedUnless('backward_layer');
    const inner = layer.get('layer');
    if (!isObject(inner) || !isCellClass(inner.class_name) || !isObject(inner.config)) {
      throw layer.error(`wraps ${isObject(inner) ? `a ${String(inner.class_name)}` : 'no layer'}; Bidirectional is supported around SimpleRNN, LSTM and GRU`);
    }
    const { className, name } = layer.spec;
    const cell = readCell(inner.class_name, new LayerConfig({ className: `${className}(${inner.class_name})`, name, config: inner.config }));
    // merge_mode null (Python None) means "return both outputs"; absent means concat.
    const mergeMode = Object.hasOwn(layer.spec.config, 'merge_mode') ? layer.spec.config.merge_mode : 'concat';
    if (!MERGE_MODES.includes(mergeMode as MergeMode)) throw layer.error(`option merge_mode = ${JSON.stringify(mergeMode)} is not supported (concat, sum, mul, ave or null)`);
    const direction = (prefix: string) => weights.filter((weight) => weight.name.startsWith(`${name}/${prefix}`));
    const stray = weights.find((weight) => !direction('forward_').includes(weight) && !direction('backward_').includes(weight));
    if (stray) throw layer.error(`weight "${stray.name}" belongs to neither direction (${name}/forward_… or ${name}/backward_…)`);
    return new RecurrentLayer(layer, input, cell, mergeMode as MergeMode,
      [new LayerWeights(layer, direction('forward_')), new LayerWeights(layer, direction('backward_'))]);
  }

  override get recurrentModules(): RecurrentModule[] {
    return [this.module];
  }

  call(x: Values, mask: Mask | null): LayerResult {
    const [B, T, I] = x.shape;
    const D = this.module.directions, U = this.cell.units;
    // go_backwards: the layer runs over the reversed sequence and returns its outputs in that order.
    const input = this.cell.goBackwards ? new Tensor(reverseSteps(Float32Array.from(x.data), B, T, I), x.shape) : x;
    const stepMask = mask && this.cell.goBackwards ? reverseSteps(mask, B, T, 1) : mask;
    const initial = this.cell.stateful ? this.state : null;
    if (initial && initial.h.shape[1] !== B) {
      throw new ShapeError(`${this.layer.where}: a stateful layer carries the state of a batch of ${initial.h.shape[1]}, got a batch of ${B} (call resetStates() first)`);
    }
    const { output, h, c } = this.module.forward(input, { h0: initial?.h, c0: initial?.c, mask: stepMask ?? undefined });
    if (this.cell.stateful) this.state = { h, c };

    // Both directions side by side ([forward, backward] per row), as the module returns them.
    let rows: number[];
    let sideBySide: Float32Array;
    if (this.cell.returnSequences) {
      rows = [B, T];
      sideBySide = output.data;
      // The module outputs zeros at masked steps; TF.js repeats the previous output there.
      if (stepMask && !this.cell.zeroOutputForMask) {
        for (let d = 0; d < D; d++) {
          const start = initial ? initial.h.data.subarray(d * B * U, (d + 1) * B * U) : null;
          carryOverMaskedSteps(sideBySide, B, T, D * U, d * U, U, stepMask, start, d === 1);
        }
      }
    } else {
      // The last output of each direction is its final h (the reverse direction ends at step 0), or zeros with
      // zero_output_for_mask where that step is masked.
      rows = [B];
      sideBySide = new Float32Array(B * D * U);
      const zeroed = (b: number, d: number) => this.cell.zeroOutputForMask && stepMask !== null && !stepMask[b * T + (d === 0 ? T - 1 : 0)];
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) if (!zeroed(b, d)) sideBySide.set(h.data.subarray((d * B + b) * U, (d * B + b + 1) * U), (b * D + d) * U);
      }
    }
    const outputs = D === 2 ? mergeDirections(sideBySide, rows, U, this.mergeMode!) : [new Tensor(sideBySide, [...rows, U])];
    if (this.cell.returnState) {
      const perDirection = (state: Tensor, d: number) => new Tensor(state.data.slice(d * B * U, (d + 1) * B * U), [B, U]);
      for (let d = 0; d < D; d++) outputs.push(perDirection(h, d), ...(c ? [perDirection(c, d)] : []));
    }
    return { outputs, mask: this.outputMasked ? mask : null };
  }

  override resetStates(): void {
    this.state = null;
  }

  override dispose(): void {
    this.module.dispose();
  }
}

/** Keras' merge of [forward, backward] rows of width 2U: concat keeps them, null returns both, sum / mul / ave combine. */
function mergeDirections(sideBySide: Float32Array, rows: number[], U: number, mode: MergeMode): Tensor[] {
  if (mode === 'concat') return [new Tensor(sideBySide, [...rows, 2 * U])];
  const count = sideBySide.length / (2 * U);
  const direction = (d: number) => {
    const out = new Float32Array(count * U);
    for (let r = 0; r < count; r++) out.set(sideBySide.subarray((2 * r + d) * U, (2 * r + d + 1) * U), r * U);
    return out;
  };
  const [forward, backward] = [direction(0), direction(1)];
  if (mode === null) return [new Tensor(forward, [...rows, U]), new Tensor(backward, [...rows, U])];
  for (let i = 0; i < forward.length; i++) {
    forward[i] = mode === 'sum' ? forward[i] + backward[i] : mode === 'mul' ? forward[i] * backward[i] : 0.5 * (forward[i] + backward[i]);
  }
  return [new Tensor(forward, [...rows, U])];
}
