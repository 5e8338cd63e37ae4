// Example, recursive vs sequential: ListOps (Nangia & Bowman 2018). Nested lists [MAX, [MIN, [MED and [SM
// (sum mod 10) over the digits 0–9, e.g. "[MAX 2 9 [MIN 4 7 ] 0 ]" = 9. A binary Tree-LSTM on the gold trees
// against a sequence LSTM on the same tokens, both trained with the same labels; prints both test accuracies (and the
// tree model's with int8 weights, TreeClassifier.quantize).
//
// Run: npm run example:listops [-- --quick]. The data is made by this file from a fixed seed: no downloads.
// Each list has 2–5 arguments; an argument is a sub-list (with a probability that falls with depth) or a
// digit; nesting depth ≤ 6, at most 80 tokens. As in the original generator, MED is int(median) (for an even
// count, the mean of the two middle values rounded down). The gold trees are the paper's binary ones:
// a list folds its arguments from the left, (((([MAX 2) 9) [MIN 4 7 ]) 0) ]), so each step combines the
// list so far with one argument. Both models learn the value of every list: the tree model at the list's
// node (a per-node classifier, as for sentiment), the sequence model at the list's closing "]".

import {
  Adam, Embedding, LSTM, Linear, Tensor, Tree, TreeClassifier, clipGradNorm, crossEntropy, init, manualSeed, seededRandom,
  type Parameter,
} from 'looptree';

const quick = process.argv.includes('--quick');

// ---------------------------------------------------------------------------------------------
// The data

const OPERATORS = ['MAX', 'MIN', 'MED', 'SM'] as const;
type Operator = (typeof OPERATORS)[number];
type Expression = number | { operator: Operator; args: Expression[] };

const MAX_DEPTH = 6;
const MAX_TOKENS = 80;

function evaluate(expression: Expression): number {
  if (typeof expression === 'number') return expression;
  const values = expression.args.map(evaluate);
  switch (expression.operator) {
    case 'MAX': return Math.max(...values);
    case 'MIN': return Math.min(...values);
    case 'SM': return values.reduce((a, b) => a + b, 0) % 10;
    case 'MED': {
      values.sort((a, b) => a - b);
      const middle = values.length >> 1;
      return values.length % 2 === 1 ? values[middle] : Math.floor((values[middle - 1] + values[middle]) / 2);
    }
  }
}

function tokensOf(expression: Expression): string[] {
  if (typeof expression === 'number') return [String(expression)];
  return [`[${expression.operator}`, ...expression.args.flatMap(tokensOf), ']'];
}

function makeData(count: number, random: () => number): Expression[] {
  const list = (depth: number): Expression => {
    const args: Expression[] = [];
    const arity = 2 + Math.floor(random() * 4);
    for (let k = 0; k < arity; k++) {
      const nested = depth < MAX_DEPTH && random() < 0.45 - 0.05 * depth;
      args.push(nested ? list(depth + 1) : Math.floor(random() * 10));
    }
    return { operator: OPERATORS[Math.floor(random() * OPERATORS.length)], args };
  };
  const data: Expression[] = [];
  while (data.length < count) {
    const expression = list(1);
    if (tokensOf(expression).length <= MAX_TOKENS) data.push(expression);
  }
  return data;
}

// Token ids: the digits are 0–9, the operators 10–13, "]" 14, padding 15.
const operatorId = (operator: Operator): number => 10 + OPERATORS.indexOf(operator);
const CLOSE = 14;
const PAD = 15;
const VOCABULARY = 16;

/** The gold binary tree; leaves hold a token, internal nodes none (−1); each list's node is labelled with its value. */
function goldTree(expression: Expression): { tree: Tree; tokens: number[]; labels: number[] } {
  const parents: number[] = [];
  const tokens: number[] = [];
  const labels: number[] = [];
  const node = (token: number): number => {
    parents.push(-1);
    tokens.push(token);
    labels.push(-1);
    return parents.length - 1;
  };
  const join = (left: number, right: number): number => {
    const parent = node(-1);
    parents[left] = parent;
    parents[right] = parent;
    return parent;
  };
  const build = (e: Expression): number => {
    if (typeof e === 'number') return node(e);
    let partial = node(operatorId(e.operator));
    for (const arg of e.args) partial = join(partial, build(arg));
    const list = join(partial, node(CLOSE));
    labels[list] = evaluate(e);
    return list;
  };
  build(expression);
  return { tree: Tree.fromParents(parents), tokens, labels };
}

/** The token ids, and the value of each list at its closing "]" (−1 elsewhere). */
function sequenceOf(expression: Expression): { ids: number[]; labels: number[] } {
  const ids: number[] = [];
  const labels: number[] = [];
  const walk = (e: Expression): void => {
    if (typeof e === 'number') {
      ids.push(e);
      labels.push(-1);
      return;
    }
    ids.push(operatorId(e.operator));
    labels.push(-1);
    e.args.forEach(walk);
    ids.push(CLOSE);
    labels.push(evaluate(e));
  };
  walk(expression);
  return { ids, labels };
}

/** Index batches of `size`, shuffled; `byLength` groups similar lengths (then shuffles the batches). */
function batches(count: number, size: number, random: () => number, byLength?: (n: number) => number): number[][] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  if (byLength) order.sort((a, b) => byLength(a) - byLength(b));
  const result: number[][] = [];
  for (let start = 0; start < count; start += size) result.push(order.slice(start, start + size));
  if (byLength) {
    for (let i = result.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [result[i], result[j]] = [result[j], result[i]];
    }
  }
  return result;
}

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
  return best;
};

// ---------------------------------------------------------------------------------------------

await init();
manualSeed(1);
const random = seededRandom(2018);
const train = makeData(quick ? 4000 : 20000, random);
const test = makeData(2000, random);
const lengths = train.map((e) => tokensOf(e).length);
console.log(`ListOps: ${train.length} training and ${test.length} test expressions, ${Math.min(...lengths)}–${Math.max(...lengths)} tokens ` +
  `(mean ${(lengths.reduce((a, b) => a + b, 0) / lengths.length).toFixed(1)}), nesting depth ≤ ${MAX_DEPTH}. For example:`);
for (const expression of train.slice(0, 3)) console.log(`  ${tokensOf(expression).join(' ')}  = ${evaluate(expression)}`);
const answers = new Array(10).fill(0);
for (const expression of test) answers[evaluate(expression)]++;
console.log(`The most frequent answer is ${(100 * Math.max(...answers) / test.length).toFixed(1)}% of the test set.`);

const EPOCHS = quick ? 3 : 10, BATCH = 32;
/** Adam's learning rate for an epoch (1-based): 1e-2, then 3e-3 from 60% of the epochs, 1e-3 from 90%. */
const learningRate = (epoch: number): number => (epoch > 0.9 * EPOCHS ? 1e-3 : epoch > 0.6 * EPOCHS ? 3e-3 : 1e-2);

/** Adam over `parameters`, restarted whenever the epoch's learning rate changes. */
function scheduledAdam(parameters: Parameter[]) {
  let optimizer: Adam | null = null;
  let lr = 0;
  return {
    forEpoch(epoch: number): Adam {
      if (learningRate(epoch) !== lr) {
        optimizer?.dispose();
        lr = learningRate(epoch);
        optimizer = new Adam(parameters, { lr });
      }
      return optimizer!;
    },
    dispose: () => optimizer?.dispose(),
  };
}

// --- The tree model: embedding → binary Tree-LSTM → per-node Linear + log-softmax, summed NLL ----

const trainTrees = train.map(goldTree), testTrees = test.map(goldTree);
const treeModel = new TreeClassifier({ model: 'BinaryTreeLSTM', vocabSize: VOCABULARY, inputSize: 16, hiddenSize: 64, numClasses: 10 });
console.log(`\nTree model: Embedding(${VOCABULARY}, 16) → BinaryTreeLSTM(64) → Linear(64, 10) at every list node`);

function treeAccuracy(model = treeModel): number {
  let correct = 0;
  for (let start = 0; start < testTrees.length; start += 256) {
    const batch = testTrees.slice(start, start + 256);
    const { logProbs } = model.forward(batch.map((t) => t.tree), batch.map((t) => t.tokens));
    batch.forEach(({ tree }, b) => {
      if (argmax(logProbs[b].data.subarray(tree.root * 10, tree.root * 10 + 10)) === evaluate(test[start + b])) correct++;
    });
  }
  return correct / test.length;
}

let started = Date.now();
const treeParameters = treeModel.parameters();
const treeOptimizer = scheduledAdam(treeParameters);
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  const optimizer = treeOptimizer.forEpoch(epoch);
  let loss = 0, lists = 0;
  for (const batch of batches(train.length, BATCH, random)) {
    optimizer.zeroGrad();
    const result = treeModel.forward(batch.map((n) => trainTrees[n].tree), batch.map((n) => trainTrees[n].tokens),
      { labels: batch.map((n) => trainTrees[n].labels), train: true });
    treeModel.backward();
    clipGradNorm(treeParameters, 5 * batch.length);
    optimizer.step();
    loss += result.loss!;
    for (const n of batch) lists += trainTrees[n].labels.filter((label) => label >= 0).length;
  }
  console.log(`  epoch ${epoch}: loss ${(loss / lists).toFixed(4)} per list, test accuracy ${(100 * treeAccuracy()).toFixed(1)}% (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
const treeResult = treeAccuracy();
const treeSeconds = (Date.now() - started) / 1000;
// The same model with int8 weights (TreeClassifier.quantize: the Tree-LSTM and the classifier), for inference.
const int8Tree = treeModel.quantize({ dtype: 'int8' });
const int8TreeResult = treeAccuracy(int8Tree);
int8Tree.dispose();
treeOptimizer.dispose();
treeModel.dispose();

// --- The sequence model: embedding → LSTM → Linear at every step, cross-entropy at the "]"s ----

const trainSequences = train.map(sequenceOf), testSequences = test.map(sequenceOf);
const embedding = new Embedding({ numEmbeddings: VOCABULARY, embeddingDim: 16, paddingIdx: PAD });
const lstm = new LSTM({ inputSize: 16, hiddenSize: 64, batchFirst: true });
const classifier = new Linear({ inFeatures: 64, outFeatures: 10 });
const sequenceParameters = [...embedding.parameters(), ...lstm.parameters(), ...classifier.parameters()];
console.log(`\nSequence model: Embedding(${VOCABULARY}, 16) → LSTM(64) → Linear(64, 10) at every "]"`);

/** A batch right-padded to its longest sequence: ids, labels and lengths. */
function padded(sequences: Array<{ ids: number[]; labels: number[] }>) {
  const steps = Math.max(...sequences.map((s) => s.ids.length));
  const ids = new Array<number>(sequences.length * steps).fill(PAD);
  const labels = new Array<number>(sequences.length * steps).fill(-1);
  sequences.forEach((s, n) => s.ids.forEach((id, t) => {
    ids[n * steps + t] = id;
    labels[n * steps + t] = s.labels[t];
  }));
  return { ids, labels, steps, lengths: sequences.map((s) => s.ids.length) };
}

/** Logits [B·T, 10] of a padded batch. */
function sequenceLogits(batch: ReturnType<typeof padded>, train: boolean): Tensor {
  const B = batch.lengths.length;
  const x = embedding.forward(batch.ids, [B, batch.steps], { train });
  const { output } = lstm.forward(x, { lengths: batch.lengths, train });
  return classifier.forward(new Tensor(output.data, [B * batch.steps, 64]), { train });
}

function sequenceAccuracy(): number {
  let correct = 0;
  for (let start = 0; start < testSequences.length; start += 256) {
    const batch = padded(testSequences.slice(start, start + 256));
    const logits = sequenceLogits(batch, false);
    batch.lengths.forEach((length, n) => {
      const at = (n * batch.steps + length - 1) * 10;
      if (argmax(logits.data.subarray(at, at + 10)) === evaluate(test[start + n])) correct++;
    });
  }
  return correct / test.length;
}

started = Date.now();
const sequenceOptimizer = scheduledAdam(sequenceParameters);
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  const optimizer = sequenceOptimizer.forEpoch(epoch);
  let loss = 0, lists = 0;
  for (const indices of batches(train.length, BATCH, random, (n) => trainSequences[n].ids.length)) {
    const batch = padded(indices.map((n) => trainSequences[n]));
    optimizer.zeroGrad();
    const logits = sequenceLogits(batch, true);
    const { loss: batchLoss, grad } = crossEntropy(logits, batch.labels, { reduction: 'sum', ignoreIndex: -1 });
    const dOutput = classifier.backward(grad);
    const { input: dx } = lstm.backward({ output: new Tensor(dOutput.data, [batch.lengths.length, batch.steps, 64]) });
    embedding.backward(dx);
    clipGradNorm(sequenceParameters, 5 * indices.length);
    optimizer.step();
    loss += batchLoss;
    lists += batch.labels.filter((label) => label >= 0).length;
  }
  console.log(`  epoch ${epoch}: loss ${(loss / lists).toFixed(4)} per list, test accuracy ${(100 * sequenceAccuracy()).toFixed(1)}% (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
const sequenceResult = sequenceAccuracy();
const sequenceSeconds = (Date.now() - started) / 1000;
sequenceOptimizer.dispose();
embedding.dispose();
lstm.dispose();
classifier.dispose();

console.log(`\nTest accuracy on ${test.length} expressions (value of the whole expression):`);
console.log(`  Tree-LSTM on the gold trees: ${(100 * treeResult).toFixed(1)}%  (trained in ${treeSeconds.toFixed(0)} s)`);
console.log(`  the same Tree-LSTM with int8 weights: ${(100 * int8TreeResult).toFixed(1)}% (${(100 * (int8TreeResult - treeResult)).toFixed(1)} points from f32)`);
console.log(`  sequence LSTM on the tokens: ${(100 * sequenceResult).toFixed(1)}%  (trained in ${sequenceSeconds.toFixed(0)} s)`);
console.log(`  difference: ${(100 * (treeResult - sequenceResult)).toFixed(1)} points (the paper: about 99% and 71%)`);
