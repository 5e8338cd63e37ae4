// Sequential (Keras-style fit / evaluate / predict / save / load): PyTorch's training trajectories through fit
// (test/fixtures/train, including truncated BPTT), determinism, save → load, lengths and loss masking,
// early stopping, callbacks, progress output, and a typed error for every bad input.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ArgumentError, DisposedError, Dropout, Embedding, GRU, LSTM, LastStep, Linear, LogSoftmax, RNN, ReLU, SafetensorsError,
  Sequential, ShapeError, StateDictError, Tanh, Tensor, init, manualSeed, mse, parseSafetensors, readSafetensorsMetadata, serializeSafetensors, tensor,
  type History, type Layer,
} from '../dist/index.js';
import { expectClose, listFixtures, loadFixture, simdUnderTest, type FixtureTensor, type Tolerance } from './helpers/fixtures.js';
import { expectClose as expectCloseValues } from './helpers/compare.js';
import { seededRandom } from './helpers/random.js';
import { decode16, encode16 } from './reference/dtypes.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface TrainFixture {
  module: 'train:many_to_one' | 'train:tbptt';
  config: {
    vocabSize: number; embedDim: number; hiddenSize: number; numClasses: number; batch: number; seqLen: number; steps?: number; chunk?: number;
    optimizer: { type: 'SGD' | 'Adam'; lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weight_decay: number; betas?: [number, number]; eps?: number };
    clipGradNorm?: { max_norm: number };
  };
  params: Record<string, FixtureTensor>;
  inputs: { tokens: FixtureTensor; labels: FixtureTensor };
  outputs: { losses: number[]; params: Record<string, FixtureTensor>; final_loss?: number };
  tolerance: Tolerance;
}

/** Fixture keys (embedding.weight, lstm.weight_ih_l0, linear.bias) → nn.Sequential keys of the same model. */
function sequentialKey(key: string, manyToOne: boolean): string {
  const [module, name] = key.split('.');
  const index = { embedding: 0, lstm: 1, linear: manyToOne ? 3 : 2 }[module];
  return `${index}.${name}`;
}

/** A toy task: ids in 1..7 over T steps; class 1 when token 3 comes before any token 5. */
function orderTask(samples: number, steps: number, seed: number): { x: Tensor; y: number[] } {
  const random = seededRandom(seed);
  const ids: number[] = [];
  const y: number[] = [];
  for (let n = 0; n < samples; n++) {
    const row = Array.from({ length: steps }, () => 1 + Math.floor(random() * 7));
    ids.push(...row);
    const three = row.indexOf(3), five = row.indexOf(5);
    y.push(three >= 0 && (five < 0 || three < five) ? 1 : 0);
  }
  return { x: tensor(ids, [samples, steps]), y };
}

function classifier(cell: 'LSTM' | 'GRU' | 'RNN' = 'LSTM', bidirectional = false): Sequential {
  const options = { inputSize: 6, hiddenSize: 12, batchFirst: true, bidirectional };
  const recurrent = cell === 'LSTM' ? new LSTM(options) : cell === 'GRU' ? new GRU(options) : new RNN(options);
  return new Sequential([
    new Embedding({ numEmbeddings: 8, embeddingDim: 6, paddingIdx: 0 }),
    recurrent,
    new LastStep(),
    new Linear({ inFeatures: bidirectional ? 24 : 12, outFeatures: 2 }),
  ]);
}

function tagger(): Sequential {
  return new Sequential([
    new Embedding({ numEmbeddings: 8, embeddingDim: 5, paddingIdx: 0 }),
    new GRU({ inputSize: 5, hiddenSize: 7, batchFirst: true, bidirectional: true }),
    new Dropout({ p: 0.1 }),
    new Linear({ inFeatures: 14, outFeatures: 3 }),
  ]);
}

const quiet = { verbose: false } as const;

describe(`Sequential reproduces PyTorch's training (${process.env.LOOPTREE_SIMD} build)`, () => {
  for (const name of listFixtures('train')) {
    it(name, () => {
      const fixture = loadFixture<TrainFixture>('train', name);
      const { vocabSize, embedDim, hiddenSize, numClasses, batch, optimizer: o, clipGradNorm, chunk, steps } = fixture.config;
      const manyToOne = fixture.module === 'train:many_to_one';
      const layers: Layer[] = [
        new Embedding({ numEmbeddings: vocabSize, embeddingDim: embedDim }),
        new LSTM({ inputSize: embedDim, hiddenSize, batchFirst: true }),
        ...(manyToOne ? [new LastStep()] : []),
        new Linear({ inFeatures: hiddenSize, outFeatures: numClasses }),
      ];
      const model = new Sequential(layers);
      model.loadStateDict(Object.fromEntries(Object.entries(fixture.params).map(([k, v]) => [sequentialKey(k, manyToOne), v])));
      model.compile({
        loss: 'crossEntropy',
        optimizer: o.type === 'SGD'
          ? { type: 'sgd', lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weight_decay }
          : { type: 'adam', lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay },
        clipGradNorm: clipGradNorm?.max_norm,
      });
      const losses: number[] = [];
      const { tokens, labels } = fixture.inputs;
      model.fit(tokens, labels, {
        ...quiet, batchSize: batch, shuffle: false, epochs: manyToOne ? steps : 1, tbptt: manyToOne ? undefined : chunk,
        callbacks: { onBatchEnd: (_, logs) => losses.push(logs.loss) },
      });
      expect(losses.length).toBe(fixture.outputs.losses.length);
      const { atol, rtol } = fixture.tolerance;
      losses.forEach((loss, i) => expect(Math.abs(loss - fixture.outputs.losses[i]), `loss at step ${i}`).toBeLessThanOrEqual(atol + rtol * Math.abs(fixture.outputs.losses[i])));
      const finalParams = model.stateDict();
      for (const [key, expected] of Object.entries(fixture.outputs.params)) expectClose(key, finalParams[sequentialKey(key, manyToOne)], expected, fixture.tolerance);
      if (fixture.outputs.final_loss !== undefined) expect(model.evaluate(tokens, labels).loss).toBeCloseTo(fixture.outputs.final_loss, 5);
      model.dispose();
    });
  }
});

describe('Sequential.fit', () => {
  function trainOnce(seed: number): { history: History; weights: Record<string, Tensor>; model: Sequential } {
    manualSeed(seed);
    const model = classifier();
    model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 0.02 }, clipGradNorm: 5 });
    const { x, y } = orderTask(96, 6, 11);
    const history = model.fit(x, y, { ...quiet, epochs: 12, batchSize: 16, validationSplit: 0.25 });
    return { history, weights: model.stateDict(), model };
  }

  it('reduces the loss on a small seeded problem and is deterministic', () => {
    const first = trainOnce(3);
    const second = trainOnce(3);
    expect(first.history.epochs).toBe(12);
    expect(first.history.loss[11]).toBeLessThan(0.5 * first.history.loss[0]);
    expect(first.history.accuracy![11]).toBeGreaterThan(0.9);
    expect(first.history.valLoss).toHaveLength(12);
    expect(first.history.valAccuracy).toHaveLength(12);
    expect(second.history).toEqual(first.history);
    for (const [key, value] of Object.entries(first.weights)) expect(second.weights[key].data, key).toEqual(value.data);
    first.model.dispose();
    second.model.dispose();
  });

  it('shuffles from the manualSeed() generator: another seed gives another trajectory', () => {
    manualSeed(3);
    const model = classifier();
    const weights = model.stateDict();
    const { x, y } = orderTask(64, 6, 11);
    const run = (seed: number) => {
      model.loadStateDict(weights);
      model.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0.1 } });
      manualSeed(seed);
      return model.fit(x, y, { ...quiet, epochs: 2, batchSize: 8 }).loss;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
    model.dispose();
  });

  it('calls onBatchEnd per step and onEpochEnd per epoch with the history values', () => {
    manualSeed(1);
    const model = classifier('GRU');
    model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam' } });
    const { x, y } = orderTask(20, 5, 2);
    const batches: Array<[number, number]> = [];
    const epochs: number[] = [];
    const history = model.fit(x, y, {
      ...quiet, epochs: 2, batchSize: 8,
      callbacks: { onBatchEnd: (batch, logs) => batches.push([batch, logs.size]), onEpochEnd: (_, logs) => epochs.push(logs.loss) },
    });
    expect(batches).toEqual([[0, 8], [1, 8], [2, 4], [0, 8], [1, 8], [2, 4]]);
    expect(epochs).toEqual(history.loss);
    model.dispose();
  });

  it('an epoch loss is the count-weighted mean of its batch losses', () => {
    manualSeed(1);
    const model = new Sequential([new Linear({ inFeatures: 3, outFeatures: 2 })]);
    model.compile({ loss: 'mse', optimizer: { type: 'sgd', lr: 0 } });
    const random = seededRandom(4);
    const x = tensor(Array.from({ length: 30 }, random), [10, 3]);
    const y = tensor(Array.from({ length: 20 }, random), [10, 2]);
    const history = model.fit(x, y, { ...quiet, batchSize: 4, shuffle: false });
    expect(history.loss[0]).toBeCloseTo(mse(model.predict(x), y).loss, 6);
    expect(history.accuracy).toBeUndefined();
    model.dispose();
  });

  it('early stopping stops after `patience` epochs without improvement and can restore the best weights', () => {
    manualSeed(2);
    // SGD with a step size far too large makes the regression loss grow every epoch after the first.
    const model = new Sequential([new Linear({ inFeatures: 2, outFeatures: 1 })]);
    model.compile({ loss: 'mse', optimizer: { type: 'sgd', lr: 3 } });
    const x = tensor([1, 2, -1, 3, 2, -2, 0.5, 1], [4, 2]);
    const y = tensor([1, 0, 2, -1], [4, 1]);
    const snapshots: Array<Record<string, Tensor>> = [];
    const history = model.fit(x, y, {
      ...quiet, epochs: 20, batchSize: 4, earlyStopping: { monitor: 'loss', patience: 2, restoreBest: true },
      callbacks: { onEpochEnd: () => snapshots.push(model.stateDict()) },
    });
    expect(history.stoppedEarly).toBe(true);
    const best = history.bestEpoch!;
    expect(history.epochs).toBe(best + 3);
    expect(history.loss[best]).toBe(Math.min(...history.loss));
    for (const [key, value] of Object.entries(model.stateDict())) expect(value.data, key).toEqual(snapshots[best][key].data);
    model.dispose();
  });

  it('validationData is evaluated after every epoch, equal to evaluate()', () => {
    manualSeed(4);
    const model = classifier('RNN');
    model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 0.01 } });
    const train = orderTask(32, 5, 7);
    const validation = orderTask(16, 5, 8);
    const history = model.fit(train.x, train.y, { ...quiet, epochs: 2, validationData: validation });
    const measured = model.evaluate(validation.x, validation.y);
    expect(history.valLoss![1]).toBeCloseTo(measured.loss, 12);
    expect(history.valAccuracy![1]).toBe(measured.accuracy);
    model.dispose();
  });

  it('prints one plain line per epoch when stdout is not a terminal', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => { lines.push(line); });
    manualSeed(1);
    const model = classifier();
    model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam' } });
    const { x, y } = orderTask(12, 4, 1);
    model.fit(x, y, { epochs: 2, batchSize: 5, validationSplit: 0.25 });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Epoch 1\/2 - 2 steps - \d+\.\ds - loss \d\.\d{4} - accuracy \d\.\d{4} - val loss \d\.\d{4} - val accuracy \d\.\d{4}$/);
    model.dispose();
  });

  it('draws a progress bar in place on a terminal', () => {
    const stdout = process.stdout as { isTTY?: boolean };
    const wasTTY = stdout.isTTY;
    const written: string[] = [];
    stdout.isTTY = true;
    vi.spyOn(process.stdout, 'write').mockImplementation((text: string | Uint8Array) => { written.push(String(text)); return true; });
    try {
      manualSeed(1);
      const model = classifier();
      model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam' } });
      const { x, y } = orderTask(12, 4, 1);
      model.fit(x, y, { epochs: 1, batchSize: 4 });
      model.dispose();
    } finally {
      stdout.isTTY = wasTTY;
    }
    const output = written.join('');
    expect(output).toContain('\rEpoch 1/1 [========================] 3/3 - loss ');
    expect(output).toMatch(/\rEpoch 1\/1 - 3 steps - \d+\.\ds - loss \d\.\d{4} - accuracy \d\.\d{4}\x1b\[K\n$/);
  });
});

describe('Sequential.predict and evaluate', () => {
  it('give [N, C] for many-to-one and [N, T, C] per step, in any batch size', () => {
    manualSeed(5);
    const many = classifier('LSTM', true);
    const { x, y } = orderTask(10, 4, 3);
    expect(many.predict(x).shape).toEqual([10, 2]);
    // Batch composition changes the GEMM blocking, hence the last bits.
    expectCloseValues('predict in batches of 3', many.predict(x, { batchSize: 3 }).data, many.predict(x, { batchSize: 10 }).data, 1e-6);
    many.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0.1 } });
    const result = many.evaluate(x, y, { batchSize: 4 });
    expect(Object.keys(result).sort()).toEqual(['accuracy', 'loss']);
    expect(result.accuracy! * 10).toBe(Math.round(result.accuracy! * 10));

    const perStep = tagger();
    expect(perStep.predict(x).shape).toEqual([10, 4, 3]);
    perStep.compile({ loss: 'crossEntropy', optimizer: { type: 'adam' } });
    const tags = tensor(Array.from({ length: 40 }, (_, i) => i % 3), [10, 4]);
    expect(perStep.evaluate(x, tags).loss).toBeGreaterThan(0);
    many.dispose();
    perStep.dispose();
  });

  it('predict with lengths equals predicting each unpadded sequence alone', () => {
    manualSeed(6);
    for (const cell of ['LSTM', 'GRU', 'RNN'] as const) {
      const model = classifier(cell, true);
      const lengths = [4, 2, 3, 1];
      const padded = [1, 2, 3, 4, 5, 6, 0, 0, 7, 1, 2, 0, 3, 0, 0, 0];
      const together = model.predict(tensor(padded, [4, 4]), { lengths });
      lengths.forEach((length, n) => {
        const alone = model.predict(tensor(padded.slice(n * 4, n * 4 + length), [1, length]));
        for (let c = 0; c < 2; c++) expect(together.data[n * 2 + c]).toBeCloseTo(alone.data[c], 6);
      });
      model.dispose();
    }
  });

  it('with lengths, the loss of per-step outputs leaves padded steps out (as ignoreIndex would)', () => {
    manualSeed(7);
    const model = tagger();
    model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam' } });
    const x = tensor([1, 2, 3, 4, 5, 6, 0, 0, 7, 0, 0, 0], [3, 4]);
    const lengths = [4, 2, 1];
    const garbage = tensor([0, 1, 2, 1, 2, 0, 2, 1, 1, 0, 2, 2], [3, 4]);
    const ignored = tensor([0, 1, 2, 1, 2, 0, -100, -100, 1, -100, -100, -100], [3, 4]);
    const masked = model.evaluate(x, garbage, { lengths });
    const explicit = model.evaluate(x, ignored, { lengths });
    expect(masked.loss).toBe(explicit.loss);
    expect(masked.accuracy).toBe(explicit.accuracy);
    model.dispose();
  });

  it('forward carries state: two chunks with the state equal one pass', () => {
    manualSeed(8);
    const model = new Sequential([
      new Embedding({ numEmbeddings: 8, embeddingDim: 4 }),
      new LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2, batchFirst: true }),
      new GRU({ inputSize: 6, hiddenSize: 5, batchFirst: true }),
      new Linear({ inFeatures: 5, outFeatures: 8 }),
    ]);
    const ids = [1, 2, 3, 4, 5, 6, 7, 1, 2, 3];
    const whole = model.forward(tensor(ids, [2, 5]));
    const first = model.forward(tensor([1, 2, 3, 6, 7, 1], [2, 3]));
    const second = model.forward(tensor([4, 5, 2, 3], [2, 2]), { state: first.state });
    expect(whole.state).toHaveLength(2);
    for (let n = 0; n < 2; n++) {
      for (let t = 0; t < 5; t++) {
        const part = t < 3 ? first.output.data.subarray((n * 3 + t) * 8, (n * 3 + t + 1) * 8) : second.output.data.subarray((n * 2 + t - 3) * 8, (n * 2 + t - 2) * 8);
        const full = whole.output.data.subarray((n * 5 + t) * 8, (n * 5 + t + 1) * 8);
        part.forEach((v, i) => expect(v).toBeCloseTo(full[i], 6));
      }
    }
    second.state[0].h.data.forEach((v, i) => expect(v).toBeCloseTo(whole.state[0].h.data[i], 6));
    model.dispose();
  });
});

describe('Sequential.save and load', () => {
  it('round trip gives identical predictions, PyTorch nn.Sequential keys and a JSON-able config', () => {
    manualSeed(9);
    const model = new Sequential([
      new Embedding({ numEmbeddings: 8, embeddingDim: 6, paddingIdx: 0 }),
      new LSTM({ inputSize: 6, hiddenSize: 10, projSize: 4, numLayers: 2, bidirectional: true, batchFirst: true }),
      new Dropout({ p: 0.2 }),
      new LastStep(),
      new Linear({ inFeatures: 8, outFeatures: 5 }),
      new Tanh(),
      new Linear({ inFeatures: 5, outFeatures: 3, bias: false }),
      new LogSoftmax(),
    ]);
    model.compile({ loss: 'nllLoss', optimizer: { type: 'adamw', lr: 0.01 } });
    const { x } = orderTask(6, 5, 4);
    model.fit(x, [0, 1, 2, 0, 1, 2], { ...quiet, epochs: 2, batchSize: 3 });
    const saved = model.save();
    expect(JSON.parse(JSON.stringify(saved.config))).toEqual(saved.config);
    expect(saved.config.layers.map((layer) => layer.type)).toEqual(['Embedding', 'LSTM', 'Dropout', 'LastStep', 'Linear', 'Tanh', 'Linear', 'LogSoftmax']);
    const keys = Object.keys(parseSafetensors(saved.weights));
    expect(keys).toContain('0.weight');
    expect(keys).toContain('1.weight_hr_l1_reverse');
    expect(keys).toContain('4.bias');
    expect(keys).not.toContain('6.bias');
    expect(JSON.parse(readSafetensorsMetadata(saved.weights)['looptree.config'])).toEqual(saved.config);

    const lengths = [5, 3, 1, 4, 2, 5];
    const expected = model.predict(x, { lengths });
    for (const loaded of [Sequential.load(saved), Sequential.load({ weights: saved.weights })]) {
      expect(loaded.predict(x, { lengths }).data).toEqual(expected.data);
      loaded.dispose();
    }
    model.dispose();
  });

  it("save({ dtype: 'f16' | 'bf16' }): half the bytes; load() holds each weight rounded to nearest even (float64 reference) and predicts like a model given those weights", () => {
    manualSeed(11);
    const model = classifier();
    const f32 = model.save();
    const original = model.stateDict();
    const { x } = orderTask(6, 5, 4);
    for (const dtype of ['f16', 'bf16'] as const) {
      const saved = model.save({ dtype });
      const headerLength = Number(new DataView(saved.weights.buffer, saved.weights.byteOffset).getBigUint64(0, true));
      const f32HeaderLength = Number(new DataView(f32.weights.buffer, f32.weights.byteOffset).getBigUint64(0, true));
      expect(saved.weights.length - 8 - headerLength).toBe((f32.weights.length - 8 - f32HeaderLength) / 2);
      const loaded = Sequential.load({ weights: saved.weights });
      const rounded = Object.fromEntries(Object.entries(original).map(([name, { data, shape }]) => [
        name, new Tensor(Float32Array.from(data, (value) => decode16(dtype, encode16(dtype, value)!)), shape),
      ]));
      for (const [name, { data }] of Object.entries(loaded.stateDict())) expect(Array.from(data), `${dtype} ${name}`).toEqual(Array.from(rounded[name].data));
      const reference = Sequential.load({ weights: f32.weights });
      reference.loadStateDict(rounded);
      expect(loaded.predict(x).data).toEqual(reference.predict(x).data);
      loaded.dispose();
      reference.dispose();
    }
    expect(() => model.save({ dtype: 'f8' } as never)).toThrow(ArgumentError);
    expect(() => model.save({ dtype: 'f8' } as never)).toThrow(`Sequential.save: dtype must be 'f32', 'f16' or 'bf16', got "f8"`);
    expect(() => model.save({ dtpye: 'f16' } as never)).toThrow(/dtpye.*dtype/);
    model.dispose();
  });

  it('loadStateDict validates everything before writing anything', () => {
    manualSeed(10);
    const model = classifier();
    const before = model.stateDict();
    const broken = { ...before, '3.bias': tensor([1, 2, 3]) };
    expect(() => model.loadStateDict(broken)).toThrow(StateDictError);
    expect(() => model.loadStateDict(broken)).toThrow('size mismatch for "3.bias": expected [2], got [3]');
    expect(() => model.loadStateDict({ ...before, '0.weight': tensor(new Array(48).fill(NaN), [8, 6]) })).toThrow(StateDictError);
    expect(() => model.loadStateDict({ ...before, '2.weight': before['3.weight'] })).toThrow('unexpected key(s) "2.weight"');
    const { '1.bias_hh_l0': _, ...missing } = before;
    expect(() => model.loadStateDict(missing)).toThrow('missing key(s) "1.bias_hh_l0"');
    expect(model.loadStateDict(missing, { strict: false }).missingKeys).toEqual(['1.bias_hh_l0']);
    for (const [key, value] of Object.entries(model.stateDict())) expect(value.data, key).toEqual(before[key].data);
    model.dispose();
  });
});

describe('Sequential bad input gives typed errors', () => {
  const emb = () => new Embedding({ numEmbeddings: 8, embeddingDim: 4 });
  const lstm = (options: Partial<{ batchFirst: boolean; inputSize: number }> = {}) => new LSTM({ inputSize: 4, hiddenSize: 6, batchFirst: true, ...options });

  it('in the layer list', () => {
    expect(() => new Sequential([])).toThrow(ArgumentError);
    expect(() => new Sequential('lstm' as never)).toThrow(ArgumentError);
    expect(() => new Sequential([{ forward() {} } as never])).toThrow(/layers\[0\] is a Object; expected one of Embedding, Linear/);
    expect(() => new Sequential([new ReLU(), emb()])).toThrow('layers[1] (Embedding) takes token ids, so it must be the first layer');
    expect(() => new Sequential([emb(), lstm({ batchFirst: false })])).toThrow('layers[1] (LSTM) needs batchFirst: true');
    expect(() => new Sequential([emb(), lstm({ inputSize: 5 })])).toThrow(ShapeError);
    expect(() => new Sequential([emb(), lstm({ inputSize: 5 })])).toThrow('layers[1] (LSTM) expects 5 input features, but layers[0] (Embedding) gives 4');
    expect(() => new Sequential([emb(), new LastStep()])).toThrow('layers[1] (LastStep) must follow a recurrent layer');
    expect(() => new Sequential([emb(), lstm(), new Linear({ inFeatures: 6, outFeatures: 6 }), new LastStep()])).toThrow(ArgumentError);
    expect(() => new Sequential([emb(), lstm(), new LastStep(), new LSTM({ inputSize: 6, hiddenSize: 2, batchFirst: true })]))
      .toThrow('layers[3] (LSTM) needs a sequence, but layers[2] (LastStep) already reduced each sequence to its last step');
    const shared = new ReLU();
    expect(() => new Sequential([new Linear({ inFeatures: 2, outFeatures: 2 }), shared, shared])).toThrow('layers[2] (ReLU) is the same object as layers[1]');
  });

  it('in compile', () => {
    const model = new Sequential([emb(), lstm(), new LastStep(), new Linear({ inFeatures: 6, outFeatures: 2 })]);
    expect(() => model.compile({ loss: 'hinge' as never, optimizer: { type: 'sgd', lr: 0.1 } })).toThrow(/loss must be 'crossEntropy', 'nllLoss', 'mse', 'bceWithLogits' or a function .*, got "hinge"/);
    expect(() => model.compile({ loss: 'crossEntropy', optimizer: { type: 'rmsprop' } as never })).toThrow(`optimizer.type must be 'sgd', 'adam' or 'adamw', got "rmsprop"`);
    expect(() => model.compile({ loss: 'crossEntropy', optimizer: 'adam' as never })).toThrow(ArgumentError);
    expect(() => model.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd' } as never })).toThrow('SGD: lr must be a finite number ≥ 0, got undefined');
    expect(() => model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam' }, clipGradNorm: -1 })).toThrow('clipGradNorm must be a finite number > 0');
    expect(() => model.compile({ loss: 'mse', optimizer: { type: 'adam' }, ignoreIndex: 0 })).toThrow(`ignoreIndex applies to crossEntropy and nllLoss, not to 'mse'`);
    expect(() => model.compile({ loss: 'mse', optimizer: { type: 'adam' }, lr: 1 } as never)).toThrow('unknown option "lr"');
    const { x, y } = orderTask(4, 3, 1);
    expect(() => model.fit(x, y)).toThrow('Sequential.fit(): call compile({ loss, optimizer }) first');
    expect(() => model.evaluate(x, y)).toThrow(ArgumentError);
    model.dispose();
  });

  it('in fit, evaluate, predict and forward', () => {
    const model = new Sequential([emb(), lstm(), new LastStep(), new Linear({ inFeatures: 6, outFeatures: 2 })]);
    model.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0.1 } });
    const { x, y } = orderTask(8, 3, 1);
    const fit = (options: object, targets: unknown = y, samples: unknown = x) => () => model.fit(samples as Tensor, targets as number[], { ...quiet, ...options });
    expect(fit({}, y.slice(0, 7))).toThrow('x holds 8 samples (shape [8, 3]) but y holds 7 (shape [7])');
    expect(fit({}, tensor(new Array(16).fill(0), [8, 2]))).toThrow('with crossEntropy, outputs of shape [8, 2] need class ids of shape [8], got [8, 2]');
    expect(fit({}, y.map((v) => v + 5))).toThrow(/crossEntropy: targets\[0\] must be in \[0, 2\) or -100 \(ignoreIndex\), got \d/);
    expect(fit({ epochs: 0 })).toThrow('epochs must be a positive integer, got 0');
    expect(fit({ batchSize: 2.5 })).toThrow(ArgumentError);
    expect(fit({ shuffle: 'yes' })).toThrow('shuffle must be a boolean');
    expect(fit({ epoch: 3 })).toThrow('unknown option "epoch"');
    expect(fit({ validationSplit: 1 })).toThrow('validationSplit must be a number in [0, 1), got 1');
    expect(fit({ validationSplit: 0.9 })).toThrow('validationSplit 0.9 of 8 samples leaves 0 for training');
    expect(fit({ validationSplit: 0.5, validationData: { x, y } })).toThrow('give validationSplit or validationData, not both');
    expect(fit({ validationData: { x, y: y.slice(1) } })).toThrow(ShapeError);
    expect(fit({ earlyStopping: { monitor: 'valLoss' } })).toThrow('earlyStopping.monitor must be one of the metrics this fit reports (loss, accuracy), got "valLoss"');
    expect(fit({ earlyStopping: { patience: 0 } })).toThrow('earlyStopping.patience must be a positive integer');
    expect(fit({ earlyStopping: { wait: 2 } })).toThrow('unknown option "wait"');
    expect(fit({ callbacks: { onEpochEnd: 3 } })).toThrow('callbacks.onEpochEnd must be a function');
    expect(fit({ lengths: [3, 3] })).toThrow('expected 8 lengths (one per sample of x [8, 3]), got 2');
    expect(fit({ lengths: [3, 3, 3, 3, 3, 3, 3, 4] })).toThrow('lengths[7] must be an integer in 1..3, got 4');
    expect(fit({ tbptt: 2 })).toThrow('tbptt trains on per-step outputs; this model reduces sequences with LastStep');
    expect(fit({}, y, 'ids')).toThrow('expected a Tensor, { shape, data } or nested arrays, got "ids"');
    expect(fit({}, y, tensor(new Array(24).fill(9), [8, 3]))).toThrow('Embedding.forward: ids[0] must be in [0, 8), got 9');
    expect(() => model.predict(tensor([1, 2, 3], [3]))).toThrow('layers[1] (LSTM) expects a batch-first sequence [B, T, 4], got [3, 4]');
    expect(() => model.predict(x, { batchSize: 0 })).toThrow(ArgumentError);
    expect(() => model.evaluate(x, y, { lengths: [1] })).toThrow(ShapeError);
    expect(() => model.forward(x, { state: [] })).toThrow('state must be an array of 1 { h, c? } (one per recurrent layer)');
    expect(() => model.forward(x, { state: [{ h: tensor(new Array(6).fill(0), [1, 1, 6]) }] })).toThrow('Expected h0 of shape [1, 8, 6], got [1, 1, 6]');

    const custom = new Sequential([new Linear({ inFeatures: 2, outFeatures: 2 })]);
    custom.compile({ loss: () => ({ loss: 1, grad: tensor([1], [1]) }), optimizer: { type: 'sgd', lr: 0.1 } });
    expect(() => custom.fit(tensor([1, 2], [1, 2]), tensor([1, 2], [1, 2]), quiet)).toThrow('the custom loss must return { loss: number, grad: Tensor of shape [1, 2] }');
    expect(() => custom.predict(tensor([1, 2], [1, 2]), { lengths: [1] })).toThrow('lengths apply to recurrent layers, and this model has none');
    custom.compile({ loss: 'bceWithLogits', optimizer: { type: 'sgd', lr: 0.1 } });
    expect(() => custom.fit(tensor([1, 2], [1, 2]), tensor([1], [1, 1]), quiet)).toThrow('with bceWithLogits, targets must have the output\'s shape [1, 2], got [1, 1]');
    custom.dispose();
    model.dispose();
  });

  it('with tbptt', () => {
    const model = new Sequential([emb(), new LSTM({ inputSize: 4, hiddenSize: 6, batchFirst: true, bidirectional: true }), new Linear({ inFeatures: 12, outFeatures: 3 })]);
    model.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0.1 } });
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tensor([0, 1, 2, 0, 1, 2], [2, 3]);
    expect(() => model.fit(x, y, { ...quiet, tbptt: 2 })).toThrow('tbptt carries state forward in time, which a bidirectional layer cannot use');
    model.dispose();
    const forward = new Sequential([emb(), lstm(), new Linear({ inFeatures: 6, outFeatures: 3 })]);
    forward.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0.1 } });
    expect(() => forward.fit(x, y, { ...quiet, tbptt: 2, lengths: [3, 2] })).toThrow('tbptt needs sequences of equal length');
    expect(() => forward.fit(x, [0, 1], { ...quiet, tbptt: 2 })).toThrow('tbptt needs x and y with a time axis of the same length, got x [2, 3] and y [2]');
    forward.dispose();
  });

  it('in load, and after dispose', () => {
    manualSeed(11);
    const model = classifier();
    const saved = model.save();
    expect(() => Sequential.load(null as never)).toThrow(ArgumentError);
    expect(() => Sequential.load({ weights: new Uint8Array(3) })).toThrow(SafetensorsError);
    expect(() => Sequential.load({ config: { ...saved.config, format: 'keras' as never }, weights: saved.weights })).toThrow(`expected a config with format 'looptree.Sequential' and version 1, got format "keras", version 1`);
    expect(() => Sequential.load({ config: { ...saved.config, layers: [{ type: 'Conv1d' } as never] }, weights: saved.weights })).toThrow('config.layers[0].type must be one of Embedding');
    const wrongSize = { ...saved.config, layers: saved.config.layers.map((layer) => (layer.type === 'Linear' ? { ...layer, outFeatures: 3 } : layer)) };
    expect(() => Sequential.load({ config: wrongSize, weights: saved.weights })).toThrow('size mismatch for "3.weight": expected [3, 12], got [2, 12]');
    expect(() => Sequential.load({ weights: serializeSafetensors(model.stateDict()) })).toThrow('no config given, and the weights have no "looptree.config" metadata');
    model.dispose();
    model.dispose();
    expect(() => model.predict(tensor([1, 2], [1, 2]))).toThrow(DisposedError);
    expect(() => model.save()).toThrow(DisposedError);
  });
});
