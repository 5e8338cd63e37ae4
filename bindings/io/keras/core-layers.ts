// The non-recurrent Keras layers (Embedding, Masking, Dense, TimeDistributed(Dense), Activation, Dropout,
// Flatten, Reshape, global pooling) and buildLayer(), which picks the class for a layer of model.json.

import { Embedding, Linear, Tensor, withStateDict } from '../../index.js';
import { DENSE_ACTIVATIONS, activationOption, applyActivation } from './activations.js';
import { LayerConfig, isObject, readDims, type LayerSpec } from './config.js';
import { KerasError } from './errors.js';
import { KerasLayer, expectRank, knownDim, type LayerInput, type LayerResult, type Values } from './layer.js';
import { maskSteps, poolSteps, type Mask } from './masking.js';
import { RecurrentLayer } from './recurrent-layers.js';
import { LayerWeights, type KerasWeight } from './weights.js';

/** Embedding: token ids [B, T] → vectors [B, T, E] on a looptree Embedding; mask_zero masks the steps whose id is 0. */
class EmbeddingLayer extends KerasLayer {
  private readonly module: Embedding;
  private readonly maskZero: boolean;

  constructor(layer: LayerConfig, input: LayerInput, weights: LayerWeights) {
    super(layer, input, weights);
    expectRank(layer, input, 1, '(None, steps) of token ids');
    const vocabulary = layer.dim('input_dim'), width = layer.dim('output_dim');
    this.maskZero = layer.boolean('mask_zero', false);
    const embeddings = weights.get('embeddings', [vocabulary, width]);
    weights.expectOnly('embeddings');
    this.module = withStateDict(new Embedding({ numEmbeddings: vocabulary, embeddingDim: width }), { weight: embeddings });
    this.outputShapes = [[input.shape[0], width]];
    this.outputMasked = this.maskZero;
  }

  call(x: Values): LayerResult {
    const mask = this.maskZero ? Uint8Array.from(x.data, (id) => (id !== 0 ? 1 : 0)) : null;
    return { outputs: [this.module.forward(x.data, x.shape)], mask };
  }

  override dispose(): void {
    this.module.dispose();
  }
}

/** Masking: steps whose features all equal mask_value are masked (and zeroed). */
class MaskingLayer extends KerasLayer {
  private readonly maskValue: number;

  constructor(layer: LayerConfig, input: LayerInput, weights: LayerWeights) {
    super(layer, input, weights);
    expectRank(layer, input, 2, '(None, steps, features)');
    this.maskValue = layer.number('mask_value', 0);
    this.outputMasked = true;
  }

  call(x: Values): LayerResult {
    const [B, T, F] = x.shape;
    const { values, mask } = maskSteps(x.data, B, T, F, this.maskValue);
    return { outputs: [new Tensor(values, x.shape)], mask };
  }
}

/** Dense (also as TimeDistributed(Dense)): x @ kernel + bias over the last axis on a looptree Linear, then the activation. */
class DenseLayer extends KerasLayer {
  private readonly module: Linear;
  private readonly activation: string;

  constructor(layer: LayerConfig, input: LayerInput, weights: LayerWeights) {
    super(layer, input, weights);
    const inFeatures = knownDim(layer, input.shape[input.shape.length - 1], 'number of input features');
    const units = layer.dim('units');
    const bias = layer.boolean('use_bias', true);
    this.activation = activationOption(layer, 'activation', 'linear', DENSE_ACTIVATIONS);
    const kernel = weights.get('kernel', [inFeatures, units]);
    const dict: Record<string, Tensor> = { weight: new Tensor(transpose(kernel.data, inFeatures, units), [units, inFeatures]) };
    if (bias) dict.bias = new Tensor(weights.get('bias', [units]).data, [units]);
    weights.expectOnly('kernel', ...(bias ? ['bias'] : []));
    this.module = withStateDict(new Linear({ inFeatures, outFeatures: units, bias }), dict);
    this.outputShapes = [[...input.shape.slice(0, -1), units]];
  }

  call(x: Values, mask: Mask | null): LayerResult {
    const y = this.module.forward(x);
    applyActivation(this.activation, y.data, this.module.outFeatures);
    return { outputs: [y], mask };
  }

  override dispose(): void {
    this.module.dispose();
  }
}

function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c];
  return out;
}

/** TimeDistributed(Dense): Dense already acts on the last axis of every step. */
function timeDistributed(layer: LayerConfig, input: LayerInput, weights: LayerWeights): KerasLayer {
  const inner = layer.get('layer');
  if (!isObject(inner) || inner.class_name !== 'Dense' || !isObject(inner.config)) {
    throw layer.error(`wraps ${isObject(inner) ? `a ${String(inner.class_name)}` : 'no layer'}; TimeDistributed is supported around Dense`);
  }
  if (input.shape.length < 2) throw layer.error('expects input of shape (None, steps, ..., features)');
  return new DenseLayer(new LayerConfig({ ...layer.spec, config: inner.config }), input, weights);
}

/** Activation: a Dense activation on its own. */
class ActivationLayer extends KerasLayer {
  private readonly activation: string;

  constructor(layer: LayerConfig, input: LayerInput, weights: LayerWeights) {
    super(layer, input, weights);
    this.activation = activationOption(layer, 'activation', 'linear', DENSE_ACTIVATIONS);
  }

  call(x: Values, mask: Mask | null): LayerResult {
    const y = Float32Array.from(x.data);
    applyActivation(this.activation, y, x.shape[x.shape.length - 1]);
    return { outputs: [new Tensor(y, x.shape)], mask };
  }
}

/** Dropout and SpatialDropout1D: the identity at inference. */
class IdentityLayer extends KerasLayer {
  call(x: Values, mask: Mask | null): LayerResult {
    return { outputs: [x instanceof Tensor ? x : new Tensor(Float32Array.from(x.data), x.shape)], mask };
  }
}

/** Flatten and Reshape: the same values under another shape, known when the model is built (no masks, as in Keras). */
class ReshapeLayer extends KerasLayer {
  private readonly shape: number[];

  constructor(layer: LayerConfig, input: LayerInput, weights: LayerWeights) {
    super(layer, input, weights);
    if (input.masked) throw layer.error('does not support masking, but a mask comes from an earlier layer (as in Keras)');
    const size = input.shape.reduce<number>((product, dim, i) => product * knownDim(layer, dim, `input dimension ${i + 1}`), 1);
    if (layer.spec.className === 'Flatten') {
      layer.unsupportedUnless('data_format', 'channels_last');
      this.shape = [size];
    } else {
      this.shape = reshapeTarget(layer, size);
    }
    this.outputShapes = [this.shape];
  }

  call(x: Values, mask: Mask | null): LayerResult {
    return { outputs: [new Tensor(Float32Array.from(x.data), [x.shape[0], ...this.shape])], mask };
  }
}

/** Reshape's target_shape with its one −1 (if any) resolved so that it holds `size` values. */
function reshapeTarget(layer: LayerConfig, size: number): number[] {
  const target = layer.get('target_shape');
  const free = Array.isArray(target) ? target.indexOf(-1) : -1;
  const listed = free < 0 ? target : (target as unknown[]).filter((_, i) => i !== free);
  const known = readDims(listed, `${layer.where}: target_shape`, false) as number[];
  const knownSize = known.reduce((product, dim) => product * dim, 1);
  const shape = free < 0 ? known : [...known.slice(0, free), size / knownSize, ...known.slice(free)];
  if (!shape.every(Number.isInteger) || shape.reduce((product, dim) => product * dim, 1) !== size) {
    throw layer.error(`target_shape ${JSON.stringify(target)} cannot hold the ${size} values of each input`);
  }
  return shape;
}

/** GlobalAveragePooling1D (mask-aware, as in Keras) and GlobalMaxPooling1D: [B, T, F] → [B, F] ([B, 1, F] with keepdims). */
class PoolingLayer extends KerasLayer {
  private readonly mode: 'average' | 'max';
  private readonly keepDims: boolean;

  constructor(layer: LayerConfig, input: LayerInput, weights: LayerWeights) {
    super(layer, input, weights);
    expectRank(layer, input, 2, '(None, steps, features)');
    layer.unsupportedUnless('data_format', 'channels_last');
    this.mode = layer.spec.className === 'GlobalMaxPooling1D' ? 'max' : 'average';
    this.keepDims = layer.boolean('keepdims', false);
    this.outputShapes = [this.keepDims ? [1, input.shape[1]] : [input.shape[1]]];
    this.outputMasked = false;
  }

  call(x: Values, mask: Mask | null): LayerResult {
    const [B, T, F] = x.shape;
    const pooled = poolSteps(x.data, B, T, F, this.mode, mask);
    return { outputs: [new Tensor(pooled, this.keepDims ? [B, 1, F] : [B, F])], mask: null };
  }
}

type Builder = (layer: LayerConfig, input: LayerInput, weights: LayerWeights) => KerasLayer;
type LayerClass = new (layer: LayerConfig, input: LayerInput, weights: LayerWeights) => KerasLayer;
const make = (Layer: LayerClass): Builder => (layer, input, weights) => new Layer(layer, input, weights);
/** A layer class without weights: any weight under its name is an error. */
const weightless = (Layer: LayerClass): Builder => (layer, input, weights) => {
  weights.expectOnly();
  return new Layer(layer, input, weights);
};

const BUILDERS: Record<string, Builder> = {
  Embedding: make(EmbeddingLayer),
  Masking: weightless(MaskingLayer),
  Dense: make(DenseLayer),
  TimeDistributed: timeDistributed,
  Activation: weightless(ActivationLayer),
  Dropout: weightless(IdentityLayer),
  SpatialDropout1D: weightless(IdentityLayer),
  Flatten: weightless(ReshapeLayer),
  Reshape: weightless(ReshapeLayer),
  GlobalAveragePooling1D: weightless(PoolingLayer),
  GlobalMaxPooling1D: weightless(PoolingLayer),
};
const RECURRENT = ['SimpleRNN', 'LSTM', 'GRU'];

/** Builds one layer of the chain on its input, with the weights under its name; KerasError for a class looptree does not run. */
export function buildLayer(spec: LayerSpec, input: LayerInput, weights: readonly KerasWeight[]): KerasLayer {
  const layer = new LayerConfig(spec);
  if (RECURRENT.includes(spec.className)) return RecurrentLayer.cell(layer, input, weights);
  if (spec.className === 'Bidirectional') return RecurrentLayer.bidirectional(layer, input, weights);
  const build = Object.hasOwn(BUILDERS, spec.className) ? BUILDERS[spec.className] : undefined;
  if (!build) {
    throw new KerasError(`${layer.where}: layer class ${spec.className} is not supported (supported: InputLayer, ${[...Object.keys(BUILDERS), ...RECURRENT, 'Bidirectional'].join(', ')})`);
  }
  return build(layer, input, new LayerWeights(layer, weights));
}
