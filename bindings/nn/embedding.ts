// Embedding lookup table (PyTorch nn.Embedding names, init and padding_idx), forward gather and backward scatter-add.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import type { LayerContext, StackLayer } from './module.js';
import { ParameterizedModule } from './parameters.js';
import { heapF32 } from '../runtime.js';
import { random } from '../random.js';
import { describe } from '../options.js';
import { Tensor, shapeSize, toTensor, type TensorLike } from '../tensor.js';

export interface EmbeddingOptions {
  numEmbeddings: number;
  embeddingDim: number;
  /** This row stays zero and gets no gradient (PyTorch's padding_idx; negative counts from the end). */
  paddingIdx?: number;
}

/** Standard normal samples by Box–Muller from the seeded generator. */
function fillNormal(out: Float32Array): void {
  for (let i = 0; i < out.length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < out.length) out[i + 1] = radius * Math.sin(angle);
  }
}

/** A Tensor or `{ shape, data }`, as opposed to a flat array of ids. */
function isTensorLike(ids: unknown): ids is TensorLike {
  return ids instanceof Tensor || (ids !== null && typeof ids === 'object' && !('length' in ids) && 'shape' in ids && 'data' in ids);
}

/**
 * ids [...shape] → vectors [...shape, E]; parameter `weight` [numEmbeddings, E] ~ N(0, 1) like PyTorch.
 * @example const emb = new Embedding({ numEmbeddings: 5000, embeddingDim: 64, paddingIdx: 0 });
 * const vectors = emb.forward(tensor([[1, 4, 2], [3, 0, 0]])); // [2, 3, 64]
 */
export class Embedding extends ParameterizedModule implements StackLayer {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | undefined;
  private lastIds: Int32Array | null = null;

  constructor(options: EmbeddingOptions) {
    if (options === null || typeof options !== 'object') throw new ArgumentError(`Embedding: expected an options object, got ${options === null ? 'null' : typeof options}`);
    for (const key of ['numEmbeddings', 'embeddingDim'] as const) {
      const value = options[key];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ArgumentError(`Embedding: ${key} must be a positive integer, got ${String(value)}`);
    }
    const { numEmbeddings, embeddingDim, paddingIdx } = options;
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
   * Looks up integer ids in [0, numEmbeddings): a Tensor (or `{ shape, data }`) of ids [...shape], or a flat
   * array of ids laid out as `shape` (default: [ids.length]). → [...shape, E].
   */
  forward(ids: TensorLike, opts?: { train?: boolean }): Tensor;
  forward(ids: ArrayLike<number>, shape?: readonly number[], opts?: { train?: boolean }): Tensor;
  forward(ids: TensorLike | ArrayLike<number>, shapeOrOptions?: readonly number[] | { train?: boolean }, options?: { train?: boolean }): Tensor {
    this.checkAlive();
    let values: ArrayLike<number>, shape: readonly number[], opts: { train?: boolean };
    if (isTensorLike(ids)) {
      if (Array.isArray(shapeOrOptions)) throw new ArgumentError('Embedding.forward: a Tensor of ids carries its shape; call forward(ids, { train })');
      ({ data: values, shape } = toTensor(ids, 'Embedding.forward: ids'));
      opts = (shapeOrOptions ?? {}) as { train?: boolean };
    } else {
      if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') throw new ArgumentError(`Embedding.forward: ids must be a Tensor or an array of integers, got ${describe(ids)}`);
      values = ids;
      shape = (shapeOrOptions ?? [ids.length]) as readonly number[];
      opts = options ?? {};
      if (shapeSize(shape) !== ids.length) throw new ShapeError(`Embedding.forward: shape ${formatShape(shape)} needs ${shapeSize(shape)} ids, got ${ids.length}`);
    }
    const E = this.embeddingDim;
    const indices = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const id = values[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.numEmbeddings) {
        throw new ArgumentError(`Embedding.forward: ids[${i}] = ${id} is out of range [0, ${this.numEmbeddings})`);
      }
      indices[i] = id;
    }
    const out = new Float32Array(values.length * E);
    const heap = heapF32(), weight = this.store.get('weight').ptr >>> 2;
    for (let i = 0; i < indices.length; i++) out.set(heap.subarray(weight + indices[i] * E, weight + (indices[i] + 1) * E), i * E);
    if (opts.train) this.lastIds = indices;
    return new Tensor(out, [...shape, E]);
  }

  /**
   * Adds dLoss/d(output) [..., E] of the last training forward into the looked-up rows' gradients (not the
   * padding row). Returns null: integer ids have no gradient.
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
