// buildVocab: words to ids from sentences, word arrays or parsed trees (specials first, then by frequency), unknown words,
// typed errors, and a TreeClassifier trained on parsed trees through it.

import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, ArgumentError, TreeClassifier, buildVocab, init, manualSeed, parseTree } from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

describe('buildVocab', () => {
  it('puts the specials first, then the words from the most frequent down (ties in order of first appearance)', () => {
    const vocab = buildVocab(['the cat sat', 'the dog', ['a', 'dog', null, 'the']]);
    expect(vocab.words).toEqual(['<unk>', 'the', 'dog', 'cat', 'sat', 'a']);
    expect(vocab.size).toBe(6);
    expect(Array.from(vocab.ids('the dog sat'))).toEqual([1, 2, 4]);
    expect(Object.isFrozen(vocab.words)).toBe(true);
  });

  it("maps unknown words to '<unk>' and nulls (internal nodes) to −1", () => {
    const vocab = buildVocab(['a b'], { specials: ['<pad>', '<unk>'] });
    expect(vocab.words).toEqual(['<pad>', '<unk>', 'a', 'b']);
    expect(Array.from(vocab.ids(['b', null, 'zebra']))).toEqual([3, -1, 1]);
  });

  it('leaves out rare words with minCount', () => {
    const vocab = buildVocab(['a a b', 'a c c'], { minCount: 2 });
    expect(vocab.words).toEqual(['<unk>', 'a', 'c']);
    expect(Array.from(vocab.ids('b c'))).toEqual([0, 2]);
  });

  it("gives every node of a parsed tree its word's id, −1 for internal nodes", () => {
    const parsed = parseTree('(3 (2 not) (4 (3 very) (4 good)))');
    const vocab = buildVocab([parsed, parseTree('(1 (1 not) (1 bad))')]);
    expect(vocab.words).toEqual(['<unk>', 'not', 'very', 'good', 'bad']);
    expect(Array.from(vocab.ids(parsed))).toEqual([-1, 1, -1, 2, 3]);
  });

  it('throws ArgumentErrors naming the problem', () => {
    expect(() => buildVocab('a b' as never)).toThrow('buildVocab: corpus must be an iterable of sentences');
    expect(() => buildVocab([['a', 3]] as never)).toThrow('buildVocab: corpus[0][1] must be a word (a string) or null, got 3');
    expect(() => buildVocab([{}] as never)).toThrow('buildVocab: corpus[0] must be a string, an array of words or a parsed tree');
    expect(() => buildVocab(['a'], { specials: ['x', 'x'] })).toThrow('specials must be an array of distinct strings');
    expect(() => buildVocab(['a'], { minCount: 0 })).toThrow('minCount must be a positive integer, got 0');
    const closed = buildVocab(['a'], { specials: [] });
    expect(() => closed.ids('a b')).toThrow(ArgumentError);
    expect(() => closed.ids('a b')).toThrow(`Vocab.ids: sentence[1] must be a word of the vocabulary (it has no '<unk>' for the others), got "b"`);
  });
});

it('a TreeClassifier learns parsed trees through buildVocab', () => {
  manualSeed(3);
  // Labels 0 negative, 1 positive, 2 neutral; the root's depends on both words.
  const parsed = ['(1 (1 good) (2 film))', '(0 (0 bad) (2 film))', '(1 (2 plot) (1 great))', '(0 (2 plot) (0 dull))'].map((line) => parseTree(line));
  const vocab = buildVocab(parsed);
  const model = new TreeClassifier({ model: 'BinaryTreeLSTM', vocabSize: vocab.size, inputSize: 8, hiddenSize: 8, numClasses: 3 });
  const optimizer = new Adam(model.parameters(), { lr: 0.05 });
  const trees = parsed.map((p) => p.tree), tokens = parsed.map((p) => vocab.ids(p)), labels = parsed.map((p) => p.labels);
  const first = model.forward(trees, tokens, { labels }).loss!;
  for (let step = 0; step < 60; step++) {
    optimizer.zeroGrad();
    model.forward(trees, tokens, { labels, train: true });
    model.backward();
    optimizer.step();
  }
  expect(model.forward(trees, tokens, { labels }).loss!).toBeLessThan(first / 10);
  model.dispose();
});
