// Workload table of DESIGN §9, FLOP counts, and the seeded weights and inputs that every runner gets.

// One entry per workload; `kind` picks each runner's adapter: 'sequence' (a recurrent forward pass over
// [T, B, I]), 'step' (one streaming step from a given state), 'tree' (a batch of trees through a
// Tree-LSTM) and 'train' (one optimizer step: forward, backward through time, Adam).
// `pending` rows are printed but not run (no API yet).
// `pytorchMs`: PyTorch 1.13.1 (1 thread) figures recorded on this machine (issues 3, 4, 5), not rerun here;
// `pytorchNote` says how PyTorch ran where that is not obvious.
export const ALL_WORKLOADS = [
  { id: 'W1', title: 'LSTM 64→128, B1, T100', cell: 'lstm', I: 64, H: 128, B: 1, T: 100, pytorchMs: 1.48 },
  { id: 'W2', title: 'LSTM 128→256, B32, T50', cell: 'lstm', I: 128, H: 256, B: 32, T: 50, pytorchMs: 19.0 },
  { id: 'W3', title: 'GRU 128→256, B32, T50', cell: 'gru', I: 128, H: 256, B: 32, T: 50, pytorchMs: 13.4 },
  { id: 'W4', title: 'BiLSTM 2 layers 64→128, B8, T64', cell: 'lstm', I: 64, H: 128, B: 8, T: 64, layers: 2, bidirectional: true, pytorchMs: 16.7 },
  { id: 'W5', title: 'RNN tanh 128→256, B1, T200', cell: 'rnn', I: 128, H: 256, B: 1, T: 200, pytorchMs: 1.63 },
  // Random full binary trees (seeded), 64 of them with 32 leaves each: 63 nodes per tree, node ids in
  // pre-order (SST-style: root 0, left subtree before right), every node with an input x.
  {
    id: 'W6', title: 'child-sum Tree-LSTM 64→128, 64 trees × 32 leaves', kind: 'tree', cell: 'childsum',
    X: 64, H: 128, trees: 64, leaves: 32,
    pytorchMs: 13.3, pytorchNote: 'level-batched by hand; node by node 147 ms',
  },
  { id: 'W7', title: 'one LSTM step 64→128, B1', kind: 'step', cell: 'lstm', I: 64, H: 128, B: 1, T: 1, pytorchMs: 0.037 },
  // W2's LSTM, then Linear(H → classes) on every step, cross-entropy (mean over all T·B positions), Adam.
  {
    id: 'W8', title: 'train step: W2 LSTM + Linear→10, CE, Adam', kind: 'train', cell: 'lstm',
    I: 128, H: 256, B: 32, T: 50, classes: 10, lr: 1e-3, pytorchMs: 64,
  },
].map((w) => (w.pending ? w : { kind: 'sequence', layers: 1, bidirectional: false, ...w }));

// The recurrent forward workloads (W1–W5, W7), under the name scripts/start.mjs imports: it times them
// with looptree alone and knows no other kind.
export const WORKLOADS = ALL_WORKLOADS.filter((w) => w.kind === 'sequence' || w.kind === 'step');

export const GATES = { lstm: 4, gru: 3, rnn: 1 };

export const directions = (w) => (w.bidirectional ? 2 : 1);

// Input width of layer `l`: the workload's input, then the previous layer's (both directions).
export const layerInput = (w, l) => (l === 0 ? w.I : w.H * directions(w));

// 2·(I + H)·G·H·B·T per layer and direction.
function recurrentFlops(w) {
  let total = 0;
  for (let l = 0; l < w.layers; l++) {
    total += 2 * (layerInput(w, l) + w.H) * GATES[w.cell] * w.H * w.B * w.T * directions(w);
  }
  return total;
}

// Nodes, internal nodes and child edges of a tree workload: `trees` full binary trees of `leaves`
// leaves each, whatever their shape (2L − 1 nodes, L − 1 internal, 2L − 2 edges per tree).
export function treeCounts(w) {
  const internal = w.trees * (w.leaves - 1);
  return { nodes: w.trees * (2 * w.leaves - 1), internal, edges: 2 * internal };
}

// The multiply-adds a workload needs, ×2.
// - sequence, step: 2·(I + H)·G·H·B·T per layer and direction.
// - tree (child-sum Tree-LSTM, fixtures/README.md): every node W_iou x (2·X·3H); every internal node
//   W_f x (2·X·H) and U_iou h̃ (2·H·3H); every child edge U_f h_k (2·H·H). Leaves have h̃ = 0 and no f.
//   W6: 2·(4032·64·384 + 1984·(64·128 + 128·384) + 3968·128·128) = 0.556 GFLOP.
// - train: forward (the LSTM's count + Linear 2·H·C·T·B), backward twice that (dX and dW), so 3× the
//   forward; Adam's elementwise update and the softmax are not counted. W8: 3·(1.258 + 0.008) = 3.80 GFLOP.
export function flops(w) {
  if (w.kind === 'tree') {
    const { nodes, internal, edges } = treeCounts(w);
    return 2 * (nodes * w.X * 3 * w.H + internal * (w.X * w.H + w.H * 3 * w.H) + edges * w.H * w.H);
  }
  if (w.kind === 'train') return 3 * (recurrentFlops(w) + 2 * w.H * w.classes * w.T * w.B);
  return recurrentFlops(w);
}

// mulberry32: small, fast, and the same sequence in every engine.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(rand, n, bound) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rand() - 1) * bound;
  return out;
}

// Weights in PyTorch naming and layout, drawn from PyTorch's own init range U(-1/√H, 1/√H).
function recurrentStateDict(w, rand) {
  const G = GATES[w.cell];
  const k = 1 / Math.sqrt(w.H);
  const stateDict = {};
  for (let l = 0; l < w.layers; l++) {
    for (const suffix of w.bidirectional ? ['', '_reverse'] : ['']) {
      const p = (name) => `${name}_l${l}${suffix}`;
      stateDict[p('weight_ih')] = { shape: [G * w.H, layerInput(w, l)], data: uniform(rand, G * w.H * layerInput(w, l), k) };
      stateDict[p('weight_hh')] = { shape: [G * w.H, w.H], data: uniform(rand, G * w.H * w.H, k) };
      stateDict[p('bias_ih')] = { shape: [G * w.H], data: uniform(rand, G * w.H, k) };
      stateDict[p('bias_hh')] = { shape: [G * w.H], data: uniform(rand, G * w.H, k) };
    }
  }
  return stateDict;
}

// A random full binary tree of `leaves` leaves as a parents array, nodes numbered in pre-order: each
// internal node splits its leaves at a uniformly drawn point (left 1 … n − 1), as random bracketings do.
function randomBinaryTree(rand, leaves) {
  const parents = [];
  const grow = (n, parent) => {
    const id = parents.length;
    parents.push(parent);
    if (n === 1) return;
    const left = 1 + Math.floor(rand() * (n - 1));
    grow(left, id);
    grow(n - left, id);
  };
  grow(leaves, -1);
  return Int32Array.from(parents);
}

// The case every runner gets for workload `w`.
// - sequence, step: PyTorch `stateDict`, input x [T, B, I] and, for a streaming step, a non-zero
//   initial state h0/c0 [layers·D, B, H].
// - tree: `stateDict` in the fixtures' names and layouts (W_iou [3H, X], U_iou [3H, H], b_iou [3H],
//   W_f [H, X], U_f [H, H], b_f [H]; U(-1/√H, 1/√H)), `trees` (one parents array each) and `xs` (one
//   [nodes, X] array per tree, rows in that tree's node order).
// - train: the LSTM's `stateDict`, x [T, B, I], `linear` { weight [C, H], bias [C] } (nn.Linear's init
//   range U(-1/√H, 1/√H)) and `labels` [T·B] (time-major, class ids 0 … C − 1).
export function makeCase(w) {
  const rand = prng(Number(w.id.slice(1)) * 7919);
  if (w.kind === 'tree') {
    const k = 1 / Math.sqrt(w.H);
    const param = (shape) => ({ shape, data: uniform(rand, shape.reduce((a, b) => a * b, 1), k) });
    const stateDict = {
      W_iou: param([3 * w.H, w.X]), U_iou: param([3 * w.H, w.H]), b_iou: param([3 * w.H]),
      W_f: param([w.H, w.X]), U_f: param([w.H, w.H]), b_f: param([w.H]),
    };
    const trees = Array.from({ length: w.trees }, () => randomBinaryTree(rand, w.leaves));
    const xs = trees.map((parents) => uniform(rand, parents.length * w.X, 1));
    return { stateDict, trees, xs };
  }
  const stateDict = recurrentStateDict(w, rand);
  if (w.kind === 'train') {
    const x = uniform(rand, w.T * w.B * w.I, 1);
    const k = 1 / Math.sqrt(w.H);
    const linear = {
      weight: { shape: [w.classes, w.H], data: uniform(rand, w.classes * w.H, k) },
      bias: { shape: [w.classes], data: uniform(rand, w.classes, k) },
    };
    const labels = Int32Array.from({ length: w.T * w.B }, () => Math.floor(rand() * w.classes));
    return { stateDict, x, linear, labels };
  }
  const stateShape = [w.layers * directions(w), w.B, w.H];
  const stateSize = stateShape[0] * w.B * w.H;
  return {
    stateDict,
    x: uniform(rand, w.T * w.B * w.I, 1),
    ...(w.kind === 'step' && {
      stateShape,
      h0: uniform(rand, stateSize, 0.5),
      c0: w.cell === 'lstm' ? uniform(rand, stateSize, 0.5) : undefined,
    }),
  };
}
