// Test helper: a float64 reference of TF.js layers (Keras) inference in plain loops, written from the Keras
// definitions and independent of bindings/io/keras: it runs a model.json (Sequential or a functional chain listed
// in order) on weights in Keras layouts and gate orders (LSTM i f c o, GRU z r h), with TF.js's rnn() masking:
// a masked step keeps the states and outputs the previous output (the initial state before any step).

export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

/** Weights by manifest name, as float64 copies of the float32 values the model holds. */
export type RefWeights = Map<string, Float64Array>;

/** Carried states of stateful layers, by layer name (and direction); pass the same object to successive calls. */
export type RefStates = Map<string, Float64Array[]>;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for a float32 comparison. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}

const ACTIVATIONS: Record<string, (x: number) => number> = {
  linear: (x) => x,
  tanh: Math.tanh,
  sigmoid,
  relu: (x) => Math.max(0, x),
  hard_sigmoid: (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)),
  elu: (x) => (x >= 0 ? x : Math.exp(x) - 1),
  selu: (x) => 1.0507009873554805 * (x >= 0 ? x : 1.6732632423543772 * (Math.exp(x) - 1)),
  softplus: (x) => Math.log(1 + Math.exp(x)),
  softsign: (x) => x / (1 + Math.abs(x)),
  swish: (x) => x * sigmoid(x),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.sqrt(2))),
};

function activation(name: string | undefined, fallback: string): (x: number) => number {
  const f = ACTIVATIONS[name ?? fallback];
  if (!f) throw new Error(`reference: unknown activation ${name}`);
  return f;
}

function weight(weights: RefWeights, layer: string, role: string, direction = ''): Float64Array {
  for (const [name, values] of weights) {
    if (name.startsWith(`${layer}/`) && name.endsWith(`/${role}`) && name.includes(direction)) return values;
  }
  throw new Error(`reference: no weight ${layer}/${direction}…/${role}`);
}

/** out[j] += Σ_i x[i] · W[i, j] for W [rows, cols] row-major (x @ W). */
function addMatVec(out: Float64Array, x: ArrayLike<number>, w: Float64Array, rows: number, cols: number, colOffset: number, width: number): void {
  for (let j = 0; j < width; j++) {
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += x[i] * w[i * cols + colOffset + j];
    out[j] += sum;
  }
}

interface Cell {
  units: number;
  /** One step: new output and states from x [I] and states ([h] or [h, c]). */
  step(x: ArrayLike<number>, states: Float64Array[]): Float64Array[];
  stateCount: number;
}

function makeCell(className: string, config: any, weights: RefWeights, layer: string, direction: string, inputSize: number): Cell {
  const U = config.units;
  const act = activation(config.activation, 'tanh');
  const rec = activation(config.recurrent_activation, 'hard_sigmoid');
  const useBias = config.use_bias ?? true;
  const kernel = weight(weights, layer, 'kernel', direction);
  const recurrent = weight(weights, layer, 'recurrent_kernel', direction);
  const gates = className === 'LSTM' ? 4 : className === 'GRU' ? 3 : 1;
  const bias = useBias ? weight(weights, layer, 'bias', direction) : new Float64Array(2 * gates * U);
  const G = gates * U;
  /** Pre-activation of gate block g: x @ K_g + b_g (+ h @ R_g + recurrent bias when withRecurrent). */
  const gate = (g: number, x: ArrayLike<number>, h: ArrayLike<number> | null) => {
    const z = new Float64Array(U);
    for (let j = 0; j < U; j++) z[j] = bias[g * U + j];
    addMatVec(z, x, kernel, inputSize, G, g * U, U);
    if (h) addMatVec(z, h, recurrent, U, G, g * U, U);
    return z;
  };
  if (className === 'SimpleRNN') {
    return { units: U, stateCount: 1, step: (x, [h]) => [gate(0, x, h).map(act)] };
  }
  if (className === 'LSTM') {
    return {
      units: U, stateCount: 2,
      step: (x, [h, c]) => {
        const [i, f, g, o] = [0, 1, 2, 3].map((k) => gate(k, x, h));
        const c2 = new Float64Array(U), h2 = new Float64Array(U);
        for (let j = 0; j < U; j++) {
          c2[j] = rec(f[j]) * c[j] + rec(i[j]) * act(g[j]);
          h2[j] = rec(o[j]) * act(c2[j]);
        }
        return [h2, c2];
      },
    };
  }
  const resetAfter = config.reset_after ?? false;
  return {
    units: U, stateCount: 1,
    step: (x, [h]) => {
      const z = new Float64Array(U), r = new Float64Array(U), candidate = new Float64Array(U);
      const xz = gate(0, x, null), xr = gate(1, x, null), xh = gate(2, x, null);
      const hz = new Float64Array(U), hr = new Float64Array(U);
      addMatVec(hz, h, recurrent, U, G, 0, U);
      addMatVec(hr, h, recurrent, U, G, U, U);
      for (let j = 0; j < U; j++) {
        const recurrentBias = (k: number) => (resetAfter && useBias ? bias[G + k * U + j] : 0);
        z[j] = rec(xz[j] + hz[j] + recurrentBias(0));
        r[j] = rec(xr[j] + hr[j] + recurrentBias(1));
      }
      if (resetAfter) {
        const hh = new Float64Array(U);
        addMatVec(hh, h, recurrent, U, G, 2 * U, U);
        for (let j = 0; j < U; j++) candidate[j] = act(xh[j] + r[j] * (hh[j] + (useBias ? bias[G + 2 * U + j] : 0)));
      } else {
        const rh = new Float64Array(U);
        addMatVec(rh, h.map((v, j) => r[j] * v), recurrent, U, G, 2 * U, U);
        for (let j = 0; j < U; j++) candidate[j] = act(xh[j] + rh[j]);
      }
      return [Float64Array.from(h, (v, j) => z[j] * v + (1 - z[j]) * candidate[j])];
    },
  };
}

/** TF.js rnn(): [sequence outputs in processing order, last output, final states]; zeroOutput: Python Keras' zero_output_for_mask. */
function runRnn(cell: Cell, x: RefTensor, mask: Uint8Array | null, goBackwards: boolean, initial: Float64Array[][] | null, zeroOutput: boolean) {
  const [B, T, I] = x.shape;
  const U = cell.units;
  const sequence = new Float64Array(B * T * U);
  const last = new Float64Array(B * U);
  const finals: Float64Array[][] = [];
  for (let b = 0; b < B; b++) {
    let states = initial ? initial[b] : Array.from({ length: cell.stateCount }, () => new Float64Array(U));
    let output = states[0];
    for (let s = 0; s < T; s++) {
      const t = goBackwards ? T - 1 - s : s;
      const stepped = cell.step(x.data.subarray((b * T + t) * I, (b * T + t + 1) * I), states);
      if (!mask || mask[b * T + t]) {
        states = stepped;
        output = stepped[0];
      } else {
        output = zeroOutput ? new Float64Array(U) : states[0];
      }
      sequence.set(output, (b * T + s) * U);
    }
    last.set(output, b * U);
    finals.push(states);
  }
  return { sequence, last, finals };
}

/** Per-batch states ([b][k]) ↔ the flat arrays kept for stateful layers ([k] of [B·U]). */
function flatStates(finals: Float64Array[][]): Float64Array[] {
  return finals[0].map((_, k) => {
    const U = finals[0][k].length;
    const out = new Float64Array(finals.length * U);
    finals.forEach((states, b) => out.set(states[k], b * U));
    return out;
  });
}
function perBatch(flat: Float64Array[], B: number): Float64Array[][] {
  return Array.from({ length: B }, (_, b) => flat.map((values) => {
    const U = values.length / B;
    return values.slice(b * U, (b + 1) * U);
  }));
}

function recurrentLayer(className: string, config: any, weights: RefWeights, name: string, x: RefTensor, mask: Uint8Array | null,
                        states: RefStates, direction = '', goBackwards = config.go_backwards ?? false) {
  const [B, T, I] = x.shape;
  const cell = makeCell(className, config, weights, name, direction, I);
  const key = `${name}/${direction}`;
  const initial = config.stateful && states.has(key) ? perBatch(states.get(key)!, B) : null;
  const run = runRnn(cell, x, mask, goBackwards, initial, config.zero_output_for_mask ?? false);
  if (config.stateful) states.set(key, flatStates(run.finals));
  const U = cell.units;
  const output: RefTensor = config.return_sequences ? { shape: [B, T, U], data: run.sequence } : { shape: [B, U], data: run.last };
  const finalStates = flatStates(run.finals).map((data) => ({ shape: [B, U], data }));
  return { output, finalStates };
}

function reverseTime(t: RefTensor): RefTensor {
  const [B, T] = t.shape;
  const F = t.data.length / (B * T);
  const out = new Float64Array(t.data.length);
  for (let b = 0; b < B; b++) for (let s = 0; s < T; s++) out.set(t.data.subarray((b * T + s) * F, (b * T + s + 1) * F), (b * T + T - 1 - s) * F);
  return { shape: t.shape, data: out };
}

function merge(a: RefTensor, b: RefTensor, mode: string | null): RefTensor[] {
  if (mode === null) return [a, b];
  const U = a.shape[a.shape.length - 1];
  const rows = a.data.length / U;
  if (mode === 'concat') {
    const out = new Float64Array(2 * a.data.length);
    for (let r = 0; r < rows; r++) {
      out.set(a.data.subarray(r * U, (r + 1) * U), 2 * r * U);
      out.set(b.data.subarray(r * U, (r + 1) * U), (2 * r + 1) * U);
    }
    return [{ shape: [...a.shape.slice(0, -1), 2 * U], data: out }];
  }
  const f = { sum: (p: number, q: number) => p + q, mul: (p: number, q: number) => p * q, ave: (p: number, q: number) => (p + q) / 2 }[mode]!;
  return [{ shape: a.shape, data: a.data.map((v, i) => f(v, b.data[i])) }];
}

function dense(config: any, weights: RefWeights, name: string, x: RefTensor): RefTensor {
  const kernel = weight(weights, name, 'kernel');
  const I = x.shape[x.shape.length - 1], U = config.units;
  const bias = (config.use_bias ?? true) ? weight(weights, name, 'bias') : new Float64Array(U);
  const rows = x.data.length / I;
  const out = new Float64Array(rows * U);
  for (let r = 0; r < rows; r++) {
    const y = out.subarray(r * U, (r + 1) * U);
    y.set(bias);
    addMatVec(y, x.data.subarray(r * I, (r + 1) * I), kernel, I, U, 0, U);
  }
  return applyActivation({ shape: [...x.shape.slice(0, -1), U], data: out }, config.activation ?? 'linear');
}

function applyActivation(x: RefTensor, name: string): RefTensor {
  if (name !== 'softmax') return { shape: x.shape, data: x.data.map(activation(name, 'linear')) };
  const U = x.shape[x.shape.length - 1];
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length; r += U) {
    const row = x.data.subarray(r, r + U);
    const max = Math.max(...row);
    const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    for (let j = 0; j < U; j++) out[r + j] = Math.exp(row[j] - max) / sum;
  }
  return { shape: x.shape, data: out };
}

/** Runs the model: one output per model output (Sequential: every output of the last layer). */
export function referencePredict(model: any, weights: RefWeights, input: { shape: number[]; data: ArrayLike<number> },
                                 states: RefStates = new Map()): RefTensor[] {
  const topology = model.modelTopology.model_config ?? model.modelTopology;
  const layers: any[] = topology.config.layers ?? topology.config;
  let x: RefTensor = { shape: input.shape, data: Float64Array.from(input.data) };
  let mask: Uint8Array | null = null;
  let outputs: RefTensor[] = [x];
  for (const layer of layers) {
    const { class_name: className, config } = layer;
    const name = layer.name ?? config.name;
    const [B, T] = x.shape;
    switch (className) {
      case 'InputLayer':
        continue;
      case 'Embedding': {
        const table = weight(weights, name, 'embeddings');
        const E = config.output_dim;
        const out = new Float64Array(x.data.length * E);
        x.data.forEach((id, i) => out.set(table.subarray(id * E, (id + 1) * E), i * E));
        mask = config.mask_zero ? Uint8Array.from(x.data, (id) => (id !== 0 ? 1 : 0)) : null;
        outputs = [{ shape: [...x.shape, E], data: out }];
        break;
      }
      case 'Masking': {
        const F = x.shape[2];
        const value = config.mask_value ?? 0;
        mask = new Uint8Array(B * T);
        const out = x.data.slice();
        for (let s = 0; s < B * T; s++) {
          mask[s] = x.data.subarray(s * F, (s + 1) * F).some((v) => v !== value) ? 1 : 0;
          if (!mask[s]) out.fill(0, s * F, (s + 1) * F);
        }
        outputs = [{ shape: x.shape, data: out }];
        break;
      }
      case 'SimpleRNN': case 'LSTM': case 'GRU': {
        const { output, finalStates } = recurrentLayer(className, config, weights, name, x, mask, states);
        outputs = config.return_state ? [output, ...finalStates] : [output];
        if (!config.return_sequences) mask = null;
        break;
      }
      case 'Bidirectional': {
        const inner = config.layer;
        const goBackwards = inner.config.go_backwards ?? false;
        const forward = recurrentLayer(inner.class_name, inner.config, weights, name, x, mask, states, '/forward_', goBackwards);
        const backward = recurrentLayer(inner.class_name, inner.config, weights, name, x, mask, states, '/backward_', !goBackwards);
        const backwardOutput = inner.config.return_sequences ? reverseTime(backward.output) : backward.output;
        const mode = 'merge_mode' in config ? config.merge_mode : 'concat';
        outputs = merge(forward.output, backwardOutput, mode);
        if (inner.config.return_state) outputs.push(...forward.finalStates, ...backward.finalStates);
        if (!inner.config.return_sequences) mask = null;
        break;
      }
      case 'Dense':
        outputs = [dense(config, weights, name, x)];
        break;
      case 'TimeDistributed':
        outputs = [dense(config.layer.config, weights, name, x)];
        break;
      case 'Activation':
        outputs = [applyActivation(x, config.activation)];
        break;
      case 'Dropout': case 'SpatialDropout1D':
        break;
      case 'Flatten':
        outputs = [{ shape: [B, x.data.length / B], data: x.data }];
        break;
      case 'Reshape': {
        const known = config.target_shape.filter((d: number) => d !== -1).reduce((p: number, d: number) => p * d, 1);
        outputs = [{ shape: [B, ...config.target_shape.map((d: number) => (d === -1 ? x.data.length / B / known : d))], data: x.data }];
        break;
      }
      case 'GlobalAveragePooling1D': case 'GlobalMaxPooling1D': {
        const F = x.shape[2];
        const out = new Float64Array(B * F);
        for (let b = 0; b < B; b++) {
          for (let f = 0; f < F; f++) {
            const steps = Array.from({ length: T }, (_, t) => t).filter((t) => className === 'GlobalMaxPooling1D' || !mask || mask[b * T + t]);
            const values = steps.map((t) => x.data[(b * T + t) * F + f]);
            out[b * F + f] = className === 'GlobalMaxPooling1D' ? Math.max(...values) : values.reduce((s, v) => s + v, 0) / values.length;
          }
        }
        outputs = [{ shape: config.keepdims ? [B, 1, F] : [B, F], data: out }];
        mask = null;
        break;
      }
      default:
        throw new Error(`reference: layer ${className} not implemented`);
    }
    x = outputs[0];
  }
  if (topology.class_name === 'Sequential') return outputs;
  return topology.config.output_layers.map(([, , index]: [string, number, number]) => outputs[index]);
}
