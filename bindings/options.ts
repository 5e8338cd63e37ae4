// Validators for every option and argument of the public API: one family, one message style —
// "<where>: <what> must be <expected>, got <what came>" — each throwing a typed LooptreeError.

import { ArgumentError, ShapeError, formatShape } from './errors.js';
import { editDistance } from './edit-distance.js';
import type { Tensor } from './tensor.js';

/** What a value is, for messages: `null`, `0`, `"text"`, `an array of length 3`, `a Float32Array`, `bigint 5`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  return `${typeof value} ${String(value)}`;
}

const prefix = (where: string | undefined) => (where ? `${where}: ` : '');

/** The options object of `where`, or an ArgumentError; `undefined` gives `{}`. */
export function optionsObject<T extends object>(value: T | undefined, where: string): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ArgumentError(`${where}: expected an options object, got ${describe(value)}`);
  }
  return value;
}

/**
 * Other libraries' names for our options that camelCasing does not reach (lowercased, without underscores) →
 * ours: Keras' and TensorFlow's (`learning_rate`, `epsilon`, `units`, `input_dim`, `rate`, `clipnorm`), torchtext's `min_freq`.
 */
const FOREIGN_NAMES: Readonly<Record<string, readonly string[]>> = {
  learningrate: ['lr'],
  epsilon: ['eps'],
  beta1: ['betas'],
  beta2: ['betas'],
  units: ['hiddenSize', 'outFeatures'],
  inputdim: ['numEmbeddings', 'inputSize'],
  outputdim: ['embeddingDim'],
  rate: ['p'],
  clipnorm: ['clipGradNorm'],
  minfreq: ['minCount'],
};

/** PyTorch's snake_case as our camelCase: `batch_first` → `batchFirst`. */
const camelCase = (key: string) => key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * Rejects keys that `where` does not know, naming the closest known one. Spellings from PyTorch and Keras
 * (`batch_first`, `num_layers`, `learning_rate`) are matched to ours through their camelCase form and FOREIGN_NAMES.
 * `unsupported` names options other libraries have and we do not (camelCase key → why), so that they are
 * refused with the reason rather than as typos.
 */
export function checkKeys(options: object, allowed: readonly string[], where: string, unsupported: Readonly<Record<string, string>> = {}): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const expected = `expected one of ${allowed.join(', ')}`;
    if (Object.hasOwn(unsupported, camelCase(key))) {
      throw new ArgumentError(`${where}: option "${key}" is not supported (${unsupported[camelCase(key)]}); ${expected}`);
    }
    const suggestion = closest(key, allowed);
    throw new ArgumentError(`${where}: unknown option "${key}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}; ${expected}`);
  }
}

/** The options object of `where` (`undefined` gives `{}`) with every key known: optionsObject, then checkKeys. */
export function strictOptions<T extends object>(value: T | undefined, allowed: readonly string[], where: string,
                                                unsupported?: Readonly<Record<string, string>>): T {
  const options = optionsObject(value, where);
  checkKeys(options, allowed, where, unsupported);
  return options;
}

/**
 * The keys of an options type, written once as `{ key: true, ... }`: the compiler checks that the record names
 * every key of T and no other, so the list a validator checks against cannot drift from the type.
 */
export function optionKeys<T extends object>(keys: Record<keyof T, true>): readonly string[] {
  return Object.keys(keys);
}

/** The known name nearest to `key` (a foreign name's, else camelCased, case-insensitive edit distance ≤ a third of its length), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  const foreign = FOREIGN_NAMES[key.replace(/_/g, '').toLowerCase()]?.find((name) => known.includes(name));
  if (foreign) return foreign;
  const camel = camelCase(key).toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(camel.length / 3)) + 1;
  for (const name of known) {
    const distance = editDistance(camel, name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** The largest size of one dimension: 2³¹ − 1 (sizes and indices cross into Wasm as i32). */
export const MAX_DIMENSION = 2 ** 31 - 1;

/** An integer in 1..max (no bound unless given: `MAX_DIMENSION` for a dimension, smaller ones for sizes read from files). */
export function positiveInteger(value: unknown, what: string, where?: string, max?: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`${prefix(where)}${what} must be a positive integer${max === undefined ? '' : ` ≤ ${max}`}, got ${describe(value)}`);
  }
  if (max !== undefined && value > max) throw new ArgumentError(`${prefix(where)}${what} must be a positive integer ≤ ${max}, got ${value}`);
  return value;
}

/**
 * An integer id in [0, limit) — or `extra`, a value with a meaning of its own (an ignoreIndex, −1 for "none") —
 * where a non-integer and an id out of range get messages of their own. `what` names the entry: 'ids[3]'.
 */
export function integerId(value: unknown, what: string, limit: number, where: string, extra?: { value: number; meaning: string }): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ArgumentError(`${where}: ${what} must be an integer, got ${describe(value)}`);
  if (value !== extra?.value && (value < 0 || value >= limit)) {
    throw new ArgumentError(`${where}: ${what} must be in [0, ${limit})${extra ? ` or ${extra.value} (${extra.meaning})` : ''}, got ${value}`);
  }
  return value;
}

/** An optional boolean: `fallback` when undefined. */
export function booleanOption(value: unknown, what: string, fallback: boolean, where?: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ArgumentError(`${prefix(where)}${what} must be a boolean, got ${describe(value)}`);
  return value;
}

/** An optional choice among `choices`: `fallback` when undefined. */
export function choiceOption<T extends string>(value: unknown, what: string, choices: readonly T[], fallback: T, where?: string): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    const quoted = choices.map((choice) => `'${choice}'`);
    throw new ArgumentError(`${prefix(where)}${what} must be ${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}, got ${describe(value)}`);
  }
  return value as T;
}

/**
 * `lengths` of B sequences of T steps (pack_padded_sequence's: integers in 1..T, any order) as an Int32Array.
 * `each` says what one length belongs to, for the count's message: 'one per batch element'.
 */
export function sequenceLengths(lengths: unknown, B: number, T: number, where: string, each: string): Int32Array {
  if (lengths === null || typeof lengths !== 'object' || typeof (lengths as ArrayLike<number>).length !== 'number') {
    throw new ArgumentError(`${where}: lengths must be an array of ${B} integers, got ${describe(lengths)}`);
  }
  const values = lengths as ArrayLike<number>;
  if (values.length !== B) throw new ShapeError(`${where}: expected ${B} lengths (${each}), got ${values.length}`);
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const length = values[b];
    if (!Number.isInteger(length) || length < 1 || !(length <= T)) throw new ArgumentError(`${where}: lengths[${b}] must be an integer in 1..${T}, got ${length}`);
    out[b] = length;
  }
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

export function expectShape(value: Tensor, expected: readonly number[], what: string): void {
  if (!sameShape(value.shape, expected)) {
    throw new ShapeError(`Expected ${what} of shape ${formatShape(expected)}, got ${formatShape(value.shape)}`);
  }
}
