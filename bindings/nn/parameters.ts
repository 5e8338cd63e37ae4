// Parameters in Wasm memory (PyTorch layouts) and their gradients (ParameterStore), state-dict loading with
// PyTorch's strictness and precise errors (loadStateSlots, the one implementation every module and container
// uses), and ParameterizedModule, the base of the modules with parameters — whose quantized classes
// (quantizeDynamic) hold every weight matrix as int8 codes and row scales instead (int8-weights.ts).

import { ArgumentError, DisposedError, StateDictError, formatShape } from '../errors.js';
import { SCALE_SUFFIX, type Int8Codec, type Int8Weight } from './int8-weights.js';
import { booleanOption, describe, optionKeys, sameShape, strictOptions } from '../options.js';
import { fillUniformAt, fillUniformFrom, reserveDraws } from '../random.js';
import { Layout, allocBytes, checkedBytes, firstNonFinite, freeBytes, heapF32, leakGuard, readF32, writeF32 } from '../runtime.js';
import { Tensor, shapeSize, toTensor, type TensorLike } from '../tensor.js';
import type { LoadReport, Module } from './module.js';
import { Parameter, type ParameterOwner } from './parameter.js';

export interface ParameterSpec {
  name: string;
  shape: number[];
}

/** A parameter's place in memory: `ptr` is the byte offset of its `size` floats. */
export interface ParameterSlot {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  readonly ptr: number;
}

/**
 * One entry of a state dict, as a Tensor of the expected shape with finite values, or a StateDictError
 * naming the key and what is wrong (size mismatch, or the first NaN/±Infinity and its flat index).
 */
function checkedStateValue(where: string, name: string, raw: TensorLike, shape: readonly number[]): Tensor {
  const value = toTensor(raw, `${where}: "${name}"`);
  if (!sameShape(value.shape, shape)) {
    throw new StateDictError(`${where}: size mismatch for "${name}": expected ${formatShape(shape)}, got ${formatShape(value.shape)}`);
  }
  const bad = firstNonFinite(value.data);
  if (bad >= 0) throw new StateDictError(`${where}: "${name}" holds a non-finite value (${value.data[bad]}) at flat index ${bad}`);
  return value;
}

/** Options of `loadStateDict(dict, options)` (every module and Sequential). */
export interface LoadOptions {
  /** A missing or unexpected key is an error, default true (PyTorch's `strict`). */
  strict?: boolean;
}

const LOAD_OPTION_KEYS = optionKeys<LoadOptions>({ strict: true });

/**
 * PyTorch's load_state_dict over `slots`, keyed by their names: validates the whole dict first — with
 * `strict` (default true) a missing or unexpected key is an error; a wrong shape or a non-finite value always
 * is — and writes nothing unless all of it is valid. `where` starts every message ("LSTM.loadStateDict").
 */
export function loadStateSlots(where: string, slots: readonly ParameterSlot[], dict: Record<string, TensorLike>,
                               opts: LoadOptions | undefined): LoadReport {
  if (dict === null || typeof dict !== 'object') throw new StateDictError(`${where}: expected an object of tensors, got ${describe(dict)}`);
  const strict = booleanOption(strictOptions(opts, LOAD_OPTION_KEYS, where, { assign: 'parameters live in Wasm memory and are always copied' }).strict, 'strict', true, where);
  const names = new Set(slots.map((slot) => slot.name));
  const unexpectedKeys = Object.keys(dict).filter((key) => !names.has(key));
  const missingKeys = [...names].filter((name) => !Object.hasOwn(dict, name));
  if (strict && unexpectedKeys.length > 0) {
    throw new StateDictError(`${where}: unexpected key(s) ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}; expected ${[...names].join(', ')}`);
  }
  if (strict && missingKeys.length > 0) {
    throw new StateDictError(`${where}: missing key(s) ${missingKeys.map((k) => `"${k}"`).join(', ')}`);
  }
  const updates: Array<[ParameterSlot, Float32Array]> = [];
  for (const slot of slots) {
    if (Object.hasOwn(dict, slot.name)) updates.push([slot, checkedStateValue(where, slot.name, dict[slot.name], slot.shape).data]);
  }
  for (const [slot, values] of updates) writeF32(slot.ptr, values);
  return { missingKeys, unexpectedKeys };
}

/**
 * `module` (just built) with `dict` loaded into it (loadStateDict, strict), or, when the load throws, the module
 * disposed (its Wasm memory freed) and the error rethrown: how the loaders build a module from weights without
 * leaking it. Throws what loadStateDict throws (StateDictError for a missing, unexpected, misshapen or non-finite
 * entry). Like `torch.nn.Module.load_state_dict` on a new module, plus the cleanup JavaScript needs.
 * @example const lstm = withStateDict(new LSTM({ inputSize: 4, hiddenSize: 8 }), parseSafetensors(bytes));
 */
export function withStateDict<M extends Pick<Module, 'loadStateDict' | 'dispose'>>(module: M, dict: Record<string, TensorLike>): M {
  try {
    module.loadStateDict(dict);
  } catch (error) {
    module.dispose();
    throw error;
  }
  return module;
}

export class ParameterStore {
  readonly slots: readonly ParameterSlot[];
  private readonly byName: Map<string, ParameterSlot>;
  private readonly values: number;
  private readonly bytes: number;
  private gradients = 0;
  private parameterList: Parameter[] | null = null;

  /**
   * Allocates the values (zeros) of `specs`, in order. Allocated blocks are pushed onto `ownedBlocks`,
   * which the owning module frees on dispose().
   */
  constructor(specs: readonly ParameterSpec[], private readonly owner: ParameterOwner,
              private readonly ownedBlocks: number[], private readonly onGradientsAllocated: () => void = () => {}) {
    const layout = new Layout();
    const offsets = specs.map((spec) => layout.take(shapeSize(spec.shape) * 4));
    this.bytes = layout.size;
    this.values = allocBytes(this.bytes);
    ownedBlocks.push(this.values);
    heapF32().fill(0, this.values >>> 2, (this.values + this.bytes) >>> 2);
    this.slots = specs.map((spec, i) => ({ name: spec.name, shape: [...spec.shape], size: shapeSize(spec.shape), ptr: this.values + offsets[i] }));
    this.byName = new Map(this.slots.map((slot) => [slot.name, slot]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): ParameterSlot {
    const slot = this.byName.get(name);
    if (!slot) throw new Error(`internal: no parameter ${name}`);
    return slot;
  }

  /** Fills every parameter with U(−bound, bound) from the seeded generator (PyTorch's default inits). */
  initUniform(bound: (slot: ParameterSlot) => number): void {
    for (const slot of this.slots) fillUniformAt(slot.ptr, slot.size, bound(slot));
  }

  /** Takes initUniform's draws from the generator without making them yet; fillReserved(returned, bound) makes them. */
  reserveUniform(): number {
    return reserveDraws(this.slots.reduce((sum, slot) => sum + slot.size, 0));
  }

  /** Fills every parameter with U(−bound, bound) as initUniform would have when the generator stood at `from`. */
  fillReserved(from: number, bound: number): void {
    let state = from;
    for (const slot of this.slots) state = fillUniformFrom(slot.ptr, slot.size, bound, state);
  }

  /** Whether `dict` has a value under every parameter's name (a load of it leaves no parameter as it was). */
  coveredBy(dict: unknown): boolean {
    return dict !== null && typeof dict === 'object' && this.slots.every((slot) => Object.hasOwn(dict, slot.name));
  }

  /** Copies of the values, keyed by name in order. */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.slots.map((slot) => [slot.name, new Tensor(readF32(slot.ptr, slot.size), slot.shape)]));
  }

  /** Byte offset of a parameter's gradient, allocating the gradient block (zeros) on first use. */
  gradientPtr(slot: ParameterSlot): number {
    this.ensureGradients();
    return this.gradients + (slot.ptr - this.values);
  }

  get hasGradients(): boolean {
    return this.gradients !== 0;
  }

  private ensureGradients(): void {
    if (this.gradients !== 0) return;
    this.gradients = allocBytes(this.bytes);
    this.ownedBlocks.push(this.gradients);
    heapF32().fill(0, this.gradients >>> 2, (this.gradients + this.bytes) >>> 2);
    this.onGradientsAllocated();
  }

  /** The parameters as optimizer handles, in order. */
  parameters(): Parameter[] {
    this.parameterList ??= this.slots.map((slot) => new Parameter(slot.name, slot.shape, slot.ptr, this.gradientPtr(slot), this.owner));
    return this.parameterList;
  }

  /** Copies of the accumulated gradients, keyed by name. */
  grads(): Record<string, Tensor> {
    return Object.fromEntries(this.slots.map((slot) => [slot.name, new Tensor(readF32(this.gradientPtr(slot), slot.size), slot.shape)]));
  }

  zeroGrad(): void {
    if (this.gradients !== 0) heapF32().fill(0, this.gradients >>> 2, (this.gradients + this.bytes) >>> 2);
  }
}

/** A block a module owns that grows (never shrinks) to the largest size asked of it: a tape, saved inputs. */
export interface GrowingBlock {
  /** Byte offset of the block; 0 before the first reserve(). */
  readonly ptr: number;
  /** Makes the block at least `bytes` long (a larger one replaces it: its contents are lost) and returns its offset. */
  reserve(bytes: number): number;
}

/**
 * Base of the modules with parameters: owns their Wasm blocks and gives the PyTorch-style surface of the module
 * contract (parameters, grads, zeroGrad, loadStateDict, stateDict, dispose). Subclasses re-derive whatever they
 * pack from the values in parametersChanged().
 */
export abstract class ParameterizedModule implements Module, ParameterOwner {
  /**
   * @internal Non-null in the classes that hold their weight matrices (every 2-D parameter) in int8: quantizeDynamic's
   * (QuantizedLSTM, QuantizedLinear, …; see isQuantized). Their weights are int8 codes with f32 row scales, packed for
   * the integer kernels, never f32: parameters() and parameterShapes() list the f32 parameters only (biases);
   * stateDict() gives each weight matrix as its codes and `name.scale`, and loadStateDict() takes them so, through
   * this codec (nn/quantized.ts: so that code is bundled only with the quantized classes).
   */
  static readonly quantized: Int8Codec | null = null;
  protected readonly ownedBlocks: number[] = [];
  protected readonly store: ParameterStore;
  /** A quantized class's state-dict codec (its static `quantized`), else null. */
  private readonly int8Codec: Int8Codec | null;
  /** The weight matrices held in int8 (a quantized class), in state-dict order; [] otherwise. */
  protected readonly int8Names: readonly string[];
  /** Their codes and row scales by name (a quantized class), null until loaded. */
  protected int8Weights: ReadonlyMap<string, Int8Weight> | null = null;
  /** Every parameter, the int8 ones included, in state-dict order. */
  private readonly specs: readonly ParameterSpec[];
  private disposed = false;
  /**
   * Until a method first runs on the module, its seeded initialization is only reserved: the generator has advanced
   * past its draws (later modules get what they always did), but the values are drawn — and packed — when first
   * used (checkAlive), or never, when the first use is a loadStateDict that replaces every parameter (a cold start
   * loading weights skips a fill and a repack that the load would throw away).
   */
  private reservedInit: { from: number; bound: number } | null = null;
  private used = false;

  protected constructor(specs: readonly ParameterSpec[]) {
    const quantized = (new.target as unknown as typeof ParameterizedModule).quantized;
    this.int8Codec = quantized;
    this.specs = specs;
    this.int8Names = quantized ? specs.filter((spec) => spec.shape.length === 2).map((spec) => spec.name) : [];
    // The int8 weights' blobs (2 bytes a weight) are allocated by the subclass after the store: their size is gated
    // here, before any allocation, as the store's own f32 weights would be (OutOfMemoryError, nothing left behind).
    if (quantized) checkedBytes(2 * specs.filter((spec) => spec.shape.length === 2).reduce((sum, spec) => sum + shapeSize(spec.shape), 0));
    this.store = new ParameterStore(quantized ? specs.filter((spec) => spec.shape.length !== 2) : specs, this, this.ownedBlocks, () => this.gradientsAllocated());
    leakGuard.register(this, this.ownedBlocks, this);
  }

  /** Called once the gradient block exists (it may have grown memory); subclasses point plans at it. */
  protected gradientsAllocated(): void {}

  /**
   * @internal Throws DisposedError after dispose(). Every method that reads or hands out the values (or their
   * packed copies) calls it first: it draws a reserved initialization (see reservedInit).
   */
  checkAlive(): void {
    if (this.disposed) throw new DisposedError(this.constructor.name);
    this.used = true;
    if (this.reservedInit) this.drawReservedInit();
  }

  private drawReservedInit(): void {
    const { from, bound } = this.reservedInit!;
    this.reservedInit = null;
    this.store.fillReserved(from, bound);
    this.parametersChanged();
  }

  /** @internal Called after the values changed in place (loading, optimizers). */
  abstract parametersChanged(): void;

  /** The trainable parameters in state_dict order, for optimizers and clipping. */
  parameters(): Parameter[] {
    this.checkAlive();
    return this.store.parameters();
  }

  /** @internal Where the parameters lie, in state_dict order (containers load through them). */
  parameterSlots(): readonly ParameterSlot[] {
    this.checkAlive();
    return this.store.slots;
  }

  /** Names and shapes of the parameters, in state_dict order. */
  parameterShapes(): Record<string, number[]> {
    return Object.fromEntries(this.store.slots.map((slot) => [slot.name, [...slot.shape]]));
  }

  /**
   * Re-initializes every parameter ~ U(−bound, bound) from the seeded generator: at once, or, before any method has
   * run on the module (its constructor's initialization), reserved and drawn on first use (same values).
   */
  protected resetUniform(bound: number): void {
    if (!this.used && !this.disposed) {
      this.reservedInit = { from: this.store.reserveUniform(), bound };
      return;
    }
    this.checkAlive();
    this.store.initUniform(() => bound);
    this.parametersChanged();
  }

  /** Copies of the accumulated gradients, keyed like stateDict(). */
  grads(): Record<string, Tensor> {
    this.checkAlive();
    return this.store.grads();
  }

  /** Sets the accumulated gradients to zero (like torch's `module.zero_grad()`). Throws DisposedError after dispose(). */
  zeroGrad(): void {
    this.checkAlive();
    this.store.zeroGrad();
  }

  /**
   * Loads parameters from a state dict under PyTorch's names and layouts (like torch's `load_state_dict`): the
   * whole dict is validated before anything is written. Throws StateDictError for a missing or unexpected key
   * (unless `strict: false`), a wrong shape or a non-finite value; ArgumentError for an unknown option;
   * DisposedError after dispose().
   */
  loadStateDict(dict: Record<string, TensorLike>, opts?: LoadOptions): LoadReport {
    if (this.int8Names.length > 0) return this.loadQuantizedDict(dict, opts);
    // A dict that replaces every parameter makes a reserved initialization moot: dropped (once the load succeeds), not drawn.
    const replacesReserved = this.reservedInit !== null && !this.disposed && this.store.coveredBy(dict);
    if (!replacesReserved) this.checkAlive();
    const report = loadStateSlots(`${this.constructor.name}.loadStateDict`, this.store.slots, dict, opts);
    this.reservedInit = null;
    this.used = true;
    this.parametersChanged();
    return report;
  }

  /**
   * A quantized class's loadStateDict: int8 codes in [−127, 127] of the weight's shape and finite row scales ≥ 0
   * (`name.scale`) for every weight matrix (with `strict: false`, the ones not given are kept from an earlier
   * load), f32 for the rest; nothing changes unless all of it is valid.
   */
  private loadQuantizedDict(dict: Record<string, TensorLike>, opts: LoadOptions | undefined): LoadReport {
    const where = `${this.constructor.name}.loadStateDict`;
    this.checkAlive();
    const strict = booleanOption(strictOptions(opts, LOAD_OPTION_KEYS, where).strict, 'strict', true, where);
    const { weights, floats } = this.int8Codec!.split(where, dict, this.int8Names);
    for (const [name, weight] of weights) {
      const expected = this.specs.find((spec) => spec.name === name)!.shape;
      if (weight.rows !== expected[0] || weight.columns !== expected[1]) {
        throw new StateDictError(`${where}: size mismatch for "${name}": expected ${formatShape(expected)}, got ${formatShape([weight.rows, weight.columns])}`);
      }
    }
    const merged = new Map([...(strict ? [] : this.int8Weights ?? []), ...weights]);
    const missing = this.int8Names.filter((name) => !merged.has(name));
    if (missing.length > 0) throw new StateDictError(`${where}: missing key(s) ${missing.map((name) => `"${name}"`).join(', ')} (int8 weights, each with its ${SCALE_SUFFIX})`);
    const report = loadStateSlots(where, this.store.slots, floats, opts);
    this.int8Weights = merged;
    this.parametersChanged();
    return { missingKeys: [...this.int8Names.filter((name) => !weights.has(name)), ...report.missingKeys], unexpectedKeys: report.unexpectedKeys };
  }

  /** @internal The names of the weight matrices a quantized class holds in int8 ([] for an f32 class). */
  int8WeightNames(): readonly string[] {
    return this.int8Names;
  }

  /** Throws ArgumentError when a quantized module runs before its int8 weights were loaded. */
  protected checkInt8Loaded(method: string): void {
    if (this.int8Names.length > 0 && !this.int8Weights) {
      throw new ArgumentError(`${method}: the int8 weights are not loaded yet (quantizeDynamic, loadQuantized or loadStateDict give them)`);
    }
  }

  /** Copies of the parameters in PyTorch names and layouts (a quantized class: its weight matrices as int8 codes and `.scale`). */
  stateDict(): Record<string, Tensor> {
    this.checkAlive();
    const floats = this.store.stateDict();
    return this.int8Codec ? this.int8Codec.stateDict(this.specs.map((spec) => spec.name), floats, this.int8Weights ?? new Map()) : floats;
  }

  /** Allocates a block this module frees on dispose(). */
  protected allocOwned(bytes: number): number {
    const ptr = allocBytes(bytes);
    this.ownedBlocks.push(ptr);
    return ptr;
  }

  /** Frees one owned block early (growingBlock() does it for its blocks). */
  private freeOwned(ptr: number): void {
    const index = this.ownedBlocks.indexOf(ptr);
    if (index < 0) return;
    this.ownedBlocks.splice(index, 1);
    freeBytes(ptr);
  }

  /** An owned block that grows to the largest size reserved so far (see GrowingBlock). */
  protected growingBlock(): GrowingBlock {
    let ptr = 0;
    let bytes = 0;
    return {
      get ptr() {
        return ptr;
      },
      reserve: (needed: number): number => {
        if (needed > bytes) {
          this.freeOwned(ptr);
          ptr = 0;
          bytes = 0;
          ptr = this.allocOwned(needed);
          bytes = needed;
        }
        return ptr;
      },
    };
  }

  /** Frees the Wasm memory of this module. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    leakGuard.unregister(this);
    for (const ptr of this.ownedBlocks) freeBytes(ptr);
    this.ownedBlocks.length = 0;
    this.disposed = true;
  }

  /** Same as dispose(), for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
