// quantizeDynamic (bindings/nn/quantized.ts) in the build under test: the int8 RNN / LSTM / GRU / Linear against
// (1) the float64 reference of the SAME quantization (test/reference/recurrent.ts with dequantized weights and every
// multiplied vector quantized per row, reference/quantized.ts): equal up to float rounding, except where an f32 vs
// float64 difference flips one activation's rounding (a step of s_a·|w| in one product), hence 2e-3;
// (2) the f32 module: within the quantization error (5e-2 on these small random models, the contract's bound for
// the bench workloads is checked by bench/ and written in README); and the API: every forward option, stream =
// forward, state dict codes equal to the reference quantizer's, load round trip, the original untouched, training
// refused, strict options.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, Embedding, GRU, backendInfo, LSTM, LastStep, Linear, Sequential, QuantizedLSTM, RNN, SafetensorsError, StateDictError, init, isQuantized, loadQuantized, manualSeed,
  parseSafetensors, quantizeDynamic, quantizeRows, saveQuantized, serializeSafetensors, type RecurrentModule,
} from '../dist/index.js';
import { expectClose } from './helpers/compare.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { core } from './helpers/kernels.js';
import { seededRandom, uniformArray } from './helpers/random.js';
import { quantizeRow, quantizeWeight } from './reference/quantized.js';
import { recurrentForward, type CellMode, type RecurrentConfig } from './reference/recurrent.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

/** The build's activation levels (63 relaxed: its dot product's 7-bit operand; 127 baseline), from its Wasm core. */
const ACTIVATION_LEVELS = core.int8ActivationLevels();
/** Bytes of a packed int8 weight element: i8 in the relaxed build, i16 in the baseline (assembly/quantized.ts). */
const WEIGHT_BYTES = simdUnderTest() === 'relaxed' ? 1 : 2;

type Kind = 'RNN' | 'LSTM' | 'GRU';
const CONSTRUCTORS = { RNN, LSTM, GRU } as const;
const MODE: Record<Kind, CellMode> = { RNN: 'rnn_tanh', LSTM: 'lstm', GRU: 'gru' };

interface Case {
  kind: Kind;
  options: Record<string, unknown>;
  T: number;
  B: number;
  lengths?: boolean;
  state?: boolean;
}

const CASES: Case[] = [
  { kind: 'LSTM', options: { inputSize: 7, hiddenSize: 9 }, T: 5, B: 1 },
  { kind: 'LSTM', options: { inputSize: 5, hiddenSize: 13, numLayers: 2, bidirectional: true }, T: 4, B: 3, lengths: true, state: true },
  { kind: 'LSTM', options: { inputSize: 6, hiddenSize: 11, projSize: 5, batchFirst: true }, T: 6, B: 5, state: true },
  { kind: 'GRU', options: { inputSize: 3, hiddenSize: 17, numLayers: 2 }, T: 5, B: 2, lengths: true, state: true },
  { kind: 'RNN', options: { inputSize: 9, hiddenSize: 7, bidirectional: true, batchFirst: true }, T: 7, B: 4 },
  { kind: 'RNN', options: { inputSize: 4, hiddenSize: 33, nonlinearity: 'relu' }, T: 3, B: 6, state: true },
];

function buildCase(spec: Case, seed: number) {
  manualSeed(seed);
  const module = new CONSTRUCTORS[spec.kind](spec.options as never) as RecurrentModule;
  const random = seededRandom(seed);
  const { inputSize: I, hiddenSize: H, numLayers: L = 1, bidirectional = false, projSize = 0 } = spec.options as Record<string, number>;
  const D = bidirectional ? 2 : 1, P = (projSize as number) || H;
  const x = uniformArray(random, spec.T * spec.B * I);
  const lengths = spec.lengths ? Int32Array.from({ length: spec.B }, (_, b) => Math.max(1, spec.T - (b % spec.T))) : undefined;
  const h0 = spec.state ? uniformArray(random, L * D * spec.B * P, 0.5) : undefined;
  const c0 = spec.state && spec.kind === 'LSTM' ? uniformArray(random, L * D * spec.B * H, 0.5) : undefined;
  return { module, x, lengths, h0, c0, I, H, L, D, P };
}

describe(`quantizeDynamic, int8 (${simdUnderTest()} build)`, () => {
  it.each(CASES.map((spec, index) => [`${spec.kind} ${JSON.stringify(spec.options)} T=${spec.T} B=${spec.B}`, spec, index] as const))(
    '%s: the reference of the same quantization, f32 within the quantization error, stream = forward',
    (_label, spec, index) => {
      const { module, x, lengths, h0, c0, I, L, P } = buildCase(spec, 100 + index);
      const batchFirst = spec.options.batchFirst === true;
      const shape = batchFirst ? [spec.B, spec.T, I] : [spec.T, spec.B, I];
      const before = module.stateDict();
      const quantized = quantizeDynamic(module, { dtype: 'int8' });
      expect(isQuantized(quantized)).toBe(true);
      expect(quantized).toBeInstanceOf(CONSTRUCTORS[spec.kind]);
      const opts = { lengths, h0: h0 && { data: h0, shape: [h0.length / (spec.B * P), spec.B, P] }, c0: c0 && { data: c0, shape: [c0.length / (spec.B * (spec.options.hiddenSize as number)), spec.B, spec.options.hiddenSize as number] } };
      const got = quantized.forward({ data: x, shape }, opts);
      const f32 = module.forward({ data: x, shape }, opts);

      // The state dict: the reference quantizer's codes and scales for every weight, the rest unchanged.
      const dict = quantized.stateDict();
      const dequantized: Record<string, { data: Float64Array }> = {};
      for (const [name, tensor] of Object.entries(before)) {
        if (/^weight_(ih|hh|hr)_/.test(name)) {
          const [n, k] = tensor.shape;
          const reference = quantizeWeight(tensor.data, n, k);
          expect(Array.from(dict[name].data), `${name} codes`).toEqual(Array.from(reference.q));
          expect(Array.from(dict[`${name}.scale`].data), `${name}.scale`).toEqual(Array.from(reference.scales));
          dequantized[name] = { data: Float64Array.from(reference.q, (q, i) => q * reference.scales[Math.floor(i / k)]) };
        } else {
          expect(Array.from(dict[name].data), name).toEqual(Array.from(tensor.data));
          dequantized[name] = { data: Float64Array.from(tensor.data) };
        }
      }
      const config: RecurrentConfig = {
        mode: spec.options.nonlinearity === 'relu' ? 'rnn_relu' : MODE[spec.kind], inputSize: I, hiddenSize: spec.options.hiddenSize as number,
        numLayers: L, bidirectional: spec.options.bidirectional === true, batchFirst, bias: true, projSize: (spec.options.projSize as number) ?? 0,
        quantizeVector: (v) => {
          const { scale, q } = quantizeRow(Float32Array.from(v), ACTIVATION_LEVELS);
          return Float64Array.from(q, (value) => value * scale);
        },
      };
      const expected = recurrentForward(config, dequantized, { input: x, steps: spec.T, batch: spec.B, lengths, h0, c0 });
      expectClose('output vs the same quantization in float64', got.output.data, expected.output, 2e-3);
      expectClose('h vs the same quantization in float64', got.h.data, expected.h, 2e-3);
      if (expected.c) expectClose('c vs the same quantization in float64', got.c!.data, expected.c, 2e-3);
      expectClose('output vs f32', got.output.data, f32.output.data, 5e-2);

      // The original is untouched.
      const after = module.stateDict();
      for (const [name, tensor] of Object.entries(before)) expect(after[name].data, name).toEqual(tensor.data);

      if (spec.options.bidirectional !== true && !lengths) {
        const stream = quantized.stream({ batch: spec.B, h0: opts.h0, c0: opts.c0 });
        const timeMajor = batchFirst ? null : x;
        for (let t = 0; t < spec.T; t++) {
          const step = new Float32Array(spec.B * I);
          for (let b = 0; b < spec.B; b++) {
            const at = timeMajor ? (t * spec.B + b) * I : (b * spec.T + t) * I;
            step.set(x.subarray(at, at + I), b * I);
          }
          const h = stream.step({ data: step, shape: [spec.B, I] });
          for (let b = 0; b < spec.B; b++) {
            const at = batchFirst ? (b * spec.T + t) * P : (t * spec.B + b) * P;
            expect(Array.from(h.data.subarray(b * P, (b + 1) * P)), `stream step ${t} row ${b}`).toEqual(Array.from(got.output.data.subarray(at, at + P)));
          }
        }
        stream.dispose();
      }
      quantized.dispose();
      module.dispose();
    },
  );

  it('GRU resetAfter: false and LSTM variants run int8 within the quantization error of f32', () => {
    for (const [kind, options] of [['GRU', { resetAfter: false }], ['LSTM', { peepholes: true, clip: 3 }], ['GRU', { recurrentActivation: 'hard_sigmoid' }]] as const) {
      const { module, x, I } = buildCase({ kind, options: { inputSize: 6, hiddenSize: 10, ...options }, T: 5, B: 3 }, 7);
      const quantized = quantizeDynamic(module, { dtype: 'int8' });
      const input = { data: x, shape: [5, 3, I] };
      expectClose(`${kind} ${JSON.stringify(options)}`, quantized.forward(input).output.data, module.forward(input).output.data, 5e-2);
      quantized.dispose();
      module.dispose();
    }
  });

  it('saves and loads its state dict (codes + .scale) into an identical module', () => {
    const { module, x } = buildCase({ kind: 'LSTM', options: { inputSize: 4, hiddenSize: 6, numLayers: 2 }, T: 3, B: 2 }, 9);
    const quantized = quantizeDynamic(module, { dtype: 'int8' });
    const copy = new QuantizedLSTM((module as LSTM).options());
    const input = { data: x, shape: [3, 2, 4] };
    expect(() => copy.forward(input)).toThrow(/QuantizedLSTM\.forward: the int8 weights are not loaded yet/);
    expect(() => copy.stream()).toThrow(/not loaded yet/);
    copy.loadStateDict(quantized.stateDict());
    expect(copy.forward(input).output.data).toEqual(quantized.forward(input).output.data);
    const dict = quantized.stateDict();
    expect(() => copy.loadStateDict({ ...dict, weight_ih_l0: { data: dict.weight_ih_l0.data.map((v, i) => (i === 3 ? 0.5 : v)), shape: dict.weight_ih_l0.shape } }))
      .toThrow(StateDictError);
    const { ['weight_hh_l1.scale']: _dropped, ...withoutScale } = dict;
    expect(() => copy.loadStateDict(withoutScale)).toThrow(/weight_hh_l1 needs its row scales weight_hh_l1\.scale/);
    // A failed load leaves the module as it was.
    expect(copy.forward(input).output.data).toEqual(quantized.forward(input).output.data);
    for (const m of [module, quantized, copy]) m.dispose();
  });

  it('saves to safetensors (I8 codes, F32 scales, class and options in the metadata) and loads the same module', () => {
    for (const [kind, options] of [['GRU', { inputSize: 5, hiddenSize: 7, bidirectional: true, resetAfter: false }], ['LSTM', { inputSize: 4, hiddenSize: 9, projSize: 3 }],
      ['RNN', { inputSize: 3, hiddenSize: 6, nonlinearity: 'relu', numLayers: 2 }]] as const) {
      const { module, x, I } = buildCase({ kind, options, T: 4, B: 2 }, 11);
      const quantized = quantizeDynamic(module, { dtype: 'int8' });
      const file = saveQuantized(quantized);
      const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
      const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength)));
      expect(header.weight_ih_l0.dtype, kind).toBe('I8');
      expect(header['weight_ih_l0.scale'].dtype, kind).toBe('F32');
      expect(header.bias_ih_l0.dtype, kind).toBe('F32');
      expect(header.__metadata__['looptree.quantized.class']).toBe(`Quantized${kind}`);
      // Data: one byte per weight code, four per scale and per other value.
      const dict = quantized.stateDict();
      const expectedBytes = Object.entries(dict).reduce((sum, [name, t]) => sum + t.data.length * (header[name].dtype === 'I8' ? 1 : 4), 0);
      expect(Object.values(dict).length, kind).toBe(Object.keys(header).length - 1);
      expect(file.length - 8 - headerLength, `${kind}: data bytes`).toBe(expectedBytes);
      expect(Object.entries(header).filter(([, e]) => (e as { dtype?: string }).dtype === 'I8').map(([name]) => name).sort(), kind)
        .toEqual(Object.keys(module.parameterShapes()).filter((name) => name.startsWith('weight_')).sort());
      const loaded = loadQuantized(file);
      expect(loaded.constructor.name).toBe(`Quantized${kind}`);
      const input = { data: x, shape: [4, 2, I] };
      expect((loaded as typeof quantized).forward(input).output.data, kind).toEqual(quantized.forward(input).output.data);
      expect(parseSafetensors(file).weight_hh_l0.data).toEqual(quantized.stateDict().weight_hh_l0.data);
      for (const m of [module, quantized, loaded]) m.dispose();
    }
    const linear = new Linear({ inFeatures: 6, outFeatures: 3, bias: false });
    const quantizedLinear = quantizeDynamic(linear, { dtype: 'int8' });
    const reloaded = loadQuantized(saveQuantized(quantizedLinear));
    const v = { data: uniformArray(seededRandom(2), 12), shape: [2, 6] };
    expect((reloaded as typeof quantizedLinear).forward(v).data).toEqual(quantizedLinear.forward(v).data);
    expect(() => loadQuantized(serializeSafetensors(linear.stateDict()))).toThrow(SafetensorsError);
    expect(() => saveQuantized(linear as never)).toThrow(/must come from quantizeDynamic/);
    for (const m of [linear, quantizedLinear, reloaded]) m.dispose();
  });

  it('Sequential.quantize: the int8 layers composed by hand, the original untouched, no training or saving', () => {
    manualSeed(21);
    const model = new Sequential([
      new Embedding({ numEmbeddings: 12, embeddingDim: 5 }),
      new LSTM({ inputSize: 5, hiddenSize: 7, batchFirst: true }),
      new LastStep(),
      new Linear({ inFeatures: 7, outFeatures: 3 }),
    ]);
    const ids = { data: Float32Array.from({ length: 4 * 6 }, (_, i) => (i * 7) % 12), shape: [4, 6] };
    const lengths = [6, 3, 1, 5];
    const before = model.predict(ids, { lengths });
    const small = model.quantize({ dtype: 'int8' });
    expect(small.layers.map((layer) => layer.constructor.name)).toEqual(['Embedding', 'QuantizedLSTM', 'LastStep', 'QuantizedLinear']);
    const got = small.predict(ids, { lengths });

    const [embedding, lstm, , linear] = model.layers as [Embedding, LSTM, LastStep, Linear];
    const q8 = quantizeDynamic(lstm, { dtype: 'int8' }), l8 = quantizeDynamic(linear, { dtype: 'int8' });
    const { output } = q8.forward(embedding.forward(ids), { lengths: Int32Array.from(lengths) });
    const last = new Float32Array(4 * 7);
    lengths.forEach((length, b) => last.set(output.data.subarray((b * 6 + length - 1) * 7, (b * 6 + length) * 7), b * 7));
    expect(Array.from(got.data)).toEqual(Array.from(l8.forward({ data: last, shape: [4, 7] }).data));
    expectClose('Sequential int8 vs f32', got.data, before.data, 3e-2);
    expect(model.predict(ids, { lengths }).data, 'the original predicts as before').toEqual(before.data);
    const viaFunction = quantizeDynamic(model, { dtype: 'int8' }) as Sequential;
    expect(Array.from(viaFunction.predict(ids, { lengths }).data), 'quantizeDynamic(model) = model.quantize()').toEqual(Array.from(got.data));
    viaFunction.dispose();

    small.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0.1 } });
    expect(() => small.fit(ids, [0, 1, 2, 0], { epochs: 1, lengths, verbose: false })).toThrow(/int8 weights/);
    expect(() => small.save()).toThrow(/save the f32 model and quantize it after loading/);
    expect(() => model.quantize({ dtype: 'int4' } as never)).toThrow(/dtype must be 'int8'/);
    for (const m of [model, small, q8, l8]) m.dispose();
  });

  it('refuses training, other modules, a second quantization and options other than { dtype: "int8" }', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4 });
    const quantized = quantizeDynamic(lstm, { dtype: 'int8' });
    const x = { data: new Float32Array(6), shape: [2, 1, 3] };
    expect(() => quantized.forward(x, { train: true })).toThrow(/int8 weights \(quantizeDynamic\)/);
    expect(() => quantized.backward()).toThrow(/inference-only/);
    expect(() => quantizeDynamic(quantized, { dtype: 'int8' })).toThrow(/already quantized/);
    expect(() => quantizeDynamic(lstm, { dtype: 'int4' as never })).toThrow(ArgumentError);
    expect(() => quantizeDynamic(lstm, { dtype: 'int8', dtpye: 1 } as never)).toThrow(/dtpye/);
    expect(() => quantizeDynamic({} as never, { dtype: 'int8' })).toThrow(/must be an RNN, LSTM, GRU, Linear, TreeRNN, ChildSumTreeLSTM or BinaryTreeLSTM/);
    quantized.dispose();
    lstm.dispose();
  });

  it(`holds no f32 copy of the weights: int8 blobs (${WEIGHT_BYTES} bytes a weight) + scales + f32 biases, parameters are the biases`, () => {
    const held = (m: { dispose(): void }) => {
      const before = backendInfo().heapBytes;
      m.dispose();
      return before - backendInfo().heapBytes;
    };
    // W1's and W2's LSTMs, a 2-layer bidirectional GRU with resetAfter: false (n rows packed apart), a projected LSTM, Linear.
    const modules = [
      new LSTM({ inputSize: 64, hiddenSize: 128 }), new LSTM({ inputSize: 128, hiddenSize: 256 }),
      new GRU({ inputSize: 24, hiddenSize: 40, numLayers: 2, bidirectional: true, resetAfter: false }),
      new LSTM({ inputSize: 16, hiddenSize: 48, projSize: 20 }), new Linear({ inFeatures: 300, outFeatures: 70 }),
    ];
    for (const module of modules) {
      const quantized = quantizeDynamic(module as never, { dtype: 'int8' }) as RecurrentModule | Linear;
      const shapes = module.parameterShapes();
      const weights = Object.values(shapes).filter((shape) => shape.length === 2).reduce((sum, [rows, columns]) => sum + rows * columns, 0);
      const others = Object.values(shapes).filter((shape) => shape.length !== 2).reduce((sum, [n]) => sum + n, 0);
      expect(Object.keys(quantized.parameterShapes()), module.constructor.name).toEqual(Object.keys(shapes).filter((name) => shapes[name].length !== 2));
      const int8Bytes = held(quantized), f32Bytes = held(module);
      const label = `${module.constructor.name} ${weights} weights: f32 ${f32Bytes} bytes, int8 ${int8Bytes}`;
      // f32: the values and their packed copy (8 bytes a weight); int8: WEIGHT_BYTES a weight, padding to whole panels,
      // row scales (and corrections), biases (values and folded copies) and the plan.
      expect(f32Bytes, label).toBeGreaterThanOrEqual(8 * weights);
      expect(int8Bytes, label).toBeGreaterThanOrEqual(WEIGHT_BYTES * weights);
      expect(int8Bytes, label).toBeLessThan((WEIGHT_BYTES + 0.2) * weights + 16 * others + 4096);
    }
  });

  it('Linear: the reference of the same quantization, and f32 within its error', () => {
    const random = seededRandom(3);
    const linear = new Linear({ inFeatures: 37, outFeatures: 11 });
    const quantized = quantizeDynamic(linear, { dtype: 'int8' });
    const x = uniformArray(random, 5 * 37);
    const got = quantized.forward({ data: x, shape: [5, 37] });
    const { weight, bias } = linear.stateDict();
    const w = quantizeRows(weight.data, 11, 37);
    const expected = new Float64Array(5 * 11);
    for (let r = 0; r < 5; r++) {
      const row = quantizeRow(x.subarray(r * 37, (r + 1) * 37), ACTIVATION_LEVELS);
      for (let o = 0; o < 11; o++) {
        let sum = 0;
        for (let i = 0; i < 37; i++) sum += row.q[i] * w.codes[o * 37 + i];
        expected[r * 11 + o] = sum * row.scale * w.scales[o] + bias.data[o];
      }
    }
    expectClose('Linear int8 vs float64 of the same quantization', got.data, expected, 1e-5);
    expectClose('Linear int8 vs f32', got.data, linear.forward({ data: x, shape: [5, 37] }).data, 3e-2);
    expect(() => quantized.forward({ data: x, shape: [5, 37] }, { train: true })).toThrow(/inference-only/);
    quantized.dispose();
    linear.dispose();
  });
});
