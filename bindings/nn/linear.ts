// Linear layer y = x·Wᵀ + b (PyTorch nn.Linear names, layout and init), forward and backward in Wasm; its quantized
// class (QuantizedLinear, nn/quantized.ts) holds W as an int8 blob and runs forward only, through gemmInt8.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { booleanOption, optionKeys, positiveInteger, strictOptions } from '../options.js';
import { TRAIN_OPTION_KEYS, type LayerContext, type StackLayer, type TrainOptions } from './module.js';
import { ParameterizedModule } from './parameters.js';
import { inferenceOnly, packInt8 } from './int8-weights.js';
import { Layout, heapF32, kernels, packedFloats, padToPanels, readF32, reserveArena, writeF32 } from '../runtime.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';

/** Options of `new Linear(…)`, torch.nn.Linear's arguments camelCased. */
export interface LinearOptions {
  /** Features of each input row (torch's `in_features`). */
  inFeatures: number;
  /** Features of each output row (torch's `out_features`). */
  outFeatures: number;
  /** Learn an additive bias, default true. */
  bias?: boolean;
}

const LINEAR_KEYS = optionKeys<LinearOptions>({ inFeatures: true, outFeatures: true, bias: true });

/**
 * A fully connected layer, like torch.nn.Linear (Keras Dense without activation, tf.layers.dense): y = x·Wᵀ + b over the last axis: [..., in] → [..., out]. Parameters `weight` [out, in] and `bias` [out],
 * initialized like PyTorch, U(−1/√in, 1/√in).
 * @example const head = new Linear({ inFeatures: 256, outFeatures: 10 }); const logits = head.forward(h);
 */
export class Linear extends ParameterizedModule implements StackLayer {
  /** Input features (in). */
  readonly inFeatures: number;
  /** Output features (out). */
  readonly outFeatures: number;
  /** Whether the layer has a `bias` parameter. */
  readonly bias: boolean;
  /** Packed weight (packedFloats(out, in); a quantized class: its int8 blob), then the bias padded to whole panels (padToPanels). */
  private readonly packed: number;
  private readonly packedBias: number;
  /** The input of the last training forward, for backward(). */
  private readonly saved = this.growingBlock();
  private savedRows = -1;

  /** Allocates weight (and bias) in Wasm memory (call `init()` first). Throws ArgumentError for an invalid or unknown option. */
  constructor(options: LinearOptions) {
    const checked = strictOptions(options, LINEAR_KEYS, 'Linear');
    const inFeatures = positiveInteger(checked.inFeatures, 'inFeatures', 'Linear');
    const outFeatures = positiveInteger(checked.outFeatures, 'outFeatures', 'Linear');
    const bias = booleanOption(checked.bias, 'bias', true, 'Linear');
    super(bias ? [{ name: 'weight', shape: [outFeatures, inFeatures] }, { name: 'bias', shape: [outFeatures] }]
      : [{ name: 'weight', shape: [outFeatures, inFeatures] }]);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.bias = bias;
    const weightBytes = this.int8Names.length > 0 ? kernels().quantizedWeightBytes(outFeatures, inFeatures) : packedFloats(outFeatures, inFeatures) * 4;
    this.packed = this.allocOwned(weightBytes + padToPanels(outFeatures) * 4);
    this.packedBias = this.packed + weightBytes;
    this.resetParameters();
  }

  /** PyTorch's init: weight and bias ~ U(−1/√in, 1/√in), from the seeded generator. */
  resetParameters(): void {
    this.resetUniform(1 / Math.sqrt(this.inFeatures));
  }

  /** @internal Re-packs the weight after its values changed. */
  parametersChanged(): void {
    if (this.int8Names.length === 0) kernels().packWeight(this.packed, this.store.get('weight').ptr, this.outFeatures, this.inFeatures);
    else if (this.int8Weights) packInt8(this.packed, this.int8Weights.get('weight')!);
    const heap = heapF32(), bias = this.packedBias >>> 2;
    heap.fill(0, bias, bias + padToPanels(this.outFeatures));
    if (this.bias) heap.set(heap.subarray(this.store.get('bias').ptr >>> 2, (this.store.get('bias').ptr >>> 2) + this.outFeatures), bias);
    this.savedRows = -1;
  }

  /**
   * [..., in] → [..., out]. With `train`, keeps the input for backward(). Throws ShapeError when the last axis is
   * not `inFeatures`, ArgumentError for an unknown option, DisposedError after dispose().
   */
  forward(input: TensorLike, options?: TrainOptions): Tensor {
    this.checkAlive();
    const name = this.constructor.name;
    const opts = strictOptions(options, TRAIN_OPTION_KEYS, `${name}.forward`);
    const int8 = this.int8Names.length > 0;
    if (int8 && opts.train) throw inferenceOnly(name, 'forward');
    this.checkInt8Loaded(`${name}.forward`);
    const x = toTensor(input, `${name}.forward: input`);
    if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== this.inFeatures) {
      throw new ShapeError(`${name}.forward: expected input of shape [..., ${this.inFeatures}], got ${formatShape(x.shape)}`);
    }
    const rows = x.data.length / this.inFeatures;
    if (opts.train) {
      writeF32(this.saved.reserve(x.data.length * 4), x.data);
      this.savedRows = rows;
    }
    const layout = new Layout();
    const xAt = layout.take(x.data.length * 4);
    const yAt = layout.take(rows * this.outFeatures * 4);
    const scratchAt = int8 ? layout.take(kernels().int8ScratchBytes(rows, this.inFeatures)) : 0; // x quantized per row
    const base = reserveArena(layout.size);
    writeF32(base + xAt, x.data);
    if (int8) kernels().gemmInt8(base + yAt, base + xAt, this.packed, this.bias ? this.packedBias : 0, rows, this.outFeatures, this.inFeatures, false, base + scratchAt);
    else kernels().gemmPacked(base + yAt, base + xAt, this.packed, this.packedBias, rows, this.outFeatures, this.inFeatures, false);
    return new Tensor(readF32(base + yAt, rows * this.outFeatures), [...x.shape.slice(0, -1), this.outFeatures]);
  }

  /**
   * From dLoss/dy [..., out] of the last training forward: accumulates dW, db and returns dLoss/dx [..., in].
   * Throws ArgumentError without a pending training forward, ShapeError for a gradient of another shape.
   */
  backward(gradOutput: TensorLike): Tensor {
    this.checkAlive();
    if (this.int8Names.length > 0) throw inferenceOnly(this.constructor.name, 'backward');
    const dY = toTensor(gradOutput, 'Linear.backward: gradient');
    const rows = this.savedRows;
    if (rows < 0) throw new ArgumentError('Linear.backward(): call forward(x, { train: true }) first (and not after the parameters changed)');
    if (dY.shape[dY.shape.length - 1] !== this.outFeatures || dY.data.length !== rows * this.outFeatures) {
      throw new ShapeError(`Linear.backward: expected a gradient of ${rows} rows of ${this.outFeatures}, got shape ${formatShape(dY.shape)}`);
    }
    const gradWeight = this.store.gradientPtr(this.store.get('weight'));
    const gradBias = this.bias ? this.store.gradientPtr(this.store.get('bias')) : 0;
    const layout = new Layout();
    const dyAt = layout.take(dY.data.length * 4);
    const dxAt = layout.take(rows * this.inFeatures * 4);
    const transposedAt = layout.take(rows * this.outFeatures * 4);
    const packedAt = layout.take(Math.max(packedFloats(this.inFeatures, rows), packedFloats(this.inFeatures, this.outFeatures)) * 4);
    const base = reserveArena(layout.size);
    writeF32(base + dyAt, dY.data);
    kernels().linearBackward(base + dxAt, gradWeight, gradBias, base + dyAt, this.saved.ptr, this.store.get('weight').ptr,
      rows, this.inFeatures, this.outFeatures, base + transposedAt, base + packedAt);
    this.savedRows = -1;
    return new Tensor(readF32(base + dxAt, rows * this.inFeatures), [...dY.shape.slice(0, -1), this.inFeatures]);
  }

  /** @internal The StackLayer contract: forward over the last axis. */
  forwardLayer(x: Tensor, context: LayerContext): Tensor {
    return this.forward(x, { train: context.train });
  }

  /** @internal */
  backwardLayer(grad: Tensor): Tensor {
    return this.backward(grad);
  }
}
