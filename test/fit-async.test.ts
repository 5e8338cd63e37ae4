// Sequential.fitAsync: the same training as fit() (bitwise-identical history and weights from the same seed), with the
// event loop running between optimizer steps (every `yieldEvery`), and the model guarded while it trains.

import { beforeAll, describe, expect, it } from 'vitest';
import { Embedding, LSTM, LastStep, Linear, Sequential, init, manualSeed, type History } from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

/** A seeded classifier and its data: 40 sequences of 6 ids; the class says whether id 1 comes before id 2. */
function setup(seed: number): { model: Sequential; x: number[][]; y: number[] } {
  manualSeed(seed);
  const model = new Sequential([
    new Embedding({ numEmbeddings: 5, embeddingDim: 4 }), new LSTM({ inputSize: 4, hiddenSize: 8, batchFirst: true }), new LastStep(),
    new Linear({ inFeatures: 8, outFeatures: 2 }),
  ]);
  model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 0.02 }, clipGradNorm: 1 });
  const x = Array.from({ length: 40 }, (_, n) => Array.from({ length: 6 }, (_, t) => (n * 7 + t * 3) % 5));
  const y = x.map((row) => (row.indexOf(1) < row.indexOf(2) ? 1 : 0));
  return { model, x, y };
}

const options = { epochs: 3, batchSize: 8, validationSplit: 0.2, verbose: false } as const;

/** The weights' bits, to compare two models exactly. */
function weightBits(model: Sequential): Record<string, number[]> {
  return Object.fromEntries(Object.entries(model.stateDict()).map(([name, t]) => [name, Array.from(new Uint32Array(t.data.buffer))]));
}

describe('Sequential.fitAsync', () => {
  it('trains exactly as fit() does from the same seed: the same history and weights, bit for bit', async () => {
    const sync = setup(11);
    const expected: History = sync.model.fit(sync.x, sync.y, options);
    const async = setup(11);
    const history = await async.model.fitAsync(async.x, async.y, options);
    expect(history).toEqual(expected);
    expect(weightBits(async.model)).toEqual(weightBits(sync.model));
    expect(history.loss[2]).toBeLessThan(history.loss[0]);
  });

  it('lets timers run while it trains (fit() does not)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const { model, x, y } = setup(2);
      const steps = { ...options, epochs: 20 }; // 80 optimizer steps
      const before = ticks;
      model.fit(x, y, steps);
      expect(ticks, 'ticks during fit()').toBe(before);
      let ticksInCallbacks = 0;
      await model.fitAsync(x, y, { ...steps, callbacks: { onBatchEnd: () => { ticksInCallbacks = ticks; } } });
      expect(ticksInCallbacks, 'ticks seen by the last onBatchEnd of fitAsync()').toBeGreaterThan(before);
    } finally {
      clearInterval(timer);
    }
  });

  it('gives the event loop a turn after every yieldEvery optimizer steps', async () => {
    const turns = async (yieldEvery: number | undefined): Promise<boolean[]> => {
      const { model, x, y } = setup(3);
      // Whether a task of the event loop ran between the previous step and this one.
      const between: boolean[] = [];
      let turned = false;
      const onBatchEnd = () => {
        between.push(turned);
        turned = false;
        setImmediate(() => { turned = true; });
      };
      await model.fitAsync(x, y, { ...options, epochs: 1, validationSplit: 0, yieldEvery, callbacks: { onBatchEnd } });
      return between.slice(1);
    };
    expect(await turns(undefined)).toEqual([true, true, true, true]);
    expect(await turns(2)).toEqual([false, true, false, true]);
    expect(await turns(5)).toEqual([false, false, false, false]);
  });

  it('refuses compile() and another fit while it trains, allows predict() between steps, and is free again after', async () => {
    const { model, x, y } = setup(4);
    const errors: string[] = [];
    let predicted = 0;
    const onBatchEnd = () => {
      for (const call of [() => model.compile({ loss: 'mse', optimizer: { type: 'sgd', lr: 1 } }), () => model.fit(x, y, { verbose: false })]) {
        try {
          call();
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
      predicted += model.predict(x.slice(0, 2)).shape[0];
    };
    const training = model.fitAsync(x, y, { ...options, epochs: 1, callbacks: { onBatchEnd } });
    await expect(model.fitAsync(x, y, options)).rejects.toThrow('Sequential.fitAsync: the model is training');
    await training;
    expect(errors[0]).toBe('Sequential.compile: the model is training (in fit(), or in a fitAsync() that has not settled); wait for it to finish');
    expect(errors[1]).toMatch(/^Sequential.fit: the model is training/);
    expect(predicted).toBeGreaterThan(0);
    expect(model.fit(x, y, { ...options, epochs: 1 }).epochs).toBe(1);
  });

  it('rejects (does not throw) on bad options, and leaves the model usable', async () => {
    const { model, x, y } = setup(5);
    const pending = model.fitAsync(x, y, { epoch: 2 } as never);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toThrow('Sequential.fitAsync: unknown option "epoch" — did you mean "epochs"?');
    await expect(model.fitAsync(x, y, { yieldEvery: 0 })).rejects.toThrow('yieldEvery must be a positive integer, got 0');
    expect((await model.fitAsync(x, y, { verbose: false })).epochs).toBe(1);
  });
});
