// The published types as a user's compiler sees them: `npm pack`, the tarball installed into a scratch project, and a
// consumer compiled with skipLibCheck false and strict under each lib (ES2022, ES2022 + DOM, ESNext) and each
// moduleResolution (node10, node16, bundler). Offline: the tarball has no dependencies, and TypeScript is the
// repository's, run in-process with one cache of parsed files (nine tsc processes take ten times as long).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerProject, packLibrary } from '../helpers/packaging.js';

/** Uses every entry (the core, looptree/keras, looptree/onnx, a .wasm subpath; looptree/infer in INFER_CONSUMER) and the option and tensor types. */
const CONSUMER = `
import wasm from 'looptree/looptree-relaxed.wasm';
import {
  init, initSync, LSTM, GRU, Sequential, Embedding, LastStep, Linear, Adam, crossEntropy, buildVocab, parseTree, TreeClassifier,
  type History, type InitOptions, type Tensor, type TensorLike,
} from 'looptree';
import { loadLayersModel } from 'looptree/keras';
import { loadOnnx } from 'looptree/onnx';

export async function train(): Promise<History> {
  const options: InitOptions = { simd: 'auto' };
  await init(options);
  initSync({ module: wasm });
  const lstm = new LSTM({ inputSize: 4, hiddenSize: 8, batchFirst: true });
  const output: Tensor = lstm.forward([[[1, 2, 3, 4]]], { h0: { shape: [1, 1, 8], data: new Float32Array(8) } }).output;
  const logits: TensorLike = [[0.5, -0.5]];
  const { loss } = crossEntropy(logits, [0], { reduction: 'sum' });
  const parsed = parseTree('(1 (0 not) (1 good))');
  const vocab = buildVocab([parsed], { specials: ['<unk>'] });
  const classifier = new TreeClassifier({ model: 'BinaryTreeLSTM', vocabSize: vocab.size, inputSize: 4, hiddenSize: 4, numClasses: 2 });
  classifier.forward([parsed.tree], [vocab.ids(parsed)], { labels: [parsed.labels], train: true });
  new Adam(classifier.parameters(), { lr: loss > 0 ? 1e-3 : 1e-2 }).step();
  new GRU({ inputSize: 2, hiddenSize: 2 })[Symbol.dispose]();
  const model = new Sequential([
    new Embedding({ numEmbeddings: 5, embeddingDim: 4 }), lstm, new LastStep(), new Linear({ inFeatures: output.shape[2], outFeatures: 2 }),
  ]);
  model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 1e-3 } });
  void loadLayersModel;
  void loadOnnx;
  return model.fitAsync([[1, 2]], [0], { epochs: 2, yieldEvery: 4 });
}
`;

/** looptree/infer: what an edge function uses, typed from the inference-only entry. */
const INFER_CONSUMER = `
import {
  init, initSync, backendInfo, tensor, LSTM, GRU, ChildSumTreeLSTM, Tree, parseSafetensors, StateDictError, LooptreeError,
  type InitOptions, type Tensor, type TensorLike, type ForwardResult, type TreeForwardResult, type LoadReport,
} from 'looptree/infer';
import wasm from 'looptree/looptree-baseline.wasm';

export async function answer(bytes: Uint8Array, input: TensorLike): Promise<{ output: Tensor; report: LoadReport; roots: number }> {
  const options: InitOptions = { module: wasm };
  initSync(options as InitOptions & { module: WebAssembly.Module });
  await init();
  const lstm = new LSTM({ inputSize: 4, hiddenSize: 8 });
  let report: LoadReport;
  try {
    report = lstm.loadStateDict(parseSafetensors(bytes));
  } catch (error) {
    if (error instanceof StateDictError || error instanceof LooptreeError) throw new Error(error.code);
    throw error;
  }
  const result: ForwardResult = lstm.forward(input);
  new GRU({ inputSize: 2, hiddenSize: 2 }).stream({ batch: 1 }).step(tensor([[1, 2]], [1, 2]));
  const tree = Tree.fromParents([-1, 0, 0]);
  const trees: TreeForwardResult = new ChildSumTreeLSTM({ inputSize: 2, hiddenSize: 3 }).forward([tree], [[[1, 2], [3, 4], [5, 6]]]);
  void backendInfo().simd;
  return { output: result.output, report, roots: trees.h.length };
}
`;

/** \`using\`, for the libs that have explicit resource management. */
const DISPOSABLE_CONSUMER = `
import { GRU } from 'looptree';

export function hiddenSize(): number {
  using gru = new GRU({ inputSize: 2, hiddenSize: 3 });
  return gru.hiddenSize;
}
`;

const LIBS: Record<string, string[]> = { 'ES2022': ['lib.es2022.d.ts'], 'ES2022 + DOM': ['lib.es2022.d.ts', 'lib.dom.d.ts'], 'ESNext': ['lib.esnext.d.ts'] };
const RESOLUTIONS: Record<string, [ts.ModuleResolutionKind, ts.ModuleKind]> = {
  node10: [ts.ModuleResolutionKind.Node10, ts.ModuleKind.CommonJS],
  node16: [ts.ModuleResolutionKind.Node16, ts.ModuleKind.Node16],
  bundler: [ts.ModuleResolutionKind.Bundler, ts.ModuleKind.ESNext],
};

let project = '';

beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), 'looptree-types-'));
  await consumerProject(project, ['--offline', '--ignore-scripts', await packLibrary(project)]);
  writeFileSync(path.join(project, 'consumer.ts'), CONSUMER);
  writeFileSync(path.join(project, 'infer.ts'), INFER_CONSUMER);
  writeFileSync(path.join(project, 'disposable.ts'), DISPOSABLE_CONSUMER);
}, 60_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Parsed files shared by the programs: by name, target and module format (what parsing depends on). */
const parsed = new Map<string, ts.SourceFile | undefined>();

/** tsc's diagnostics for `files` under `options`, formatted, or '' when it compiles. */
function compile(files: string[], options: ts.CompilerOptions): string {
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile;
  host.getSourceFile = (fileName, version, onError, shouldCreate) => {
    const key = `${fileName}|${typeof version === 'object' ? `${version.languageVersion}|${version.impliedNodeFormat}` : version}`;
    if (!parsed.has(key)) parsed.set(key, read(fileName, version, onError, shouldCreate));
    return parsed.get(key);
  };
  const program = ts.createProgram(files.map((file) => path.join(project, file)), options, host);
  return ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), host);
}

describe('the packed .d.ts compile in a consumer with skipLibCheck: false and strict', () => {
  for (const [libName, lib] of Object.entries(LIBS)) {
    for (const [resolutionName, [moduleResolution, module]] of Object.entries(RESOLUTIONS)) {
      it(`lib ${libName}, moduleResolution ${resolutionName}`, () => {
        const files = libName === 'ESNext' ? ['consumer.ts', 'infer.ts', 'disposable.ts'] : ['consumer.ts', 'infer.ts'];
        // skipDefaultLibCheck: TypeScript's own lib files are not ours to check (lib.dom alone takes seconds).
        const options: ts.CompilerOptions = {
          target: ts.ScriptTarget.ES2022, lib, module, moduleResolution, strict: true, skipLibCheck: false, skipDefaultLibCheck: true,
          noEmit: true, types: [],
        };
        expect(compile(files, options), `tsc, lib ${libName}, moduleResolution ${resolutionName}`).toBe('');
      }, 30_000);
    }
  }
});
