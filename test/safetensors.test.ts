// Tests of the safetensors reader/writer: torch fixtures, dtype conversion, round trips, every error case, fuzzing.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, it, expect } from 'vitest';
import { seededRandom } from './helpers/random.js';
import {
  ArgumentError, SafetensorsError, Tensor, init, parseSafetensors, readSafetensorsHeader, readSafetensorsMetadata, serializeSafetensors, tensor,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { decode16, encode16 } from './reference/dtypes.js';

// F16 and BF16 are widened and narrowed in Wasm.
beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

const FIXTURE_NAMES = ['lstm_l2_bidir_bf', 'gru_l2_bidir_h0_bf', 'lstm_proj_l2_bidir_bf'];

function readFixture(file: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./fixtures/torch/${file}`, import.meta.url)));
}

/** A safetensors file from a header (object or raw text, not padded) and raw data bytes. */
function rawFile(header: object | string, data: ArrayLike<number> = []): Uint8Array {
  const headerBytes = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  return withLengthPrefix(headerBytes.length, [...headerBytes, ...Array.from(data)]);
}

/** 8-byte little-endian length, then the given bytes (the length need not match them). */
function withLengthPrefix(headerLength: number | bigint, rest: ArrayLike<number>): Uint8Array {
  const file = new Uint8Array(8 + rest.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerLength), true);
  file.set(Array.from(rest), 8);
  return file;
}

/** Little-endian bytes of 16-bit words. */
function u16Bytes(words: readonly number[]): number[] {
  return words.flatMap((word) => [word & 0xff, word >> 8]);
}

function f64Bytes(values: readonly number[]): number[] {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((value, i) => view.setFloat64(i * 8, value, true));
  return [...new Uint8Array(view.buffer)];
}

function f32Bytes(values: readonly number[]): number[] {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return [...new Uint8Array(view.buffer)];
}

function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

/** Parses a one-tensor file holding `data` as `dtype` and returns the float32 values. */
function decodeSingle(dtype: string, count: number, data: number[]): Float32Array {
  const file = rawFile({ t: { dtype, shape: [count], data_offsets: [0, data.length] } }, data);
  return parseSafetensors(file).t.data;
}

function expectSafetensorsError(run: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  const error = caught as SafetensorsError;
  expect(error.code).toBe('ERR_SAFETENSORS');
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}

function expectArgumentError(run: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ArgumentError);
  expect((caught as ArgumentError).code).toBe('ERR_ARGUMENT');
  for (const fragment of fragments) expect((caught as Error).message).toContain(fragment);
}


describe('parseSafetensors on the torch fixtures', () => {
  for (const name of FIXTURE_NAMES) {
    it(`${name}.safetensors holds exactly the params of ${name}.json`, () => {
      const parsed = parseSafetensors(readFixture(`${name}.safetensors`));
      const json = JSON.parse(new TextDecoder().decode(readFixture(`${name}.json`)));
      const params = json.params as Record<string, { shape: number[]; data: number[] }>;

      expect(Object.keys(parsed).sort()).toEqual(Object.keys(params).sort());
      for (const [key, expected] of Object.entries(params)) {
        expect(parsed[key]).toBeInstanceOf(Tensor);
        expect(parsed[key].shape, key).toEqual(expected.shape);
        expect(bitsOf(parsed[key].data), key).toEqual(bitsOf(Float32Array.from(expected.data, Math.fround)));
      }
    });

    it(`${name}.safetensors metadata names its fixture`, () => {
      const metadata = readSafetensorsMetadata(readFixture(`${name}.safetensors`));
      expect(metadata.format).toBe('pt');
      expect(metadata.fixture).toBe(`${name}.json`);
      expect(metadata.source).toContain('torch 1.13.1');
    });
  }

  it('reads a file given as a subarray with a nonzero, unaligned byteOffset', () => {
    const file = readFixture('gru_l2_bidir_h0_bf.safetensors');
    const backing = new Uint8Array(file.length + 8).fill(0xee);
    backing.set(file, 3);
    const view = backing.subarray(3, 3 + file.length);
    expect(view.byteOffset).toBe(3);
    const fromView = parseSafetensors(view);
    const direct = parseSafetensors(file);
    for (const key of Object.keys(direct)) expect(bitsOf(fromView[key].data)).toEqual(bitsOf(direct[key].data));
  });

  it('returns tensors that own their data (not views on the input)', () => {
    const file = readFixture('lstm_l2_bidir_bf.safetensors');
    const parsed = parseSafetensors(file);
    const before = parsed.weight_ih_l0.data[0];
    file.fill(0);
    expect(parsed.weight_ih_l0.data[0]).toBe(before);
    expect(parsed.weight_ih_l0.data.buffer).not.toBe(file.buffer);
  });
});

describe('dtype conversion to float32', () => {
  it('I8: two\'s complement bytes to their integers', () => {
    expect(Array.from(decodeSingle('I8', 5, [0, 1, 0x7f, 0x80, 0xff]))).toEqual([0, 1, 127, -128, -1]);
  });

  it('the writer stores the tensors named in dtypes as I8 (integers in [−128, 127]) and reads them back', () => {
    const file = serializeSafetensors({ q: tensor([[-128, 0], [5, 127]]), s: tensor([0.5, 0.25]) }, { dtypes: { q: 'I8' } });
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + Number(new DataView(file.buffer).getBigUint64(0, true)))));
    expect(header.q).toEqual({ dtype: 'I8', shape: [2, 2], data_offsets: [0, 4] });
    expect(header.s).toEqual({ dtype: 'F32', shape: [2], data_offsets: [4, 12] });
    const parsed = parseSafetensors(file);
    expect(Array.from(parsed.q.data)).toEqual([-128, 0, 5, 127]);
    expect(Array.from(parsed.s.data)).toEqual([0.5, 0.25]);
    expect(() => serializeSafetensors({ q: tensor([0.5]) }, { dtypes: { q: 'I8' } })).toThrow(/integers in \[−128, 127\], got 0.5 at index 0/);
    expect(() => serializeSafetensors({ q: tensor([200]) }, { dtypes: { q: 'I8' } })).toThrow(ArgumentError);
    expect(() => serializeSafetensors({ q: tensor([1]) }, { dtypes: { r: 'I8' } })).toThrow(/"r", which is not among the tensors/);
    expect(() => serializeSafetensors({ q: tensor([1]) }, { dtypes: { q: 'I4' as never } })).toThrow(/must be 'F32' or 'I8'/);
    expect(() => serializeSafetensors({ q: tensor([1]) }, { dtype: {} } as never)).toThrow(/dtype/);
  });

  it('dtypes wins over dtype: I8 codes beside F16 tensors in one file', () => {
    const file = serializeSafetensors({ q: tensor([-7, 127]), w: tensor([0.1, -3]) }, { dtype: 'f16', dtypes: { q: 'I8' } });
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + Number(new DataView(file.buffer).getBigUint64(0, true)))));
    expect(header.q).toEqual({ dtype: 'I8', shape: [2], data_offsets: [0, 2] });
    expect(header.w).toEqual({ dtype: 'F16', shape: [2], data_offsets: [2, 6] });
    const parsed = parseSafetensors(file);
    expect(Array.from(parsed.q.data)).toEqual([-7, 127]);
    // 0.1 as half: 0x2E66 = 1638 / 16384 · 2^-3 … = 0.0999755859375 (nearest even); −3 exact.
    expect(Array.from(parsed.w.data)).toEqual([0.0999755859375, -3]);
  });

  it('F16: hand-computed values, subnormals, infinities and NaN', () => {
    const cases: [number, number][] = [
      [0x3c00, 1.0],
      [0xc100, -2.5],
      [0x7bff, 65504],
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0400, 2 ** -14], // smallest normal
      [0x3555, 0.333251953125],
      [0x0000, 0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const values = decodeSingle('F16', cases.length + 2, u16Bytes([...cases.map(([bits]) => bits), 0x7e00, 0x8000]));
    cases.forEach(([bits, expected], i) => expect(values[i], `0x${bits.toString(16)}`).toBe(expected));
    expect(Number.isNaN(values[cases.length])).toBe(true);
    expect(Object.is(values[cases.length + 1], -0)).toBe(true);
  });

  it('F16: all 65536 bit patterns match a numeric reference', () => {
    const reference = (half: number): number => {
      const sign = half & 0x8000 ? -1 : 1;
      const exponent = (half >> 10) & 0x1f;
      const fraction = half & 0x3ff;
      if (exponent === 0) return sign * fraction * 2 ** -24;
      if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
      return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
    };
    const allHalves = Array.from({ length: 65536 }, (_, half) => half);
    const values = decodeSingle('F16', 65536, u16Bytes(allHalves));
    const mismatches = allHalves.filter((half) => !Object.is(values[half], reference(half)));
    expect(mismatches).toEqual([]);
  });

  it('F16: NaN keeps its sign and payload bits', () => {
    const values = decodeSingle('F16', 2, u16Bytes([0x7e01, 0xfd00]));
    expect(bitsOf(values)).toEqual([0x7fc02000, 0xffa00000]);
  });

  it('BF16: the upper half of the float32 bits', () => {
    const cases: [number, number][] = [
      [0x3f80, 1.0],
      [0xc000, -2.0],
      [0x4049, 3.140625],
      [0x7f7f, 3.3895313892515355e38], // largest finite
      [0x0001, 2 ** -133], // smallest subnormal
      [0x7f80, Infinity],
      [0xff80, -Infinity],
    ];
    const values = decodeSingle('BF16', cases.length + 1, u16Bytes([...cases.map(([bits]) => bits), 0x7fc0]));
    cases.forEach(([bits, expected], i) => expect(values[i], `0x${bits.toString(16)}`).toBe(expected));
    expect(Number.isNaN(values[cases.length])).toBe(true);
  });

  it('F64: rounded to nearest float32, ties to even, overflow to Infinity', () => {
    const inputs = [1.0, -2.5, 0.1, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 2 ** -149, 1e300, -1e300, 1e-50, -0, NaN];
    const expected = [1.0, -2.5, Math.fround(0.1), 1, 1 + 2 ** -22, 2 ** -149, Infinity, -Infinity, 0, -0, NaN];
    const values = decodeSingle('F64', inputs.length, f64Bytes(inputs));
    expected.forEach((value, i) => expect(Object.is(values[i], value), `input ${inputs[i]}`).toBe(true));
    expect(values[2]).toBe(0.10000000149011612);
  });

  it('mixed dtypes in one file, data starting at an unaligned offset', () => {
    const data = [...f32Bytes([1.5, -3]), ...u16Bytes([0x3c00]), ...u16Bytes([0x3f80]), ...f64Bytes([0.25])];
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F16', shape: [1, 1], data_offsets: [8, 10] },
      c: { dtype: 'BF16', shape: [], data_offsets: [10, 12] },
      d: { dtype: 'F64', shape: [1], data_offsets: [12, 20] },
    };
    const headerText = JSON.stringify(header);
    // Trailing whitespace is valid JSON: an odd header length puts the data at an odd offset.
    const file = rawFile(headerText.length % 2 === 0 ? `${headerText} ` : headerText, data);
    expect((file.length - data.length) % 2).toBe(1);
    const parsed = parseSafetensors(file);
    expect(Array.from(parsed.a.data)).toEqual([1.5, -3]);
    expect(parsed.b.shape).toEqual([1, 1]);
    expect(Array.from(parsed.b.data)).toEqual([1]);
    expect(parsed.c.shape).toEqual([]);
    expect(Array.from(parsed.c.data)).toEqual([1]);
    expect(Array.from(parsed.d.data)).toEqual([0.25]);
  });

  it('accepts zero-size tensors, tensors in any header order, and a file without tensors', () => {
    const file = rawFile(
      {
        late: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        empty: { dtype: 'F16', shape: [0, 5], data_offsets: [4, 4] },
        early: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      },
      f32Bytes([7, 8]),
    );
    const parsed = parseSafetensors(file);
    expect(parsed.early.data[0]).toBe(7);
    expect(parsed.late.data[0]).toBe(8);
    expect(parsed.empty.shape).toEqual([0, 5]);
    expect(parsed.empty.data.length).toBe(0);
    expect(parseSafetensors(rawFile({}))).toEqual({});
    expect(readSafetensorsMetadata(rawFile({}))).toEqual({});
  });

  it('keeps a tensor named __proto__ as an ordinary key', () => {
    const parsed = parseSafetensors(rawFile('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32Bytes([2])));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(parsed['__proto__'].data[0]).toBe(2);
  });
});

describe('serializeSafetensors', () => {
  it('round trips through parseSafetensors bit for bit, including a NaN payload', () => {
    const nanWithPayload = new Float32Array(new Uint32Array([0x7fc00001, 0xff800000]).buffer);
    const tensors = {
      weight: tensor([[1, -2, 3.5], [1e-40, 65504.5, -0]]),
      scalar: tensor(0.1),
      empty: new Tensor(new Float32Array(0), [0, 3]),
      odd: new Tensor(nanWithPayload, [2]),
    };
    const parsed = parseSafetensors(serializeSafetensors(tensors));
    expect(Object.keys(parsed).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, original] of Object.entries(tensors)) {
      expect(parsed[name].shape, name).toEqual(original.shape);
      expect(bitsOf(parsed[name].data), name).toEqual(bitsOf(original.data));
    }
  });

  it('round trips metadata, and writes none when none is given', () => {
    const metadata = { format: 'pt', note: 'ünïcödé ✓ 😀', empty: '' };
    const file = serializeSafetensors({ x: tensor([1]) }, { metadata });
    expect(readSafetensorsMetadata(file)).toEqual(metadata);
    const withoutMetadata = serializeSafetensors({ x: tensor([1]) });
    expect(readSafetensorsMetadata(withoutMetadata)).toEqual({});
    expect(new TextDecoder().decode(withoutMetadata)).not.toContain('__metadata__');
  });

  it('pads the header with spaces to a multiple of 8 bytes', () => {
    for (let nameLength = 1; nameLength <= 16; nameLength++) {
      const file = serializeSafetensors({ ['n'.repeat(nameLength)]: tensor([1, 2]) });
      const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
      expect(headerLength % 8).toBe(0);
      const header = new TextDecoder().decode(file.subarray(8, 8 + headerLength));
      expect(header).toMatch(/^\{.*\} *$/);
      expect(header.trimEnd().length).toBeGreaterThan(headerLength - 8);
      expect(file.length).toBe(8 + headerLength + 8);
    }
    const emptyFile = serializeSafetensors({});
    expect(Array.from(emptyFile)).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{}      ')]);
  });

  it('writes the expected bytes for a tiny file', () => {
    const file = serializeSafetensors({ x: tensor([1, -2]), b: tensor(0.5) }, { metadata: { k: 'v' } });
    const header =
      '{"__metadata__":{"k":"v"},' +
      '"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(header.length).toBe(132);
    const expected = [
      136, 0, 0, 0, 0, 0, 0, 0, // header length 132 + 4 spaces of padding, u64 little-endian
      ...new TextEncoder().encode(header),
      0x20, 0x20, 0x20, 0x20,
      0x00, 0x00, 0x00, 0x3f, // b = 0.5
      0x00, 0x00, 0x80, 0x3f, // x[0] = 1
      0x00, 0x00, 0x00, 0xc0, // x[1] = -2
    ];
    expect(Array.from(file)).toEqual(expected);
  });

  it('orders tensors by code point (UTF-8 byte order), as the Python safetensors package does', () => {
    const names = ['b', '\u{1F600}', 'a', '\uFFFD', 'B', 'a0'];
    const file = serializeSafetensors(Object.fromEntries(names.map((name, i) => [name, tensor([i])])));
    const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength)));
    expect(Object.keys(header)).toEqual(['B', 'a', 'a0', 'b', '\uFFFD', '\u{1F600}']);
    expect(Object.values(header).map((info) => (info as { data_offsets: number[] }).data_offsets[0])).toEqual([0, 4, 8, 12, 16, 20]);
    const parsed = parseSafetensors(file);
    names.forEach((name, i) => expect(parsed[name].data[0]).toBe(i));
  });

  it('rejects bad names, non-Tensor values and bad metadata with ArgumentError', () => {
    expectArgumentError(() => serializeSafetensors({ '': tensor([1]) }), 'non-empty', '""');
    expectArgumentError(() => serializeSafetensors({ __metadata__: tensor([1]) }), '"__metadata__"');
    expectArgumentError(() => serializeSafetensors({ w: { shape: [1], data: [1] } as unknown as Tensor }), '"w"', 'must be a Tensor', 'an object');
    expectArgumentError(() => serializeSafetensors({ w: [1, 2] as unknown as Tensor }), '"w"', 'an array of length 2');
    expectArgumentError(() => serializeSafetensors({ ['bad\uD800']: tensor([1]) }), 'lone UTF-16 surrogate');
    expectArgumentError(() => serializeSafetensors(null as unknown as Record<string, Tensor>), 'got null');
    expectArgumentError(() => serializeSafetensors(new Map([['w', tensor([1])]]) as unknown as Record<string, Tensor>), 'got a Map');
    expectArgumentError(() => serializeSafetensors({}, { metadata: { n: 3 } as unknown as Record<string, string> }), '"n"', 'number 3');
    expectArgumentError(() => serializeSafetensors({}, { metadata: 'pt' as unknown as Record<string, string> }), 'metadata must be an object');
  });
});

describe('serializeSafetensors({ dtype })', () => {
  /** The header entries of a file written by serializeSafetensors. */
  const headerOf = (file: Uint8Array): Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> => {
    const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
    return JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length)));
  };
  const random = seededRandom(2026);
  const values = Float32Array.from({ length: 1000 }, (_, i) => (random() * 2 - 1) * 2 ** ((i % 40) - 30));
  values.set([0, -0, 65504, 65519.99609375, 65520, -1e6, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 1e-45, Infinity, NaN], 0);

  for (const [dtype, header, format] of [['f16', 'F16', 'f16'], ['bf16', 'BF16', 'bf16']] as const) {
    it(`${dtype}: 2 bytes a value, and parsing gives back each value rounded to nearest even (float64 reference)`, () => {
      const file = serializeSafetensors({ w: new Tensor(values, [10, 100]), b: tensor([1.5, -2]) }, { dtype });
      const entries = headerOf(file);
      expect(entries.w).toEqual({ dtype: header, shape: [10, 100], data_offsets: [4, 2004] });
      expect(entries.b).toEqual({ dtype: header, shape: [2], data_offsets: [0, 4] });
      const parsed = parseSafetensors(file);
      expect(parsed.w.shape).toEqual([10, 100]);
      for (let i = 0; i < values.length; i++) {
        const expected = Number.isNaN(values[i]) ? NaN : decode16(format, encode16(format, values[i])!);
        if (!Object.is(parsed.w.data[i], expected)) expect(parsed.w.data[i], `value ${values[i]}`).toBe(expected);
      }
      expect(Array.from(parsed.b.data)).toEqual([1.5, -2]);
    });
  }

  it('f16: overflow to ±Infinity at 65520 (65504 + half an ulp), not before', () => {
    const parsed = parseSafetensors(serializeSafetensors({ x: tensor([65519.99, 65520, -65520, 1e30]) }, { dtype: 'f16' }));
    expect(Array.from(parsed.x.data)).toEqual([65504, Infinity, -Infinity, Infinity]);
  });

  it("f32 is the default, bit for bit, and { dtype: 'f32' } writes the same bytes", () => {
    const tensors = { w: new Tensor(values, [1000]) };
    expect(headerOf(serializeSafetensors(tensors)).w.dtype).toBe('F32');
    expect(serializeSafetensors(tensors, { dtype: 'f32' })).toEqual(serializeSafetensors(tensors));
  });

  it('round trips through a file on disk: save f16 → read → the f16-rounded originals', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'looptree-f16-'));
    try {
      const original = parseSafetensors(readFixture('lstm_l2_bidir_bf.safetensors'));
      const file = path.join(dir, 'model.f16.safetensors');
      writeFileSync(file, serializeSafetensors(original, { dtype: 'f16' }));
      const loaded = parseSafetensors(new Uint8Array(readFileSync(file)));
      expect(Object.keys(loaded).sort()).toEqual(Object.keys(original).sort());
      for (const [name, { data, shape }] of Object.entries(original)) {
        expect(loaded[name].shape).toEqual(shape);
        const expected = Array.from(data, (x) => decode16('f16', encode16('f16', x)!));
        expect(Array.from(loaded[name].data), name).toEqual(expected);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown options (did-you-mean) and unknown dtypes, naming the choices', () => {
    expectArgumentError(() => serializeSafetensors({}, { dtyp: 'f16' } as never), 'dtyp', 'dtype');
    expectArgumentError(() => serializeSafetensors({}, { dtype: 'fp16' } as never), 'dtype', "'f32'", "'f16'", "'bf16'", 'fp16');
    expectArgumentError(() => serializeSafetensors({}, { format: 'pt' } as never), 'format');
  });
});

describe('readSafetensorsHeader', () => {
  it('lists each tensor in file order with its stored dtype and shape, and the metadata, converting nothing', () => {
    const file = serializeSafetensors({ b: tensor([1, 2]), a: tensor([[1], [2], [3]]) }, { dtype: 'bf16', metadata: { k: 'v' } });
    expect(readSafetensorsHeader(file)).toEqual({
      metadata: { k: 'v' },
      tensors: [{ name: 'a', dtype: 'BF16', shape: [3, 1] }, { name: 'b', dtype: 'BF16', shape: [2] }],
    });
    expect(() => readSafetensorsHeader(new Uint8Array(4))).toThrow(SafetensorsError);
  });
});

describe('parseSafetensors errors', () => {
  const tensorHeader = (info: object): object => ({ weight: info });
  const f32 = (shape: number[], data_offsets: number[]): object => ({ weight: { dtype: 'F32', shape, data_offsets } });

  it('rejects a non-Uint8Array argument with ArgumentError', () => {
    expectArgumentError(() => parseSafetensors(new ArrayBuffer(16) as unknown as Uint8Array), 'expected a Uint8Array', 'ArrayBuffer');
    expectArgumentError(() => readSafetensorsMetadata('file' as unknown as Uint8Array), 'expected a Uint8Array', '"file"');
  });

  it('fewer than 8 bytes', () => {
    expectSafetensorsError(() => parseSafetensors(new Uint8Array(5)), 'at least 8 bytes', 'got 5');
    expectSafetensorsError(() => parseSafetensors(new Uint8Array(0)), 'got 0');
  });

  it('header length beyond the remaining bytes', () => {
    expectSafetensorsError(() => parseSafetensors(withLengthPrefix(100, new TextEncoder().encode('{}          '))), 'header length 100', '12 bytes');
  });

  it('absurd header length (over the 4 MiB cap, or a u64 beyond 2^53)', () => {
    expectSafetensorsError(() => parseSafetensors(withLengthPrefix(4 * 1024 * 1024 + 1, [0x7b, 0x7d])), '4194305', 'limit of 4194304');
    expectSafetensorsError(() => parseSafetensors(withLengthPrefix(2n ** 64n - 1n, [0x7b, 0x7d])), '18446744073709551615');
  });

  it('header that is not valid UTF-8', () => {
    expectSafetensorsError(() => parseSafetensors(withLengthPrefix(4, [0x7b, 0xff, 0xfe, 0x7d])), 'not valid UTF-8');
  });

  it('header that is not valid JSON', () => {
    expectSafetensorsError(() => parseSafetensors(rawFile('{"weight": {')), 'not valid JSON', '{"weight": {');
    expectSafetensorsError(() => parseSafetensors(rawFile('')), 'not valid JSON');
    expectSafetensorsError(() => parseSafetensors(rawFile('\uFEFF{}')), 'not valid JSON');
  });

  it('header that is not a JSON object', () => {
    expectSafetensorsError(() => parseSafetensors(rawFile('[1, 2]')), 'must be a JSON object', 'an array of length 2');
    expectSafetensorsError(() => parseSafetensors(rawFile('null')), 'must be a JSON object', 'null');
    expectSafetensorsError(() => parseSafetensors(rawFile('42')), 'must be a JSON object', 'number 42');
  });

  it('__metadata__ that is not a string-to-string map', () => {
    expectSafetensorsError(() => parseSafetensors(rawFile({ __metadata__: { format: 'pt', version: 2 } })), '"__metadata__"', '"version"', 'number 2');
    expectSafetensorsError(() => readSafetensorsMetadata(rawFile({ __metadata__: ['pt'] })), '"__metadata__"', 'an array of length 1');
    expectSafetensorsError(() => readSafetensorsMetadata(rawFile({ __metadata__: 'pt' })), '"__metadata__"', '"pt"');
  });

  it('entry that is not an object, or lacks dtype, shape or data_offsets', () => {
    expectSafetensorsError(() => parseSafetensors(rawFile({ weight: [1] })), '"weight"', 'must be an object');
    expectSafetensorsError(() => parseSafetensors(rawFile(tensorHeader({ shape: [1], data_offsets: [0, 4] }), f32Bytes([1]))), '"weight"', 'no "dtype"');
    expectSafetensorsError(() => parseSafetensors(rawFile(tensorHeader({ dtype: 'F32', data_offsets: [0, 4] }), f32Bytes([1]))), '"weight"', 'no "shape"');
    expectSafetensorsError(() => parseSafetensors(rawFile(tensorHeader({ dtype: 'F32', shape: [1] }), f32Bytes([1]))), '"weight"', 'no "data_offsets"');
  });

  it('unsupported dtype, named with the supported list', () => {
    const file = rawFile(tensorHeader({ dtype: 'I64', shape: [1], data_offsets: [0, 8] }), new Array(8).fill(0));
    expectSafetensorsError(() => parseSafetensors(file), '"weight"', '"I64"', 'F32, F16, BF16, F64');
    expectSafetensorsError(() => parseSafetensors(rawFile(tensorHeader({ dtype: 7, shape: [1], data_offsets: [0, 4] }), [0, 0, 0, 0])), 'number 7');
    expectSafetensorsError(() => parseSafetensors(rawFile(tensorHeader({ dtype: 'f32', shape: [1], data_offsets: [0, 4] }), [0, 0, 0, 0])), '"f32"');
  });

  it('shape that is not an array of non-negative integers', () => {
    for (const shape of [[-1], [1.5], '3', [null], { 0: 1 }]) {
      const file = rawFile(tensorHeader({ dtype: 'F32', shape, data_offsets: [0, 4] }), [0, 0, 0, 0]);
      expectSafetensorsError(() => parseSafetensors(file), '"weight"', `shape ${JSON.stringify(shape)}`, 'non-negative integers');
    }
  });

  it('data_offsets that are not two non-negative integers', () => {
    for (const offsets of [[0], [0, 4, 8], [0.5, 4], [-4, 0], '0,4', [0, 2 ** 60]]) {
      const file = rawFile(tensorHeader({ dtype: 'F32', shape: [1], data_offsets: offsets }), [0, 0, 0, 0]);
      expectSafetensorsError(() => parseSafetensors(file), '"weight"', `data_offsets ${JSON.stringify(offsets)}`, '[begin, end]');
    }
  });

  it('data_offsets with begin > end', () => {
    expectSafetensorsError(() => parseSafetensors(rawFile(f32([0], [8, 4]), new Array(8).fill(0))), '"weight"', '[8, 4]', 'begin <= end');
  });

  it('end beyond the data buffer', () => {
    expectSafetensorsError(() => parseSafetensors(rawFile(f32([3], [0, 12]), f32Bytes([1, 2]))), '"weight"', 'byte 12', '8-byte data buffer');
  });

  it('byte length that does not match shape × dtype size', () => {
    expectSafetensorsError(() => parseSafetensors(rawFile(f32([3], [0, 8]), f32Bytes([1, 2]))), '"weight"', 'needs 12 bytes', 'span 8', 'F32', '[3]');
    const half = rawFile({ h: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 4] } }, [0, 0, 0, 0]);
    expectSafetensorsError(() => parseSafetensors(half), '"h"', 'needs 8 bytes', 'span 4', 'F16');
  });

  it('overlapping tensors', () => {
    const file = rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32Bytes([1, 2, 3]));
    expectSafetensorsError(() => parseSafetensors(file), '"b"', 'overlaps', '"a"', '[0, 8]', '[4, 12]');
    const aliased = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32Bytes([1]));
    expectSafetensorsError(() => parseSafetensors(aliased), '"b"', 'overlaps', '"a"');
  });

  it('holes between or before tensors', () => {
    const gap = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32Bytes([1, 2, 3]));
    expectSafetensorsError(() => parseSafetensors(gap), 'bytes 4 to 8', 'belong to no tensor', '"b"');
    const leading = rawFile(f32([1], [4, 8]), f32Bytes([1, 2]));
    expectSafetensorsError(() => parseSafetensors(leading), 'bytes 0 to 4', '"weight"');
  });

  it('trailing bytes after the last tensor', () => {
    expectSafetensorsError(() => parseSafetensors(rawFile(f32([1], [0, 4]), [...f32Bytes([1]), 9, 9])), '2 trailing bytes', '6 bytes', 'cover 4');
    expectSafetensorsError(() => parseSafetensors(rawFile({}, [1])), '1 trailing bytes');
  });

  it('readSafetensorsMetadata validates the whole header too', () => {
    expectSafetensorsError(() => readSafetensorsMetadata(rawFile({ __metadata__: { a: 'b' }, ...f32([2], [0, 8]) }, f32Bytes([1]))), '"weight"', 'byte 8');
    expectSafetensorsError(() => readSafetensorsMetadata(new Uint8Array(3)), 'at least 8 bytes');
  });
});

describe('fuzzing', () => {
  it('truncated or corrupted files either parse or throw SafetensorsError', () => {
    const mixed = rawFile(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
        c: { dtype: 'F64', shape: [1], data_offsets: [6, 14] },
      },
      [...u16Bytes([0x3c00, 0x7c00]), ...u16Bytes([0x3f80]), ...f64Bytes([0.5])],
    );
    const serialized = serializeSafetensors({ w: tensor([[1, 2], [3, 4]]), b: tensor([5]) }, { metadata: { k: 'v' } });
    const originals = [mixed, serialized];
    const random = seededRandom(20240611);
    const randomInt = (limit: number): number => Math.floor(random() * limit);
    let parsedCount = 0;
    let rejectedCount = 0;

    for (let iteration = 0; iteration < 200; iteration++) {
      const original = originals[iteration % originals.length];
      let bytes = original.slice();
      const headerEnd = 8 + Number(new DataView(original.buffer).getBigUint64(0, true));
      const mutation = randomInt(3);
      if (mutation !== 1) bytes = bytes.slice(0, randomInt(bytes.length + 1));
      if (mutation !== 0) {
        const flips = 1 + randomInt(4);
        for (let flip = 0; flip < flips && bytes.length > 0; flip++) {
          // Half of the flips land in the header, where most of the structure is.
          const position = random() < 0.5 ? randomInt(Math.min(headerEnd, bytes.length)) : randomInt(bytes.length);
          bytes[position] ^= 1 + randomInt(255);
        }
      }
      for (const read of [parseSafetensors, readSafetensorsMetadata]) {
        try {
          const result = read(bytes);
          expect(typeof result).toBe('object');
          parsedCount++;
        } catch (error) {
          expect(error, `iteration ${iteration}: ${String(error)}`).toBeInstanceOf(SafetensorsError);
          rejectedCount++;
        }
      }
    }
    expect(parsedCount + rejectedCount).toBe(400);
    expect(rejectedCount).toBeGreaterThan(0);
    expect(parsedCount).toBeGreaterThan(0);
  });
});
