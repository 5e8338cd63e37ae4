// generate(): autoregressive sampling from a recurrent language model — a Sequential, or a Stream with its input
// and output layers — feeding the prompt once and then one token per step with the recurrent state carried.

import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import type { RecurrentState } from '../nn/module.js';
import { Stream } from '../nn/stream.js';
import { describe, optionKeys, strictOptions } from '../options.js';
import { Tensor, toTensor, type TensorLike } from '../tensor.js';
import { Sequential } from '../train/sequential.js';
import { drawFrom, samplingDistribution, samplingRandom, samplingSettings, type SamplingOptions } from './sample.js';

/**
 * A recurrent language model run step by step: `embed` turns token ids [B] into the stream's inputs [B, I], the
 * `stream` (from RNN/LSTM/GRU.stream(), batch 1) advances one step per token, and `head` turns its output h [B, P]
 * into logits [B, V]. Each may be the module itself (an Embedding, a Linear) or a function.
 */
export interface StreamLanguageModel {
  /** Token ids [B] → the stream's inputs [B, I]: an Embedding, or a function (e.g. one-hot). */
  embed: Embedding | ((ids: Int32Array) => TensorLike);
  /** A unidirectional RNN/LSTM/GRU's `.stream()` of batch 1; generate() advances it from its current state. */
  stream: Stream;
  /** The stream's output h [B, P] → logits [B, V]: a Linear, or a function. */
  head: Linear | ((h: Tensor) => TensorLike);
}

/** Options of generate(): how many tokens, how each is sampled, when to stop. */
export interface GenerateOptions extends SamplingOptions {
  /** How many tokens to generate at most (a positive integer). Required. */
  maxTokens: number;
  /** Token id(s) that end generation; the stop token is the last id returned. */
  stop?: number | readonly number[];
  /** Called with each token as it is generated (its id and index from 0); returning `false` stops generation after it. */
  onToken?: (id: number, index: number) => void | boolean;
}

export const GENERATE_OPTION_KEYS = optionKeys<GenerateOptions>({
  maxTokens: true, stop: true, onToken: true, temperature: true, topK: true, topP: true, seed: true,
});

/** One model step: the ids of the tokens to feed (the whole prompt first, then one at a time) → the last logits [V]. */
type Feed = (ids: Int32Array) => Float32Array;

/**
 * Generates up to `maxTokens` token ids after `promptIds` from a recurrent language model, one token at a time:
 * the prompt is fed once (a Sequential in one forward; a stream one step per token), then each drawn token is fed
 * back with the recurrent state carried — one model step per token, nothing recomputed. Each token is drawn from the
 * last logits with `temperature`, `topK`, `topP` as in sample() (`temperature: 0` is greedy), from a generator
 * seeded by `seed` (reproducible) or else the one manualSeed() seeds.
 *
 * `model` is a Sequential whose input is token ids [1, T] and whose output is logits [1, T, V] (or [1, V]), e.g.
 * Embedding → LSTM → Linear; or a StreamLanguageModel `{ embed, stream, head }`, which generate() advances from the
 * stream's current state (call stream.reset() first for a fresh start) and leaves after the last token fed.
 * Counterpart: Hugging Face's `model.generate(input_ids, max_new_tokens, do_sample, temperature, top_k, top_p,
 * eos_token_id)`.
 * @returns the generated ids (not the prompt), ending with the stop token if one was drawn.
 * @throws ArgumentError for a bad option (unknown keys with a suggestion), an empty prompt or non-integer ids,
 *   a model that is neither form; ShapeError when the model's logits are not [1, V] per step; the model's own
 *   errors for ids outside its vocabulary.
 * @example const ids = generate(model, encode('The '), { maxTokens: 200, temperature: 0.8, topK: 20, seed: 1 });
 */
export function generate(model: Sequential | StreamLanguageModel, promptIds: ArrayLike<number>, options: GenerateOptions): number[] {
  const where = 'generate';
  if (options === undefined) throw new ArgumentError(`${where}: expected options with maxTokens, got undefined`);
  const opts = strictOptions(options, GENERATE_OPTION_KEYS, where);
  const { maxTokens, onToken } = opts;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new ArgumentError(`${where}: maxTokens must be a positive integer, got ${describe(maxTokens)}`);
  }
  if (onToken !== undefined && typeof onToken !== 'function') throw new ArgumentError(`${where}: onToken must be a function, got ${describe(onToken)}`);
  const stop = stopIds(opts.stop, where);
  const settings = samplingSettings(opts, where);
  const random = samplingRandom(opts.seed, where);
  const prompt = promptArray(promptIds, where);
  const feed = feeder(model, where);

  const generated: number[] = [];
  let logits = feed(prompt);
  for (let index = 0; index < maxTokens; index++) {
    const id = drawFrom(samplingDistribution(logits, settings, where), random);
    generated.push(id);
    const keepGoing = onToken?.(id, index) !== false;
    if (!keepGoing || stop.has(id) || index === maxTokens - 1) break;
    logits = feed(Int32Array.of(id));
  }
  return generated;
}

function stopIds(stop: unknown, where: string): Set<number> {
  if (stop === undefined) return new Set();
  const ids = typeof stop === 'number' ? [stop] : stop;
  if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id) && id >= 0)) {
    throw new ArgumentError(`${where}: stop must be a token id or an array of token ids (integers ≥ 0), got ${describe(stop)}`);
  }
  return new Set(ids as number[]);
}

function promptArray(promptIds: ArrayLike<number>, where: string): Int32Array {
  if (promptIds === null || typeof promptIds !== 'object' || typeof promptIds.length !== 'number') {
    throw new ArgumentError(`${where}: promptIds must be an array of token ids, got ${describe(promptIds)}`);
  }
  if (promptIds.length === 0) throw new ArgumentError(`${where}: promptIds must hold at least one token id (the first logits come from it), got an empty array`);
  const prompt = new Int32Array(promptIds.length);
  for (let i = 0; i < prompt.length; i++) {
    const id = promptIds[i];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= 2 ** 31) {
      throw new ArgumentError(`${where}: promptIds[${i}] must be an integer token id ≥ 0, got ${describe(id)}`);
    }
    prompt[i] = id;
  }
  return prompt;
}

/** The last row of logits of one call, checked to be [1, V] per step. */
function lastLogits(output: Tensor, steps: number, what: string, where: string): Float32Array {
  const { shape } = output;
  const perStep = shape.length === 3 && shape[0] === 1 && shape[1] === steps;
  if (!perStep && !(shape.length === 2 && shape[0] === 1)) {
    throw new ShapeError(`${where}: ${what} must give logits [1, ${steps}, V] or [1, V] for ${steps} token(s), got ${formatShape(shape)}`);
  }
  const V = shape[shape.length - 1];
  return output.data.subarray(output.data.length - V);
}

function feeder(model: Sequential | StreamLanguageModel, where: string): Feed {
  if (model instanceof Sequential) {
    let state: RecurrentState[] | undefined;
    return (ids) => {
      const result = model.forward(new Tensor(Float32Array.from(ids), [1, ids.length]), { state });
      state = result.state;
      return lastLogits(result.output, ids.length, 'the model', where);
    };
  }
  if (model === null || typeof model !== 'object' || !(model.stream instanceof Stream)) {
    throw new ArgumentError(`${where}: model must be a Sequential or { embed, stream, head } with a Stream, got ${describe(model)}`);
  }
  const known = ['embed', 'stream', 'head'];
  strictOptions(model, known, `${where}: model`);
  const { embed, stream, head } = model;
  if (stream.batch !== 1) throw new ArgumentError(`${where}: model.stream must have batch 1, got ${stream.batch}`);
  if (!(embed instanceof Embedding) && typeof embed !== 'function') throw new ArgumentError(`${where}: model.embed must be an Embedding or a function, got ${describe(embed)}`);
  if (!(head instanceof Linear) && typeof head !== 'function') throw new ArgumentError(`${where}: model.head must be a Linear or a function, got ${describe(head)}`);
  const embedOne = (id: number) => toTensor(embed instanceof Embedding ? embed.forward(Int32Array.of(id), [1]) : embed(Int32Array.of(id)), `${where}: model.embed output`);
  const headOf = (h: Tensor) => toTensor(head instanceof Linear ? head.forward(h) : head(h), `${where}: model.head output`);
  return (ids) => {
    let h: Tensor | undefined;
    for (const id of ids) h = stream.step(embedOne(id));
    return lastLogits(headOf(h!), 1, 'model.head', where);
  };
}
