// Stream: step-by-step inference with carried state over a unidirectional RNN, LSTM or GRU, one Wasm call
// a step on a T = 1 plan that shares the module's packed weights.

import { DisposedError, ShapeError, formatShape } from '../errors.js';
import { freeBytes, kernels, leakGuard, readF32, writeF32 } from '../runtime.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
import type { RecurrentModule } from './recurrent.js';

/**
 * Step-by-step inference with carried state (see RecurrentModule.stream), one Wasm call a step: what a PyTorch
 * loop `out, (h, c) = lstm(x_t, (h, c))` does, without passing the state. Shapes: B batch, I input, L layers,
 * H hidden, P = projSize or H.
 */
export class Stream {
  /** Batch size B of every step. */
  readonly batch: number;
  private readonly module: RecurrentModule;
  private readonly initial: { h: Float32Array; c?: Float32Array };
  private buffers: ReturnType<RecurrentModule['createStepPlan']> | null;

  /** @internal Use module.stream(). */
  constructor(module: RecurrentModule, batch: number, initial: { h: Float32Array; c?: Float32Array }) {
    this.module = module;
    this.batch = batch;
    this.initial = initial;
    this.buffers = module.createStepPlan(batch);
    leakGuard.register(this, [this.buffers.block], this);
    this.reset();
  }

  private alive(): NonNullable<Stream['buffers']> {
    if (!this.buffers) throw new DisposedError('Stream');
    this.module.checkAlive();
    return this.buffers;
  }

  /**
   * Runs one step on x [B, I] and returns the last layer's new h [B, P] (what forward gives at that step).
   * Throws ShapeError for another shape, DisposedError after the stream or its module is disposed.
   */
  step(x: TensorLike): Tensor {
    const buffers = this.alive();
    const input = toTensor(x, 'Stream.step: x');
    const { inputSize, outputSize } = this.module;
    if (input.shape.length !== 2 || input.shape[0] !== this.batch || input.shape[1] !== inputSize) {
      throw new ShapeError(`Stream.step: expected x of shape ${formatShape([this.batch, inputSize])}, got ${formatShape(input.shape)}`);
    }
    writeF32(buffers.x, input.data);
    kernels().rnnForward(buffers.plan);
    return new Tensor(readF32(buffers.y, this.batch * outputSize), [this.batch, outputSize]);
  }

  /** Copies of the current state: h [L, B, P] and (LSTM) c [L, B, H]. */
  state(): { h: Tensor; c?: Tensor } {
    const buffers = this.alive();
    const { numLayers: L, outputSize: P, hiddenSize: H } = this.module;
    const state: { h: Tensor; c?: Tensor } = { h: new Tensor(readF32(buffers.h, L * this.batch * P), [L, this.batch, P]) };
    if (this.initial.c) state.c = new Tensor(readF32(buffers.c, L * this.batch * H), [L, this.batch, H]);
    return state;
  }

  /** Restores the initial state given to stream() (zeros by default). */
  reset(): void {
    const buffers = this.alive();
    writeF32(buffers.h, this.initial.h);
    if (this.initial.c) writeF32(buffers.c, this.initial.c);
  }

  /** Frees the stream's Wasm memory (its module's weights stay). Idempotent; disposing the module disposes its streams. */
  dispose(): void {
    if (!this.buffers) return;
    leakGuard.unregister(this);
    freeBytes(this.buffers.block);
    this.buffers = null;
    this.module.forgetStream(this);
  }

  /** Same as dispose(), for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
