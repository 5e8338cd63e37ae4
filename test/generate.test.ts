// sample() and generate(): the sampling distribution against a float64 reference written here (temperature, top-k,
// top-p, greedy, −Infinity masks), each seeded draw against the reference's inverse CDF at the same uniform number,
// empirical frequencies over many draws against the softmax, the temperature limits, reproducibility; generate()
// against a hand-written loop that recomputes the whole prefix each step (no carried state), the prompt fed once,
// stop / onToken, the stream form, and a typed error for every bad input.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ArgumentError, Embedding, GRU, LSTM, Linear, Sequential, ShapeError, Tensor, generate, init, manualSeed, sample, seededRandom, tensor,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface Settings { temperature?: number; topK?: number; topP?: number }

/**
 * The reference distribution, in float64, written from the definitions: softmax(logits / T) over the non-masked
 * tokens; top-k keeps the k largest logits; top-p then keeps the most likely tokens until their renormalized mass
 * first reaches p; the result renormalized. Returns the probabilities and the kept ids, most likely first.
 */
function referenceDistribution(logits: readonly number[], { temperature = 1, topK = 0, topP = 1 }: Settings) {
  const ids = logits.map((_, id) => id).filter((id) => logits[id] !== -Infinity);
  ids.sort((a, b) => (logits[b] - logits[a]) || (a - b));
  if (temperature === 0) return { probabilities: logits.map((_, id) => (id === ids[0] ? 1 : 0)), order: [ids[0]] };
  let kept = topK > 0 ? ids.slice(0, topK) : ids;
  const max = Math.max(...kept.map((id) => logits[id] / temperature));
  const unnormalized = kept.map((id) => Math.exp(logits[id] / temperature - max));
  const sum = unnormalized.reduce((a, b) => a + b, 0);
  let softmax = unnormalized.map((weight) => weight / sum);
  if (topP < 1) {
    let cumulative = 0, count = 0;
    while (count < kept.length && cumulative < topP) cumulative += softmax[count++];
    kept = kept.slice(0, count);
    softmax = softmax.slice(0, count).map((p) => p / cumulative);
  }
  const probabilities = logits.map(() => 0);
  kept.forEach((id, i) => { probabilities[id] = softmax[i]; });
  return { probabilities, order: kept };
}

/** The id at uniform number u under the reference: the first kept id (most likely first) whose cumulative mass exceeds u. */
function inverseCdf({ probabilities, order }: ReturnType<typeof referenceDistribution>, u: number): number {
  let cumulative = 0;
  for (const id of order) {
    cumulative += probabilities[id];
    if (u < cumulative) return id;
  }
  return order[order.length - 1];
}

const LOGITS = [1.3, -0.2, 2.9, 0.4, 2.1, -1.7, 0.9, 2.9, -0.6, 1.6];

/** Frequencies of `draws` seeded single-row draws. */
function frequencies(logits: readonly number[], settings: Settings, draws: number): number[] {
  const counts = logits.map(() => 0);
  for (let seed = 0; seed < draws; seed++) counts[sample(tensor([logits]), { ...settings, seed })[0]]++;
  return counts.map((count) => count / draws);
}

/** Each frequency within 5 standard errors of its probability (a false alarm below 1e-5 per token), zero where it is zero. */
function expectFrequencies(observed: number[], probabilities: number[], draws: number) {
  probabilities.forEach((p, id) => {
    if (p === 0) expect(observed[id], `token ${id}`).toBe(0);
    else expect(Math.abs(observed[id] - p), `token ${id}: ${observed[id]} vs ${p}`).toBeLessThanOrEqual(5 * Math.sqrt(p * (1 - p) / draws));
  });
}

describe('sample', () => {
  const cases: Settings[] = [
    {}, { temperature: 0.5 }, { temperature: 2 }, { topK: 3 }, { topK: 1 }, { topP: 0.5 }, { topP: 0.9 },
    { topK: 5, topP: 0.7 }, { temperature: 0.7, topK: 4, topP: 0.8 }, { topK: 20 },
  ];

  it.each(cases)('draws each seed at the reference inverse CDF of its uniform number: %o', (settings) => {
    const reference = referenceDistribution(LOGITS, settings);
    for (let seed = 0; seed < 3000; seed++) {
      const u = seededRandom(seed)();
      expect(sample(tensor([LOGITS]), { ...settings, seed })).toEqual([inverseCdf(reference, u)]);
    }
  });

  it('keeps exactly the top-k and the top-p mass (tokens outside are never drawn, kept mass as the reference)', () => {
    const topK = referenceDistribution(LOGITS, { topK: 3 });
    expect([...topK.order].sort()).toEqual([2, 4, 7]); // 2.9, 2.9, 2.1
    // softmax(LOGITS): the two 2.9s hold 0.3099 each, 2.1 holds 0.1393. topP 0.65: 0.620 < 0.65, so 2.1 joins them;
    // topP 0.5: the two 2.9s (0.620 ≥ 0.5); topP 0.3: the first of them alone (0.3099 ≥ 0.3; ties go to the lower id).
    const draws = 20000;
    for (const [topP, kept] of [[0.65, [2, 4, 7]], [0.5, [2, 7]], [0.3, [2]]] as const) {
      const reference = referenceDistribution(LOGITS, { topP });
      expect([...reference.order].sort()).toEqual(kept);
      expectFrequencies(frequencies(LOGITS, { topP }, draws), reference.probabilities, draws);
    }
    expectFrequencies(frequencies(LOGITS, { topK: 3 }, draws), topK.probabilities, draws);
  });

  it('matches softmax(logits / T) in empirical frequency over 20,000 seeded draws', () => {
    const draws = 20000;
    for (const temperature of [1, 0.6, 1.8]) {
      expectFrequencies(frequencies(LOGITS, { temperature }, draws), referenceDistribution(LOGITS, { temperature }).probabilities, draws);
    }
  });

  it('is greedy at temperature 0 (first argmax on ties) and near 0, uniform as temperature grows', () => {
    for (let seed = 0; seed < 200; seed++) {
      expect(sample(tensor([LOGITS]), { temperature: 0, seed })).toEqual([2]);
      expect(sample(tensor([[0, 5, 1, 4.99]]), { temperature: 1e-3, seed })).toEqual([1]);
    }
    const draws = 20000;
    expectFrequencies(frequencies(LOGITS, { temperature: 1e6 }, draws), LOGITS.map(() => 0.1), draws);
  });

  it('never draws a −Infinity logit (a mask) and samples each row of a batch', () => {
    const masked = [0, -Infinity, 0, -Infinity];
    const draws = 4000;
    expectFrequencies(frequencies(masked, {}, draws), [0.5, 0, 0.5, 0], draws);
    const rows = [[9, 0, 0], [0, 9, 0], [0, 0, 9]];
    expect(sample(tensor(rows), { temperature: 0 })).toEqual([0, 1, 2]);
    // A batch draws one uniform number per row, in row order, from one seeded generator.
    const random = seededRandom(11);
    const reference = [LOGITS, [...LOGITS].reverse()].map((row) => inverseCdf(referenceDistribution(row, {}), random()));
    expect(sample(tensor([LOGITS, [...LOGITS].reverse()]), { seed: 11 })).toEqual(reference);
  });

  it('is reproducible: the same seed gives the same ids; without a seed, manualSeed decides', () => {
    const batch = tensor([LOGITS, LOGITS, LOGITS, LOGITS, LOGITS, LOGITS]);
    expect(sample(batch, { seed: 42 })).toEqual(sample(batch, { seed: 42 }));
    expect(sample(batch, { seed: 42 })).not.toEqual(sample(batch, { seed: 43 }));
    manualSeed(9);
    const first = [sample(batch), sample(batch)];
    manualSeed(9);
    expect([sample(batch), sample(batch)]).toEqual(first);
  });

  it('rejects bad input with typed errors', () => {
    const logits = tensor([LOGITS]);
    expect(() => sample(logits, { top_k: 3 } as never)).toThrow(/sample: unknown option "top_k" — did you mean "topK"\?/);
    expect(() => sample(logits, { temperature: -1 })).toThrow(ArgumentError);
    expect(() => sample(logits, { temperature: -1 })).toThrow(/sample: temperature must be a finite number ≥ 0 \(0 is greedy\), got -1/);
    expect(() => sample(logits, { temperature: Infinity })).toThrow(/temperature must be a finite number/);
    expect(() => sample(logits, { topK: 1.5 })).toThrow(/sample: topK must be an integer ≥ 0 \(0 keeps every token\), got 1.5/);
    expect(() => sample(logits, { topP: 0 })).toThrow(/sample: topP must be a number in \(0, 1\], got 0/);
    expect(() => sample(logits, { topP: 1.5 })).toThrow(/topP must be a number in \(0, 1\]/);
    expect(() => sample(logits, { seed: -1 })).toThrow(/sample: seed must be an integer in \[0, 2\^32\), got -1/);
    expect(() => sample(logits, { seed: 0.5 })).toThrow(ArgumentError);
    expect(() => sample(tensor(LOGITS))).toThrow(ShapeError);
    expect(() => sample(tensor(LOGITS))).toThrow(/sample: expected logits of shape \[B, V\], got \[10\]/);
    expect(() => sample(tensor([[1, NaN]]))).toThrow(/sample: logits must be finite or −Infinity \(a masked token\), got NaN at 1/);
    expect(() => sample(tensor([[1, 2], [-Infinity, -Infinity]]))).toThrow(/sample: row 1: every logit is −Infinity/);
    expect(() => sample(logits, null as never)).toThrow(/sample: expected an options object, got null/);
  });
});

describe('generate', () => {
  const V = 13, E = 6, H = 10;

  function languageModel(cell: typeof LSTM | typeof GRU, seed: number) {
    manualSeed(seed);
    const embedding = new Embedding({ numEmbeddings: V, embeddingDim: E });
    const recurrent = new cell({ inputSize: E, hiddenSize: H, numLayers: 2, batchFirst: true });
    const head = new Linear({ inFeatures: H, outFeatures: V });
    // Sharper logits than at initialization, so that the draws depend on the state.
    head.loadStateDict({ weight: tensor(head.stateDict().weight.data.map((w) => w * 12), [V, H]), bias: head.stateDict().bias });
    return { model: new Sequential([embedding, recurrent, head]), embedding, recurrent, head };
  }

  /**
   * The hand-written reference: every step runs the model over the whole sequence so far from zero state (nothing
   * carried), takes the last logits and draws with the reference distribution at the next uniform number of the seed.
   */
  function referenceGenerate(model: Sequential, prompt: number[], count: number, settings: Settings, seed: number, stop = -1): number[] {
    const random = seededRandom(seed);
    const sequence = [...prompt];
    const generated: number[] = [];
    while (generated.length < count) {
      const { output } = model.forward(tensor(sequence, [1, sequence.length]));
      const last = Array.from(output.data.subarray(output.data.length - V));
      const distribution = referenceDistribution(last, settings);
      const id = settings.temperature === 0 || distribution.order.length === 1 ? distribution.order[0] : inverseCdf(distribution, random());
      generated.push(id);
      sequence.push(id);
      if (id === stop) break;
    }
    return generated;
  }

  it.each([
    ['LSTM', LSTM, {}], ['LSTM', LSTM, { temperature: 0.8, topK: 5 }], ['GRU', GRU, { topP: 0.9 }], ['GRU', GRU, { temperature: 0 }],
  ] as Array<[string, typeof LSTM, Settings]>)('equals a loop that recomputes the whole prefix each step (%s, %o), feeding the prompt once', (_, cell, settings) => {
    const { model } = languageModel(cell, 5);
    const prompt = [3, 1, 4, 1, 5, 9, 2];
    const expected = referenceGenerate(model, prompt, 40, settings, 77);
    const forward = vi.spyOn(model, 'forward');
    const ids = generate(model, prompt, { maxTokens: 40, seed: 77, ...settings });
    expect(ids).toEqual(expected);
    expect(new Set(ids).size).toBeGreaterThan(settings.temperature === 0 ? 0 : 3); // really sampled, not stuck
    // The prompt in one call, then one token per call, each from the state the previous call ended in.
    expect(forward.mock.calls.map(([x]) => (x as unknown as { shape: number[] }).shape)).toEqual([[1, 7], ...Array(39).fill([1, 1])]);
    expect(forward.mock.calls[1][1]?.state).toBe(forward.mock.results[0].value.state);
    model.dispose();
  });

  it('runs a stream + head pair one step per token, with the Sequential\'s ids', () => {
    const { model, embedding, recurrent, head } = languageModel(LSTM, 8);
    const prompt = [0, 12, 7];
    const expected = generate(model, prompt, { maxTokens: 30, temperature: 0.9, seed: 3 });
    expect(expected).toEqual(referenceGenerate(model, prompt, 30, { temperature: 0.9 }, 3));
    const stream = recurrent.stream();
    const step = vi.spyOn(stream, 'step');
    expect(generate({ embed: embedding, stream, head }, prompt, { maxTokens: 30, temperature: 0.9, seed: 3 })).toEqual(expected);
    expect(step).toHaveBeenCalledTimes(prompt.length + 29);
    // Functions in place of the modules, continuing after a reset.
    stream.reset();
    const functions = { embed: (ids: Int32Array) => embedding.forward(ids, [ids.length]), stream, head: (h: Tensor) => head.forward(h) };
    expect(generate(functions, prompt, { maxTokens: 30, temperature: 0.9, seed: 3 })).toEqual(expected);
    stream.dispose();
    model.dispose();
  });

  it('stops at a stop token (returned last) or when onToken returns false, calling onToken for every token', () => {
    const { model } = languageModel(LSTM, 5);
    const prompt = [3, 1, 4];
    const free = generate(model, prompt, { maxTokens: 50, seed: 1 });
    const stopId = free[17];
    const firstAt = free.indexOf(stopId);
    const seen: Array<[number, number]> = [];
    const stopped = generate(model, prompt, { maxTokens: 50, seed: 1, stop: [stopId, 99], onToken: (id, index) => { seen.push([id, index]); } });
    expect(stopped).toEqual(free.slice(0, firstAt + 1));
    expect(seen).toEqual(stopped.map((id, index) => [id, index]));
    expect(generate(model, prompt, { maxTokens: 50, seed: 1, stop: stopId })).toEqual(stopped);
    expect(generate(model, prompt, { maxTokens: 50, seed: 1, onToken: (_, index) => index < 4 })).toEqual(free.slice(0, 5));
    expect(generate(model, prompt, { maxTokens: 1, seed: 1 })).toEqual(free.slice(0, 1));
    model.dispose();
  });

  it('rejects bad input with typed errors', () => {
    const { model, recurrent, embedding, head } = languageModel(LSTM, 5);
    expect(() => generate(model, [1], { maxTokens: 0 })).toThrow(/generate: maxTokens must be a positive integer, got 0/);
    expect(() => generate(model, [1], undefined as never)).toThrow(/generate: expected options with maxTokens/);
    expect(() => generate(model, [1], { maxTokens: 5, max_new_tokens: 3 } as never)).toThrow(/generate: unknown option "max_new_tokens"/);
    expect(() => generate(model, [1], { maxTokens: 5, temprature: 1 } as never)).toThrow(/did you mean "temperature"\?/);
    expect(() => generate(model, [], { maxTokens: 5 })).toThrow(/generate: promptIds must hold at least one token id/);
    expect(() => generate(model, [1, 2.5], { maxTokens: 5 })).toThrow(/generate: promptIds\[1\] must be an integer token id ≥ 0, got 2.5/);
    expect(() => generate(model, [1, V], { maxTokens: 5 })).toThrow(/ids\[1\] must be in \[0, 13\), got 13/);
    expect(() => generate(model, [1], { maxTokens: 5, stop: [1, -2] })).toThrow(/generate: stop must be a token id or an array of token ids/);
    expect(() => generate(model, [1], { maxTokens: 5, onToken: 3 as never })).toThrow(/generate: onToken must be a function, got 3/);
    expect(() => generate(model, [1], { maxTokens: 5, topP: 2 })).toThrow(/generate: topP must be a number in \(0, 1\]/);
    expect(() => generate({} as never, [1], { maxTokens: 5 })).toThrow(ArgumentError);
    expect(() => generate({ embed: embedding, stream: recurrent.stream({ batch: 2 }), head }, [1], { maxTokens: 5 })).toThrow(/model.stream must have batch 1, got 2/);
    const stream = recurrent.stream();
    expect(() => generate({ embed: embedding, stream, head, extra: 1 } as never, [1], { maxTokens: 5 })).toThrow(/generate: model: unknown option "extra"/);
    expect(() => generate({ embed: embedding, stream, head: (h: Tensor) => tensor(h.data, [H]) }, [1], { maxTokens: 5 })).toThrow(/generate: model.head must give logits \[1, 1, V\] or \[1, V\] for 1 token\(s\), got \[10\]/);
    const lastStepOnly = new Sequential([new Embedding({ numEmbeddings: V, embeddingDim: E }), new LSTM({ inputSize: E, hiddenSize: H, batchFirst: true })]);
    expect(generate(lastStepOnly, [1, 2], { maxTokens: 3, temperature: 0 })).toHaveLength(3); // hidden units as logits: still [1, T, V]
    lastStepOnly.dispose();
    model.dispose();
  });
});
