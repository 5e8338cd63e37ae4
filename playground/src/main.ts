// The playground page: tabs for the five panels, each wiring its controls to a Web Worker (Train, Generate, Benchmark,
// Gradients) or to looptree on the page (Trees), drawing with charts.ts. `window.playground` holds what each panel
// measured, for the Chromium tests and the screenshot script; query parameters shorten runs (?steps=, ?reps=, ?gradSteps=).

import { TreeClassifier, backendInfo, init, parseSafetensors, parseTree, readSafetensorsMetadata, type Tree } from 'looptree';
import { lineChart, ratioChart, type Bar, type Series } from './charts.js';
import { CELLS, type GradientRun } from './gradients.js';
import { EXAMPLES } from './sentiment-trees.mjs';
import type { TrainMessage, TrainRequest } from './train-worker.js';
import type { GradientMessage } from './gradients-worker.js';
import type { BenchMessage, BenchRunnerName } from './bench-worker.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const numberInput = (id: string) => Number($<HTMLInputElement>(id).value);

/** What the panels measured (read by the tests). */
const state = {
  train: { steps: [] as Array<[number, number]>, validation: [] as Array<[number, number]>, samples: [] as string[], finished: false, error: '' },
  generate: { text: '', tokens: 0, done: false, error: '' },
  trees: { nodes: 0, coloured: 0, predictions: [] as number[] },
  bench: { ratios: {} as Record<string, Record<string, number>>, checked: {} as Record<string, Record<string, boolean>>, done: false, errors: [] as string[], log: [] as string[] },
  gradients: { runs: [] as GradientRun[], done: false, error: '' },
};
(window as unknown as { playground: typeof state }).playground = state;

// ---------------------------------------------------------------------------------------------------------------
// Tabs

function showPanel(name: string) {
  document.querySelectorAll<HTMLElement>('section.panel').forEach((panel) => panel.classList.toggle('active', panel.id === `panel-${name}`));
  document.querySelectorAll<HTMLElement>('nav a').forEach((link) => link.classList.toggle('active', link.dataset.panel === name));
}
const panelOf = () => (location.hash.slice(1) || 'train');
addEventListener('hashchange', () => showPanel(panelOf()));
showPanel(panelOf());
for (const [param, id] of [['steps', 'train-steps'], ['hidden', 'train-hidden'], ['reps', 'bench-reps'], ['gradSteps', 'grad-steps'], ['sampleEvery', 'train-sample-every'], ['length', 'gen-length']]) {
  if (params.has(param)) $<HTMLInputElement>(id).value = params.get(param)!;
}

// ---------------------------------------------------------------------------------------------------------------
// Train and Generate: one worker holds the model

const trainWorker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
const sendTrain = (request: TrainRequest) => trainWorker.postMessage(request);
let trainStarted = 0;

function drawTrainChart() {
  const smooth = state.train.steps.map(([step], i, all) => {
    const window = all.slice(Math.max(0, i - 19), i + 1);
    return [step, window.reduce((sum, [, loss]) => sum + loss, 0) / window.length] as [number, number];
  });
  const series: Series[] = [
    { name: 'training loss (20-step mean)', color: '#3572d6', points: smooth },
    { name: 'validation loss', color: '#d6572b', points: state.train.validation },
  ];
  $('train-chart').innerHTML = lineChart(series, { title: 'Cross-entropy (nats per character)', xLabel: 'step', yLabel: 'loss' });
}

trainWorker.onmessage = (event: MessageEvent<TrainMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'ready':
      $('train-stats').textContent = `${message.alphabet} distinct characters, ${message.trainChars} to train, ${message.validationChars} to validate; looptree ${message.simd}`;
      break;
    case 'step': {
      state.train.steps.push([message.step, message.loss]);
      const last = state.train.validation.at(-1);
      $('train-stats').textContent = `step ${message.step} · loss ${message.loss.toFixed(3)}${last ? ` · validation ${last[1].toFixed(3)}` : ''} · ${Math.round(message.tokensPerSecond).toLocaleString('en')} tokens/s`;
      if (message.step % 10 === 0) drawTrainChart();
      break;
    }
    case 'validation':
      state.train.validation.push([message.step, message.loss]);
      drawTrainChart();
      break;
    case 'sample':
      state.train.samples.push(message.text);
      $('train-samples').textContent = `— step ${message.step}:\n${message.text}\n\n` + $('train-samples').textContent;
      break;
    case 'finished':
      state.train.finished = true;
      drawTrainChart();
      $('train-pause').setAttribute('disabled', '');
      $('train-stats').textContent += ' · finished';
      break;
    case 'paused': case 'resumed':
      $('train-pause').textContent = message.type === 'paused' ? 'Resume' : 'Pause';
      break;
    case 'token':
      state.generate.text += message.text;
      state.generate.tokens = message.index + 1;
      $('gen-output').textContent += message.text;
      break;
    case 'generated':
      state.generate.done = true;
      $('gen-stats').textContent = `${message.tokens} characters in ${((performance.now() - generateStarted) / 1000).toFixed(2)} s`;
      $('gen-start').removeAttribute('disabled');
      break;
    case 'error':
      if (!state.generate.done && generateStarted) state.generate.error = message.message;
      else state.train.error = message.message;
      $(generateStarted && !state.generate.done ? 'gen-stats' : 'train-stats').textContent = message.message;
      $('gen-start').removeAttribute('disabled');
      break;
  }
};

$('train-start').onclick = async () => {
  const pasted = (document.querySelector('input[name=text-source]:checked') as HTMLInputElement).value === 'pasted';
  const text = pasted ? $<HTMLTextAreaElement>('train-text').value : await (await fetch('data/pride-and-prejudice.txt')).text();
  Object.assign(state.train, { steps: [], validation: [], samples: [], finished: false, error: '' });
  $('train-samples').textContent = '';
  trainStarted = performance.now();
  $('train-pause').removeAttribute('disabled');
  $('train-pause').textContent = 'Pause';
  sendTrain({
    type: 'start', text, maxSteps: numberInput('train-steps'), hiddenSize: numberInput('train-hidden'), batch: numberInput('train-batch'),
    window: numberInput('train-window'), sampleEvery: numberInput('train-sample-every'), validateEvery: 25,
  });
};
$('train-pause').onclick = () => sendTrain({ type: $('train-pause').textContent === 'Pause' ? 'pause' : 'resume' });

let generateStarted = 0;
$<HTMLInputElement>('gen-temperature').oninput = () => { $('gen-temperature-value').textContent = $<HTMLInputElement>('gen-temperature').value; };
$('gen-start').onclick = () => {
  Object.assign(state.generate, { text: '', tokens: 0, done: false, error: '' });
  $('gen-output').textContent = $<HTMLInputElement>('gen-prompt').value;
  $('gen-stats').textContent = trainStarted ? '' : 'no model trained yet: start training in the Train panel';
  $('gen-start').setAttribute('disabled', '');
  generateStarted = performance.now();
  sendTrain({
    type: 'generate', prompt: $<HTMLInputElement>('gen-prompt').value, maxTokens: numberInput('gen-length'),
    temperature: numberInput('gen-temperature'), topK: numberInput('gen-topk'), topP: numberInput('gen-topp'), seed: numberInput('gen-seed'),
  });
};

// ---------------------------------------------------------------------------------------------------------------
// Trees: looptree on the page

const SENTIMENT_COLORS = ['#c62828', '#ef8a62', '#bdbdbd', '#7fbf7b', '#1b7837'];
const SENTIMENT_NAMES = ['very negative', 'negative', 'neutral', 'positive', 'very positive'];
const treeModel = (async () => {
  await init();
  $('backend').textContent = `looptree on this page: ${backendInfo().simd} build`;
  const bytes = new Uint8Array(await (await fetch('data/sentiment-tree.safetensors')).arrayBuffer());
  const metadata = readSafetensorsMetadata(bytes);
  const model = new TreeClassifier(JSON.parse(metadata.options));
  model.loadStateDict(parseSafetensors(bytes));
  const words: string[] = JSON.parse(metadata.vocab);
  return { model, idOf: new Map(words.map((word, id) => [word, id])) };
})();

/** Node positions: leaves evenly spaced left to right, a parent centred over its children, rows by depth. */
function layout(tree: Tree) {
  const x = new Float64Array(tree.size), depth = new Int32Array(tree.size);
  let nextLeaf = 0;
  const place = (node: number, level: number): number => {
    depth[node] = level;
    const children = tree.children(node);
    x[node] = children.length === 0 ? nextLeaf++ : children.map((child) => place(child, level + 1)).reduce((a, b) => a + b, 0) / children.length;
    return x[node];
  };
  place(tree.root, 0);
  return { x, depth, leaves: nextLeaf };
}

async function colourTree() {
  $('tree-error').textContent = '';
  try {
    const { model, idOf } = await treeModel;
    const parsed = parseTree($<HTMLTextAreaElement>('tree-text').value.trim());
    const tokens = Int32Array.from(parsed.tokens, (word) => (word === null ? -1 : idOf.get(word.toLowerCase()) ?? idOf.get('<unk>') ?? 0));
    const { logProbs } = model.forward([parsed.tree], [tokens]);
    const C = model.numClasses;
    const predictions = Array.from({ length: parsed.tree.size }, (_, node) => {
      const row = Array.from(logProbs[0].data.subarray(node * C, (node + 1) * C));
      return row.indexOf(Math.max(...row));
    });
    const { x, depth, leaves } = layout(parsed.tree);
    const maxDepth = Math.max(...depth);
    const dx = 74, dy = 62, width = Math.max(360, leaves * dx + 40), height = (maxDepth + 1) * dy + 60;
    const px = (node: number) => 20 + dx / 2 + x[node] * dx, py = (node: number) => 28 + depth[node] * dy;
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" class="chart">`];
    for (let node = 0; node < parsed.tree.size; node++) {
      const parent = parsed.tree.parent(node);
      if (parent >= 0) parts.push(`<line x1="${px(parent)}" y1="${py(parent)}" x2="${px(node)}" y2="${py(node)}" stroke="#9aa3b5"/>`);
    }
    for (let node = 0; node < parsed.tree.size; node++) {
      const word = parsed.tokens[node];
      const p = Math.exp(logProbs[0].data[node * C + predictions[node]]);
      parts.push(`<circle class="tree-node" data-node="${node}" data-sentiment="${predictions[node]}" cx="${px(node)}" cy="${py(node)}" r="13" fill="${SENTIMENT_COLORS[predictions[node]]}" stroke="#333"><title>${SENTIMENT_NAMES[predictions[node]]} (p = ${p.toFixed(2)})</title></circle>`);
      parts.push(`<text x="${px(node)}" y="${py(node) + 4}" text-anchor="middle" font-size="11" fill="#fff" font-weight="600">${predictions[node]}</text>`);
      if (word !== null) parts.push(`<text x="${px(node)}" y="${py(node) + 30}" text-anchor="middle" font-size="13">${word}</text>`);
    }
    SENTIMENT_NAMES.forEach((name, c) => {
      parts.push(`<circle cx="${30 + c * 120}" cy="${height - 14}" r="6" fill="${SENTIMENT_COLORS[c]}"/><text x="${40 + c * 120}" y="${height - 10}" font-size="11">${c} ${name}</text>`);
    });
    parts.push('</svg>');
    $('tree-svg').innerHTML = parts.join('');
    state.trees.nodes = parsed.tree.size;
    state.trees.predictions = predictions;
    state.trees.coloured = $('tree-svg').querySelectorAll('circle.tree-node[fill]').length;
  } catch (error) {
    $('tree-error').textContent = error instanceof Error ? error.message : String(error);
  }
}

const select = $<HTMLSelectElement>('tree-examples');
EXAMPLES.forEach((example, i) => select.add(new Option(example.replace(/\(\d /g, '(').replace(/[()]/g, '').replace(/\s+/g, ' ').trim(), String(i))));
select.onchange = () => {
  $<HTMLTextAreaElement>('tree-text').value = EXAMPLES[Number(select.value)];
  colourTree();
};
$<HTMLTextAreaElement>('tree-text').value = EXAMPLES[4];
select.value = '4';
$('tree-run').onclick = colourTree;
colourTree();

// ---------------------------------------------------------------------------------------------------------------
// Benchmark: one worker per library (a realm holds one looptree build)

const WORKLOAD_IDS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7'];
const RUNNER_NAMES: BenchRunnerName[] = ['looptree-baseline', 'looptree-relaxed', 'onnxruntime-web', 'tfjs-wasm'];
const RUNNER_COLORS: Record<BenchRunnerName, string> = { 'looptree-baseline': '#3572d6', 'looptree-relaxed': '#6aa7ff', 'onnxruntime-web': '#8e44ad', 'tfjs-wasm': '#e67e22' };

/** The largest |a − b| over two outputs (records compared part by part). */
function maxDifference(a: Float32Array | Record<string, Float32Array>, b: Float32Array | Record<string, Float32Array>): number {
  if (a instanceof Float32Array && b instanceof Float32Array) {
    if (a.length !== b.length) return Infinity;
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    return max;
  }
  if (a instanceof Float32Array || b instanceof Float32Array) return Infinity;
  return Math.max(...Object.keys(a).map((key) => (b[key] ? maxDifference(a[key], b[key]) : Infinity)));
}

function runBenchmark() {
  const reps = numberInput('bench-reps');
  const times: Record<string, Record<string, number>> = {};
  const outputs: Record<string, Record<string, Float32Array | Record<string, Float32Array>>> = {};
  const notes: Record<string, Record<string, string>> = {};
  const details: string[] = [];
  Object.assign(state.bench, { ratios: {}, checked: {}, done: false, errors: [], log: [] });
  const t0 = performance.now();
  $('bench-start').setAttribute('disabled', '');
  const draw = () => {
    const header = `<tr><th>workload</th>${RUNNER_NAMES.map((name) => `<th>${name}</th>`).join('')}</tr>`;
    const rows = WORKLOAD_IDS.map((id) => `<tr><td>${id}</td>${RUNNER_NAMES.map((name) => {
      const ms = times[name]?.[id];
      const check = state.bench.checked[name]?.[id];
      if (ms !== undefined) return `<td>${ms.toFixed(2)} ms${check === undefined ? '' : check ? ' <span class="good">✓</span>' : ' <span class="bad">✗</span>'}</td>`;
      return `<td title="${notes[name]?.[id] ?? ''}">${notes[name]?.[id] ? 'n/a' : '…'}</td>`;
    }).join('')}</tr>`).join('');
    $('bench-table').innerHTML = `<table>${header}${rows}</table><p class="note">${details.join(' · ')}</p>`;
    const bars: Bar[] = [];
    for (const id of WORKLOAD_IDS) {
      for (const peer of ['onnxruntime-web', 'tfjs-wasm', 'looptree-relaxed'] as const) {
        const ratio = state.bench.ratios[id]?.[peer];
        if (ratio !== undefined) bars.push({ label: `${id} ${peer === 'looptree-relaxed' ? 'baseline ÷ relaxed' : `${peer} ÷ baseline`}`, value: ratio, color: RUNNER_COLORS[peer] });
      }
    }
    $('bench-chart').innerHTML = ratioChart(bars, { title: 'Time ratios, log scale (right of 1: the looptree build named faster)' });
  };
  const finished = new Set<string>();
  const run = (name: BenchRunnerName): Promise<void> => new Promise((resolve) => {
    const worker = new Worker(new URL('./bench-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<BenchMessage>) => {
      const message = event.data;
      state.bench.log.push(`${((performance.now() - t0) / 1000).toFixed(1)} s ${name} ${message.type} ${'id' in message ? message.id : ''}`);
      if (message.type === 'loaded') details.push(message.detail);
      else if (message.type === 'result') {
        (times[name] ??= {})[message.id] = message.ms;
        if (message.output) (outputs[name] ??= {})[message.id] = message.output;
        const base = outputs['looptree-baseline']?.[message.id];
        if (name !== 'looptree-baseline' && base && message.output) {
          (state.bench.checked[name] ??= {})[message.id] = maxDifference(base, message.output) <= 2e-3;
          (state.bench.ratios[message.id] ??= {})[name] = message.ms / times['looptree-baseline'][message.id];
          if (name === 'looptree-relaxed') state.bench.ratios[message.id][name] = times['looptree-baseline'][message.id] / message.ms;
        }
      } else if (message.type === 'skipped') (notes[name] ??= {})[message.id] = message.reason;
      else if (message.type === 'error') {
        state.bench.errors.push(`${name}: ${message.message}`);
        details.push(`<span class="bad">${name}: ${message.message}</span>`);
      }
      if (message.type === 'done' || message.type === 'error') {
        worker.terminate();
        finished.add(name);
        resolve();
      }
      $('bench-status').textContent = `${finished.size} of ${RUNNER_NAMES.length} libraries done${params.has('shrink') ? ' (shrunk workloads: T ≤ 16, 8 trees — a check, not a measurement)' : ''}`;
      draw();
    };
    worker.postMessage({ runner: name, workloads: WORKLOAD_IDS, reps, warmup: params.get('warmup') !== '0', shrink: params.has('shrink') });
  });
  // One library at a time, looptree's baseline first (the reference of the checks and ratios), so they do not share cores.
  (async () => {
    for (const name of RUNNER_NAMES) await run(name);
    state.bench.done = true;
    $('bench-start').removeAttribute('disabled');
    draw();
  })();
}
$('bench-start').onclick = runBenchmark;

// ---------------------------------------------------------------------------------------------------------------
// Gradients

const CELL_COLORS: Record<string, string> = { RNN: '#c62828', LSTM: '#3572d6', GRU: '#1e7b34' };

function drawGradients() {
  const runs = state.gradients.runs;
  const profile = (which: 'before' | 'after') => runs.filter((run) => which === 'after' || !run.clipped).map((run): Series => ({
    name: which === 'before' ? run.cell : `${run.cell}${run.clipped ? ' clipped' : ''}`,
    color: CELL_COLORS[run.cell], dashed: run.clipped, points: run[which].map((value, t) => [t, value]),
  }));
  $('grad-before').innerHTML = lineChart(profile('before'), { title: '‖∂L/∂x_t‖ at initialization', xLabel: 'input step t (the loss is at t = 99)', yLabel: 'gradient norm (log)', logY: true, width: 420 });
  $('grad-after').innerHTML = lineChart(profile('after'), { title: '‖∂L/∂x_t‖ after training', xLabel: 'input step t', yLabel: 'gradient norm (log)', logY: true, width: 420 });
  const lossSeries = runs.map((run): Series => ({
    name: `${run.cell}${run.clipped ? ' clipped' : ''}`, color: CELL_COLORS[run.cell], dashed: run.clipped,
    points: run.losses.map((_, step, all) => [step, all.slice(Math.max(0, step - 19), step + 1).reduce((a, b) => a + b, 0) / Math.min(step + 1, 20)]),
  }));
  $('grad-loss').innerHTML = lineChart([...lossSeries, { name: 'predict 1', color: '#888', dashed: true, points: runs.length ? [[0, 1 / 6], [runs[0].losses.length - 1, 1 / 6]] : [] }],
    { title: 'Training loss (MSE, 20-step mean)', xLabel: 'step', yLabel: 'loss (log)', logY: true, width: 420 });
  const at0 = (cell: string) => runs.find((run) => run.cell === cell && !run.clipped)?.before[0];
  const rnn = at0('RNN'), lstm = at0('LSTM');
  if (rnn !== undefined && lstm !== undefined) {
    $('grad-summary').textContent = `At initialization, ‖∂L/∂x_0‖: RNN ${rnn.toExponential(1)}, LSTM ${lstm.toExponential(1)} (${Math.log10(lstm / rnn).toFixed(1)} orders of magnitude apart)` +
      CELLS.map((cell) => {
        const run = runs.find((r) => r.cell === cell && !r.clipped);
        return run ? `; ${cell} final loss ${(run.losses.slice(-20).reduce((a, b) => a + b, 0) / 20).toFixed(3)}` : '';
      }).join('');
  }
}

$('grad-start').onclick = () => {
  Object.assign(state.gradients, { runs: [], done: false, error: '' });
  $('grad-start').setAttribute('disabled', '');
  const worker = new Worker(new URL('./gradients-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<GradientMessage>) => {
    const message = event.data;
    if (message.type === 'run') {
      state.gradients.runs.push(message.run);
      drawGradients();
    } else if (message.type === 'progress') $('grad-status').textContent = `${message.done} of ${message.total} training steps`;
    else {
      if (message.type === 'error') state.gradients.error = $('grad-status').textContent = message.message;
      else $('grad-status').textContent = 'done';
      state.gradients.done = true;
      $('grad-start').removeAttribute('disabled');
      worker.terminate();
    }
  };
  worker.postMessage({ steps: numberInput('grad-steps') });
};
