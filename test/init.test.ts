// init(): errors before init, option validation, build selection, idempotence and retry after failure.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InitError, LSTM, backendInfo, init, initSync, parseSafetensors, serializeSafetensors, tensor } from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

const relaxedEngine = simdUnderTest() === 'relaxed'; // the relaxed project runs Node with relaxed SIMD enabled

describe('init', () => {
  it('everything before init throws InitError', () => {
    expect(() => backendInfo()).toThrow(InitError);
    expect(() => new LSTM({ inputSize: 1, hiddenSize: 1 })).toThrow('looptree is not initialized: call `await init()`');
    // Safetensors in float32 is plain JavaScript; F16 and BF16 are converted in Wasm.
    const f32File = serializeSafetensors({ w: tensor([1.5, -2]) });
    expect(Array.from(parseSafetensors(f32File).w.data)).toEqual([1.5, -2]);
    expect(() => serializeSafetensors({ w: tensor([1.5]) }, { dtype: 'f16' })).toThrow(InitError);
    const header = '{"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}';
    const bytes = new Uint8Array(8 + header.length + 2);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    bytes.set([0x00, 0x3c], 8 + header.length); // 1.0 in half
    expect(() => parseSafetensors(bytes)).toThrow('looptree is not initialized: call `await init()`');
  });

  it('validates options and fails cleanly on bad modules, then can be retried', async () => {
    await expect(init({ simd: 'fast' as any })).rejects.toThrow("simd must be 'auto', 'relaxed' or 'baseline', got \"fast\"");
    await expect(init({ module: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]) })).rejects.toThrow(InitError);
    await expect(init({ module: 42 as any })).rejects.toThrow('module must be a WebAssembly.Module or the .wasm bytes');
    expect(() => initSync({} as any)).toThrow('initSync(): opts.module is required');
    const baseline = readFileSync(new URL('../dist/looptree-baseline.wasm', import.meta.url));
    if (relaxedEngine) {
      await expect(init({ module: baseline, simd: 'relaxed' })).rejects.toThrow("simd 'relaxed' was requested but the given module is the baseline build");
    } else {
      await expect(init({ simd: 'relaxed' })).rejects.toThrow('this engine does not support relaxed SIMD');
    }
    expect(() => backendInfo()).toThrow(InitError);
  });

  it("'auto' picks relaxed SIMD exactly where the engine validates it, and init is idempotent", async () => {
    await Promise.all([init(), init()]);
    const info = backendInfo();
    expect(info.simd).toBe(relaxedEngine ? 'relaxed' : 'baseline');
    expect(info.version).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
    expect(info.memoryBytes).toBeGreaterThan(0);
    await init();
    await init({ simd: info.simd });
    const other = info.simd === 'relaxed' ? 'baseline' : 'relaxed';
    await expect(init({ simd: other })).rejects.toThrow(`cannot switch to '${other}' after a successful init`);
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 1 });
    expect(lstm.forward(tensor([1], [1, 1, 1])).output.shape).toEqual([1, 1, 1]);
    lstm.dispose();
  });
});
