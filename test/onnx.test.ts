// looptree/onnx end to end: every ONNX fixture (the ONNX backend node tests, generated single nodes covering every
// recurrent attribute, torch.onnx.export models) through loadOnnx(...).run within the fixture's tolerance, and the model
// API: layers as ordinary looptree modules, weights fed as inputs, run/runSync, feeds checked, dispose.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, GRU, LSTM, backendInfo, init, tensor, type Tensor } from '../dist/index.js';
import { OnnxError, loadOnnx, type OnnxFeeds, type OnnxModel, type OnnxOutput } from '../dist/onnx.js';
import { expectClose, fixtureDir, listFixtures, loadFixture, simdUnderTest, type FixtureTensor, type Tolerance } from './helpers/fixtures.js';

interface OnnxFixture {
  name: string;
  model: string;
  config?: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  params?: Record<string, FixtureTensor>;
  tolerance: Tolerance;
}

/** Fixture inputs as feeds: float Tensors, Int32Array / BigInt64Array for integer inputs. */
function feeds(inputs: Record<string, FixtureTensor>): OnnxFeeds {
  return Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, t.dtype === 'int64' ? { data: BigInt64Array.from(t.data, BigInt), shape: t.shape }
    : t.dtype === 'int32' ? { data: Int32Array.from(t.data), shape: t.shape } : tensor(t.data, t.shape)]));
}

function expectOutputs(outputs: Record<string, OnnxOutput>, fixture: OnnxFixture): void {
  expect(Object.keys(outputs).sort()).toEqual(Object.keys(fixture.outputs).sort());
  for (const [name, expected] of Object.entries(fixture.outputs)) expectClose(name, outputs[name] as Tensor, expected, fixture.tolerance);
}

function load(family: string, fixture: OnnxFixture): OnnxModel {
  return loadOnnx(readFileSync(fixtureDir(family) + fixture.model));
}

const FAMILIES = [
  { family: 'onnx', count: 17 },
  { family: 'onnx-torch/nodes', count: 16 },
  { family: 'onnx-torch/models', count: 6 },
];

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

describe(`ONNX fixtures (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('runs the requested SIMD build', () => {
    expect(backendInfo().simd).toBe(simdUnderTest());
  });

  for (const { family, count } of FAMILIES) {
    describe(family, () => {
      const names = listFixtures(family);
      it('has the fixture set', () => expect(names.length).toBe(count));
      for (const name of names) {
        it(name, async () => {
          const fixture = loadFixture<OnnxFixture>(family, name);
          const model = load(family, fixture);
          const outputs = await model.run(feeds(fixture.inputs));
          expectOutputs(outputs, fixture);
          // Same input, same build: bitwise-identical output, also without the Promise.
          const again = model.runSync(feeds(fixture.inputs));
          for (const output of Object.keys(outputs)) expect(again[output].data).toEqual(outputs[output].data);
          model.dispose();
        });
      }
    });
  }
});

describe('ONNX layers are looptree modules with PyTorch names', () => {
  const family = 'onnx-torch/models';

  /** torch's state_dict entries of `prefix` (e.g. 'lstm.') for ONNX node `layer`, by looptree's names (one layer: _l0). */
  function torchParams(fixture: OnnxFixture, prefix: string, layer: number): Record<string, FixtureTensor> {
    const entries = Object.entries(fixture.params!).filter(([key]) => key.startsWith(prefix) && key.includes(`_l${layer}`));
    return Object.fromEntries(entries.map(([key, value]) => [key.slice(prefix.length).replace(`_l${layer}`, '_l0'), value]));
  }

  it('exposes the exported LSTM, GRU and 2-layer bidirectional LSTM with the state_dict PyTorch saved', () => {
    for (const [name, prefix, Module, bidirectional] of [
      ['lstm_classifier.json', 'lstm.', LSTM, [false]], ['gru_tagger.json', 'gru.', GRU, [true]],
      ['lstm_encoder.json', 'lstm.', LSTM, [true, true]],
    ] as const) {
      const fixture = loadFixture<OnnxFixture>(family, name);
      const model = load(family, fixture);
      expect(model.layers.map((layer) => layer.bidirectional)).toEqual(bidirectional);
      model.layers.forEach((layer, index) => {
        expect(layer).toBeInstanceOf(Module);
        const stateDict = layer.stateDict();
        const expected = torchParams(fixture, prefix, index);
        expect(Object.keys(stateDict).sort()).toEqual(Object.keys(expected).sort());
        for (const [key, value] of Object.entries(expected)) {
          expect(Array.from(stateDict[key].data), `${name} ${key}`).toEqual(value.data.map(Math.fround));
        }
      });
      model.dispose();
    }
  });

  it('maps reverse nodes, per-direction activations and peepholes (ONNX i, o, f → PyTorch i, f, o) to modules', () => {
    const run = (name: string) => {
      const fixture = loadFixture<OnnxFixture>('onnx-torch/nodes', name);
      const model = load('onnx-torch/nodes', fixture);
      model.runSync(feeds(fixture.inputs));
      return { model, fixture };
    };
    const reverse = run('lstm_reverse_layout1_seqlens.json');
    expect(reverse.model.layers.map((m) => [m.constructor.name, m.bidirectional, m.batchFirst])).toEqual([['LSTM', false, true]]);
    const perDirection = run('lstm_bidirectional_activations_per_direction.json');
    expect(perDirection.model.layers.map((m) => m.bidirectional)).toEqual([false, false]);
    const peepholes = run('lstm_peepholes_bidirectional_seqlens.json');
    const P = peepholes.fixture.inputs.P, H = P.shape[1] / 3;
    const stateDict = peepholes.model.layers[0].stateDict();
    for (const [d, suffix] of [[0, ''], [1, '_reverse']] as const) {
      const block = (k: number) => P.data.slice(d * 3 * H + k * H, d * 3 * H + (k + 1) * H);
      expect(Array.from(stateDict[`weight_peephole_l0${suffix}`].data)).toEqual([...block(0), ...block(2), ...block(1)].map(Math.fround));
    }
    for (const { model } of [reverse, perDirection, peepholes]) model.dispose();
  });

  it('streams the classifier LSTM step by step to the logits PyTorch computed', () => {
    const fixture = loadFixture<OnnxFixture>(family, 'lstm_classifier.json');
    const model = load(family, fixture);
    const lstm = model.layers[0];
    const [B, T] = fixture.inputs.ids.shape;
    const embedding = fixture.params!['embedding.weight'], E = embedding.shape[1];
    const weight = fixture.params!['linear.weight'], bias = fixture.params!['linear.bias'], C = bias.shape[0], H = lstm.hiddenSize;
    const stream = lstm.stream({ batch: B });
    let h: Tensor | undefined;
    for (let t = 0; t < T; t++) {
      const x = new Float32Array(B * E);
      for (let b = 0; b < B; b++) {
        const id = fixture.inputs.ids.data[b * T + t];
        x.set(embedding.data.slice(id * E, (id + 1) * E), b * E);
      }
      h = stream.step(tensor(x, [B, E]));
    }
    const logits = new Float32Array(B * C);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        let sum = bias.data[c];
        for (let k = 0; k < H; k++) sum += weight.data[c * H + k] * h!.data[b * H + k];
        logits[b * C + c] = sum;
      }
    }
    expectClose('streamed logits', { shape: [B, C], data: logits }, fixture.outputs.logits, fixture.tolerance);
    model.dispose();
  });

  it('runs with the module’s current parameters (fine-tuning or loading a state dict changes the model)', () => {
    const fixture = loadFixture<OnnxFixture>(family, 'lstm_classifier.json');
    const model = load(family, fixture);
    const before = model.runSync(feeds(fixture.inputs)).logits.data;
    const lstm = model.layers[0];
    const saved = lstm.stateDict();
    lstm.loadStateDict({ ...saved, weight_hh_l0: tensor(new Float32Array(saved.weight_hh_l0.size), saved.weight_hh_l0.shape) });
    expect(model.runSync(feeds(fixture.inputs)).logits.data).not.toEqual(before);
    lstm.loadStateDict(saved);
    expect(model.runSync(feeds(fixture.inputs)).logits.data).toEqual(before);
    model.dispose();
  });
});

describe('ONNX weights given as graph inputs', () => {
  const fixture = loadFixture<OnnxFixture>('onnx', 'test_lstm_defaults.json');

  it('creates the module at the first run and reloads it when a run feeds other weights', () => {
    const model = load('onnx', fixture);
    expect(model.inputNames).toEqual(['X', 'W', 'R']);
    expect(model.layers).toEqual([]);
    const first = model.runSync(feeds(fixture.inputs)).Y_h.data;
    expect(model.layers).toHaveLength(1);
    expect(model.layers[0]).toBeInstanceOf(LSTM);
    const W = fixture.inputs.W;
    const halved = { ...feeds(fixture.inputs), W: tensor(W.data.map((v) => v / 2), W.shape) };
    expect(model.runSync(halved).Y_h.data).not.toEqual(first);
    expect(model.runSync(feeds(fixture.inputs)).Y_h.data).toEqual(first);
    model.dispose();
  });
});

describe('ONNX model API', () => {
  const fixture = loadFixture<OnnxFixture>('onnx-torch/models', 'lstm_classifier.json');
  const ids = fixture.inputs.ids;

  it('names inputs, outputs and opset; run returns a Promise', async () => {
    const model = load('onnx-torch/models', fixture);
    expect(model.inputNames).toEqual(['ids']);
    expect(model.outputNames).toEqual(['logits']);
    expect(model.opset).toBe(14);
    const pending = model.run(feeds(fixture.inputs));
    expect(pending).toBeInstanceOf(Promise);
    expectOutputs(await pending, fixture);
    // Token ids as Int32Array or as plain numbers work as well as BigInt64Array.
    expectOutputs(model.runSync({ ids: { data: Int32Array.from(ids.data), shape: ids.shape } }), fixture);
    expectOutputs(model.runSync({ ids: { data: ids.data, shape: ids.shape } }), fixture);
    model.dispose();
  });

  it('rejects wrong feeds with OnnxError naming the input', async () => {
    const model = load('onnx-torch/models', fixture);
    const cases: Array<[unknown, RegExp]> = [
      [{}, /missing input 'ids'/],
      [{ ids: feeds(fixture.inputs).ids, tokens: tensor([1], [1]) }, /'tokens' is not an input/],
      [{ ids: { data: BigInt64Array.from([1n, 2n]), shape: [2] } }, /input 'ids': expected shape \[batch, time\], got \[2\]/],
      [{ ids: { data: [1, 2.5], shape: [1, 2] } }, /input 'ids' is int64: element 1 is 2.5/],
      [{ ids: { data: [1, 2, 3], shape: [1, 2] } }, /shape \[1, 2\] needs 2 values, got 3/],
      [{ ids: { data: [1, 99], shape: [1, 2] } }, /node '.*' \(Gather\): index 99 is out of range/],
      [null, /expected feeds/],
    ];
    for (const [given, message] of cases) {
      expect(() => model.runSync(given as OnnxFeeds)).toThrow(message);
      await expect(model.run(given as OnnxFeeds)).rejects.toBeInstanceOf(OnnxError);
    }
    model.dispose();
  });

  it('throws DisposedError after dispose() (idempotent), and frees the layers’ modules', () => {
    const model = load('onnx-torch/models', fixture);
    const lstm = model.layers[0];
    model.dispose();
    model.dispose();
    expect(() => model.runSync(feeds(fixture.inputs))).toThrow(DisposedError);
    expect(() => model.layers).toThrow(DisposedError);
    expect(() => lstm.stateDict()).toThrow(DisposedError);
  });

  it('reports errors as OnnxError with code ERR_ONNX, node and op', () => {
    const model = load('onnx-torch/models', fixture);
    try {
      model.runSync({ ids: { data: [1, 99], shape: [1, 2] } });
      expect.fail('expected an error');
    } catch (error) {
      expect(error).toBeInstanceOf(OnnxError);
      expect((error as OnnxError).code).toBe('ERR_ONNX');
      expect((error as OnnxError).op).toBe('Gather');
      expect((error as OnnxError).node).toBe('/embedding/Gather');
    }
    model.dispose();
  });
});
