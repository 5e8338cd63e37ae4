// Child process of test/soak.test.ts (run with --expose-gc): a long run whose memory must stay flat — 10⁶ stream steps,
// 10⁴ forwards of changing shapes, 10⁴ models created and forgotten (freed by the FinalizationRegistry) — printing
// the Wasm heap in use, linear memory and the JS heap before and after each phase as JSON lines.
// Usage: node --expose-gc soak.mjs <baseline|relaxed>

import { GRU, LSTM, backendInfo, init, manualSeed, tensor } from '../../dist/index.js';

await init({ simd: process.argv[2] });
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const measure = () => ({ heapBytes: backendInfo().heapBytes, heapBlocks: backendInfo().heapBlocks, memoryBytes: backendInfo().memoryBytes, jsHeap: process.memoryUsage().heapUsed });
const report = (phase, before, extra = {}) => process.stdout.write(`${JSON.stringify({ phase, before, after: measure(), ...extra })}\n`);

manualSeed(5);
const model = new LSTM({ inputSize: 4, hiddenSize: 16, numLayers: 2 });
const x = new Float32Array(4).fill(0.1);

// 10⁶ stream steps (batch 1): a stream preallocates; nothing may grow.
let stream = model.stream();
stream.step(tensor(x, [1, 4]));
await settle();
let before = measure();
let last;
for (let i = 1; i < 1_000_000; i++) last = stream.step(tensor(x, [1, 4]));
stream.dispose();
await settle();
report('1e6 stream steps', before, { finite: last.data.every(Number.isFinite) });

// 10⁴ forwards of changing shapes (T, B from 1 to 40): the arena grows to the largest, then is reused.
const gru = new GRU({ inputSize: 3, hiddenSize: 8, bidirectional: true });
gru.forward(tensor(new Float32Array(40 * 40 * 3).fill(0.5), [40, 40, 3]));
await settle();
before = measure();
for (let i = 0; i < 10_000; i++) {
  const T = 1 + (i * 7) % 40, B = 1 + (i * 13) % 40;
  gru.forward(tensor(new Float32Array(T * B * 3).fill(0.5), [T, B, 3]), { lengths: Array.from({ length: B }, (_, b) => 1 + ((b + i) % T)) });
}
await settle();
report('1e4 forwards of changing shapes', before);

// 10⁴ models created, used once and forgotten: the finalizer frees them.
before = measure();
for (let i = 0; i < 10_000; i++) new LSTM({ inputSize: 4, hiddenSize: 8 }).forward(tensor(x, [1, 1, 4]));
await settle();
await settle();
report('1e4 forgotten models', before);
gru.dispose();
model.dispose();
