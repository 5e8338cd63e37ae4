// The runners — looptree and its peers: each loads its library and turns a workload and its case (weights, input) into a first output to compare and a run() to time.
//
// Runner: { name, label, versionOf?: package whose version is reported, load() → lib,
// offline?(w, c) → what a user would build ahead of time (an .onnx file),
// prepare(lib, w, c, offline) → { output, run(), async?, activate?(), dispose?() },
// compares?: false and note when its math is not PyTorch's }.
// prepare() runs the workload once (its output is the one compared); run() runs it again.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { recurrentOnnxModel } from './onnx-writer.mjs';
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
// looptree, through its public API (DESIGN §4)

const looptree = {
  name: 'looptree',
  label: 'looptree',
  async load() {
    if (!existsSync(LOOPTREE_ENTRY)) throw new Error('dist/index.js missing: run `npm run build` at the repo root');
    const lt = await import(pathToFileURL(LOOPTREE_ENTRY).href);
    await lt.init();
    return lt;
  },
  async prepare(lt, w, c) {
    const Model = { lstm: lt.LSTM, gru: lt.GRU, rnn: lt.RNN }[w.cell];
    const model = new Model({
      inputSize: w.I, hiddenSize: w.H, numLayers: w.layers, bidirectional: w.bidirectional,
      ...(w.cell === 'rnn' && { nonlinearity: 'tanh' }),
    });
    model.loadStateDict(c.stateDict);
    const dispose = () => model.dispose();
    if (w.kind === 'step') {
      const stream = model.stream({
        batch: w.B,
        h0: lt.tensor(c.h0, c.stateShape),
        ...(c.c0 && { c0: lt.tensor(c.c0, c.stateShape) }),
      });
      const x = lt.tensor(c.x, [w.B, w.I]);
      return { output: stream.step(x).data, run: () => stream.step(x), dispose };
    }
    const x = lt.tensor(c.x, [w.T, w.B, w.I]);
    return { output: model.forward(x).output.data, run: () => model.forward(x), dispose };
  },
};

// ---------------------------------------------------------------------------------------------
// onnxruntime (node: native CPU; web: its wasm build), on ONNX models written from the same weights

function onnxRunner({ name, label, setup, sessionOptions }) {
  return {
    name,
    label,
    async load() {
      const ort = await import(name);
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
export const RUNNERS = [looptree, onnxruntimeNode, onnxruntimeWeb, tfjsRunner('wasm'), tfjsRunner('cpu'), brainjs];
