// Threads, looptree alone: 1 vs 2 threads of the threads build on W2, W3, W4 (forward), medians of 9 after warm-up, in a process
// with no peer (npm run bench --threads runs the peers' worker threads beside looptree's). Usage: node bench/threads.mjs [auto|baseline|relaxed]

import * as lt from '../dist/index.js';
await lt.init({ simd: process.argv[2] ?? 'auto', threads: 2 });
await lt.threadsReady();
const r = lt.seededRandom(1), vals = (n) => Float32Array.from({ length: n }, () => r() - 0.5);
const cases = {
  W2: [new lt.LSTM({ inputSize: 128, hiddenSize: 256 }), [50, 32, 128]],
  W3: [new lt.GRU({ inputSize: 128, hiddenSize: 256 }), [50, 32, 128]],
  W4: [new lt.LSTM({ inputSize: 64, hiddenSize: 128, numLayers: 2, bidirectional: true }), [64, 8, 64]],
};
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const out = {};
for (const [id, [m, shape]] of Object.entries(cases)) {
  const x = lt.tensor(vals(shape.reduce((a, b) => a * b)), shape);
  for (const n of [1, 2, 1, 2]) {
    lt.setNumThreads(n);
    for (let i = 0; i < 5; i++) m.forward(x);
    const t = [];
    for (let i = 0; i < 9; i++) { const s = performance.now(); m.forward(x); t.push(performance.now() - s); }
    (out[`${id} ${n}t`] ??= []).push(+med(t).toFixed(2));
  }
}
console.log(lt.backendInfo().simd, JSON.stringify(out));
process.exit(0);
