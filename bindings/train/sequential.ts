// Sequential: a Keras-style stack of layers (Embedding, RNN/LSTM/GRU, LastStep, Linear, Dropout, activations)
// — the model: its layers, compile, predict / evaluate / forward, the loss of a batch, save / load as safetensors
// with PyTorch keys. The fit loop (epochs, batches, truncated BPTT, validation, early stopping) is fit.ts.
//
// Shapes: N samples, B batch, T steps, F features, C classes. Data is batch-first, like Keras: x is [N, T]
// token ids (first layer Embedding), [N, T, F] features, or [N, F] without recurrent layers; outputs are
// [N, C] after a LastStep, or per step [N, T, C].

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { SAFETENSORS_DTYPES, parseSafetensors, serializeSafetensors, type SafetensorsDtype } from '../io/safetensors.js';
import { Container } from '../nn/container.js';
import { Embedding } from '../nn/embedding.js';
import { LastStep } from '../nn/last-step.js';
import { Linear } from '../nn/linear.js';
import { bceWithLogits, crossEntropy, mse, nllLoss, type LossResult } from '../nn/losses.js';
import { layerContext, type RecurrentState, type StackLayer } from '../nn/module.js';
import { RecurrentModule } from '../nn/recurrent.js';
import { isQuantized, quantizeDynamic, type QuantizeOptions } from '../nn/quantized.js';
import { checkKeys, choiceOption, describe, optionKeys, positiveInteger, sameShape, sequenceLengths, strictOptions } from '../options.js';
import { Tensor, shapeSize, toTensor, type TensorLike } from '../tensor.js';
import { gatherSteps, range, scatterSteps, takeDataset, takeSamples, validSteps, type Dataset } from './batches.js';
import { DEFAULT_BATCH_SIZE, fit, fitAsync, type FitAsyncOptions, type FitModel, type FitOptions, type History } from './fit.js';
import { MetricTotals, type LossEvaluation } from './metrics.js';
import { ADAM_OPTION_KEYS, Adam, AdamW, SGD, SGD_OPTION_KEYS, UNSUPPORTED_OPTIMIZER_OPTIONS, clipGradNorm, type AdamOptions, type SGDOptions } from './optim.js';
import {
  CONFIG_FORMAT, CONFIG_METADATA_KEY, LAYER_TYPES, buildLayers, configFromMetadata, layerConfig, layerType,
  type Layer, type LayerType, type SequentialConfig,
} from './sequential-config.js';

export type { RecurrentState } from '../nn/module.js';
export type { Layer, LayerConfig, SequentialConfig } from './sequential-config.js';

/** Built-in losses, with PyTorch's semantics and mean reduction (see losses.ts). */
export type LossName = 'crossEntropy' | 'nllLoss' | 'mse' | 'bceWithLogits';

/**
 * A custom loss: the model's output and the targets (padded steps already removed when `lengths` are given),
 * returning the loss and dLoss/d(output) shaped like the output.
 */
export type LossFunction = (output: Tensor, target: Tensor) => LossResult;

/**
 * The optimizer compile() creates over the model's parameters, with PyTorch's update rules: `{ type: 'sgd' }`,
 * `{ type: 'adam' }` or `{ type: 'adamw' }` with that optimizer's options (SGDOptions, AdamOptions) beside `type`.
 */
export type OptimizerConfig = ({ type: 'sgd' } & SGDOptions) | ({ type: 'adam' } & AdamOptions) | ({ type: 'adamw' } & AdamOptions);

/** Options of `Sequential.compile`, like Keras' `model.compile(loss, optimizer)`; `metrics` is rejected (accuracy is reported for the classification losses). */
export interface CompileOptions {
  /** A built-in loss by name, or a function (output, target) → { loss, grad }. */
  loss: LossName | LossFunction;
  /** The optimizer to create over the model's parameters. */
  optimizer: OptimizerConfig;
  /** Clip the total L2 norm of all gradients to this before each step (clipGradNorm); none by default. */
  clipGradNorm?: number;
  /** Class id that crossEntropy / nllLoss skip (PyTorch's ignore_index), default −100. */
  ignoreIndex?: number;
}

/** Samples: any TensorLike (a Tensor, `{ shape, data }`, nested arrays); the first axis is the sample axis N. */
export type Samples = TensorLike;

/** Options of `Sequential.predict` and `evaluate` (and fit's, which extend them). */
export interface PredictOptions {
  /** Samples per forward, default 32. */
  batchSize?: number;
  /** Valid steps of each sample (1..T) of right-padded sequences, passed to every recurrent layer. */
  lengths?: ArrayLike<number>;
}

/** What `Sequential.save()` returns and `Sequential.load()` takes. */
export interface SavedSequential {
  /** The layer configuration (JSON-able). */
  config: SequentialConfig;
  /** safetensors (F32) with PyTorch nn.Sequential keys `0.weight`, `1.weight_ih_l0`, …; the config is in its metadata too. */
  weights: Uint8Array;
}

const SAVE_OPTION_KEYS = optionKeys<{ dtype?: SafetensorsDtype }>({ dtype: true });
const LOSS_NAMES: readonly LossName[] = ['crossEntropy', 'nllLoss', 'mse', 'bceWithLogits'];

interface Stage {
  type: LayerType;
  step: StackLayer;
  /** For a recurrent layer: the features I of the batch-first sequence [B, T, I] it takes. */
  sequenceFeatures?: number;
}

interface Compiled {
  loss: LossName | LossFunction;
  optimizer: SGD | Adam;
  clipGradNorm?: number;
  ignoreIndex: number;
}

/**
 * A stack of layers run in order, trained Keras-style. Recurrent layers need `batchFirst: true` and give
 * their whole output sequence; put a `LastStep` after one for many-to-one models. Give `lengths` for
 * right-padded batches: every recurrent layer and LastStep use them, and with per-step outputs the loss
 * skips the padded steps. State-dict keys are PyTorch nn.Sequential's (`0.weight`, `1.weight_ih_l0`, …).
 * The model owns its layers: dispose() frees them.
 * @example
 * const model = new Sequential([
 *   new Embedding({ numEmbeddings: 1000, embeddingDim: 32, paddingIdx: 0 }),
 *   new LSTM({ inputSize: 32, hiddenSize: 64, batchFirst: true }),
 *   new LastStep(),
 *   new Linear({ inFeatures: 64, outFeatures: 2 }),
 * ]);
 * model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 1e-2 }, clipGradNorm: 1 });
 * const history = model.fit(ids, labels, { lengths, epochs: 5, batchSize: 32, validationSplit: 0.1 });
 */
export class Sequential extends Container {
  /** The layers, in order (owned by the model). */
  readonly layers: readonly Layer[];
  private readonly stages: readonly Stage[];
  private readonly recurrentLayers: readonly RecurrentModule[];
  /** The output keeps the time axis ([N, T, ...]): there is a recurrent layer and no LastStep after it. */
  private readonly perStepOutput: boolean;
  private compiled: Compiled | null = null;
  /** A fit loop is running (fitAsync() between its steps). */
  private fitting = false;

  /**
   * Stacks `layers` (like keras.Sequential, or torch.nn.Sequential plus a Keras training loop). Throws ArgumentError
   * for an empty array, a layer of an unknown type or given twice, a recurrent layer without batchFirst or after
   * LastStep, or an Embedding that is not first; ShapeError when a layer's input width does not match the
   * previous layer's output.
   */
  constructor(layers: readonly Layer[]) {
    super();
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new ArgumentError(`Sequential: expected a non-empty array of layers, got ${describe(layers)}`);
    }
    const stages: Stage[] = [];
    let width: { features: number; from: string } | undefined;
    let sequenceSource: RecurrentModule | undefined;
    let reducedBy: string | undefined;
    const checkWidth = (expected: number, at: string) => {
      if (width && width.features !== expected) throw new ShapeError(`Sequential: ${at} expects ${expected} input features, but ${width.from} gives ${width.features}`);
    };
    layers.forEach((layer, i) => {
      const type = layerType(layer);
      if (!type) throw new ArgumentError(`Sequential: layers[${i}] is ${describe(layer)}; expected one of ${LAYER_TYPES.join(', ')}`);
      const at = `layers[${i}] (${type})`;
      if (layers.indexOf(layer) !== i) throw new ArgumentError(`Sequential: ${at} is the same object as layers[${layers.indexOf(layer)}]; each layer can appear once`);
      if (layer instanceof RecurrentModule) {
        if (!layer.batchFirst) throw new ArgumentError(`Sequential: ${at} needs batchFirst: true (Sequential batches along the first axis), got batchFirst: false`);
        if (reducedBy) throw new ArgumentError(`Sequential: ${at} needs a sequence, but ${reducedBy} already reduced each sequence to its last step`);
        checkWidth(layer.inputSize, at);
        width = { features: layer.directions * layer.outputSize, from: at };
        sequenceSource = layer;
        stages.push({ type, step: layer, sequenceFeatures: layer.inputSize });
        return;
      }
      if (layer instanceof Embedding) {
        if (i !== 0) throw new ArgumentError(`Sequential: ${at} takes token ids, so it must be the first layer`);
        width = { features: layer.embeddingDim, from: at };
      } else if (layer instanceof LastStep) {
        if (!sequenceSource) throw new ArgumentError(`Sequential: ${at} must follow a recurrent layer (RNN, LSTM or GRU), with only Dropout or activations in between`);
        sequenceSource = undefined;
        reducedBy = at;
      } else if (layer instanceof Linear) {
        checkWidth(layer.inFeatures, at);
        width = { features: layer.outFeatures, from: at };
        sequenceSource = undefined;
      }
      stages.push({ type, step: layer });
    });
    layers.forEach((layer, i) => this.addChild(layer, String(i)));
    this.layers = Object.freeze([...layers]);
    this.stages = stages;
    this.recurrentLayers = layers.filter((layer): layer is RecurrentModule => layer instanceof RecurrentModule);
    this.perStepOutput = this.recurrentLayers.length > 0 && !reducedBy;
  }

  /**
   * Sets the loss, creates the optimizer over parameters() and sets gradient clipping (like Keras' `compile`).
   * Needed by fit and evaluate; compiling again replaces the optimizer (and its state). Throws ArgumentError for an
   * unknown loss or optimizer, an invalid or unknown option, ignoreIndex with a loss other than crossEntropy /
   * nllLoss, or while the model is training.
   */
  compile(options: CompileOptions): void {
    this.checkAlive();
    const where = 'Sequential.compile';
    this.refuseWhileTraining(where);
    if (options === null || typeof options !== 'object') throw new ArgumentError(`${where}: expected { loss, optimizer, clipGradNorm?, ignoreIndex? }, got ${describe(options)}`);
    checkKeys(options, ['loss', 'optimizer', 'clipGradNorm', 'ignoreIndex'], where, { metrics: 'fit and evaluate report accuracy for crossEntropy, nllLoss and bceWithLogits' });
    const { loss, optimizer, clipGradNorm: maxNorm, ignoreIndex = -100 } = options;
    if (typeof loss !== 'function' && !LOSS_NAMES.includes(loss)) {
      throw new ArgumentError(`${where}: loss must be ${LOSS_NAMES.map((name) => `'${name}'`).join(', ')} or a function (output, target) → { loss, grad }, got ${describe(loss)}`);
    }
    if (maxNorm !== undefined && (typeof maxNorm !== 'number' || !(maxNorm > 0) || !Number.isFinite(maxNorm))) {
      throw new ArgumentError(`${where}: clipGradNorm must be a finite number > 0, got ${describe(maxNorm)}`);
    }
    if (!Number.isInteger(ignoreIndex)) throw new ArgumentError(`${where}: ignoreIndex must be an integer, got ${describe(ignoreIndex)}`);
    if (options.ignoreIndex !== undefined && loss !== 'crossEntropy' && loss !== 'nllLoss') {
      throw new ArgumentError(`${where}: ignoreIndex applies to crossEntropy and nllLoss, not to ${typeof loss === 'function' ? 'a custom loss' : `'${loss}'`}`);
    }
    const created = this.createOptimizer(optimizer, where);
    this.compiled?.optimizer.dispose();
    this.compiled = { loss, optimizer: created, clipGradNorm: maxNorm, ignoreIndex };
  }

  private createOptimizer(config: OptimizerConfig, where: string): SGD | Adam {
    if (config === null || typeof config !== 'object') throw new ArgumentError(`${where}: optimizer must be { type: 'sgd' | 'adam' | 'adamw', ...options }, got ${describe(config)}`);
    const { type, ...options } = config;
    const keys = type === 'sgd' ? SGD_OPTION_KEYS : type === 'adam' || type === 'adamw' ? ADAM_OPTION_KEYS : undefined;
    if (!keys) throw new ArgumentError(`${where}: optimizer.type must be 'sgd', 'adam' or 'adamw', got ${describe(type)}`);
    checkKeys(options, keys, `${where}: optimizer (${type})`, UNSUPPORTED_OPTIMIZER_OPTIONS);
    if (type === 'sgd') return new SGD(this.parameters(), options as SGDOptions);
    return type === 'adam' ? new Adam(this.parameters(), options) : new AdamW(this.parameters(), options);
  }

  /**
   * Trains on x [N, ...] and targets y [N, ...] (class ids for crossEntropy/nllLoss, shaped like the output
   * without its class axis; values shaped like the output for mse/bceWithLogits). Returns per-epoch metrics
   * (like Keras' `model.fit`). Throws ArgumentError before compile(), while already training, or for an invalid
   * or unknown option; ShapeError when x, y or lengths do not fit the model or each other.
   */
  fit(x: Samples, y: Samples, options?: FitOptions): History {
    const where = 'Sequential.fit';
    const model = this.fitModel(where);
    this.fitting = true;
    try {
      return fit(model, x, y, options, where);
    } finally {
      this.fitting = false;
    }
  }

  /**
   * fit() that gives the event loop a turn after every `yieldEvery` optimizer steps (default 1), so that a page
   * stays responsive while it trains on the main thread. The same steps in the same order: the same History and
   * weights as fit() from the same seed. Until it settles, the model refuses compile(), fit() and fitAsync();
   * predict() and evaluate() may run between steps.
   * @example const history = await model.fitAsync(ids, labels, { epochs: 5, callbacks: { onBatchEnd: draw } });
   */
  async fitAsync(x: Samples, y: Samples, options?: FitAsyncOptions): Promise<History> {
    const where = 'Sequential.fitAsync';
    const model = this.fitModel(where);
    this.fitting = true;
    try {
      return await fitAsync(model, x, y, options, where);
    } finally {
      this.fitting = false;
    }
  }

  /** This model as the fit loop sees it; throws unless it is alive, compiled and not training already. */
  private fitModel(where: string): FitModel {
    this.checkAlive();
    const compiled = this.requireCompiled(where);
    this.refuseWhileTraining(where);
    return {
      withAccuracy: this.reportsAccuracy(),
      dataset: (xs, ys, lengths, at) => this.dataset(xs, ys, lengths, at),
      checkTruncatedBptt: (data) => this.checkTruncatedBptt(data, where),
      trainStep: (batch, state) => this.trainStep(batch, state, compiled, where),
      evaluate: (data, batchSize) => this.evaluateDataset(data, batchSize, where),
      stateDict: () => this.stateDict(),
      loadStateDict: (dict) => this.loadStateDict(dict),
    };
  }

  private refuseWhileTraining(where: string): void {
    if (this.fitting) throw new ArgumentError(`${where}: the model is training (in fit(), or in a fitAsync() that has not settled); wait for it to finish`);
  }

  /**
   * Loss (and accuracy for crossEntropy, nllLoss, bceWithLogits) over all samples, in inference mode, as
   * `{ loss, accuracy? }` (like Keras' `model.evaluate`). Throws ArgumentError before compile() or for an
   * unknown option, ShapeError when x, y or lengths do not fit.
   */
  evaluate(x: Samples, y: Samples, options: PredictOptions = {}): { loss: number; accuracy?: number } {
    this.checkAlive();
    const where = 'Sequential.evaluate';
    this.requireCompiled(where);
    if (options === null || typeof options !== 'object') throw new ArgumentError(`${where}: options must be an object, got ${describe(options)}`);
    checkKeys(options, ['batchSize', 'lengths'], where);
    const batchSize = positiveInteger(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize', where);
    return this.evaluateDataset(this.dataset(x, y, options.lengths, where), batchSize, where);
  }

  /**
   * The outputs for x [N, ...] in inference mode: [N, C], or [N, T, C] per step (padded steps not zeroed), like
   * Keras' `model.predict`. Needs no compile(). Throws ArgumentError for an unknown option, ShapeError when x or
   * lengths do not fit the model.
   */
  predict(x: Samples, options: PredictOptions = {}): Tensor {
    this.checkAlive();
    const where = 'Sequential.predict';
    if (options === null || typeof options !== 'object') throw new ArgumentError(`${where}: options must be an object, got ${describe(options)}`);
    checkKeys(options, ['batchSize', 'lengths'], where);
    const batchSize = positiveInteger(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize', where);
    const samples = this.samples(x, where);
    const lengths = this.sampleLengths(options.lengths, samples, where);
    const parts: Tensor[] = [];
    for (let start = 0; start < samples.shape[0]; start += batchSize) {
      const indices = range(start, Math.min(start + batchSize, samples.shape[0]));
      parts.push(this.run(takeSamples(samples, indices), lengths?.subarray(start, start + batchSize), false, undefined, where).output);
    }
    const rowSize = shapeSize(parts[0].shape.slice(1));
    const out = new Float32Array(samples.shape[0] * rowSize);
    parts.forEach((part, i) => out.set(part.data, i * batchSize * rowSize));
    return new Tensor(out, [samples.shape[0], ...parts[0].shape.slice(1)]);
  }

  /**
   * One inference pass over a batch, starting each recurrent layer from `state` (zeros when absent) and
   * returning the state it ends in — for generation step by step or streaming long inputs in pieces. Returns
   * `{ output, state }`: the output as predict() gives it, and one RecurrentState per recurrent layer, in order.
   * @example let state; for (const id of prompt) ({ state } = model.forward(tensor([id], [1, 1]), { state }));
   */
  forward(x: Samples, options: { lengths?: ArrayLike<number>; state?: readonly RecurrentState[] } = {}): { output: Tensor; state: RecurrentState[] } {
    this.checkAlive();
    const where = 'Sequential.forward';
    if (options === null || typeof options !== 'object') throw new ArgumentError(`${where}: options must be an object, got ${describe(options)}`);
    checkKeys(options, ['lengths', 'state'], where);
    const samples = this.samples(x, where);
    const { state } = options;
    if (state !== undefined && (!Array.isArray(state) || state.length !== this.recurrentLayers.length)) {
      throw new ArgumentError(`${where}: state must be an array of ${this.recurrentLayers.length} { h, c? } (one per recurrent layer), got ${describe(state)}`);
    }
    return this.run(samples, this.sampleLengths(options.lengths, samples, where), false, state, where);
  }

  /** The JSON-able layer configuration that load() rebuilds the model from. */
  config(): SequentialConfig {
    this.checkAlive();
    return { format: CONFIG_FORMAT, version: 1, layers: this.layers.map(layerConfig) };
  }

  /**
   * An int8 copy for inference (see quantizeDynamic): every RNN, LSTM, GRU and Linear layer quantized, the other
   * layers copied; this model is left untouched. The copy predicts, evaluates and runs forward(); it does not train
   * or save (save this model and quantize after loading).
   * @example const small = model.quantize({ dtype: 'int8' }); const probabilities = small.predict(x);
   */
  quantize(options: QuantizeOptions): Sequential {
    this.checkAlive();
    const where = 'Sequential.quantize';
    const fresh = buildLayers(this.config(), where);
    const layers: Layer[] = [];
    try {
      fresh.forEach((layer, i) => {
        const original = this.layers[i];
        if (original instanceof RecurrentModule || original instanceof Linear) {
          layer.dispose();
          layers.push(quantizeDynamic(original, options) as Layer);
          return;
        }
        layer.loadStateDict(original.stateDict());
        layers.push(layer);
      });
      return new Sequential(layers);
    } catch (error) {
      for (const layer of [...layers, ...fresh.slice(layers.length)]) layer.dispose();
      throw error;
    }
  }

  /**
   * The config and the weights as safetensors bytes (PyTorch keys; the config is also in the file's metadata).
   * `dtype` 'f16' or 'bf16' halves the weights' bytes, each value rounded to nearest even (serializeSafetensors);
   * load() widens them back to float32. Throws ArgumentError for an unknown option or dtype.
   */
  save(options?: { dtype?: SafetensorsDtype }): SavedSequential {
    const where = 'Sequential.save';
    const { dtype } = strictOptions(options, SAVE_OPTION_KEYS, where);
    if (this.layers.some(isQuantized)) {
      throw new ArgumentError('Sequential.save: an int8 model (quantize()) is not saved as a Sequential; save the f32 model and quantize it after loading');
    }
    const config = this.config();
    const metadata = { [CONFIG_METADATA_KEY]: JSON.stringify(config) };
    return { config, weights: serializeSafetensors(this.stateDict(), { metadata, dtype: choiceOption(dtype, 'dtype', SAFETENSORS_DTYPES, 'f32', where) }) };
  }

  /**
   * Rebuilds a saved model: `{ config, weights }` from save(), or `{ weights }` alone (the config is read from its
   * metadata). Throws SafetensorsError for bytes that are not safetensors, ArgumentError for an invalid config,
   * StateDictError when the weights do not match the layers.
   */
  static load(saved: { config?: SequentialConfig; weights: Uint8Array }): Sequential {
    const where = 'Sequential.load';
    if (saved === null || typeof saved !== 'object') throw new ArgumentError(`${where}: expected { config?, weights }, got ${describe(saved)}`);
    checkKeys(saved, ['config', 'weights'], where);
    const tensors = parseSafetensors(saved.weights);
    const config = saved.config ?? configFromMetadata(saved.weights, where);
    const layers = buildLayers(config, where);
    let model: Sequential | undefined;
    try {
      model = new Sequential(layers);
      model.loadStateDict(tensors);
      return model;
    } catch (error) {
      if (model) model.dispose();
      else for (const layer of layers) layer.dispose();
      throw error;
    }
  }

  /** Frees every layer's Wasm memory and the optimizer state. Idempotent. */
  override dispose(): void {
    this.compiled?.optimizer.dispose();
    this.compiled = null;
    super.dispose();
  }

  // -------------------------------------------------------------------------------------------
  // Forward, backward and loss of one batch

  private run(x: Tensor, lengths: Int32Array | undefined, train: boolean, initial: readonly RecurrentState[] | undefined, where: string): { output: Tensor; state: RecurrentState[] } {
    const context = layerContext(train, lengths, initial);
    let current = x;
    this.stages.forEach(({ type, step, sequenceFeatures }, i) => {
      if (sequenceFeatures !== undefined && current.shape.length !== 3) {
        throw new ShapeError(`${where}: layers[${i}] (${type}) expects a batch-first sequence [B, T, ${sequenceFeatures}], got ${formatShape(current.shape)}`);
      }
      current = step.forwardLayer(current, context);
    });
    return { output: current, state: context.finalState };
  }

  private backward(gradOutput: Tensor): void {
    let grad: Tensor | null = gradOutput;
    for (let i = this.stages.length - 1; i >= 0 && grad; i--) grad = this.stages[i].step.backwardLayer(grad);
  }

  private trainStep(batch: Dataset, initial: RecurrentState[] | undefined, compiled: Compiled, where: string): LossEvaluation & { state: RecurrentState[] } {
    compiled.optimizer.zeroGrad();
    const { output, state } = this.run(batch.x, batch.lengths, true, initial, where);
    const result = this.lossOf(output, batch.y, batch.lengths, compiled, where);
    this.backward(result.grad);
    if (compiled.clipGradNorm !== undefined) clipGradNorm(this.parameters(), compiled.clipGradNorm);
    compiled.optimizer.step();
    return { ...result, state };
  }

  /** The loss of a batch's output against its targets; with lengths and per-step outputs, padded steps are left out. */
  private lossOf(output: Tensor, target: Tensor, lengths: Int32Array | undefined, compiled: Compiled, where: string): LossEvaluation {
    const { loss } = compiled;
    const classIds = loss === 'crossEntropy' || loss === 'nllLoss';
    if (classIds && !sameShape(target.shape, output.shape.slice(0, -1))) {
      throw new ShapeError(`${where}: with ${loss}, outputs of shape ${formatShape(output.shape)} need class ids of shape ${formatShape(output.shape.slice(0, -1))}, got ${formatShape(target.shape)}`);
    }
    if ((loss === 'mse' || loss === 'bceWithLogits') && !sameShape(target.shape, output.shape)) {
      throw new ShapeError(`${where}: with ${loss}, targets must have the output's shape ${formatShape(output.shape)}, got ${formatShape(target.shape)}`);
    }
    const steps = lengths && this.perStepOutput ? validSteps(lengths, output.shape[1]) : undefined;
    if (steps && (target.shape.length < 2 || target.shape[1] !== output.shape[1])) {
      throw new ShapeError(`${where}: per-step outputs ${formatShape(output.shape)} with lengths need per-step targets [N, ${output.shape[1]}, ...], got ${formatShape(target.shape)}`);
    }
    const out = steps ? gatherSteps(output, steps) : output;
    const expected = steps ? gatherSteps(target, steps) : target;
    const result = this.lossOfRows(out, expected, compiled, where);
    return steps ? { ...result, grad: scatterSteps(result.grad, steps, output.shape) } : result;
  }

  private lossOfRows(output: Tensor, target: Tensor, compiled: Compiled, where: string): LossEvaluation {
    const { loss, ignoreIndex } = compiled;
    if (loss === 'crossEntropy' || loss === 'nllLoss') {
      const C = output.shape[output.shape.length - 1];
      const rows = new Tensor(output.data, [output.data.length / C, C]);
      const { loss: value, grad } = (loss === 'crossEntropy' ? crossEntropy : nllLoss)(rows, target.data, { ignoreIndex });
      let counted = 0;
      let correct = 0;
      target.data.forEach((id, row) => {
        if (id === ignoreIndex) return;
        counted++;
        let best = 0;
        for (let j = 1; j < C; j++) if (output.data[row * C + j] > output.data[row * C + best]) best = j;
        if (best === id) correct++;
      });
      return { loss: value, grad: new Tensor(grad.data, output.shape), counted, correct };
    }
    if (loss === 'mse') return { ...mse(output, target), counted: output.size };
    if (loss === 'bceWithLogits') {
      const correct = output.data.reduce((sum, logit, i) => sum + (logit > 0 === target.data[i] > 0.5 ? 1 : 0), 0);
      return { ...bceWithLogits(output, target), counted: output.size, correct };
    }
    const result = loss(output, target);
    if (result === null || typeof result !== 'object' || typeof result.loss !== 'number' || !(result.grad instanceof Tensor) || !sameShape(result.grad.shape, output.shape)) {
      throw new ArgumentError(`${where}: the custom loss must return { loss: number, grad: Tensor of shape ${formatShape(output.shape)} }, got ${describe(result)}${result?.grad instanceof Tensor ? ` with grad ${formatShape(result.grad.shape)}` : ''}`);
    }
    return { loss: result.loss, grad: result.grad, counted: output.shape[0] };
  }

  private evaluateDataset(data: Dataset, batchSize: number, where: string): { loss: number; accuracy?: number } {
    const compiled = this.requireCompiled(where);
    const totals = new MetricTotals(this.reportsAccuracy());
    for (let start = 0; start < data.size; start += batchSize) {
      const batch = takeDataset(data, range(start, Math.min(start + batchSize, data.size)));
      const { output } = this.run(batch.x, batch.lengths, false, undefined, where);
      totals.add(this.lossOf(output, batch.y, batch.lengths, compiled, where));
    }
    return totals.logs();
  }

  // -------------------------------------------------------------------------------------------
  // Validation of data

  private samples(x: Samples, where: string): Tensor {
    const samples = toTensor(x, `${where}: x`);
    if (samples.shape.length < 1 || samples.shape[0] < 1) throw new ShapeError(`${where}: expected x with at least one sample on its first axis, got shape ${formatShape(samples.shape)}`);
    return samples;
  }

  private sampleLengths(lengths: ArrayLike<number> | undefined, x: Tensor, where: string): Int32Array | undefined {
    if (lengths === undefined) return undefined;
    if (this.recurrentLayers.length === 0) throw new ArgumentError(`${where}: lengths apply to recurrent layers, and this model has none`);
    return sequenceLengths(lengths, x.shape[0], x.shape[1], where, `one per sample of x ${formatShape(x.shape)}`);
  }

  private dataset(x: Samples, y: Samples, lengths: ArrayLike<number> | undefined, where: string): Dataset {
    const samples = this.samples(x, where);
    const targets = toTensor(y, `${where}: y`);
    if (targets.shape[0] !== samples.shape[0]) {
      throw new ShapeError(`${where}: x holds ${samples.shape[0]} samples (shape ${formatShape(samples.shape)}) but y holds ${targets.shape[0] ?? 0} (shape ${formatShape(targets.shape)})`);
    }
    return { x: samples, y: targets, lengths: this.sampleLengths(lengths, samples, where), size: samples.shape[0] };
  }

  private checkTruncatedBptt(data: Dataset, where: string): void {
    if (!this.perStepOutput) throw new ArgumentError(`${where}: tbptt trains on per-step outputs; this model ${this.recurrentLayers.length === 0 ? 'has no recurrent layer' : 'reduces sequences with LastStep'}`);
    if (this.recurrentLayers.some((layer) => layer.bidirectional)) throw new ArgumentError(`${where}: tbptt carries state forward in time, which a bidirectional layer cannot use`);
    if (data.lengths) throw new ArgumentError(`${where}: tbptt needs sequences of equal length; lengths are not supported with it`);
    if (data.x.shape.length < 2 || data.y.shape.length < 2 || data.y.shape[1] !== data.x.shape[1]) {
      throw new ShapeError(`${where}: tbptt needs x and y with a time axis of the same length, got x ${formatShape(data.x.shape)} and y ${formatShape(data.y.shape)}`);
    }
  }

  private reportsAccuracy(): boolean {
    const loss = this.compiled?.loss;
    return loss === 'crossEntropy' || loss === 'nllLoss' || loss === 'bceWithLogits';
  }

  private requireCompiled(where: string): Compiled {
    if (!this.compiled) throw new ArgumentError(`${where}(): call compile({ loss, optimizer }) first`);
    return this.compiled;
  }
}
