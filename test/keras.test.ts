// looptree/keras on the TF.js layers fixtures (test/fixtures/keras): every case through loadLayersModel(...).predict
// within its tolerance in this project's SIMD build, the float64 reference checked on them, and the same cases with
// their weights quantized (uint8, uint16, float16) against the reference on the dequantized weights.

import { beforeAll, describe, expect, it } from 'vitest';
import { Tensor, backendInfo, init } from '../dist/index.js';
import { loadLayersModel } from '../dist/keras.js';
import { expectClose as expectCloseArrays } from './helpers/compare.js';
import { expectClose, simdUnderTest } from './helpers/fixtures.js';
import { listKerasFixtures, loadKerasFixture, type KerasFixture } from './helpers/keras-fixtures.js';
import { readFloatWeights, writeWeights, type Quantization } from './helpers/keras-models.js';
import { referencePredict, type RefWeights } from './helpers/keras-reference.js';

const names = listKerasFixtures();

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

function fixtureInput(fixture: KerasFixture) {
  const { input } = fixture.inputs;
  return input.dtype ? { data: Int32Array.from(input.data), shape: input.shape } : new Tensor(Float32Array.from(input.data), input.shape);
}

function asList<T>(result: T | T[]): T[] {
  return Array.isArray(result) ? result : [result];
}

describe(`keras fixtures (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('runs the requested SIMD build and has the fixture set', () => {
    expect(backendInfo().simd).toBe(simdUnderTest());
    expect(names.length).toBeGreaterThanOrEqual(12);
  });

  for (const name of names) {
    it(name, () => {
      const fixture = loadKerasFixture(name);
      const model = loadLayersModel(fixture.model, fixture.weights);
      const outputs = asList(model.predict(fixtureInput(fixture)));
      const expected = Object.entries(fixture.outputs);
      expect(outputs.length).toBe(expected.length);
      expected.forEach(([what, tensor], i) => expectClose(what, outputs[i], tensor, fixture.tolerance));
      // Same input, same build: bitwise-identical output.
      asList(model.predict(fixtureInput(fixture))).forEach((again, i) => expect(again.data).toEqual(outputs[i].data));
      model.dispose();
    });
  }
});

describe('keras reference (float64, test/helpers/keras-reference.ts)', () => {
  for (const name of names) {
    it(`reproduces ${name}`, () => {
      const fixture = loadKerasFixture(name);
      const weights: RefWeights = new Map(readFloatWeights(fixture.model, fixture.weights).map(([n, , v]) => [n, Float64Array.from(v)]));
      const outputs = referencePredict(fixture.model, weights, fixture.inputs.input);
      Object.values(fixture.outputs).forEach((tensor, i) => {
        expect(outputs[i].shape).toEqual(tensor.shape);
        expectCloseArrays(name, outputs[i].data, tensor.data, 1e-6);
      });
    });
  }
});

describe(`keras quantized weights (${process.env.LOOPTREE_SIMD} build)`, () => {
  const cases = ['embedding_lstm_dense_softmax', 'bidir_concat_lstm_seq', 'gru_reset_after_seq', 'lstm_return_state'];
  for (const quantization of ['uint8', 'uint16', 'float16'] as Quantization[]) {
    for (const name of cases) {
      it(`${name} (${quantization})`, () => {
        const fixture = loadKerasFixture(name);
        const { manifest, weights, reference } = writeWeights(readFloatWeights(fixture.model, fixture.weights), quantization);
        const model = loadLayersModel({ ...fixture.model, weightsManifest: manifest }, weights);
        const outputs = asList(model.predict(fixtureInput(fixture)));
        const expected = referencePredict(fixture.model, reference, fixture.inputs.input);
        expect(outputs.length).toBe(expected.length);
        expected.forEach((tensor, i) => {
          expect([...outputs[i].shape]).toEqual(tensor.shape);
          expectCloseArrays(`output ${i}`, outputs[i].data, tensor.data, (j) => 1e-5 + 1e-5 * Math.abs(tensor.data[j]));
        });
        // Quantization changed the outputs measurably (the dequantized weights were used, not the originals).
        if (quantization !== 'uint16') {
          const exact = Object.values(fixture.outputs)[0].data;
          expect(outputs[0].data.some((v: number, j: number) => Math.abs(v - exact[j]) > 1e-5)).toBe(true);
        }
        model.dispose();
      });
    }
  }
});
