// The weightsManifest of a model.json and its weight shards: sizes checked against the bytes before anything is
// allocated, then float32 (little-endian) or TF.js's quantized encodings (uint8/uint16 affine, float16) decoded.

import { float16ToFloat32 } from '../../index.js';
import { MAX_DIM, asObject, isObject, type LayerConfig } from './config.js';
import { KerasError, describeValue } from './errors.js';

/** Weight shards as given to loadLayersModel: one buffer, or several in the order of the manifest's paths. */
export type WeightsInput = Uint8Array | ArrayBuffer | ReadonlyArray<Uint8Array | ArrayBuffer>;

/** A decoded weight in its Keras name and layout. */
export interface KerasWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

type Encoding = { kind: 'float32' } | { kind: 'uint8' | 'uint16'; scale: number; min: number } | { kind: 'float16' };

interface ManifestEntry {
  readonly name: string;
  readonly shape: number[];
  readonly size: number;
  readonly encoding: Encoding;
}

const BYTES_PER_VALUE = { float32: 4, uint8: 1, uint16: 2, float16: 2 } as const;

/** Decodes every weight of the manifest from the shards, which must hold exactly the bytes the manifest describes. */
export function readWeights(manifest: unknown, shards: WeightsInput): KerasWeight[] {
  const bytes = concatShards(shards);
  const entries = readManifest(manifest, bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  return entries.map((entry) => {
    const length = entry.size * BYTES_PER_VALUE[entry.encoding.kind];
    const data = decode(view, offset, entry.size, entry.encoding);
    offset += length;
    return { name: entry.name, shape: entry.shape, data };
  });
}

function concatShards(shards: WeightsInput): Uint8Array {
  const list = Array.isArray(shards) ? shards : [shards];
  const parts = list.map((shard, i) => {
    if (shard instanceof Uint8Array) return shard;
    if (shard instanceof ArrayBuffer) return new Uint8Array(shard);
    throw new KerasError(`weights${Array.isArray(shards) ? `[${i}]` : ''} must be a Uint8Array or an ArrayBuffer, got ${describeValue(shard)}`);
  });
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The manifest's groups flattened in order, each entry's size bounded by the bytes actually given. */
function readManifest(manifest: unknown, byteLength: number): ManifestEntry[] {
  if (!Array.isArray(manifest)) throw new KerasError(`model.json: weightsManifest must be a list of weight groups, got ${describeValue(manifest)}`);
  const entries: ManifestEntry[] = [];
  const names = new Set<string>();
  let needed = 0;
  manifest.forEach((group, g) => {
    const weights = asObject(group, `model.json: weightsManifest[${g}]`).weights;
    if (!Array.isArray(weights)) throw new KerasError(`model.json: weightsManifest[${g}].weights must be a list, got ${describeValue(weights)}`);
    weights.forEach((raw, w) => {
      const where = `model.json: weightsManifest[${g}].weights[${w}]`;
      const { name, shape, dtype, quantization } = asObject(raw, where);
      if (typeof name !== 'string' || name === '') throw new KerasError(`${where}: name must be a non-empty string, got ${describeValue(name)}`);
      if (names.has(name)) throw new KerasError(`${where}: weight "${name}" is listed twice`);
      names.add(name);
      const encoding = readEncoding(name, dtype, quantization);
      const size = readSize(name, shape, (byteLength - needed) / BYTES_PER_VALUE[encoding.kind]);
      needed += size * BYTES_PER_VALUE[encoding.kind];
      entries.push({ name, shape: shape as number[], size, encoding });
    });
  });
  // (Too few bytes already failed in readSize.)
  if (needed !== byteLength) throw new KerasError(`weights: ${byteLength} bytes were given, ${byteLength - needed} more than the manifest describes`);
  return entries;
}

/** Number of values of a weight's shape, which must fit in the values still available. */
function readSize(name: string, shape: unknown, available: number): number {
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_DIM)) {
    throw new KerasError(`weight "${name}": shape must be a list of up to 8 sizes in 0..${MAX_DIM}, got ${describeValue(shape)}`);
  }
  const size = (shape as number[]).reduce((product, dim) => product * dim, 1);
  if (size > available) {
    throw new KerasError(`weight "${name}": shape ${describeValue(shape)} needs ${size} values, but the weights hold only ${Math.max(0, Math.floor(available))} more`);
  }
  return size;
}

function readEncoding(name: string, dtype: unknown, quantization: unknown): Encoding {
  if (dtype !== 'float32') throw new KerasError(`weight "${name}": dtype ${describeValue(dtype)} is not supported (float32 weights only)`);
  if (quantization === undefined || quantization === null) return { kind: 'float32' };
  if (!isObject(quantization)) throw new KerasError(`weight "${name}": quantization must be an object, got ${describeValue(quantization)}`);
  const kind = quantization.dtype;
  if (kind === 'float16') return { kind };
  if (kind !== 'uint8' && kind !== 'uint16') {
    throw new KerasError(`weight "${name}": quantization dtype ${describeValue(kind)} is not supported (uint8, uint16 or float16)`);
  }
  const { scale, min } = quantization;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || typeof min !== 'number' || !Number.isFinite(min)) {
    throw new KerasError(`weight "${name}": ${kind} quantization needs finite numbers scale and min, got ${describeValue(quantization)}`);
  }
  return { kind, scale, min };
}

/** `count` values at `offset`: float32 as stored, uint8/uint16 as q·scale + min (TF.js's formula), float16 exactly. */
function decode(view: DataView, offset: number, count: number, encoding: Encoding): Float32Array {
  const out = new Float32Array(count);
  switch (encoding.kind) {
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
      return out;
    case 'uint8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(offset + i) * encoding.scale + encoding.min;
      return out;
    case 'uint16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(offset + 2 * i, true) * encoding.scale + encoding.min;
      return out;
    case 'float16':
      return decodeFloat16(new Uint8Array(view.buffer, view.byteOffset + offset, 2 * count));
  }
}

/** Little-endian half-precision values as float32. */
function decodeFloat16(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 2 }, (_, i) => float16ToFloat32(view.getUint16(2 * i, true)));
}

/**
 * The weights of a model, handed out layer by layer: a layer takes the weights under its name
 * (`lstm/kernel`, or `lstm/lstm_cell/kernel` as Python Keras names them) by their last name segment.
 */
export class WeightStore {
  private readonly remaining: Map<string, KerasWeight>;

  constructor(weights: readonly KerasWeight[]) {
    this.remaining = new Map(weights.map((weight) => [weight.name, weight]));
  }

  /** Removes and returns the weights named `<layer>/...`. */
  take(layer: string): KerasWeight[] {
    const taken = [...this.remaining.values()].filter((weight) => weight.name.startsWith(`${layer}/`));
    for (const weight of taken) this.remaining.delete(weight.name);
    return taken;
  }

  /** Throws if a weight of the manifest belongs to no layer of the model. */
  checkAllTaken(): void {
    const left = [...this.remaining.keys()];
    if (left.length > 0) throw new KerasError(`weights: ${left.map((name) => `"${name}"`).join(', ')} belong${left.length === 1 ? 's' : ''} to no layer of the model`);
  }
}

/** One layer's weights by role (`kernel`, `recurrent_kernel`, `bias`, `embeddings`), each taken once with its shape checked. */
export class LayerWeights {
  private readonly byRole = new Map<string, KerasWeight>();

  constructor(private readonly layer: LayerConfig, weights: readonly KerasWeight[]) {
    for (const weight of weights) {
      const role = weight.name.slice(weight.name.lastIndexOf('/') + 1).replace(/:\d+$/, '');
      if (this.byRole.has(role)) throw layer.error(`two weights named "${role}": "${this.byRole.get(role)!.name}" and "${weight.name}"`);
      this.byRole.set(role, weight);
    }
  }

  /** Number of values of all this layer's weights (Keras' parameter count). */
  get size(): number {
    let size = 0;
    for (const weight of this.byRole.values()) size += weight.data.length;
    return size;
  }

  /** The weight of this role, which must have one of the given shapes. */
  get(role: string, ...shapes: number[][]): KerasWeight {
    const weight = this.byRole.get(role);
    if (!weight) throw this.layer.error(`weight "${role}" is missing from the weights manifest`);
    if (!shapes.some((shape) => shape.length === weight.shape.length && shape.every((d, i) => d === weight.shape[i]))) {
      throw this.layer.error(`weight "${weight.name}" has shape ${describeValue(weight.shape)}, expected ${shapes.map((s) => describeValue(s)).join(' or ')}`);
    }
    return weight;
  }

  /** Throws if the layer has weights other than `roles`. */
  expectOnly(...roles: string[]): void {
    for (const [role, weight] of this.byRole) {
      if (!roles.includes(role)) throw this.layer.error(`unexpected weight "${weight.name}" (expected ${roles.join(', ') || 'none'})`);
    }
  }
}
