// Test helper: seeded pseudo-random test data (looptree's mulberry32), so every run sees the same values.

import { seededRandom } from '../../dist/index.js';

export { seededRandom };

/** `count` float32 values uniform in [-scale, scale). */
export function uniformArray(random: () => number, count: number, scale = 1): Float32Array {
  return Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
}
