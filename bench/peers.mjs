// The runners — looptree and its peers: each loads its library and turns a workload and its case (weights, input) into a first output to compare and a run() to time.
//
// Runner: { name, label, versionOf?: package whose version is reported, threads?: threads it runs (default 1; more: bench/workloads.mjs
// times it in a process of its own), load() → lib,
// offline?(w, c) → what a user would build ahead of time (an .onnx file),
// prepare(lib, w, c, offline) → { output, run(), async?, activate?(), dispose?() },
// notApplicable?(w) → why it cannot run workload w (undefined: it can),
// compares?: false and note when its math is not PyTorch's }.
// prepare() picks the adapter for the workload's kind (spec.mjs) and runs the workload once: its output,
// a Float32Array or a record of named Float32Arrays compared part by part, is the one checked against
// the reference; run() runs it again (for 'train': one more optimizer step).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dynamicQuantizeLstmOnnxModel, recurrentOnnxModel } from './onnx-writer.mjs';
import { prepareLooptree, prepareLooptreeInt8, trainCheck } from './looptree-runner.mjs';
import { GATES, directions, layerInput } from './spec.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = path.dirname(BENCH_DIR);
export const LOOPTREE_ENTRY = path.join(REPO_DIR, 'dist', 'index.js');

export function packageVersion(name) {
  const dir = name === 'looptree' ? REPO_DIR : path.join(BENCH_DIR, 'node_modules', name);
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

// Layer l, direction d of a PyTorch state dict.
const weightsOf = (stateDict, l, d) => {
  const p = (name) => stateDict[`${name}_l${l}${d ? '_reverse' : ''}`].data;
  return { wih: p('weight_ih'), whh: p('weight_hh'), bih: p('bias_ih'), bhh: p('bias_hh') };
};

// Initial state of layer l for a streaming step: [D, B, H] out of h0/c0 [layers·D, B, H].
const layerState = (state, w, l) => {
  const size = directions(w) * w.B * w.H;
  return state.subarray(l * size, (l + 1) * size);
};

// ---------------------------------------------------------------------------------------------
// looptree, through its public API (DESIGN §4); the adapters are shared with the `looptree bench` CLI

// One thread: the single-thread build, as init({ threads: 1 }) loads it. Two threads: the threads build, its pool
// started (bench/workloads.mjs times it in a process of its own, bench/own-process.mjs; the URL's query keeps it a
// module apart from the 1-thread runner's wherever both are loaded in one realm).
const looptreeRunner = (threads) => ({
  name: threads === 1 ? 'looptree' : `looptree-${threads}t`,
  label: threads === 1 ? 'looptree' : `looptree ${threads} threads`,
  versionOf: 'looptree',
  threads,
  async load() {
    if (!existsSync(LOOPTREE_ENTRY)) throw new Error('dist/index.js missing: run `npm run build` at the repo root');
    const lt = await import(`${pathToFileURL(LOOPTREE_ENTRY).href}${threads === 1 ? '' : `?threads=${threads}`}`);
    await lt.init({ threads });
    if (threads > 1) {
      await lt.threadsReady();
      if (lt.backendInfo().threads !== threads) throw new Error(`runs ${lt.backendInfo().threads} threads: ${lt.backendInfo().threadsReason}`);
    }
    return lt;
  },
  prepare: prepareLooptree,
});
const looptree = looptreeRunner(1);

// looptree's int8 models (quantizeDynamic) of the recurrent and tree workloads: compared with the accuracy contract's
// bound (README: max |int8 − f32| ≤ 0.02 on W1, W2, W5; W6 measured 4.4e-3), not the f32 tolerance.
const looptreeInt8 = {
  name: 'looptree-int8',
  label: 'looptree int8',
  tolerance: 0.02,
  notApplicable: (w) => (w.kind === 'train' ? 'int8 models are inference-only' : undefined),
  load: () => looptree.load(),
  prepare: prepareLooptreeInt8,
};

// ---------------------------------------------------------------------------------------------
// onnxruntime (node: native CPU; web: its wasm build), on ONNX models written from the same weights

const ONNX_NOT_APPLICABLE = {
  tree: 'no tree-structured recurrence in ONNX: a level-batched graph would be specific to one batch of tree shapes',
  train: 'inference sessions only: these packages have no training (ONNX Runtime training needs artifacts made by the Python onnxruntime-training package)',
};

function onnxRunner({ name, module = name, label, threads, setup, sessionOptions }) {
  return {
    name,
    label,
    ...(module !== name && { versionOf: module }),
    ...(threads && { threads }),
    notApplicable: (w) => ONNX_NOT_APPLICABLE[w.kind],
    async load() {
      const ort = await import(module);
      setup?.(ort);
      return ort;
    },
    // The .onnx file a user would export ahead of time.
    offline: (w, c) => recurrentOnnxModel(w, c.stateDict, { initialState: w.kind === 'step' }),
    async prepare(ort, w, c, model) {
      const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3, ...sessionOptions });
      const X = new ort.Tensor('float32', c.x, [w.T, w.B, w.I]);
      const dispose = () => session.release();
      if (w.kind !== 'step') {
        const output = (await session.run({ X })).Y.data;
        return { output, run: () => session.run({ X }), async: true, dispose };
      }
      // Streaming: each step's final state is the next step's initial state.
      const dims = [directions(w), w.B, w.H];
      const states = w.cell === 'lstm' ? ['h', 'c'] : ['h'];
      let feeds = { X };
      for (let l = 0; l < w.layers; l++) {
        for (const s of states) feeds[`${s}0_l${l}`] = new ort.Tensor('float32', layerState(c[`${s}0`], w, l), dims);
      }
      const run = async () => {
        const result = await session.run(feeds);
        feeds = { X };
        for (let l = 0; l < w.layers; l++) for (const s of states) feeds[`${s}0_l${l}`] = result[`${s}_l${l}`];
        return result;
      };
      return { output: (await run()).Y.data, run, async: true, dispose };
    },
  };
}

const onnxruntimeNode = onnxRunner({
  name: 'onnxruntime-node',
  label: 'onnxruntime-node (native)',
  sessionOptions: { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 },
});

const onnxruntimeWeb = onnxRunner({
  name: 'onnxruntime-web',
  label: 'onnxruntime-web (wasm)',
  setup(ort) {
    ort.env.wasm.numThreads = 1;
  },
  sessionOptions: { executionProviders: ['wasm'] },
});

// onnxruntime's own int8 LSTM (its quantize_dynamic's output: com.microsoft DynamicQuantizeLSTM, weights int8 per
// output channel, activations quantized per call), beside looptree int8: compared with the accuracy contract's bound.
const DYNAMIC_QUANTIZE_NOT_APPLICABLE = 'DynamicQuantizeLSTM is onnxruntime\'s int8 LSTM (no GRU or RNN form)';
const int8OnnxRunner = (runner) => ({
  ...runner,
  name: `${runner.name}-int8`,
  label: `${runner.label.replace(/ \(.*\)$/, '')} int8`,
  versionOf: runner.name,
  tolerance: 0.02,
  notApplicable: (w) => runner.notApplicable(w) ?? (w.cell !== 'lstm' ? DYNAMIC_QUANTIZE_NOT_APPLICABLE : undefined),
  offline: (w, c) => dynamicQuantizeLstmOnnxModel(w, c.stateDict, { initialState: w.kind === 'step' }),
});
const onnxruntimeNodeInt8 = int8OnnxRunner(onnxruntimeNode);
const onnxruntimeWebInt8 = int8OnnxRunner(onnxruntimeWeb);

// onnxruntime-web with 2 threads (its threaded build). Like every multi-thread runner, bench/workloads.mjs times it in a
// process of its own (bench/own-process.mjs): its pthreads never run beside the 1-thread runners, and numThreads, read
// once per process, is not the 1-thread runner's.
const onnxruntimeWeb2 = onnxRunner({
  name: 'onnxruntime-web-2t',
  module: 'onnxruntime-web',
  label: 'onnxruntime-web 2 threads',
  threads: 2,
  setup(ort) {
    ort.env.wasm.numThreads = 2;
  },
  sessionOptions: { executionProviders: ['wasm'] },
});

// ---------------------------------------------------------------------------------------------
// TensorFlow.js (wasm and cpu backends). tf.layers' GRU has no reset_after (PyTorch's GRU), and its
// default recurrent activation is hard sigmoid, so all three cells are written with tf ops, PyTorch
// formulas and gate order: one matMul projects every timestep's input, then one matMul per step.

function tfCellStep(tf, cell, xp, h, c, p) {
  const hp = tf.matMul(h, p.whh);
  if (cell === 'lstm') {
    const [i, f, g, o] = tf.split(tf.add(xp, hp), 4, 1);
    const c2 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    return [tf.mul(tf.sigmoid(o), tf.tanh(c2)), c2];
  }
  if (cell === 'gru') {
    const [xr, xz, xn] = tf.split(xp, 3, 1);
    const [hr, hz, hn] = tf.split(tf.add(hp, p.bhh), 3, 1);
    const r = tf.sigmoid(tf.add(xr, hr));
    const z = tf.sigmoid(tf.add(xz, hz));
    const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
    return [tf.add(n, tf.mul(z, tf.sub(h, n)))]; // (1 − z)·n + z·h
  }
  return [tf.tanh(tf.add(xp, hp))];
}

// Weights as tf tensors: W_ihᵀ [in, G·H], W_hhᵀ [H, G·H]; LSTM/RNN fold both biases into the input
// projection, GRU keeps b_hh apart (its candidate gate needs r ⊙ (W_hn h + b_hn)).
function tfWeights(tf, w, stateDict) {
  const GH = GATES[w.cell] * w.H;
  return Array.from({ length: w.layers }, (_, l) => Array.from({ length: directions(w) }, (_, d) => {
    const { wih, whh, bih, bhh } = weightsOf(stateDict, l, d);
    const bias = w.cell === 'gru' ? bih : bih.map((v, i) => v + bhh[i]);
    return tf.tidy(() => ({
      wih: tf.keep(tf.transpose(tf.tensor2d(wih, [GH, layerInput(w, l)]))),
      whh: tf.keep(tf.transpose(tf.tensor2d(whh, [GH, w.H]))),
      bias: tf.keep(tf.tensor1d(bias)),
      bhh: tf.keep(tf.tensor1d(bhh)),
    }));
  }));
}

function tfForward(tf, w, P, x) {
  return tf.tidy(() => {
    let input = x;
    for (let l = 0; l < w.layers; l++) {
      const outputs = P[l].map((p, d) => {
        const inputSize = layerInput(w, l);
        const xp = tf.unstack(tf.add(tf.matMul(tf.reshape(input, [w.T * w.B, inputSize]), p.wih), p.bias).reshape([w.T, w.B, -1]));
        let h = tf.zeros([w.B, w.H]);
        let c = h;
        const ys = new Array(w.T);
        for (let k = 0; k < w.T; k++) {
          const t = d ? w.T - 1 - k : k;
          [h, c] = tfCellStep(tf, w.cell, xp[t], h, c, p);
          ys[t] = h;
        }
        return tf.stack(ys);
      });
      input = outputs.length === 1 ? outputs[0] : tf.concat(outputs, 2);
    }
    return input;
  });
}

// W6, level-batched by hand: nodes laid out level by level (leaves first, then by height), all input
// projections in one matMul, then per level one gather of the children's h and c from the states so far,
// the child sum, the gates and per-child forget gates as batched ops, and the new level appended.

// Level schedule of a batch of trees (parents arrays; trees concatenated into global node ids): `order`
// lists the nodes level by level, `levelStart` where each level begins in it; each level above the
// leaves gives `children` [K·n]: the level-order positions of its n nodes' children, child slot k
// (ascending node index) by slot. Every internal node must have the same number K of children.
function levelSchedule(parentsList) {
  const offsets = [0];
  for (const p of parentsList) offsets.push(offsets.at(-1) + p.length);
  const N = offsets.at(-1);
  const parent = new Int32Array(N);
  const roots = [];
  parentsList.forEach((p, b) => p.forEach((q, j) => {
    parent[offsets[b] + j] = q < 0 ? -1 : offsets[b] + q;
    if (q < 0) roots.push(offsets[b] + j);
  }));
  const childStart = new Int32Array(N + 1);
  for (let j = 0; j < N; j++) if (parent[j] >= 0) childStart[parent[j] + 1]++;
  for (let j = 0; j < N; j++) childStart[j + 1] += childStart[j];
  const childList = new Int32Array(N - roots.length);
  const fill = childStart.slice(0, N);
  for (let j = 0; j < N; j++) if (parent[j] >= 0) childList[fill[parent[j]]++] = j;
  // Heights: leaves 0, else 1 + the tallest child; visited root-first, filled in reverse.
  const visit = Int32Array.from(roots);
  const all = new Int32Array(N);
  all.set(visit);
  let reached = roots.length;
  for (let at = 0; at < reached; at++) {
    const node = all[at];
    for (let e = childStart[node]; e < childStart[node + 1]; e++) all[reached++] = childList[e];
  }
  const height = new Int32Array(N);
  for (let at = N - 1; at >= 0; at--) {
    const node = all[at];
    if (parent[node] >= 0) height[parent[node]] = Math.max(height[parent[node]], height[node] + 1);
  }
  const levels = Math.max(...height) + 1;
  const levelStart = new Int32Array(levels + 1);
  for (let j = 0; j < N; j++) levelStart[height[j] + 1]++;
  for (let l = 0; l < levels; l++) levelStart[l + 1] += levelStart[l];
  const order = new Int32Array(N);
  const position = new Int32Array(N);
  const next = levelStart.slice(0, levels);
  for (let j = 0; j < N; j++) {
    position[j] = next[height[j]]++;
    order[position[j]] = j;
  }
  const K = childStart[order[levelStart[1]] + 1] - childStart[order[levelStart[1]]];
  const levelChildren = [];
  for (let l = 1; l < levels; l++) {
    const n = levelStart[l + 1] - levelStart[l];
    const children = new Int32Array(K * n);
    for (let m = 0; m < n; m++) {
      const node = order[levelStart[l] + m];
      if (childStart[node + 1] - childStart[node] !== K) throw new Error(`level-batched tfjs Tree-LSTM: node ${node} has ${childStart[node + 1] - childStart[node]} children, others ${K}`);
      for (let k = 0; k < K; k++) children[k * n + m] = position[childList[childStart[node] + k]];
    }
    levelChildren.push(children);
  }
  return { order, levelStart, levelChildren, K, rootPositions: Int32Array.from(roots, (r) => position[r]) };
}

function tfTree(tf, w, c) {
  const H = w.H;
  const d = c.stateDict;
  const P = tf.tidy(() => ({
    // [W_iou; W_f]ᵀ [X, 4H] and [b_iou; b_f]: one projection gives i, o, u and the forget gates' W_f x + b_f.
    wx: tf.keep(tf.transpose(tf.concat([tf.tensor2d(d.W_iou.data, d.W_iou.shape), tf.tensor2d(d.W_f.data, d.W_f.shape)], 0))),
    bx: tf.keep(tf.concat([tf.tensor1d(d.b_iou.data), tf.tensor1d(d.b_f.data)])),
    uiou: tf.keep(tf.transpose(tf.tensor2d(d.U_iou.data, d.U_iou.shape))),
    uf: tf.keep(tf.transpose(tf.tensor2d(d.U_f.data, d.U_f.shape))),
  }));
  const xs = c.xs.map((x, b) => tf.tensor2d(x, [c.trees[b].length, w.X]));
  // forward(trees, xs): the schedule is made on every call, as looptree makes its own.
  const forward = () => {
    const s = levelSchedule(c.trees);
    return tf.tidy(() => {
      const x = tf.gather(tf.concat(xs, 0), tf.tensor1d(s.order, 'int32'));
      const projection = tf.add(tf.matMul(x, P.wx), P.bx); // [N, 4H], level order
      const leaves = s.levelStart[1];
      const [i0, o0, u0] = tf.split(tf.slice(projection, [0, 0], [leaves, 3 * H]), 3, 1);
      let cell = tf.mul(tf.sigmoid(i0), tf.tanh(u0));
      let hAll = tf.mul(tf.sigmoid(o0), tf.tanh(cell));
      let cAll = cell;
      s.levelChildren.forEach((children, l) => {
        const start = s.levelStart[l + 1];
        const n = s.levelStart[l + 2] - start;
        const kids = tf.tensor1d(children, 'int32');
        const hk = tf.gather(hAll, kids); // [K·n, H], child slot by slot
        const ck = tf.gather(cAll, kids);
        const [xiou, xf] = tf.split(tf.slice(projection, [start, 0], [n, 4 * H]), [3 * H, H], 1);
        const hSum = tf.addN(tf.split(hk, s.K, 0));
        const [i, o, u] = tf.split(tf.add(xiou, tf.matMul(hSum, P.uiou)), 3, 1);
        // W_f x + b_f once per child slot (concat: tfjs wasm's Tile is many times slower).
        const f = tf.sigmoid(tf.add(tf.concat(Array(s.K).fill(xf), 0), tf.matMul(hk, P.uf)));
        cell = tf.add(tf.mul(tf.sigmoid(i), tf.tanh(u)), tf.addN(tf.split(tf.mul(f, ck), s.K, 0)));
        hAll = tf.concat([hAll, tf.mul(tf.sigmoid(o), tf.tanh(cell))]);
        cAll = tf.concat([cAll, cell]);
      });
      const roots = tf.tensor1d(s.rootPositions, 'int32');
      return [tf.gather(hAll, roots), tf.gather(cAll, roots)];
    });
  };
  const run = () => {
    const roots = forward();
    const [h, cell] = roots.map((t) => t.dataSync());
    tf.dispose(roots);
    return { h, c: cell };
  };
  return { output: run(), run, dispose: () => tf.dispose([...Object.values(P), ...xs]) };
}

// W8: the LSTM of tfForward's step with its parameters as tf.variables (input-major layout x·W; PyTorch's
// two biases kept apart, so that Adam moves each as PyTorch does), Linear and cross-entropy with tf ops,
// gradients from tf.variableGrads, and tf.train.adam with PyTorch's betas and eps (tfjs' default eps is 1e-7).
function tfTrain(tf, w, c) {
  const { wih, whh, bih, bhh } = weightsOf(c.stateDict, 0, 0);
  const GH = 4 * w.H;
  const initial = [
    [tf.tensor2d(wih, [GH, w.I]), true], [tf.tensor2d(whh, [GH, w.H]), true], [tf.tensor1d(bih), false], [tf.tensor1d(bhh), false],
    [tf.tensor2d(c.linear.weight.data, c.linear.weight.shape), true], [tf.tensor1d(c.linear.bias.data), false],
  ];
  // PyTorch's order: weight_ih, weight_hh, bias_ih, bias_hh, linear weight, linear bias (matrices transposed).
  const vars = initial.map(([t, transposed]) => {
    const value = transposed ? tf.transpose(t) : t;
    const v = tf.variable(value);
    tf.dispose([t, value]);
    return v;
  });
  const [wihT, whhT, bIh, bHh, linearW, linearB] = vars;
  const x = tf.tensor2d(c.x, [w.T * w.B, w.I]);
  const targets = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(c.labels, 'int32'), w.classes), 'float32'));
  const optimizer = tf.train.adam(w.lr, 0.9, 0.999, 1e-8);
  const loss = () => {
    const xp = tf.unstack(tf.reshape(tf.add(tf.matMul(x, wihT), tf.add(bIh, bHh)), [w.T, w.B, GH]));
    let h = tf.zeros([w.B, w.H]);
    let cell = h;
    const ys = [];
    for (let t = 0; t < w.T; t++) {
      [h, cell] = tfCellStep(tf, 'lstm', xp[t], h, cell, { whh: whhT });
      ys.push(h);
    }
    const logits = tf.add(tf.matMul(tf.concat(ys, 0), linearW), linearB); // [T·B, C], time-major like the labels
    return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1)));
  };
  let lastGrads;
  const run = () => {
    const { value, grads } = tf.variableGrads(loss, vars);
    optimizer.applyGradients(grads);
    const result = value.dataSync()[0];
    tf.dispose([value, ...(lastGrads ? Object.values(lastGrads) : [])]);
    lastGrads = grads;
    return result;
  };
  const first = run();
  const pytorchLayout = (t, i) => tf.tidy(() => (initial[i][1] ? tf.transpose(t) : t.clone()).dataSync());
  const output = trainCheck(first, vars.map(pytorchLayout), vars.map((v, i) => pytorchLayout(lastGrads[v.name], i)));
  return {
    output,
    run,
    dispose: () => {
      tf.dispose([...vars, x, targets, ...Object.values(lastGrads)]);
      optimizer.dispose();
    },
  };
}

function tfjsRunner(backend) {
  return {
    name: `tfjs-${backend}`,
    label: `tfjs ${backend}`,
    versionOf: backend === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs',
    async load() {
      const tf = await import('@tensorflow/tfjs');
      tf.enableProdMode();
      if (backend === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(path.join(BENCH_DIR, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
        wasm.setThreadsCount(1);
      }
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not initialize`);
      return tf;
    },
    // Both tfjs runners share one engine: each sample first makes its own backend current, and
    // each keeps its own tensors, so nothing moves between backends while timing.
    async prepare(tf, w, c) {
      const activate = () => tf.setBackend(backend);
      await activate();
      if (w.kind === 'tree') return { ...tfTree(tf, w, c), activate };
      if (w.kind === 'train') return { ...tfTrain(tf, w, c), activate };
      const P = tfWeights(tf, w, c.stateDict);
      const disposeWeights = () => P.flat().forEach((p) => tf.dispose(Object.values(p)));
      if (w.kind === 'step') {
        // A single layer and direction, as for looptree's stream.step (unidirectional only).
        const p = P[0][0];
        const x = tf.tensor2d(c.x, [w.B, w.I]);
        let state = [tf.tensor2d(c.h0, [w.B, w.H]), ...(c.c0 ? [tf.tensor2d(c.c0, [w.B, w.H])] : [])];
        const run = () => {
          const next = tf.tidy(() => tfCellStep(tf, w.cell, tf.add(tf.matMul(x, p.wih), p.bias), state[0], state[1], p));
          tf.dispose(state);
          state = next;
          return next[0].dataSync();
        };
        return { output: run(), run, activate, dispose: () => { disposeWeights(); tf.dispose([x, ...state]); } };
      }
      const x = tf.tensor3d(c.x, [w.T, w.B, w.I]);
      const run = () => {
        const y = tfForward(tf, w, P, x);
        const data = y.dataSync();
        y.dispose();
        return data;
      };
      return { output: run(), run, activate, dispose: () => { disposeWeights(); x.dispose(); } };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// brain.js: its recurrent cells are not PyTorch's (LSTM feeds h_{t−1} where c_{t−1} belongs and
// keeps no cell state; GRU applies the reset gate before the matmul; RNN is ReLU), so it gets the
// same weights and shapes but its output is not compared. Each layer and direction is a one-layer
// *TimeStep net run per sequence (no batching); bidirectional layers run a net on the reversed sequence.

// brain.js matrix names per cell, with the PyTorch gate each takes its weights from.
const BRAIN_GATES = {
  lstm: [['input', 0], ['forget', 1], ['cellActivation', 2], ['output', 3]].map(([n, g]) => [`${n}Matrix`, `${n}Hidden`, `${n}Bias`, g]),
  gru: [['resetGate', 0], ['updateGate', 1], ['cellWrite', 2]].map(([n, g]) => [`${n}InputMatrix`, `${n}HiddenMatrix`, `${n}Bias`, g]),
  rnn: [['weight', 'transition', 'bias', 0]],
};

function brainNet(brain, w, stateDict, l, d) {
  const Net = { lstm: brain.recurrent.LSTMTimeStep, gru: brain.recurrent.GRUTimeStep, rnn: brain.recurrent.RNNTimeStep }[w.cell];
  const net = new Net({ inputSize: layerInput(w, l), hiddenLayers: [w.H], outputSize: 1 });
  net.initialize();
  net.bindEquation();
  const layer = net.model.hiddenLayers[0];
  const { wih, whh, bih, bhh } = weightsOf(stateDict, l, d);
  const rows = (m, g, cols) => m.subarray(g * w.H * cols, (g + 1) * w.H * cols);
  for (const [x, h, b, g] of BRAIN_GATES[w.cell]) {
    layer[x].weights.set(rows(wih, g, layerInput(w, l)));
    layer[h].weights.set(rows(whh, g, w.H));
    layer[b].weights.set(rows(bih, g, 1).map((v, i) => v + rows(bhh, g, 1)[i]));
  }
  return net;
}

// Runs `net` over `sequence` and returns the hidden state after each step (views, valid until its next run).
function brainHiddenStates(net, sequence) {
  net.run(sequence);
  return net.model.equationConnections.slice(0, sequence.length).map((outputs) => outputs[0].weights);
}

function concatenate(a, b) {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const brainjs = {
  name: 'brain.js',
  label: 'brain.js',
  compares: false,
  notApplicable: (w) => ({
    tree: 'no tree-structured (recursive) networks in brain.js',
    train: 'cannot express it: brain.js trains one sequence at a time with its own RMSProp-style update (no Adam, no batches, no per-step Linear + cross-entropy head)',
  })[w.kind],
  note: 'own cell math (LSTM without cell state, GRU reset before matmul, ReLU RNN): same weights, output not compared',
  async load() {
    const mod = await import('brain.js');
    return mod.default ?? mod;
  },
  async prepare(brain, w, c) {
    const nets = Array.from({ length: w.layers }, (_, l) => Array.from({ length: directions(w) }, (_, d) => brainNet(brain, w, c.stateDict, l, d)));
    if (w.kind === 'step') {
      const net = nets[0][0];
      const h = net.initialLayerInputs[0].weights;
      h.set(c.h0.subarray(0, w.H));
      const x = [c.x];
      const run = () => h.set(brainHiddenStates(net, x)[0]);
      run();
      return { output: null, run };
    }
    const run = () => {
      for (let b = 0; b < w.B; b++) {
        let sequence = Array.from({ length: w.T }, (_, t) => c.x.subarray((t * w.B + b) * w.I, (t * w.B + b + 1) * w.I));
        for (const layerNets of nets) {
          const [forward, backward] = layerNets.map((net, d) => (d
            ? brainHiddenStates(net, sequence.toReversed()).toReversed()
            : brainHiddenStates(net, sequence)));
          sequence = backward ? forward.map((hf, t) => concatenate(hf, backward[t])) : forward;
        }
      }
    };
    run(); // the first run, as every runner's prepare() does
    return { output: null, run };
  },
};

// Timing order is rotated per repetition; the first runner that prepares is the reference for outputs.
export const RUNNERS = [looptree, looptreeInt8, onnxruntimeNode, onnxruntimeWeb, onnxruntimeNodeInt8, onnxruntimeWebInt8, tfjsRunner('wasm'), tfjsRunner('cpu'), brainjs, looptreeRunner(2), onnxruntimeWeb2];
