// Benchmarks looptree against its peers inside this engine: checks every output against looptree's, times the workloads round-robin, prints the tables and writes bench/results/node<major>.json.
// Usage: node bench/workloads.mjs [--quick] [--only=W1,W7] [--threads=2|1]   (bench/run.mjs runs it once per engine)
// The 2-thread runners (looptree, onnxruntime-web) run by default, each workload in a process of their own right after
// this process timed the 1-thread runners (bench/own-process.mjs): their worker threads in this process slowed every
// 1-thread column (onnxruntime-node W2 7.5 → 41.8 ms). --threads=1 leaves them out.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RUNNERS, packageVersion } from './peers.mjs';
import { timeInOwnProcess } from './own-process.mjs';
import { cpusForThreads, describePinning, pinToQuietestCpu } from './pin.mjs';
import { measureSimdPeak, peakRunner } from './simd-peak.mjs';
import { ALL_WORKLOADS as WORKLOADS, flops, makeCase } from './spec.mjs';
import { median, time, timingSettings } from './timing.mjs';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, threads: { type: 'string', default: '2' } },
});
if (!['1', '2'].includes(args.threads)) throw new Error(`--threads must be 1 or 2, not ${args.threads}`);
// Timed in this process: the 1-thread runners. Each in a process of its own: the others.
const RUNNERS_HERE = RUNNERS.filter((runner) => (runner.threads ?? 1) === 1);
const RUNNERS_APART = args.threads === '1' ? [] : RUNNERS.filter((runner) => (runner.threads ?? 1) > 1);
const RUNNERS_IN_USE = [...RUNNERS_HERE, ...RUNNERS_APART];
const QUICK = args.quick;
const TIMING = timingSettings({ quick: QUICK });
const REPETITIONS = TIMING.repetitions;
const TOLERANCE = 1e-3;
const RESULTS_DIR = path.join(import.meta.dirname, 'results');

const progress = (...parts) => console.error(...parts); // stdout carries only the tables

// ---- measuring ----

function maxAbsDiff(a, b) {
  if (!b || a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

// Max |output − reference|: outputs are Float32Arrays, or records of named ones (W6: the roots' h and c;
// W8: loss, parameters, gradients), compared part by part; `parts` gives each part's max.
function compare(reference, output) {
  if (ArrayBuffer.isView(reference)) return { maxDiff: maxAbsDiff(reference, output) };
  const parts = Object.fromEntries(Object.keys(reference).map((k) => [k, maxAbsDiff(reference[k], output?.[k])]));
  return { maxDiff: Math.max(...Object.values(parts)), parts };
}

const formatParts = (parts) => (parts ? ` (${Object.entries(parts).map(([k, d]) => `${k} ${d.toExponential(1)}`).join(', ')})` : '');

async function loadRunners() {
  const loaded = [];
  for (const runner of RUNNERS_HERE) {
    try {
      loaded.push({ runner, lib: await runner.load() });
    } catch (error) {
      progress(`${runner.name}: unavailable (${error.message})`);
      loaded.push({ runner, unavailable: error.message });
    }
  }
  return loaded;
}

// The SIMD peak of looptree's build, timed in the rounds of every workload like one more runner: the
// host's speed drifts by 10–40% over minutes, so "of peak" divides looptree's median by the peak's median
// over the same rounds (the peak measured once at the start is printed too).
async function runWorkload(w, runners, peakLoop) {
  const pinning = pinToQuietestCpu();
  progress(`${w.id}: ${describePinning(pinning)}`);
  const gflop = flops(w) / 1e9;
  const results = {};
  const entries = [];
  let reference;
  const c = makeCase(w);
  // { status, maxDiff?, parts? } of a runner's first output against the workload's reference (the first output checked).
  const checkOutput = (runner, output) => {
    const result = { status: 'ok' };
    if (runner.compares === false) {
      Object.assign(result, { status: 'not compared', note: runner.note });
    } else if (!reference) {
      reference = { name: runner.name, output };
    } else {
      Object.assign(result, compare(reference.output, output));
      if (!(result.maxDiff <= (runner.tolerance ?? TOLERANCE))) result.status = 'mismatch';
    }
    const verdict = result.maxDiff === undefined
      ? (reference?.name === runner.name ? 'reference output' : result.status)
      : `max |Δ| ${result.maxDiff.toExponential(1)}${formatParts(result.parts)} vs ${reference.name}${result.status === 'mismatch' ? ' MISMATCH' : ''}`;
    progress(`${w.id} ${runner.name}: ${verdict}`);
    return result;
  };
  for (const { runner, lib, unavailable } of runners) {
    const notApplicable = runner.notApplicable?.(w);
    if (notApplicable) {
      progress(`${w.id} ${runner.name}: not applicable (${notApplicable})`);
      results[runner.name] = { status: 'n/a', note: notApplicable };
      continue;
    }
    if (unavailable) {
      results[runner.name] = { status: 'unavailable', note: unavailable };
      continue;
    }
    let prepared;
    try {
      prepared = await runner.prepare(lib, w, c, runner.offline?.(w, c));
    } catch (error) {
      progress(`${w.id} ${runner.name}: failed (${error.message})`);
      results[runner.name] = { status: 'failed', note: error.message };
      continue;
    }
    const result = checkOutput(runner, prepared.output);
    results[runner.name] = result;
    entries.push({ name: runner.name, prepared });
  }
  const peakEntry = { name: 'SIMD peak', prepared: { run: peakLoop.run } };
  await time([...entries, peakEntry], TIMING);
  const timed = (name, samples) => {
    const ms = median(samples);
    Object.assign(results[name], { ms, gflops: gflop / ms * 1e3, samples });
  };
  for (const e of entries) {
    timed(e.name, e.samples);
    e.prepared.dispose?.();
  }
  const peakDuring = peakLoop.flops / median(peakEntry.samples) / 1e6;
  if (results.looptree?.ms) results.looptree.fractionOfPeak = results.looptree.gflops / peakDuring;
  // The multi-thread runners, one process each, on every CPU, while this process waits.
  for (const runner of RUNNERS_APART) {
    const notApplicable = runner.notApplicable?.(w);
    if (notApplicable) {
      progress(`${w.id} ${runner.name}: not applicable (${notApplicable})`);
      results[runner.name] = { status: 'n/a', note: notApplicable };
      continue;
    }
    const answer = await timeInOwnProcess(runner, w, TIMING, cpusForThreads(runner.threads));
    if (answer.unavailable || answer.failed) {
      progress(`${w.id} ${runner.name}: ${answer.unavailable ? 'unavailable' : 'failed'} (${answer.unavailable ?? answer.failed})`);
      results[runner.name] = { status: answer.unavailable ? 'unavailable' : 'failed', note: answer.unavailable ?? answer.failed };
      unavailableApart.set(runner.name, answer.unavailable);
      continue;
    }
    results[runner.name] = checkOutput(runner, answer.output);
    timed(runner.name, answer.samples);
  }
  const timedNames = Object.keys(results).filter((name) => results[name].ms !== undefined);
  progress(`${w.id} timed: ${timedNames.map((name) => `${name} ${formatMs(results[name].ms)} ms`).join(', ')}; SIMD peak ${peakDuring.toFixed(1)} GFLOP/s`);
  return {
    id: w.id, title: w.title, kind: w.kind, gflop, peakDuring, pinning, reference: reference?.name, pytorchMs: w.pytorchMs, pytorchNote: w.pytorchNote,
    quick: QUICK, repetitions: REPETITIONS, date: new Date().toISOString(), results,
  };
}

// ---- reporting ----

function formatMs(ms) {
  return ms >= 100 ? String(Math.round(ms)) : ms.toPrecision(3);
}

const formatRatio = (x) => (x >= 10 ? String(Math.round(x)) : x.toPrecision(2));

function peerCell(result, looptreeMs) {
  if (!result) return '';
  if (result.ms === undefined) return result.status === 'n/a' ? 'n/a ◦' : result.status;
  const speedup = looptreeMs ? ` (${formatRatio(result.ms / looptreeMs)}×)` : '';
  const flag = { mismatch: ' MISMATCH', 'not compared': ' †' }[result.status] ?? '';
  return `${formatMs(result.ms)}${speedup}${flag}`;
}

function markdownTable(header, rows) {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function report(doc) {
  const peers = doc.runners.filter((r) => r.name !== 'looptree');
  // With --only, rows kept from an earlier run may have been measured with other settings.
  const earlier = doc.workloads.filter((w) => !w.pending && (w.repetitions !== doc.repetitions || w.quick !== doc.quick));
  const lines = [
    `## ${doc.engine} — looptree ${doc.versions.looptree ?? '(not built)'}${doc.looptree ? `, ${doc.looptree.simd} SIMD build` : ''}`,
    `${doc.machine.cpu}, ${doc.machine.cores} cores, 1 thread everywhere but the "2 threads" columns (every core, each runner in a process of its own after the 1-thread ones: bench/own-process.mjs)` +
      (doc.workloads.some((w) => w.pinning) ? ', each workload pinned to the quietest CPU just before it (bench/pin.mjs)' : '') +
      `; median of ${doc.repetitions} runs${doc.quick ? ' (--quick)' : ''}, ms` +
      (earlier.length ? `; ${earlier.map((w) => w.id).join(', ')} kept from an earlier run (${[...new Set(earlier.map((w) => `median of ${w.repetitions ?? '?'}${w.quick ? ' (--quick)' : ''}`))].join('; ')})` : ''),
    `Wasm SIMD peak (1 core), best of 7 at the start: f32x4 mul+add ${doc.peak.baseline.toFixed(1)} GFLOP/s; relaxed madd ${doc.peak.relaxed ? `${doc.peak.relaxed.toFixed(1)} GFLOP/s` : 'not in this engine'}`,
    '',
  ];
  const header = ['workload', 'GFLOP', 'looptree ms', 'GFLOP/s', 'of peak', 'peak GFLOP/s', ...peers.map((r) => r.label), 'PyTorch 1.13.1 ‡'];
  const rows = doc.workloads.map((w) => {
    if (w.pending) return [`${w.id} ${w.title}`, '', 'pending', '', '', '', ...peers.map(() => ''), ''];
    const lt = w.results.looptree;
    const ltMs = lt?.ms;
    return [
      `${w.id} ${w.title}`,
      w.gflop.toPrecision(3),
      ltMs ? formatMs(ltMs) : lt?.status ?? '',
      ltMs ? lt.gflops.toFixed(1) : '',
      ltMs ? `${Math.round(100 * lt.fractionOfPeak)}%` : '',
      w.peakDuring ? w.peakDuring.toFixed(1) : '',
      ...peers.map((r) => peerCell(w.results[r.name], ltMs)),
      w.pytorchMs ? `${formatMs(w.pytorchMs)}${ltMs ? ` (${formatRatio(w.pytorchMs / ltMs)}×)` : ''}${w.pytorchNote ? ' ‡‡' : ''}` : '',
    ];
  });
  lines.push(markdownTable(header, rows), '');
  const threaded = doc.workloads.filter((w) => !w.pending && w.results['looptree-2t']?.ms);
  if (threaded.length) {
    lines.push('Threads: looptree with 2 threads against itself with 1 (same SIMD build) and against onnxruntime-web with 2 threads (× above 1: looptree 2 threads is faster); onnxruntime-web 2 threads against itself with 1:', '');
    lines.push(markdownTable(['workload', 'looptree 1 thread ms', 'looptree 2 threads ms', '2 threads vs 1', 'onnxruntime-web 2 threads ms', 'vs onnxruntime-web 2 threads', 'onnxruntime-web 2 threads vs 1'], threaded.map((w) => {
      const one = w.results.looptree?.ms, two = w.results['looptree-2t'].ms;
      const ort = w.results['onnxruntime-web-2t']?.ms, ortOne = w.results['onnxruntime-web']?.ms;
      return [
        `${w.id} ${w.title}`, one ? formatMs(one) : '', formatMs(two), one ? `${formatRatio(one / two)}×` : '',
        ort ? formatMs(ort) : w.results['onnxruntime-web-2t']?.status ?? '', ort ? `${formatRatio(ort / two)}×` : '',
        ort && ortOne ? `${formatRatio(ortOne / ort)}×` : '',
      ];
    })), '');
  }
  lines.push('(n×) = peer time / looptree time: above 1, looptree is faster. "of peak": looptree GFLOP/s over "peak GFLOP/s", the SIMD peak of the build it runs timed in the same rounds as the row\'s runners (median of those samples).');
  if (doc.workloads.some((w) => w.kind === 'train')) lines.push('A training row times one optimizer step (forward, backward through time, Adam); every other row a forward pass.');
  for (const r of peers.filter((p) => p.note)) lines.push(`† ${r.label}: ${r.note}.`);
  lines.push('‡ PyTorch 1.13.1, 1 thread: figures recorded in issues 3, 4 and 5, not rerun here.');
  for (const w of doc.workloads.filter((x) => x.pytorchNote)) lines.push(`‡‡ ${w.id} PyTorch: ${w.pytorchNote}.`);
  for (const w of doc.workloads.filter((x) => !x.pending)) {
    // Runners that cannot run this workload, grouped by reason.
    const reasons = new Map();
    for (const r of peers.filter((p) => w.results[p.name]?.status === 'n/a')) {
      const note = w.results[r.name].note;
      reasons.set(note, [...(reasons.get(note) ?? []), r.label]);
    }
    if (reasons.size) lines.push(`◦ ${w.id} not applicable — ${[...reasons].map(([note, labels]) => `${labels.join(', ')}: ${note}`).join('; ')}.`);
  }
  for (const r of doc.runners.filter((p) => p.unavailable)) lines.push(`${r.label} unavailable: ${r.unavailable}`);
  for (const w of doc.workloads.filter((x) => x.pending)) lines.push(`${w.id} pending: ${w.pending}.`);

  const compared = doc.workloads.filter((w) => !w.pending);
  lines.push('', 'Max |peer − reference| before timing (> 1e-3: MISMATCH):', '');
  const comparedParts = {
    tree: 'the roots\' h and c',
    train: 'after the first step: its loss, every parameter after the Adam update, the gradients ÷ max |g| of each tensor (grads) and ln max |g| (gradScale)',
  };
  const described = compared.filter((w) => comparedParts[w.kind]);
  if (described.length) lines.push(`Compared: ${described.map((w) => `${w.id}, ${comparedParts[w.kind]}`).join('; ')}; the others, the whole output.`, '');
  lines.push(markdownTable(['workload', 'reference', ...peers.map((r) => r.label)], compared.map((w) => [
    w.id,
    w.reference ?? '',
    ...peers.map((r) => {
      const res = w.results[r.name];
      if (res?.maxDiff === undefined) return res?.status === 'ok' ? 'reference' : res?.status ?? '';
      // JSON keeps an Infinity (outputs of different sizes) as null.
      const partDiffs = res.parts && Object.fromEntries(Object.entries(res.parts).map(([k, d]) => [k, d ?? Infinity]));
      return `${(res.maxDiff ?? Infinity).toExponential(1)}${formatParts(partDiffs)}${res.status === 'mismatch' ? ' MISMATCH' : ''}`;
    }),
  ])));
  return lines.join('\n');
}

// ---- main ----

const only = args.only?.split(',').map((s) => s.trim().toUpperCase());
const selected = WORKLOADS.filter((w) => !only || only.includes(w.id));
const node = process.versions.node;
const file = path.join(RESULTS_DIR, `node${node.split('.')[0]}.json`);

progress(`Node ${node}: measuring the Wasm SIMD peak…`);
const peak = measureSimdPeak({ quick: QUICK });
const runners = await loadRunners();
// A multi-thread runner's reason when its process could not load it (e.g. no threads build in dist/).
const unavailableApart = new Map();
const looptreeLib = runners.find((r) => r.runner.name === 'looptree').lib;
const peakLoop = peakRunner(looptreeLib?.backendInfo().simd ?? 'baseline', { ms: QUICK ? 5 : 20 });

const workloads = [];
for (const w of selected) {
  workloads.push(w.pending ? { id: w.id, title: w.title, pending: w.pending } : await runWorkload(w, runners, peakLoop));
}

// With --only, the other workloads keep their results from the previous run of this engine.
const previousDoc = only && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
const previous = (previousDoc?.workloads ?? []).map((w) => ({ quick: previousDoc.quick, repetitions: previousDoc.repetitions, ...w }));
const merged = WORKLOADS.map((w) => workloads.find((r) => r.id === w.id) ?? previous.find((r) => r.id === w.id)).filter(Boolean);

const version = (name) => {
  try {
    return packageVersion(name);
  } catch {
    return undefined;
  }
};
const doc = {
  engine: `Node ${node}`,
  date: new Date().toISOString(),
  quick: QUICK,
  repetitions: REPETITIONS,
  machine: {
    cpu: os.cpus()[0]?.model.trim(),
    cores: os.cpus().length, // not availableParallelism(): under taskset that is 1
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  },
  versions: {
    node, v8: process.versions.v8,
    ...Object.fromEntries(RUNNERS_IN_USE.map((r) => [r.name, version(r.versionOf ?? r.name)])),
  },
  looptree: looptreeLib?.backendInfo(),
  peak,
  runners: [...runners, ...RUNNERS_APART.map((runner) => ({ runner, unavailable: unavailableApart.get(runner.name) }))]
    .map(({ runner, unavailable }) => ({ name: runner.name, label: runner.label, note: runner.note, threads: runner.threads ?? 1, unavailable })),
  workloads: merged,
};
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
console.log(report(doc));
progress(`wrote ${path.relative(process.cwd(), file)}`);
