// Threads, looptree alone: 1 vs 2 threads of the threads build in one process with no peer, alternating 1, 2, 1, 2
// (the min of each pair of medians), on the workloads of bench/spec.mjs (the same models and cases as npm run bench).
// `--phases` adds, for W8, the time of each part of a training step (LSTM forward, Linear + loss, backward, Adam);
// `--batch1=64,128,256` times the batch-1 forward per step at those hidden sizes instead (every call split: what
// bindings/nn/recurrent.ts's batchOneWorthThreads threshold was chosen from), of RNN, LSTM and GRU or the `--cells`
// named, input size `--input` (64), `--steps` T (100).
// Usage: node bench/threads.mjs [auto|baseline|relaxed] [--only=W2,W5] [--phases] [--batch1=64,128,256 [--cells=RNN,GRU]
//        [--input=64] [--steps=100]]

import { parseArgs } from 'node:util';
import * as lt from '../dist/index.js';
import { prepareLooptree } from './looptree-runner.mjs';
import { ALL_WORKLOADS, makeCase } from './spec.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    only: { type: 'string', default: 'W1,W2,W3,W4,W5,W6,W8' }, phases: { type: 'boolean', default: false }, batch1: { type: 'string' },
    cells: { type: 'string', default: 'RNN,LSTM,GRU' }, input: { type: 'string', default: '64' }, steps: { type: 'string', default: '100' },
  },
});
await lt.init({ simd: positionals[0] ?? 'auto', threads: 2 });
await lt.threadsReady();
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

/** { 1: ms, 2: ms }: `run` at 1 and 2 threads (setNumThreads), alternating twice, median of `samples` each time. */
function oneVsTwo(run, { samples = 9, everyCall = false, reduce = median } = {}) {
  const times = { 1: [], 2: [] };
  for (const n of [1, 2, 1, 2]) {
    lt.setNumThreads(n, { everyCall });
    for (let i = 0; i < 3; i++) run();
    const t = [];
    for (let i = 0; i < samples; i++) {
      const start = performance.now();
      run();
      t.push(performance.now() - start);
    }
    times[n].push(reduce(t));
  }
  return { 1: Math.min(...times[1]), 2: Math.min(...times[2]) };
}

// W8's step (bench/looptree-runner.mjs looptreeTrain) cut into its parts, each timed at 1 and 2 threads: the median of 9
// steps of the time spent in each part.
function trainPhases() {
  const w = ALL_WORKLOADS.find((x) => x.id === 'W8');
  const c = makeCase(w);
  const lstm = new lt.LSTM({ inputSize: w.I, hiddenSize: w.H });
  lstm.loadStateDict(c.stateDict);
  const linear = new lt.Linear({ inFeatures: w.H, outFeatures: w.classes });
  linear.loadStateDict(c.linear);
  const optimizer = new lt.Adam([...lstm.parameters(), ...linear.parameters()], { lr: w.lr });
  const x = lt.tensor(c.x, [w.T, w.B, w.I]);
  const names = ['zeroGrad', 'LSTM forward', 'Linear forward', 'cross-entropy', 'Linear backward', 'LSTM backward', 'Adam step'];
  const result = {};
  for (const n of [1, 2, 1, 2]) {
    lt.setNumThreads(n);
    const samples = names.map(() => []);
    for (let i = 0; i < 12; i++) {
      const marks = [performance.now()];
      optimizer.zeroGrad(); marks.push(performance.now());
      const { output } = lstm.forward(x, { train: true }); marks.push(performance.now());
      const logits = linear.forward(new lt.Tensor(output.data, [w.T * w.B, w.H]), { train: true }); marks.push(performance.now());
      const { grad } = lt.crossEntropy(logits, c.labels); marks.push(performance.now());
      const dOutput = linear.backward(grad); marks.push(performance.now());
      lstm.backward({ output: new lt.Tensor(dOutput.data, [w.T, w.B, w.H]) }); marks.push(performance.now());
      optimizer.step(); marks.push(performance.now());
      if (i >= 3) names.forEach((_, k) => samples[k].push(marks[k + 1] - marks[k]));
    }
    names.forEach((name, k) => ((result[name] ??= { 1: [], 2: [] })[n].push(median(samples[k]))));
  }
  return names.map((name) => `  W8 ${name}: ${Math.min(...result[name][1]).toFixed(2)} → ${Math.min(...result[name][2]).toFixed(2)} ms`);
}

const lines = [];
if (args.batch1) {
  const random = lt.seededRandom(1);
  const values = (n) => Float32Array.from({ length: n }, () => random() - 0.5);
  const T = Number(args.steps), I = Number(args.input);
  const warm = new lt.LSTM({ inputSize: I, hiddenSize: 128 }), warmX = lt.tensor(values(T * I), [T, 1, I]);
  // 1.5 s of forwards at 1 and 2 threads first, so that no case is timed before V8 tiers the core up.
  for (const n of [1, 2]) {
    lt.setNumThreads(n, { everyCall: true });
    for (const start = performance.now(); performance.now() - start < 750;) warm.forward(warmX);
  }
  warm.dispose();
  for (const cell of args.cells.split(',')) {
    for (const H of args.batch1.split(',').map(Number)) {
      const model = new lt[cell]({ inputSize: I, hiddenSize: H });
      const x = lt.tensor(values(T * I), [T, 1, I]);
      // The minimum of 40: on a shared 2-vCPU machine one descheduled thread costs a futex wait at a step's barrier.
      const ms = oneVsTwo(() => model.forward(x), { samples: 40, everyCall: true, reduce: (t) => Math.min(...t) });
      lines.push(`${cell} I ${I} H ${H} T ${T} batch 1: ${(ms[1] * 1e3 / T).toFixed(2)} → ${(ms[2] * 1e3 / T).toFixed(2)} µs a step (${(ms[1] / ms[2]).toFixed(2)}×)`);
      model.dispose();
    }
  }
} else {
  for (const w of ALL_WORKLOADS.filter((x) => args.only.split(',').includes(x.id))) {
    const prepared = prepareLooptree(lt, w, makeCase(w));
    const ms = oneVsTwo(prepared.run);
    lines.push(`${w.id} ${w.title}: 1 thread ${ms[1].toFixed(2)} ms, 2 threads ${ms[2].toFixed(2)} ms (${(ms[1] / ms[2]).toFixed(2)}×)`);
    prepared.dispose?.();
  }
  if (args.phases) lines.push(...trainPhases());
}
console.log(`${lt.backendInfo().simd} build, Node ${process.versions.node}\n${lines.join('\n')}`);
process.exit(0);
