// Example, language model: a character LSTM trained with truncated BPTT on two chapters of Pride and Prejudice
// (examples/data/, public domain), compared with the unigram baseline, then sampled with temperature and top-k.
//
// Run: npm run example:charlm [-- --quick]. The text ships in the repository (see examples/data/README.md for
// its source): no downloads. The first 90% trains, the last 10% validates. The training text is cut into
// `streams` contiguous rows, and fit's `tbptt` option runs them in chunks of `chunk` characters, carrying the
// LSTM state from chunk to chunk (detached). Sampling is the library's generate(): the prompt fed once, then one
// character per step with the state carried, drawn with temperature and top-k.

import { readFileSync } from 'node:fs';
import { Dropout, Embedding, LSTM, Linear, Sequential, generate, init, manualSeed, tensor } from 'looptree';

const quick = process.argv.includes('--quick');


const text = readFileSync(new URL('./data/pride-and-prejudice-ch1-2.txt', import.meta.url), 'utf8').replace(/\n+/g, '\n');
const alphabet = [...new Set(text)].sort();
const idOf = new Map(alphabet.map((char, id) => [char, id]));
const ids = [...text].map((char) => idOf.get(char)!);
const split = Math.floor(ids.length * 0.9);
const trainIds = ids.slice(0, split);
const validationIds = ids.slice(split);

/** Unigram baseline: cross-entropy (nats per character) of the validation text under the training frequencies, add-one smoothed. */
function unigramLoss(): number {
  const counts = new Float64Array(alphabet.length).fill(1);
  for (const id of trainIds) counts[id]++;
  const total = counts.reduce((a, b) => a + b, 0);
  return -validationIds.reduce((sum, id) => sum + Math.log(counts[id] / total), 0) / validationIds.length;
}

/** Inputs and next-character targets as `rows` contiguous rows of equal length: x, y [rows, T]. */
function rowsOf(sequence: readonly number[], rows: number) {
  const T = Math.floor((sequence.length - 1) / rows);
  const x = new Float32Array(rows * T);
  const y = new Float32Array(rows * T);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < T; t++) {
      x[r * T + t] = sequence[r * T + t];
      y[r * T + t] = sequence[r * T + t + 1];
    }
  }
  return { x: tensor(x, [rows, T]), y: tensor(y, [rows, T]) };
}

await init();
manualSeed(3);
const streams = 16, chunk = 48, hiddenSize = 192, embeddingDim = 32;
const train = rowsOf(trainIds, streams);
const validation = rowsOf(validationIds, 1);
console.log(`Text: ${text.length} characters (${alphabet.length} distinct) of Pride and Prejudice, chapters 1–2; ` +
  `${trainIds.length} train, ${validationIds.length} validate`);

const model = new Sequential([
  new Embedding({ numEmbeddings: alphabet.length, embeddingDim }),
  new LSTM({ inputSize: embeddingDim, hiddenSize, batchFirst: true }),
  new Dropout({ p: 0.25 }),
  new Linear({ inFeatures: hiddenSize, outFeatures: alphabet.length }),
]);
model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 4e-3 }, clipGradNorm: 1 });
console.log(`Model: Embedding(${alphabet.length}, ${embeddingDim}) → LSTM(${hiddenSize}) → Dropout(0.25) → Linear(${hiddenSize}, ${alphabet.length}); ` +
  `truncated BPTT over ${streams} streams in chunks of ${chunk} characters\n`);

const started = Date.now();
const history = model.fit(train.x, train.y, {
  epochs: quick ? 3 : 60, batchSize: streams, shuffle: false, tbptt: chunk, validationData: validation,
  earlyStopping: { monitor: 'valLoss', patience: 6, restoreBest: true },
});
const seconds = (Date.now() - started) / 1000;
const best = history.bestEpoch!;
const baseline = unigramLoss();
const bits = (nats: number) => (nats / Math.LN2).toFixed(2);
console.log(`\nTrained ${history.epochs} epochs in ${seconds.toFixed(0)} s. Validation loss ${history.valLoss![best].toFixed(3)} nats/char ` +
  `(${bits(history.valLoss![best])} bits) at epoch ${best + 1}; unigram baseline ${baseline.toFixed(3)} nats/char (${bits(baseline)} bits).`);

// The same model with int8 weights (quantize(): the LSTM and Linear layers): validation loss of both in one pass.
const int8 = model.quantize({ dtype: 'int8' });
int8.compile({ loss: 'crossEntropy', optimizer: { type: 'adam' } });
const f32Loss = model.evaluate(validation.x, validation.y).loss, int8Loss = int8.evaluate(validation.x, validation.y).loss;
console.log(`Validation in one pass: f32 ${f32Loss.toFixed(4)}, int8 ${int8Loss.toFixed(4)} nats/char (${(int8Loss - f32Loss).toFixed(4)} from f32)`);
int8.dispose();

/** Feeds `prompt` once, then generates `length` characters with the library's generate() (state carried step to step). */
function complete(prompt: string, length: number, temperature: number, topK: number, seed: number): string {
  const promptIds = [...prompt].map((char) => idOf.get(char)!);
  const generated = generate(model, promptIds, { maxTokens: length, temperature, topK, seed });
  return prompt + generated.map((id) => alphabet[id]).join('');
}

for (const [temperature, topK] of [[0.5, 5], [0.8, 10], [1.0, 0]] as const) {
  console.log(`\n— temperature ${temperature}, ${topK > 0 ? `top-k ${topK}` : 'all characters'}:`);
  console.log(complete('"My dear Mr. Bennet," ', quick ? 80 : 300, temperature, topK, 7));
}
model.dispose();
