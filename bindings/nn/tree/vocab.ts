// Words to ids for the models that look words up (TreeClassifier's tokens, Embedding's ids): a vocabulary built
// from sentences or parsed trees, special words first, then the others from the most frequent down.

import { ArgumentError } from '../../errors.js';
import { describe, optionKeys, positiveInteger, strictOptions } from '../../options.js';
import { Tree, type ParsedTree } from './structure.js';

/** Options of `buildVocab`; an unknown key throws ArgumentError. */
export interface VocabOptions {
  /** Words that take the first ids, in this order, whatever their counts; default ['<unk>']. */
  specials?: readonly string[];
  /** Leave out words seen fewer times than this (they become '<unk>'), default 1. */
  minCount?: number;
}

const VOCAB_KEYS = optionKeys<VocabOptions>({ specials: true, minCount: true });
const UNKNOWN = '<unk>';

/** A sentence: a string of words separated by spaces, its words, or a parsed tree (its leaves' words). */
export type Sentence = string | ArrayLike<string | null> | ParsedTree;

/** A word ↔ id mapping built by `buildVocab` (like torchtext's Vocab). */
export interface Vocab {
  /** Every word at its id: `words[id]`. */
  readonly words: readonly string[];
  /** Number of words: the Embedding's numEmbeddings, TreeClassifier's vocabSize. */
  readonly size: number;
  /**
   * The id of every word of a sentence, in order. Nulls (a parsed tree's internal nodes) give −1, TreeClassifier's
   * "no word"; a word outside the vocabulary gives the id of '<unk>' (an ArgumentError when '<unk>' is not a special).
   */
  ids(sentence: Sentence): Int32Array;
}

function isParsedTree(value: unknown): value is ParsedTree {
  return value !== null && typeof value === 'object' && (value as ParsedTree).tree instanceof Tree;
}

/** The words of a sentence, nulls included; `what` names it in messages. */
function wordsOf(sentence: Sentence, what: string, where: string): ArrayLike<string | null> {
  if (typeof sentence === 'string') return sentence.split(/\s+/).filter((word) => word !== '');
  if (isParsedTree(sentence)) return sentence.tokens;
  if (sentence === null || typeof sentence !== 'object' || typeof sentence.length !== 'number') {
    throw new ArgumentError(`${where}: ${what} must be a string, an array of words or a parsed tree, got ${describe(sentence)}`);
  }
  for (let i = 0; i < sentence.length; i++) {
    if (typeof sentence[i] !== 'string' && sentence[i] !== null) throw new ArgumentError(`${where}: ${what}[${i}] must be a word (a string) or null, got ${describe(sentence[i])}`);
  }
  return sentence;
}

/**
 * Builds the word ↔ id mapping of a corpus (torchtext's build_vocab_from_iterator): the specials first, then
 * every word seen at least `minCount` times, the most frequent first (ties in order of first appearance).
 * @example
 * const parsed = lines.map((line) => parseTree(line));
 * const vocab = buildVocab(parsed);
 * const model = new TreeClassifier({ model: 'BinaryTreeLSTM', vocabSize: vocab.size, inputSize: 32, hiddenSize: 64, numClasses: 5 });
 * model.forward(parsed.map((p) => p.tree), parsed.map((p) => vocab.ids(p)), { labels: parsed.map((p) => p.labels) });
 */
export function buildVocab(corpus: Iterable<Sentence>, options?: VocabOptions): Vocab {
  const where = 'buildVocab';
  const opts = strictOptions(options, VOCAB_KEYS, where, { maxSize: 'trim the corpus instead', specialFirst: 'specials always come first' });
  const specials = opts.specials ?? [UNKNOWN];
  if (!Array.isArray(specials) || specials.some((word) => typeof word !== 'string') || new Set(specials).size !== specials.length) {
    throw new ArgumentError(`${where}: specials must be an array of distinct strings, got ${describe(specials)}`);
  }
  const minCount = positiveInteger(opts.minCount ?? 1, 'minCount', where);
  if (corpus === null || typeof (corpus as Iterable<Sentence>)?.[Symbol.iterator] !== 'function' || typeof corpus === 'string') {
    throw new ArgumentError(`${where}: corpus must be an iterable of sentences (strings, arrays of words or parsed trees), got ${describe(corpus)}`);
  }
  const counts = new Map<string, number>();
  let index = 0;
  for (const sentence of corpus) {
    const words = wordsOf(sentence, `corpus[${index++}]`, where);
    for (let i = 0; i < words.length; i++) {
      const word = words[i];
      if (word !== null && !specials.includes(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  // Map iteration follows first appearance, and sort() is stable: ties keep that order.
  const frequent = [...counts].filter(([, count]) => count >= minCount).sort((a, b) => b[1] - a[1]).map(([word]) => word);
  const words = Object.freeze([...specials, ...frequent]);
  const idOf = new Map(words.map((word, id) => [word, id]));
  const unknown = idOf.get(UNKNOWN);
  return {
    words,
    size: words.length,
    ids(sentence: Sentence): Int32Array {
      const given = wordsOf(sentence, 'sentence', 'Vocab.ids');
      return Int32Array.from({ length: given.length }, (_, i) => {
        const word = given[i];
        if (word === null) return -1;
        const id = idOf.get(word) ?? unknown;
        if (id === undefined) throw new ArgumentError(`Vocab.ids: sentence[${i}] must be a word of the vocabulary (it has no '${UNKNOWN}' for the others), got ${describe(word)}`);
        return id;
      });
    },
  };
}
