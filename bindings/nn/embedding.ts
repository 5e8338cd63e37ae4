// Embedding lookup table (PyTorch nn.Embedding names, init and padding_idx), forward gather and backward scatter-add.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { TRAIN_OPTION_KEYS, type LayerContext, type StackLayer, type TrainOptions } from './module.js';
import { ParameterizedModule } from './parameters.js';
import { heapF32 } from '../runtime.js';
import { random } from '../random.js';
import { integerId, optionKeys, positiveInteger, strictOptions } from '../options.js';
import { Tensor, shapeSize, toTensor, type TensorLike } from '../tensor.js';

/** Options of `new Embedding(…)`, torch.nn.Embedding's arguments camelCased (max_norm, sparse, … are rejected with a reason). */
export interface EmbeddingOptions {
  /** Rows of the table: ids are integers in [0, numEmbeddings) (torch's `num_embeddings`, Keras' `input_dim`). */
  numEmbeddings: number;
  /** Width E of each vector (torch's `embedding_dim`, Keras' `output_dim`). */
  embeddingDim: number;
  /** This row stays zero and gets no gradient (PyTorch's padding_idx; negative counts from the end). */
  paddingIdx?: number;
}

const EMBEDDING_KEYS = optionKeys<EmbeddingOptions>({ numEmbeddings: true, embeddingDim: true, paddingIdx: true });
/** nn.Embedding's options that this Embedding does not have. */
const UNSUPPORTED = {
  maxNorm: 'looked-up rows are not renormalized',
  normType: 'looked-up rows are not renormalized',
  scaleGradByFreq: 'gradients are not scaled by word frequency',
  sparse: 'gradients are dense',
};

/** Standard normal samples by Box–Muller from the seeded generator. */
function fillNormal(out: Float32Array): void {
  for (let i = 0; i < out.length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < out.length) out[i + 1] = radius * Math.sin(angle);
  }
}

/** A flat array or typed array of ids, as opposed to a Tensor, `{ shape, data }` or nested arrays. */
function isFlatIds(ids: unknown): ids is ArrayLike<number> {
  return ids !== null && typeof ids === 'object' && typeof (ids as ArrayLike<number>).length === 'number' && !(Array.isArray(ids) && ids.some(Array.isArray));
}

/**
 * A lookup table, like torch.nn.Embedding (Keras Embedding, tf.layers.embedding):
 * ids [...shape] → vectors [...shape, E]; parameter `weight` [numEmbeddings, E] ~ N(0, 1) like PyTorch.
 * @example const emb = new Embedding({ numEmbeddings: 5000, embeddingDim: 64, paddingIdx: 0 });
 * const vectors = emb.forward(tensor([[1, 4, 2], [3, 0, 0]])); // [2, 3, 64]
 */
export class Embedding extends ParameterizedModule implements StackLayer {
  /** Rows of the table. */
  readonly numEmbeddings: number;
  /** Width E of each vector. */
  readonly embeddingDim: number;
  /** The padding row (made non-negative), which stays zero and gets no gradient; undefined without one. */
  readonly paddingIdx: number | undefined;
  private lastIds: Int32Array | null = null;

  /**
   * Allocates the table in Wasm memory (call `init()` first). Throws ArgumentError for an invalid or unknown option,
   * a paddingIdx outside [−numEmbeddings, numEmbeddings), or an nn.Embedding option this layer does not have.
   */
  constructor(options: EmbeddingOptions) {
    const checked = strictOptions(options, EMBEDDING_KEYS, 'Embedding', UNSUPPORTED);
    const numEmbeddings = positiveInteger(checked.numEmbeddings, 'numEmbeddings', 'Embedding');
    const embeddingDim = positiveInteger(checked.embeddingDim, 'embeddingDim', 'Embedding');
    const { paddingIdx } = checked;
    if (paddingIdx !== undefined && (!Number.isInteger(paddingIdx) || paddingIdx < -numEmbeddings || paddingIdx >= numEmbeddings)) {
      throw new ArgumentError(`Embedding: paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${paddingIdx}`);
    }
    super([{ name: 'weight', shape: [numEmbeddings, embeddingDim] }]);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = paddingIdx === undefined ? undefined : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
    this.resetParameters();
  }

  /** PyTorch's init: weight ~ N(0, 1), the padding row zero. */
  resetParameters(): void {
    this.checkAlive();
    const values = new Float32Array(this.numEmbeddings * this.embeddingDim);
    fillNormal(values);
    if (this.paddingIdx !== undefined) values.fill(0, this.paddingIdx * this.embeddingDim, (this.paddingIdx + 1) * this.embeddingDim);
    heapF32().set(values, this.store.get('weight').ptr >>> 2);
  }

  /** @internal Nothing is derived from the weight. */
  parametersChanged(): void {}

  /**
   * Looks up integer ids in [0, numEmbeddings): ids [...shape] as a Tensor, `{ shape, data }` or nested arrays, or a
   * flat array of ids laid out as `shape` (default: [ids.length]). → [...shape, E].
   * Throws ArgumentError for an id that is not an integer in range, ShapeError when `shape` does not match the ids.
   */
  forward(ids: TensorLike, opts?: TrainOptions): Tensor;
  forward(ids: ArrayLike<number>, shape?: readonly number[], opts?: TrainOptions): Tensor;
  forward(ids: TensorLike, shapeOrOptions?: readonly number[] | TrainOptions, options?: TrainOptions): Tensor {
    this.checkAlive();
    const where = 'Embedding.forward';
    const flatShape = Array.isArray(shapeOrOptions) ? shapeOrOptions as readonly number[] : undefined;
    const opts = strictOptions(flatShape ? options : shapeOrOptions as TrainOptions | undefined, TRAIN_OPTION_KEYS, where);
    let values: ArrayLike<number>, shape: readonly number[];
    if (isFlatIds(ids)) {
      // Flat ids are read as given: float32 would round ids above 2^24.
      values = ids;
      shape = flatShape ?? [ids.length];
      if (shapeSize(shape) !== ids.length) throw new ShapeError(`${where}: shape ${formatShape(shape)} needs ${shapeSize(shape)} ids, got ${ids.length}`);
    } else {
      if (flatShape) throw new ArgumentError(`${where}: a Tensor (or nested arrays) of ids carries its shape; call forward(ids, { train })`);
      ({ data: values, shape } = toTensor(ids, `${where}: ids`));
    }
    const E = this.embeddingDim;
    const indices = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) indices[i] = integerId(values[i], `ids[${i}]`, this.numEmbeddings, where);
    const out = new Float32Array(values.length * E);
    const heap = heapF32(), weight = this.store.get('weight').ptr >>> 2;
    for (let i = 0; i < indices.length; i++) out.set(heap.subarray(weight + indices[i] * E, weight + (indices[i] + 1) * E), i * E);
    if (opts.train) this.lastIds = indices;
    return new Tensor(out, [...shape, E]);
  }

  /**
   * Adds dLoss/d(output) [..., E] of the last training forward into the looked-up rows' gradients (not the
   * padding row). Returns null: integer ids have no gradient. Throws ArgumentError without a pending training
   * forward, ShapeError for a gradient of another shape.
   */
  backward(gradOutput: TensorLike): null {
    this.checkAlive();
    const ids = this.lastIds;
    if (!ids) throw new ArgumentError('Embedding.backward(): call forward(ids, { train: true }) first');
    const d = toTensor(gradOutput, 'Embedding.backward: gradient');
    const E = this.embeddingDim;
    if (d.data.length !== ids.length * E || d.shape[d.shape.length - 1] !== E) {
      throw new ShapeError(`Embedding.backward: expected a gradient of ${ids.length} rows of ${E}, got shape ${formatShape(d.shape)}`);
    }
    const gradient = this.store.gradientPtr(this.store.get('weight')) >>> 2;
    const heap = heapF32();
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === this.paddingIdx) continue;
      const row = gradient + ids[i] * E;
      for (let j = 0; j < E; j++) heap[row + j] += d.data[i * E + j];
    }
    this.lastIds = null;
    return null;
  }

  /** @internal The StackLayer contract: x holds the ids. */
  forwardLayer(x: Tensor, context: LayerContext): Tensor {
    return this.forward(x, { train: context.train });
  }

  /** @internal */
  backwardLayer(grad: Tensor): null {
    return this.backward(grad);
  }
}
