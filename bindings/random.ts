// Seeded pseudo-random numbers for initialization and shuffling (mulberry32): reproducible like torch.manual_seed.
// assembly/random.ts draws the same sequence from the same state.

import { kernels } from './runtime.js';

let state = 0x9e3779b9;

/**
 * Seeds the generator used for default parameter initialization, the dropout of recurrent modules and fit's
 * shuffling (like torch.manual_seed; the sequences differ from PyTorch's, but repeat for a seed).
 */
export function manualSeed(seed: number): void {
  state = seed >>> 0;
}

/** The mulberry32 output for a state: a uniform float in [0, 1). */
function draw(t: number): number {
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A uniform float in [0, 1) from the generator that manualSeed() seeds. */
export function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  return draw(state);
}

/** An independent seeded generator of uniform floats in [0, 1) (the same mulberry32 sequence for a seed). */
export function seededRandom(seed: number): () => number {
  let own = seed >>> 0;
  return () => {
    own = (own + 0x6d2b79f5) >>> 0;
    return draw(own);
  };
}

/** The step mulberry32 adds to its state per draw (assembly/random.ts adds the same). */
const STATE_STEP = 0x6d2b79f5;

/** Fills `count` floats of linear memory at `ptr` with uniform values in [-bound, bound), in Wasm. */
export function fillUniformAt(ptr: number, count: number, bound: number): void {
  state = kernels().fillUniform(ptr, count, bound, state) >>> 0;
}

/**
 * Takes the next `count` draws of the generator without making them: returns the state they start from (for
 * fillUniformFrom) and advances the generator past them, as `count` draws would (each adds STATE_STEP, mod 2³²).
 */
export function reserveDraws(count: number): number {
  const start = state;
  state = (start + Math.imul(count, STATE_STEP)) >>> 0;
  return start;
}

/**
 * Makes draws taken by reserveDraws: fills `count` floats at `ptr` as fillUniformAt would have from generator
 * state `from`, and returns the state after them (where the next reserved draws start).
 */
export function fillUniformFrom(ptr: number, count: number, bound: number, from: number): number {
  return kernels().fillUniform(ptr, count, bound, from) >>> 0;
}
