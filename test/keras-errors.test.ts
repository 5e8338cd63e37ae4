// looptree/keras errors: every unsupported layer, option, topology and malformed model.json or weights throws a
// KerasError (a LooptreeError, code ERR_KERAS) naming the layer, the option and its value; bad predict() input
// throws the core's typed errors.

import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, LooptreeError, ShapeError, Tensor, init } from '../dist/index.js';
import { KerasError, loadLayersModel } from '../dist/keras.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { loadKerasFixture } from './helpers/keras-fixtures.js';
import { bidirectional, buildModel, dense, embedding, plain, recurrent, type LayerDef } from './helpers/keras-models.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

function loadError(model: unknown, weights: Uint8Array): KerasError {
  try {
    loadLayersModel(model as object, weights).dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(KerasError);
    expect(error).toBeInstanceOf(LooptreeError);
    expect((error as KerasError).code).toBe('ERR_KERAS');
    return error as KerasError;
  }
  return expect.fail('loadLayersModel did not throw');
}

/** The KerasError of a model built from `layers` on input [null, 5, 3] (or ids [null, 5]). */
function buildError(layers: LayerDef[], outputs?: number[]): string {
  const built = buildModel(layers, layers[0].class_name === 'Embedding' ? [null, 5] : [null, 5, 3], { seed: 1, outputs });
  return loadError(built.model, built.weights).message;
}

const lstm = (options: Record<string, unknown> = {}) => recurrent('LSTM', 'lstm', 3, 4, options);

describe('keras: unsupported layers and options', () => {
  it('names an unsupported layer class', () => {
    expect(buildError([plain('Conv1D', 'conv', { filters: 2 })])).toMatch(/layer "conv" \(Conv1D\): layer class Conv1D is not supported \(supported: InputLayer, Embedding/);
  });

  it('names an unsupported option and its value', () => {
    expect(buildError([lstm({ time_major: true })])).toBe('layer "lstm" (LSTM): option time_major = true is not supported');
    expect(buildError([bidirectional('bi', lstm(), 'concat'), dense('d', 8, 2)].map((layer, i) => (i === 0 ? { ...layer, config: { ...layer.config, backward_layer: {} } } : layer)))).toMatch(/layer "bi" \(Bidirectional\): option backward_layer = \{\} is not supported/);
    expect(buildError([plain('GlobalMaxPooling1D', 'pool', { data_format: 'channels_first' })])).toMatch(/layer "pool" \(GlobalMaxPooling1D\): option data_format = "channels_first"/);
    expect(buildError([bidirectional('bi', lstm(), 'max')])).toMatch(/layer "bi" \(Bidirectional\): option merge_mode = "max" is not supported/);
  });

  it('names an unknown activation', () => {
    expect(buildError([lstm({ activation: 'mish' })])).toMatch(/layer "lstm" \(LSTM\): option activation = "mish" is not a supported activation/);
    expect(buildError([lstm({ recurrent_activation: 'softmax' })])).toMatch(/option recurrent_activation = "softmax"/);
    expect(buildError([lstm(), dense('head', 4, 2, 'relu6')])).toMatch(/layer "head" \(Dense\): option activation = "relu6"/);
  });

  it('rejects options of the wrong type', () => {
    expect(buildError([lstm({ return_sequences: 'yes' })])).toBe('layer "lstm" (LSTM): option return_sequences must be true or false, got "yes"');
    expect(buildError([lstm({ units: -4 })])).toMatch(/option units must be an integer in 1\.\./);
  });

  it('rejects wrappers around layers it cannot run', () => {
    expect(buildError([bidirectional('bi', dense('d', 3, 4))])).toMatch(/Bidirectional is supported around SimpleRNN, LSTM and GRU/);
    const td = { class_name: 'TimeDistributed', config: { name: 'td', layer: { class_name: 'LSTM', config: lstm().config } }, weights: [] };
    expect(buildError([td])).toMatch(/layer "td" \(TimeDistributed\): wraps a LSTM; TimeDistributed is supported around Dense/);
  });

  it('rejects Flatten and Reshape after a mask, as Keras does', () => {
    expect(buildError([embedding('emb', 10, 3, true), plain('Flatten', 'flat')])).toMatch(/layer "flat" \(Flatten\): does not support masking/);
  });

  it('rejects a layer with several outputs inside a Sequential model', () => {
    expect(buildError([lstm({ return_sequences: true, return_state: true }), recurrent('GRU', 'gru', 4, 2)])).toMatch(/layer "lstm" \(LSTM\) has 3 outputs/);
  });
});

describe('keras: topologies', () => {
  const fixture = () => loadKerasFixture('lstm_return_state');
  const functional = (edit: (config: any) => void) => {
    const { model, weights } = fixture();
    edit(model.modelTopology.config);
    return loadError(model, weights).message;
  };
  const dense2 = (inbound: string) => ({
    name: 'd2', class_name: 'Dropout', config: { name: 'd2', rate: 0.1 }, inbound_nodes: [[[inbound, 0, 0, {}]]],
  });

  it('rejects branches, shared layers, skipped outputs and unknown model classes', () => {
    expect(functional((c) => c.layers.push(dense2('x')))).toMatch(/the output of "x" feeds 2 layers \("lstm", "d2"\); only linear chains/);
    expect(functional((c) => c.layers[1].inbound_nodes.push([['x', 0, 0, {}]]))).toMatch(/shared layers are not supported/);
    expect(functional((c) => c.layers.push(dense2('lstm')))).toMatch(/output_layers\[0\] is "lstm".*last layer "d2"/);
    expect(functional((c) => { c.layers.push({ ...dense2('lstm'), inbound_nodes: [[['lstm', 0, 1, {}]]] }); })).toMatch(/takes output 1 of "lstm"/);
    expect(functional((c) => { c.input_layers = [['x', 0, 0], ['x', 0, 0]]; })).toMatch(/exactly one model input/);
    expect(functional((c) => { c.output_layers = [['lstm', 0, 3]]; })).toMatch(/returns output 3 of layer "lstm", which has 3/);
    const { model, weights } = fixture();
    model.modelTopology.class_name = 'Graph';
    expect(loadError(model, weights).message).toMatch(/model class "Graph" is not supported/);
  });

  it('rejects other formats and text that is not JSON', () => {
    const { model, weights } = fixture();
    expect(loadError('{"format": ', weights).message).toMatch(/model.json is not valid JSON/);
    expect(loadError({ ...model, format: 'graph-model' }, weights).message).toMatch(/format "graph-model" is not supported/);
    expect(loadError(null, weights).message).toBe('model.json must be an object, got null');
  });
});

describe('keras: weights', () => {
  const fixture = () => loadKerasFixture('lstm_last');

  it('rejects truncated or extended weights and shards of the wrong type', () => {
    const { model, weights } = fixture();
    expect(loadError(model, weights.subarray(0, weights.length - 2)).message).toBe('weight "lstm/bias": shape [52] needs 52 values, but the weights hold only 51 more');
    expect(loadError(model, new Uint8Array(weights.length + 3)).message).toBe('weights: 3539 bytes were given, 3 more than the manifest describes');
    expect(() => loadLayersModel(model, 'bytes' as any)).toThrow(/weights must be a Uint8Array or an ArrayBuffer/);
  });

  it('rejects missing, misshapen, unclaimed and duplicated weights', () => {
    const edit = (change: (entries: any[]) => void) => {
      const { model, weights } = fixture();
      change(model.weightsManifest[0].weights);
      return loadError(model, weights).message;
    };
    expect(edit((w) => { w[2].name = 'lstm/other'; })).toMatch(/layer "lstm" \(LSTM\): weight "bias" is missing|unexpected weight "lstm\/other"/);
    expect(edit((w) => { w[0].shape = [13, 3, 4]; })).toMatch(/weight "lstm\/kernel" has shape \[13,3,4\], expected \[3,52\]/);
    expect(edit((w) => { w.push({ name: 'dense/bias', shape: [0], dtype: 'float32' }); })).toMatch(/"dense\/bias" belongs to no layer of the model/);
    expect(edit((w) => { w[1].name = 'lstm/kernel'; })).toMatch(/weight "lstm\/kernel" is listed twice/);
    expect(edit((w) => { w[0].dtype = 'int32'; })).toMatch(/dtype "int32" is not supported/);
    expect(edit((w) => { w[0].quantization = { dtype: 'int4' }; })).toMatch(/quantization dtype "int4" is not supported/);
    expect(edit((w) => { w[0].quantization = { dtype: 'uint8', scale: 0.1 }; })).toMatch(/needs finite numbers scale and min/);
    expect(edit((w) => { w[0].shape = [2 ** 30, 2 ** 30]; })).toMatch(/weight "lstm\/kernel": shape \[1073741824,1073741824\] needs 1152921504606847000 values, but the weights hold only 884 more/);
  });
});

describe(`keras: predict() input (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('throws ShapeError or ArgumentError for input that does not fit', () => {
    const { model, weights } = loadKerasFixture('lstm_last');
    const loaded = loadLayersModel(model, weights);
    expect(() => loaded.predict(new Tensor(new Float32Array(2 * 6 * 4), [2, 6, 4]))).toThrow(ShapeError);
    expect(() => loaded.predict(new Tensor(new Float32Array(6 * 3), [6, 3]))).toThrow(/expected input of shape \(B, 6, 3\), got \[6, 3\]/);
    expect(() => loaded.predict({ data: [1, 2], shape: [1, 6, 3] })).toThrow(/needs 18 values, got 2/);
    expect(() => loaded.predict('x' as any)).toThrow(ArgumentError);
    loaded.dispose();
    const emb = loadKerasFixture('embedding_lstm_dense_softmax');
    const tokens = loadLayersModel(emb.model, emb.weights);
    expect(() => tokens.predict({ data: Int32Array.of(1, 2, 3, 4, 5, 6, 20), shape: [1, 7] })).toThrow(ArgumentError);
    tokens.dispose();
  });

  it('keeps a stateful layer to the batch size it carries', () => {
    const built = buildModel([recurrent('GRU', 'gru', 3, 4, { stateful: true })], [2, 5, 3], { seed: 3 });
    const model = loadLayersModel(built.model, built.weights);
    model.predict(new Tensor(new Float32Array(2 * 5 * 3), [2, 5, 3]));
    expect(() => model.predict(new Tensor(new Float32Array(5 * 3), [1, 5, 3]))).toThrow(/carries the state of a batch of 2, got a batch of 1/);
    model.resetStates();
    model.predict(new Tensor(new Float32Array(5 * 3), [1, 5, 3]));
    model.dispose();
  });
});
