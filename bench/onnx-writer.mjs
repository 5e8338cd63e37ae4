// Minimal protobuf/ONNX writer: a ModelProto (opset 14) holding one recurrent stack (LSTM, GRU or RNN nodes) built from PyTorch-layout weights,
// or (dynamicQuantizeLstmOnnxModel) the same LSTM stack as onnxruntime's contrib DynamicQuantizeLSTM (com.microsoft) with int8 weights.

import { GATES, directions, layerInput } from './spec.mjs';

const FLOAT = 1;
const INT8 = 3;
const INT64 = 7;
const ATTR = { INT: 2, STRING: 3, INTS: 7 };

// ---- protobuf wire format: a message is a list of byte chunks, concatenated once ----

const utf8 = new TextEncoder();

function varint(n) {
  const out = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

const message = (...fields) => concat(fields.flat());
const int = (field, value) => concat([varint(field * 8), varint(value)]);
const bytes = (field, payload) => concat([varint(field * 8 + 2), varint(payload.length), payload]);
const string = (field, text) => bytes(field, utf8.encode(text));

// ---- ONNX messages (field numbers from onnx.proto) ----

function tensorProto(name, dims, data) {
  const type = data instanceof BigInt64Array ? INT64 : data instanceof Int8Array ? INT8 : FLOAT;
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // little-endian hosts
  return message(dims.map((d) => int(1, d)), int(2, type), string(8, name), bytes(9, raw));
}

function valueInfo(name, dims) {
  const shape = message(dims.map((d) => bytes(1, int(1, d))));
  const tensorType = message(int(1, FLOAT), bytes(2, shape));
  return message(string(1, name), bytes(2, message(bytes(1, tensorType))));
}

function attribute(name, value) {
  if (typeof value === 'string') return message(string(1, name), int(20, ATTR.STRING), bytes(4, utf8.encode(value)));
  if (Array.isArray(value)) return message(string(1, name), int(20, ATTR.INTS), value.map((v) => int(8, v)));
  return message(string(1, name), int(20, ATTR.INT), int(3, value));
}

/** ONNX's recurrent Y [T, D, B, H] as [T, B, D·H] (the next layer's input, or the model's Y): Transpose + Reshape into `out`. */
function flattenDirections(nodes, y, out) {
  nodes.push(node('Transpose', [y], [`${y}_tbdh`], { perm: [0, 2, 1, 3] }));
  nodes.push(node('Reshape', [`${y}_tbdh`, 'flatten_directions'], [out]));
  return out;
}

function node(opType, inputs, outputs, attributes = {}, domain = '') {
  return message(
    inputs.map((s) => string(1, s)),
    outputs.map((s) => string(2, s)),
    string(3, `${opType}_${outputs[0]}`),
    string(4, opType),
    Object.entries(attributes).map(([k, v]) => bytes(5, attribute(k, v))),
    domain ? string(7, domain) : [],
  );
}

function modelProto({ nodes, initializers, inputs, outputs, contrib = false }) {
  const graph = message(
    nodes.map((n) => bytes(1, n)),
    string(2, 'looptree_bench'),
    initializers.map((t) => bytes(5, t)),
    inputs.map((v) => bytes(11, v)),
    outputs.map((v) => bytes(12, v)),
  );
  const opset = message(string(1, ''), int(2, 14));
  const contribOpset = contrib ? [bytes(8, message(string(1, 'com.microsoft'), int(2, 1)))] : [];
  return message(int(1, 7), string(2, 'looptree-bench'), bytes(7, graph), bytes(8, opset), contribOpset);
}

// ---- PyTorch → ONNX weights ----

// ONNX gate order, as indices into PyTorch's: LSTM i,o,f,c ← i,f,g,o; GRU z,r,h ← r,z,n.
const GATE_ORDER = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] };

function reorderGates(data, cell) {
  const block = data.length / GATES[cell];
  return concat(GATE_ORDER[cell].map((g) => new Uint8Array(data.buffer, data.byteOffset + g * block * 4, block * 4)));
}

const f32 = (u8) => new Float32Array(u8.buffer, u8.byteOffset, u8.byteLength / 4);

// W [D, G·H, in], R [D, G·H, H], B [D, 2·G·H] = [Wb, Rb] for one layer.
function layerWeights(w, stateDict, l) {
  const suffixes = w.bidirectional ? ['', '_reverse'] : [''];
  const pick = (name) => suffixes.map((s) => reorderGates(stateDict[`${name}_l${l}${s}`].data, w.cell));
  const D = directions(w);
  const GH = GATES[w.cell] * w.H;
  return {
    W: [[D, GH, layerInput(w, l)], f32(concat(pick('weight_ih')))],
    R: [[D, GH, w.H], f32(concat(pick('weight_hh')))],
    B: [[D, 2 * GH], f32(concat(suffixes.flatMap((s, i) => [pick('bias_ih')[i], pick('bias_hh')[i]])))],
  };
}

// The ONNX model of workload `w`. Input `X` [T, B, I]; output `Y` in PyTorch's layout [T, B, D·H]
// (declared [T, 1, B, H] when unidirectional: same bytes, no copy).
// With `initialState`, each layer l also takes `h0_l{l}` (and `c0_l{l}`) [D, B, H] and returns its
// final state as `h_l{l}` (and `c_l{l}`), so a caller can stream by feeding them back.
export function recurrentOnnxModel(w, stateDict, { initialState = false } = {}) {
  const D = directions(w);
  const opType = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' }[w.cell];
  const stateDims = [D, w.B, w.H];
  const nodes = [];
  const initializers = [];
  if (D === 2 || w.layers > 1) initializers.push(tensorProto('flatten_directions', [3], new BigInt64Array([0n, 0n, -1n])));
  const inputs = [valueInfo('X', [w.T, w.B, w.I])];
  const outputs = [];
  let x = 'X';
  for (let l = 0; l < w.layers; l++) {
    for (const [name, [dims, data]] of Object.entries(layerWeights(w, stateDict, l))) {
      initializers.push(tensorProto(`${name}_l${l}`, dims, data));
    }
    const last = l === w.layers - 1;
    // Y [T, D, B, H] → [T, B, D·H] for the next layer or the output; with D = 1 the bytes already match.
    const flatten = D === 2 || !last;
    const y = last && !flatten ? 'Y' : `Y_l${l}`;
    const nodeInputs = [x, `W_l${l}`, `R_l${l}`, `B_l${l}`];
    const nodeOutputs = [y];
    if (initialState) {
      const states = w.cell === 'lstm' ? ['h', 'c'] : ['h'];
      nodeInputs.push('', ...states.map((s) => `${s}0_l${l}`));
      nodeOutputs.push(...states.map((s) => `${s}_l${l}`));
      inputs.push(...states.map((s) => valueInfo(`${s}0_l${l}`, stateDims)));
      outputs.push(...states.map((s) => valueInfo(`${s}_l${l}`, stateDims)));
    }
    const attributes = { hidden_size: w.H };
    if (w.bidirectional) attributes.direction = 'bidirectional';
    if (w.cell === 'gru') attributes.linear_before_reset = 1;
    nodes.push(node(opType, nodeInputs, nodeOutputs, attributes));
    x = flatten ? flattenDirections(nodes, y, last ? 'Y' : `${y}_flat`) : y;
  }
  outputs.unshift(valueInfo('Y', D === 2 ? [w.T, w.B, D * w.H] : [w.T, 1, w.B, w.H]));
  return modelProto({ nodes, initializers, inputs, outputs });
}

/**
 * `[D, rows, columns]` f32 weights (ONNX gate order) quantized as onnxruntime's `quantize_dynamic` does for
 * `per_channel=True, weight_type=QInt8` (symmetric: scale = max|w| / 127 per output channel, zero point 0,
 * round half to even) and transposed to DynamicQuantizeLSTM's `[D, columns, rows]`: { codes, scales [D, rows] }.
 */
function quantizedTransposed([D, rows, columns], data) {
  const codes = new Int8Array(D * rows * columns), scales = new Float32Array(D * rows);
  const roundEven = (v) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
  for (let d = 0; d < D; d++) {
    for (let r = 0; r < rows; r++) {
      const row = data.subarray((d * rows + r) * columns, (d * rows + r + 1) * columns);
      const scale = Math.fround(row.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127);
      scales[d * rows + r] = scale;
      for (let c = 0; c < columns; c++) codes[d * rows * columns + c * rows + r] = scale > 0 ? Math.max(-127, Math.min(127, roundEven(row[c] / scale))) : 0;
    }
  }
  return { codes, scales };
}

/**
 * The LSTM workload `w` as onnxruntime's own dynamically quantized model: each layer a com.microsoft
 * DynamicQuantizeLSTM node (onnxruntime's quantize_dynamic output for LSTM) with W and R int8 per output channel
 * (quantizedTransposed), B f32; activations quantized by onnxruntime on every call (uint8, asymmetric, per tensor).
 * Input `X` [T, B, I], output `Y` as recurrentOnnxModel's; `initialState` adds each layer's h0/c0 inputs and h/c
 * outputs as recurrentOnnxModel does (streaming).
 */
export function dynamicQuantizeLstmOnnxModel(w, stateDict, { initialState = false } = {}) {
  if (w.cell !== 'lstm') throw new Error(`DynamicQuantizeLSTM is an LSTM: ${w.id} is ${w.cell}`);
  const D = directions(w);
  const nodes = [];
  const initializers = [];
  const inputs = [valueInfo('X', [w.T, w.B, w.I])];
  const outputs = [];
  if (D === 2 || w.layers > 1) initializers.push(tensorProto('flatten_directions', [3], new BigInt64Array([0n, 0n, -1n])));
  let x = 'X';
  for (let l = 0; l < w.layers; l++) {
    const { W, R, B } = layerWeights(w, stateDict, l);
    for (const [name, [dims, data]] of [['W', W], ['R', R]]) {
      const { codes, scales } = quantizedTransposed(dims, data);
      initializers.push(tensorProto(`${name}_l${l}`, [dims[0], dims[2], dims[1]], codes));
      initializers.push(tensorProto(`${name}_scale_l${l}`, [dims[0], dims[1]], scales));
      initializers.push(tensorProto(`${name}_zero_point_l${l}`, [dims[0], dims[1]], new Int8Array(dims[0] * dims[1])));
    }
    initializers.push(tensorProto(`B_l${l}`, ...B));
    const last = l === w.layers - 1;
    const flatten = D === 2 || !last;
    const y = last && !flatten ? 'Y' : `Y_l${l}`;
    const attributes = { hidden_size: w.H };
    if (w.bidirectional) attributes.direction = 'bidirectional';
    const [h0, c0] = initialState ? [`h0_l${l}`, `c0_l${l}`] : ['', ''];
    if (initialState) {
      inputs.push(valueInfo(h0, [D, w.B, w.H]), valueInfo(c0, [D, w.B, w.H]));
      outputs.push(valueInfo(`h_l${l}`, [D, w.B, w.H]), valueInfo(`c_l${l}`, [D, w.B, w.H]));
    }
    nodes.push(node('DynamicQuantizeLSTM', [x, `W_l${l}`, `R_l${l}`, `B_l${l}`, '', h0, c0, '', `W_scale_l${l}`, `W_zero_point_l${l}`, `R_scale_l${l}`, `R_zero_point_l${l}`],
      initialState ? [y, `h_l${l}`, `c_l${l}`] : [y], attributes, 'com.microsoft'));
    x = flatten ? flattenDirections(nodes, y, last ? 'Y' : `${y}_flat`) : y;
  }
  outputs.unshift(valueInfo('Y', D === 2 ? [w.T, w.B, D * w.H] : [w.T, 1, w.B, w.H]));
  return modelProto({ nodes, initializers, inputs, outputs, contrib: true });
}
