// Fuzzing every parser and the constructor/forward arguments (issue 10, item 5), with a small seeded mutator: each
// parser gets ≥ 10,000 mutated inputs per run (safetensors bytes, Sequential.load files and configs, loadQuantized
// files and their metadata (class, options JSON), s-expression trees, JSON trees, Tree.fromParents arrays), plus 10,000 random constructor option objects and forward calls
// (sizes near 2³¹ and 2³², nulls, wrong types, unknown keys). Invariants: a LooptreeError or a correct result, never
// another error; a sentinel model's output bitwise unchanged; no Wasm block left behind; each call's time recorded
// (the cap asserted is generous: a loaded 2-core CI machine must not flake). Prints per parser: inputs, typed
// errors, accepted, slowest call.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BinaryTreeLSTM, ChildSumTreeLSTM, Embedding, GRU, LSTM, LastStep, Linear, LooptreeError, RNN, Sequential, Tree, TreeRNN, backendInfo, init, isQuantized,
  loadQuantized, manualSeed, parseSafetensors, parseTree, quantizeDynamic, readSafetensorsMetadata, saveQuantized, seededRandom, serializeSafetensors, tensor,
  treeToJSON, type Tensor,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

/** Inputs per parser: 10,000 in CI (LOOPTREE_FUZZ overrides, e.g. for a longer local run). */
const PER_PARSER = Number(process.env.LOOPTREE_FUZZ ?? 10_000);
/** A call slower than this fails the run: generous (≈ 1 s is the target; the slowest is printed). */
const CALL_CAP_MS = 5_000;

type Random = () => number;
const random: Random = seededRandom(20261130);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)];

/** Values that break sizes, indices and types. */
const NASTY: readonly unknown[] = [
  0, -1, 1, 2, 3, 7, 1.5, -0.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 1e20, -1e20, NaN, Infinity, -Infinity,
  null, undefined, true, false, '', '3', 'abc', [], [1, 2], {}, { a: 1 }, 3n,
];

/** A nasty value; objects and arrays copied, so that later mutations never change NASTY itself. */
const nasty = (): unknown => {
  const value = pick(NASTY);
  return value !== null && typeof value === 'object' ? structuredClone(value) : value;
};

/** Byte-level mutations: flips, insertions, deletions, truncation, duplication, little-endian u64s that break lengths. */
function mutateBytes(bytes: Uint8Array, rounds = 1 + int(3)): Uint8Array {
  let out = bytes.slice();
  for (let r = 0; r < rounds; r++) {
    const at = int(out.length + 1);
    const choice = random();
    if (choice < 0.25 && out.length > 0) out[Math.min(at, out.length - 1)] ^= 1 << int(8);
    else if (choice < 0.4) out = Uint8Array.from([...out.subarray(0, at), ...Array.from({ length: 1 + int(8) }, () => int(256)), ...out.subarray(at)]);
    else if (choice < 0.55) out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(Math.min(out.length, at + 1 + int(16)))]);
    else if (choice < 0.65) out = out.slice(0, at);
    else if (choice < 0.75 && out.length >= 8) {
      const header = new DataView(out.buffer, out.byteOffset, out.byteLength);
      header.setBigUint64(0, BigInt(pick([0, 1, 2, out.length - 8, out.length - 7, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) as number), true);
    } else if (choice < 0.85 && out.length > 0) out[Math.min(at, out.length - 1)] = pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x39, 0x2d, 0x00, 0xff]);
    else out = Uint8Array.from([...out, ...out.subarray(int(out.length + 1))]);
  }
  return out;
}

/** Replaces a random value somewhere inside a JSON-able value (in place) with a nasty one, a copy of another, or deletes it. */
function mutateValue(root: any): void {
  const slots: Array<[any, string | number]> = [];
  const stack = [root];
  const seen = new Set<unknown>();
  while (stack.length) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object' || seen.has(node)) continue;
    seen.add(node);
    for (const key of Object.keys(node)) {
      slots.push([node, Array.isArray(node) ? Number(key) : key]);
      stack.push(node[key]);
    }
  }
  if (slots.length === 0) return;
  const [container, key] = pick(slots);
  const choice = random();
  if (choice < 0.6) container[key] = nasty();
  else if (choice < 0.75) delete container[key];
  else if (choice < 0.9) container[key] = structuredClone(pick(slots)[0]);
  else container[`unknown${int(3)}`] = nasty();
}

/** Character-level mutations of a string. */
function mutateText(text: string): string {
  let out = text;
  for (let r = 1 + int(3); r > 0; r--) {
    const at = int(out.length + 1);
    const choice = random();
    if (choice < 0.3) out = out.slice(0, at) + pick(['(', ')', ' ', '-', '9', '99999999999', '1e3', '"', '\\', '\u0000', '((((', ')))']) + out.slice(at);
    else if (choice < 0.6) out = out.slice(0, at) + out.slice(at + 1 + int(4));
    else if (choice < 0.8) out = out.slice(0, at);
    else out = out + out.slice(int(out.length + 1));
  }
  return out;
}

/** A safetensors file's metadata for a failure message, or why there is none. */
function readableMetadata(bytes: Uint8Array): unknown {
  try {
    return readSafetensorsMetadata(bytes);
  } catch (error) {
    return `unreadable (${(error as Error).message.slice(0, 80)}), ${bytes.length} bytes`;
  }
}

/** JSON of a fuzzed input for a failure message (BigInts spelled 3n, cycles named). */
function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  } catch {
    return '(cyclic)';
  }
}

interface Tally { inputs: number; typed: number; accepted: number; slowest: number }
const tallies: Record<string, Tally> = {};

/**
 * Runs one fuzzed call: it must return (then `check` validates the result) or throw a LooptreeError; no Wasm
 * block may outlive it (dispose happens inside `run`). Records the time.
 */
function attempt(parser: string, label: () => string, run: () => void): void {
  const tally = (tallies[parser] ??= { inputs: 0, typed: 0, accepted: 0, slowest: 0 });
  const blocks = backendInfo().heapBlocks;
  const started = performance.now();
  try {
    run();
    tally.accepted++;
  } catch (error) {
    if (!(error instanceof LooptreeError)) {
      expect.fail(`${parser}: untyped ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}\ninput: ${label().slice(0, 1500)}`);
    }
    tally.typed++;
  }
  const took = performance.now() - started;
  tally.inputs++;
  tally.slowest = Math.max(tally.slowest, took);
  if (!(took < CALL_CAP_MS)) expect.fail(`${parser}: a call took ${took.toFixed(0)} ms: ${label().slice(0, 300)}`);
  // The per-call arena may be replaced by a larger one (one block either way); any other block left behind is a leak.
  const left = backendInfo().heapBlocks;
  if (left > blocks) expect.fail(`${parser}: ${left - blocks} Wasm block(s) left behind by ${label().slice(0, 300)}`);
}

const bits = (t: Tensor) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
let sentinel: { check(): void; dispose(): void };
let heapAtStart = 0;
let blocksAtStart = 0;

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
  manualSeed(99);
  const model = new GRU({ inputSize: 3, hiddenSize: 5, bidirectional: true });
  const x = tensor(Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.cos(i)), [4, 2, 3]);
  const expected = bits(model.forward(x).output);
  sentinel = {
    check: () => expect(bits(model.forward(x).output), 'the sentinel model is bitwise unchanged').toEqual(expected),
    dispose: () => model.dispose(),
  };
  // Touch the per-call arena at its largest size for the fuzzed forwards so later calls need not replace it.
  new LSTM({ inputSize: 8, hiddenSize: 8 }).forward(tensor(new Float32Array(64 * 8 * 8), [64, 8, 8]));
  heapAtStart = backendInfo().heapBytes;
  blocksAtStart = backendInfo().heapBlocks;
});

/** The per-parser table (printed by the last test: vitest shows a test's output, not a hook's). */
function printTable(): void {
  const rows = Object.entries(tallies).map(([parser, t]) => `${parser.padEnd(22)} inputs ${String(t.inputs).padStart(6)}  typed errors ${String(t.typed).padStart(6)}  accepted ${String(t.accepted).padStart(6)}  slowest ${t.slowest.toFixed(1)} ms`);
  console.log(`fuzzing (${process.env.LOOPTREE_SIMD} build), Wasm heap ${heapAtStart} B before, ${backendInfo().heapBytes} B after:\n${rows.join('\n')}`);
}

afterAll(() => {
  sentinel.check();
  sentinel.dispose();
});

describe(`fuzzing the parsers (${process.env.LOOPTREE_SIMD} build)`, () => {
  it(`safetensors: ${PER_PARSER} mutated files → tensors whose sizes match their shapes, or a LooptreeError`, () => {
    manualSeed(1);
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, projSize: 2 });
    const bases = [
      serializeSafetensors(lstm.stateDict(), { metadata: { note: 'base', 'looptree.config': '{"a":1}' } }),
      serializeSafetensors({ a: tensor([1, 2, 3, 4], [2, 2]), b: tensor([5], [1]) }),
      serializeSafetensors({}),
    ];
    lstm.dispose();
    for (let i = 0; i < PER_PARSER; i++) {
      const bytes = mutateBytes(pick(bases));
      attempt('safetensors', () => `[${Array.from(bytes.subarray(0, 300)).join(',')}]`, () => {
        const tensors = parseSafetensors(bytes);
        for (const value of Object.values(tensors)) expect(value.data.length).toBe(value.shape.reduce((a, b) => a * b, 1));
      });
    }
    expect(tallies.safetensors.typed).toBeGreaterThan(PER_PARSER / 4);
    expect(tallies.safetensors.accepted).toBeGreaterThan(PER_PARSER / 50);
    sentinel.check();
  }, 600_000);

  it(`Sequential.load: ${PER_PARSER} mutated configs and files → a model that predicts, or a LooptreeError`, () => {
    manualSeed(2);
    const models = [
      new Sequential([new Embedding({ numEmbeddings: 7, embeddingDim: 3 }), new LSTM({ inputSize: 3, hiddenSize: 4, batchFirst: true }), new LastStep(), new Linear({ inFeatures: 4, outFeatures: 2 })]),
      new Sequential([new GRU({ inputSize: 2, hiddenSize: 3, batchFirst: true, bidirectional: true, numLayers: 2 }), new Linear({ inFeatures: 6, outFeatures: 1 })]),
      new Sequential([new RNN({ inputSize: 2, hiddenSize: 2, batchFirst: true, nonlinearity: 'relu' }), new LastStep()]),
    ];
    const bases = models.map((model) => model.save());
    for (const model of models) model.dispose();
    for (let i = 0; i < PER_PARSER; i++) {
      const base = pick(bases);
      const choice = random();
      const config = structuredClone(base.config);
      let weights = base.weights;
      if (choice < 0.6) mutateValue(config);
      else weights = mutateBytes(weights);
      const withConfig = choice < 0.6 || random() < 0.5;
      attempt('Sequential.load', () => (withConfig ? show(config) : `bytes ${weights.length}`), () => {
        const model = Sequential.load(withConfig ? { config, weights } : { weights });
        try {
          const first = model.layers[0] as { inputSize?: number; numEmbeddings?: number };
          const features = first.inputSize;
          const x = features === undefined ? tensor([[0, 1, 2]], [1, 3]) : tensor(new Float32Array(3 * features).fill(0.5), [1, 3, features]);
          expect(model.predict(x).data.every(Number.isFinite)).toBe(true);
        } finally {
          model.dispose();
        }
      });
    }
    expect(tallies['Sequential.load'].typed).toBeGreaterThan(PER_PARSER / 4);
    expect(tallies['Sequential.load'].accepted).toBeGreaterThan(PER_PARSER / 50);
    sentinel.check();
  }, 600_000);

  it(`loadQuantized: ${PER_PARSER} mutated metadata (class, options JSON) and files → a quantized module of that class that runs, or a LooptreeError`, () => {
    manualSeed(3);
    const originals = [
      new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, projSize: 2 }), new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true, resetAfter: false }),
      new RNN({ inputSize: 2, hiddenSize: 3, nonlinearity: 'relu' }), new Linear({ inFeatures: 5, outFeatures: 2 }),
      new ChildSumTreeLSTM({ inputSize: 3, hiddenSize: 2 }), new BinaryTreeLSTM({ inputSize: 2, hiddenSize: 3 }), new TreeRNN({ inputSize: 2, hiddenSize: 2 }),
    ];
    const bases = originals.map((module) => {
      const quantized = quantizeDynamic(module as never, { dtype: 'int8' }) as { dispose(): void };
      const bytes = saveQuantized(quantized as never);
      quantized.dispose();
      module.dispose();
      return bytes;
    });
    /** The file of `bytes` written again with its metadata mutated (the class name or the options' JSON). */
    const withMutatedMetadata = (bytes: Uint8Array): Uint8Array => {
      const metadata = { ...readSafetensorsMetadata(bytes) };
      const tensors = parseSafetensors(bytes);
      const dtypes = Object.fromEntries(Object.keys(tensors).filter((name) => Object.hasOwn(tensors, `${name}.scale`)).map((name) => [name, 'I8' as const]));
      const choice = random();
      if (choice < 0.2) metadata['looptree.quantized.class'] = pick(['QuantizedLSTM', 'QuantizedGRU', 'QuantizedRNN', 'QuantizedLinear', 'QuantizedTreeRNN', 'QuantizedChildSumTreeLSTM', 'QuantizedBinaryTreeLSTM', 'LSTM', 'constructor', '__proto__', '', String(nasty())]);
      else if (choice < 0.3) delete metadata[pick(['looptree.quantized.class', 'looptree.quantized.options'])];
      else if (choice < 0.5) metadata['looptree.quantized.options'] = mutateText(metadata['looptree.quantized.options']);
      else {
        const options = JSON.parse(metadata['looptree.quantized.options']);
        mutateValue(options);
        metadata['looptree.quantized.options'] = show(options);
      }
      return serializeSafetensors(tensors, { metadata, dtypes });
    };
    for (let i = 0; i < PER_PARSER; i++) {
      const base = pick(bases);
      const bytes = random() < 0.7 ? withMutatedMetadata(base) : mutateBytes(base);
      attempt('loadQuantized', () => show(readableMetadata(bytes)), () => {
        const module = loadQuantized(bytes) as unknown as Record<string, any>;
        try {
          // Accepted: a quantized module of the class the file names, with int8 codes, that runs.
          expect(isQuantized(module)).toBe(true);
          expect(module.constructor.name).toBe(readSafetensorsMetadata(bytes)['looptree.quantized.class']);
          for (const [name, t] of Object.entries(module.stateDict() as Record<string, Tensor>)) {
            if (Object.hasOwn(module.stateDict(), `${name}.scale`)) expect(t.data.every((q) => Number.isInteger(q) && Math.abs(q) <= 127), name).toBe(true);
          }
          let output: ArrayLike<number>;
          if (module.inFeatures !== undefined) output = module.forward(tensor(new Float32Array(module.inFeatures).fill(0.5), [1, module.inFeatures])).data;
          else if (module.numLayers === undefined) output = module.forward([Tree.fromParents([-1])], [tensor(new Float32Array(module.inputSize).fill(0.5), [1, module.inputSize])]).h[0].data;
          else output = module.forward(tensor(new Float32Array(2 * module.inputSize).fill(0.5), [2, 1, module.inputSize])).output.data;
          expect(Array.from(output).every(Number.isFinite)).toBe(true);
        } finally {
          module.dispose();
        }
      });
    }
    expect(tallies.loadQuantized.typed).toBeGreaterThan(PER_PARSER / 4);
    expect(tallies.loadQuantized.accepted).toBeGreaterThan(PER_PARSER / 50);
    sentinel.check();
  }, 600_000);

  const sentences = ['(3 (2 (2 The) (2 cast)) (3 (3 (2 is) (3 good)) (2 .)))', '(1 word)', '(0 (1 a) (2 (3 b) (4 c)) (5 d))', '(4 (4 (4 (4 (4 x) (1 y)) (1 z)) (1 w)) (-3 v))'];

  it(`parseTree (s-expressions): ${PER_PARSER} mutated strings → a tree that round-trips through JSON, or a LooptreeError`, () => {
    for (let i = 0; i < PER_PARSER; i++) {
      const source = mutateText(pick(sentences));
      attempt('parseTree text', () => JSON.stringify(source), () => {
        const parsed = parseTree(source);
        const again = parseTree(treeToJSON(parsed));
        expect(Array.from(again.labels)).toEqual(Array.from(parsed.labels));
        expect(again.tokens).toEqual(parsed.tokens);
        expect(Array.from(again.tree.parents())).toEqual(Array.from(parsed.tree.parents()));
      });
    }
    expect(tallies['parseTree text'].typed).toBeGreaterThan(PER_PARSER / 10);
    expect(tallies['parseTree text'].accepted).toBeGreaterThan(PER_PARSER / 50);
  }, 600_000);

  it(`parseTree (JSON trees): ${PER_PARSER} mutated objects → a tree that round-trips, or a LooptreeError`, () => {
    const bases = sentences.map((s) => treeToJSON(parseTree(s)));
    for (let i = 0; i < PER_PARSER; i++) {
      const json = structuredClone(pick(bases)) as any;
      for (let r = 1 + int(2); r > 0; r--) mutateValue(json);
      if (random() < 0.05 && json && typeof json === 'object' && Array.isArray(json.children)) json.children.push(json); // a cycle
      attempt('parseTree JSON', () => show(json), () => {
        const parsed = parseTree(json);
        const again = parseTree(treeToJSON(parsed));
        expect(Array.from(again.labels)).toEqual(Array.from(parsed.labels));
        expect(Array.from(again.tree.parents())).toEqual(Array.from(parsed.tree.parents()));
      });
    }
    expect(tallies['parseTree JSON'].typed).toBeGreaterThan(PER_PARSER / 10);
    expect(tallies['parseTree JSON'].accepted).toBeGreaterThan(PER_PARSER / 20);
  }, 600_000);

  it(`Tree.fromParents: ${PER_PARSER} mutated parent arrays → a tree with those parents (and a forward runs on some), or a LooptreeError`, () => {
    manualSeed(3);
    const cell = new ChildSumTreeLSTM({ inputSize: 2, hiddenSize: 3 });
    const bases = [[-1], [-1, 0, 0], [1, 2, -1], [-1, 0, 1, 2, 3, 0, 5], [2, 2, -1, 2, 0]];
    for (let i = 0; i < PER_PARSER; i++) {
      const parents: unknown[] = [...pick(bases)];
      for (let r = 1 + int(3); r > 0; r--) {
        const choice = random();
        if (choice < 0.5) parents[int(parents.length + 1)] = random() < 0.5 ? nasty() : int(parents.length + 1) - 1;
        else if (choice < 0.7) parents.splice(int(parents.length), 1);
        else parents.push(int(parents.length) - 1);
      }
      const input = random() < 0.05 ? nasty() : parents;
      attempt('Tree.fromParents', () => show(input), () => {
        const tree = Tree.fromParents(input as number[]);
        expect(Array.from(tree.parents())).toEqual((input as number[]).map(Number));
        if (i % 10 === 0) {
          const x = tensor(new Float32Array(tree.size * 2).fill(0.1), [tree.size, 2]);
          expect(cell.forward([tree], [x]).h[0].data.every(Number.isFinite)).toBe(true);
        }
      });
    }
    cell.dispose();
    expect(tallies['Tree.fromParents'].typed).toBeGreaterThan(PER_PARSER / 10);
    expect(tallies['Tree.fromParents'].accepted).toBeGreaterThan(PER_PARSER / 20);
    sentinel.check();
  }, 600_000);
});

describe(`fuzzing constructor and forward arguments (${process.env.LOOPTREE_SIMD} build)`, () => {
  const sizes = [1, 2, 3, 5, 8, ...NASTY.slice(0, 19), 70_000, 2 ** 20, null, undefined, '4', 4.5];
  const keys: Record<string, string[]> = {
    RNN: ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'nonlinearity', 'dropout'],
    LSTM: ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'projSize', 'dropout'],
    GRU: ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'resetAfter'],
    Linear: ['inFeatures', 'outFeatures', 'bias'],
    Embedding: ['numEmbeddings', 'embeddingDim', 'paddingIdx'],
  };
  const builders: Record<string, (options: any) => { forward?: (...args: any[]) => any; dispose(): void }> = {
    RNN: (o) => new RNN(o), LSTM: (o) => new LSTM(o), GRU: (o) => new GRU(o), Linear: (o) => new Linear(o), Embedding: (o) => new Embedding(o),
  };
  const sizeKeys = new Set(['inputSize', 'hiddenSize', 'numLayers', 'projSize', 'inFeatures', 'outFeatures', 'numEmbeddings', 'embeddingDim']);

  it(`${PER_PARSER} random constructions and forwards → a working module or a LooptreeError`, () => {
    for (let i = 0; i < PER_PARSER; i++) {
      const type = pick(Object.keys(keys));
      const options: Record<string, unknown> = {};
      for (const key of keys[type]) {
        if (random() < 0.2) continue;
        options[key] = sizeKeys.has(key) ? (random() < 0.7 ? 1 + int(6) : pick(sizes)) : (random() < 0.7 ? pick([true, false, 'tanh', 'relu', 0, 0.5]) : nasty());
      }
      if (random() < 0.05) options[pick(['hidden_size', 'units', 'foo', 'batch_first'])] = 3;
      const useNull = random() < 0.03;
      attempt(`new ${type} + forward`, () => show(options), () => {
        const module = builders[type](useNull ? null : options);
        try {
          const width = (options.inputSize ?? options.inFeatures) as number;
          const T = 1 + int(3), B = 1 + int(2);
          const choice = random();
          let x: unknown;
          if (type === 'Embedding') x = choice < 0.8 ? tensor([0, 0, 0], [3]) : nasty();
          else if (choice < 0.6) x = tensor(new Float32Array(T * B * width).fill(0.25), type === 'Linear' ? [T * B, width] : [T, B, width]);
          else if (choice < 0.7) x = { shape: [T, B, width], data: pick([null, 'abcdef', new BigInt64Array(T * B * width), [1, 'a']]) };
          else if (choice < 0.8) x = tensor(new Float32Array(T * B * (width + 1)), [T, B, width + 1]);
          else x = nasty();
          const forwardOptions = random() < 0.2 ? pick([{ lengths: [T + 1] }, { lengths: null }, { h0: null }, { train: 'yes' }, { unknown: 1 }, null]) : undefined;
          const result = (module.forward as any)(x, forwardOptions);
          const output: Tensor = result.output ?? result;
          expect(output.data.every(Number.isFinite), 'a forward that returns gives finite values').toBe(true);
        } finally {
          module.dispose();
        }
      });
    }
    const constructed = Object.entries(tallies).filter(([name]) => name.startsWith('new '));
    expect(constructed.reduce((sum, [, t]) => sum + t.accepted, 0)).toBeGreaterThan(PER_PARSER / 50);
    expect(constructed.reduce((sum, [, t]) => sum + t.typed, 0)).toBeGreaterThan(PER_PARSER / 4);
    // The same live blocks as at the start (the per-call arena may have grown to a larger forward: one block still).
    expect(backendInfo().heapBlocks).toBe(blocksAtStart);
    sentinel.check();
    printTable();
  }, 600_000);
});
