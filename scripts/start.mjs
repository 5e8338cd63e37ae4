// `npm start`: the main job on built-in data. Loads a bundled PyTorch model (safetensors), checks it
// against PyTorch's output, times workloads W1–W5 and W7 beside this machine's Wasm SIMD peak, then runs
// short versions of the training examples.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LSTM, GRU, RNN, backendInfo, init, parseSafetensors, tensor } from '../dist/index.js';
import { WORKLOADS, flops, makeCase } from '../bench/spec.mjs';
import { measureSimdPeak } from '../bench/simd-peak.mjs';

const quick = process.argv.includes('--quick');
await init();
const info = backendInfo();
console.log(`looptree ${info.version} — ${info.simd} SIMD build, Node ${process.versions.node}\n`);

// 1. A bundled PyTorch model: 2-layer bidirectional LSTM with projection, batch-first.
const fixtureDir = new URL('../test/fixtures/torch/', import.meta.url);
const name = 'lstm_proj_l2_bidir_bf';
const fixture = JSON.parse(readFileSync(new URL(`${name}.json`, fixtureDir), 'utf8'));
const lstm = new LSTM(fixture.config);
lstm.loadStateDict(parseSafetensors(readFileSync(new URL(`${name}.safetensors`, fixtureDir))));
const result = lstm.forward(fixture.inputs.input, { h0: fixture.inputs.h0, c0: fixture.inputs.c0 });
const maxDifference = (actual, expected) => actual.data.reduce((worst, v, i) => Math.max(worst, Math.abs(v - expected.data[i])), 0);
const { inputSize, hiddenSize, numLayers, projSize } = fixture.config;
console.log(`PyTorch check: ${name}.safetensors — LSTM ${inputSize}→${hiddenSize} (proj ${projSize}), ${numLayers} layers, bidirectional, batch-first`);
for (const [key, actual, expected] of [['output', result.output, fixture.outputs.output], ['h', result.h, fixture.outputs.h_n], ['c', result.c, fixture.outputs.c_n]]) {
  console.log(`  ${key.padEnd(6)} ${JSON.stringify(actual.shape).padEnd(12)} max |looptree − PyTorch| = ${maxDifference(actual, expected).toExponential(2)} (tolerance ${fixture.tolerance.atol})`);
}
lstm.dispose();

// 2. This machine's single-core Wasm SIMD peak.
const peak = measureSimdPeak({ quick });
const peakOfBuild = info.simd === 'relaxed' ? peak.relaxed : peak.baseline;
console.log(`\nWasm SIMD peak, one core: ${peak.baseline.toFixed(1)} GFLOP/s f32x4 mul+add` +
  (peak.relaxed ? `, ${peak.relaxed.toFixed(1)} GFLOP/s relaxed madd` : ' (relaxed SIMD not available in this engine)'));

// 3. Workloads of DESIGN §9 (looptree only; `npm run bench` compares every peer).
const modules = { lstm: LSTM, gru: GRU, rnn: RNN };
const runs = quick ? 5 : 15;
console.log(`\n${'workload'.padEnd(38)}${'ms (median)'.padStart(12)}${'GFLOP/s'.padStart(10)}${'% of peak'.padStart(11)}`);
for (const w of WORKLOADS.filter((entry) => !entry.pending)) {
  const module = new modules[w.cell]({ inputSize: w.I, hiddenSize: w.H, numLayers: w.layers, bidirectional: w.bidirectional });
  const data = makeCase(w);
  module.loadStateDict(data.stateDict);
  let run;
  if (w.kind === 'step') {
    const stream = module.stream({ h0: tensor(data.h0, data.stateShape), c0: data.c0 && tensor(data.c0, data.stateShape) });
    const x = tensor(data.x, [w.B, w.I]);
    run = () => stream.step(x);
  } else {
    const x = tensor(data.x, [w.T, w.B, w.I]);
    run = () => module.forward(x);
  }
  // Tiny workloads repeat inside one timing so the clock's resolution does not matter.
  const inner = w.kind === 'step' ? 1000 : w.B === 1 ? 10 : 1;
  for (let i = 0; i < 3; i++) run();
  const times = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    for (let i = 0; i < inner; i++) run();
    times.push((performance.now() - start) / inner);
  }
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1];
  const gflops = flops(w) / ms / 1e6;
  const msText = ms < 0.1 ? ms.toFixed(4) : ms.toFixed(2);
  console.log(`${`${w.id} ${w.title}`.padEnd(38)}${msText.padStart(12)}${gflops.toFixed(1).padStart(10)}${`${(100 * gflops / peakOfBuild).toFixed(0)}%`.padStart(11)}`);
  module.dispose();
}
console.log('\n`npm run bench` runs the same workloads against onnxruntime, TensorFlow.js and brain.js.');

// 4. Short runs of the training examples (`npm run example:<name>` for the full ones).
for (const example of ['sentiment', 'tagging', 'charlm', 'listops']) {
  console.log(`\n--- example: ${example} (quick) ---`);
  execFileSync(process.execPath, [new URL('example.mjs', import.meta.url).pathname, example, '--quick'], { stdio: 'inherit' });
}
