// Safetensors reader and writer: validated parsing to float32 Tensors (F32/F16/BF16/F64/I8 in; F16/BF16 widened in
// Wasm) and serialization as F32, F16 or BF16 (narrowed in Wasm, rounding to nearest even), with I8 for the tensors
// named in the writer's `dtypes` (int8 weights of quantized modules).

import { ArgumentError, SafetensorsError, formatShape } from '../errors.js';
import { choiceOption, optionKeys, strictOptions } from '../options.js';
import { Layout, kernels, readF32, reserveArena, writeF32 } from '../runtime.js';
import { Tensor, shapeSize } from '../tensor.js';

/** Dtypes this reader converts to float32, with their size in bytes. */
const DTYPE_SIZES = { F32: 4, F16: 2, BF16: 2, F64: 8, I8: 1 } as const;
type SupportedDtype = keyof typeof DTYPE_SIZES;
const SUPPORTED_DTYPES = Object.keys(DTYPE_SIZES).join(', ');

/** The length prefix is a little-endian u64. */
const LENGTH_PREFIX_BYTES = 8;
/**
 * The largest header read: 4 MiB (4,194,304 bytes). A header of tiny tensor entries of that size parses and validates
 * in about 0.5 s; the reference implementation's 100 MB took 7–14 s (issue 10, F7). Real headers are far smaller: a
 * model of 10,000 tensors needs about 1 MB.
 */
const MAX_HEADER_BYTES = 4 * 1024 * 1024;
/** The writer pads the header with spaces so that the data starts at a multiple of 8 bytes. */
const HEADER_ALIGNMENT = 8;
const METADATA_KEY = '__metadata__';

/** One tensor entry of the header, validated against the data buffer. */
interface TensorEntry {
  readonly name: string;
  readonly dtype: SupportedDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A validated header and where the data buffer starts in the file. */
interface Header {
  readonly metadata: Record<string, string>;
  readonly entries: readonly TensorEntry[];
  readonly dataStart: number;
}

/**
 * Parses a safetensors file into float32 Tensors keyed by name (like Python's `safetensors.torch.load`), e.g.
 * for `module.loadStateDict(parseSafetensors(bytes))`. F16, BF16 and F64 are converted to float32: F16 and BF16
 * exactly, in Wasm (so a file holding them needs `init()` first, else InitError), F64 rounded to nearest.
 * Every structural problem throws a `SafetensorsError` naming what was expected and what came (bytes that are
 * JSON, a torch.save ZIP or pickle, or HDF5 are named as such).
 */
export function parseSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  const header = readHeader(bytes, 'parseSafetensors');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Object.fromEntries(
    header.entries.map((entry) => [entry.name, new Tensor(decodeTensorData(bytes, view, header.dataStart, entry), entry.shape)]),
  );
}

/** Returns the `__metadata__` map of a safetensors file (empty if it has none), after validating the whole header; SafetensorsError as parseSafetensors. */
export function readSafetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  return readHeader(bytes, 'readSafetensorsMetadata').metadata;
}

/** The header of a safetensors file: its metadata and each tensor's name, dtype and shape, in file order. */
export interface SafetensorsHeader {
  /** The `__metadata__` map (empty if the file has none). */
  metadata: Record<string, string>;
  /** Each tensor as stored: its name, its dtype as the header spells it ('F32', 'F16', 'BF16', 'F64'), its shape. */
  tensors: Array<{ name: string; dtype: string; shape: number[] }>;
}

/**
 * Reads and validates the header of a safetensors file without converting any data: what `looptree info` prints.
 * Throws `SafetensorsError` as `parseSafetensors` does.
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  const header = readHeader(bytes, 'readSafetensorsHeader');
  const tensors = [...header.entries].sort((a, b) => a.begin - b.begin || compareByCodePoint(a.name, b.name))
    .map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] }));
  return { metadata: { ...header.metadata }, tensors };
}

/** A number format serializeSafetensors writes: float32, IEEE half, bfloat16. */
export type SafetensorsDtype = 'f32' | 'f16' | 'bf16';

/** The number formats serializeSafetensors writes: the header's dtype and the narrowing kernel (none for f32). */
const WRITE_DTYPES: Record<SafetensorsDtype, { header: 'F32' | 'F16' | 'BF16'; narrow?: 'float32ToFloat16Array' | 'float32ToBfloat16Array' }> = {
  f32: { header: 'F32' },
  f16: { header: 'F16', narrow: 'float32ToFloat16Array' },
  bf16: { header: 'BF16', narrow: 'float32ToBfloat16Array' },
};

/** The dtype names serializeSafetensors accepts, for validators of other APIs that pass one on (model.save). */
export const SAFETENSORS_DTYPES = Object.keys(WRITE_DTYPES) as readonly SafetensorsDtype[];

/** Options of serializeSafetensors: the number format of the tensors and the file's string metadata. */
export interface SerializeOptions {
  /** The number format of every tensor: 'f32' (default, bit exact), 'f16' or 'bf16' (half the bytes, rounded to nearest even). */
  dtype?: SafetensorsDtype;
  /**
   * Tensors stored otherwise than `dtype`, by name: 'I8' for integers in [−128, 127] (the int8 weights of quantized
   * modules), or 'F32'.
   */
  dtypes?: Record<string, 'F32' | 'I8'>;
  /** String metadata, stored under `__metadata__`. */
  metadata?: Record<string, string>;
}

const SERIALIZE_OPTION_KEYS = optionKeys<SerializeOptions>({ dtype: true, dtypes: true, metadata: true });

/**
 * Writes Tensors as a safetensors file, e.g. `module.stateDict()` (like Python's `safetensors.torch.save`, which
 * PyTorch's `load_file` reads back). Like the Python `safetensors` package, tensors are stored in name order and the
 * header is space-padded to a multiple of 8 bytes.
 * `dtype` 'f16' or 'bf16' rounds every value to nearest even in Wasm (needs `init()`): values past half's range
 * (|x| ≥ 65520) become ±Infinity, NaN stays NaN; 'f32' (the default) keeps the bits, NaN payloads included.
 * Throws ArgumentError for bad names, non-Tensor values, bad metadata, `dtypes` naming a missing tensor or another
 * dtype, an I8 tensor holding other values, and unknown options (with did-you-mean).
 * @example writeFileSync('model.safetensors', serializeSafetensors(lstm.stateDict(), { dtype: 'f16' }));
 */
export function serializeSafetensors(tensors: Record<string, Tensor>, options?: SerializeOptions): Uint8Array {
  const where = 'serializeSafetensors';
  if (!isPlainObject(tensors)) {
    throw new ArgumentError(`${where}: expected an object mapping names to Tensors, got ${describeValue(tensors)}`);
  }
  const { dtype: dtypeOption, dtypes: dtypesOption, metadata } = strictOptions(options, SERIALIZE_OPTION_KEYS, where);
  const dtype = choiceOption(dtypeOption, 'dtype', SAFETENSORS_DTYPES, 'f32', where);
  const { header: fileDtype, narrow } = WRITE_DTYPES[dtype];
  const dtypes = checkDtypes(dtypesOption ?? {}, tensors);
  const headerParts: string[] = [];
  if (metadata !== undefined) headerParts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(checkMetadataArgument(metadata))}`);
  const ordered: Array<{ data: Float32Array; dtype: 'F32' | 'F16' | 'BF16' | 'I8' }> = [];
  let dataLength = 0;
  for (const name of Object.keys(tensors).sort(compareByCodePoint)) {
    const value = tensors[name];
    checkTensorArgument(name, value);
    const dtype = Object.hasOwn(dtypes, name) ? dtypes[name] : fileDtype;
    if (dtype === 'I8') {
      const bad = value.data.findIndex((v) => !Number.isInteger(v) || v < -128 || v > 127);
      if (bad >= 0) throw new ArgumentError(`serializeSafetensors: tensor ${JSON.stringify(name)} is written as I8, so its values must be integers in [−128, 127], got ${value.data[bad]} at index ${bad}`);
    }
    const begin = dataLength;
    dataLength += value.size * DTYPE_SIZES[dtype];
    const info = { dtype, shape: value.shape, data_offsets: [begin, dataLength] };
    headerParts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    ordered.push({ data: value.data, dtype });
  }
  const headerText = `{${headerParts.join(',')}}`;
  const unpaddedHeader = new TextEncoder().encode(headerText);
  const headerLength = Math.ceil(unpaddedHeader.length / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;

  const dataStart = LENGTH_PREFIX_BYTES + headerLength;
  const file = new Uint8Array(dataStart + dataLength);
  const view = new DataView(file.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  file.set(unpaddedHeader, LENGTH_PREFIX_BYTES);
  file.fill(0x20, LENGTH_PREFIX_BYTES + unpaddedHeader.length, dataStart);
  let offset = dataStart;
  for (const { data, dtype } of ordered) {
    if (dtype === 'I8') {
      for (let i = 0; i < data.length; i++, offset += 1) view.setInt8(offset, data[i]);
      continue;
    }
    if (dtype !== 'F32') {
      file.set(narrowInWasm(narrow!, data), offset);
      offset += data.length * 2;
      continue;
    }
    // Copying the bit patterns (not the numbers) keeps NaN payloads intact.
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < bits.length; i++, offset += 4) view.setUint32(offset, bits[i], true);
  }
  return file;
}

/** The little-endian 16-bit words of `values` narrowed by a Wasm kernel (Wasm memory is little-endian on every host). */
function narrowInWasm(kernel: 'float32ToFloat16Array' | 'float32ToBfloat16Array', values: Float32Array): Uint8Array {
  const layout = new Layout();
  const src = layout.take(values.length * 4);
  const dst = layout.take(values.length * 2);
  const arena = reserveArena(layout.size);
  writeF32(arena + src, values);
  kernels()[kernel](arena + dst, arena + src, values.length);
  return new Uint8Array(kernels().memory.buffer, arena + dst, values.length * 2).slice();
}

/** Float32 values of little-endian 16-bit words (`bytes`, any alignment) widened by a Wasm kernel. */
function widenInWasm(kernel: 'float16ToFloat32Array' | 'bfloat16ToFloat32Array', bytes: Uint8Array): Float32Array {
  const count = bytes.length / 2;
  const layout = new Layout();
  const src = layout.take(bytes.length);
  const dst = layout.take(count * 4);
  const arena = reserveArena(layout.size);
  new Uint8Array(kernels().memory.buffer, arena + src, bytes.length).set(bytes);
  kernels()[kernel](arena + dst, arena + src, count);
  return readF32(arena + dst, count);
}

// ---------------------------------------------------------------------------------------------
// Reading

function readHeader(bytes: Uint8Array, caller: string): Header {
  if (!(bytes instanceof Uint8Array)) {
    throw new ArgumentError(`${caller}: expected a Uint8Array, got ${describeValue(bytes)}`);
  }
  if (bytes.length < LENGTH_PREFIX_BYTES) {
    throw notSafetensors(bytes, `expected at least ${LENGTH_PREFIX_BYTES} bytes (the header length), got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declaredLength = view.getBigUint64(0, true);
  if (declaredLength > BigInt(MAX_HEADER_BYTES)) {
    throw notSafetensors(bytes, `header length ${declaredLength} (read from its first 8 bytes) exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const headerLength = Number(declaredLength);
  const bytesAfterPrefix = bytes.length - LENGTH_PREFIX_BYTES;
  if (headerLength > bytesAfterPrefix) {
    throw notSafetensors(bytes, `header length ${headerLength} (read from its first 8 bytes) is larger than the ${bytesAfterPrefix} bytes after them`);
  }
  const dataStart = LENGTH_PREFIX_BYTES + headerLength;
  const json = parseHeaderJson(bytes.subarray(LENGTH_PREFIX_BYTES, dataStart));
  const dataLength = bytes.length - dataStart;

  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === METADATA_KEY) metadata = checkMetadata(value);
    else entries.push(checkEntry(name, value, dataLength));
  }
  checkCoverage(entries, dataLength);
  return { metadata, entries, dataStart };
}

/** Formats that get mistaken for safetensors, by their first bytes. */
const SIGNATURES: ReadonlyArray<[signature: readonly number[], format: string]> = [
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive, as torch.save writes (save the state_dict with safetensors.torch.save_file)'],
  [[0x80, 0x02], 'a Python pickle, as torch.save writes (save the state_dict with safetensors.torch.save_file)'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file, as Keras writes (.h5)'],
  [[0x00, 0x61, 0x73, 0x6d], 'a WebAssembly module'],
];

/** The error for bytes that do not begin as a safetensors file does, saying what they look like when it can tell. */
function notSafetensors(bytes: Uint8Array, reason: string): SafetensorsError {
  const text = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  const format = text.startsWith('{') || text.startsWith('[')
    ? 'JSON text (a JSON state dict, { name: { shape, data } }, goes to loadStateDict after JSON.parse)'
    : SIGNATURES.find(([signature]) => signature.every((byte, i) => bytes[i] === byte))?.[1];
  return new SafetensorsError(`safetensors: this is not a safetensors file (${reason})${format ? `; it looks like ${format}` : ''}`);
}

function parseHeaderJson(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, so that JSON.parse rejects it as the reference reader does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(`safetensors: the ${headerBytes.length}-byte header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(`safetensors: the header is not valid JSON (${(error as Error).message}): ${preview(text)}`);
  }
  if (!isPlainObject(json)) {
    throw new SafetensorsError(`safetensors: the header must be a JSON object, got ${describeValue(json)}`);
  }
  return json;
}

function checkMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(`safetensors: "__metadata__" must be an object of strings, got ${describeValue(value)}`);
  }
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') {
      throw new SafetensorsError(`safetensors: "__metadata__" values must be strings, got ${describeValue(entry)} for key ${JSON.stringify(key)}`);
    }
  }
  return value as Record<string, string>;
}

function checkEntry(name: string, value: unknown, dataLength: number): TensorEntry {
  const what = `safetensors: tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(value)) {
    throw new SafetensorsError(`${what} must be an object with dtype, shape and data_offsets, got ${describeValue(value)}`);
  }
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(value, field)) throw new SafetensorsError(`${what} has no "${field}" (expected dtype, shape and data_offsets)`);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZES, dtype)) {
    throw new SafetensorsError(`${what} has unsupported dtype ${describeValue(dtype)}; supported dtypes: ${SUPPORTED_DTYPES}`);
  }
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new SafetensorsError(`${what} has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0)) {
    throw new SafetensorsError(`${what} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw new SafetensorsError(`${what} has data_offsets [${begin}, ${end}]; expected begin <= end`);
  }
  if (end > dataLength) {
    throw new SafetensorsError(`${what} ends at byte ${end}, beyond the ${dataLength}-byte data buffer`);
  }
  const dtypeSize = DTYPE_SIZES[dtype as SupportedDtype];
  const expectedLength = shapeSize(shape) * dtypeSize;
  if (end - begin !== expectedLength) {
    throw new SafetensorsError(
      `${what} of dtype ${dtype} and shape ${formatShape(shape)} needs ${expectedLength} bytes (${dtypeSize} per element), ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype: dtype as SupportedDtype, shape, begin, end };
}

/** The tensors, sorted by position, must tile the data buffer exactly: no holes, no overlaps, no trailing bytes. */
function checkCoverage(entries: readonly TensorEntry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end || compareByCodePoint(a.name, b.name));
  let previous: TensorEntry | undefined;
  for (const entry of sorted) {
    const covered = previous?.end ?? 0;
    if (entry.begin > covered) {
      throw new SafetensorsError(
        `safetensors: bytes ${covered} to ${entry.begin} of the data buffer belong to no tensor ` +
          `(hole before tensor ${JSON.stringify(entry.name)}, data_offsets [${entry.begin}, ${entry.end}])`,
      );
    }
    if (previous && entry.begin < covered) {
      throw new SafetensorsError(
        `safetensors: tensor ${JSON.stringify(entry.name)} (data_offsets [${entry.begin}, ${entry.end}]) overlaps ` +
          `tensor ${JSON.stringify(previous.name)} (data_offsets [${previous.begin}, ${previous.end}])`,
      );
    }
    previous = entry;
  }
  const covered = previous?.end ?? 0;
  if (covered < dataLength) {
    throw new SafetensorsError(
      `safetensors: ${dataLength - covered} trailing bytes after the last tensor (the data buffer is ${dataLength} bytes, the tensors cover ${covered})`,
    );
  }
}

/** Reads one tensor's little-endian values as float32, whatever the host byte order and the data alignment. */
function decodeTensorData(bytes: Uint8Array, view: DataView, dataStart: number, entry: TensorEntry): Float32Array {
  if (entry.dtype === 'F16' || entry.dtype === 'BF16') {
    const words = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    // An empty tensor needs no kernel (nor init()).
    if (words.length === 0) return new Float32Array(0);
    return widenInWasm(entry.dtype === 'F16' ? 'float16ToFloat32Array' : 'bfloat16ToFloat32Array', words);
  }
  const dtypeSize = DTYPE_SIZES[entry.dtype];
  const count = (entry.end - entry.begin) / dtypeSize;
  if (entry.dtype === 'F32' && LITTLE_ENDIAN_HOST) {
    // The common case as one byte copy: a JS loop over a large weight runs interpreted in a cold process (ms).
    const start = view.byteOffset + dataStart + entry.begin;
    return new Float32Array(new Uint8Array(view.buffer, start, count * 4).slice().buffer);
  }
  const values = new Float32Array(count);
  const bits = new Uint32Array(values.buffer);
  let offset = dataStart + entry.begin;
  for (let i = 0; i < count; i++, offset += dtypeSize) {
    switch (entry.dtype) {
      case 'F32':
        bits[i] = view.getUint32(offset, true);
        break;
      case 'F64':
        values[i] = Math.fround(view.getFloat64(offset, true));
        break;
      case 'I8':
        values[i] = view.getInt8(offset);
        break;
    }
  }
  return values;
}

/** Whether this host stores floats little-endian, as safetensors does (every engine we run on; checked, not assumed). */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const halfScratch = new Uint32Array(1);
const halfScratchFloat = new Float32Array(halfScratch.buffer);

/**
 * The number that IEEE half-precision `bits` (a uint16) encode, exactly: for importers that meet float16 data
 * (TF.js quantized weights, ONNX FLOAT16 tensors).
 */
export function float16ToFloat32(bits: number): number {
  halfScratch[0] = float16ToFloat32Bits(bits);
  return halfScratchFloat[0];
}

/** Converts IEEE half-precision bits to single-precision bits (exact: every half value is a float32). */
function float16ToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0x1f) return sign | 0x7f800000 | (fraction << 13); // Inf, or NaN keeping its payload
  if (exponent !== 0) return sign | ((exponent - 15 + 127) << 23) | (fraction << 13);
  if (fraction === 0) return sign; // ±0
  // Subnormal: fraction × 2^-24. Its top set bit becomes the implicit leading 1 of a normal float32.
  const topBit = 31 - Math.clz32(fraction);
  return sign | ((topBit - 24 + 127) << 23) | ((fraction << (23 - topBit)) & 0x7fffff);
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The writer's `dtypes`: an object of tensor names present in `tensors` → 'F32' | 'I8'. */
function checkDtypes(dtypes: unknown, tensors: Record<string, unknown>): Record<string, 'F32' | 'I8'> {
  if (!isPlainObject(dtypes)) throw new ArgumentError(`serializeSafetensors: dtypes must be an object of tensor names → 'F32' | 'I8', got ${describeValue(dtypes)}`);
  for (const [name, dtype] of Object.entries(dtypes)) {
    if (!Object.hasOwn(tensors, name)) throw new ArgumentError(`serializeSafetensors: dtypes names ${JSON.stringify(name)}, which is not among the tensors`);
    if (dtype !== 'F32' && dtype !== 'I8') throw new ArgumentError(`serializeSafetensors: dtypes[${JSON.stringify(name)}] must be 'F32' or 'I8', got ${describeValue(dtype)}`);
  }
  return dtypes as Record<string, 'F32' | 'I8'>;
}

function checkTensorArgument(name: string, value: unknown): asserts value is Tensor {
  if (name === '' || name === METADATA_KEY) {
    throw new ArgumentError(`serializeSafetensors: tensor names must be non-empty and not "${METADATA_KEY}", got ${JSON.stringify(name)}`);
  }
  checkWellFormed(name, 'tensor name');
  if (!(value instanceof Tensor)) {
    throw new ArgumentError(`serializeSafetensors: tensor ${JSON.stringify(name)} must be a Tensor, got ${describeValue(value)}`);
  }
}

function checkMetadataArgument(metadata: unknown): Record<string, string> {
  if (!isPlainObject(metadata)) {
    throw new ArgumentError(`serializeSafetensors: metadata must be an object of strings, got ${describeValue(metadata)}`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new ArgumentError(`serializeSafetensors: metadata values must be strings, got ${describeValue(value)} for key ${JSON.stringify(key)}`);
    }
    checkWellFormed(key, 'metadata key');
    checkWellFormed(value, `metadata value of ${JSON.stringify(key)}`);
  }
  return metadata as Record<string, string>;
}

/** A lone UTF-16 surrogate cannot be encoded as UTF-8; TextEncoder would silently replace it with U+FFFD. */
function checkWellFormed(text: string, what: string): void {
  if (/\p{Surrogate}/u.test(text)) {
    throw new ArgumentError(`serializeSafetensors: ${what} ${JSON.stringify(text)} contains a lone UTF-16 surrogate`);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A `{...}` object: not null, an array, a Map or another built-in (works across realms, unlike a prototype check). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Object]';
}

/** Orders strings by Unicode code point, which is the byte order of their UTF-8 encodings (as Rust sorts them). */
function compareByCodePoint(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = left[i].codePointAt(0)! - right[i].codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(preview(value));
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${value}`;
  if (typeof value === 'object') return value.constructor && value.constructor !== Object ? `a ${value.constructor.name}` : 'an object';
  return typeof value;
}

function preview(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
