// loadLayersModel() and KerasModel: the chain of layers built from a model.json and its weights, predict() on
// float or token-id input, resetStates() for stateful layers, and a Keras-like summary().

import {
  ArgumentError, DisposedError, ShapeError, Tensor, tensor, type NestedArray, type RecurrentModule,
} from '../../index.js';
import { isObject, type Dim } from './config.js';
import { buildLayer } from './core-layers.js';
import { KerasError } from './errors.js';
import type { KerasLayer, LayerInput, Values } from './layer.js';
import type { Mask } from './masking.js';
import { parseModelJson, type Topology } from './topology.js';
import { WeightStore, readWeights, type WeightsInput } from './weights.js';

/** A model.json: its text, or the parsed object. */
export type ModelJson = string | object;

/** Model input, batch first: float features, or token ids (integer values) for a model that starts with Embedding. */
export type ModelInput = Tensor | { readonly data: ArrayLike<number>; readonly shape: readonly number[] } | NestedArray;

/**
 * Loads a TF.js layers model (Keras), like TF.js' `tf.loadLayersModel` but synchronous from bytes you supply: `model.json` (`format: "layers-model"`, as written by
 * `tensorflowjs_converter` or `model.save()` in TF.js) and its weight shards, in the order of the
 * manifest's paths. Quantized weights (uint8, uint16, float16) are dequantized here. Throws KerasError
 * naming the layer, option and value for anything looptree does not run.
 * @example const model = loadLayersModel(JSON.parse(json), [shard1, shard2]); const y = model.predict(x);
 */
export function loadLayersModel(modelJson: ModelJson, weights: WeightsInput): KerasModel {
  const { topology, weightsManifest } = parseModelJson(modelJson);
  const store = new WeightStore(readWeights(weightsManifest, weights));
  const chain: KerasLayer[] = [];
  try {
    let input: LayerInput = { shape: topology.input.shape, masked: false };
    for (const spec of topology.layers) {
      const previous = chain[chain.length - 1];
      if (previous && topology.className === 'Sequential' && previous.outputShapes.length > 1) {
        throw new KerasError(`layer "${previous.name}" (${previous.className}) has ${previous.outputShapes.length} outputs; in a Sequential model only the last layer may (use a functional model)`);
      }
      const layer = buildLayer(spec, input, store.take(spec.name));
      chain.push(layer);
      input = { shape: layer.outputShapes[0], masked: layer.outputMasked };
    }
    store.checkAllTaken();
    const last = chain[chain.length - 1];
    const missing = topology.outputs?.find((index) => index >= last.outputShapes.length);
    if (missing !== undefined) throw new KerasError(`model.json: the model returns output ${missing} of layer "${last.name}", which has ${last.outputShapes.length}`);
    return new KerasModel(topology, chain);
  } catch (error) {
    for (const layer of chain) layer.dispose();
    throw error;
  }
}

/**
 * A loaded Keras model (what TF.js' `tf.loadLayersModel` gives, run on looptree). Its recurrent layers are
 * ordinary looptree modules (`layers`), owned by the model.
 */
export class KerasModel {
  /** The model's name in model.json. */
  readonly name: string;
  /** The recurrent layers as looptree RNN / LSTM / GRU modules (PyTorch parameter names), in order: stream, save or fine-tune them. */
  readonly layers: RecurrentModule[];
  private disposed = false;

  /** @internal Use loadLayersModel(). */
  constructor(private readonly topology: Topology, private readonly chain: KerasLayer[]) {
    this.name = topology.name;
    this.layers = chain.flatMap((layer) => layer.recurrentModules);
  }

  /**
   * Runs the model on a batch: x is [B, ...input shape] (token ids for a model that starts with Embedding).
   * Returns the output Tensor, or the list of outputs for a model with several (return_state, merge_mode null).
   * Stateful recurrent layers continue from the state the previous call left (see resetStates()). Like Keras'
   * `model.predict(x)`. Throws ShapeError when x does not match the model's input shape, ArgumentError for
   * token ids out of range, DisposedError after dispose().
   */
  predict(x: ModelInput): Tensor | Tensor[] {
    if (this.disposed) throw new DisposedError('KerasModel');
    let values = checkInput(x, this.topology.input.shape);
    let mask: Mask | null = null;
    let outputs: Tensor[] = [];
    for (const layer of this.chain) {
      ({ outputs, mask } = layer.call(values, mask));
      values = outputs[0];
    }
    const selected = this.topology.outputs ? this.topology.outputs.map((index) => outputs[index]) : outputs;
    return selected.length === 1 ? selected[0] : selected;
  }

  /** Zeroes the carried state of every stateful layer. */
  resetStates(): void {
    if (this.disposed) throw new DisposedError('KerasModel');
    for (const layer of this.chain) layer.resetStates();
  }

  /** The layers as a table in the style of Keras' model.summary(): name (type), output shape, parameter count. */
  summary(): string {
    const { topology, chain } = this;
    const rows: string[][] = chain.map((layer) => [
      `${layer.name} (${layer.className})`,
      layer.outputShapes.length === 1 ? formatShape(layer.outputShapes[0]) : `[${layer.outputShapes.map(formatShape).join(', ')}]`,
      layer.params.toLocaleString('en-US'),
    ]);
    if (topology.inputLayer) rows.unshift([`${topology.inputLayer.name} (InputLayer)`, formatShape(topology.input.shape), '0']);
    const header = ['Layer (type)', 'Output Shape', 'Param #'];
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)) + 3);
    const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('').trimEnd();
    const width = widths.reduce((sum, w) => sum + w, 0);
    const total = chain.reduce((sum, layer) => sum + layer.params, 0);
    const trainable = chain.reduce((sum, layer) => sum + (layer.trainable ? layer.params : 0), 0);
    return [
      `Model: "${topology.name}"`,
      '_'.repeat(width),
      line(header),
      '='.repeat(width),
      ...rows.map(line),
      '='.repeat(width),
      `Total params: ${total.toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${(total - trainable).toLocaleString('en-US')}`,
      '_'.repeat(width),
    ].join('\n');
  }

  /** Frees every layer's Wasm memory (the modules in `layers` too). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    for (const layer of this.chain) layer.dispose();
    this.disposed = true;
  }

  /** Same as dispose(), for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Keras' notation: (None, 5, 3). */
function formatShape(shape: readonly Dim[]): string {
  return `(${['None', ...shape.map((dim) => dim ?? 'None')].join(', ')})`;
}

/** The input as values [B, ...shape], each unknown dimension at least 1; ShapeError naming both shapes otherwise. */
function checkInput(x: ModelInput, shape: readonly Dim[]): Values {
  let values: Values;
  if (x instanceof Tensor) values = x;
  else if (Array.isArray(x)) values = tensor(x);
  else if (isObject(x) && Array.isArray(x.shape) && typeof x.data === 'object' && x.data !== null && typeof (x.data as ArrayLike<number>).length === 'number') values = x as Values;
  else throw new ArgumentError(`KerasModel.predict: expected a Tensor, { data, shape } or nested arrays, got ${x === null ? 'null' : typeof x}`);
  const got = values.shape;
  const fits = got.length === shape.length + 1 && got.every((dim, i) => Number.isInteger(dim) && dim >= 1 && (i === 0 || shape[i - 1] === null || dim === shape[i - 1]));
  if (!fits) throw new ShapeError(`KerasModel.predict: expected input of shape ${formatShape(shape).replace('None', 'B')}, got [${got.join(', ')}]`);
  const size = got.reduce((product, dim) => product * dim, 1);
  if (values.data.length !== size) throw new ShapeError(`KerasModel.predict: shape [${got.join(', ')}] needs ${size} values, got ${values.data.length}`);
  return values;
}
