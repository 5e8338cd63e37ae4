// A/B timing of one built dist/ against another, looptree alone: medians (ms) of W1, W2, W3 forward and W2 forward +
// backward, after 1.5 s of warm-up each. Run the two builds alternately, pinned to one vCPU, e.g.:
//   for i in 1 2 3; do for d in /path/to/old/dist ./dist; do taskset -c 1 node bench/ab.mjs $d baseline; done; done
// (a second checkout of an older commit: `git worktree add ../old <commit>`, then `npm run build` there).
// Usage: node bench/ab.mjs <dist dir> [auto|baseline|relaxed]

import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = path.resolve(process.argv[2] ?? 'dist');
const lt = await import(pathToFileURL(path.join(dist, 'index.js')).href);
// One thread, the single-thread build, wherever the dist has threads (setNumThreads): a single-thread A/B anywhere.
await lt.init({ simd: process.argv[3] ?? 'auto', ...('setNumThreads' in lt ? { threads: 1 } : {}) });
const random = lt.seededRandom(1);
const values = (n) => Float32Array.from({ length: n }, () => random() - 0.5);
const cases = {
  W1: () => { const m = new lt.LSTM({ inputSize: 64, hiddenSize: 128 }); const x = lt.tensor(values(100 * 64), [100, 1, 64]); return () => m.forward(x); },
  W2: () => { const m = new lt.LSTM({ inputSize: 128, hiddenSize: 256 }); const x = lt.tensor(values(50 * 32 * 128), [50, 32, 128]); return () => m.forward(x); },
  W3: () => { const m = new lt.GRU({ inputSize: 128, hiddenSize: 256 }); const x = lt.tensor(values(50 * 32 * 128), [50, 32, 128]); return () => m.forward(x); },
  W2train: () => {
    const m = new lt.LSTM({ inputSize: 128, hiddenSize: 256 });
    const x = lt.tensor(values(50 * 32 * 128), [50, 32, 128]), dy = lt.tensor(values(50 * 32 * 256), [50, 32, 256]);
    return () => { m.forward(x, { train: true }); m.backward({ output: dy }); };
  },
};
const medians = {};
for (const [name, make] of Object.entries(cases)) {
  const run = make();
  const warm = performance.now();
  while (performance.now() - warm < 1500) run();
  const samples = [];
  for (let i = 0; i < 15; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  medians[name] = +samples.sort((a, b) => a - b)[7].toFixed(3);
}
console.log(JSON.stringify(medians));
