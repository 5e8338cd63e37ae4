// Error messages that say what went wrong: targets of the wrong shape, ids that are not integers, inputs that are not
// tensors, and bytes that are not a safetensors file (each once misreported as something else).

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, Embedding, LSTM, SafetensorsError, ShapeError, TreeClassifier, Tree, crossEntropy, init, nllLoss, parseSafetensors, tensor,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

const logits = tensor([[1, 2, 3], [3, 2, 1]]);

describe('class targets', () => {
  it('of the wrong shape: the shape expected and the shape given, not "not a class id"', () => {
    expect(() => crossEntropy(logits, [[0], [1]])).toThrow(ShapeError);
    expect(() => crossEntropy(logits, [[0], [1]])).toThrow('crossEntropy: expected targets of shape [2] (one class id per row of the input [2, 3]), got [2, 1]');
    expect(() => nllLoss(logits, [0, 1, 2])).toThrow('nllLoss: expected targets of shape [2] (one class id per row of the input [2, 3]), got [3]');
  });

  it('that are not integers, or out of range, say which', () => {
    expect(() => crossEntropy(logits, [0, 1.5])).toThrow('crossEntropy: targets[1] must be an integer, got 1.5');
    expect(() => crossEntropy(logits, [0, 3])).toThrow('crossEntropy: targets[1] must be in [0, 3) or -100 (ignoreIndex), got 3');
    expect(() => crossEntropy(logits, [0, -1], { ignoreIndex: -1 }).loss).not.toThrow();
  });
});

describe('ids', () => {
  it('that are not integers: "must be an integer", not "out of range"', () => {
    const embedding = new Embedding({ numEmbeddings: 10, embeddingDim: 2 });
    expect(() => embedding.forward([1.5])).toThrow(ArgumentError);
    expect(() => embedding.forward([1.5])).toThrow('Embedding.forward: ids[0] must be an integer, got 1.5');
    expect(() => embedding.forward([3, 10])).toThrow('Embedding.forward: ids[1] must be in [0, 10), got 10');
    expect(() => embedding.forward(['3'] as never)).toThrow('Embedding.forward: ids[0] must be an integer, got "3"');
  });

  it('of a TreeClassifier name the tree and the node', () => {
    const model = new TreeClassifier({ model: 'TreeRNN', vocabSize: 4, inputSize: 2, hiddenSize: 2, numClasses: 2 });
    expect(() => model.forward([Tree.fromParents([-1, 0, 0])], [[-1, 1.5, 2]])).toThrow('tokens[0][1] must be an integer in −1..3, got 1.5');
  });
});

describe('module inputs', () => {
  it('take nested arrays as Sequential does, and name what came otherwise', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
    expect(lstm.forward([[1, 2], [3, 4]]).output.shape).toEqual([2, 3]);
    expect(() => lstm.forward('x' as never)).toThrow('LSTM.forward: input: expected a Tensor, { shape, data } or nested arrays, got "x"');
    expect(() => lstm.forward([[1, 2], [3]])).toThrow('LSTM.forward: input: ragged nested array: expected 2 entries at [1], got an array of length 1');
    expect(() => lstm.forward([[1, 'a']] as never)).toThrow('LSTM.forward: input: expected a number at [0][1], got "a"');
  });
});

describe('parseSafetensors on bytes that are not a safetensors file says so', () => {
  const cases: Array<[string, Uint8Array, string]> = [
    ['JSON', new TextEncoder().encode(JSON.stringify({ weight: { shape: [2], data: [1, 2] } })), 'it looks like JSON text'],
    ['a short JSON', new TextEncoder().encode('{}'), 'expected at least 8 bytes (the header length), got 2'],
    ['a ZIP archive (torch.save)', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, ...new Array(60).fill(0)), 'it looks like a ZIP archive, as torch.save writes'],
    ['a pickle', Uint8Array.of(0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x06, 0x00, 0x00, 0x00, 0x77), 'it looks like a Python pickle'],
    ['an HDF5 file', Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0), 'it looks like an HDF5 file'],
  ];
  for (const [what, bytes, detail] of cases) {
    it(what, () => {
      expect(() => parseSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => parseSafetensors(bytes)).toThrow('safetensors: this is not a safetensors file (');
      expect(() => parseSafetensors(bytes)).toThrow(detail);
    });
  }

  it('JSON: the message names the header length the bytes would give, not only that it exceeds the limit', () => {
    const json = new TextEncoder().encode('{"weight": {"shape": [2], "data": [1, 2]}}');
    expect(() => parseSafetensors(json)).toThrow(/this is not a safetensors file \(header length \d+ \(read from its first 8 bytes\) exceeds the limit of 4194304 bytes\); it looks like JSON text/);
  });
});
