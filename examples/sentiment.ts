// Example, many-to-one: sentiment of short movie reviews with Embedding → LSTM (or SimpleRNN) → LastStep → Linear,
// the Keras IMDb model, trained with Sequential.fit on a corpus generated below (negation, intensifiers, "but").
//
// Run: npm run example:sentiment [-- rnn] [-- --quick]. The data is made by this file from a fixed seed: no
// downloads. Each review is 1–2 opinion clauses and optional neutral filler. A clause has a polarity (the
// adjective or verb), flipped by negation ("not", "never", "hardly", "didn't"), doubled by an intensifier
// ("very", "absolutely") or halved by a downtoner ("slightly"); a clause after "but" counts twice. The label is
// the sign of the sum. Bag-of-words cannot solve it: "not bad" and "bad", "good but dull" and "dull but good"
// hold the same words.

import { Embedding, LSTM, LastStep, Linear, RNN, Sequential, init, manualSeed, tensor, seededRandom } from 'looptree';

const cell = process.argv.includes('rnn') ? 'rnn' : 'lstm';
const quick = process.argv.includes('--quick');

// ---------------------------------------------------------------------------------------------
// The corpus


const SUBJECTS = ['the movie', 'this film', 'the plot', 'the acting', 'the script', 'the soundtrack', 'the ending', 'the cast', 'the dialogue', 'the pacing', 'the story', 'the camera work', 'it'];
const POSITIVE = ['good', 'great', 'brilliant', 'wonderful', 'enjoyable', 'moving', 'funny', 'clever', 'charming', 'gripping', 'beautiful', 'superb'];
const NEGATIVE = ['bad', 'awful', 'boring', 'dull', 'terrible', 'weak', 'predictable', 'clumsy', 'tedious', 'bland', 'painful', 'forgettable'];
const INTENSIFIERS = ['very', 'really', 'truly', 'incredibly', 'extremely', 'absolutely'];
const DOWNTONERS = ['somewhat', 'a bit', 'slightly', 'fairly'];
const NEGATIONS = ['not', 'never', 'hardly'];
/** [past, base] forms of opinion verbs with their polarity. */
const VERBS: Array<[string, string, number]> = [['loved', 'love', 1], ['liked', 'like', 1], ['enjoyed', 'enjoy', 1], ['adored', 'adore', 1], ['hated', 'hate', -1], ['disliked', 'dislike', -1]];
const FILLERS = ['i saw it last night .', 'my sister picked it .', 'it runs about two hours .', 'the theater was half empty .', 'we watched it at home .', 'it is based on a novel .'];

interface Review {
  text: string;
  label: number; // 1 positive, 0 negative
}

function makeCorpus(count: number, seed: number): Review[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];

  const clause = (): { words: string; score: number } => {
    const negated = random() < 0.4;
    if (random() < 0.3) {
      const [past, base, polarity] = pick(VERBS);
      const words = negated ? `i ${pick(["did not", "didn't"])} ${base} it` : `i ${past} it`;
      return { words, score: negated ? -polarity : polarity };
    }
    const positive = random() < 0.5;
    const degree = random();
    // Downtoners read oddly after a negation ("not slightly good"), so negated clauses only get intensifiers.
    const [modifier, weight] = degree < 0.3 ? [`${pick(INTENSIFIERS)} `, 2] : degree < 0.45 && !negated ? [`${pick(DOWNTONERS)} `, 0.5] : ['', 1];
    const negation = negated ? `${pick(NEGATIONS)} ` : '';
    const tail = negated && random() < 0.3 ? ' at all' : '';
    const words = `${pick(SUBJECTS)} ${pick(['was', 'is'])} ${negation}${modifier}${pick(positive ? POSITIVE : NEGATIVE)}${tail}`;
    return { words, score: (positive ? 1 : -1) * (negated ? -1 : 1) * weight };
  };

  const reviews: Review[] = [];
  while (reviews.length < count) {
    const first = clause();
    let text = first.words;
    let score = first.score;
    if (random() < 0.6) {
      const second = clause();
      const contrast = random() < 0.5;
      text += contrast ? ` but ${second.words}` : ` . ${second.words}`;
      score += contrast ? 2 * second.score : second.score;
    }
    text += ' .';
    if (random() < 0.4) text = random() < 0.5 ? `${pick(FILLERS)} ${text}` : `${text} ${pick(FILLERS)}`;
    if (score !== 0) reviews.push({ text, label: score > 0 ? 1 : 0 });
  }
  return reviews;
}

// ---------------------------------------------------------------------------------------------
// Encoding: word ids (0 is padding), right-padded to the longest review, with each review's length

function buildVocabulary(reviews: readonly Review[]): Map<string, number> {
  const vocabulary = new Map<string, number>([['<pad>', 0], ['<unk>', 1]]);
  for (const { text } of reviews) for (const word of text.split(' ')) if (!vocabulary.has(word)) vocabulary.set(word, vocabulary.size);
  return vocabulary;
}

function encode(texts: readonly string[], vocabulary: Map<string, number>, steps: number) {
  const ids = new Float32Array(texts.length * steps);
  const lengths = texts.map((text, n) => {
    const words = text.split(' ').slice(0, steps);
    words.forEach((word, t) => { ids[n * steps + t] = vocabulary.get(word) ?? 1; });
    return words.length;
  });
  return { x: tensor(ids, [texts.length, steps]), lengths };
}

// ---------------------------------------------------------------------------------------------

await init();
manualSeed(1);
const train = makeCorpus(quick ? 1000 : 4000, 1);
const test = makeCorpus(1000, 2);
const vocabulary = buildVocabulary(train);
const steps = Math.max(...train.map((review) => review.text.split(' ').length));
const trainData = encode(train.map((review) => review.text), vocabulary, steps);
const testData = encode(test.map((review) => review.text), vocabulary, steps);
const positives = train.filter((review) => review.label === 1).length;
console.log(`Corpus: ${train.length} training and ${test.length} held-out reviews (${((100 * positives) / train.length).toFixed(0)}% positive), ` +
  `${vocabulary.size} words, up to ${steps} words each. For example:`);
for (const review of train.slice(0, 4)) console.log(`  ${review.label ? 'positive' : 'negative'}  "${review.text}"`);

const embeddingDim = 32, hiddenSize = 64;
const recurrent = cell === 'rnn'
  ? new RNN({ inputSize: embeddingDim, hiddenSize, batchFirst: true })
  : new LSTM({ inputSize: embeddingDim, hiddenSize, batchFirst: true });
const model = new Sequential([
  new Embedding({ numEmbeddings: vocabulary.size, embeddingDim, paddingIdx: 0 }),
  recurrent,
  new LastStep(),
  new Linear({ inFeatures: hiddenSize, outFeatures: 2 }),
]);
model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 5e-3 }, clipGradNorm: 1 });
console.log(`\nModel: Embedding(${vocabulary.size}, ${embeddingDim}) → ${cell === 'rnn' ? 'SimpleRNN' : 'LSTM'}(${hiddenSize}) → LastStep → Linear(${hiddenSize}, 2)`);

const started = Date.now();
const labels = train.map((review) => review.label);
const history = model.fit(trainData.x, labels, {
  lengths: trainData.lengths, epochs: quick ? 6 : 12, batchSize: 32, validationSplit: 0.1,
  earlyStopping: { monitor: 'valLoss', patience: 3, restoreBest: true },
});
console.log(`Trained ${history.epochs} epochs in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const testLabels = test.map((review) => review.label);
const result = model.evaluate(testData.x, testLabels, { lengths: testData.lengths });
console.log(`\nHeld-out: loss ${result.loss.toFixed(4)}, accuracy ${(100 * result.accuracy!).toFixed(1)}% on ${test.length} reviews`);

// The same model with int8 weights (quantizeDynamic on its recurrent and Linear layers), for inference.
const int8 = model.quantize({ dtype: 'int8' });
int8.compile({ loss: 'crossEntropy', optimizer: { type: 'adam' } });
const int8Result = int8.evaluate(testData.x, testLabels, { lengths: testData.lengths });
console.log(`Int8 model: loss ${int8Result.loss.toFixed(4)}, accuracy ${(100 * int8Result.accuracy!).toFixed(1)}% ` +
  `(${(100 * (int8Result.accuracy! - result.accuracy!)).toFixed(1)} points from f32)`);
int8.dispose();

// The same data without word order: logistic regression on word counts.
const counts = (texts: readonly string[]) => {
  const data = new Float32Array(texts.length * vocabulary.size);
  texts.forEach((text, n) => text.split(' ').forEach((word) => { data[n * vocabulary.size + (vocabulary.get(word) ?? 1)]++; }));
  return tensor(data, [texts.length, vocabulary.size]);
};
const bagOfWords = new Sequential([new Linear({ inFeatures: vocabulary.size, outFeatures: 2 })]);
bagOfWords.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 1e-2 } });
bagOfWords.fit(counts(train.map((review) => review.text)), labels, { epochs: 20, batchSize: 32, verbose: false });
const baseline = bagOfWords.evaluate(counts(test.map((review) => review.text)), testLabels);
console.log(`Bag-of-words baseline (Linear on word counts, no order): accuracy ${(100 * baseline.accuracy!).toFixed(1)}%`);
bagOfWords.dispose();

const probe = [
  'the movie was not bad at all .',
  'the movie was bad .',
  'i did not like it .',
  'the acting was great but the plot was very boring .',
  'the plot was very boring but the acting was great .',
  'the pacing was slightly predictable . the cast was absolutely wonderful .',
  'it is hardly gripping .',
];
const probeData = encode(probe, vocabulary, steps);
const logits = model.predict(probeData.x, { lengths: probeData.lengths });
console.log('\nPredictions:');
probe.forEach((text, n) => {
  const [negative, positive] = [logits.data[2 * n], logits.data[2 * n + 1]];
  const probability = 1 / (1 + Math.exp(negative - positive));
  console.log(`  P(positive) = ${probability.toFixed(3)}  "${text}"`);
});
model.dispose();
