// Example, many-to-many: part-of-speech tagging with Embedding → bidirectional GRU → Linear on every step,
// padded batches with lengths (padded steps are left out of the loss), on sentences generated below.
//
// Run: npm run example:tagging [-- --quick]. The data is made by this file from a fixed seed: no downloads.
// A small English grammar generates sentences whose words are often ambiguous — "saw", "duck", "watch",
// "light", "can", "fish" are each a noun, a verb, an adjective or an auxiliary depending on the context on
// either side — so a tagger must read the sentence, not look words up: the most-frequent-tag baseline is
// printed next to the model's accuracy.

import { Embedding, GRU, Linear, Sequential, init, manualSeed, tensor, seededRandom } from 'looptree';

const quick = process.argv.includes('--quick');


const TAGS = ['DET', 'NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'PREP', 'AUX', 'CONJ', 'PUNCT'] as const;
type Tag = (typeof TAGS)[number];

// Words by tag; the ambiguous ones appear under several tags.
const NOUNS = ['man', 'woman', 'dog', 'child', 'boat', 'river', 'duck', 'fish', 'saw', 'watch', 'light', 'can', 'park', 'book', 'train', 'ring', 'play'];
const VERBS = ['saw', 'duck', 'fish', 'watch', 'light', 'park', 'book', 'train', 'ring', 'play', 'found', 'likes', 'sees', 'took'];
const BASE_VERBS = ['duck', 'fish', 'watch', 'light', 'park', 'book', 'train', 'ring', 'play', 'find', 'see', 'take'];
const ADJECTIVES = ['old', 'small', 'red', 'light', 'quiet', 'happy', 'dark'];
const ADVERBS = ['quickly', 'slowly', 'often', 'today'];
const SUBJECT_PRONOUNS = ['they', 'we', 'i', 'you', 'she', 'he'];
const OBJECT_PRONOUNS = ['them', 'us', 'me', 'you', 'her', 'him'];
const PREPOSITIONS = ['near', 'under', 'with', 'by'];
const DETERMINERS = ['the', 'a', 'every', 'this'];
const AUXILIARIES = ['can', 'will', 'must'];

type Tagged = Array<[word: string, tag: Tag]>;

function makeSentences(count: number, seed: number): Tagged[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const nounPhrase = (role: 'subject' | 'object'): Tagged => {
    if (random() < 0.25) return [[pick(role === 'subject' ? SUBJECT_PRONOUNS : OBJECT_PRONOUNS), 'PRON']];
    const phrase: Tagged = [[pick(DETERMINERS), 'DET']];
    if (random() < 0.4) phrase.push([pick(ADJECTIVES), 'ADJ']);
    phrase.push([pick(NOUNS), 'NOUN']);
    if (random() < 0.25) phrase.push([pick(PREPOSITIONS), 'PREP'], [pick(DETERMINERS), 'DET'], [pick(NOUNS), 'NOUN']);
    return phrase;
  };
  const verbPhrase = (): Tagged => {
    const phrase: Tagged = random() < 0.35 ? [[pick(AUXILIARIES), 'AUX'], [pick(BASE_VERBS), 'VERB']] : [[pick(VERBS), 'VERB']];
    if (random() < 0.75) phrase.push(...nounPhrase('object'));
    if (random() < 0.3) phrase.push([pick(ADVERBS), 'ADV']);
    return phrase;
  };
  const clause = (): Tagged => [...nounPhrase('subject'), ...verbPhrase()];
  return Array.from({ length: count }, () => {
    const sentence = clause();
    if (random() < 0.3) sentence.push([pick(['and', 'but']), 'CONJ'], ...clause());
    sentence.push(['.', 'PUNCT']);
    return sentence;
  });
}

await init();
manualSeed(2);
const train = makeSentences(quick ? 800 : 3000, 1);
const test = makeSentences(500, 2);

const vocabulary = new Map<string, number>([['<pad>', 0], ['<unk>', 1]]);
for (const sentence of train) for (const [word] of sentence) if (!vocabulary.has(word)) vocabulary.set(word, vocabulary.size);
const steps = Math.max(...train.map((sentence) => sentence.length), ...test.map((sentence) => sentence.length));

/** Word ids and tag ids, right-padded to `steps` (padded tags are 0: lengths keep them out of the loss). */
function encode(sentences: readonly Tagged[]) {
  const ids = new Float32Array(sentences.length * steps);
  const tags = new Float32Array(sentences.length * steps);
  sentences.forEach((sentence, n) => sentence.forEach(([word, tag], t) => {
    ids[n * steps + t] = vocabulary.get(word) ?? 1;
    tags[n * steps + t] = TAGS.indexOf(tag);
  }));
  return { x: tensor(ids, [sentences.length, steps]), y: tensor(tags, [sentences.length, steps]), lengths: sentences.map((s) => s.length) };
}

const trainData = encode(train);
const testData = encode(test);
console.log(`Corpus: ${train.length} training and ${test.length} held-out sentences, ${vocabulary.size} words, ${TAGS.length} tags, up to ${steps} words. For example:`);
for (const sentence of train.slice(0, 3)) console.log(`  ${sentence.map(([word, tag]) => `${word}/${tag}`).join(' ')}`);

const embeddingDim = 24, hiddenSize = 32;
const model = new Sequential([
  new Embedding({ numEmbeddings: vocabulary.size, embeddingDim, paddingIdx: 0 }),
  new GRU({ inputSize: embeddingDim, hiddenSize, bidirectional: true, batchFirst: true }),
  new Linear({ inFeatures: 2 * hiddenSize, outFeatures: TAGS.length }),
]);
model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 1e-2 }, clipGradNorm: 1 });
console.log(`\nModel: Embedding(${vocabulary.size}, ${embeddingDim}) → bidirectional GRU(${hiddenSize}) → Linear(${2 * hiddenSize}, ${TAGS.length}) on every step`);
const started = Date.now();
model.fit(trainData.x, trainData.y, { lengths: trainData.lengths, epochs: quick ? 2 : 6, batchSize: 32, validationSplit: 0.1 });
console.log(`Trained in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// Accuracy over all held-out words, and over the ambiguous ones, against the most-frequent-tag baseline.
const ambiguous = new Set(NOUNS.filter((word) => VERBS.includes(word) || ADJECTIVES.includes(word) || AUXILIARIES.includes(word)));
const tagCounts = new Map<string, Map<Tag, number>>();
for (const sentence of train) {
  for (const [word, tag] of sentence) {
    const counts = tagCounts.get(word) ?? new Map<Tag, number>();
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
    tagCounts.set(word, counts);
  }
}
const mostFrequentTag = (word: string): Tag => [...(tagCounts.get(word) ?? new Map([['NOUN', 1]])).entries()].sort((a, b) => b[1] - a[1])[0][0] as Tag;
const logits = model.predict(testData.x, { lengths: testData.lengths });
const tagOf = (scores: Float32Array, n: number, t: number): Tag => {
  const row = scores.subarray((n * steps + t) * TAGS.length, (n * steps + t + 1) * TAGS.length);
  return TAGS[row.indexOf(Math.max(...row))];
};
const predictedTag = (n: number, t: number): Tag => tagOf(logits.data, n, t);
const score = { all: [0, 0, 0], ambiguous: [0, 0, 0] }; // [words, model right, baseline right]
test.forEach((sentence, n) => sentence.forEach(([word, tag], t) => {
  for (const group of ambiguous.has(word) ? [score.all, score.ambiguous] : [score.all]) {
    group[0]++;
    if (predictedTag(n, t) === tag) group[1]++;
    if (mostFrequentTag(word) === tag) group[2]++;
  }
}));
const percent = (right: number, total: number) => `${((100 * right) / total).toFixed(1)}%`;
const { loss } = model.evaluate(testData.x, testData.y, { lengths: testData.lengths });
console.log(`\nHeld-out loss ${loss.toFixed(4)}`);
console.log(`  all ${score.all[0]} words:        model ${percent(score.all[1], score.all[0])}, most-frequent-tag baseline ${percent(score.all[2], score.all[0])}`);
console.log(`  ${score.ambiguous[0]} ambiguous words: model ${percent(score.ambiguous[1], score.ambiguous[0])}, most-frequent-tag baseline ${percent(score.ambiguous[2], score.ambiguous[0])}`);

// The same model with int8 weights (quantize(): the GRU and Linear layers), for inference.
const int8 = model.quantize({ dtype: 'int8' });
const int8Logits = int8.predict(testData.x, { lengths: testData.lengths }).data;
let int8Right = 0;
test.forEach((sentence, n) => sentence.forEach(([, tag], t) => { if (tagOf(int8Logits, n, t) === tag) int8Right++; }));
console.log(`  int8 model, all words: ${percent(int8Right, score.all[0])} ` +
  `(${((100 * (int8Right - score.all[1])) / score.all[0]).toFixed(2)} points from f32)`);
int8.dispose();

const probe = ['they saw the duck near the river .', 'the old saw can cut a light ring .', 'we watch every light boat and the dog can fish .'];
const probeSentences: Tagged[] = probe.map((text) => text.split(' ').map((word) => [word, 'NOUN']));
const probeData = encode(probeSentences);
const probeLogits = model.predict(probeData.x, { lengths: probeData.lengths });
console.log('\nTagged:');
probeSentences.forEach((sentence, n) => {
  const tags = sentence.map(([word], t) => {
    const row = probeLogits.data.subarray((n * steps + t) * TAGS.length, (n * steps + t + 1) * TAGS.length);
    return `${word}/${TAGS[row.indexOf(Math.max(...row))]}`;
  });
  console.log(`  ${tags.join(' ')}`);
});
model.dispose();
