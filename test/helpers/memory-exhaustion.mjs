// Child process of test/reliability-memory.test.ts (run with --expose-gc): fills Wasm linear memory to its 4 GiB
// limit and past it, the issue 10 F2 and F4 repros, and prints one JSON report line per step for the test to check.
// A fresh process per run: a full 4 GiB memory never shrinks, and gc() needs the flag.
// Usage: node --expose-gc memory-exhaustion.mjs <baseline|relaxed>

import {
  GRU, LSTM, Linear, RNN, Sequential, backendInfo, init, manualSeed, tensor,
} from '../../dist/index.js';

const simd = process.argv[2];
await init({ simd });

const report = (step, fields) => process.stdout.write(`${JSON.stringify({ step, ...fields })}\n`);
const bits = (t) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
const describeError = (error) => (error === undefined ? { error: null } : {
  error: error.constructor.name, code: error.code ?? null, message: String(error.message).slice(0, 300),
});
const attempt = (run) => {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
};
/** Lets the FinalizationRegistry run: gc, then a turn of the event loop for its callbacks, twice. */
const collect = async () => {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

manualSeed(7);
const victim = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2 });
const x = tensor(Float32Array.from({ length: 5 * 3 * 8 }, (_, i) => Math.sin(i * 0.7)), [5, 3, 8]);
const expected = bits(victim.forward(x).output);
const weights = victim.stateDict();
/** Whether the victim answers bitwise as before and a new model loads its weights and answers the same. */
const victimIntact = () => {
  const same = JSON.stringify(bits(victim.forward(x).output)) === JSON.stringify(expected);
  const fresh = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2 });
  fresh.loadStateDict(weights);
  const freshSame = JSON.stringify(bits(fresh.forward(x).output)) === JSON.stringify(expected);
  fresh.dispose();
  return same && freshSame;
};
const level = () => ({ heapBytes: backendInfo().heapBytes, heapBlocks: backendInfo().heapBlocks, memoryBytes: backendInfo().memoryBytes });
const base = level();
report('start', { ...base, intact: victimIntact() });

// F2: a module whose construction fails, caught, then a garbage collection (was: RuntimeError in freeBytes from
// FinalizationRegistry, exit 1). LSTM(4, 12000) fails at its first block; GRU(1, 9000, resetAfter: false) at its second
// (its parameters, 972 MB, are allocated and zeroed; its packed weights with W_hn, 1.3 GB, are refused): the half-built
// module is unreachable and its finalizer frees the first block.
for (const [label, build] of [
  ['LSTM(4, 12000)', () => new LSTM({ inputSize: 4, hiddenSize: 12000 })],
  ['half-built GRU(1, 9000, resetAfter: false)', () => new GRU({ inputSize: 1, hiddenSize: 9000, resetAfter: false })],
  ['Linear(5, 1e20)', () => new Linear({ inFeatures: 5, outFeatures: 1e20 })],
]) {
  // The error is dropped before collecting: V8 keeps a stack trace's receivers (the half-built module) until then.
  const described = describeError(attempt(build));
  await collect();
  report('failed construction', { label, ...described, ...level(), intact: victimIntact() });
}

// F4: memory filled to its limit by streams (≈ 0.9 GB blocks, memory doubles to 4 GiB), then small models until one
// does not fit: each refusal is an OutOfMemoryError, the last model built works, the victim is intact.
const filler = new RNN({ inputSize: 1, hiddenSize: 1024 });
const streams = [];
let streamError;
while (streamError === undefined && streams.length < 8) {
  streamError = attempt(() => streams.push(filler.stream({ batch: 25_000 })));
}
report('streams until full', { streams: streams.length, ...describeError(streamError), ...level(), intact: victimIntact() });
const models = [];
let modelError;
while (modelError === undefined && models.length < 20_000) {
  modelError = attempt(() => models.push(new LSTM({ inputSize: 64, hiddenSize: 128 })));
}
const lastWorks = models.length > 0
  && models.at(-1).forward(tensor(new Float32Array(2 * 64).fill(0.25), [2, 1, 64])).output.data.every(Number.isFinite);
report('models until full', { models: models.length, ...describeError(modelError), lastWorks, ...level(), intact: victimIntact() });
// A forward whose arena cannot grow any more, and a training forward's tape.
const forwardError = attempt(() => victim.forward(tensor(new Float32Array(200_000 * 8), [200_000, 1, 8])));
report('forward in full memory', { ...describeError(forwardError), ...level(), intact: victimIntact() });
const sequentialError = attempt(() => {
  const small = new Sequential([new LSTM({ inputSize: 4, hiddenSize: 8, batchFirst: true })]);
  const saved = small.save();
  small.dispose();
  const config = { ...saved.config, layers: [{ ...saved.config.layers[0], hiddenSize: 3000 }] };
  Sequential.load({ config, weights: saved.weights });
});
report('Sequential.load in full memory', { ...describeError(sequentialError), ...level(), intact: victimIntact() });

// Everything disposed (streams, models) or forgotten (half of the models, to the finalizer): back to the start level,
// then the freed memory is reused — a new 0.9 GB stream and thousands of models fit without memory growing.
for (const stream of streams) stream.dispose();
models.forEach((model, i) => {
  if (i % 2 === 0) model.dispose();
});
models.length = 0;
filler.dispose();
await collect();
const afterFree = level();
const reused = attempt(() => {
  const again = new RNN({ inputSize: 1, hiddenSize: 1024 });
  const stream = again.stream({ batch: 25_000 });
  const many = Array.from({ length: 2000 }, () => new LSTM({ inputSize: 64, hiddenSize: 128 }));
  for (const model of many) model.dispose();
  stream.dispose();
  again.dispose();
});
report('after freeing', { ...afterFree, ...describeError(reused), after: level(), intact: victimIntact() });
victim.dispose();
report('end', level());
