// Seeded pseudo-random numbers for parameter initialization (mulberry32): reproducible like torch.manual_seed.

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

/** Fills `out` with uniform values in [-bound, bound). */
export function fillUniform(out: Float32Array, bound: number): void {
  for (let i = 0; i < out.length; i++) out[i] = (random() * 2 - 1) * bound;
}
