// The Trees panel's corpus: SST-style bracketed sentences with a sentiment label (0 very negative … 4 very positive)
// at every node, generated from a small grammar with compositional sentiment (negation flips, intensifiers sharpen,
// the clause after "but" dominates). Shared by the training script (scripts/playground-train-trees.mjs) and the page.

const SUBJECTS = [['the', 'movie'], ['this', 'film'], ['the', 'plot'], ['the', 'acting'], ['the', 'ending'], ['the', 'cast'], ['the', 'story'], ['the', 'script']];
/** Adjectives and their polarity in [−2, 2]. */
const ADJECTIVES = {
  good: 1, great: 2, brilliant: 2, wonderful: 2, enjoyable: 1, funny: 1, clever: 1, charming: 1, moving: 1, superb: 2,
  bad: -1, awful: -2, boring: -1, dull: -1, terrible: -2, weak: -1, predictable: -1, clumsy: -1, tedious: -1, dreadful: -2,
};
const INTENSIFIERS = ['very', 'really', 'truly', 'extremely'];
const NEGATIONS = ['not', 'never', 'hardly'];
const VERBS = ['was', 'is'];

/** SST's five classes from a score in [−2, 2]. */
export function labelOf(score) {
  if (score <= -1.5) return 0;
  if (score < -0.25) return 1;
  if (score <= 0.25) return 2;
  if (score < 1.5) return 3;
  return 4;
}

/** A node: { score, text } where text is its bracketed form. */
const leaf = (word, score = 0) => ({ score, text: `(${labelOf(score)} ${word})` });
const node = (score, left, right) => ({ score, text: `(${labelOf(score)} ${left.text} ${right.text})` });

/** One random sentence (as a bracketed tree) from `random`, a generator of uniform numbers in [0, 1). */
export function randomSentence(random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const adjectivePhrase = () => {
    const word = pick(Object.keys(ADJECTIVES));
    let phrase = leaf(word, ADJECTIVES[word]);
    if (random() < 0.3) phrase = node(Math.max(-2, Math.min(2, phrase.score * 2)), leaf(pick(INTENSIFIERS)), phrase);
    if (random() < 0.35) phrase = node(-phrase.score / 2, leaf(pick(NEGATIONS)), phrase);
    return phrase;
  };
  const clause = () => {
    const [determiner, noun] = pick(SUBJECTS);
    const subject = node(0, leaf(determiner), leaf(noun));
    const predicate = adjectivePhrase();
    const verbPhrase = node(predicate.score, leaf(pick(VERBS)), predicate);
    return node(verbPhrase.score, subject, verbPhrase);
  };
  const first = clause();
  if (random() < 0.3) {
    const second = clause();
    const contrast = node(second.score, leaf('but'), second);
    return node(Math.max(-2, Math.min(2, 0.25 * first.score + contrast.score)), first, contrast).text;
  }
  return first.text;
}

/** Hand-picked sentences the page offers, each a case the model must compose. */
export const EXAMPLES = [
  '(3 (2 (2 the) (2 movie)) (3 (2 was) (3 good)))',
  '(1 (2 (2 the) (2 movie)) (1 (2 was) (1 (2 not) (3 good))))',
  '(4 (2 (2 the) (2 acting)) (4 (2 is) (4 (2 very) (3 charming))))',
  '(3 (2 (2 the) (2 plot)) (3 (2 was) (3 (2 not) (0 terrible))))',
  '(3 (1 (2 (2 the) (2 story)) (1 (2 is) (1 dull))) (3 (2 but) (3 (2 (2 the) (2 cast)) (3 (2 was) (3 funny)))))',
  '(1 (3 (2 (2 this) (2 film)) (3 (2 is) (3 clever))) (1 (2 but) (1 (2 (2 the) (2 ending)) (1 (2 was) (1 predictable)))))',
];
