// Seeded pseudo-random numbers for initialization and shuffling (mulberry32): reproducible like torch.manual_seed.
// assembly/random.ts draws the same sequence from the same state.

import { kernels } from './runtime.js';

let state = 0x9e3779b9;

/** Seeds the generator used for default parameter initialization. */
export function manualSeed(seed: number): void {
  state = seed >>> 0;
}

/** A uniform float in [0, 1). */
export function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Fills `count` floats of linear memory at `ptr` with uniform values in [-bound, bound), in Wasm. */
export function fillUniformAt(ptr: number, count: number, bound: number): void {
  state = kernels().fillUniform(ptr, count, bound, state) >>> 0;
}
