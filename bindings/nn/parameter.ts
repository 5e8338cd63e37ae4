// Trainable parameters: a value and its gradient in Wasm linear memory, owned by a module.

import { readF32 } from '../runtime.js';
import { Tensor } from '../tensor.js';

/** What a Parameter needs from the module that owns its memory. */
export interface ParameterOwner {
  /** Throws DisposedError once the owner is disposed. */
  checkAlive(): void;
  /** Called after an optimizer (or clipping) changed values in place: the owner re-derives packed copies. */
  parametersChanged(): void;
}

/**
 * One named parameter (PyTorch state_dict name and layout). `valuePtr` and `gradPtr` are byte offsets
 * of `size` floats in linear memory; gradients accumulate like PyTorch's until zeroed.
 */
export class Parameter {
  /** @internal Modules create their parameters; get them with `module.parameters()`. */
  constructor(
    /** The state-dict name, e.g. `weight_ih_l0` (PyTorch's). */
    readonly name: string,
    /** The shape in PyTorch's layout, e.g. [4H, I] for an LSTM's `weight_ih_l0`. */
    readonly shape: readonly number[],
    /** @internal */ readonly valuePtr: number,
    /** @internal */ readonly gradPtr: number,
    /** @internal */ readonly owner: ParameterOwner,
  ) {}

  /** The number of values (product of `shape`). */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** A copy of the current value. Throws DisposedError once its module is disposed. */
  value(): Tensor {
    this.owner.checkAlive();
    return new Tensor(readF32(this.valuePtr, this.size), this.shape);
  }

  /** A copy of the accumulated gradient (zeros before any backward). Throws DisposedError once its module is disposed. */
  grad(): Tensor {
    this.owner.checkAlive();
    return new Tensor(readF32(this.gradPtr, this.size), this.shape);
  }
}
