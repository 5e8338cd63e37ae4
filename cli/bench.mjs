// `looptree bench`: this machine's Wasm SIMD peak and the workloads W1–W8 (bench/spec.mjs) on looptree alone, in
// each SIMD build the engine runs, as GFLOP/s and % of the peak. Shares the workload table, the runner adapters,
// the peak loop and the timing with the repository's `npm run bench` (bench/), which also times the peers.
// Each build runs in a child process of its own (init() loads one build per process); Node 20 gets the relaxed
// build through --experimental-wasm-relaxed-simd.

import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { prepareLooptree } from '../bench/looptree-runner.mjs';
import { hasRelaxedSimd, measureSimdPeak, peakRunner } from '../bench/simd-peak.mjs';
import { ALL_WORKLOADS, flops, makeCase } from '../bench/spec.mjs';
import { median, time, timingSettings } from '../bench/timing.mjs';
import { UsageError, markdownTable, progressLine } from './usage.mjs';

const BUILDS = ['baseline', 'relaxed'];
/** Set in the child processes, one per build, whose stdout is that build's results as JSON. */
const CHILD_ENV = 'LOOPTREE_BENCH_BUILD';

export const BENCH = {
  summary: 'time the workloads W1–W8 in each Wasm SIMD build: GFLOP/s and % of this machine\'s SIMD peak',
  usage: '[--quick] [--json] [--build baseline|relaxed|both]',
  positionals: [0, 0],
  options: {
    quick: { type: 'boolean', description: 'fewer, shorter runs (about 10 s a build)' },
    json: { type: 'boolean', description: 'print the results as JSON instead of a table' },
    build: { type: 'string', valueName: 'build', default: 'both', description: 'baseline, relaxed or both (default)' },
  },
  details: 'The workloads are those of DESIGN §9 (LSTM, GRU, RNN, bidirectional, Tree-LSTM, a streaming step, a training step),\n' +
    'on seeded weights. "of peak": GFLOP/s over the SIMD peak of the same build timed in the same rounds.\n' +
    'The repository\'s `npm run bench` times the same workloads against onnxruntime, TF.js and brain.js.',
  run: runBench,
};

async function runBench({ quick, json, build }) {
  if (!['baseline', 'relaxed', 'both'].includes(build)) throw new UsageError(`--build must be baseline, relaxed or both, got "${build}"`);
  if (process.env[CHILD_ENV]) {
    process.stdout.write(`${JSON.stringify(await benchBuild(process.env[CHILD_ENV], quick))}\n`);
    return;
  }
  const results = [];
  for (const simd of build === 'both' ? BUILDS : [build]) results.push(await benchInChild(simd, quick));
  const doc = {
    looptree: __VERSION__,
    node: process.version,
    machine: { cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length, os: `${os.type()} ${os.release()} ${os.arch()}` },
    quick: Boolean(quick),
    repetitions: timingSettings({ quick }).repetitions,
    builds: results,
  };
  console.log(json ? JSON.stringify(doc, null, 1) : report(doc));
}

/** Runs `looptree bench` for one build in a child process (with the V8 flag relaxed SIMD needs on Node 20). */
function benchInChild(simd, quick) {
  const flags = ['--expose-gc', ...(simd === 'relaxed' && !hasRelaxedSimd() ? ['--experimental-wasm-relaxed-simd'] : [])];
  const args = [...flags, fileURLToPath(import.meta.url), 'bench', ...(quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, [CHILD_ENV]: simd } });
    let stdout = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout));
      else if (simd === 'relaxed') resolve({ build: simd, unavailable: `this engine did not run it (node ${flags.join(' ')} exited with ${code})` });
      else reject(new Error(`the ${simd} build's run exited with ${code}`));
    });
  });
}

/** Times every workload with the given build in this process; each beside the build's peak loop, in the same rounds. */
async function benchBuild(simd, quick) {
  if (simd === 'relaxed' && !hasRelaxedSimd()) return { build: simd, unavailable: 'this engine has no relaxed SIMD' };
  const lt = await import('../bindings/index.js');
  await lt.init({ simd });
  const settings = timingSettings({ quick });
  const progress = progressLine();
  progress.update(`${simd} build: measuring the Wasm SIMD peak…`);
  const peakAtStart = measureSimdPeak({ quick: true })[simd];
  const peakLoop = peakRunner(simd, { ms: quick ? 5 : 20 });
  const workloads = [];
  for (const w of ALL_WORKLOADS.filter((x) => !x.pending)) {
    progress.update(`${simd} build: ${w.id} ${w.title}…`);
    const prepared = prepareLooptree(lt, w, makeCase(w));
    checkFinite(w, prepared.output);
    const entries = [{ prepared }, { prepared: { run: peakLoop.run } }];
    await time(entries, settings);
    prepared.dispose();
    const gflop = flops(w) / 1e9;
    const ms = median(entries[0].samples);
    const peakDuring = peakLoop.flops / median(entries[1].samples) / 1e6;
    workloads.push({ id: w.id, title: w.title, gflop, ms, gflops: (gflop / ms) * 1e3, peakDuring, fractionOfPeak: (gflop / ms) * 1e3 / peakDuring });
  }
  progress.done();
  return { build: simd, peakAtStart, workloads };
}

/** A workload whose first output holds NaN or ±Infinity is a broken build, not a timing. */
function checkFinite(w, output) {
  const parts = ArrayBuffer.isView(output) ? [output] : Object.values(output);
  if (parts.some((part) => part.some((x) => !Number.isFinite(x)))) throw new Error(`${w.id}: the output is not finite`);
}

const formatMs = (ms) => (ms >= 100 ? String(Math.round(ms)) : ms.toPrecision(3));

function report(doc) {
  const builds = doc.builds;
  const header = ['workload', 'GFLOP', ...builds.flatMap((b) => [`${b.build} ms`, 'GFLOP/s', 'of peak'])];
  const rows = ALL_WORKLOADS.filter((w) => !w.pending).map((w) => [
    `${w.id} ${w.title}`,
    (flops(w) / 1e9).toPrecision(3),
    ...builds.flatMap((b) => {
      const r = b.workloads?.find((x) => x.id === w.id);
      return r ? [formatMs(r.ms), r.gflops.toFixed(1), `${Math.round(100 * r.fractionOfPeak)}%`] : ['n/a', '', ''];
    }),
  ]);
  const loop = { baseline: 'f32x4 mul+add', relaxed: 'relaxed madd' };
  const peak = `Wasm SIMD peak (1 core, best at the start): ${builds.map((b) => `${b.build} (${loop[b.build]}) ${b.peakAtStart ? `${b.peakAtStart.toFixed(1)} GFLOP/s` : 'not run'}`).join('; ')}`;
  return [
    `looptree ${doc.looptree} on Node ${doc.node.slice(1)}, ${doc.machine.cpu}, 1 thread; median of ${doc.repetitions} runs${doc.quick ? ' (--quick)' : ''}`,
    peak,
    '',
    markdownTable(header, rows),
    '',
    '"of peak": GFLOP/s over the peak of the same build timed in the same rounds as the workload (the machine\'s speed drifts).',
    'W8 times one training step (forward, backward through time, Adam); the others a forward pass.',
    ...builds.filter((b) => b.unavailable).map((b) => `${b.build} build: not run (${b.unavailable}).`),
  ].join('\n');
}
