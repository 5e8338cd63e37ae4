// LastStep: the many-to-one adapter after a recurrent layer — each sequence's final state, taken from the
// layer's batch-first output within the sequence's own length. Parameter-free, with backward.
//
// Shapes: B batch, T steps, D directions (2 if bidirectional), P the recurrent layer's h width.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { optionKeys, sequenceLengths, strictOptions } from '../options.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
import { ParameterFreeLayer, type LayerContext } from './module.js';

/** Options of `LastStep.forward` when called directly (in a Sequential, the stack supplies them). */
export interface LastStepOptions {
  /** Valid length of each sequence (1..T), as given to the recurrent layer; all T when absent. */
  lengths?: ArrayLike<number>;
  /** Directions D of the recurrent layer before, default 1. */
  directions?: 1 | 2;
  /** Keep what backward() needs, default false. */
  train?: boolean;
}

const LAST_STEP_KEYS = optionKeys<LastStepOptions>({ lengths: true, directions: true, train: true });

/**
 * [B, T, D·P] → [B, D·P]: for each sequence b, the forward direction's output at step lengths[b] − 1 and,
 * when bidirectional, the reverse direction's output at step 0 (where the reverse pass ends). That is the
 * recurrent layer's final h of its last layer — PyTorch's `h_n[-1]`, or `torch.cat([h_n[-2], h_n[-1]], 1)`
 * when bidirectional — for padded batches too.
 * In a `Sequential`, put it after a recurrent layer (with `batchFirst: true`); Sequential passes the lengths
 * and directions.
 * @example new Sequential([new Embedding({ numEmbeddings: 100, embeddingDim: 16 }),
 *   new LSTM({ inputSize: 16, hiddenSize: 32, batchFirst: true }), new LastStep(), new Linear({ inFeatures: 32, outFeatures: 2 })])
 */
export class LastStep extends ParameterFreeLayer {
  private saved: { shape: readonly number[]; sourceRows: Int32Array; directionWidth: number } | null = null;

  /**
   * [B, T, D·P] → [B, D·P], the final step of each sequence (see the class). Throws ShapeError for an input that
   * is not rank 3 or (bidirectional) has an odd last axis, ArgumentError for lengths outside 1..T, directions
   * other than 1 or 2, or an unknown option.
   */
  forward(sequence: TensorLike, options?: LastStepOptions): Tensor {
    const opts = strictOptions(options, LAST_STEP_KEYS, 'LastStep.forward');
    const x = toTensor(sequence, 'LastStep.forward: input');
    const directions = opts.directions ?? 1;
    const [B, T] = checkSequence(x, directions);
    const lengths = opts.lengths === undefined ? undefined : sequenceLengths(opts.lengths, B, T, 'LastStep.forward', 'one per sequence');
    return this.select(x, lengths, directions, opts.train ?? false);
  }

  /** @internal The StackLayer contract: the directions and lengths come with the context. */
  forwardLayer(x: Tensor, context: LayerContext): Tensor {
    checkSequence(x, context.directions);
    return this.select(x, context.lengths, context.directions, context.train);
  }

  /** @internal */
  backwardLayer(grad: Tensor): Tensor {
    return this.backward(grad);
  }

  private select(x: Tensor, lengths: Int32Array | undefined, directions: 1 | 2, train: boolean): Tensor {
    const [B, T, width] = x.shape;
    const directionWidth = width / directions;
    // sourceRows[b · D + d] is the step whose output holds direction d's final state for sequence b.
    const sourceRows = new Int32Array(B * directions);
    const out = new Float32Array(B * width);
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < directions; d++) {
        const step = d === 0 ? (lengths ? lengths[b] : T) - 1 : 0;
        sourceRows[b * directions + d] = step;
        const from = (b * T + step) * width + d * directionWidth;
        out.set(x.data.subarray(from, from + directionWidth), b * width + d * directionWidth);
      }
    }
    if (train) this.saved = { shape: x.shape, sourceRows, directionWidth };
    return new Tensor(out, [B, width]);
  }

  /**
   * dLoss/d(last steps) [B, D·P] → dLoss/d(sequence) [B, T, D·P], zero away from the selected steps. Throws
   * ArgumentError without a pending training forward, ShapeError for a gradient of another shape.
   */
  backward(gradOutput: TensorLike): Tensor {
    const saved = this.saved;
    if (!saved) throw new ArgumentError('LastStep.backward(): call forward(sequence, { train: true }) first');
    const d = toTensor(gradOutput, 'LastStep.backward: gradient');
    const [B, T, width] = saved.shape;
    if (d.shape.length !== 2 || d.shape[0] !== B || d.shape[1] !== width) {
      throw new ShapeError(`LastStep.backward: expected a gradient of shape ${formatShape([B, width])}, got ${formatShape(d.shape)}`);
    }
    const directions = width / saved.directionWidth;
    const dx = new Float32Array(B * T * width);
    for (let b = 0; b < B; b++) {
      for (let dir = 0; dir < directions; dir++) {
        const to = (b * T + saved.sourceRows[b * directions + dir]) * width + dir * saved.directionWidth;
        const from = b * width + dir * saved.directionWidth;
        dx.set(d.data.subarray(from, from + saved.directionWidth), to);
      }
    }
    this.saved = null;
    return new Tensor(dx, saved.shape);
  }
}

/** [B, T] of a batch-first sequence [B, T, D·P] of `directions` D, or a typed error. */
function checkSequence(x: Tensor, directions: unknown): [number, number] {
  if (x.shape.length !== 3) throw new ShapeError(`LastStep.forward: expected a batch-first sequence [B, T, D·P], got shape ${formatShape(x.shape)}`);
  if (directions !== 1 && directions !== 2) throw new ArgumentError(`LastStep.forward: directions must be 1 or 2, got ${String(directions)}`);
  if (x.shape[2] % directions !== 0) throw new ShapeError(`LastStep.forward: a bidirectional output needs an even last axis, got shape ${formatShape(x.shape)}`);
  return [x.shape[0], x.shape[1]];
}
