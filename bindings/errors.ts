// Typed errors thrown at the public boundary: each names what was expected and what came.

/** Base class of every error looptree throws on purpose. `code` is stable for programs to switch on. */
export class LooptreeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `init()` failed, was misused, or something ran before it. */
export class InitError extends LooptreeError {
  constructor(message: string) {
    super('ERR_INIT', message);
  }
}

/** A tensor or array had the wrong rank, shape or length. */
export class ShapeError extends LooptreeError {
  constructor(message: string) {
    super('ERR_SHAPE', message);
  }
}

/** An option or argument had an invalid value (not a shape problem). */
export class ArgumentError extends LooptreeError {
  constructor(message: string) {
    super('ERR_ARGUMENT', message);
  }
}

/** A state dict had a missing, unexpected or wrongly shaped key, or non-finite values. */
export class StateDictError extends LooptreeError {
  constructor(message: string) {
    super('ERR_STATE_DICT', message);
  }
}

/** Bytes given to `parseSafetensors` are not a valid safetensors file. */
export class SafetensorsError extends LooptreeError {
  constructor(message: string) {
    super('ERR_SAFETENSORS', message);
  }
}

/** Wasm linear memory cannot hold an allocation (`requestedBytes`); nothing was written, other models are untouched. */
export class OutOfMemoryError extends LooptreeError {
  constructor(readonly requestedBytes: number, readonly memoryBytes: number) {
    super('ERR_OUT_OF_MEMORY', `out of Wasm memory: could not allocate ${requestedBytes} bytes (linear memory holds ${memoryBytes} bytes, at most 4 GiB)`);
  }
}

/** A worker thread of the pool failed or exited: the call that finds out throws, the pool restarts on the next. */
export class ThreadError extends LooptreeError {
  constructor(message: string) {
    super('ERR_THREAD', message);
  }
}

/** An object was used after `dispose()`. */
export class DisposedError extends LooptreeError {
  constructor(what: string) {
    super('ERR_DISPOSED', `${what} was used after dispose()`);
  }
}

/** Formats a shape as `[2, 3, 20]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
