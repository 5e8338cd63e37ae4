// Sampling the next token from logits: temperature, top-k and top-p (nucleus) filtering, then a seeded draw —
// Hugging Face's order (temperature, then top-k, then top-p over what top-k kept), greedy at temperature 0.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { random as globalRandom, seededRandom } from '../random.js';
import { describe, optionKeys, strictOptions } from '../options.js';
import { toTensor, type TensorLike } from '../tensor.js';

/** How the next token is chosen from logits (sample() and generate()). */
export interface SamplingOptions {
  /** Logits are divided by it before the softmax; 0 picks the most likely token (greedy). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 keeps all). Default 0. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (nucleus sampling), in (0, 1]. Default 1. */
  topP?: number;
  /** Seed of the draws (an integer in [0, 2³²)): the same seed gives the same ids. Default: the generator manualSeed() seeds. */
  seed?: number;
}

export const SAMPLING_OPTION_KEYS = optionKeys<SamplingOptions>({ temperature: true, topK: true, topP: true, seed: true });

/** Sampling options checked, with their defaults. */
export interface SamplingSettings {
  temperature: number;
  topK: number;
  topP: number;
}

/** @internal Checks temperature, topK and topP of `options` (already key-checked) and fills the defaults. */
export function samplingSettings(options: SamplingOptions, where: string): SamplingSettings {
  const { temperature = 1, topK = 0, topP = 1 } = options;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new ArgumentError(`${where}: temperature must be a finite number ≥ 0 (0 is greedy), got ${describe(temperature)}`);
  }
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 0) {
    throw new ArgumentError(`${where}: topK must be an integer ≥ 0 (0 keeps every token), got ${describe(topK)}`);
  }
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) {
    throw new ArgumentError(`${where}: topP must be a number in (0, 1], got ${describe(topP)}`);
  }
  return { temperature, topK, topP };
}

/** @internal The draws' generator: seeded by `seed`, or the global one. */
export function samplingRandom(seed: unknown, where: string): () => number {
  if (seed === undefined) return globalRandom;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new ArgumentError(`${where}: seed must be an integer in [0, 2^32), got ${describe(seed)}`);
  }
  return seededRandom(seed);
}

/**
 * @internal The distribution one row of logits is sampled from, in float64: `probabilities` (summing to 1, zero
 * outside the kept tokens) and the kept token ids, most likely first. At temperature 0, all mass on the argmax
 * (the first one on ties, like torch.argmax).
 */
export function samplingDistribution(logits: ArrayLike<number>, settings: SamplingSettings, where: string): { probabilities: Float64Array; kept: number[] } {
  const V = logits.length;
  let best = -1;
  for (let v = 0; v < V; v++) {
    const logit = logits[v];
    if (Number.isNaN(logit) || logit === Infinity) throw new ArgumentError(`${where}: logits must be finite or −Infinity (a masked token), got ${logit} at ${v}`);
    if (logit !== -Infinity && (best < 0 || logit > logits[best])) best = v;
  }
  if (best < 0) throw new ArgumentError(`${where}: every logit is −Infinity; nothing can be sampled`);
  const probabilities = new Float64Array(V);
  if (settings.temperature === 0) {
    probabilities[best] = 1;
    return { probabilities, kept: [best] };
  }
  const order: number[] = [];
  for (let v = 0; v < V; v++) if (logits[v] !== -Infinity) order.push(v);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  let kept = settings.topK > 0 ? order.slice(0, settings.topK) : order;
  const top = logits[kept[0]] / settings.temperature;
  let weights = kept.map((v) => Math.exp(logits[v] / settings.temperature - top));
  let total = weights.reduce((sum, weight) => sum + weight, 0);
  if (settings.topP < 1) {
    // The smallest prefix whose mass reaches topP: the token that crosses the threshold is kept.
    let mass = 0, count = 0;
    while (count < kept.length && mass < settings.topP * total) mass += weights[count++];
    kept = kept.slice(0, Math.max(1, count));
    weights = weights.slice(0, kept.length);
    total = mass;
  }
  kept.forEach((v, i) => { probabilities[v] = weights[i] / total; });
  return { probabilities, kept };
}

/** @internal One id drawn from `distribution` with one uniform number from `random`. */
export function drawFrom({ probabilities, kept }: ReturnType<typeof samplingDistribution>, random: () => number): number {
  if (kept.length === 1) return kept[0];
  let draw = random();
  for (const v of kept) {
    draw -= probabilities[v];
    if (draw < 0) return v;
  }
  return kept[kept.length - 1]; // rounding left a sliver of mass: the least likely kept token
}

/**
 * Draws one token id per row of `logits` (shape [B, V]). It divides by `temperature`, keeps the `topK` most likely tokens, then
 * the smallest most-likely set whose probability reaches `topP`, and draws from the softmax of what is left (one
 * uniform number per row). `temperature: 0` is greedy (the argmax, the first on ties); −Infinity logits are never drawn.
 * With `seed` the draws are reproducible; without, they come from the generator manualSeed() seeds.
 * Counterpart: PyTorch's `torch.multinomial(softmax(logits / T), 1)` after Hugging Face's TopK/TopP logits warpers.
 * @returns B ids in [0, V).
 * @throws ShapeError unless logits is [B, V] with B, V ≥ 1; ArgumentError for a bad option (unknown keys with a
 *   suggestion), NaN or +Infinity logits, or a row whose logits are all −Infinity.
 * @example const [next] = sample(logits, { temperature: 0.8, topK: 40, seed: 1 });
 */
export function sample(logits: TensorLike, options?: SamplingOptions): number[] {
  const where = 'sample';
  const opts = strictOptions(options, SAMPLING_OPTION_KEYS, where);
  const settings = samplingSettings(opts, where);
  const random = samplingRandom(opts.seed, where);
  const values = toTensor(logits, `${where}: logits`);
  if (values.shape.length !== 2 || values.shape[0] < 1 || values.shape[1] < 1) {
    throw new ShapeError(`${where}: expected logits of shape [B, V], got ${formatShape(values.shape)}`);
  }
  const [B, V] = values.shape;
  const ids: number[] = [];
  for (let b = 0; b < B; b++) {
    const row = values.data.subarray(b * V, (b + 1) * V);
    ids.push(drawFrom(samplingDistribution(row, settings, B > 1 ? `${where}: row ${b}` : where), random));
  }
  return ids;
}
