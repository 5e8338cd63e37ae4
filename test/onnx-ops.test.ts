// looptree/onnx graph operators and rejections: each operator (and opset variant) of test/fixtures/onnx-torch/ops.json
// against numpy's values, and each model of errors.json rejected with OnnxError naming the problem and the node.

import { beforeAll, describe, expect, it } from 'vitest';
import { LooptreeError, Tensor, init, tensor } from '../dist/index.js';
import { MAX_OPSET, MIN_OPSET, OnnxError, loadOnnx, type IntegerTensor, type OnnxFeeds } from '../dist/onnx.js';
import { expectClose, loadFixture, simdUnderTest, type FixtureTensor, type Tolerance } from './helpers/fixtures.js';

interface OpCase {
  name: string;
  op: string;
  opset: number;
  model: string;
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  tolerance: Tolerance;
}

interface ErrorCase {
  name: string;
  model: string;
  error: string;
  node: string | null;
  feeds: Record<string, FixtureTensor>;
}

const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));

/** Fixture tensors as feeds; integer and bool ones typed by their dtype. */
function feeds(inputs: Record<string, FixtureTensor>): OnnxFeeds {
  return Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, t.dtype === 'int64' ? { data: BigInt64Array.from(t.data, BigInt), shape: t.shape }
    : t.dtype ? { data: t.data, shape: t.shape, dtype: t.dtype as IntegerTensor['dtype'] } : tensor(t.data, t.shape)]));
}

const INTEGER_ARRAYS = { int64: BigInt64Array, int32: Int32Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

describe('ONNX graph operators against numpy', () => {
  const { cases } = loadFixture<{ cases: OpCase[] }>('onnx-torch', 'ops.json');

  it('covers every operator of the importer', () => {
    const ops = new Set(cases.map((c) => c.op));
    for (const op of ['Gather', 'MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'Transpose', 'Squeeze', 'Unsqueeze', 'Slice', 'Concat',
      'Reshape', 'Flatten', 'Shape', 'ConstantOfShape', 'Expand', 'Cast', 'Constant', 'Identity', 'Softmax', 'LogSoftmax', 'Sigmoid',
      'Tanh', 'Relu', 'ReduceMean', 'ReduceMax', 'Where', 'Equal']) expect(ops, op).toContain(op);
  });

  for (const c of cases) {
    it(`${c.name} (${c.op}, opset ${c.opset})`, () => {
      const model = loadOnnx(bytes(c.model));
      const outputs = model.runSync(feeds(c.inputs));
      for (const [name, expected] of Object.entries(c.outputs)) {
        const actual = outputs[name];
        if (!expected.dtype) {
          expect(actual).toBeInstanceOf(Tensor);
          expectClose(name, actual as Tensor, expected, c.tolerance);
          continue;
        }
        const integer = actual as IntegerTensor;
        expect(integer.dtype).toBe(expected.dtype);
        expect(integer.data).toBeInstanceOf(INTEGER_ARRAYS[expected.dtype as keyof typeof INTEGER_ARRAYS]);
        expect([...integer.shape]).toEqual(expected.shape);
        expect(Array.from(integer.data, Number)).toEqual(expected.data);
      }
      model.dispose();
    });
  }

  it('returns outputs the caller owns (a graph output that is an input or initializer is copied)', () => {
    const identity = cases.find((c) => c.name === 'identity')!;
    const model = loadOnnx(bytes(identity.model));
    const x = tensor(identity.inputs.x.data, identity.inputs.x.shape);
    const { y } = model.runSync({ x }) as { y: Tensor };
    expect(y.data).toEqual(x.data);
    expect(y.data).not.toBe(x.data);
    const initializer = loadOnnx(bytes(cases.find((c) => c.name === 'initializer_float_data')!.model));
    const first = initializer.runSync({}).y as Tensor;
    first.data.fill(0);
    expect((initializer.runSync({}).y as Tensor).data).toEqual(Float32Array.of(1, -2, 3.5, 4));
  });
});

describe('ONNX models loadOnnx rejects', () => {
  const { cases } = loadFixture<{ cases: ErrorCase[] }>('onnx-torch', 'errors.json');

  for (const c of cases) {
    it(c.name, () => {
      let caught: unknown;
      try {
        const model = loadOnnx(bytes(c.model));
        model.runSync(feeds(c.feeds));
        model.dispose();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(OnnxError);
      expect(caught).toBeInstanceOf(LooptreeError);
      expect((caught as OnnxError).message).toContain(c.error);
      expect((caught as OnnxError).node).toBe(c.node ?? undefined);
    });
  }

  it('rejects bytes that are not an ONNX protobuf, and arguments that are not bytes', () => {
    for (const garbage of [new Uint8Array(0), Uint8Array.of(0xff, 0xff, 0xff), new TextEncoder().encode('{"format": "layers-model"}'),
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)]) {
      expect(() => loadOnnx(garbage)).toThrow(OnnxError);
    }
    expect(() => loadOnnx('model.onnx' as unknown as Uint8Array)).toThrow(/expected the bytes of a \.onnx file/);
    const { cases: ops } = loadFixture<{ cases: OpCase[] }>('onnx-torch', 'ops.json');
    expect(loadOnnx(bytes(ops[0].model).buffer as ArrayBuffer).inputNames).toEqual(['a', 'b']);
  });

  it('supports the opsets PyTorch and tf2onnx export', () => {
    expect([MIN_OPSET, MAX_OPSET]).toEqual([7, 22]);
  });
});
