// Optimizers (SGD, Adam, AdamW) and gradient clipping with PyTorch 1.13's exact rules; updates run in Wasm
// on the parameters in place, then each owning module re-derives its packed weights.

import { ArgumentError } from '../errors.js';
import { booleanOption, optionKeys, strictOptions } from '../options.js';
import { allocBytes, freeBytes, heapF32, kernels, leakGuard } from '../runtime.js';
import type { Parameter, ParameterOwner } from '../nn/parameter.js';

function checkParameters(params: readonly Parameter[], where: string): Parameter[] {
  if (!Array.isArray(params) || params.length === 0) throw new ArgumentError(`${where}: expected a non-empty array of parameters (module.parameters()), got ${Array.isArray(params) ? 'an empty array' : typeof params}`);
  for (const p of params) {
    if (!p || typeof p.valuePtr !== 'number' || typeof p.gradPtr !== 'number') throw new ArgumentError(`${where}: every entry must be a Parameter from module.parameters()`);
  }
  return [...params];
}

function nonNegative(value: unknown, what: string, where: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new ArgumentError(`${where}: ${what} must be a finite number ≥ 0, got ${String(value)}`);
  return value;
}

/** Base: per-parameter state in one Wasm block, zeroGrad, and the owners to notify after a step. */
abstract class Optimizer {
  protected readonly params: Parameter[];
  /** Per parameter, the byte offsets of its state arrays (e.g. Adam's m and v). */
  protected readonly state: number[][];
  private block = 0;

  protected constructor(params: readonly Parameter[], statesPerParameter: number, where: string) {
    this.params = checkParameters(params, where);
    const total = this.params.reduce((sum, p) => sum + Math.ceil(p.size / 4) * 4 * statesPerParameter, 0);
    this.block = total > 0 ? allocBytes(total * 4) : 0;
    if (this.block) {
      heapF32().fill(0, this.block >>> 2, (this.block >>> 2) + total);
      leakGuard.register(this, [this.block], this);
    }
    let at = this.block;
    this.state = this.params.map((p) => Array.from({ length: statesPerParameter }, () => {
      const ptr = at;
      at += Math.ceil(p.size / 4) * 16;
      return ptr;
    }));
  }

  /** Sets every parameter's gradient to zero (like torch's `optimizer.zero_grad()`). Throws DisposedError when a parameter's module is disposed. */
  zeroGrad(): void {
    const heap = heapF32();
    for (const p of this.params) {
      p.owner.checkAlive();
      heap.fill(0, p.gradPtr >>> 2, (p.gradPtr >>> 2) + p.size);
    }
  }

  /** Applies one update to every parameter from its accumulated gradient (like torch's `optimizer.step()`). Throws DisposedError when a parameter's module is disposed. */
  step(): void {
    const owners = new Set<ParameterOwner>();
    for (const p of this.params) {
      p.owner.checkAlive();
      owners.add(p.owner);
    }
    this.update();
    for (const owner of owners) owner.parametersChanged();
  }

  protected abstract update(): void;

  /** Frees the optimizer's state (momentum, running averages) in Wasm memory. Idempotent. */
  dispose(): void {
    if (!this.block) return;
    leakGuard.unregister(this);
    freeBytes(this.block);
    this.block = 0;
  }
}

/** Options of `new SGD(params, options)`, torch.optim.SGD's arguments camelCased (`weight_decay` → `weightDecay`). */
export interface SGDOptions {
  /** Learning rate (required, as in PyTorch). */
  lr: number;
  /** Momentum factor, default 0. */
  momentum?: number;
  /** Dampening of the momentum, default 0. */
  dampening?: number;
  /** Nesterov momentum, default false (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, default 0. */
  weightDecay?: number;
}

export const SGD_OPTION_KEYS = optionKeys<SGDOptions>({ lr: true, momentum: true, dampening: true, nesterov: true, weightDecay: true });
/** torch.optim options these optimizers do not have (camelCase key → why). */
export const UNSUPPORTED_OPTIMIZER_OPTIONS = {
  maximize: 'minimize the negated loss instead',
  amsgrad: 'AMSGrad is not implemented',
  foreach: 'updates always run in Wasm',
  fused: 'updates always run in Wasm',
};

/** torch.optim.SGD: momentum buffers start as the first gradient; nesterov needs momentum > 0 and dampening 0. */
export class SGD extends Optimizer {
  private readonly options: Required<SGDOptions>;
  private steps = 0;

  /**
   * @param params The parameters to update, e.g. `model.parameters()`.
   * @throws ArgumentError for an empty or non-Parameter `params`, a negative or non-finite lr / momentum /
   * dampening / weightDecay, nesterov without momentum or with dampening, or an unknown or unsupported option
   * (`maximize`, `foreach`, …).
   */
  constructor(params: readonly Parameter[], options: SGDOptions) {
    const where = 'SGD';
    options = strictOptions(options, SGD_OPTION_KEYS, where, UNSUPPORTED_OPTIMIZER_OPTIONS);
    const lr = nonNegative(options.lr, 'lr', where);
    const momentum = nonNegative(options.momentum ?? 0, 'momentum', where);
    const dampening = nonNegative(options.dampening ?? 0, 'dampening', where);
    const nesterov = booleanOption(options.nesterov, 'nesterov', false, where);
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new ArgumentError('SGD: nesterov momentum requires a momentum and zero dampening');
    super(params, momentum > 0 ? 1 : 0, where);
    this.options = { lr, momentum, dampening, nesterov, weightDecay: nonNegative(options.weightDecay ?? 0, 'weightDecay', where) };
  }

  protected update(): void {
    const { lr, momentum, dampening, nesterov, weightDecay } = this.options;
    const first = this.steps === 0;
    this.params.forEach((p, i) => {
      kernels().sgdStep(p.valuePtr, p.gradPtr, momentum > 0 ? this.state[i][0] : 0, p.size, lr, momentum, dampening, nesterov, weightDecay, first);
    });
    this.steps++;
  }
}

/** Options of `new Adam(…)` and `new AdamW(…)`, torch.optim.Adam's arguments camelCased. */
export interface AdamOptions {
  /** Learning rate, default 1e-3. */
  lr?: number;
  /** Decay rates of the running averages of the gradient and its square, default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to the denominator, default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient, default 0; AdamW: decoupled decay, default 0.01. */
  weightDecay?: number;
}

export const ADAM_OPTION_KEYS = optionKeys<AdamOptions>({ lr: true, betas: true, eps: true, weightDecay: true });

/** torch.optim.Adam (weightDecay as L2 added to the gradient); `decoupled` gives AdamW. */
export class Adam extends Optimizer {
  protected readonly lr: number;
  protected readonly betas: [number, number];
  protected readonly eps: number;
  protected readonly weightDecay: number;
  private steps = 0;

  /**
   * @param params The parameters to update, e.g. `model.parameters()`.
   * @param decoupled AdamW's decoupled weight decay (use `new AdamW(…)` rather than this flag).
   * @param defaultDecay The weightDecay when options leave it out (AdamW's 0.01).
   * @throws ArgumentError for an empty or non-Parameter `params`, a negative or non-finite lr / eps / weightDecay,
   * betas that are not two numbers in [0, 1), or an unknown or unsupported option (`amsgrad`, `maximize`, …).
   */
  constructor(params: readonly Parameter[], options?: AdamOptions, private readonly decoupled = false, defaultDecay = 0) {
    const where = decoupled ? 'AdamW' : 'Adam';
    options = strictOptions(options, ADAM_OPTION_KEYS, where, UNSUPPORTED_OPTIMIZER_OPTIONS);
    super(params, 2, where);
    this.lr = nonNegative(options.lr ?? 1e-3, 'lr', where);
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2 || betas.some((b) => !(b >= 0 && b < 1))) {
      throw new ArgumentError(`${where}: betas must be two numbers in [0, 1), got ${JSON.stringify(betas)}`);
    }
    this.betas = [betas[0], betas[1]];
    this.eps = nonNegative(options.eps ?? 1e-8, 'eps', where);
    this.weightDecay = nonNegative(options.weightDecay ?? defaultDecay, 'weightDecay', where);
  }

  /** Every coefficient in float64 (JS numbers), 1 − β included, as PyTorch computes them; the kernel rounds each once to float32. */
  protected update(): void {
    this.steps++;
    const [beta1, beta2] = this.betas;
    const stepSize = this.lr / (1 - beta1 ** this.steps);
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** this.steps);
    const l2 = this.decoupled ? 0 : this.weightDecay;
    const decay = this.decoupled ? 1 - this.lr * this.weightDecay : 1;
    this.params.forEach((p, i) => {
      kernels().adamStep(p.valuePtr, p.gradPtr, this.state[i][0], this.state[i][1], p.size, stepSize, 1 - beta1, 1 - beta2, this.eps,
        biasCorrection2Sqrt, l2, decay);
    });
  }
}

/** torch.optim.AdamW: weight decay applied to the parameters (p ← p·(1 − lr·wd)), default 0.01. */
export class AdamW extends Adam {
  /**
   * @param params The parameters to update, e.g. `model.parameters()`.
   * @throws ArgumentError as Adam's constructor.
   */
  constructor(params: readonly Parameter[], options?: AdamOptions) {
    super(params, options, true, 0.01);
  }
}

/**
 * torch.nn.utils.clip_grad_norm_ (L2): returns the total norm of all gradients before clipping, and if
 * maxNorm / (norm + 1e-6) < 1 multiplies every gradient by that factor. Throws ArgumentError for an empty or
 * non-Parameter `params` or a negative maxNorm, DisposedError when a parameter's module is disposed.
 */
export function clipGradNorm(params: readonly Parameter[], maxNorm: number): number {
  const list = checkParameters(params, 'clipGradNorm');
  nonNegative(maxNorm, 'maxNorm', 'clipGradNorm');
  let squares = 0;
  for (const p of list) {
    p.owner.checkAlive();
    squares += kernels().sumOfSquares(p.gradPtr, p.size);
  }
  const total = Math.fround(Math.sqrt(squares));
  const coefficient = maxNorm / (total + 1e-6);
  if (coefficient < 1) for (const p of list) kernels().scaleArray(p.gradPtr, p.size, coefficient);
  return total;
}

/**
 * torch.nn.utils.clip_grad_value_: clamps every gradient element to [−clipValue, clipValue]. Throws ArgumentError
 * for an empty or non-Parameter `params` or a negative clipValue, DisposedError when a parameter's module is disposed.
 */
export function clipGradValue(params: readonly Parameter[], clipValue: number): void {
  const list = checkParameters(params, 'clipGradValue');
  nonNegative(clipValue, 'clipValue', 'clipGradValue');
  for (const p of list) {
    p.owner.checkAlive();
    kernels().clampArray(p.gradPtr, p.size, clipValue);
  }
}
