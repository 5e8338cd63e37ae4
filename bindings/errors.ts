// Typed errors thrown at the public boundary: each names what was expected and what came.

/**
 * Base class of every error looptree throws on purpose. `code` is stable for programs to switch on; `name` is the
 * subclass's name. Catch `LooptreeError` for any of them, or a subclass (`ShapeError`, `ArgumentError`, …) for one kind.
 */
export class LooptreeError extends Error {
  /** Stable machine-readable code of the error kind: `'ERR_SHAPE'`, `'ERR_ARGUMENT'`, `'ERR_INIT'`, … */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `init()` failed, was misused, or something ran before it (code `'ERR_INIT'`). */
export class InitError extends LooptreeError {
  constructor(message: string) {
    super('ERR_INIT', message);
  }
}

/** A tensor or array had the wrong rank, shape or length (code `'ERR_SHAPE'`); the message names expected and actual shapes. */
export class ShapeError extends LooptreeError {
  constructor(message: string) {
    super('ERR_SHAPE', message);
  }
}

/** An option or argument had an invalid value, or an options object an unknown key (code `'ERR_ARGUMENT'`; not a shape problem). */
export class ArgumentError extends LooptreeError {
  constructor(message: string) {
    super('ERR_ARGUMENT', message);
  }
}

/** A state dict had a missing, unexpected or wrongly shaped key, or non-finite values (code `'ERR_STATE_DICT'`). */
export class StateDictError extends LooptreeError {
  constructor(message: string) {
    super('ERR_STATE_DICT', message);
  }
}

/** Bytes given to `parseSafetensors` are not a valid safetensors file (code `'ERR_SAFETENSORS'`). */
export class SafetensorsError extends LooptreeError {
  constructor(message: string) {
    super('ERR_SAFETENSORS', message);
  }
}

/**
 * Wasm linear memory cannot hold an allocation (`requestedBytes`); nothing was written, other models are untouched
 * (code `'ERR_OUT_OF_MEMORY'`). Free models you no longer need with `dispose()`, or use smaller batches.
 */
export class OutOfMemoryError extends LooptreeError {
  /**
   * @param requestedBytes The size of the allocation that failed, in bytes.
   * @param memoryBytes The size of Wasm linear memory when it failed, in bytes (at most 4 GiB).
   */
  constructor(readonly requestedBytes: number, readonly memoryBytes: number) {
    super('ERR_OUT_OF_MEMORY', `out of Wasm memory: could not allocate ${requestedBytes} bytes (linear memory holds ${memoryBytes} bytes, at most 4 GiB)`);
  }
}

/**
 * A worker thread of the pool failed or exited (code `'ERR_THREAD'`): the call that finds out throws, the pool
 * restarts on the next.
 */
export class ThreadError extends LooptreeError {
  constructor(message: string) {
    super('ERR_THREAD', message);
  }
}

/** An object (a module, a model, a stream) was used after `dispose()` (code `'ERR_DISPOSED'`). */
export class DisposedError extends LooptreeError {
  constructor(what: string) {
    super('ERR_DISPOSED', `${what} was used after dispose()`);
  }
}

/** Formats a shape as `[2, 3, 20]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
