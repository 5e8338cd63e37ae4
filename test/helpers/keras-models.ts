// Test helper: TF.js layers models (model.json + weight bytes) built from layer definitions with seeded random
// weights, optionally quantized the way tensorflowjs_converter writes them (uint8 / uint16 affine, float16), and
// the dequantized float64 weights for the reference (keras-reference.ts).

import { seededRandom } from './random.js';
import type { RefWeights } from './keras-reference.js';

export type Quantization = 'uint8' | 'uint16' | 'float16';

/** One layer of a model to build: its class, config and weights (name relative to the layer, shape). */
export interface LayerDef {
  class_name: string;
  config: Record<string, unknown>;
  weights: Array<[string, number[]]>;
}

const layerConfig = (name: string, config: Record<string, unknown>) => ({ name, trainable: true, ...config });

/** SimpleRNN / LSTM / GRU with I input features and U units; `options` are Keras config keys. */
export function recurrent(className: 'SimpleRNN' | 'LSTM' | 'GRU', name: string, I: number, U: number, options: Record<string, unknown> = {}): LayerDef {
  const G = { SimpleRNN: 1, LSTM: 4, GRU: 3 }[className] * U;
  const config: Record<string, unknown> = layerConfig(name, {
    units: U, activation: 'tanh', use_bias: true, return_sequences: false, return_state: false, go_backwards: false,
    stateful: false, unroll: false, dropout: 0, recurrent_dropout: 0,
    ...(className === 'SimpleRNN' ? {} : { recurrent_activation: 'sigmoid' }),
    ...(className === 'GRU' ? { reset_after: true } : {}),
    ...options,
  });
  const weights: Array<[string, number[]]> = [['kernel', [I, G]], ['recurrent_kernel', [U, G]]];
  if (config.use_bias) weights.push(['bias', className === 'GRU' && config.reset_after ? [2, G] : [G]]);
  return { class_name: className, config, weights };
}

export function bidirectional(name: string, inner: LayerDef, mergeMode: string | null = 'concat'): LayerDef {
  const innerName = inner.config.name as string;
  return {
    class_name: 'Bidirectional',
    config: layerConfig(name, { layer: { class_name: inner.class_name, config: inner.config }, merge_mode: mergeMode }),
    weights: ['forward', 'backward'].flatMap((d) => inner.weights.map(([w, shape]): [string, number[]] => [`${d}_${innerName}/${w}`, shape])),
  };
}

export function dense(name: string, I: number, U: number, activation = 'linear', useBias = true): LayerDef {
  return {
    class_name: 'Dense',
    config: layerConfig(name, { units: U, activation, use_bias: useBias }),
    weights: useBias ? [['kernel', [I, U]], ['bias', [U]]] : [['kernel', [I, U]]],
  };
}

export function timeDistributed(name: string, inner: LayerDef): LayerDef {
  return { class_name: 'TimeDistributed', config: layerConfig(name, { layer: { class_name: inner.class_name, config: inner.config } }), weights: inner.weights };
}

export function embedding(name: string, vocabulary: number, width: number, maskZero: boolean): LayerDef {
  return { class_name: 'Embedding', config: layerConfig(name, { input_dim: vocabulary, output_dim: width, mask_zero: maskZero }), weights: [['embeddings', [vocabulary, width]]] };
}

/** A layer without weights (Masking, Dropout, Flatten, pooling, ...). */
export function plain(className: string, name: string, config: Record<string, unknown> = {}): LayerDef {
  return { class_name: className, config: layerConfig(name, config), weights: [] };
}

/** float32 → IEEE half bits, rounding to nearest even (subnormals included). */
export function halfBits(value: number): number {
  const sign = value < 0 ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a === 0) return sign;
  let e = Math.max(-14, Math.floor(Math.log2(a)));
  while (a >= 2 ** (e + 1)) e++;
  while (e > -14 && a < 2 ** e) e--;
  const scaled = a / 2 ** (e - 10);
  let q = Math.floor(scaled);
  const rest = scaled - q;
  if (rest > 0.5 || (rest === 0.5 && q % 2 === 1)) q++;
  if (q < 1024) return sign | q; // subnormal (e = −14)
  if (q === 2048) return sign | ((e + 16) << 10);
  return sign | ((e + 15) << 10) | (q - 1024);
}

/** IEEE half bits → value, by its definition. */
export function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  return sign * (exponent === 0 ? mantissa * 2 ** -24 : (1 + mantissa / 1024) * 2 ** (exponent - 15));
}

/** Encodes float32 values as a manifest entry's bytes and quantization, with the values a loader must decode. */
export function encodeWeight(values: Float32Array, quantization?: Quantization): { bytes: Uint8Array; quantization?: object; decoded: Float64Array } {
  if (!quantization) return { bytes: new Uint8Array(values.buffer.slice(0)), decoded: Float64Array.from(values) };
  if (quantization === 'float16') {
    const bits = Uint16Array.from(values, halfBits);
    return { bytes: new Uint8Array(bits.buffer), quantization: { dtype: 'float16' }, decoded: Float64Array.from(bits, halfValue) };
  }
  const levels = quantization === 'uint8' ? 255 : 65535;
  const min = Math.min(...values), max = Math.max(...values);
  const scale = max > min ? (max - min) / levels : 1;
  const level = (v: number) => Math.round((v - min) / scale);
  const q = quantization === 'uint8' ? Uint8Array.from(values, level) : Uint16Array.from(values, level);
  return {
    bytes: new Uint8Array(q.buffer),
    quantization: { dtype: quantization, scale, min },
    decoded: Float64Array.from(q, (v) => Math.fround(v * scale + min)),
  };
}

export interface BuiltModel {
  model: any;
  weights: Uint8Array;
  reference: RefWeights;
}

/** Writes a manifest and its bytes for named float32 weights (in order). */
export function writeWeights(named: Array<[string, number[], Float32Array]>, quantization?: Quantization) {
  const entries: object[] = [];
  const parts: Uint8Array[] = [];
  const reference: RefWeights = new Map();
  for (const [name, shape, values] of named) {
    const encoded = encodeWeight(values, quantization);
    entries.push({ name, shape, dtype: 'float32', ...(encoded.quantization ? { quantization: encoded.quantization } : {}) });
    parts.push(encoded.bytes);
    reference.set(name, encoded.decoded);
  }
  const weights = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, part) => (weights.set(part, offset), offset + part.length), 0);
  return { manifest: [{ paths: ['weights.bin'], weights: entries }], weights, reference };
}

export interface BuildOptions {
  seed: number;
  quantization?: Quantization;
  /** Build a functional model ("Model"), returning these outputs of the last layer (Sequential otherwise). */
  outputs?: number[];
}

/** A model of `layers` in a chain on input [batch, ...shape], weights ~ U(−0.5, 0.5) from `seed`. */
export function buildModel(layers: LayerDef[], batchInputShape: Array<number | null>, options: BuildOptions): BuiltModel {
  const random = seededRandom(options.seed);
  const named = layers.flatMap((layer) => layer.weights.map(([w, shape]): [string, number[], Float32Array] =>
    [`${layer.config.name}/${w}`, shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() - 0.5)]));
  const { manifest, weights, reference } = writeWeights(named, options.quantization);
  let modelTopology;
  if (options.outputs) {
    const input = { name: 'input', class_name: 'InputLayer', config: { name: 'input', batch_input_shape: batchInputShape, dtype: 'float32' }, inbound_nodes: [] };
    const chained = layers.map((layer, i) => ({
      name: layer.config.name, class_name: layer.class_name, config: layer.config,
      inbound_nodes: [[[i === 0 ? 'input' : layers[i - 1].config.name, 0, 0, {}]]],
    }));
    const last = layers[layers.length - 1].config.name;
    modelTopology = {
      class_name: 'Model',
      config: { name: 'functional', layers: [input, ...chained], input_layers: [['input', 0, 0]], output_layers: options.outputs.map((k) => [last, 0, k]) },
    };
  } else {
    const [first, ...rest] = layers;
    modelTopology = { class_name: 'Sequential', config: { name: 'sequential', layers: [{ class_name: first.class_name, config: { ...first.config, batch_input_shape: batchInputShape } }, ...rest.map(({ class_name, config }) => ({ class_name, config }))] } };
  }
  return { model: { format: 'layers-model', modelTopology, weightsManifest: manifest }, weights, reference };
}

/** Float32 weights of a model.json + weights.bin pair (no quantization), by name in manifest order. */
export function readFloatWeights(model: any, bytes: Uint8Array): Array<[string, number[], Float32Array]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  return model.weightsManifest.flatMap((group: any) => group.weights.map((entry: any) => {
    const size = entry.shape.reduce((a: number, b: number) => a * b, 1);
    const values = Float32Array.from({ length: size }, (_, i) => view.getFloat32(offset + 4 * i, true));
    offset += 4 * size;
    return [entry.name, entry.shape, values];
  }));
}
