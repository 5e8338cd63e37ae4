// Test helper: seeded pseudo-random test data (mulberry32), so every run sees the same values.

/** A generator of uniform floats in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` float32 values uniform in [-scale, scale). */
export function uniformArray(random: () => number, count: number, scale = 1): Float32Array {
  return Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
}
