// Kernel lab: each Wasm kernel alone, per SIMD build, at the workloads' shapes: first checked against its float64 scalar reference (test/reference, bundled by esbuild at startup), then timed beside the SIMD peak of the same run.
// Usage: node --expose-gc --experimental-wasm-relaxed-simd bench/kernels.mjs [--build baseline|relaxed|both] [--only name,...] [--quick]
//   --only takes kernel names (gemmPacked, accumulateWeightGradient, lstmCellForward, …, treeForward).
//
// Timing: each build's rows run pinned to the quietest CPU (bench/pin.mjs); per row ≥ 0.5 s of back-to-back
// calls to warm up (V8 tiers Wasm up in the background), then samples of ≥ 50 ms of back-to-back calls,
// gc() before each; a row's time is the median sample's time per call. "% peak" divides by the better of the
// SIMD peaks (bench/simd-peak.mjs) timed just before and just after the build's rows, on the same CPU.
// Rows of kernels called through pointers instantiate dist/looptree-<build>.wasm directly. The tree rows go
// through dist/index.js's ChildSumTreeLSTM (an instance per build): treeForward and treeBackward take a
// whole plan (schedule, packed and transposed weights, state; assembly/abi.ts) that only the bindings build.
// The check: max |kernel − reference| per row; a row fails when any element is past the row's bound, and
// then the process exits with code 1 after printing every table.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build as bundle } from 'esbuild';
import { LOOPTREE_ENTRY, REPO_DIR, RUNNERS } from './peers.mjs';
import { describePinning, pinToQuietestCpu } from './pin.mjs';
import { measureSimdPeak } from './simd-peak.mjs';
import { ALL_WORKLOADS, GATES, flops as workloadFlops, makeCase, treeCounts } from './spec.mjs';

const { values: args } = parseArgs({
  options: { build: { type: 'string', default: 'both' }, only: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const WARMUP_MS = 500;
const SAMPLE_MS = 50;
const SAMPLES = args.quick ? 3 : 9; // odd: the median is a sample
const GATE_SCALE = 6; // pre-activations in [-6, 6): saturated and linear regions both

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc (gc() runs before every sample)');
if (!['baseline', 'relaxed', 'both'].includes(args.build)) throw new Error(`--build must be baseline, relaxed or both, got ${args.build}`);

// ---- references and data ----

/** The float64 references of test/reference, bundled from their TypeScript once per run (one implementation for tests and bench). */
async function loadReferences() {
  const files = { cells: 'cells.ts', gemm: 'gemm.ts', linalg: 'linalg.ts', quantized: 'quantized.ts', tree: 'tree.ts' };
  const entry = Object.entries(files).map(([name, file]) => `export * as ${name} from './${file}';`).join('\n');
  const result = await bundle({
    stdin: { contents: entry, resolveDir: path.join(REPO_DIR, 'test', 'reference'), loader: 'ts' },
    bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent',
  });
  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`);
}

const references = await loadReferences();
const { seededRandom } = await import(pathToFileURL(LOOPTREE_ENTRY).href);

/** A stable seed per row label (FNV-1a), so both builds get the same inputs. */
function seedOf(label) {
  let hash = 0x811c9dc5;
  for (const char of label) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
  return hash >>> 0;
}

const uniform = (random, count, scale = 1) => Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);

const { W1, W2, W3, W5, W6 } = Object.fromEntries(ALL_WORKLOADS.map((w) => [w.id, w]));

// ---- the Wasm core of one build ----

class WasmCore {
  constructor(build) {
    const bytes = readFileSync(path.join(REPO_DIR, 'dist', `looptree-${build}.wasm`));
    this.kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { abort() { throw new Error('abort'); } } }).exports;
  }

  /** A fresh block of `count` floats (16-byte aligned): `values` first, zeros after. */
  upload(count, values = []) {
    const ptr = this.kernels.alloc(Math.max(16, count * 4));
    const block = new Float32Array(this.kernels.memory.buffer, ptr, count);
    block.fill(0);
    block.set(values);
    return ptr;
  }

  download(ptr, count) {
    return new Float32Array(this.kernels.memory.buffer, ptr, count).slice();
  }
}

// ---- rows ----
// A row: { kernel, shape, data() → its inputs (seeded JS arrays), reference(data) → expected outputs by name,
// prepare({ core, looptree }, data) → { run(), read() → the outputs of the first run by name, dispose() },
// bound(expected value) → the largest |error| allowed there, and optionally flops, bytes and elements per call }.

/**
 * A row for a kernel called on pointers. `arrays` name its arrays: { floats, role, scale? } with role
 * 'in' (read), 'out' (written), 'inout' (read and written), 'weight' (an [n, k] weight, read packed:
 * packWeight), 'bias' (zero-padded to whole panels), 'scratch' (working memory) or 'pack scratch'
 * (working memory for a pack of an [n, k] matrix). `call(kernels, ptrs)` runs it; `reference(a)` runs the
 * reference on float64 copies of the arrays and updates the written ones.
 */
function kernelRow({ kernel, shape, arrays, call, reference, bound, flops, elements }) {
  const written = Object.keys(arrays).filter((name) => arrays[name].role === 'out' || arrays[name].role === 'inout');
  const bytesPerFloat = { in: 4, out: 4, inout: 8 }; // memory traffic per call: read once, written once
  const bytes = Object.values(arrays).reduce((sum, { floats, role }) => sum + (role in bytesPerFloat ? bytesPerFloat[role] * floats : 0), 0);
  return {
    kernel, shape, bound, flops, elements, bytes: elements ? bytes : undefined,
    data() {
      const random = seededRandom(seedOf(`${kernel} ${shape}`));
      return Object.fromEntries(Object.entries(arrays)
        .filter(([, { role }]) => !role.endsWith('scratch'))
        .map(([name, { floats, scale }]) => [name, uniform(random, floats, scale)]));
    },
    reference(data) {
      const a = Object.fromEntries(Object.entries(data).map(([name, values]) => [name, Float64Array.from(values)]));
      reference(a);
      return Object.fromEntries(written.map((name) => [name, a[name]]));
    },
    prepare({ core }, data) {
      const { kernels } = core;
      const ptrs = Object.fromEntries(Object.entries(arrays).map(([name, { floats, role, n, k }]) => {
        if (role === 'scratch') return [name, core.upload(floats)];
        if (role === 'pack scratch') return [name, core.upload(kernels.packedSize(n, k))];
        if (role === 'weight') {
          const source = core.upload(floats, data[name]);
          const packed = core.upload(kernels.packedSize(n, k));
          kernels.packWeight(packed, source, n, k);
          kernels.release(source);
          return [name, packed];
        }
        if (role === 'bias') return [name, core.upload(Math.ceil(floats / kernels.panelWidth()) * kernels.panelWidth(), data[name])];
        return [name, core.upload(floats, data[name])];
      }));
      return {
        run: () => call(kernels, ptrs),
        read: () => Object.fromEntries(written.map((name) => [name, core.download(ptrs[name], arrays[name].floats)])),
        dispose: () => Object.values(ptrs).forEach((ptr) => kernels.release(ptr)),
      };
    },
  };
}

// The tests' bound 1e-5·(1 + Σ|a·w|) at its mean for inputs uniform in [-1, 1] (E|a·w| = 1/4): a sum of `terms` products.
const productBound = (terms) => () => 1e-5 * (1 + terms / 4);
const CELL_BOUND = () => 1e-6;

/** C[m, n] (+)= A·Wᵀ (+ bias) on a packed W. */
function gemmRow(shape, m, n, k, { bias = false, accumulate = false } = {}) {
  return kernelRow({
    kernel: 'gemmPacked', shape: `${shape} ${m}×${n}×${k}`, flops: 2 * m * n * k, bound: productBound(k),
    arrays: {
      c: { floats: m * n, role: accumulate ? 'inout' : 'out' }, a: { floats: m * k, role: 'in' },
      w: { floats: n * k, role: 'weight', n, k }, ...(bias && { bias: { floats: n, role: 'bias' } }),
    },
    call: (kernels, p) => kernels.gemmPacked(p.c, p.a, p.w, p.bias ?? 0, m, n, k, accumulate),
    reference: (a) => references.gemm.gemm(a.c, a.a, a.w, a.bias ?? null, m, n, k, accumulate),
  });
}

/**
 * gemmInt8 (assembly/quantized.ts): C = A·Wᵀ with W int8 per row (quantized once by the reference's quantizer, packed by
 * packInt8Weight) and A quantized per row inside the call. Checked against the f32 product within the quantization
 * error (half a step of each quantizer per product — A's levels are the build's, read in prepare(), which runs just
 * before the check: the bit-exact check is test/kernels/quantized.test.ts, per build).
 */
function gemmInt8Row(shape, m, n, k, { accumulate = false } = {}) {
  const kernel = 'gemmInt8';
  let activationLevels = 127;
  return {
    kernel, shape: `${shape} ${m}×${n}×${k}`, flops: 2 * m * n * k, bound: () => k * (0.5 / activationLevels + 0.5 / 127) * 1.01,
    data() {
      const random = seededRandom(seedOf(`${kernel} ${shape}`));
      return { a: uniform(random, m * k), w: uniform(random, n * k), c: uniform(random, m * n) };
    },
    reference({ a, w, c }) {
      const out = accumulate ? Float64Array.from(c) : new Float64Array(m * n);
      references.gemm.gemm(out, a, w, null, m, n, k, accumulate);
      return { c: out };
    },
    prepare({ core }, { a, w, c }) {
      const { kernels } = core;
      activationLevels = kernels.int8ActivationLevels();
      const { q, scales } = references.quantized.quantizeWeight(w, n, k);
      const codes = kernels.alloc(Math.max(16, n * k));
      new Int8Array(kernels.memory.buffer, codes, n * k).set(q);
      const ptrs = {
        scales: core.upload(n, scales), packed: kernels.alloc(kernels.quantizedWeightBytes(n, k)), a: core.upload(m * k, a), c: core.upload(m * n, c),
        scratch: kernels.alloc(kernels.int8ScratchBytes(m, k)),
      };
      kernels.packInt8Weight(ptrs.packed, codes, ptrs.scales, n, k);
      kernels.release(codes);
      return {
        run: () => kernels.gemmInt8(ptrs.c, ptrs.a, ptrs.packed, 0, m, n, k, accumulate, ptrs.scratch),
        read: () => ({ c: core.download(ptrs.c, m * n) }),
        dispose: () => Object.values(ptrs).forEach((ptr) => kernels.release(ptr)),
      };
    },
  };
}

/**
 * quantizeRows (assembly/quantized.ts): a batch-1 step's h quantized per row for the int8 matrix-vector product (the
 * part of gemmInt8 that is not the dot products). Checked exactly: the reference's integers and scales at the build's
 * activation levels (63 relaxed, 127 baseline) — read() counts the elements and scales that differ, the reference 0.
 */
function quantizeRowsRow(shape, m, k) {
  const kernel = 'quantizeRows';
  return {
    kernel, shape: `${shape} ${m}×${k}`, bound: () => 0, elements: m * k,
    data: () => ({ a: uniform(seededRandom(seedOf(`${kernel} ${shape}`)), m * k) }),
    reference: () => ({ differing: Float64Array.of(0) }),
    prepare({ core }, { a }) {
      const { kernels } = core;
      const levels = kernels.int8ActivationLevels(), offset = kernels.int8ActivationOffset();
      // Stored q + offset: u8 on K rounded up to 4 (relaxed), i16 on K rounded up to 2 (baseline).
      const relaxed = kernels.simdFlavor() === 1, group = relaxed ? 4 : 2, rowBytes = Math.ceil(k / group) * group * (relaxed ? 1 : 2);
      const ptrs = { a: core.upload(m * k, a), q: kernels.alloc(m * rowBytes), scales: core.upload(m) };
      return {
        run: () => kernels.quantizeRows(ptrs.q, ptrs.scales, ptrs.a, m, k, k),
        read: () => {
          const scales = core.download(ptrs.scales, m);
          let differing = 0;
          for (let r = 0; r < m; r++) {
            const row = references.quantized.quantizeRow(a.subarray(r * k, (r + 1) * k), levels);
            const stored = relaxed ? new Uint8Array(kernels.memory.buffer, ptrs.q + r * rowBytes, k) : new Int16Array(kernels.memory.buffer, ptrs.q + r * rowBytes, k);
            if (scales[r] !== row.scale) differing++;
            for (let i = 0; i < k; i++) if (stored[i] - offset !== row.q[i]) differing++;
          }
          return { differing: Float64Array.of(differing) };
        },
        dispose: () => Object.values(ptrs).forEach((ptr) => kernels.release(ptr)),
      };
    },
  };
}

/**
 * gradient[out, in] += dᵀ·x through a transpose and a pack (every backward's weight gradients), d and x read at
 * row strides dStride and xStride as the caller passes them (dense by default).
 */
function weightGradientRow(shape, rows, outSize, inSize, { dStride = outSize, xStride = inSize } = {}) {
  return kernelRow({
    kernel: 'accumulateWeightGradient', shape: `${shape} ${rows}×${outSize}×${inSize}`, flops: 2 * rows * outSize * inSize, bound: productBound(rows),
    arrays: {
      gradient: { floats: outSize * inSize, role: 'inout' }, d: { floats: rows * dStride, role: 'in' }, x: { floats: rows * xStride, role: 'in' },
      transposed: { floats: outSize * rows, role: 'scratch' }, packed: { role: 'pack scratch', n: inSize, k: rows },
    },
    call: (kernels, p) => kernels.accumulateWeightGradient(p.gradient, p.d, dStride, p.x, xStride, rows, outSize, inSize, p.transposed, p.packed),
    reference: (a) => references.linalg.accumulateWeightGradient(a.gradient, a.d, a.x, rows, outSize, inSize, dStride, xStride),
  });
}

/** The cells at one (B, H): inference forward (out written, nothing saved) and backward from random saved values. */
function cellRows(B, H) {
  const n = B * H;
  const { cells } = references;
  const row = (kernel, arrays, call, reference) => kernelRow({ kernel, shape: `B=${B} H=${H}`, arrays, call, reference, bound: CELL_BOUND, elements: n });
  const outRows = (a) => ({ data: a.out, offset: 0, stride: H });
  const io = (floats, role, scale = 1) => ({ floats, role, scale });
  return [
    row('rnnCellForward', { h: io(n, 'inout'), out: io(n, 'out'), gates: io(n, 'in', GATE_SCALE) },
        (k, p) => k.rnnCellForward(p.h, p.out, p.gates, 0, 0, B, H, H, false, false),
        (a) => cells.rnnCell(a.h, outRows(a), a.gates, null, 0, B, H, false)),
    row('lstmCellForward', { h: io(n, 'inout'), c: io(n, 'inout'), out: io(n, 'out'), gates: io(4 * n, 'in', GATE_SCALE) },
        (k, p) => k.lstmCellForward(p.h, p.c, p.out, p.gates, 0, 0, B, H, H, false),
        (a) => cells.lstmCell(a.h, a.c, outRows(a), a.gates, null, 0, B, H)),
    row('gruCellForward', {
      h: io(n, 'inout'), out: io(n, 'out'), inputGates: io(3 * n, 'in', GATE_SCALE), hiddenGates: io(3 * n, 'in', GATE_SCALE), biasN: io(H, 'in'),
    }, (k, p) => k.gruCellForward(p.h, p.out, p.inputGates, p.hiddenGates, p.biasN, 0, 0, B, H, H, 0),
    (a) => cells.gruCell(a.h, outRows(a), a.inputGates, a.hiddenGates, a.biasN, null, 0, B, H)),
    row('rnnCellBackward', { dGates: io(n, 'out'), dh: io(n, 'in'), activated: io(n, 'in') },
        (k, p) => k.rnnCellBackward(p.dGates, p.dh, p.activated, 0, 0, B, H, false),
        (a) => cells.rnnCellBackward(a.dGates, a.dh, a.activated, null, 0, B, H, false)),
    row('lstmCellBackward', {
      dGates: io(4 * n, 'out'), dc: io(n, 'inout'), dh: io(n, 'in'), gates: io(4 * n, 'in'), cPrev: io(n, 'in'), cNew: io(n, 'in'),
    }, (k, p) => k.lstmCellBackward(p.dGates, p.dc, p.dh, p.gates, p.cPrev, p.cNew, 0, 0, B, H),
    (a) => cells.lstmCellBackward(a.dGates, a.dc, a.dh, a.gates, a.cPrev, a.cNew, null, 0, B, H)),
    row('gruCellBackward', {
      dInputGates: io(3 * n, 'out'), dHiddenGates: io(3 * n, 'out'), dhPrev: io(n, 'out'),
      dh: io(n, 'in'), gates: io(3 * n, 'in'), hn: io(n, 'in'), hPrev: io(n, 'in'),
    }, (k, p) => k.gruCellBackward(p.dInputGates, p.dHiddenGates, p.dhPrev, p.dh, p.gates, p.hn, p.hPrev, 0, 0, B, H),
    (a) => cells.gruCellBackward(a.dInputGates, a.dHiddenGates, a.dhPrev, a.dh, a.gates, a.hn, a.hPrev, null, 0, B, H)),
  ];
}

// ---- the tree rows (through dist/index.js) ----

const TREE_FORWARD_BOUND = (e) => 1e-5 + 1e-5 * Math.abs(e); // test/tree-gradients.test.ts's bounds
const TREE_GRADIENT_BOUND = (e) => 2e-5 + 1e-4 * Math.abs(e);
const concat = (arrays) => Float64Array.from(arrays.flatMap((values) => Array.from(values)));

/** Computes `make()` on the first call only. */
const once = (make) => {
  let value;
  return () => (value ??= make());
};

/** W6's case (spec.mjs), its parameters and trees as the reference takes them, and dLoss/dh for the backward row. */
const w6Case = once(() => {
  const c = makeCase(W6);
  const params = Object.fromEntries(Object.entries(c.stateDict).map(([name, { data }]) => [name, data]));
  const trees = c.trees.map((parents, b) => ({ parents, x: c.xs[b] }));
  const random = seededRandom(seedOf('W6 dh'));
  return { c, params, trees, dh: c.trees.map((parents) => uniform(random, parents.length * W6.H)) };
});

/** The float64 forward of W6 (the backward reference starts from it). */
const w6Forward = once(() => {
  const { params, trees } = w6Case();
  return references.tree.referenceForward('ChildSumTreeLSTM', params, W6.X, W6.H, trees);
});

/** The roots' rows of per-tree [n, H] arrays (the roots of spec.mjs's trees are node 0, pre-order). */
const roots = (perTree) => concat(perTree.map((values) => values.subarray(0, W6.H)));

const treeRows = [
  {
    kernel: 'treeForward', shape: `W6 ${W6.trees} trees × ${W6.leaves} leaves, X=${W6.X} H=${W6.H} (ChildSumTreeLSTM.forward, roots)`,
    flops: workloadFlops(W6), bound: TREE_FORWARD_BOUND,
    data: w6Case,
    reference: () => ({ h: roots(w6Forward().h), c: roots(w6Forward().c) }),
    // bench/peers.mjs's looptree runner: the same forward(trees, xs, { output: 'roots' }) that `npm run bench` times.
    prepare({ looptree }, { c }) {
      const runner = RUNNERS.find((r) => r.name === 'looptree').prepare(looptree, W6, c);
      return { run: runner.run, read: () => runner.output, dispose: runner.dispose };
    },
  },
  {
    kernel: 'treeBackward', shape: 'W6, forward({ train: true }) + backward({ h }): dx and every gradient',
    flops: 3 * workloadFlops(W6), bound: TREE_GRADIENT_BOUND, // backward ≈ twice the forward (dX and dW), as spec.mjs counts W8
    data: w6Case,
    reference({ params, trees, dh }) {
      const backward = references.tree.referenceBackward('ChildSumTreeLSTM', params, W6.X, W6.H, trees, w6Forward(), dh, null);
      return { dx: concat(backward.x), ...backward.grads };
    },
    prepare({ looptree }, { c, dh }) {
      const model = new looptree.ChildSumTreeLSTM({ inputSize: W6.X, hiddenSize: W6.H });
      model.loadStateDict(c.stateDict);
      const trees = c.trees.map((parents) => looptree.Tree.fromParents(parents));
      const xs = c.xs.map((x, b) => looptree.tensor(x, [trees[b].size, W6.X]));
      const dhs = dh.map((values, b) => looptree.tensor(values, [trees[b].size, W6.H]));
      let first = null;
      const run = () => {
        model.forward(trees, xs, { train: true });
        const { x } = model.backward({ h: dhs });
        if (first) return;
        const grads = Object.entries(model.grads()).map(([name, t]) => [name, t.data.slice()]);
        first = { dx: concat(x.map((t) => t.data)), ...Object.fromEntries(grads) };
      };
      return { run, read: () => first, dispose: () => model.dispose() };
    },
  },
];

// ---- the table of rows ----

const w6 = treeCounts(W6);
const W6_LEAVES = W6.trees * W6.leaves;

const ROWS = [
  gemmRow('W2 x·W_ihᵀ', W2.T * W2.B, GATES.lstm * W2.H, W2.I, { bias: true }),
  gemmRow('W2 step h·W_hhᵀ', W2.B, GATES.lstm * W2.H, W2.H, { accumulate: true }),
  gemmRow('W3 x·W_ihᵀ', W3.T * W3.B, GATES.gru * W3.H, W3.I, { bias: true }),
  gemmRow('W3 step h·W_hhᵀ', W3.B, GATES.gru * W3.H, W3.H, { accumulate: true }),
  gemmRow('W6 x·W_iouᵀ', w6.nodes, 3 * W6.H, W6.X, { bias: true }),
  gemmRow('W6 leaves h·U_fᵀ', W6_LEAVES, W6.H, W6.H),
  gemmRow('W1 step, batch 1 (matrix-vector)', W1.B, GATES.lstm * W1.H, W1.H, { accumulate: true }),
  gemmRow('W2 step at batch 1 (matrix-vector)', 1, GATES.lstm * W2.H, W2.H, { accumulate: true }),
  gemmInt8Row('W2 x·W_ihᵀ', W2.T * W2.B, GATES.lstm * W2.H, W2.I),
  gemmInt8Row('W2 step h·W_hhᵀ', W2.B, GATES.lstm * W2.H, W2.H, { accumulate: true }),
  gemmInt8Row('W1 step, batch 1 (matrix-vector)', W1.B, GATES.lstm * W1.H, W1.H, { accumulate: true }),
  gemmInt8Row('W5 step, batch 1 (matrix-vector)', W5.B, W5.H, W5.H, { accumulate: true }),
  quantizeRowsRow('W1 step h', W1.B, W1.H),
  quantizeRowsRow('W5 step h', W5.B, W5.H),
  // assembly/tree.ts's child-sum calls: dGates [N, 3H] and the children's Σh [internal, H] read at their row strides.
  weightGradientRow('W6 dW_iou', w6.nodes, 3 * W6.H, W6.X, { dStride: 3 * W6.H, xStride: W6.X }),
  weightGradientRow('W6 dU_iou', w6.internal, 3 * W6.H, W6.H, { dStride: 3 * W6.H, xStride: W6.H }),
  weightGradientRow('W6 dU_f', w6.nodes, W6.H, W6.H, { dStride: W6.H, xStride: W6.H }),
  weightGradientRow('W2 dW_ih', W2.T * W2.B, GATES.lstm * W2.H, W2.I),
  weightGradientRow('W2 dW_hh', W2.T * W2.B, GATES.lstm * W2.H, W2.H),
  ...cellRows(W2.B, W2.H),
  ...cellRows(W1.B, W1.H),
  ...treeRows,
];

// ---- measuring ----

function timeCalls(run, calls) {
  const start = performance.now();
  for (let i = 0; i < calls; i++) run();
  return performance.now() - start;
}

/** Median ms per call over SAMPLES samples of ≥ SAMPLE_MS each, after ≥ WARMUP_MS of warm-up. */
function msPerCall(run) {
  let calls = 0;
  const warmupEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmupEnd) { run(); calls++; }
  let perSample = Math.max(1, Math.ceil(SAMPLE_MS / (WARMUP_MS / calls)));
  for (let elapsed = timeCalls(run, perSample); elapsed < SAMPLE_MS; elapsed = timeCalls(run, perSample)) {
    perSample = Math.ceil(perSample * 1.2 * SAMPLE_MS / Math.max(elapsed, 0.01));
  }
  const samples = Array.from({ length: SAMPLES }, () => {
    globalThis.gc();
    return timeCalls(run, perSample) / perSample;
  });
  return samples.sort((a, b) => a - b)[SAMPLES >> 1];
}

// Per row, made on first use and shared by the builds: its inputs and the reference's outputs.
const inputsOf = new Map(), expectedOf = new Map();
const memo = (cache, row, make) => (cache.has(row) ? cache.get(row) : cache.set(row, make()).get(row));
const rowData = (row) => memo(inputsOf, row, () => row.data());
const rowExpected = (row) => memo(expectedOf, row, () => row.reference(rowData(row)));

/** max |actual − expected| over every output, and whether every element is within the row's bound. */
function check(row, actual) {
  let largest = 0, ok = true;
  for (const [name, expected] of Object.entries(rowExpected(row))) {
    const values = actual[name];
    if (!values || values.length !== expected.length) return { largest: Infinity, ok: false };
    for (let i = 0; i < expected.length; i++) {
      const error = Math.abs(values[i] - expected[i]);
      if (!(error <= row.bound(expected[i]))) ok = false;
      if (!(error <= largest)) largest = error;
    }
  }
  return { largest, ok };
}

function measureRow(row, context) {
  const prepared = row.prepare(context, rowData(row));
  try {
    prepared.run();
    const { largest, ok } = check(row, prepared.read());
    return { largest, ok, ms: msPerCall(prepared.run) };
  } finally {
    prepared.dispose();
  }
}

// ---- printing ----

const fixed = (digits) => (x) => (x === undefined ? '' : x.toFixed(digits));
const COLUMNS = [
  ['kernel', (r) => r.row.kernel],
  ['shape', (r) => r.row.shape],
  ['max abs err', (r) => `${r.largest.toExponential(1)}${r.ok ? '' : ' FAIL'}`],
  ['µs/call', (r) => fixed(r.ms * 1e3 < 10 ? 2 : 1)(r.ms * 1e3)],
  ['GFLOP/s', (r) => fixed(1)(r.row.flops && r.row.flops / r.ms / 1e6)],
  ['% peak', (r) => fixed(0)(r.row.flops && (100 * r.row.flops / r.ms / 1e6) / r.peak)],
  ['GB/s', (r) => fixed(1)(r.row.bytes && r.row.bytes / r.ms / 1e6)],
  ['ns/elem', (r) => fixed(2)(r.row.elements && (r.ms * 1e6) / r.row.elements)],
];

function printTable(results) {
  const cells = results.map((r) => COLUMNS.map(([, cell]) => cell(r)));
  const widths = COLUMNS.map(([title], c) => Math.max(title.length, ...cells.map((row) => row[c].length)));
  const line = (values) => `| ${values.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  console.log(line(COLUMNS.map(([title]) => title)));
  console.log(`|${widths.map((w, c) => (c < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of cells) console.log(line(row));
}

// ---- main ----

const only = args.only?.split(',').map((name) => name.trim());
const unknown = only?.filter((name) => !ROWS.some((row) => row.kernel === name));
if (unknown?.length) throw new Error(`--only: no kernel ${unknown.join(', ')} (kernels: ${[...new Set(ROWS.map((r) => r.kernel))].join(', ')})`);
const rows = only ? ROWS.filter((row) => only.includes(row.kernel)) : ROWS;

const relaxedSupported = WebAssembly.validate(readFileSync(path.join(REPO_DIR, 'dist', 'looptree-relaxed.wasm')));
const RELAXED_HINT = 'this engine does not validate relaxed SIMD (Node 20: run node with --experimental-wasm-relaxed-simd)';
if (args.build === 'relaxed' && !relaxedSupported) throw new Error(`--build relaxed: ${RELAXED_HINT}`);
const builds = args.build === 'both' ? ['baseline', ...(relaxedSupported ? ['relaxed'] : [])] : [args.build];

const engine = `Node ${process.versions.node} (V8 ${process.versions.v8})`;
console.log(`# Kernel lab — ${engine}, ${os.cpus()[0]?.model ?? 'unknown CPU'}${args.quick ? ', --quick' : ''}`);
if (args.build === 'both' && !relaxedSupported) console.log(`relaxed build skipped: ${RELAXED_HINT}`);

// Every build's core and library instance first: what runs is what dist held at startup.
const contexts = [];
for (const build of builds) {
  const looptree = await import(`${pathToFileURL(LOOPTREE_ENTRY).href}?build=${build}`);
  await looptree.init({ simd: build });
  contexts.push({ build, core: new WasmCore(build), looptree });
}

const simdPeak = (build) => measureSimdPeak({ quick: args.quick })[build];
let failures = 0;
for (const context of contexts) {
  const { build } = context;
  const pinning = describePinning(pinToQuietestCpu()); // as bench/workloads.mjs does before every workload
  const peakBefore = simdPeak(build);
  const results = [];
  for (const row of rows) {
    process.stderr.write(`${build}: ${row.kernel} ${row.shape}\n`);
    results.push({ row, ...measureRow(row, context) });
  }
  const peakAfter = simdPeak(build);
  // The better of the peaks timed just before and just after the rows (bench/simd-peak.mjs) is the build's peak.
  const peak = Math.max(peakBefore, peakAfter);
  failures += results.filter((r) => !r.ok).length;
  const peaks = `SIMD peak ${peak.toFixed(1)} GFLOP/s (before the rows ${peakBefore.toFixed(1)}, after ${peakAfter.toFixed(1)})`;
  console.log(`\n## ${build} build — ${pinning}; ${peaks}`);
  printTable(results.map((r) => ({ ...r, peak })));
}
if (failures > 0) {
  console.log(`\n${failures} row(s) FAILED the check against the reference`);
  process.exitCode = 1;
}
