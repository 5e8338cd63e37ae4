// The module contract: what every module offers (Module: named parameters, gradients, state dict, dispose) and
// what a layer of a stack adds (StackLayer: Tensor in, Tensor out, and back), so that containers — Sequential,
// TreeClassifier, the importers' models — treat their children alike. Also the base of the parameter-free layers.

import { optionKeys } from '../options.js';
import type { Tensor, TensorLike } from '../tensor.js';
import type { Parameter } from './parameter.js';
import { loadStateSlots, type LoadOptions, type ParameterSlot } from './parameters.js';

/** The options of a plain layer's forward (Linear, Embedding, Dropout, activations). */
export interface TrainOptions {
  /** Keep what backward() needs (like autograd recording in PyTorch); default false. */
  train?: boolean;
}

export const TRAIN_OPTION_KEYS = optionKeys<TrainOptions>({ train: true });

/** What loadStateDict() found: keys the module has that the dict lacks, and keys the dict has that the module lacks. */
export interface LoadReport {
  /** Keys the module has that the dict lacks (left unchanged; an error unless `strict: false`). */
  missingKeys: string[];
  /** Keys the dict has that the module lacks (ignored; an error unless `strict: false`). */
  unexpectedKeys: string[];
}

/**
 * A module: parameters in Wasm memory under PyTorch's names and layouts, their gradients, its state dict, and the
 * memory it owns. Modules with parameters extend ParameterizedModule; modules made of modules extend Container.
 */
export interface Module {
  /** The trainable parameters in state-dict order, named as in the state dict. */
  parameters(): Parameter[];
  /** Names and shapes of the parameters, in state-dict order. */
  parameterShapes(): Record<string, number[]>;
  /** Copies of the accumulated gradients, keyed like stateDict(). */
  grads(): Record<string, Tensor>;
  /** Sets the accumulated gradients to zero (like torch's `module.zero_grad()`); gradients accumulate across backward calls until then. */
  zeroGrad(): void;
  /** Copies of the parameters. */
  stateDict(): Record<string, Tensor>;
  /** PyTorch's load_state_dict, strict by default; nothing is written unless the whole dict is valid. */
  loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport;
  /** Frees the Wasm memory of the module. Idempotent. */
  dispose(): void;
  /** @internal Where the parameters lie, in state-dict order; throws DisposedError after dispose(). */
  parameterSlots(): readonly ParameterSlot[];
  /** @internal Called after the values changed in place (loading, optimizers). */
  parametersChanged(): void;
}

/** A recurrent layer's state between calls: h [L·D, B, P] and, for LSTM, c [L·D, B, H]. */
export interface RecurrentState {
  /** Hidden state [L·D, B, P] (P = projSize, or H without projection). */
  h: Tensor;
  /** Cell state [L·D, B, H]; LSTM only. */
  c?: Tensor;
}

/** What travels beside the data through the layers of one forward of a stack (B sequences of T steps). */
export interface LayerContext {
  /** Keep what backwardLayer() needs. */
  readonly train: boolean;
  /** Valid steps of each sequence, integers in 1..T (validated once, by the stack); all T when absent. */
  readonly lengths?: Int32Array;
  /** The recurrent layers' initial states, in stack order; zeros when absent. */
  readonly initialState?: readonly RecurrentState[];
  /** The recurrent layers' final states: each appends its own, so the next starts from initialState[finalState.length]. */
  readonly finalState: RecurrentState[];
  /** Directions D (1 or 2) of the last recurrent layer's output, which LastStep reduces; 1 before any. */
  directions: 1 | 2;
}

/** A fresh context for one forward through a stack. */
export function layerContext(train: boolean, lengths?: Int32Array, initialState?: readonly RecurrentState[]): LayerContext {
  return { train, lengths, initialState, finalState: [], directions: 1 };
}

/** A module usable as a layer of a stack. Data is batch-first: [B, ...]. */
export interface StackLayer extends Module {
  /** Runs the layer on the batch-first output of the previous one, reading and extending `context`; what Sequential calls. */
  forwardLayer(x: Tensor, context: LayerContext): Tensor;
  /** dLoss/d(output) of the last training forwardLayer → dLoss/d(input), or null where the input has none (token ids). */
  backwardLayer(grad: Tensor): Tensor | null;
}

/** Base of the layers without parameters (activations, Dropout, LastStep): the module surface, empty. */
export abstract class ParameterFreeLayer implements StackLayer {
  abstract forwardLayer(x: Tensor, context: LayerContext): Tensor;
  abstract backwardLayer(grad: Tensor): Tensor | null;

  parameters(): Parameter[] {
    return [];
  }

  parameterShapes(): Record<string, number[]> {
    return {};
  }

  grads(): Record<string, Tensor> {
    return {};
  }

  zeroGrad(): void {}

  stateDict(): Record<string, Tensor> {
    return {};
  }

  /** Takes an empty dict (with `strict: false`, any dict, all of it unexpected). */
  loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    return loadStateSlots(`${this.constructor.name}.loadStateDict`, [], dict, opts);
  }

  /** @internal */
  parameterSlots(): readonly ParameterSlot[] {
    return [];
  }

  /** @internal */
  parametersChanged(): void {}

  /** Nothing to free. */
  dispose(): void {}

  /** Same as dispose(), for `using`. */
  [Symbol.dispose](): void {}
}
