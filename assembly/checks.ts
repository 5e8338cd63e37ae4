// Input checks run in Wasm, where they cost little even before the engine has tiered up: the index of
// the first non-finite float of an array (the NaN/±Infinity policy of state dicts and weight files).
// Scalar reference: the tail loop below; test/kernels/checks.test.ts checks both against Number.isFinite.

/** Index of the first NaN or ±Infinity among `n` floats at `src`, or −1 when all are finite. */
export function firstNonFinite(src: usize /* [n] */, n: i32): i32 {
  let i = 0;
  // x − x is 0 for every finite x and NaN for NaN and ±Infinity; NaN ≠ NaN flags the lane.
  for (; i + 16 <= n; i += 16) {
    const at = src + (<usize>i << 2);
    const a = v128.load(at), b = v128.load(at, 16), c = v128.load(at, 32), d = v128.load(at, 48);
    const da = f32x4.sub(a, a), db = f32x4.sub(b, b), dc = f32x4.sub(c, c), dd = f32x4.sub(d, d);
    const bad = v128.or(v128.or(f32x4.ne(da, da), f32x4.ne(db, db)), v128.or(f32x4.ne(dc, dc), f32x4.ne(dd, dd)));
    if (v128.any_true(bad)) break; // the scalar loop finds the exact index
  }
  for (; i < n; i++) {
    const x = load<f32>(src + (<usize>i << 2));
    if (x - x != 0) return i; // NaN − NaN and ∞ − ∞ are NaN, and NaN != 0
  }
  return -1;
}
