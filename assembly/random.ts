// Seeded uniform initialization (mulberry32, the same sequence as bindings/random.ts), in Wasm so that
// constructing a large model does not wait for cold JavaScript.

/** Fills dst[n] with (u·2 − 1)·bound for successive mulberry32 draws u ∈ [0, 1) from `state`; returns the new state. */
export function fillUniform(dst: usize /* [n] */, n: i32, bound: f64, state: u32): u32 {
  for (let i = 0; i < n; i++) {
    state += 0x6d2b79f5;
    let t = state;
    t = (t ^ (t >>> 15)) * (t | 1);
    t ^= t + (t ^ (t >>> 7)) * (t | 61);
    const u = <f64>(t ^ (t >>> 14)) / 4294967296.0;
    store<f32>(dst + (<usize>i << 2), <f32>((u * 2 - 1) * bound));
  }
  return state;
}
