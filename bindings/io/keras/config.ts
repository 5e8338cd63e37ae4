// Typed reading of Keras config objects (snake_case keys, null meaning "the default"): every error names the
// layer, the option and the value that came.

import { KerasError, describeValue } from './errors.js';

export type JsonObject = { readonly [key: string]: unknown };

/** A size without the batch axis: a number, or null where the model accepts any (e.g. the number of steps). */
export type Dim = number | null;

/** Largest size accepted for a dimension or a unit count (sizes end up in Int32 plans and typed-array lengths). */
export const MAX_DIM = 2 ** 30;

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function asObject(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new KerasError(`${what} must be an object, got ${describeValue(value)}`);
  return value;
}

function isDim(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_DIM;
}

/** A list of dimensions (null allowed where `nullable`), e.g. a `batch_input_shape` or a `target_shape`. */
export function readDims(value: unknown, what: string, nullable: boolean): Dim[] {
  if (!Array.isArray(value) || value.length > 8 || !value.every((dim) => isDim(dim) || (nullable && dim === null))) {
    throw new KerasError(`${what} must be a list of up to 8 sizes in 1..${MAX_DIM}${nullable ? ' or null' : ''}, got ${describeValue(value)}`);
  }
  return value as Dim[];
}

/** One layer's class, name and config, as found in the topology. */
export interface LayerSpec {
  readonly className: string;
  readonly name: string;
  readonly config: JsonObject;
}

/** Reads the options of one layer; `where` names it in messages: `layer "lstm" (LSTM)`. */
export class LayerConfig {
  readonly where: string;

  constructor(readonly spec: LayerSpec) {
    this.where = `layer "${spec.name}" (${spec.className})`;
  }

  /** The raw value; null and absent both read as undefined. */
  get(key: string): unknown {
    return this.spec.config[key] ?? undefined;
  }

  error(message: string): KerasError {
    return new KerasError(`${this.where}: ${message}`);
  }

  private invalid(key: string, expected: string): KerasError {
    return this.error(`option ${key} must be ${expected}, got ${describeValue(this.spec.config[key])}`);
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.get(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw this.invalid(key, 'true or false');
    return value;
  }

  string(key: string, fallback?: string): string {
    const value = this.get(key) ?? fallback;
    if (typeof value !== 'string') throw this.invalid(key, 'a string');
    return value;
  }

  number(key: string, fallback: number): number {
    const value = this.get(key) ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.invalid(key, 'a finite number');
    return value;
  }

  dim(key: string): number {
    const value = this.get(key);
    if (!isDim(value)) throw this.invalid(key, `an integer in 1..${MAX_DIM}`);
    return value;
  }

  /** Throws unless the option is absent or has one of the values that looptree runs (its Keras default). */
  unsupportedUnless(key: string, ...allowed: unknown[]): void {
    const value = this.get(key);
    if (value !== undefined && !allowed.includes(value)) {
      throw this.error(`option ${key} = ${describeValue(value)} is not supported`);
    }
  }
}
