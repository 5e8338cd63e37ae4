// Workload table of DESIGN §9, FLOP counts, and the seeded weights and inputs that every runner gets.

// One entry per workload. A recurrent workload needs only its shapes; `kind: 'step'` is one
// streaming step from a given state. `pending` rows are printed but not run (no API yet).
// `pytorchMs`: PyTorch 1.13.1 (1 thread) figures recorded on this machine (issue 3), not rerun here.
export const WORKLOADS = [
  { id: 'W1', title: 'LSTM 64→128, B1, T100', cell: 'lstm', I: 64, H: 128, B: 1, T: 100, pytorchMs: 1.48 },
  { id: 'W2', title: 'LSTM 128→256, B32, T50', cell: 'lstm', I: 128, H: 256, B: 32, T: 50, pytorchMs: 19.0 },
  { id: 'W3', title: 'GRU 128→256, B32, T50', cell: 'gru', I: 128, H: 256, B: 32, T: 50, pytorchMs: 13.4 },
  { id: 'W4', title: 'BiLSTM 2 layers 64→128, B8, T64', cell: 'lstm', I: 64, H: 128, B: 8, T: 64, layers: 2, bidirectional: true, pytorchMs: 16.7 },
  { id: 'W5', title: 'RNN tanh 128→256, B1, T200', cell: 'rnn', I: 128, H: 256, B: 1, T: 200, pytorchMs: 1.63 },
  { id: 'W6', title: 'child-sum Tree-LSTM, 64 trees × 32 leaves', pending: 'Tree-LSTM API not in looptree yet' },
  { id: 'W7', title: 'one LSTM step 64→128, B1', kind: 'step', cell: 'lstm', I: 64, H: 128, B: 1, T: 1, pytorchMs: 0.037 },
  { id: 'W8', title: 'training step, W2 LSTM + Linear', pending: 'training API not in looptree yet' },
].map((w) => (w.pending ? w : { kind: 'sequence', layers: 1, bidirectional: false, ...w }));

export const GATES = { lstm: 4, gru: 3, rnn: 1 };

export const directions = (w) => (w.bidirectional ? 2 : 1);

// Input width of layer `l`: the workload's input, then the previous layer's (both directions).
export const layerInput = (w, l) => (l === 0 ? w.I : w.H * directions(w));

// 2·(I + H)·G·H·B·T per layer and direction.
export function flops(w) {
  let total = 0;
  for (let l = 0; l < w.layers; l++) {
    total += 2 * (layerInput(w, l) + w.H) * GATES[w.cell] * w.H * w.B * w.T * directions(w);
  }
  return total;
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

// Weights in PyTorch naming and layout, drawn from PyTorch's own init range U(-1/√H, 1/√H);
// input x [T, B, I] and, for a streaming step, a non-zero initial state h0/c0 [layers·D, B, H].
export function makeCase(w) {
  const rand = prng(Number(w.id.slice(1)) * 7919);
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
