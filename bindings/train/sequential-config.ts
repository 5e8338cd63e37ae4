// Sequential's JSON-able configuration: one entry per layer with its constructor options, and rebuilding the
// layers from it (Sequential.load).

import { ArgumentError } from '../errors.js';
import { readSafetensorsMetadata } from '../io/safetensors.js';
import { GRU, LSTM, RNN, type GRUOptions, type LSTMOptions, type RNNOptions } from '../nn/recurrent.js';
import { MAX_DIMENSION, describe, positiveInteger } from '../options.js';
import { Embedding, type EmbeddingOptions } from '../nn/embedding.js';
import { LastStep } from '../nn/last-step.js';
import { Dropout, LogSoftmax, ReLU, Sigmoid, Tanh } from '../nn/layers.js';
import { Linear, type LinearOptions } from '../nn/linear.js';

/** The layers a Sequential accepts. */
export type Layer = Embedding | Linear | RNN | LSTM | GRU | Dropout | ReLU | Tanh | Sigmoid | LogSoftmax | LastStep;

/**
 * One layer of a SequentialConfig: `type` is the layer's class name, and the rest its constructor options
 * (`{ type: 'LSTM', inputSize: 16, hiddenSize: 32, batchFirst: true }`); Dropout keeps its `p`.
 */
export type LayerConfig =
  | ({ type: 'Embedding' } & EmbeddingOptions)
  | ({ type: 'Linear' } & Required<LinearOptions>)
  | ({ type: 'RNN' } & RNNOptions)
  | ({ type: 'LSTM' } & LSTMOptions)
  | ({ type: 'GRU' } & GRUOptions)
  | { type: 'Dropout'; p: number }
  | { type: 'ReLU' | 'Tanh' | 'Sigmoid' | 'LogSoftmax' | 'LastStep' };

/** The JSON-able description save() writes; Sequential.load() rebuilds the layers from it. */
export interface SequentialConfig {
  /** Marks the object as a looptree Sequential config. */
  format: 'looptree.Sequential';
  /** Version of this format. */
  version: 1;
  /** The layers, in order. */
  layers: LayerConfig[];
}

/** A layer's class name, as in its config. */
export type LayerType = LayerConfig['type'];

export const LAYER_TYPES: readonly LayerType[] = ['Embedding', 'Linear', 'RNN', 'LSTM', 'GRU', 'Dropout', 'ReLU', 'Tanh', 'Sigmoid', 'LogSoftmax', 'LastStep'];

/** SequentialConfig.format. */
export const CONFIG_FORMAT = 'looptree.Sequential';
/** The safetensors metadata key save() stores the config under. */
export const CONFIG_METADATA_KEY = 'looptree.config';

/** The type of a layer Sequential accepts, else undefined. */
export function layerType(layer: unknown): LayerType | undefined {
  if (layer instanceof Embedding) return 'Embedding';
  if (layer instanceof Linear) return 'Linear';
  if (layer instanceof LSTM) return 'LSTM';
  if (layer instanceof GRU) return 'GRU';
  if (layer instanceof RNN) return 'RNN';
  if (layer instanceof Dropout) return 'Dropout';
  if (layer instanceof ReLU) return 'ReLU';
  if (layer instanceof Tanh) return 'Tanh';
  if (layer instanceof Sigmoid) return 'Sigmoid';
  if (layer instanceof LogSoftmax) return 'LogSoftmax';
  if (layer instanceof LastStep) return 'LastStep';
  return undefined;
}

/** A layer's constructor options as its config entry. */
export function layerConfig(layer: Layer): LayerConfig {
  if (layer instanceof Embedding) {
    const config: { type: 'Embedding' } & EmbeddingOptions = { type: 'Embedding', numEmbeddings: layer.numEmbeddings, embeddingDim: layer.embeddingDim };
    if (layer.paddingIdx !== undefined) config.paddingIdx = layer.paddingIdx;
    return config;
  }
  if (layer instanceof Linear) return { type: 'Linear', inFeatures: layer.inFeatures, outFeatures: layer.outFeatures, bias: layer.bias };
  if (layer instanceof LSTM) return { type: 'LSTM', ...layer.options() };
  if (layer instanceof GRU) return { type: 'GRU', ...layer.options() };
  if (layer instanceof RNN) return { type: 'RNN', ...layer.options() };
  if (layer instanceof Dropout) return { type: 'Dropout', p: layer.p };
  return { type: layerType(layer) as 'ReLU' | 'Tanh' | 'Sigmoid' | 'LogSoftmax' | 'LastStep' };
}

/** The config save() wrote into the safetensors metadata. */
export function configFromMetadata(weights: Uint8Array, where: string): SequentialConfig {
  const text = readSafetensorsMetadata(weights)[CONFIG_METADATA_KEY];
  if (text === undefined) throw new ArgumentError(`${where}: no config given, and the weights have no "${CONFIG_METADATA_KEY}" metadata (pass { config, weights } from save())`);
  try {
    return JSON.parse(text) as SequentialConfig;
  } catch {
    throw new ArgumentError(`${where}: the "${CONFIG_METADATA_KEY}" metadata is not valid JSON`);
  }
}

/** The most stacked layers one recurrent layer of a config may say it has (PyTorch models use a handful). */
export const MAX_CONFIG_LAYERS = 1000;

/** The options of the layer configs that are sizes: positive integers ≤ MAX_DIMENSION (numLayers ≤ MAX_CONFIG_LAYERS). */
const SIZE_KEYS = ['numLayers', 'inputSize', 'hiddenSize', 'projSize', 'numEmbeddings', 'embeddingDim', 'inFeatures', 'outFeatures'] as const;

/**
 * Bounds the sizes of a config's layers (positive integers ≤ MAX_DIMENSION, numLayers ≤ MAX_CONFIG_LAYERS): load()
 * checks them before building anything — a file saying numLayers 20,000 would otherwise take seconds — and save()
 * before writing, so that it never writes a file load() refuses.
 */
export function checkConfigSizes(config: SequentialConfig, where: string): void {
  config.layers.forEach((layer, i) => {
    if (layer === null || typeof layer !== 'object') return;
    for (const key of SIZE_KEYS) {
      const value = (layer as Record<string, unknown>)[key];
      if (value === undefined || (key === 'projSize' && value === 0)) continue;
      positiveInteger(value, `config.layers[${i}].${key}`, where, key === 'numLayers' ? MAX_CONFIG_LAYERS : MAX_DIMENSION);
    }
  });
}

/** Constructs the layers of a config; the layer constructors validate their options. */
export function buildLayers(config: SequentialConfig, where: string): Layer[] {
  if (config === null || typeof config !== 'object' || config.format !== CONFIG_FORMAT || config.version !== 1) {
    throw new ArgumentError(`${where}: expected a config with format '${CONFIG_FORMAT}' and version 1, got ${config !== null && typeof config === 'object' ? `format ${describe(config.format)}, version ${describe(config.version)}` : describe(config)}`);
  }
  if (!Array.isArray(config.layers) || config.layers.length === 0) throw new ArgumentError(`${where}: config.layers must be a non-empty array, got ${describe(config.layers)}`);
  checkConfigSizes(config, where);
  const layers: Layer[] = [];
  try {
    config.layers.forEach((layer, i) => {
      if (layer === null || typeof layer !== 'object' || !LAYER_TYPES.includes(layer.type)) {
        throw new ArgumentError(`${where}: config.layers[${i}].type must be one of ${LAYER_TYPES.join(', ')}, got ${describe(layer?.type)}`);
      }
      layers.push(buildLayer(layer));
    });
  } catch (error) {
    for (const layer of layers) layer.dispose();
    throw error;
  }
  return layers;
}

function buildLayer(config: LayerConfig): Layer {
  const { type, ...options } = config;
  switch (type) {
    case 'Embedding': return new Embedding(options as EmbeddingOptions);
    case 'Linear': return new Linear(options as LinearOptions);
    case 'RNN': return new RNN(options as RNNOptions);
    case 'LSTM': return new LSTM(options as LSTMOptions);
    case 'GRU': return new GRU(options as GRUOptions);
    case 'Dropout': return new Dropout({ p: config.p });
    case 'ReLU': return new ReLU();
    case 'Tanh': return new Tanh();
    case 'Sigmoid': return new Sigmoid();
    case 'LogSoftmax': return new LogSoftmax();
    case 'LastStep': return new LastStep();
  }
}
