// The weight-file number formats of assembly/dtypes.ts against their float64 definitions (test/reference/dtypes.ts):
// widening over all 65,536 half and bfloat16 bit patterns; narrowing of every representable value, of every midpoint
// between neighbours and the float32 values either side of it (ties to even, both signs), of the overflow threshold
// and of random float32 bit patterns (normals, subnormals, NaN payloads); and narrowing against PyTorch's own
// .half() / .bfloat16() of 4,014 values (test/fixtures/dtypes, scripts/gen-dtype-fixture.py).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../helpers/random.js';
import { core, expectRequestedBuild, free } from '../helpers/kernels.js';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from '../reference/dtypes.js';

type Kernel = (dst: number, src: number, n: number) => void;

/** Runs a widening kernel on 16-bit patterns; returns the float32 results' bits. */
function widen(kernel: Kernel, patterns: Uint16Array): Uint32Array {
  const src = core.alloc(Math.max(16, patterns.length * 2));
  const dst = core.alloc(Math.max(16, patterns.length * 4));
  try {
    new Uint16Array(core.memory.buffer, src, patterns.length).set(patterns);
    kernel(dst, src, patterns.length);
    return new Uint32Array(core.memory.buffer, dst, patterns.length).slice();
  } finally {
    free(src, dst);
  }
}

/** Runs a narrowing kernel on float32 bit patterns; returns the 16-bit results. */
function narrow(kernel: Kernel, bits: Uint32Array): Uint16Array {
  const src = core.alloc(Math.max(16, bits.length * 4));
  const dst = core.alloc(Math.max(16, bits.length * 2));
  try {
    new Uint32Array(core.memory.buffer, src, bits.length).set(bits);
    kernel(dst, src, bits.length);
    return new Uint16Array(core.memory.buffer, dst, bits.length).slice();
  } finally {
    free(src, dst);
  }
}

const floatOfBits = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0];
const bitsOfFloat = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];
const hex = (n: number): string => `0x${n.toString(16)}`;
const ALL_PATTERNS = Uint16Array.from({ length: 65536 }, (_, i) => i);

const FORMATS = {
  f16: {
    widenKernel: () => core.float16ToFloat32Array, narrowKernel: () => core.float32ToFloat16Array,
    decode: float16ToFloat32, encode: float32ToFloat16, infinity: 0x7c00, fractionBits: 10,
    // NaN widened: the payload moves to the top of float32's fraction. Narrowed: the payload's top 10 bits, quiet bit set.
    widenedNaN: (half: number) => (((half & 0x8000) << 16) | 0x7f800000 | ((half & 0x3ff) << 13)) >>> 0,
    narrowedNaN: (bits: number) => ((bits >>> 16) & 0x8000) | 0x7e00 | ((bits >>> 13) & 0x3ff),
  },
  bf16: {
    widenKernel: () => core.bfloat16ToFloat32Array, narrowKernel: () => core.float32ToBfloat16Array,
    decode: bfloat16ToFloat32, encode: float32ToBfloat16, infinity: 0x7f80, fractionBits: 7,
    widenedNaN: (bf: number) => bf << 16 >>> 0,
    narrowedNaN: (bits: number) => (bits >>> 16) | 0x40,
  },
} as const;

describe('number formats of weight files (assembly/dtypes.ts)', () => {
  it('runs the requested build', () => expectRequestedBuild());

  for (const [name, format] of Object.entries(FORMATS)) {
    const isNaNPattern = (bits: number) => (bits & 0x7fff) > format.infinity;

    it(`${name} → f32 is exact for all 65,536 bit patterns; NaN keeps sign and payload`, () => {
      const widened = widen(format.widenKernel(), ALL_PATTERNS);
      let nans = 0;
      for (let bits = 0; bits < 65536; bits++) {
        if (isNaNPattern(bits)) {
          nans++;
          expect(hex(widened[bits]), `NaN ${hex(bits)}`).toBe(hex(format.widenedNaN(bits)));
        } else {
          const expected = format.decode(bits);
          if (!Object.is(floatOfBits(widened[bits]), expected)) expect(floatOfBits(widened[bits]), `pattern ${hex(bits)}`).toBe(expected);
        }
      }
      expect(nans).toBe(2 * (0x8000 - format.infinity - 1));
    });

    it(`f32 → ${name} gives back all 65,536 bit patterns (NaN made quiet)`, () => {
      const widened = widen(format.widenKernel(), ALL_PATTERNS);
      const narrowed = narrow(format.narrowKernel(), widened);
      for (let bits = 0; bits < 65536; bits++) {
        const expected = isNaNPattern(bits) ? format.narrowedNaN(widened[bits]) : bits;
        if (narrowed[bits] !== expected) expect(hex(narrowed[bits]), `pattern ${hex(bits)}`).toBe(hex(expected));
      }
    });

    it(`f32 → ${name} rounds every midpoint to even and its float32 neighbours to the nearer side, ±Infinity past the largest`, () => {
      const inputs: number[] = [];
      for (let bits = 0; bits < format.infinity; bits++) {
        // The midpoint between `bits` and the next value (for the largest finite value: the overflow threshold).
        const next = bits + 1 === format.infinity ? 2 * format.decode(bits) - format.decode(bits - 1) : format.decode(bits + 1);
        const midpoint = (format.decode(bits) + next) / 2;
        expect(Math.fround(midpoint), `midpoint after ${hex(bits)} is a float32`).toBe(midpoint);
        const midBits = bitsOfFloat(midpoint);
        for (const candidate of [midBits - 1, midBits, midBits + 1]) inputs.push(candidate, (candidate | 0x80000000) >>> 0);
      }
      const extremes = [3.4028234663852886e38, Infinity, 65519.99609375, 65520, 1e-45, 2 ** -25, 2 ** -25 + 2 ** -40, 2 ** -126, 2 ** -149 * 3];
      for (const x of extremes) inputs.push(bitsOfFloat(x), bitsOfFloat(-x));
      const bits = Uint32Array.from(inputs);
      const narrowed = narrow(format.narrowKernel(), bits);
      for (let i = 0; i < bits.length; i++) {
        const expected = format.encode(floatOfBits(bits[i]))!;
        if (narrowed[i] !== expected) expect(hex(narrowed[i]), `float32 ${floatOfBits(bits[i])} (${hex(bits[i])})`).toBe(hex(expected));
      }
    });

    it(`f32 → ${name} matches the reference on 200,000 random float32 bit patterns`, () => {
      const random = seededRandom(name === 'f16' ? 16 : 17);
      // Exponents spread over all of float32's range, and a share near the format's own range.
      const bits = Uint32Array.from({ length: 200_000 }, (_, i) => {
        const word = Math.floor(random() * 2 ** 32) >>> 0;
        if (i % 2) return word;
        const exponent = 127 + Math.floor(random() * 48) - 30; // 2^-30 … 2^17
        return ((word & 0x807fffff) | (exponent << 23)) >>> 0;
      });
      const narrowed = narrow(format.narrowKernel(), bits);
      for (let i = 0; i < bits.length; i++) {
        const x = floatOfBits(bits[i]);
        const expected = Number.isNaN(x) ? format.narrowedNaN(bits[i]) : format.encode(x)!;
        if (narrowed[i] !== expected) expect(hex(narrowed[i]), `float32 ${x} (${hex(bits[i])})`).toBe(hex(expected));
      }
    });
  }

  it("narrows as PyTorch's .half() and .bfloat16() do (4,014 values: random bit patterns, every scale, half's edges)", () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/dtypes/torch-rounding.json', import.meta.url), 'utf8')) as {
      float32_bits: number[]; f16_bits: number[]; bf16_bits: number[];
    };
    const bits = Uint32Array.from(fixture.float32_bits);
    expect(bits.length).toBe(4014);
    expect(Array.from(narrow(core.float32ToFloat16Array, bits))).toEqual(fixture.f16_bits);
    expect(Array.from(narrow(core.float32ToBfloat16Array, bits))).toEqual(fixture.bf16_bits);
  });
});
