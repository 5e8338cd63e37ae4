// Trains the Trees panel's sentiment model: a binary Tree-LSTM TreeClassifier (Tai et al. 2015) on generated SST-style
// trees (playground/src/sentiment-trees.mjs), a label at every node, and writes its weights with the vocabulary and
// options in the metadata to playground/data/sentiment-tree.safetensors (small: committed, the page loads it).
// Run: npm run build && node scripts/playground-train-trees.mjs (deterministic: seeded data and initialization).

import { writeFileSync } from 'node:fs';
import { Adam, TreeClassifier, buildVocab, init, manualSeed, parseTree, seededRandom, serializeSafetensors } from '../dist/index.js';
import { EXAMPLES, randomSentence } from '../playground/src/sentiment-trees.mjs';

await init();
manualSeed(1);
const random = seededRandom(2024);
const corpus = (count) => Array.from({ length: count }, () => parseTree(randomSentence(random)));
const train = corpus(3000);
const validation = corpus(500);
const vocab = buildVocab(train);
const options = { model: 'BinaryTreeLSTM', vocabSize: vocab.size, inputSize: 24, hiddenSize: 48, numClasses: 5 };
const model = new TreeClassifier(options);
const optimizer = new Adam(model.parameters(), { lr: 5e-3 });

/** Node-level and root-level accuracy of `sentences`. */
function accuracy(sentences) {
  let nodes = 0, rightNodes = 0, rightRoots = 0;
  const { logProbs } = model.forward(sentences.map((s) => s.tree), sentences.map((s) => vocab.ids(s)));
  sentences.forEach((sentence, b) => {
    const C = options.numClasses;
    for (let n = 0; n < sentence.labels.length; n++) {
      const row = logProbs[b].data.subarray(n * C, (n + 1) * C);
      const predicted = row.indexOf(Math.max(...row));
      nodes++;
      if (predicted === sentence.labels[n]) {
        rightNodes++;
        if (n === 0) rightRoots++;
      }
    }
  });
  return { nodes: rightNodes / nodes, roots: rightRoots / sentences.length };
}

const batchSize = 25;
for (let epoch = 1; epoch <= 12; epoch++) {
  let total = 0;
  for (let start = 0; start < train.length; start += batchSize) {
    const batch = train.slice(start, start + batchSize);
    optimizer.zeroGrad();
    const { loss } = model.forward(batch.map((s) => s.tree), batch.map((s) => vocab.ids(s)), { labels: batch.map((s) => s.labels), train: true });
    model.backward();
    optimizer.step();
    total += loss;
  }
  const { nodes, roots } = accuracy(validation);
  console.log(`epoch ${epoch}: train loss ${(total / train.length).toFixed(3)} per sentence; validation accuracy ${(100 * nodes).toFixed(1)}% of nodes, ${(100 * roots).toFixed(1)}% of roots`);
}
const examples = accuracy(EXAMPLES.map((text) => parseTree(text)));
console.log(`hand-picked examples: ${(100 * examples.nodes).toFixed(1)}% of nodes, ${(100 * examples.roots).toFixed(1)}% of roots`);
const bytes = serializeSafetensors(model.stateDict(), { metadata: { options: JSON.stringify(options), vocab: JSON.stringify(vocab.words) } });
writeFileSync(new URL('../playground/data/sentiment-tree.safetensors', import.meta.url), bytes);
console.log(`wrote playground/data/sentiment-tree.safetensors (${bytes.length} bytes)`);
model.dispose();
optimizer.dispose?.();
