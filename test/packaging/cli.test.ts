// The `looptree` command as users get it: `npm pack` of the built library, installed into a scratch project, run with
// `npx looptree …`. bench --quick runs and prints a row per workload (no timing assertions); info prints the exact
// tensors, shapes and architecture of PyTorch, ONNX and Keras fixtures; convert writes files whose weights are the
// source's rounded to f16 / bf16 (float64 reference) and whose models reproduce the fixtures' PyTorch / TF.js outputs
// within that rounding, or (--dtype int8) the file loadQuantized reads, with the reference quantizer's codes and the
// outputs of quantizeDynamic in this process; bad command lines fail with one line on stderr and exit 1.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChildSumTreeLSTM, GRU, LSTM, QuantizedChildSumTreeLSTM, QuantizedLSTM, Tensor, Tree, init, loadQuantized, parseSafetensors, quantizeDynamic, readSafetensorsHeader,
  serializeSafetensors, type RecurrentModule,
} from '../../dist/index.js';
import { expectClose, loadFixture, type FixtureTensor } from '../helpers/fixtures.js';
import { consumerProject, packLibrary, run, userEnv } from '../helpers/packaging.js';
import { REPO_DIR } from '../helpers/runtimes.js';
import { decode16, encode16 } from '../reference/dtypes.js';
import { quantizeWeight } from '../reference/quantized.js';

const fixture = (relative: string) => path.join(REPO_DIR, 'test/fixtures', relative);

let scratch = '';
let project = '';

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'looptree-cli-'));
  const tarball = await packLibrary(scratch);
  project = await consumerProject(path.join(scratch, 'project'), ['--offline', tarball]);
  await init();
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** `npx looptree <args>` in the consumer project: { code, stdout, stderr } (a failing exit is returned, not thrown). */
async function looptree(args: string[], timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'looptree', ...args], { cwd: project, env: userEnv, timeout });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function infoOf(file: string): Promise<{ tensors: Array<{ name: string; dtype: string; shape: number[] }>; parameters: number; architecture: string[]; dtypes: string[] }> {
  const { code, stdout, stderr } = await looptree(['info', file, '--json']);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout);
}

describe('npx looptree (installed from the packed tarball)', () => {
  it('is the bin of the installed package, and --help lists the commands', async () => {
    const { code, stdout } = await looptree(['--help']);
    expect(code).toBe(0);
    for (const command of ['bench', 'info', 'convert']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const manifest = JSON.parse(readFileSync(path.join(project, 'node_modules/looptree/package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ looptree: './dist/cli.js' });
    for (const command of ['bench', 'info', 'convert']) {
      const help = await looptree([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: looptree ${command}`);
    }
  }, 120_000);

  it('bench --quick prints a row per workload W1–W8 with both builds timed (no timing assertions)', async () => {
    const { code, stdout } = await looptree(['bench', '--quick'], 600_000);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Wasm SIMD peak .*baseline \(f32x4 mul\+add\) [\d.]+ GFLOP\/s; relaxed \(relaxed madd\) [\d.]+ GFLOP\/s/);
    for (const id of ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7', 'W8']) {
      // | W1 title | GFLOP | baseline ms | GFLOP/s | of peak | relaxed ms | GFLOP/s | of peak |
      expect(stdout).toMatch(new RegExp(`^\\| ${id} [^|]+\\| [\\d.]+ +\\| [\\d.]+ +\\| [\\d.]+ +\\| \\d+% +\\| [\\d.]+ +\\| [\\d.]+ +\\| \\d+% +\\|$`, 'm'));
    }
  }, 600_000);

  describe('info', () => {
    for (const [name, architecture] of [
      ['lstm_l2_bidir_bf', 'LSTM 2 layers bidirectional, input 5, hidden 13'],
      ['gru_l2_bidir_h0_bf', 'GRU 2 layers bidirectional, input 4, hidden 13'],
      ['lstm_proj_l2_bidir_bf', 'LSTM 2 layers bidirectional, input 4, hidden 13, projection 4'],
    ]) {
      it(`${name}.safetensors (PyTorch): every tensor, dtype and shape, the parameter count, "${architecture}"`, async () => {
        const info = await infoOf(fixture(`torch/${name}.safetensors`));
        const params = loadFixture<{ params: Record<string, FixtureTensor> }>('torch', `${name}.json`).params;
        expect(Object.fromEntries(info.tensors.map((t) => [t.name, t.shape]))).toEqual(Object.fromEntries(Object.entries(params).map(([key, t]) => [key, t.shape])));
        expect(info.dtypes).toEqual(['F32']);
        expect(info.parameters).toBe(Object.values(params).reduce((sum, t) => sum + t.data.length, 0));
        expect(info.architecture).toEqual([architecture]);
      }, 60_000);
    }

    it('the text form: counts, a tensor row, the architecture and the code to load it', async () => {
      const { stdout } = await looptree(['info', fixture('torch/lstm_l2_bidir_bf.safetensors')]);
      expect(stdout).toContain('16 tensors (F32), 6,344 parameters');
      expect(stdout).toMatch(/^\| weight_hh_l1_reverse +\| F32 +\| \[52, 13\] +\|$/m);
      expect(stdout).toContain('architecture: LSTM 2 layers bidirectional, input 5, hidden 13');
      expect(stdout).toContain('const model = new LSTM({ inputSize: 5, hiddenSize: 13, numLayers: 2, bidirectional: true });');
    }, 60_000);

    it('an ONNX export of a 2-layer bidirectional nn.LSTM (two LSTM nodes)', async () => {
      const info = await infoOf(fixture('onnx-torch/models/lstm_encoder.onnx'));
      expect(info.architecture).toEqual(['0: LSTM 1 layer bidirectional, input 6, hidden 8', '1: LSTM 1 layer bidirectional, input 16, hidden 8']);
      expect(info.tensors.find((t) => t.name === '1.weight_ih_l0_reverse')).toEqual({ name: '1.weight_ih_l0_reverse', dtype: 'F32', shape: [32, 16] });
      expect(info.parameters).toBe(2 * 2 * (32 * 6 + 32 * 8 + 64) - 2 * 32 * 6 + 2 * 32 * 16);
    }, 60_000);

    it('tree modules (Tree-LSTM child-sum and binary, TreeRNN), also under a key prefix, from the tree fixtures\' weights', async () => {
      const expected = {
        childsum_basic: 'ChildSumTreeLSTM, input 5, hidden 7', binary_basic: 'BinaryTreeLSTM, input 5, hidden 7', treernn_basic: 'TreeRNN, input 5, hidden 8',
      };
      for (const [name, architecture] of Object.entries(expected)) {
        const params = loadFixture<{ params: Record<string, FixtureTensor> }>('tree', `${name}.json`).params;
        for (const prefix of ['', 'encoder.']) {
          const file = path.join(scratch, `${prefix}${name}.safetensors`);
          const tensors = Object.fromEntries(Object.entries(params).map(([key, t]) => [`${prefix}${key}`, new Tensor(Float32Array.from(t.data), t.shape)]));
          writeFileSync(file, serializeSafetensors(tensors));
          const info = await infoOf(file);
          expect(info.architecture, `${prefix}${name}`).toEqual([`${prefix ? 'encoder: ' : ''}${architecture}`]);
          expect(info.parameters).toBe(Object.values(params).reduce((sum, t) => sum + t.data.length, 0));
        }
      }
    }, 120_000);

    it('a Keras model.json (LSTM then GRU reset_after=False)', async () => {
      const info = await infoOf(fixture('keras/stacked_lstm_gru/model.json'));
      expect(info.architecture).toEqual(['0: LSTM 1 layer, input 4, hidden 8, batch first', '1: GRU 1 layer, input 8, hidden 6, batch first, resetAfter false']);
      expect(info.tensors.map((t) => `${t.name} [${t.shape}]`)).toEqual([
        '0.weight_ih_l0 [32,4]', '0.weight_hh_l0 [32,8]', '0.bias_ih_l0 [32]', '0.bias_hh_l0 [32]',
        '1.weight_ih_l0 [18,8]', '1.weight_hh_l0 [18,6]', '1.bias_ih_l0 [18]', '1.bias_hh_l0 [18]',
      ]);
    }, 60_000);
  });

  describe('convert', () => {
    /** Converts `source` with --dtype `dtype`; returns the written file's bytes. */
    async function convert(source: string, dtype: 'f32' | 'f16' | 'bf16', name: string): Promise<Uint8Array> {
      const output = path.join(scratch, `${name}.${dtype}.safetensors`);
      const { code, stdout, stderr } = await looptree(['convert', source, output, '--dtype', dtype]);
      expect(stderr.replace(/^note: .*\n/m, '')).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^wrote ${output.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .* parameters as ${dtype}, `));
      return new Uint8Array(readFileSync(output));
    }

    /** The values of `tensors` rounded to `dtype` by the float64 reference (f32: unchanged). */
    const rounded = (data: ArrayLike<number>, dtype: 'f32' | 'f16' | 'bf16') => (dtype === 'f32' ? Array.from(data) : Array.from(data, (x) => decode16(dtype, encode16(dtype, x)!)));

    // Largest |output − fixture| allowed: the fixture's own tolerance for f32; for f16 and bf16 the weights' rounding
    // (relative 2^-11, 2^-8) carried through the network: measured 1.4e-4 and 1.2e-3 on lstm_l2_bidir_bf (f32: 7.5e-8).
    const OUTPUT_ATOL = { f32: 1e-5, f16: 1e-3, bf16: 1e-2 };

    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      it(`PyTorch safetensors → ${dtype}: the weights rounded to nearest even, the model within ${OUTPUT_ATOL[dtype]} of PyTorch`, async () => {
        const source = fixture('torch/lstm_l2_bidir_bf.safetensors');
        const bytes = await convert(source, dtype, 'lstm_l2_bidir_bf');
        expect(new Set(readSafetensorsHeader(bytes).tensors.map((t) => t.dtype))).toEqual(new Set([dtype.toUpperCase()]));
        const original = parseSafetensors(new Uint8Array(readFileSync(source)));
        const converted = parseSafetensors(bytes);
        for (const [name, t] of Object.entries(original)) expect(Array.from(converted[name].data), name).toEqual(rounded(t.data, dtype));
        const case_ = loadFixture('torch', 'lstm_l2_bidir_bf.json');
        const lstm = new LSTM(case_.config);
        lstm.loadStateDict(converted);
        const tensor = (t: FixtureTensor) => new Tensor(Float32Array.from(t.data), t.shape);
        const { output } = lstm.forward(tensor(case_.inputs.input), { h0: tensor(case_.inputs.h0), c0: tensor(case_.inputs.c0) });
        expectClose(`${dtype} output`, output, case_.outputs.output, { atol: OUTPUT_ATOL[dtype], rtol: 0 });
        lstm.dispose();
      }, 60_000);
    }

    it('Keras model.json → f16: the LSTM, rebuilt from the metadata, within 2e-3 of TF.js', async () => {
      const bytes = await convert(fixture('keras/lstm_last/model.json'), 'f16', 'keras_lstm_last');
      const info = await infoOf(path.join(scratch, 'keras_lstm_last.f16.safetensors'));
      expect(info.dtypes).toEqual(['F16']);
      expect(info.architecture).toEqual(['LSTM 1 layer, input 3, hidden 13, batch first']);
      const [described] = JSON.parse(readSafetensorsHeader(bytes).metadata['looptree.modules']);
      expect(described).toEqual({ prefix: '', class: 'LSTM', options: expect.objectContaining({ inputSize: 3, hiddenSize: 13, batchFirst: true }) });
      const lstm = new LSTM(described.options);
      lstm.loadStateDict(parseSafetensors(bytes));
      const io = loadFixture('keras', 'lstm_last/io.json');
      const x = new Tensor(Float32Array.from(io.inputs.input.data), io.inputs.input.shape);
      const { h } = lstm.forward(x); // return_sequences: false — the last step's h
      expectClose('f16 LSTM', new Tensor(h.data, [3, 13]), io.outputs.output, { atol: 2e-3, rtol: 0 });
      lstm.dispose();
    }, 60_000);

    it('ONNX (torch.onnx.export of a 2-layer bidirectional LSTM) → f16: its two layers chained within 2e-3 of PyTorch', async () => {
      const bytes = await convert(fixture('onnx-torch/models/lstm_encoder.onnx'), 'f16', 'onnx_lstm_encoder');
      const described: Array<{ prefix: string; class: string; options: object }> = JSON.parse(readSafetensorsHeader(bytes).metadata['looptree.modules']);
      expect(described.map((d) => [d.prefix, d.class])).toEqual([['0.', 'LSTM'], ['1.', 'LSTM']]);
      const tensors = parseSafetensors(bytes);
      const io = loadFixture('onnx-torch/models', 'lstm_encoder_t9_b3.json');
      const state = (t: FixtureTensor, layer: number) => new Tensor(Float32Array.from(t.data.slice(layer * 2 * 3 * 8, (layer + 1) * 2 * 3 * 8)), [2, 3, 8]);
      let x = new Tensor(Float32Array.from(io.inputs.x.data), io.inputs.x.shape);
      described.forEach(({ prefix, options }, layer) => {
        const module: RecurrentModule = new LSTM(options as never);
        module.loadStateDict(Object.fromEntries(Object.entries(tensors).filter(([key]) => key.startsWith(prefix)).map(([key, t]) => [key.slice(prefix.length), t])));
        x = module.forward(x, { h0: state(io.inputs.h0, layer), c0: state(io.inputs.c0, layer) }).output;
        module.dispose();
      });
      expectClose('f16 encoder', x, io.outputs.output, { atol: 2e-3, rtol: 0 });
    }, 60_000);

    /** Converts `source` with --dtype int8; returns the file's bytes after checking the command's output. */
    async function convertInt8(source: string, name: string, described: string): Promise<Uint8Array> {
      const output = path.join(scratch, `${name}.int8.safetensors`);
      const { code, stdout, stderr } = await looptree(['convert', source, output, '--dtype', 'int8']);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toContain(`wrote ${output}: ${described}; `);
      expect(stdout).toMatch(/ parameters as int8, /);
      return new Uint8Array(readFileSync(output));
    }

    it('PyTorch safetensors → int8: I8 codes of the reference quantizer + F32 scales, = quantizeDynamic here, within 2e-2 of PyTorch; info reads it', async () => {
      const source = fixture('torch/lstm_l2_bidir_bf.safetensors');
      const bytes = await convertInt8(source, 'lstm_l2_bidir_bf', 'QuantizedLSTM 2 layers bidirectional, input 5, hidden 13');
      const original = parseSafetensors(new Uint8Array(readFileSync(source)));
      const dtypes = Object.fromEntries(readSafetensorsHeader(bytes).tensors.map((t) => [t.name, t.dtype]));
      const loaded = loadQuantized(bytes);
      expect(loaded).toBeInstanceOf(QuantizedLSTM);
      const dict = loaded.stateDict();
      for (const [name, t] of Object.entries(original)) {
        if (!name.startsWith('weight_')) {
          expect(dtypes[name], name).toBe('F32');
          expect(Array.from(dict[name].data), name).toEqual(Array.from(t.data));
          continue;
        }
        const reference = quantizeWeight(t.data, t.shape[0], t.shape[1]);
        expect([dtypes[name], dtypes[`${name}.scale`]], name).toEqual(['I8', 'F32']);
        expect(Array.from(dict[name].data), `${name} codes`).toEqual(Array.from(reference.q));
        expect(Array.from(dict[`${name}.scale`].data), `${name}.scale`).toEqual(Array.from(reference.scales));
      }
      // The file's module (options from the shapes: time-major) = quantizeDynamic here of the same LSTM; the fixture's
      // (batch-first, as PyTorch ran it) quantized here within the accuracy contract's 2e-2 of PyTorch.
      const case_ = loadFixture('torch', 'lstm_l2_bidir_bf.json');
      const tensor = (t: FixtureTensor) => new Tensor(Float32Array.from(t.data), t.shape);
      const options = { h0: tensor(case_.inputs.h0), c0: tensor(case_.inputs.c0) };
      const timeMajor = new Tensor(Float32Array.from(case_.inputs.input.data), [6, 3, 5]);
      const sameOptions = new LSTM((loaded as QuantizedLSTM).options());
      sameOptions.loadStateDict(original);
      const quantizedHere = quantizeDynamic(sameOptions, { dtype: 'int8' });
      expect(Array.from((loaded as QuantizedLSTM).forward(timeMajor, options).output.data))
        .toEqual(Array.from(quantizedHere.forward(timeMajor, options).output.data));
      const lstm = new LSTM(case_.config);
      lstm.loadStateDict(original);
      const here = quantizeDynamic(lstm, { dtype: 'int8' });
      expectClose('int8 output', here.forward(tensor(case_.inputs.input), options).output, case_.outputs.output, { atol: 2e-2, rtol: 0 });
      for (const m of [loaded, sameOptions, quantizedHere, lstm, here]) m.dispose();

      const info = await infoOf(path.join(scratch, 'lstm_l2_bidir_bf.int8.safetensors'));
      expect(info.dtypes.sort()).toEqual(['F32', 'I8']);
      expect(info.architecture).toEqual(['QuantizedLSTM 2 layers bidirectional, input 5, hidden 13 (int8 weights (quantizeDynamic), inference only)']);
      const { stdout } = await looptree(['info', path.join(scratch, 'lstm_l2_bidir_bf.int8.safetensors')]);
      expect(stdout).toContain(`const model = loadQuantized(readFileSync('${path.join(scratch, 'lstm_l2_bidir_bf.int8.safetensors')}')); // QuantizedLSTM`);
    }, 120_000);

    it('a ChildSumTreeLSTM state dict and a Keras model.json → int8: loadQuantized gives quantizeDynamic\'s module here', async () => {
      const params = loadFixture<{ params: Record<string, FixtureTensor> }>('tree', 'childsum_basic.json').params;
      const source = path.join(scratch, 'childsum_for_int8.safetensors');
      const tensors = Object.fromEntries(Object.entries(params).map(([key, t]) => [key, new Tensor(Float32Array.from(t.data), t.shape)]));
      writeFileSync(source, serializeSafetensors(tensors));
      const loaded = loadQuantized(await convertInt8(source, 'childsum', 'QuantizedChildSumTreeLSTM, input 5, hidden 7'));
      expect(loaded).toBeInstanceOf(QuantizedChildSumTreeLSTM);
      const tree = new ChildSumTreeLSTM({ inputSize: 5, hiddenSize: 7 });
      tree.loadStateDict(tensors);
      const here = quantizeDynamic(tree, { dtype: 'int8' });
      const trees = [Tree.fromParents([-1, 0, 0, 0, 1])];
      const x = [new Tensor(Float32Array.from({ length: 25 }, (_, i) => Math.sin(i)), [5, 5])];
      expect(Array.from((loaded as QuantizedChildSumTreeLSTM).forward(trees, x).h[0].data)).toEqual(Array.from(here.forward(trees, x).h[0].data));
      for (const m of [loaded, tree, here]) m.dispose();

      const keras = loadQuantized(await convertInt8(fixture('keras/lstm_last/model.json'), 'keras_lstm_last', 'QuantizedLSTM 1 layer, input 3, hidden 13, batch first'));
      const io = loadFixture('keras', 'lstm_last/io.json');
      const input = new Tensor(Float32Array.from(io.inputs.input.data), io.inputs.input.shape);
      const { h } = (keras as QuantizedLSTM).forward(input);
      expectClose('int8 Keras LSTM', new Tensor(h.data, [3, 13]), io.outputs.output, { atol: 2e-2, rtol: 0 });
      keras.dispose();
    }, 120_000);

    it('GRU safetensors → bf16 → f16 (between dtypes): each step rounds the previous one', async () => {
      const bf16 = await convert(fixture('torch/gru_l2_bidir_h0_bf.safetensors'), 'bf16', 'gru');
      const bf16File = path.join(scratch, 'gru.bf16.safetensors');
      const f16 = await convert(bf16File, 'f16', 'gru_from_bf16');
      const fromBf16 = parseSafetensors(bf16);
      const fromF16 = parseSafetensors(f16);
      for (const [name, t] of Object.entries(fromBf16)) expect(Array.from(fromF16[name].data), name).toEqual(rounded(t.data, 'f16'));
      const gru = new GRU({ inputSize: 4, hiddenSize: 13, numLayers: 2, bidirectional: true });
      gru.loadStateDict(fromF16);
      gru.dispose();
    }, 60_000);
  });

  describe('bad command lines: one line on stderr, exit 1', () => {
    for (const [args, message] of [
      [['bnech'], 'looptree: unknown command "bnech" (did you mean "bench"?); commands: bench, info, convert'],
      [['bench', '--quik'], 'looptree bench: unknown option --quik (did you mean --quick?); see looptree bench --help'],
      [['convert', 'a.onnx', 'b.safetensors', '--dtyp', 'f16'], 'looptree convert: unknown option --dtyp (did you mean --dtype?); see looptree convert --help'],
      [['convert', fixture('torch/gru_l1.json'), 'out.safetensors', '--dtype', 'f8'], 'looptree convert: --dtype must be one of f32, f16, bf16, int8, got "f8"'],
      [['convert', fixture('onnx-torch/models/lstm_encoder.onnx'), 'out.safetensors', '--dtype', 'int8'],
        `looptree convert: ${fixture('onnx-torch/models/lstm_encoder.onnx')}: --dtype int8 writes one module (the file loadQuantized reads), the input holds 2 (0.: LSTM, 1.: LSTM)`],
      [['convert', fixture('torch/gru_l1.json'), 'out.bin'], 'looptree convert: the output must be a .safetensors file, got "out.bin"'],
      [['info'], 'looptree info: expected <file>, got nothing; see looptree info --help'],
      [['info', 'missing.safetensors'], 'looptree info: missing.safetensors: no such file'],
      [['info', fixture('torch/gru_l1.json')], `looptree info: ${fixture('torch/gru_l1.json')}: expected a TF.js layers model.json`],
      [['info', path.join(REPO_DIR, 'README.md')], 'looptree info: ' + path.join(REPO_DIR, 'README.md') + ': expected a .safetensors, .onnx or TF.js/Keras model.json file, got ".md"'],
    ] as const) {
      it(`looptree ${args.map((a) => path.basename(a)).join(' ')}`, async () => {
        const { code, stdout, stderr } = await looptree([...args]);
        expect(code).toBe(1);
        expect(stdout).toBe('');
        expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
        expect(stderr).toContain(message);
      }, 60_000);
    }
  });
});
