// The fit loop of Sequential, apart from the model: epochs, shuffled batches, truncated BPTT chunks, the
// validation split, early stopping, callbacks and progress. It sees the model only through FitModel. One loop,
// a generator that pauses after each optimizer step: fit() runs it through, fitAsync() lets the event loop run
// between steps.

import { ArgumentError } from '../errors.js';
import type { RecurrentState } from '../nn/module.js';
import { booleanOption, checkKeys, choiceOption, describe, optionKeys, positiveInteger, strictOptions } from '../options.js';
import type { Tensor } from '../tensor.js';
import { permutation, range, takeDataset, timeChunk, type Dataset } from './batches.js';
import { EarlyStopping, MetricTotals, type LossEvaluation } from './metrics.js';
import { ProgressReporter, type EpochLogs } from './progress.js';
import type { PredictOptions, Samples } from './sequential.js';

/** Options of fit's `earlyStopping`, like Keras' EarlyStopping callback (`restore_best_weights` → `restoreBest`). */
export interface EarlyStoppingOptions {
  /** The metric to watch, default 'valLoss' with validation data, else 'loss'. Losses must fall, accuracies rise. */
  monitor?: keyof EpochLogs;
  /** Stop after this many epochs in a row without improvement, default 1. */
  patience?: number;
  /** The smallest change that counts as an improvement, default 0. */
  minDelta?: number;
  /** At the end of fit, put back the weights of the best epoch, default false. */
  restoreBest?: boolean;
}

/** Metrics of one optimizer step: its loss, accuracy (crossEntropy, nllLoss, bceWithLogits) and sample count. */
export interface BatchLogs {
  /** The step's loss (its mean, or sum, as the compiled loss reduces). */
  loss: number;
  /** The fraction of the step's samples classified right, for the classification losses. */
  accuracy?: number;
  /** Samples in the step. */
  size: number;
}

/** fit's `callbacks`, like Keras' Callback's on_epoch_end / on_batch_end. */
export interface FitCallbacks {
  /** After each epoch (0-based), with its metrics. */
  onEpochEnd?(epoch: number, logs: EpochLogs): void;
  /** After each optimizer step (0-based within the epoch). */
  onBatchEnd?(batch: number, logs: BatchLogs): void;
}

/**
 * Options of `Sequential.fit`, like Keras' `model.fit` arguments camelCased (`batchSize`, `epochs`, `shuffle`,
 * `validationSplit`, `validationData` as `{ x, y, lengths? }`, `verbose`), plus `lengths` of padded sequences and
 * truncated BPTT. An unknown key or invalid value throws ArgumentError.
 */
export interface FitOptions extends PredictOptions {
  /** Passes over the training data, default 1. */
  epochs?: number;
  /** Reshuffle the training samples every epoch, with the generator seeded by manualSeed(); default true. */
  shuffle?: boolean;
  /** Hold out this fraction (0 ≤ v < 1) of the samples, taken from the end before shuffling, for validation. */
  validationSplit?: number;
  /** Validation samples given separately (not with validationSplit). */
  validationData?: { x: Samples; y: Samples; lengths?: ArrayLike<number> };
  /** Stop when the monitored metric stops improving (Keras' EarlyStopping); no early stopping when absent. */
  earlyStopping?: EarlyStoppingOptions;
  /** Functions called after every epoch and optimizer step. */
  callbacks?: FitCallbacks;
  /** Report progress: a bar on a TTY, one line per epoch otherwise; default true. */
  verbose?: boolean;
  /**
   * Truncated BPTT: cut each batch of sequences [B, T] into chunks of this many steps, one optimizer step per
   * chunk; each chunk starts from the recurrent state the previous chunk ended with, as a constant (carried and
   * detached: no gradient flows into earlier chunks). The state is zero at the start of each batch.
   */
  tbptt?: number;
  /**
   * What a NaN or ±Infinity during training does. 'throw' (default): a NonFiniteError when the loss or a gradient
   * is non-finite — checked before the optimizer step, so the weights stay as they were — or a parameter after the
   * step; the model then never holds weights that save() and load() refuse. 'ignore': train on, as PyTorch does
   * (the History shows NaN losses; save() refuses a model whose weights became non-finite).
   * Every target (and x) is checked once before the first step either way.
   */
  onNonFinite?: NonFinitePolicy;
}

/** What fit does on a NaN or ±Infinity in training: see FitOptions.onNonFinite. */
export type NonFinitePolicy = 'throw' | 'ignore';

/** Options of `Sequential.fitAsync`: fit's, plus how often to let the event loop run. */
export interface FitAsyncOptions extends FitOptions {
  /** Optimizer steps (batches; with tbptt, chunks) between two turns of the event loop, default 1. */
  yieldEvery?: number;
}

/** Per-epoch metrics of fit(), like Keras's History.history. */
export interface History {
  /** Training loss of each epoch (the mean over its samples). */
  loss: number[];
  /** Training accuracy of each epoch, for the classification losses. */
  accuracy?: number[];
  /** Validation loss of each epoch, with validation data. */
  valLoss?: number[];
  /** Validation accuracy of each epoch, with validation data and a classification loss. */
  valAccuracy?: number[];
  /** Epochs run (fewer than asked when early stopping ended training). */
  epochs: number;
  /** Whether early stopping ended training. */
  stoppedEarly: boolean;
  /** With earlyStopping: the (0-based) epoch with the best monitored value. */
  bestEpoch?: number;
}

/** What the fit loop needs of a compiled model. */
export interface FitModel {
  /** The loss reports accuracy (crossEntropy, nllLoss, bceWithLogits). */
  readonly withAccuracy: boolean;
  /** x, y and lengths, validated, as a dataset. */
  dataset(x: Samples, y: Samples, lengths: ArrayLike<number> | undefined, where: string): Dataset;
  /** Throws unless truncated BPTT can train the model on `data`. */
  checkTruncatedBptt(data: Dataset): void;
  /**
   * Throws (ShapeError, ArgumentError) unless every sample and target can be trained on: finite values, targets
   * shaped for the loss, class ids in range — checked for all samples before the first step.
   */
  checkData(data: Dataset, where: string): void;
  /** One optimizer step on a batch, the recurrent layers starting from `state` (zeros when absent). */
  trainStep(batch: Dataset, state: RecurrentState[] | undefined, onNonFinite: NonFinitePolicy): LossEvaluation & { state: RecurrentState[] };
  /** Loss (and accuracy) over a dataset, in inference mode. */
  evaluate(data: Dataset, batchSize: number): { loss: number; accuracy?: number };
  stateDict(): Record<string, Tensor>;
  loadStateDict(dict: Record<string, Tensor>): unknown;
}

const FIT_OPTION_KEYS = optionKeys<FitOptions>({
  epochs: true, batchSize: true, shuffle: true, lengths: true, validationSplit: true, validationData: true, earlyStopping: true,
  callbacks: true, verbose: true, tbptt: true, onNonFinite: true,
});
const FIT_ASYNC_OPTION_KEYS = [...FIT_OPTION_KEYS, 'yieldEvery'];
export const DEFAULT_BATCH_SIZE = 32;

/** Trains `model` on x [N, ...] and targets y [N, ...] (see Sequential.fit); returns per-epoch metrics. */
export function fit(model: FitModel, x: Samples, y: Samples, options: FitOptions | undefined, where: string): History {
  const steps = trainingSteps(model, x, y, strictOptions(options, FIT_OPTION_KEYS, where), where);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** fit(), giving the event loop a turn after every `yieldEvery` optimizer steps; the same steps, the same result. */
export async function fitAsync(model: FitModel, x: Samples, y: Samples, options: FitAsyncOptions | undefined, where: string): Promise<History> {
  const checked = strictOptions(options, FIT_ASYNC_OPTION_KEYS, where);
  const yieldEvery = positiveInteger(checked.yieldEvery ?? 1, 'yieldEvery', where);
  const steps = trainingSteps(model, x, y, checked, where);
  for (let step = 1; ; step++) {
    const next = steps.next();
    if (next.done) return next.value;
    if (step % yieldEvery === 0) await nextMacrotask();
  }
}

/**
 * Resolves in a later task of the event loop, after pending timers, I/O, input and rendering: setImmediate in
 * Node; elsewhere a MessageChannel message, which browsers do not throttle the way they clamp nested setTimeout
 * to 4 ms; setTimeout where neither exists.
 */
function nextMacrotask(): Promise<void> {
  const scope = globalThis as { setImmediate?: (callback: () => void) => unknown };
  return new Promise((resolve) => {
    if (typeof scope.setImmediate === 'function') {
      scope.setImmediate(resolve);
    } else if (typeof MessageChannel === 'function') {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    } else {
      setTimeout(resolve, 0);
    }
  });
}

/** The training loop, validated options in hand; yields after each optimizer step and returns the History. */
function* trainingSteps(model: FitModel, x: Samples, y: Samples, options: FitOptions, where: string): Generator<void, History, void> {
  const epochs = positiveInteger(options.epochs ?? 1, 'epochs', where);
  const batchSize = positiveInteger(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize', where);
  const shuffle = booleanOption(options.shuffle, 'shuffle', true, where);
  const verbose = booleanOption(options.verbose, 'verbose', true, where);
  const tbptt = options.tbptt === undefined ? undefined : positiveInteger(options.tbptt, 'tbptt', where);
  const data = model.dataset(x, y, options.lengths, where);
  if (tbptt !== undefined) model.checkTruncatedBptt(data);
  const onNonFinite = choiceOption(options.onNonFinite, 'onNonFinite', ['throw', 'ignore'] as const, 'throw', where);
  const { train, validation } = splitValidation(model, data, options, where);
  model.checkData(train, where);
  if (validation) model.checkData(validation, `${where}: validation data`);
  const { withAccuracy } = model;
  const stopping = options.earlyStopping === undefined ? undefined : earlyStopping(options.earlyStopping, validation !== undefined, withAccuracy, where);
  const callbacks = checkCallbacks(options.callbacks, where);

  const chunksPerBatch = tbptt === undefined ? 1 : Math.ceil(data.x.shape[1] / tbptt);
  const progress = new ProgressReporter(epochs, Math.ceil(train.size / batchSize) * chunksPerBatch, verbose);
  const history: History = {
    loss: [], ...(withAccuracy && { accuracy: [] }), ...(validation && { valLoss: [] }), ...(validation && withAccuracy && { valAccuracy: [] }),
    epochs: 0, stoppedEarly: false,
  };

  for (let epoch = 0; epoch < epochs; epoch++) {
    progress.startEpoch();
    const order = shuffle ? permutation(train.size) : range(0, train.size);
    const totals = new MetricTotals(withAccuracy);
    let step = 0;
    for (let start = 0; start < train.size; start += batchSize) {
      const batch = takeDataset(train, order.subarray(start, start + batchSize));
      let state: RecurrentState[] | undefined;
      for (let chunk = 0; chunk < chunksPerBatch; chunk++) {
        const part = tbptt === undefined ? batch : timeChunk(batch, chunk * tbptt, tbptt);
        const result = model.trainStep(part, state, onNonFinite);
        state = result.state;
        totals.add(result);
        callbacks.onBatchEnd?.(step, batchLogs(result, part.size, withAccuracy));
        step++;
        progress.batchEnd(epoch, step, totals.logs());
        yield;
      }
    }
    const logs: EpochLogs = totals.logs();
    if (validation) {
      const measured = model.evaluate(validation, batchSize);
      logs.valLoss = measured.loss;
      if (measured.accuracy !== undefined) logs.valAccuracy = measured.accuracy;
    }
    history.loss.push(logs.loss);
    history.accuracy?.push(logs.accuracy!);
    history.valLoss?.push(logs.valLoss!);
    history.valAccuracy?.push(logs.valAccuracy!);
    history.epochs = epoch + 1;
    progress.epochEnd(epoch, logs);
    callbacks.onEpochEnd?.(epoch, logs);
    if (stopping?.update(epoch, logs, () => model.stateDict())) {
      history.stoppedEarly = true;
      progress.note(`Early stopping after epoch ${epoch + 1}: ${stopping.monitor} has not improved since epoch ${stopping.bestEpoch + 1}`);
      break;
    }
  }
  if (stopping) {
    history.bestEpoch = stopping.bestEpoch;
    if (stopping.bestWeights) {
      model.loadStateDict(stopping.bestWeights);
      progress.note(`Restored the weights of epoch ${stopping.bestEpoch + 1}`);
    }
  }
  return history;
}

function splitValidation(model: FitModel, data: Dataset, options: FitOptions, where: string): { train: Dataset; validation?: Dataset } {
  const { validationSplit, validationData } = options;
  if (validationSplit !== undefined && validationData !== undefined) throw new ArgumentError(`${where}: give validationSplit or validationData, not both`);
  if (validationData !== undefined) {
    if (validationData === null || typeof validationData !== 'object') throw new ArgumentError(`${where}: validationData must be { x, y, lengths? }, got ${describe(validationData)}`);
    checkKeys(validationData, ['x', 'y', 'lengths'], `${where}: validationData`);
    return { train: data, validation: model.dataset(validationData.x, validationData.y, validationData.lengths, `${where}: validationData`) };
  }
  if (validationSplit === undefined || validationSplit === 0) return { train: data };
  if (typeof validationSplit !== 'number' || !(validationSplit > 0 && validationSplit < 1)) {
    throw new ArgumentError(`${where}: validationSplit must be a number in [0, 1), got ${describe(validationSplit)}`);
  }
  const cut = Math.floor(data.size * (1 - validationSplit));
  if (cut < 1) {
    throw new ArgumentError(`${where}: validationSplit ${validationSplit} of ${data.size} samples leaves ${cut} for training; at least one is needed`);
  }
  return { train: takeDataset(data, range(0, cut)), validation: takeDataset(data, range(cut, data.size)) };
}

function earlyStopping(options: EarlyStoppingOptions, hasValidation: boolean, withAccuracy: boolean, where: string): EarlyStopping {
  if (options === null || typeof options !== 'object') throw new ArgumentError(`${where}: earlyStopping must be { monitor?, patience?, minDelta?, restoreBest? }, got ${describe(options)}`);
  checkKeys(options, ['monitor', 'patience', 'minDelta', 'restoreBest'], `${where}: earlyStopping`);
  const available: Array<keyof EpochLogs> = ['loss'];
  if (withAccuracy) available.push('accuracy');
  if (hasValidation) available.push('valLoss');
  if (hasValidation && withAccuracy) available.push('valAccuracy');
  const monitor = options.monitor ?? (hasValidation ? 'valLoss' : 'loss');
  if (!available.includes(monitor)) {
    throw new ArgumentError(`${where}: earlyStopping.monitor must be one of the metrics this fit reports (${available.join(', ')}), got ${describe(monitor)}`);
  }
  const minDelta = options.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !(minDelta >= 0) || !Number.isFinite(minDelta)) throw new ArgumentError(`${where}: earlyStopping.minDelta must be a finite number ≥ 0, got ${describe(minDelta)}`);
  return new EarlyStopping(monitor, positiveInteger(options.patience ?? 1, 'earlyStopping.patience', where), minDelta,
    booleanOption(options.restoreBest, 'earlyStopping.restoreBest', false, where));
}

function checkCallbacks(callbacks: FitCallbacks | undefined, where: string): FitCallbacks {
  if (callbacks === undefined) return {};
  if (callbacks === null || typeof callbacks !== 'object') throw new ArgumentError(`${where}: callbacks must be { onEpochEnd?, onBatchEnd? }, got ${describe(callbacks)}`);
  checkKeys(callbacks, ['onEpochEnd', 'onBatchEnd'], `${where}: callbacks`);
  for (const [name, callback] of Object.entries(callbacks)) {
    if (typeof callback !== 'function') throw new ArgumentError(`${where}: callbacks.${name} must be a function, got ${describe(callback)}`);
  }
  return callbacks;
}

function batchLogs(result: LossEvaluation, size: number, withAccuracy: boolean): BatchLogs {
  return withAccuracy ? { loss: result.loss, accuracy: result.correct! / result.counted, size } : { loss: result.loss, size };
}
