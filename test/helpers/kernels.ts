// Test helper: the raw Wasm core of the build under test (dist/looptree-$LOOPTREE_SIMD.wasm), instantiated
// directly, with typed exports and helpers that move arrays in and out of linear memory.
// Pointers are byte offsets; every read and write re-derives its view from memory.buffer (alloc may grow it).

import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { CoreExports } from '../../bindings/generated/core.js';

/** Every export of assembly/index.ts, typed from the build's generated declarations. Pointers are plain numbers; `0` is null. */
export type Core = CoreExports;

/** LOOPTREE_SIMD as given (undefined when missing: expectRequestedBuild() then fails). */
const requestedBuild = process.env.LOOPTREE_SIMD;

function instantiate(build: string): Core {
  const path = new URL(`../../dist/looptree-${build}.wasm`, import.meta.url).pathname;
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(readFileSync(path));
  } catch (error) {
    throw new Error(`cannot compile ${path}: ${(error as Error).message} ` +
      '(run `npm run build`; the relaxed build needs node --experimental-wasm-relaxed-simd on Node 20)');
  }
  const instance = new WebAssembly.Instance(module, { env: { abort() { throw new Error('abort'); }, now: () => performance.now() } });
  return instance.exports as unknown as Core;
}

export const core = instantiate(requestedBuild ?? 'baseline');

/** Fails unless LOOPTREE_SIMD names a build and that build is the one loaded (a missing env never skips). */
export function expectRequestedBuild(): void {
  expect(['baseline', 'relaxed'], 'LOOPTREE_SIMD').toContain(requestedBuild);
  expect(core.simdFlavor(), 'simdFlavor() of the loaded build').toBe(requestedBuild === 'relaxed' ? 1 : 0);
}

/** Allocates room for `count` 4-byte values (16-byte aligned), every float set to `fill`. */
export function allocF32(count: number, fill = 0): number {
  const ptr = core.alloc(Math.max(16, count * 4));
  if (ptr === 0) throw new Error(`alloc(${count * 4}) failed`);
  new Float32Array(core.memory.buffer, ptr, count).fill(fill);
  return ptr;
}

/** Allocates and fills a block with `values` as float32; returns its pointer. */
export function writeF32(values: ArrayLike<number>): number {
  const ptr = allocF32(values.length);
  new Float32Array(core.memory.buffer, ptr, values.length).set(values);
  return ptr;
}

/** Allocates and fills a block with `values` as int32; returns its pointer. */
export function writeI32(values: ArrayLike<number>): number {
  const ptr = allocF32(values.length);
  new Int32Array(core.memory.buffer, ptr, values.length).set(values);
  return ptr;
}

/** A copy of `count` floats at `ptr`. */
export function readF32(ptr: number, count: number): Float32Array {
  return new Float32Array(core.memory.buffer, ptr, count).slice();
}

/** Frees blocks from allocF32 / writeF32 / writeI32; 0 is ignored. */
export function free(...ptrs: number[]): void {
  for (const ptr of ptrs) if (ptr !== 0) core.release(ptr);
}

/** A copy of all of linear memory, to find stray writes with strayWrites(). */
export function snapshotMemory(): Uint8Array {
  return new Uint8Array(core.memory.buffer).slice();
}

/** Byte offsets that changed since `snapshot`, outside the `allowed` [ptr, ptr + bytes) ranges. */
export function strayWrites(snapshot: Uint8Array, allowed: Array<[ptr: number, bytes: number]>): number[] {
  const now = new Uint8Array(core.memory.buffer);
  const changed: number[] = [];
  for (let i = 0; i < snapshot.length; i++) {
    if (now[i] !== snapshot[i] && !allowed.some(([ptr, bytes]) => i >= ptr && i < ptr + bytes)) changed.push(i);
  }
  return changed;
}
