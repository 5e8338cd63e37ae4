// The contract of one Keras layer of a loaded chain: built from its config, input shape and weights, then
// called on batch-first values with the Keras mask of its input.

import type { RecurrentModule, Tensor } from '../../index.js';
import type { Dim, LayerConfig } from './config.js';
import type { Mask } from './masking.js';
import type { LayerWeights } from './weights.js';

/** Values flowing between layers, batch first: a Tensor, or the model input as given (e.g. token ids). */
export interface Values {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** What a layer is built on: its input shape without the batch axis, and whether a mask comes with it. */
export interface LayerInput {
  readonly shape: Dim[];
  readonly masked: boolean;
}

export interface LayerResult {
  readonly outputs: Tensor[];
  /** The mask of the first output, passed to the next layer (null: none). */
  readonly mask: Mask | null;
}

/** One layer of the chain; subclasses read their options in the constructor and throw KerasError for anything unsupported. */
export abstract class KerasLayer {
  readonly name: string;
  readonly className: string;
  readonly trainable: boolean;
  /** Output shapes without the batch axis, one per output tensor (by default, the input's shape). */
  outputShapes: Dim[][];
  /** Whether the first output carries a mask to the next layer (by default, the input's passes through). */
  outputMasked: boolean;
  /** Keras' parameter count: the number of values of the layer's weights. */
  readonly params: number;

  constructor(protected readonly layer: LayerConfig, input: LayerInput, ...weights: LayerWeights[]) {
    this.name = layer.spec.name;
    this.className = layer.spec.className;
    this.trainable = layer.boolean('trainable', true);
    this.outputShapes = [input.shape];
    this.outputMasked = input.masked;
    this.params = weights.reduce((sum, group) => sum + group.size, 0);
  }

  abstract call(x: Values, mask: Mask | null): LayerResult;

  /** The looptree recurrent modules this layer runs (for KerasModel.layers). */
  get recurrentModules(): RecurrentModule[] {
    return [];
  }

  /** Forgets carried state (stateful recurrent layers). */
  resetStates(): void {}

  dispose(): void {}
}

/** The size of a dimension that must be known to build the layer (not null), or a KerasError naming it. */
export function knownDim(layer: LayerConfig, dim: Dim | undefined, what: string): number {
  if (typeof dim !== 'number') throw layer.error(`needs a known ${what}, got ${dim === undefined ? 'none' : 'None'}`);
  return dim;
}

/** Checks the input rank (without the batch axis). */
export function expectRank(layer: LayerConfig, input: LayerInput, rank: number, form: string): void {
  if (input.shape.length !== rank) {
    throw layer.error(`expects input of shape ${form}, got (None, ${input.shape.map((d) => d ?? 'None').join(', ')})`);
  }
}

