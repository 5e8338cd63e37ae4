// Container: the base of modules made of child modules (Sequential, TreeClassifier, the importers' models). It
// owns the children and gives the module surface over all of them: parameters under the children's names,
// prefixed (`0.weight_ih_l0`, `embedding.weight`) or renamed; strict, atomic state-dict loading across every
// child (one validation of the whole dict, then the writes); zeroGrad; dispose.

import { DisposedError } from '../errors.js';
import type { Tensor, TensorLike } from '../tensor.js';
import type { LoadReport, Module } from './module.js';
import { Parameter } from './parameter.js';
import { loadStateSlots, type LoadOptions, type ParameterSlot } from './parameters.js';
import { SCALE_SUFFIX } from './int8-weights.js';

/**
 * How a child's parameter names become the container's keys: a prefix (`'0'`: `weight` → `0.weight`; `''`
 * keeps the names), or a table of new names (`{ weight: 'W_cls', bias: 'b_cls' }`).
 */
export type ChildNames = string | Readonly<Record<string, string>>;

interface Child {
  module: Module;
  key(name: string): string;
}

function keyFunction(names: ChildNames): (name: string) => string {
  if (typeof names !== 'string') {
    // A renamed int8 weight's row scales follow it: `weight.scale` → `W_cls.scale` (int8-weights.ts).
    const renamed = (name: string) => (Object.hasOwn(names, name) ? names[name] : undefined);
    return (name) => renamed(name) ?? (name.endsWith(SCALE_SUFFIX) ? `${renamed(name.slice(0, -SCALE_SUFFIX.length)) ?? name.slice(0, -SCALE_SUFFIX.length)}${SCALE_SUFFIX}` : name);
  }
  return names === '' ? (name) => name : (name) => `${names}.${name}`;
}

/** A module made of child modules, which it owns: dispose() frees them. Keys follow the order children were added in. */
export abstract class Container implements Module {
  private readonly children: Child[] = [];
  private disposed = false;

  /** Adds a child (see ChildNames for its keys) and returns it. */
  protected addChild<M extends Module>(module: M, names: ChildNames): M {
    this.children.push({ module, key: keyFunction(names) });
    return module;
  }

  /** @internal Throws DisposedError after dispose(). */
  checkAlive(): void {
    if (this.disposed) throw new DisposedError(this.constructor.name);
  }

  /** The trainable parameters of every child, named as in the state dict. */
  parameters(): Parameter[] {
    this.checkAlive();
    return this.children.flatMap(({ module, key }) => module.parameters().map((p) =>
      (key(p.name) === p.name ? p : new Parameter(key(p.name), p.shape, p.valuePtr, p.gradPtr, p.owner))));
  }

  /** @internal */
  parameterSlots(): readonly ParameterSlot[] {
    this.checkAlive();
    return this.children.flatMap(({ module, key }) => module.parameterSlots().map((slot) => ({ ...slot, name: key(slot.name) })));
  }

  /** Names and shapes of the parameters, in state-dict order. */
  parameterShapes(): Record<string, number[]> {
    return this.keyed((module) => module.parameterShapes());
  }

  /** Copies of the accumulated gradients, keyed like the state dict. */
  grads(): Record<string, Tensor> {
    this.checkAlive();
    return this.keyed((module) => module.grads());
  }

  /** Sets every child's accumulated gradients to zero (like torch's `module.zero_grad()`). */
  zeroGrad(): void {
    this.checkAlive();
    for (const { module } of this.children) module.zeroGrad();
  }

  /** Copies of every child's parameters under the container's keys. */
  stateDict(): Record<string, Tensor> {
    this.checkAlive();
    return this.keyed((module) => module.stateDict());
  }

  /**
   * Loads the container's keys into its children. With `strict` (default) a missing or unexpected key is an
   * error; a wrongly shaped or non-finite value always is (StateDictError). Nothing is written unless everything
   * is valid. Like torch's `load_state_dict`.
   */
  loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    this.checkAlive();
    const report = loadStateSlots(`${this.constructor.name}.loadStateDict`, this.parameterSlots(), dict, opts);
    for (const { module, key } of this.children) {
      if (module.parameterSlots().some((slot) => Object.hasOwn(dict, key(slot.name)))) module.parametersChanged();
    }
    return report;
  }

  /** @internal */
  parametersChanged(): void {
    for (const { module } of this.children) module.parametersChanged();
  }

  /** Frees every child's Wasm memory. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    for (const { module } of this.children) module.dispose();
    this.disposed = true;
  }

  /** Same as dispose(), for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  private keyed<T>(perChild: (module: Module) => Record<string, T>): Record<string, T> {
    return Object.fromEntries(this.children.flatMap(({ module, key }) => Object.entries(perChild(module)).map(([name, value]) => [key(name), value])));
  }
}
