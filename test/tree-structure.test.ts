// Trees and the modules' boundaries: Tree.fromParents (structure and every validation error, naming the
// node), parseTree on s-expressions (pre-order numbering; every error with its character position) and
// on the nested JSON form (every error with its path), treeToJSON round trips, and the modules' argument,
// shape, state-dict, backward-order and dispose errors, plus memory that stays flat over training steps.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, BinaryTreeLSTM, ChildSumTreeLSTM, DisposedError, ShapeError, StateDictError, Tensor, Tree, TreeClassifier,
  TreeError, TreeParseError, TreeRNN, backendInfo, init, parseTree, treeToJSON, type TreeJSON,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

/** The error `run` throws (fails if it throws none). */
function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('Tree.fromParents', () => {
  it('builds children in ascending index, the root, parents and heights, for any node order', () => {
    const tree = Tree.fromParents([4, 3, 3, -1, 5, 3]);
    expect(tree.size).toBe(6);
    expect(tree.root).toBe(3);
    expect(tree.children(3)).toEqual([1, 2, 5]);
    expect(tree.children(5)).toEqual([4]);
    expect(tree.children(0)).toEqual([]);
    expect(tree.parent(4)).toBe(5);
    expect(tree.parent(3)).toBe(-1);
    expect(tree.height).toBe(3);
    expect(Array.from(tree.parents())).toEqual([4, 3, 3, -1, 5, 3]);
    expect(Tree.fromParents([-1]).height).toBe(0);
    expect(Tree.fromParents(Int32Array.of(2, 2, -1)).children(2)).toEqual([0, 1]);
  });

  it('copies its input: changing the array afterwards changes nothing', () => {
    const parents = [-1, 0, 0];
    const tree = Tree.fromParents(parents);
    parents[2] = 1;
    expect(tree.children(0)).toEqual([1, 2]);
    tree.parents()[1] = 2;
    expect(tree.parent(1)).toBe(0);
  });

  const invalid: Array<[string, unknown, RegExp, number | undefined]> = [
    ['not an array', null, /expected an array of parent indices, got null/, undefined],
    ['a number', 5, /expected an array of parent indices, got 5/, undefined],
    ['empty', [], /at least one node, got an empty parents array/, undefined],
    ['a non-integer parent', [-1, 0.5], /the parent of node 1 must be an integer, got 0\.5/, 1],
    ['a NaN parent', [-1, 0, NaN], /the parent of node 2 must be an integer, got NaN/, 2],
    ['a parent below −1', [-1, -2], /the parent of node 1 is -2, out of range \(expected −1 for the root or a node 0\.\.1\)/, 1],
    ['a parent past the end', [-1, 0, 3], /the parent of node 2 is 3, out of range/, 2],
    ['a node that is its own parent', [-1, 1], /node 1 is its own parent/, 1],
    ['two roots', [-1, 0, -1], /more than one root: nodes 0 and 2 both have parent −1/, 2],
    ['no root', [1, 2, 0], /no root .* the parents form a cycle/, 0],
    ['a cycle beside the root', [-1, 2, 3, 1, 0], /node 1 is on a cycle \(1 → 2 → 3 → 1/, 1],
    ['a branch hanging off a cycle', [-1, 0, 3, 4, 3], /node 3 is on a cycle \(3 → 4 → 3/, 3],
  ];
  for (const [label, parents, message, node] of invalid) {
    it(`rejects ${label} with a TreeError naming the node`, () => {
      const error = caught(() => Tree.fromParents(parents as number[]));
      expect(error).toBeInstanceOf(TreeError);
      expect((error as InstanceType<typeof TreeError>).code).toBe('ERR_TREE');
      expect(error.message).toMatch(message);
      expect((error as InstanceType<typeof TreeError>).node).toBe(node);
    });
  }

  it('rejects a node index out of range in children() and parent()', () => {
    const tree = Tree.fromParents([-1, 0]);
    expect(() => tree.children(2)).toThrow(ArgumentError);
    expect(() => tree.parent(-1)).toThrow(/node must be an integer in 0\.\.1, got -1/);
  });
});

describe('parseTree (s-expressions)', () => {
  it('numbers nodes in pre-order, with labels and leaf words', () => {
    const { tree, labels, tokens } = parseTree('(3 (2 not) (4 (3 very) (4 good)))');
    expect(Array.from(tree.parents())).toEqual([-1, 0, 0, 2, 2]);
    expect(Array.from(labels)).toEqual([3, 2, 4, 3, 4]);
    expect(tokens).toEqual([null, 'not', null, 'very', 'good']);
    expect(tree.root).toBe(0);
  });

  it('takes any whitespace, punctuation words, more than two children and a lone leaf', () => {
    const { tree, labels, tokens } = parseTree('\n (1\t(0 ,)  (2 (2 a) (3 b) (4 c))\n(1 --))  ');
    expect(Array.from(tree.parents())).toEqual([-1, 0, 0, 2, 2, 2, 0]);
    expect(Array.from(labels)).toEqual([1, 0, 2, 2, 3, 4, 1]);
    expect(tokens).toEqual([null, ',', null, 'a', 'b', 'c', '--']);
    expect(Array.from(parseTree('(2 word)').tree.parents())).toEqual([-1]);
  });

  const invalid: Array<[string, RegExp, number]> = [
    ['', /expected "\(" to start the tree, got the end of the input at position 0/, 0],
    ['  3 (2 a)', /expected "\(" to start the tree, got the word "3" at position 2/, 2],
    ['(x a)', /expected an integer label after "\(", got the word "x" at position 1/, 1],
    ['(2.5 a)', /expected an integer label after "\(", got the word "2\.5" at position 1/, 1],
    ['()', /expected an integer label after "\(", got "\)" at position 1/, 1],
    ['(3)', /expected a word or a child tree after the label 3, got "\)" at position 2/, 2],
    ['(3 a b)', /expected "\)" after the word "a" \(a leaf holds one word\), got the word "b" at position 5/, 5],
    ['(3 (2 a)', /expected "\(" or "\)" after a child tree, got the end of the input \(1 tree is still open\) at position 8/, 8],
    ['(3 (2 (1 a)', /expected "\(" or "\)" after a child tree, got the end of the input \(2 trees are still open\) at position 11/, 11],
    ['(3 (2 a) b)', /expected "\(" or "\)" after a child tree, got the word "b" \(a node holds either one word or child trees\) at position 9/, 9],
    ['(3 (2 a', /expected "\)" after the word "a" \(a leaf holds one word\), got the end of the input at position 7/, 7],
    ['(3 a) (2 b)', /expected the end of the input after the tree, got "\(" at position 6/, 6],
    ['(3 a))', /expected the end of the input after the tree, got "\)" at position 5/, 5],
  ];
  for (const [text, message, position] of invalid) {
    it(`rejects ${JSON.stringify(text)} at position ${position}`, () => {
      const error = caught(() => parseTree(text));
      expect(error).toBeInstanceOf(TreeParseError);
      expect((error as InstanceType<typeof TreeParseError>).code).toBe('ERR_TREE_PARSE');
      expect(error.message).toMatch(message);
      expect((error as InstanceType<typeof TreeParseError>).position).toBe(position);
    });
  }

  it('rejects what is neither a string nor a TreeJSON object', () => {
    for (const value of [42, null, ['(1 a)']]) expect(() => parseTree(value as unknown as string)).toThrow(ArgumentError);
  });
});

describe('parseTree (nested JSON) and treeToJSON', () => {
  const json: TreeJSON = { label: 3, children: [{ label: 2, word: 'not' }, { label: 4, children: [{ label: 3, word: 'very' }, { label: 4, word: 'good' }] }] };

  it('gives the same tree as the s-expression, and treeToJSON gives the JSON back', () => {
    const fromJSON = parseTree(json);
    const fromText = parseTree('(3 (2 not) (4 (3 very) (4 good)))');
    expect(Array.from(fromJSON.tree.parents())).toEqual(Array.from(fromText.tree.parents()));
    expect(Array.from(fromJSON.labels)).toEqual(Array.from(fromText.labels));
    expect(fromJSON.tokens).toEqual(fromText.tokens);
    expect(treeToJSON(fromText)).toEqual(json);
  });

  it('labels are optional (−1), and treeToJSON leaves them out', () => {
    const parsed = parseTree({ children: [{ word: 'a' }, { label: 1, word: 'b' }] });
    expect(Array.from(parsed.labels)).toEqual([-1, -1, 1]);
    expect(treeToJSON(parsed)).toEqual({ children: [{ word: 'a' }, { label: 1, word: 'b' }] });
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['a child that is not an object', { children: [{ word: 'a' }, 7] }, /tree\.children\[1\] must be an object \{ label\?, word \} or \{ label\?, children \}, got number/],
    ['a node with both word and children', { word: 'a', children: [{ word: 'b' }] }, /tree must have either "word" \(a leaf\) or "children", not both/],
    ['a node with neither', { children: [{ label: 1 }] }, /tree\.children\[0\] must have either "word" \(a leaf\) or "children", not neither/],
    ['empty children', { children: [] }, /tree\.children must be a non-empty array, got an empty array/],
    ['a non-integer label', { label: 'x', word: 'a' }, /tree\.label must be an integer in −2147483648\.\.2147483647, got "x"/],
    ['a non-string word', { children: [{ word: 5 }] }, /tree\.children\[0\]\.word must be a string, got number/],
  ];
  for (const [label, value, message] of invalid) {
    it(`rejects ${label} with a TreeError naming the path`, () => {
      const error = caught(() => parseTree(value as TreeJSON));
      expect(error).toBeInstanceOf(TreeError);
      expect(error.message).toMatch(message);
    });
  }
});

describe(`tree modules at the boundary (${process.env.LOOPTREE_SIMD} build)`, () => {
  const tree = Tree.fromParents([-1, 0, 0]);
  const x = new Tensor(new Float32Array(3 * 4), [3, 4]);

  it('rejects invalid options', () => {
    expect(() => new ChildSumTreeLSTM({ inputSize: 0, hiddenSize: 3 })).toThrow(/inputSize must be a positive integer, got 0/);
    expect(() => new TreeRNN({ inputSize: 2, hiddenSize: 1.5 })).toThrow(ArgumentError);
    expect(() => new BinaryTreeLSTM(null as never)).toThrow(/expected an options object, got null/);
  });

  it('forward: trees and x are checked, naming what was expected and what came', () => {
    const module = new BinaryTreeLSTM({ inputSize: 4, hiddenSize: 3 });
    expect(() => module.forward([], [])).toThrow(/expected a non-empty array of Trees, got an empty array/);
    expect(() => module.forward([tree, [-1] as never], [x, x])).toThrow(/trees\[1\] is not a Tree/);
    const error = caught(() => module.forward([tree, Tree.fromParents([-1, 0, 0, 0])], [x, x]));
    expect(error).toBeInstanceOf(TreeError);
    expect(error.message).toMatch(/trees\[1\] node 0 has 3 children; BinaryTreeLSTM needs 0 or 2 children at every node/);
    expect(() => module.forward([Tree.fromParents([-1, 0])], [x])).toThrow(/node 0 has 1 child;/);
    expect(() => module.forward([tree], [x, x])).toThrow(ShapeError);
    expect(() => module.forward([tree], [x, x])).toThrow(/expected x as an array of 1 tensors \(one per tree\), got 2/);
    expect(() => module.forward([tree], [new Tensor(new Float32Array(6), [3, 2])])).toThrow(/expected x\[0\] of shape \[3, 4\] \(tree 0 has 3 nodes\), got \[3, 2\]/);
    // Child-sum takes any number of children.
    const childSum = new ChildSumTreeLSTM({ inputSize: 4, hiddenSize: 3 });
    const star = Tree.fromParents([-1, 0, 0, 0]);
    expect(childSum.forward([star], [new Tensor(new Float32Array(16), [4, 4])]).h[0].shape).toEqual([4, 3]);
    childSum.dispose();
    module.dispose();
  });

  it("output 'roots' gives each root's row of the all-nodes output, bitwise, and trains the same", () => {
    // Trees of different heights, roots at different levels and node orders (root not always node 0).
    const trees = [Tree.fromParents([-1, 0, 0, 1, 1]), Tree.fromParents([2, 2, -1]), Tree.fromParents([-1]), Tree.fromParents([-1, 0, 0, 2, 2, 4, 4])];
    const xs = trees.map((t, b) => new Tensor(Float32Array.from({ length: t.size * 4 }, (_, i) => Math.sin(i * 1.7 + b)), [t.size, 4]));
    for (const Module of [TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM]) {
      const module = new Module({ inputSize: 4, hiddenSize: 3 });
      const all = module.forward(trees, xs);
      const roots = module.forward(trees, xs, { output: 'roots', train: true });
      trees.forEach((t, b) => {
        expect(roots.h[b].shape).toEqual([1, 3]);
        expect(Array.from(roots.h[b].data)).toEqual(Array.from(all.h[b].data.subarray(t.root * 3, t.root * 3 + 3)));
        if (all.c) expect(Array.from(roots.c![b].data)).toEqual(Array.from(all.c[b].data.subarray(t.root * 3, t.root * 3 + 3)));
      });
      expect(roots.c === undefined).toBe(Module === TreeRNN);
      // backward after a roots-only training forward equals backward after an all-nodes one.
      const dh = trees.map((t) => new Tensor(Float32Array.from({ length: t.size * 3 }, (_, i) => Math.cos(i)), [t.size, 3]));
      const fromRoots = module.backward({ h: dh }).x;
      module.forward(trees, xs, { train: true });
      const fromNodes = module.backward({ h: dh }).x;
      fromRoots.forEach((dx, b) => expect(Array.from(dx.data)).toEqual(Array.from(fromNodes[b].data)));
      expect(() => module.forward(trees, xs, { output: 'root' as never })).toThrow(/output must be 'nodes' or 'roots', got "root"/);
      module.dispose();
    }
  });

  it('backward: needs its own training forward, once; dh and dc are shape-checked; TreeRNN has no c', () => {
    const module = new ChildSumTreeLSTM({ inputSize: 4, hiddenSize: 3 });
    const dh = [new Tensor(new Float32Array(9), [3, 3])];
    expect(() => module.backward({ h: dh })).toThrow(/no training forward to go back through/);
    module.forward([tree], [x]);
    expect(() => module.backward({ h: dh })).toThrow(ArgumentError);
    module.forward([tree], [x], { train: true });
    expect(() => module.backward({ h: [new Tensor(new Float32Array(6), [3, 2])] })).toThrow(/expected h\[0\] of shape \[3, 3\] \(tree 0 has 3 nodes\), got \[3, 2\]/);
    expect(() => module.backward({ h: dh, c: [] })).toThrow(/expected c as an array of 1 tensors \(one per tree\), got 0/);
    expect(module.backward({ h: dh }).x[0].shape).toEqual([3, 4]);
    expect(() => module.backward({ h: dh })).toThrow(/each backward uses up its forward/);
    module.forward([tree], [x], { train: true });
    module.loadStateDict(module.stateDict());
    expect(() => module.backward({ h: dh })).toThrow(/changing the parameters drops it/);
    module.dispose();

    const rnn = new TreeRNN({ inputSize: 4, hiddenSize: 3 });
    rnn.forward([tree], [x], { train: true });
    expect(() => rnn.backward({ h: dh, c: dh })).toThrow(/c is only for the Tree-LSTMs \(TreeRNN has no cell state\)/);
    rnn.dispose();
  });

  it('loadStateDict: missing, unexpected, misshapen and non-finite entries; nothing is written on error', () => {
    const module = new TreeRNN({ inputSize: 4, hiddenSize: 3 });
    const good = module.stateDict();
    expect(Object.keys(good)).toEqual(['W_leaf', 'b_leaf', 'W', 'b']);
    expect(module.parameterShapes()).toEqual({ W_leaf: [3, 4], b_leaf: [3], W: [3, 6], b: [3] });
    const { W_leaf, ...missing } = good;
    expect(() => module.loadStateDict(missing)).toThrow(/missing key\(s\) "W_leaf"/);
    expect(() => module.loadStateDict({ ...good, U: good.W })).toThrow(/unexpected key\(s\) "U"/);
    const changed = new Tensor(new Float32Array(18).fill(0.5), [3, 6]);
    expect(() => module.loadStateDict({ ...good, W: changed, b: new Tensor(new Float32Array(4), [4]) })).toThrow(StateDictError);
    expect(() => module.loadStateDict({ ...good, W: changed, b: new Tensor(new Float32Array(4), [4]) })).toThrow(/size mismatch for "b": expected \[3\], got \[4\]/);
    expect(() => module.loadStateDict({ ...good, W: changed, b: new Tensor(Float32Array.of(0, Infinity, 0), [3]) })).toThrow(/"b" holds a non-finite value \(Infinity\) at flat index 1/);
    expect(module.stateDict().W.data).toEqual(good.W.data);
    expect(module.loadStateDict({ W: changed, extra: changed }, { strict: false })).toEqual({ missingKeys: ['W_leaf', 'b_leaf', 'b'], unexpectedKeys: ['extra'] });
    expect(module.stateDict().W.data).toEqual(changed.data);
    expect(W_leaf.shape).toEqual([3, 4]);
    module.dispose();
  });

  it('dispose: later use throws DisposedError; dispose is idempotent', () => {
    const module = new BinaryTreeLSTM({ inputSize: 4, hiddenSize: 3 });
    module.dispose();
    module.dispose();
    expect(() => module.forward([tree], [x])).toThrow(DisposedError);
    expect(() => module.stateDict()).toThrow(DisposedError);
    const classifier = new TreeClassifier({ model: 'TreeRNN', inputSize: 2, hiddenSize: 3, vocabSize: 4, numClasses: 2 });
    classifier.dispose();
    classifier.dispose();
    expect(() => classifier.forward([tree], [[-1, 0, 1]])).toThrow(DisposedError);
  });

  it('training steps do not grow memory once warm', () => {
    const module = new ChildSumTreeLSTM({ inputSize: 8, hiddenSize: 16 });
    const trees = [Tree.fromParents([-1, 0, 0, 1, 1, 2]), Tree.fromParents([2, 2, -1])];
    const xs = trees.map((t) => new Tensor(new Float32Array(t.size * 8).fill(0.1), [t.size, 8]));
    const dh = trees.map((t) => new Tensor(new Float32Array(t.size * 16).fill(0.2), [t.size, 16]));
    const step = () => {
      module.forward(trees, xs, { train: true });
      module.backward({ h: dh });
      module.forward(trees, xs);
    };
    step();
    const before = backendInfo().memoryBytes;
    for (let i = 0; i < 200; i++) step();
    expect(backendInfo().memoryBytes).toBe(before);
    module.dispose();
  });
});

describe(`TreeClassifier at the boundary (${process.env.LOOPTREE_SIMD} build)`, () => {
  const tree = Tree.fromParents([-1, 0, 0]);
  const make = () => new TreeClassifier({ model: 'BinaryTreeLSTM', inputSize: 2, hiddenSize: 3, vocabSize: 4, numClasses: 5 });

  it('rejects an unknown model and invalid sizes', () => {
    expect(() => new TreeClassifier({ model: 'GRU' as never, inputSize: 2, hiddenSize: 3, vocabSize: 4, numClasses: 5 }))
      .toThrow(/model must be one of TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM, got "GRU"/);
    expect(() => new TreeClassifier({ model: 'TreeRNN', inputSize: 2, hiddenSize: 3, vocabSize: 0, numClasses: 5 })).toThrow(/vocabSize must be a positive integer/);
  });

  it('checks tokens and labels per tree; training needs labels; backward needs a training forward', () => {
    const model = make();
    expect(() => model.forward([tree], [[0, 1]])).toThrow(/expected tokens\[0\] of length 3 \(one per node of tree 0\), got 2/);
    expect(() => model.forward([tree], [[0, 4, 1]])).toThrow(/tokens\[0\]\[1\] must be an integer in −1\.\.3, got 4/);
    expect(() => model.forward([tree], [[-1, 1, 2]], { labels: [[0, 5, 1]] })).toThrow(/labels\[0\]\[1\] must be an integer in −1\.\.4, got 5/);
    expect(() => model.forward([tree], [[-1, 1, 2]], { train: true })).toThrow(/\{ train: true \} needs labels/);
    expect(() => model.backward()).toThrow(/no training forward to go back through/);
    const result = model.forward([tree], [[-1, 1, 2]]);
    expect(result.loss).toBeUndefined();
    expect(result.logProbs[0].shape).toEqual([3, 5]);
    const allIgnored = model.forward([tree], [[-1, 1, 2]], { labels: [[-1, -1, -1]] });
    expect(allIgnored.loss).toBe(0);
    model.dispose();
  });

  it('state dict: one flat namespace; errors name the key; nothing is written on error; parameters() carry the names', () => {
    const model = make();
    const good = model.stateDict();
    expect(Object.keys(good)).toEqual(['embedding', 'W_iou', 'U_iou', 'b_iou', 'W_f', 'U_f', 'b_f', 'W_cls', 'b_cls']);
    expect(model.parameters().map((p) => p.name)).toEqual(Object.keys(good));
    expect(Object.keys(model.grads())).toEqual(Object.keys(good));
    const { b_cls, ...missing } = good;
    expect(() => model.loadStateDict(missing)).toThrow(/TreeClassifier\.loadStateDict: missing key\(s\) "b_cls"/);
    expect(() => model.loadStateDict({ ...good, weight: b_cls })).toThrow(/unexpected key\(s\) "weight"/);
    const changed = new Tensor(new Float32Array(8).fill(0.25), [4, 2]);
    expect(() => model.loadStateDict({ ...good, embedding: changed, W_cls: new Tensor(new Float32Array(3), [1, 3]) }))
      .toThrow(/size mismatch for "W_cls": expected \[5, 3\], got \[1, 3\]/);
    expect(() => model.loadStateDict({ ...good, embedding: changed, b_cls: new Tensor(new Float32Array(5).fill(NaN), [5]) }))
      .toThrow(/"b_cls" holds a non-finite value \(NaN\) at flat index 0/);
    expect(model.stateDict().embedding.data).toEqual(good.embedding.data);
    model.loadStateDict({ ...good, embedding: changed });
    expect(model.stateDict().embedding.data).toEqual(changed.data);
    model.dispose();
  });
});
